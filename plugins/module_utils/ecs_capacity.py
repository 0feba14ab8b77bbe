# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning for ECS on EC2 capacity: capacity providers and container-instance draining. No boto3, no I/O.

Capacity providers (module ``ecs_capacity_provider``):

- :func:`validate_provider` turns the module options into a :class:`DesiredProvider`, or raises
  :class:`CapacityError` naming the option and the fix;
- :func:`live_provider` picks, among what ``DescribeCapacityProviders`` returned, the provider that counts:
  ``INACTIVE`` (deleted, AWS keeps listing it for a while) and ``DELETE_COMPLETE`` providers count as absent;
- :func:`plan_provider` compares the current provider (as AWS returns it) with the desired one and returns a
  :class:`ProviderPlan` (create, update, delete, tags); :func:`predict_provider` applies a plan on paper
  (check mode); :func:`provider_result` and :func:`provider_view` give the snake_case result and the diff view.

Container-instance draining (module ``ecs_container_instance_drain``) works on plain instance records, the
snake_case dicts the module returns (:func:`instance_record`), so that anything holding two module results (a
later action plugin that shows progress while it polls) can use the same functions:

- :func:`resolve_instances` matches the requested EC2 instance ids and container-instance ARNs to the cluster's
  container instances and reports the ones that are not registered;
- :func:`plan_states` lists the instances whose status must change;
- :func:`tasks_left`, :func:`drain_progress` and :func:`still_busy` follow a drain poll by poll;
  :func:`timeout_message` explains a drain that ran out of time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Iterable
from typing import Mapping
from typing import Sequence

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.megapool.aws.plugins.module_utils.text import seconds

# --------------------------------------------------------------------------------------------------
# capacity providers

# AWS limits of AutoScalingGroupProvider.managedScaling (ECS API reference, ManagedScaling).
TARGET_CAPACITY_RANGE = (1, 100)
STEP_SIZE_RANGE = (1, 10000)
WARMUP_RANGE = (0, 10000)
# CreateCapacityProvider: up to 255 letters, digits, underscores and hyphens, not prefixed with these.
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_RESERVED_NAME_PREFIXES = ("aws", "ecs", "fargate")
ASG_ARN_RE = re.compile(r"^arn:aws[a-z-]*:autoscaling:[a-z0-9-]+:\d{12}:autoScalingGroup:[^:]+:autoScalingGroupName/(?P<name>.+)$")
ASG_ARN_EXAMPLE = "arn:aws:autoscaling:<region>:<account>:autoScalingGroup:<uuid>:autoScalingGroupName/<name>"
# updateStatus values of a provider that is going or gone.
DELETING_UPDATE_STATUSES = frozenset({"DELETE_IN_PROGRESS", "DELETE_COMPLETE"})
# The fields of AutoScalingGroupProvider that UpdateCapacityProvider can change, in the order reported.
_SCALING_FIELDS = ("status", "targetCapacity", "minimumScalingStepSize", "maximumScalingStepSize", "instanceWarmupPeriod")
# Module option (snake_case) of each managedScaling field.
_SCALING_OPTIONS = {
    "status": "status",
    "targetCapacity": "target_capacity",
    "minimumScalingStepSize": "minimum_scaling_step_size",
    "maximumScalingStepSize": "maximum_scaling_step_size",
    "instanceWarmupPeriod": "instance_warmup_period",
}


# An account that never used ECS has no ECS service-linked role (AWSServiceRoleForECS), and CreateCapacityProvider
# refuses with "ClientException: ECS Service Linked Role does not exist. Please create a Service linked role for ECS and
# try again." (terraform-aws-modules/terraform-aws-ecs#26). CreateCluster creates the role implicitly
# (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html), but a new IAM role
# takes a while to be usable everywhere (eventual consistency,
# https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency),
# so the module creates the role itself when ECS says it is missing and tries again for a while.
ECS_SERVICE_LINKED_ROLE_SERVICE = "ecs.amazonaws.com"
SERVICE_LINKED_ROLE_RETRY_DELAYS = (2, 4, 8, 15, 15, 15, 15)


def missing_service_linked_role(code: str | None, message: str | None) -> bool:
    """Whether an ECS error says that the account has no ECS service-linked role yet."""
    return code == "ClientException" and "service linked role" in (message or "").lower()


def service_linked_role_taken(code: str | None, message: str | None) -> bool:
    """Whether IAM CreateServiceLinkedRole failed only because the role exists already (that is success)."""
    return code == "InvalidInput" and "has been taken" in (message or "")


class CapacityError(ValueError):
    """Input or state the modules refuse; the message names the option (or resource) and the fix."""


@dataclass(frozen=True)
class DesiredProvider:
    """A capacity provider as the options describe it (AWS spelling: ENABLED/DISABLED).

    ``auto_scaling_group_arn`` is None in check mode for an Auto Scaling group that does not exist yet.
    """

    name: str
    auto_scaling_group_arn: str | None
    managed_scaling: Mapping[str, Any]
    managed_termination_protection: str
    managed_draining: str

    @property
    def auto_scaling_group_name(self) -> str | None:
        return asg_name_from_arn(self.auto_scaling_group_arn) if self.auto_scaling_group_arn else None

    def asg_provider_update(self) -> dict[str, Any]:
        """``autoScalingGroupProvider`` of UpdateCapacityProvider (everything but the ASG, which AWS cannot change)."""
        return {
            "managedScaling": dict(self.managed_scaling),
            "managedTerminationProtection": self.managed_termination_protection,
            "managedDraining": self.managed_draining,
        }

    def asg_provider(self) -> dict[str, Any]:
        """``autoScalingGroupProvider`` of CreateCapacityProvider."""
        return dict(autoScalingGroupArn=self.auto_scaling_group_arn, **self.asg_provider_update())


@dataclass(frozen=True)
class ProviderPlan:
    """What to do to a capacity provider.

    ``action`` is one of ``create``, ``update`` (UpdateCapacityProvider), ``delete`` or ``none``; tags are set and
    unset separately (TagResource / UntagResource) and only on an existing provider (a new one is created with them).
    ``changes`` names what differs, e.g. ``managedScaling.targetCapacity`` or ``tags``.
    """

    action: str = "none"
    changes: tuple[str, ...] = ()
    tags_to_set: Mapping[str, str] = field(default_factory=dict)
    tags_to_unset: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.action != "none" or bool(self.tags_to_set or self.tags_to_unset)


def asg_name_from_arn(arn: str) -> str | None:
    """The Auto Scaling group name in an ASG ARN, None if ``arn`` is not one."""
    match = ASG_ARN_RE.match(arn or "")
    return match.group("name") if match else None


def _enabled(value: Any) -> str:
    return "ENABLED" if str(value).lower() in ("enabled", "true") else "DISABLED"


def _in_range(errors: list[str], option: str, value: Any, limits: tuple[int, int]) -> None:
    low, high = limits
    if value is None or not low <= value <= high:
        errors.append("%s must be between %d and %d, got %s." % (option, low, high, value))


def validate_provider(params: Mapping[str, Any], check_mode: bool = False) -> DesiredProvider | None:
    """The desired provider from the module options, None for ``state=absent``; raises :class:`CapacityError`.

    All problems are reported at once. With ``check_mode``, an empty ``auto_scaling_group_arn`` stands for an Auto
    Scaling group that does not exist yet.
    """
    name = str(params.get("name") or "")
    if not _NAME_RE.match(name):
        raise CapacityError(
            "name=%r is not a valid capacity provider name: use 1 to 255 letters, digits, underscores and hyphens." % name
        )
    if name.lower().startswith(_RESERVED_NAME_PREFIXES):
        raise CapacityError(
            "name=%r: capacity provider names cannot start with 'aws', 'ecs' or 'fargate' (AWS reserves them). "
            "Choose another name, e.g. '<cluster>-capacity'." % name
        )
    if params.get("state", "present") == "absent":
        return None
    errors: list[str] = []
    arn = str(params.get("auto_scaling_group_arn") or "").strip()
    if not arn:
        if not check_mode:
            errors.append(
                "auto_scaling_group_arn is required with state=present: give the ARN of the Auto Scaling group "
                "(e.g. auto_scaling_group_arn of amazon.aws.autoscaling_group)."
            )
    elif not ASG_ARN_RE.match(arn):
        errors.append("auto_scaling_group_arn=%r is not an Auto Scaling group ARN (%s)." % (arn, ASG_ARN_EXAMPLE))
    scaling = dict(params.get("managed_scaling") or {})
    prefix = "managed_scaling."
    _in_range(errors, prefix + "target_capacity", scaling.get("target_capacity", 100), TARGET_CAPACITY_RANGE)
    low = scaling.get("minimum_scaling_step_size", 1)
    high = scaling.get("maximum_scaling_step_size", 10000)
    _in_range(errors, prefix + "minimum_scaling_step_size", low, STEP_SIZE_RANGE)
    _in_range(errors, prefix + "maximum_scaling_step_size", high, STEP_SIZE_RANGE)
    if low is not None and high is not None and low > high:
        errors.append(
            "managed_scaling.minimum_scaling_step_size (%s) must not be greater than managed_scaling.maximum_scaling_step_size (%s)."
            % (low, high)
        )
    _in_range(errors, prefix + "instance_warmup_period", scaling.get("instance_warmup_period", 300), WARMUP_RANGE)
    scaling_status = _enabled(scaling.get("status", "enabled"))
    protection = _enabled(params.get("managed_termination_protection", "enabled"))
    if protection == "ENABLED" and scaling_status != "ENABLED":
        errors.append(
            "managed_termination_protection=enabled needs managed_scaling.status=enabled (ECS only protects instances "
            "it scales itself). Enable managed scaling or set managed_termination_protection=disabled."
        )
    if errors:
        raise CapacityError(" ".join(errors))
    return DesiredProvider(
        name=name,
        auto_scaling_group_arn=arn or None,
        managed_scaling={
            "status": scaling_status,
            "targetCapacity": scaling.get("target_capacity", 100),
            "minimumScalingStepSize": low,
            "maximumScalingStepSize": high,
            "instanceWarmupPeriod": scaling.get("instance_warmup_period", 300),
        },
        managed_termination_protection=protection,
        managed_draining=_enabled(params.get("managed_draining", "enabled")),
    )


def is_live(provider: Mapping[str, Any]) -> bool:
    """False for a provider that is deleted (INACTIVE) or being deleted."""
    return provider.get("status") != "INACTIVE" and provider.get("updateStatus") not in DELETING_UPDATE_STATUSES


def live_provider(providers: Iterable[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    """The provider named ``name`` that counts as existing, from a DescribeCapacityProviders answer.

    A provider whose deletion failed (``DELETE_FAILED``, e.g. still attached to a cluster) still exists.
    """
    for provider in providers:
        if provider.get("name") == name and is_live(provider):
            return provider
    return None


def deleting_provider(providers: Iterable[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    """The provider named ``name`` whose deletion is still under way (it blocks creating one of that name)."""
    for provider in providers:
        if provider.get("name") == name and provider.get("status") != "INACTIVE" and provider.get("updateStatus") == "DELETE_IN_PROGRESS":
            return provider
    return None


def provider_tags(provider: Mapping[str, Any] | None) -> dict[str, str]:
    """The tags of a provider as a dict (ECS spells the keys ``key``/``value``)."""
    if not provider:
        return {}
    return {tag["key"]: tag.get("value", "") for tag in provider.get("tags") or []}


def _scaling_differences(current: Mapping[str, Any], desired: DesiredProvider) -> list[str]:
    group = current.get("autoScalingGroupProvider") or {}
    scaling = group.get("managedScaling") or {}
    changes = ["managedScaling.%s" % key for key in _SCALING_FIELDS if scaling.get(key) != desired.managed_scaling[key]]
    for key, wanted in (
        ("managedTerminationProtection", desired.managed_termination_protection),
        ("managedDraining", desired.managed_draining),
    ):
        if group.get(key) != wanted:
            changes.append(key)
    return changes


def plan_provider(
    current: Mapping[str, Any] | None,
    desired: DesiredProvider | None,
    tags: Mapping[str, Any] | None = None,
    purge_tags: bool = True,
) -> ProviderPlan:
    """What turns ``current`` (a live provider as AWS describes it, or None) into ``desired`` (None: absent).

    Raises :class:`CapacityError` when the provider uses another Auto Scaling group (AWS cannot change that).
    ``tags=None`` leaves the tags of an existing provider alone.
    """
    if desired is None:
        return ProviderPlan(action="delete", changes=("state",)) if current else ProviderPlan()
    wanted_tags = {str(key): str(value) for key, value in (tags or {}).items()}
    if current is None:
        return ProviderPlan(action="create", changes=("state",))
    current_arn = (current.get("autoScalingGroupProvider") or {}).get("autoScalingGroupArn")
    if desired.auto_scaling_group_arn and current_arn != desired.auto_scaling_group_arn:
        raise CapacityError(
            "Capacity provider %s uses the Auto Scaling group %s, not %s, and AWS cannot change the group of a capacity "
            "provider. Delete it and create it again (state=absent first, after removing it from its cluster), or give "
            "the new group a capacity provider with a new name." % (desired.name, current_arn, desired.auto_scaling_group_arn)
        )
    changes = _scaling_differences(current, desired)
    to_set: dict[str, str] = {}
    to_unset: list[str] = []
    if tags is not None:
        to_set, to_unset = compare_aws_tags(provider_tags(current), wanted_tags, purge_tags=purge_tags)
        if to_set or to_unset:
            changes.append("tags")
    return ProviderPlan(
        action="update" if any(change != "tags" for change in changes) else "none",
        changes=tuple(changes),
        tags_to_set=dict(sorted(to_set.items())),
        tags_to_unset=tuple(sorted(to_unset)),
    )


def predict_provider(
    current: Mapping[str, Any] | None,
    desired: DesiredProvider | None,
    plan: ProviderPlan,
    tags: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The provider after ``plan`` (as AWS would describe it), for check mode. A new provider has no ARN yet."""
    if desired is None:
        return None
    if current is None:
        return {
            "capacityProviderArn": None,
            "name": desired.name,
            "status": "ACTIVE",
            "autoScalingGroupProvider": desired.asg_provider(),
            "tags": [{"key": str(key), "value": str(value)} for key, value in sorted((tags or {}).items())],
        }
    after = dict(current)
    if plan.action == "update":
        group = dict(current.get("autoScalingGroupProvider") or {})
        group.update(desired.asg_provider_update())
        after["autoScalingGroupProvider"] = group
    if plan.tags_to_set or plan.tags_to_unset:
        merged = provider_tags(current)
        for key in plan.tags_to_unset:
            merged.pop(key, None)
        merged.update(plan.tags_to_set)
        after["tags"] = [{"key": key, "value": str(value)} for key, value in sorted(merged.items())]
    return after


def provider_result(provider: Mapping[str, Any] | None) -> dict[str, Any]:
    """The snake_case ``capacity_provider`` result ({} when there is none), tags as a dict."""
    if not provider:
        return {}
    body = {key: value for key, value in provider.items() if key not in ("tags", "ResponseMetadata")}
    result = camel_dict_to_snake_dict(body)
    result["tags"] = provider_tags(provider)
    return result


def provider_view(provider: Mapping[str, Any] | None) -> dict[str, Any]:
    """The compact before/after picture of a provider for ``diff`` ({} when there is none)."""
    if not provider:
        return {}
    group = provider.get("autoScalingGroupProvider") or {}
    scaling = group.get("managedScaling") or {}
    return {
        "name": provider.get("name"),
        "auto_scaling_group_arn": group.get("autoScalingGroupArn"),
        "managed_scaling": {_SCALING_OPTIONS[key]: scaling.get(key) for key in _SCALING_FIELDS},
        "managed_termination_protection": group.get("managedTerminationProtection"),
        "managed_draining": group.get("managedDraining"),
        "tags": provider_tags(provider),
    }


def not_applied(provider: Mapping[str, Any] | None, desired: DesiredProvider) -> list[str]:
    """Fields an updated provider still reports differently from what was asked (an endpoint that ignored them)."""
    if not provider:
        return []
    return _scaling_differences(provider, desired)


# --------------------------------------------------------------------------------------------------
# container-instance draining

INSTANCE_STATES = {"draining": "DRAINING", "active": "ACTIVE"}
# The termination lifecycle hook ECS adds to the group of a capacity provider with managed draining
# (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-instance-draining.html).
ECS_MANAGED_DRAINING_HOOK = "ecs-managed-draining-termination-hook"
# Auto Scaling lifecycle states of an instance waiting for a termination lifecycle action to complete.
TERMINATING_WAIT_STATES = frozenset({"Terminating:Wait", "Warmed:Terminating:Wait"})
# The most container instances one DescribeContainerInstances / UpdateContainerInstancesState call takes.
DESCRIBE_BATCH = 100
UPDATE_BATCH = 10
_EC2_ID_RE = re.compile(r"^(i|mi)-[0-9a-zA-Z]+$")


@dataclass(frozen=True)
class DrainRequest:
    """The validated options of a drain: what to act on and how."""

    cluster: str
    instance_ids: tuple[str, ...]
    container_instance_arns: tuple[str, ...]
    status: str
    wait: bool = True
    wait_timeout: int = 600
    poll_interval: float = 5.0
    lifecycle_hook_name: str | None = None
    auto_scaling_group_name: str | None = None
    lifecycle_action_result: str = "CONTINUE"

    @property
    def completes_lifecycle(self) -> bool:
        return self.status == "DRAINING" and bool(self.lifecycle_hook_name)


def _unique(values: Iterable[Any]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(value).strip() for value in values or ()))


def validate_drain(params: Mapping[str, Any]) -> DrainRequest:
    """The drain options as a :class:`DrainRequest`, or :class:`CapacityError` naming the option and the fix."""
    errors = []
    cluster = str(params.get("cluster") or "").strip()
    if not cluster:
        errors.append("cluster is empty: give the name or ARN of the ECS cluster.")
    instance_ids = _unique(params.get("instance_ids") or ())
    arns = _unique(params.get("container_instance_arns") or ())
    if not instance_ids and not arns:
        errors.append("Give the instances to act on in instance_ids (EC2 instance ids) and/or container_instance_arns; both are empty.")
    for index, value in enumerate(instance_ids):
        if value.startswith("arn:"):
            errors.append("instance_ids[%d]=%r is an ARN: put container-instance ARNs in container_instance_arns." % (index, value))
        elif not _EC2_ID_RE.match(value):
            errors.append("instance_ids[%d]=%r is not an EC2 instance id (i-0123456789abcdef0)." % (index, value))
    for index, value in enumerate(arns):
        if not value:
            errors.append("container_instance_arns[%d] is empty." % index)
    if params.get("wait_timeout", 600) < 0:
        errors.append("wait_timeout must be 0 or more seconds, got %s." % params.get("wait_timeout"))
    if not params.get("poll_interval", 5) > 0:
        errors.append("poll_interval must be more than 0 seconds, got %s." % params.get("poll_interval"))
    hook, group = params.get("lifecycle_hook_name"), params.get("auto_scaling_group_name")
    if bool(hook) != bool(group):
        errors.append("lifecycle_hook_name and auto_scaling_group_name go together: give both or neither.")
    if hook == ECS_MANAGED_DRAINING_HOOK:
        errors.append(
            "lifecycle_hook_name=%s is the hook ECS adds for managed draining: ECS drains those instances and completes it "
            "itself (completing it early would terminate instances whose tasks still run). Leave lifecycle_hook_name and "
            "auto_scaling_group_name out." % hook
        )
    if errors:
        raise CapacityError(" ".join(errors))
    return DrainRequest(
        cluster=cluster,
        instance_ids=instance_ids,
        container_instance_arns=arns,
        status=INSTANCE_STATES[params.get("state", "draining")],
        wait=bool(params.get("wait", True)),
        wait_timeout=int(params.get("wait_timeout", 600)),
        poll_interval=float(params.get("poll_interval", 5)),
        lifecycle_hook_name=hook or None,
        auto_scaling_group_name=group or None,
        lifecycle_action_result=params.get("lifecycle_action_result") or "CONTINUE",
    )


def instance_record(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The snake_case record of a container instance from DescribeContainerInstances (what the module returns)."""
    return {
        "ec2_instance_id": raw.get("ec2InstanceId"),
        "container_instance_arn": raw.get("containerInstanceArn"),
        "status": raw.get("status"),
        "running_tasks_count": int(raw.get("runningTasksCount") or 0),
        "pending_tasks_count": int(raw.get("pendingTasksCount") or 0),
    }


def instance_key(record: Mapping[str, Any]) -> str:
    """How an instance is named in progress reports: its EC2 id, or its container-instance ARN."""
    return record.get("ec2_instance_id") or record["container_instance_arn"]


def _arn_matches(arn: str, requested: str) -> bool:
    """A container-instance ARN against a requested ARN or bare container-instance id."""
    return arn == requested or (not requested.startswith("arn:") and arn.rsplit("/", 1)[-1] == requested)


def resolve_instances(
    instance_ids: Sequence[str], container_instance_arns: Sequence[str], described: Iterable[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Match the requested instances to ``described`` container instances (AWS dicts).

    Returns the records of the matches (in request order, each instance once) and the requests that match no
    registered instance. An ``INACTIVE`` (deregistered) container instance does not count as registered.
    """
    registered = [raw for raw in described if raw.get("status") != "INACTIVE"]
    found: dict[str, dict[str, Any]] = {}
    unknown: list[str] = []
    for instance_id in instance_ids:
        match = next((raw for raw in registered if raw.get("ec2InstanceId") == instance_id), None)
        if match is None:
            unknown.append(instance_id)
        else:
            found.setdefault(match["containerInstanceArn"], instance_record(match))
    for requested in container_instance_arns:
        match = next((raw for raw in registered if _arn_matches(raw.get("containerInstanceArn", ""), requested)), None)
        if match is None:
            unknown.append(requested)
        else:
            found.setdefault(match["containerInstanceArn"], instance_record(match))
    return list(found.values()), unknown


def unknown_message(cluster: str, unknown: Sequence[str]) -> str:
    return (
        "Not registered in ECS cluster %s: %s. Check the instance ids and the cluster (a terminated or deregistered "
        "instance is no longer a container instance); nothing was changed." % (cluster, ", ".join(unknown))
    )


def plan_states(instances: Iterable[Mapping[str, Any]], status: str) -> list[dict[str, Any]]:
    """The instances whose status is not ``status`` yet (they get UpdateContainerInstancesState)."""
    return [dict(record) for record in instances if record.get("status") != status]


def predict_states(instances: Iterable[Mapping[str, Any]], status: str) -> list[dict[str, Any]]:
    """The records with their status set to ``status`` (check mode)."""
    return [dict(record, status=status) for record in instances]


def tasks_left(instances: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Tasks still on each instance (running + pending), by :func:`instance_key`."""
    return {instance_key(record): int(record.get("running_tasks_count") or 0) + int(record.get("pending_tasks_count") or 0) for record in instances}


def still_busy(instances: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """The instances that still have tasks, with how many."""
    return {key: count for key, count in tasks_left(instances).items() if count}


def is_drained(record: Mapping[str, Any]) -> bool:
    return not (int(record.get("running_tasks_count") or 0) + int(record.get("pending_tasks_count") or 0))


def drain_progress(before: Iterable[Mapping[str, Any]] | None, now: Iterable[Mapping[str, Any]]) -> dict[str, int] | None:
    """The tasks left per instance in ``now`` if that differs from ``before`` (or there is no ``before``), else None.

    ``before`` and ``now`` are two successive polls (instance records, e.g. RV(instances) of two module results).
    """
    current = tasks_left(now)
    if before is not None and tasks_left(before) == current:
        return None
    return current


def _left_text(left: Mapping[str, int]) -> str:
    return ", ".join("%s %s" % (key, ("%s left" % _tasks(count)) if count else "drained") for key, count in left.items())


def drain_summary(instances: Sequence[Mapping[str, Any]], status: str) -> str:
    """The one-line progress of a drain (or of a return to ACTIVE): what each instance has left."""
    count = len(instances)
    noun = "instance" if count == 1 else "instances"
    if status == "ACTIVE":
        return "%d %s ACTIVE" % (count, noun)
    busy = still_busy(instances)
    if not busy:
        return "%d %s drained" % (count, noun)
    return "draining %d %s: %s" % (count, noun, _left_text(tasks_left(instances)))


def drain_event(elapsed: float, left: Mapping[str, int]) -> str:
    """A change seen while waiting, as the event line a user reads."""
    return "after %s s: %s" % (seconds(round(elapsed, 1)), _left_text(left))


def status_view(instances: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """``{instance: status}`` for the diff."""
    return {instance_key(record): record.get("status") for record in instances}


def _tasks(count: int) -> str:
    return "%d task%s" % (count, "" if count == 1 else "s")


def timeout_message(cluster: str, instances: Iterable[Mapping[str, Any]], timeout: float) -> str:
    busy = still_busy(instances)
    left = ", ".join("%s (%s left)" % (key, _tasks(count)) for key, count in busy.items())
    return (
        "Timed out after %ss waiting for container instances of ECS cluster %s to drain: %s. Draining does not stop "
        "standalone tasks (only service tasks are replaced): stop them, or raise wait_timeout. The progress is in "
        "'events'." % (seconds(timeout), cluster, left)
    )


def lifecycle_pending(
    asg_instances: Iterable[Mapping[str, Any]], group: str
) -> tuple[set[str], list[str]]:
    """From DescribeAutoScalingInstances: the instances of ``group`` waiting in a termination lifecycle action, and
    complaints about instances that belong to another group (``instance (group)``)."""
    pending: set[str] = set()
    elsewhere: list[str] = []
    for item in asg_instances:
        if item.get("AutoScalingGroupName") != group:
            elsewhere.append("%s (%s)" % (item.get("InstanceId"), item.get("AutoScalingGroupName")))
        elif item.get("LifecycleState") in TERMINATING_WAIT_STATES:
            pending.add(item["InstanceId"])
    return pending, elsewhere


# ---------------------------------------------------------------------------------------------- task sizing
#
# ECS places a task by the memory the container agent REGISTERS, not by the instance type's nominal memory: the agent
# reads the memory the operating system reports (MemTotal, what the kernel leaves after its own reservations and the
# platform's) and registers it minus ECS_RESERVED_MEMORY. "An m4.large instance has 8 GiB of installed memory.
# However, this does not always translate to exactly 8192 MiB of memory available for tasks" - its MemTotal is
# 8373026816 bytes, 7985 MiB (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/memory-management.html,
# https://docs.aws.amazon.com/batch/latest/userguide/memory-management.html). A task sized from the nominal memory
# (8192 - 384 = 7808 MiB on an m6i.large, which was reported to place 7820 but not 7908 MiB) is close to the edge or
# never placed.
#
# The planner therefore sizes from a LOWER BOUND of the registered memory: a measured figure where one is known
# (REGISTERED_MEMORY_MIB, or the user's own from DescribeContainerInstances registeredResources MEMORY, plus the
# reserve they registered with), else MEMTOTAL_FACTOR x nominal - MEMTOTAL_FIXED_MIB (kernel memory grows with the
# memory size - page tables, struct page ~1.6 % - plus a fixed part for the kernel image and firmware), minus the
# reserve. The model stays below every published figure (tests/unit/plugins/module_utils/test_ecs_capacity.py
# checks it against MEMTOTAL_OBSERVATIONS). The "two tasks never fit" rule is checked against an UPPER bound, the
# nominal memory minus the reserve, so it holds whatever the real MemTotal is.

MEMTOTAL_FACTOR = 0.96
MEMTOTAL_FIXED_MIB = 128
# MemTotal (MiB) observed on ECS-optimised AMIs, with where it comes from: the model must stay at or below them.
MEMTOTAL_OBSERVATIONS: dict[str, tuple[int, int, str]] = {
    # type: (nominal MiB, MemTotal MiB, source)
    "m4.large": (8192, 7985, "AWS ECS/Batch developer guide, memory management: free -b 8373026816 bytes"),
    "m6i.large": (8192, 7820, "field report: a 7820 MiB task is placed, 7908 MiB is not (registered in 7820..7907)"),
}
# Measured MemTotal (MiB) per instance type the planner uses instead of the model (empty: no measurement shipped;
# ecs_hosts_registered_memory_mib adds the user's own).
REGISTERED_MEMORY_MIB: dict[str, int] = {}


def memtotal_lower_bound(nominal_mib: int) -> int:
    """A lower bound of the memory the OS reports (MemTotal) on an instance of ``nominal_mib`` installed memory."""
    return max(int(nominal_mib * MEMTOTAL_FACTOR) - MEMTOTAL_FIXED_MIB, 0)


def plan_task_size(
    types: Sequence[Mapping[str, Any]],
    reserve_mib: int,
    task_memory_mib: int | None = None,
    measured: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The task size that fits every type of the group once and never twice.

    ``types``: records of ``ec2_instance_type_info`` (``instance_type``, ``memory_mib``, ``vcpus``). ``reserve_mib``
    is ECS_RESERVED_MEMORY. ``measured``: MemTotal in MiB per type the user measured (registered memory + the reserve
    it was registered with). Returns ``task_memory_mib``, ``task_cpu_units``, ``registered_memory_mib`` (the lower
    bound per type) and ``errors`` (messages naming the variable to change; empty when the plan holds).
    """
    errors: list[str] = []
    if not types:
        return dict(task_memory_mib=0, task_cpu_units=0, registered_memory_mib={}, errors=[])
    known = dict(REGISTERED_MEMORY_MIB)
    known.update({str(k): int(v) for k, v in (measured or {}).items()})
    registered = {}
    for record in types:
        name = record["instance_type"]
        memtotal = known.get(name, memtotal_lower_bound(int(record["memory_mib"])))
        registered[name] = memtotal - int(reserve_mib)
    smallest = min(registered, key=lambda name: (registered[name], name))
    largest_nominal = max(int(record["memory_mib"]) for record in types)
    task_cpu = min(int(record["vcpus"]) for record in types) * 1024
    if reserve_mib < 0:
        errors.append("ecs_hosts_memory_reserve_mib=%s must be 0 or more" % reserve_mib)
    if registered[smallest] <= 0:
        errors.append(
            "ecs_hosts_memory_reserve_mib=%s leaves no memory for the BEAM task on %s (it registers about %s MiB before the "
            "reserve): lower the reserve or choose larger types" % (reserve_mib, smallest, registered[smallest] + reserve_mib)
        )
        return dict(task_memory_mib=0, task_cpu_units=task_cpu, registered_memory_mib=registered, errors=errors)
    task = registered[smallest] if task_memory_mib is None else int(task_memory_mib)
    if task_memory_mib is not None and task > registered[smallest]:
        errors.append(
            "ecs_hosts_task_memory_mib=%s does not fit %s, which registers at least %s MiB with ECS (its MemTotal minus "
            "ecs_hosts_memory_reserve_mib=%s; ECS places by registered memory): lower it to %s or less, or leave it null "
            "to compute it" % (task, smallest, registered[smallest], reserve_mib, registered[smallest])
        )
    if task > 0 and 2 * task <= largest_nominal - int(reserve_mib):
        roomy = sorted(record["instance_type"] for record in types if 2 * task <= int(record["memory_mib"]) - int(reserve_mib))
        errors.append(
            "ecs_hosts_instance_types: %s may have room for two BEAM tasks of %s MiB (one node per instance is the rule): "
            "use types of similar memory (the largest under twice the task memory), or raise ecs_hosts_task_memory_mib"
            % (", ".join(roomy), task)
        )
    return dict(task_memory_mib=task, task_cpu_units=task_cpu, registered_memory_mib=registered, errors=errors)
