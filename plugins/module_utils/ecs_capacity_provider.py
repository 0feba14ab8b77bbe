# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning of an ECS capacity provider (module ``ecs_capacity_provider``). No boto3, no I/O.

Capacity providers (module ``ecs_capacity_provider``):

- :func:`validate_provider` turns the module options into a :class:`DesiredProvider`, or raises
  :class:`CapacityError` naming the option and the fix;
- :func:`live_provider` picks, among what ``DescribeCapacityProviders`` returned, the provider that counts:
  ``INACTIVE`` (deleted, AWS keeps listing it for a while) and ``DELETE_COMPLETE`` providers count as absent;
- :func:`plan_provider` compares the current provider (as AWS returns it) with the desired one and returns a
  :class:`ProviderPlan` (create, update, delete, tags); :func:`predict_provider` applies a plan on paper
  (check mode); :func:`provider_result` and :func:`provider_view` give the snake_case result and the diff view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Iterable
from typing import Mapping

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

# --------------------------------------------------------------------------------------------------
# capacity providers

# AWS limits of AutoScalingGroupProvider.managedScaling (ECS API reference, ManagedScaling).
TARGET_CAPACITY_RANGE = (1, 100)
STEP_SIZE_RANGE = (1, 10000)
WARMUP_RANGE = (0, 10000)
# CreateCapacityProvider: up to 255 letters, digits, underscores and hyphens, not prefixed with these.
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_RESERVED_NAME_PREFIXES = ("aws", "ecs", "fargate")
ASG_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:autoscaling:[a-z0-9-]+:\d{12}:autoScalingGroup:[^:]+:autoScalingGroupName/(?P<name>.+)$"
)
ASG_ARN_EXAMPLE = "arn:aws:autoscaling:<region>:<account>:autoScalingGroup:<uuid>:autoScalingGroupName/<name>"
# updateStatus values of a provider that is going or gone.
DELETING_UPDATE_STATUSES = frozenset({"DELETE_IN_PROGRESS", "DELETE_COMPLETE"})
# The fields of AutoScalingGroupProvider that UpdateCapacityProvider can change, in the order reported.
_SCALING_FIELDS = (
    "status",
    "targetCapacity",
    "minimumScalingStepSize",
    "maximumScalingStepSize",
    "instanceWarmupPeriod",
)
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
            "name=%r is not a valid capacity provider name: use 1 to 255 letters, digits, underscores and hyphens."
            % name
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
        if (
            provider.get("name") == name
            and provider.get("status") != "INACTIVE"
            and provider.get("updateStatus") == "DELETE_IN_PROGRESS"
        ):
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
            "the new group a capacity provider with a new name."
            % (desired.name, current_arn, desired.auto_scaling_group_arn)
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
