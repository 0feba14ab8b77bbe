# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning for the settings amazon.aws / community.aws cannot manage on ECS hosts. No boto3, no I/O.

- Instance types (module ``ec2_instance_type_info``): :func:`instance_type_errors` checks the requested names,
  :func:`instance_type_record` turns one ``DescribeInstanceTypes`` item into the snake_case record the module returns,
  :func:`match_instance_types` orders the records as requested and names the ones the region does not offer.
- Auto Scaling group settings (module ``autoscaling_group_settings``): :func:`group_settings_view` is the compact
  picture of a group's settings (``DescribeAutoScalingGroups`` item), :func:`plan_group_settings` what must change
  (the ``UpdateAutoScalingGroup`` parameters and the instances whose scale-in protection must be set),
  :func:`predict_group_settings` the picture after a plan (check mode) and :func:`settings_not_applied` what an
  endpoint accepted but did not apply.
- ECS cluster settings (module ``ecs_cluster_settings``): :func:`cluster_view`, :func:`plan_cluster_settings`,
  :func:`predict_cluster`.
- The role's Auto Scaling group (filter ``megapool.aws.asg_differences``): :func:`asg_differences` compares what
  ``amazon.aws.autoscaling_group_info`` returned with the options the role would give
  ``amazon.aws.autoscaling_group``, so that the role calls that module (which always updates an existing group)
  only when something differs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Iterable
from typing import Mapping
from typing import Sequence

from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags


class SettingsError(Exception):
    """Invalid options; the message names the option and the fix."""


# --------------------------------------------------------------------------------------------------
# instance types

# family.size, e.g. t3.small, m7g.xlarge, u-6tb1.metal, mac2-m2pro.metal; no wildcards.
_INSTANCE_TYPE_RE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9-]+$")
# DescribeInstanceTypes takes up to 100 names per call.
INSTANCE_TYPE_BATCH = 100


def instance_type_errors(names: Sequence[Any]) -> list[str]:
    """One message per malformed name in ``instance_types`` (a name the region does not offer is not an error)."""
    errors = []
    if not names:
        errors.append("instance_types is empty: give one or more instance type names, e.g. [t3.small, t3a.small].")
    for index, name in enumerate(names or ()):
        if not _INSTANCE_TYPE_RE.match(str(name)):
            errors.append(
                "instance_types[%d]=%r is not an instance type name (family.size, e.g. t3.small; no wildcards)."
                % (index, name)
            )
    return errors


def instance_type_record(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The snake_case record of one ``DescribeInstanceTypes`` item."""
    processor = raw.get("ProcessorInfo") or {}
    vcpu = raw.get("VCpuInfo") or {}
    return {
        "instance_type": raw.get("InstanceType"),
        "architectures": sorted(processor.get("SupportedArchitectures") or []),
        "memory_mib": int((raw.get("MemoryInfo") or {}).get("SizeInMiB") or 0),
        "vcpus": int(vcpu.get("DefaultVCpus") or 0),
        "default_cores": vcpu.get("DefaultCores"),
        "current_generation": bool(raw.get("CurrentGeneration")),
        "burstable_performance_supported": bool(raw.get("BurstablePerformanceSupported")),
        "supported_usage_classes": sorted(raw.get("SupportedUsageClasses") or []),
        "hypervisor": raw.get("Hypervisor"),
    }


def match_instance_types(
    requested: Sequence[str], described: Iterable[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """(records in request order, each name once; the requested names the region does not offer)."""
    by_name = {}
    for raw in described:
        record = instance_type_record(raw)
        by_name[record["instance_type"]] = record
    names = list(dict.fromkeys(str(name) for name in requested))
    return [by_name[name] for name in names if name in by_name], [name for name in names if name not in by_name]


# --------------------------------------------------------------------------------------------------
# Auto Scaling group settings

# SetInstanceProtection takes up to 50 instances per call.
PROTECTION_BATCH = 50
# Instances whose protection no longer matters (leaving the group).
_LEAVING_STATES = frozenset(
    {
        "Terminating",
        "Terminating:Wait",
        "Terminating:Proceed",
        "Terminated",
        "Detaching",
        "Detached",
        "Warmed:Terminating",
        "Warmed:Terminating:Wait",
        "Warmed:Terminating:Proceed",
        "Warmed:Terminated",
    }
)
# UpdateAutoScalingGroup parameter of each setting.
GROUP_SETTINGS = {
    "capacity_rebalance": "CapacityRebalance",
    "new_instances_protected_from_scale_in": "NewInstancesProtectedFromScaleIn",
}


@dataclass(frozen=True)
class GroupSettingsPlan:
    """What must change on an Auto Scaling group."""

    update: dict[str, bool] = field(default_factory=dict)  # UpdateAutoScalingGroup parameters (only what differs)
    instances: tuple[str, ...] = ()  # instances whose scale-in protection must become ``protect``
    protect: bool | None = None

    @property
    def changed(self) -> bool:
        return bool(self.update or self.instances)


def group_settings_view(group: Mapping[str, Any] | None) -> dict[str, Any]:
    """The settings of a ``DescribeAutoScalingGroups`` item, for the result and the diff ({} without a group)."""
    if not group:
        return {}
    return {
        "auto_scaling_group_name": group.get("AutoScalingGroupName"),
        "capacity_rebalance": bool(group.get("CapacityRebalance")),
        "new_instances_protected_from_scale_in": bool(group.get("NewInstancesProtectedFromScaleIn")),
        "instances_protected_from_scale_in": {
            instance["InstanceId"]: bool(instance.get("ProtectedFromScaleIn"))
            for instance in sorted(group.get("Instances") or [], key=lambda item: item["InstanceId"])
            if instance.get("LifecycleState") not in _LEAVING_STATES
        },
    }


def plan_group_settings(
    group: Mapping[str, Any],
    capacity_rebalance: bool | None = None,
    new_instances_protected_from_scale_in: bool | None = None,
    instances_protected_from_scale_in: bool | None = None,
) -> GroupSettingsPlan:
    """Compare a group (``DescribeAutoScalingGroups`` item) with the wanted settings; ``None`` leaves a setting alone."""
    view = group_settings_view(group)
    wanted = {
        "capacity_rebalance": capacity_rebalance,
        "new_instances_protected_from_scale_in": new_instances_protected_from_scale_in,
    }
    update = {
        GROUP_SETTINGS[key]: bool(value)
        for key, value in wanted.items()
        if value is not None and view[key] != bool(value)
    }
    instances: tuple[str, ...] = ()
    if instances_protected_from_scale_in is not None:
        protect = bool(instances_protected_from_scale_in)
        instances = tuple(key for key, value in view["instances_protected_from_scale_in"].items() if value != protect)
    return GroupSettingsPlan(update=update, instances=instances, protect=instances_protected_from_scale_in)


def predict_group_settings(view: Mapping[str, Any], plan: GroupSettingsPlan) -> dict[str, Any]:
    """The settings view after ``plan`` (check mode, and the diff's ``after``)."""
    after = dict(view)
    for key, parameter in GROUP_SETTINGS.items():
        if parameter in plan.update:
            after[key] = plan.update[parameter]
    after["instances_protected_from_scale_in"] = dict(view.get("instances_protected_from_scale_in") or {})
    for instance_id in plan.instances:
        after["instances_protected_from_scale_in"][instance_id] = bool(plan.protect)
    return after


def settings_not_applied(view: Mapping[str, Any], plan: GroupSettingsPlan) -> list[str]:
    """Settings a read-back still shows differently from what was sent (an endpoint that ignored them)."""
    missed = [
        "%s=%s" % (parameter, value)
        for key, parameter in GROUP_SETTINGS.items()
        for value in [plan.update.get(parameter)]
        if value is not None and view.get(key) != value
    ]
    protection = view.get("instances_protected_from_scale_in") or {}
    missed += [
        "ProtectedFromScaleIn=%s on %s" % (plan.protect, instance_id)
        for instance_id in plan.instances
        if instance_id in protection and protection[instance_id] != plan.protect
    ]
    return missed


# --------------------------------------------------------------------------------------------------
# ECS cluster settings

CONTAINER_INSIGHTS = ("disabled", "enabled", "enhanced")


@dataclass(frozen=True)
class ClusterSettingsPlan:
    """What must change on an ECS cluster."""

    settings: tuple[tuple[str, str], ...] = ()  # (name, value) for UpdateCluster
    tags_to_set: dict[str, str] = field(default_factory=dict)
    tags_to_unset: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.settings or self.tags_to_set or self.tags_to_unset)


def cluster_view(cluster: Mapping[str, Any] | None) -> dict[str, Any]:
    """A ``DescribeClusters`` item (with SETTINGS and TAGS) as the module returns it ({} without a cluster).

    A cluster that never had containerInsights set reports no setting: that is V(disabled).
    """
    if not cluster:
        return {}
    settings = {item.get("name"): item.get("value") for item in cluster.get("settings") or []}
    return {
        "cluster_name": cluster.get("clusterName"),
        "cluster_arn": cluster.get("clusterArn"),
        "status": cluster.get("status"),
        "container_insights": settings.get("containerInsights") or "disabled",
        "tags": {item["key"]: item["value"] for item in cluster.get("tags") or []},
    }


def plan_cluster_settings(
    view: Mapping[str, Any],
    container_insights: str | None = None,
    tags: Mapping[str, Any] | None = None,
    purge_tags: bool = True,
) -> ClusterSettingsPlan:
    """Compare a cluster view with the wanted settings; ``None`` leaves a setting (or the tags) alone."""
    settings: tuple[tuple[str, str], ...] = ()
    if container_insights is not None and view.get("container_insights") != container_insights:
        settings = (("containerInsights", container_insights),)
    to_set: dict[str, str] = {}
    to_unset: list[str] = []
    if tags is not None:
        to_set, to_unset = compare_aws_tags(
            dict(view.get("tags") or {}), {str(k): str(v) for k, v in tags.items()}, purge_tags=purge_tags
        )
    return ClusterSettingsPlan(
        settings=settings, tags_to_set=dict(sorted(to_set.items())), tags_to_unset=tuple(sorted(to_unset))
    )


def predict_cluster(view: Mapping[str, Any], plan: ClusterSettingsPlan) -> dict[str, Any]:
    """The cluster view after ``plan``."""
    after = dict(view)
    for name, value in plan.settings:
        if name == "containerInsights":
            after["container_insights"] = value
    tags = {key: value for key, value in (view.get("tags") or {}).items() if key not in plan.tags_to_unset}
    tags.update(plan.tags_to_set)
    after["tags"] = dict(sorted(tags.items()))
    return after


# --------------------------------------------------------------------------------------------------
# the role's Auto Scaling group: does amazon.aws.autoscaling_group need to run?

# Wanted keys compared as plain values with the snake_case group of amazon.aws.autoscaling_group_info.
_SCALAR_KEYS = (
    "min_size",
    "max_size",
    "desired_capacity",
    "health_check_type",
    "health_check_period",
    "default_cooldown",
)
# autoscaling_group_info key of each wanted key, where they differ.
_INFO_KEYS = {"health_check_period": "health_check_grace_period"}
_WANTED_KEYS = frozenset(
    _SCALAR_KEYS
    + (
        "vpc_zone_identifier",
        "launch_template_name",
        "launch_template_version",
        "instance_types",
        "instances_distribution",
        "termination_policies",
        "metrics_collection",
        "tags",
        "propagate_at_launch",
        "in_service",
    )
)


def _norm(value: Any) -> str:
    """Compare 1 with "1" and True with "true": role values may come templated as strings."""
    return str(value).lower()


def _launch_template(group: Mapping[str, Any]) -> dict[str, Any]:
    policy = group.get("mixed_instances_policy") or {}
    spec = (policy.get("launch_template") or {}).get("launch_template_specification")
    return dict(spec or group.get("launch_template") or {})


def asg_differences(group: Mapping[str, Any] | None, wanted: Mapping[str, Any]) -> list[str]:
    """What differs between ``group`` (an item of amazon.aws.autoscaling_group_info's ``results``, or None) and
    ``wanted``; empty when amazon.aws.autoscaling_group would find nothing to change.

    ``wanted`` holds any of: ``min_size``, ``max_size``, ``desired_capacity``, ``health_check_type``,
    ``health_check_period``, ``default_cooldown``, ``termination_policies`` (list), ``vpc_zone_identifier`` (subnet
    ids, any order), ``launch_template_name``, ``launch_template_version`` (None: any), ``instance_types`` (the mixed
    instances policy's overrides, in order), ``instances_distribution`` (snake_case, only the keys given are compared),
    ``metrics_collection`` (bool), ``tags`` (dict, compared whole) with ``propagate_at_launch`` (bool), and
    ``in_service`` (bool: the group must have ``desired_capacity`` instances InService, as the module's
    ``wait_for_instances`` waits for). A key that is absent or None is not compared.
    """
    unknown = sorted(set(wanted) - _WANTED_KEYS)
    if unknown:
        raise SettingsError(
            "asg_differences: unknown keys %s (known: %s)" % (", ".join(unknown), ", ".join(sorted(_WANTED_KEYS)))
        )
    if not group:
        return ["group - missing"]
    want = {key: value for key, value in wanted.items() if value is not None}
    differences = []
    for key in _SCALAR_KEYS:
        if key in want and _norm(group.get(_INFO_KEYS.get(key, key))) != _norm(want[key]):
            differences.append("%s: %s -> %s" % (key, group.get(_INFO_KEYS.get(key, key)), want[key]))
    if "termination_policies" in want and list(group.get("termination_policies") or []) != list(
        want["termination_policies"]
    ):
        differences.append(
            "termination_policies: %s -> %s" % (group.get("termination_policies"), list(want["termination_policies"]))
        )
    if "vpc_zone_identifier" in want:
        have = sorted(item for item in str(group.get("vpc_zone_identifier") or "").split(",") if item)
        if have != sorted(want["vpc_zone_identifier"]):
            differences.append(
                "vpc_zone_identifier: %s -> %s" % (",".join(have), ",".join(sorted(want["vpc_zone_identifier"])))
            )
    template = _launch_template(group)
    if "launch_template_name" in want and template.get("launch_template_name") != want["launch_template_name"]:
        differences.append(
            "launch_template_name: %s -> %s" % (template.get("launch_template_name"), want["launch_template_name"])
        )
    if "launch_template_version" in want and _norm(template.get("version")) != _norm(want["launch_template_version"]):
        differences.append(
            "launch_template_version: %s -> %s" % (template.get("version"), want["launch_template_version"])
        )
    policy = group.get("mixed_instances_policy") or {}
    if "instance_types" in want:
        have_types = [
            item.get("instance_type") for item in (policy.get("launch_template") or {}).get("overrides") or []
        ]
        if have_types != list(want["instance_types"]):
            differences.append("instance_types: %s -> %s" % (have_types, list(want["instance_types"])))
    if "instances_distribution" in want:
        distribution = policy.get("instances_distribution") or {}
        for key, value in sorted(want["instances_distribution"].items()):
            if value is not None and _norm(distribution.get(key)) != _norm(value):
                differences.append("instances_distribution.%s: %s -> %s" % (key, distribution.get(key), value))
    if "metrics_collection" in want and bool(group.get("enabled_metrics")) != bool(want["metrics_collection"]):
        differences.append(
            "metrics_collection: %s -> %s" % (bool(group.get("enabled_metrics")), bool(want["metrics_collection"]))
        )
    if "tags" in want:
        have_tags = {tag.get("key"): tag.get("value") for tag in group.get("tags") or []}
        wanted_tags = {str(key): str(value) for key, value in want["tags"].items()}
        if have_tags != wanted_tags:
            differences.append("tags: %s -> %s" % (have_tags, wanted_tags))
        if "propagate_at_launch" in want:
            flags = sorted(
                tag.get("key")
                for tag in group.get("tags") or []
                if bool(tag.get("propagate_at_launch")) != bool(want["propagate_at_launch"])
            )
            if flags:
                wanted_flag = bool(want["propagate_at_launch"])
                differences.append(
                    "propagate_at_launch: %s -> %s on %s" % (not wanted_flag, wanted_flag, ", ".join(flags))
                )
    if want.get("in_service"):
        in_service = [item for item in group.get("instances") or [] if item.get("lifecycle_state") == "InService"]
        desired = int(want.get("desired_capacity", group.get("desired_capacity") or 0))
        if len(in_service) < desired:
            differences.append("instances in service: %d of %d" % (len(in_service), desired))
    return differences
