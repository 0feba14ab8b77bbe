# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every problem with the ecs_hosts role's inputs (pure, no I/O): the planner behind the filters
``megapool.aws.ecs_hosts_input_errors`` (the inputs alone) and ``megapool.aws.ecs_hosts_type_errors`` (the instance
types as the region describes them)."""

from __future__ import annotations

import re
from typing import Any
from typing import Mapping
from typing import Sequence

from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import _INSTANCE_TYPE_RE as INSTANCE_TYPE_RE
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import ALARM_NAME_MAX
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import ASG_NAME_MAX
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import ECS_NAME_MAX
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import IAM_ROLE_NAME_MAX
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import LAUNCH_TEMPLATE_NAME_MAX
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import as_int
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import derived_name_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import dict_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import list_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import name_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import number_errors

NUMBERS = (
    "ecs_hosts_spot_percentage",
    "ecs_hosts_min_size",
    "ecs_hosts_max_size",
    "ecs_hosts_desired_capacity",
    "ecs_hosts_on_demand_base_capacity",
    "ecs_hosts_target_capacity",
    "ecs_hosts_scaling_step_min",
    "ecs_hosts_scaling_step_max",
    "ecs_hosts_instance_warmup_period",
    "ecs_hosts_memory_reserve_mib",
    "ecs_hosts_root_volume_size",
    "ecs_hosts_imds_hop_limit",
    "ecs_hosts_lifecycle_hook_timeout",
    "ecs_hosts_alarm_cpu_threshold",
    "ecs_hosts_alarm_memory_threshold",
    "ecs_hosts_alarm_capacity_evaluation_periods",
    "ecs_hosts_alarm_period",
    "ecs_hosts_alarm_evaluation_periods",
)
# The ECS agent parses ECS_CONTAINER_STOP_TIMEOUT with Go's time.ParseDuration (units as the role accepts them).
_DURATION_RE = re.compile(r"^[0-9]+(ms|s|m|h)$")
_AGENT_KEY_RE = re.compile(r"^ECS_[A-Z0-9_]+$")
_SNS_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sns:")
_MIB_RE = re.compile(r"^[1-9][0-9]*$")
# The agent settings the role writes itself (vars/main.yml _ecs_hosts_agent_settings).
ROLE_AGENT_SETTINGS = (
    "ECS_CLUSTER",
    "ECS_ENABLE_SPOT_INSTANCE_DRAINING",
    "ECS_CONTAINER_STOP_TIMEOUT",
    "ECS_RESERVED_MEMORY",
    "ECS_AWSVPC_BLOCK_IMDS",
    "ECS_IMAGE_PULL_BEHAVIOR",
)
TYPES_EXAMPLE = "[t4g.small, c7g.medium, c6g.medium]"


def derived_names(cluster: Any, env: Any) -> dict[str, tuple[str, int]]:
    """The names the role makes (vars/main.yml) with their AWS limits."""
    name = "%s-%s" % (cluster, env)
    return {
        "ECS cluster name": (name, ECS_NAME_MAX),
        "Auto Scaling group name": (name + "-app", ASG_NAME_MAX),
        "launch template name": (name + "-app", LAUNCH_TEMPLATE_NAME_MAX),
        "capacity provider name": (name + "-app", ECS_NAME_MAX),
        "alarm name": (name + "-ecs-capacity-short", ALARM_NAME_MAX),
        "IAM role name (instance role, global)": (name + "-ecs-instance", IAM_ROLE_NAME_MAX),
    }


def _types_errors(types: Any) -> list[str]:
    shape = list_errors("ecs_hosts_instance_types", types, TYPES_EXAMPLE)
    if shape:
        return shape
    types = [str(item) for item in types]
    errors = []
    if not types:
        errors.append(
            "ecs_hosts_instance_types is empty: list one or more instance types of one architecture and similar "
            "memory, e.g. %s" % TYPES_EXAMPLE
        )
    if len(set(types)) != len(types):
        errors.append(
            "ecs_hosts_instance_types lists a type more than once (%s): list each type once" % ", ".join(types)
        )
    bad = [name for name in types if not INSTANCE_TYPE_RE.match(name)]
    if bad:
        errors.append(
            "ecs_hosts_instance_types: %s is not an instance type name: write family.size in lower case, e.g. "
            "t3.small (no wildcards)" % ", ".join(bad)
        )
    return errors


def _range(errors: list[str], ok: bool, message: str) -> None:
    if not ok:
        errors.append(message)


def ecs_hosts_input_errors(inputs: Mapping[str, Any]) -> list[str]:
    """``inputs``: the role's variables by name (megapool_cluster, megapool_env, ecs_hosts_*); an obsolete variable
    counts when its name is a key."""
    cluster, env = inputs.get("megapool_cluster"), inputs.get("megapool_env")
    errors = name_errors(cluster, env)
    if not errors:
        errors += derived_name_errors(derived_names(cluster, env), cluster, env)
    errors += _types_errors(inputs.get("ecs_hosts_instance_types"))
    numbers = number_errors(inputs, NUMBERS)
    errors += numbers
    if numbers:
        return errors
    n = {name: as_int(inputs.get(name)) for name in NUMBERS}
    spot, low, high, desired = (
        n["ecs_hosts_spot_percentage"],
        n["ecs_hosts_min_size"],
        n["ecs_hosts_max_size"],
        n["ecs_hosts_desired_capacity"],
    )
    _range(
        errors,
        0 <= spot <= 100,
        "ecs_hosts_spot_percentage=%d is outside 0-100: it is the share (in %%) of the capacity above "
        "ecs_hosts_on_demand_base_capacity that runs on spot; set it between 0 (all on-demand) and 100 (all spot)"
        % spot,
    )
    _range(
        errors,
        low >= 0 and high >= 1,
        "ecs_hosts_min_size=%d / ecs_hosts_max_size=%d: the minimum must be 0 or more and the maximum 1 or more"
        % (low, high),
    )
    _range(
        errors,
        low <= high,
        "ecs_hosts_min_size=%d is greater than ecs_hosts_max_size=%d: set ecs_hosts_min_size <= ecs_hosts_max_size"
        % (low, high),
    )
    _range(
        errors,
        low > high or low <= desired <= high,
        "ecs_hosts_desired_capacity=%d is outside ecs_hosts_min_size..ecs_hosts_max_size (%d..%d): set it within that range"
        % (desired, low, high),
    )
    base = n["ecs_hosts_on_demand_base_capacity"]
    _range(
        errors,
        0 <= base <= high,
        "ecs_hosts_on_demand_base_capacity=%d must be between 0 and ecs_hosts_max_size (%d)" % (base, high),
    )
    target = n["ecs_hosts_target_capacity"]
    _range(
        errors,
        1 <= target <= 100,
        "ecs_hosts_target_capacity=%d is outside 1-100: it is the %% of the group ECS keeps in use (100 = no spare "
        "instance)" % target,
    )
    step_min, step_max = n["ecs_hosts_scaling_step_min"], n["ecs_hosts_scaling_step_max"]
    _range(
        errors,
        1 <= step_min <= step_max <= 10000,
        "ecs_hosts_scaling_step_min=%d / ecs_hosts_scaling_step_max=%d: need 1 <= min <= max <= 10000"
        % (step_min, step_max),
    )
    warmup = n["ecs_hosts_instance_warmup_period"]
    _range(errors, 0 <= warmup <= 10000, "ecs_hosts_instance_warmup_period=%d must be 0-10000 seconds" % warmup)
    _range(
        errors,
        not inputs.get("ecs_hosts_managed_termination_protection") or bool(inputs.get("ecs_hosts_managed_scaling")),
        "ecs_hosts_managed_termination_protection needs ecs_hosts_managed_scaling: true (set both, or turn the "
        "protection off)",
    )
    reserve = n["ecs_hosts_memory_reserve_mib"]
    _range(errors, reserve >= 0, "ecs_hosts_memory_reserve_mib=%d must be 0 or more" % reserve)
    task_memory = inputs.get("ecs_hosts_task_memory_mib")
    _range(
        errors,
        task_memory in (None, "") or (as_int(task_memory) or 0) > 0,
        "ecs_hosts_task_memory_mib=%s must be a positive number of MiB (or null to compute it)" % task_memory,
    )
    stop = inputs.get("ecs_hosts_container_stop_timeout")
    _range(
        errors,
        _DURATION_RE.match(str(stop)) is not None,
        "ecs_hosts_container_stop_timeout=%s is not a duration the ECS agent reads: write it like 120s or 2m" % stop,
    )
    errors += _agent_config_errors(inputs.get("ecs_hosts_agent_config"))
    measured = inputs.get("ecs_hosts_registered_memory_mib")
    _range(
        errors,
        isinstance(measured, Mapping) and all(_MIB_RE.match(str(value)) for value in measured.values()),
        "ecs_hosts_registered_memory_mib must map instance types to MiB (positive whole numbers), e.g. {t3.small: 1907}: "
        "the MemTotal you measured (registeredResources MEMORY + the reserve)",
    )
    volume = n["ecs_hosts_root_volume_size"]
    _range(
        errors,
        volume >= 30,
        "ecs_hosts_root_volume_size=%d is smaller than the ECS-optimised AMI's 30 GiB snapshot: set 30 or more"
        % volume,
    )
    hops = n["ecs_hosts_imds_hop_limit"]
    _range(errors, 1 <= hops <= 64, "ecs_hosts_imds_hop_limit=%d must be 1-64" % hops)
    hook = n["ecs_hosts_lifecycle_hook_timeout"]
    _range(errors, 30 <= hook <= 7200, "ecs_hosts_lifecycle_hook_timeout=%d must be 30-7200 seconds" % hook)
    _range(
        errors,
        1 <= n["ecs_hosts_alarm_cpu_threshold"] <= 100 and 1 <= n["ecs_hosts_alarm_memory_threshold"] <= 100,
        "ecs_hosts_alarm_cpu_threshold / ecs_hosts_alarm_memory_threshold are percentages: set them within 1-100",
    )
    _range(
        errors,
        "ecs_hosts_alarm_memory_reservation_threshold" not in inputs,
        "ecs_hosts_alarm_memory_reservation_threshold is gone: with one task per instance the memory reservation is near "
        "100 % in normal operation; the role alarms on CapacityProviderReservation instead "
        "(ecs_hosts_alarm_capacity_evaluation_periods). Remove the variable",
    )
    periods, period = n["ecs_hosts_alarm_capacity_evaluation_periods"], n["ecs_hosts_alarm_period"]
    _range(
        errors,
        periods >= 1 and periods * period <= 86400,
        "ecs_hosts_alarm_capacity_evaluation_periods=%d must be 1 or more, and periods x ecs_hosts_alarm_period at most "
        "one day (86400 s)" % periods,
    )
    evaluation = n["ecs_hosts_alarm_evaluation_periods"]
    _range(
        errors,
        period >= 10 and evaluation >= 1,
        "ecs_hosts_alarm_period=%d / ecs_hosts_alarm_evaluation_periods=%d: the period is 10 s or more, the evaluation "
        "periods 1 or more" % (period, evaluation),
    )
    errors += _alarm_action_errors(inputs)
    return errors


def _agent_config_errors(config: Any) -> list[str]:
    shape = dict_errors("ecs_hosts_agent_config", config, "{ECS_LOGLEVEL: info}")
    if shape:
        return shape
    errors = []
    bad = [str(key) for key in config if not _AGENT_KEY_RE.match(str(key))]
    if bad:
        errors.append(
            "ecs_hosts_agent_config has keys that are not ECS agent settings (%s): use ECS_* names" % ", ".join(bad)
        )
    owned = [str(key) for key in config if str(key) in ROLE_AGENT_SETTINGS]
    if owned:
        errors.append(
            "ecs_hosts_agent_config sets %s, which the role sets itself: remove it (ecs_hosts_container_stop_timeout "
            "sets the stop timeout, ecs_hosts_memory_reserve_mib ECS_RESERVED_MEMORY)" % ", ".join(owned)
        )
    return errors


def _alarm_action_errors(inputs: Mapping[str, Any]) -> list[str]:
    errors: list[str] = []
    arns: list[str] = []
    for variable in ("ecs_hosts_alarm_actions", "ecs_hosts_alarm_ok_actions"):
        value = inputs.get(variable, [])
        shape = list_errors(variable, value, "[arn:aws:sns:eu-north-1:123456789012:alarms]")
        errors += shape
        if not shape:
            arns += [str(item) for item in value]
    bad = [arn for arn in arns if not _SNS_ARN_RE.match(arn)]
    if bad:
        errors.append(
            "ecs_hosts_alarm_actions / ecs_hosts_alarm_ok_actions must be SNS topic ARNs "
            "(arn:aws:sns:<region>:<account>:<topic>), not %s" % ", ".join(bad)
        )
    return errors


def architecture_by_type(type_info: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Instance type -> ``arm64``, ``x86_64`` or '' (neither), from ``ec2_instance_type_info``'s records (a type that
    runs i386 and x86_64 counts as x86_64)."""
    return {
        str(record["instance_type"]): ",".join(
            arch for arch in (record.get("architectures") or []) if arch in ("arm64", "x86_64")
        )
        for record in type_info
    }


def ecs_hosts_type_errors(type_info: Sequence[Mapping[str, Any]], missing: Sequence[str], region: str) -> list[str]:
    """The instance types as the region describes them: offered, Linux on arm64 or x86_64, one architecture."""
    errors = []
    if missing:
        errors.append(
            "ecs_hosts_instance_types: %s is not an instance type %s offers: fix the name or choose types the "
            "region has (aws ec2 describe-instance-type-offerings --region %s)" % (", ".join(missing), region, region)
        )
    archs = architecture_by_type(type_info)
    neither = [name for name, arch in archs.items() if not arch]
    if neither:
        errors.append(
            "ecs_hosts_instance_types: %s runs neither arm64 nor x86_64 Linux: choose other types" % ", ".join(neither)
        )
    if len({arch for arch in archs.values() if arch}) > 1:
        errors.append(
            "ecs_hosts_instance_types mixes architectures (%s): the group launches one AMI, so list only arm64 "
            "(Graviton: t4g, m7g, c7g, ...) or only x86_64 types"
            % ", ".join("%s: %s" % (name, arch) for name, arch in archs.items())
        )
    return errors
