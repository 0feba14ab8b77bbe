# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planners of the release role (exposed as filters by ``plugins/filter/release.py``). No I/O.

- :func:`rollout_capacity` - instances a rollout and the migration gate need (one BEAM task per instance) against
  the Auto Scaling group's maximum;
- :func:`spot_drain` - ALB deregistration delay + container stop timeout against the spot interruption notice;
- :func:`rollout_timeout` - the rollout's wait against the worst-case scale-out time of the capacity provider;
- :func:`migration_memory` - the migration task's own memory reservation against the web task's;
- :func:`api_token` - a name or mark made valid for an ECS API field (startedBy, family, service names);
- :func:`task_definition_changes` - what differs between the task definition a play wants and the latest ACTIVE
  revision (community.aws.ecs_taskdefinition compares container lists by length only);
- :func:`shared_secrets` - the generated secrets every region must share (one cookie for one BEAM cluster).

Every ``*_errors`` list names the variables and the fix.
"""

from __future__ import annotations

import re

from typing import Any
from typing import Iterable
from typing import Mapping
from typing import Sequence

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict


class PlanError(ValueError):
    """An input a planner cannot work with (a programming error of the caller, not a user's bad value)."""


def _int(name: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PlanError("%s must be an integer, got %r" % (name, value)) from None


# --- capacity -------------------------------------------------------------------------------------------------------


def rollout_capacity(
    desired_count: Any,
    max_size: Any,
    maximum_percent: Any = 200,
    minimum_healthy_percent: Any = 100,
    migrate: bool = True,
) -> dict[str, Any]:
    """Instances a rolling deployment needs at its peak, with one task per instance.

    ECS starts new tasks up to ``floor(desiredCount * maximumPercent / 100)`` running tasks in all, and keeps at least
    ``ceil(desiredCount * minimumHealthyPercent / 100)`` healthy ones
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html). With 100 %/200 % it starts a
    whole new set beside the old one: ``desired + surge`` instances, which managed scaling can only launch up to the
    group's maximum. The migration gate's task runs while the old tasks serve: ``desired + 1``.
    """
    desired = _int("release_desired_count", desired_count)
    maximum = _int("ecs_hosts_max_size", max_size)
    max_pct = _int("release_deployment_maximum_percent", maximum_percent)
    min_pct = _int("release_deployment_minimum_healthy_percent", minimum_healthy_percent)
    errors: list[str] = []
    if desired < 0:
        errors.append("release_desired_count must be 0 or more")
    if not 100 <= max_pct <= 200:
        errors.append(
            "release_deployment_maximum_percent=%d: use 100-200 (200 starts the new tasks beside the old ones)"
            % max_pct
        )
    if not 0 <= min_pct <= 100:
        errors.append("release_deployment_minimum_healthy_percent=%d: use 0-100" % min_pct)
    if errors:
        return {"surge": 0, "peak": desired, "gate_peak": desired, "errors": errors}
    total = desired * max_pct // 100
    surge = max(total - desired, 0)
    keep = -(-desired * min_pct // 100)  # ceil
    # Tasks ECS may stop before new ones are healthy; with none and no surge, a rollout cannot move.
    can_stop = desired - keep
    peak = desired + surge
    gate_peak = desired + 1 if migrate else desired
    if desired > maximum:
        errors.append(
            "release_desired_count=%d is above ecs_hosts_max_size=%d: one BEAM node runs per instance, so at most %d tasks"
            " fit (and a rollout needs spare instances); lower release_desired_count or raise ecs_hosts_max_size"
            % (desired, maximum, maximum)
        )
    elif desired > 0 and surge == 0 and can_stop == 0:
        errors.append(
            "release_deployment_maximum_percent=%d with release_deployment_minimum_healthy_percent=%d and"
            " release_desired_count=%d: ECS can neither start a new task beside the old ones nor stop an old one first,"
            " so a rollout never moves; raise release_deployment_maximum_percent (200) or lower the minimum healthy percent"
            % (max_pct, min_pct, desired)
        )
    elif peak > maximum:
        errors.append(
            "release_desired_count=%d with release_deployment_maximum_percent=%d: a rollout runs up to %d tasks at once"
            " (%d new beside the %d old, one per instance), but ecs_hosts_max_size=%d; raise ecs_hosts_max_size to %d or"
            " lower release_desired_count to %d"
            % (desired, max_pct, peak, surge, desired, maximum, peak, maximum * 100 // max_pct)
        )
    elif gate_peak > maximum:
        errors.append(
            "release_desired_count=%d leaves no instance for the migration task (it runs beside the %d serving tasks,"
            " one per instance) within ecs_hosts_max_size=%d; raise ecs_hosts_max_size to %d or lower release_desired_count"
            % (desired, desired, maximum, gate_peak)
        )
    return {"surge": surge, "peak": peak, "gate_peak": gate_peak, "errors": errors}


# --- spot -----------------------------------------------------------------------------------------------------------

# A spot instance gets a two-minute interruption notice
# (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html); ECS then drains it
# (ECS_ENABLE_SPOT_INSTANCE_DRAINING, https://docs.aws.amazon.com/AmazonECS/latest/developerguide/spot-instance-draining.html):
# the target is deregistered (the ALB's deregistration delay), then the container gets SIGTERM and stopTimeout
# seconds. 20 s of the 120 go to the notice reaching the agent and the replacement task being placed.
SPOT_NOTICE_SECONDS = 120
SPOT_DRAIN_BUDGET_SECONDS = 100


def spot_drain(
    uses_spot: bool, deregistration_delay: Any, stop_timeout: Any, budget: Any = SPOT_DRAIN_BUDGET_SECONDS
) -> dict[str, Any]:
    """Seconds a task needs to leave a spot instance, and an error when that exceeds ``budget``."""
    delay = _int("alb_deregistration_delay", deregistration_delay)
    stop = _int("release_stop_timeout", stop_timeout)
    limit = _int("budget", budget)
    total = delay + stop
    errors: list[str] = []
    if uses_spot and total > limit:
        errors.append(
            "alb_deregistration_delay=%d + release_stop_timeout=%d = %d s, but a spot instance is gone %d s after its"
            " interruption notice and the task must be out within about %d s: lower release_stop_timeout to %d or less"
            " (or alb_deregistration_delay), or run without spot (ecs_hosts_spot_percentage: 0)"
            % (delay, stop, total, SPOT_NOTICE_SECONDS, limit, max(limit - delay, 2))
        )
    return {"seconds": total, "errors": errors}


# --- rollout timeout ------------------------------------------------------------------------------------------------


def rollout_timeout(
    timeout: Any,
    scaling_evaluation_seconds: Any = 60,
    instance_warmup: Any = 300,
    task_start_seconds: Any = 60,
    health_check_start_period: Any = 60,
    health_check_interval: Any = 10,
    healthy_threshold: Any = 2,
    deregistration_delay: Any = 30,
    stop_timeout: Any = 60,
) -> dict[str, Any]:
    """The worst case of a rollout that has to scale out first, against ``release_rollout_timeout``.

    Managed scaling reacts to CapacityProviderReservation above its target after one minute's datapoint
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-auto-scaling.html), an instance boots and
    registers within the group's warmup, the task pulls and starts, passes the health check grace period and
    ``healthy_threshold`` ALB checks, then the old task deregisters and stops.
    """
    parts = [
        ("scale-out alarm", _int("scaling_evaluation_seconds", scaling_evaluation_seconds)),
        (
            "instance boot and warmup (ecs_hosts_instance_warmup_period)",
            _int("ecs_hosts_instance_warmup_period", instance_warmup),
        ),
        ("image pull and start", _int("task_start_seconds", task_start_seconds)),
        (
            "health check grace (release_health_check_start_period)",
            _int("release_health_check_start_period", health_check_start_period),
        ),
        (
            "healthy checks (alb_healthy_threshold x alb_health_check_interval)",
            _int("alb_healthy_threshold", healthy_threshold) * _int("alb_health_check_interval", health_check_interval),
        ),
        ("old task deregistration (alb_deregistration_delay)", _int("alb_deregistration_delay", deregistration_delay)),
        ("old task stop (release_stop_timeout)", _int("release_stop_timeout", stop_timeout)),
    ]
    worst = sum(seconds for _name, seconds in parts)
    wait = _int("release_rollout_timeout", timeout)
    errors: list[str] = []
    if wait < worst:
        errors.append(
            "release_rollout_timeout=%d is shorter than a rollout that must scale out first takes at worst: %d s (%s);"
            " raise release_rollout_timeout to %d or more"
            % (wait, worst, ", ".join("%s %d" % (name, seconds) for name, seconds in parts), worst)
        )
    return {
        "worst_case_seconds": worst,
        "parts": [{"step": name, "seconds": seconds} for name, seconds in parts],
        "errors": errors,
    }


# --- migration memory -----------------------------------------------------------------------------------------------

MIGRATION_MEMORY_MIN_MIB = 128


def migration_memory(migration_mib: Any, web_mib: Any) -> dict[str, Any]:
    """The migration task's memory reservation: its own (small) figure, at most the web task's."""
    web = _int("web memory reservation", web_mib)
    if migration_mib in (None, ""):
        return {"mib": web, "errors": []}
    wanted = _int("release_migration_memory_mib", migration_mib)
    errors = []
    if not MIGRATION_MEMORY_MIN_MIB <= wanted <= web:
        errors.append(
            "release_migration_memory_mib=%d: give %d-%d MiB (at most the web task's %d MiB reservation; a BEAM that"
            " runs migrations needs a few hundred MiB)" % (wanted, MIGRATION_MEMORY_MIN_MIB, web, web)
        )
    return {"mib": wanted, "errors": errors}


# --- API names ------------------------------------------------------------------------------------------------------

# Characters and lengths the ECS API accepts (botocore's ECS model documentation):
# RunTask startedBy: up to 128 letters, numbers, '-', '/', '_'; task definition family and service name: up to 255
# letters, numbers, '_', '-'.
API_FIELDS = {
    "started_by": (re.compile(r"[^A-Za-z0-9_/-]+"), 128),
    "family": (re.compile(r"[^A-Za-z0-9_-]+"), 255),
    "service_name": (re.compile(r"[^A-Za-z0-9_-]+"), 255),
}


def api_token(value: Any, field: str = "started_by") -> str:
    """``value`` with each run of characters the field does not allow replaced by '-', cut to the field's length."""
    try:
        pattern, length = API_FIELDS[field]
    except KeyError:
        raise PlanError("api_token: unknown field %r, use one of %s" % (field, ", ".join(sorted(API_FIELDS)))) from None
    token = pattern.sub("-", str(value)).strip("-")
    return token[:length] or "-"


# --- task definitions -----------------------------------------------------------------------------------------------

# Task-level keys compared; others (revision, status, registeredAt, requiresAttributes, compatibilities) are AWS's.
TASK_KEYS = (
    "network_mode",
    "execution_role_arn",
    "task_role_arn",
    "runtime_platform",
    "cpu",
    "memory",
    "requires_compatibilities",
    "pid_mode",
    "ipc_mode",
    "placement_constraints",
    "volumes",
)
# Container fields AWS fills in with their default when they were not given (DescribeTaskDefinition).
CONTAINER_DEFAULTS = {"essential": True, "cpu": 0}
EMPTY = (None, "", [], {})


def _normal(value: Any) -> Any:
    """Numbers as numbers (the API returns ints where a play may render strings), empties dropped, dicts sorted."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    if isinstance(value, Mapping):
        return {key: _normal(item) for key, item in sorted(value.items()) if item not in EMPTY}
    if isinstance(value, (list, tuple)):
        return [_normal(item) for item in value]
    return value


def _container(raw: Mapping[str, Any], network_mode: str | None) -> dict[str, Any]:
    container = dict(_normal(raw))
    for key, default in CONTAINER_DEFAULTS.items():
        if container.get(key) == default:
            del container[key]
    ports = []
    for mapping in container.get("port_mappings") or []:
        mapping = dict(mapping)
        if mapping.get("protocol") == "tcp":
            del mapping["protocol"]
        if network_mode == "awsvpc" and mapping.get("host_port") == mapping.get("container_port"):
            mapping.pop("host_port", None)  # awsvpc: the host port is the container port
        ports.append(mapping)
    if ports:
        container["port_mappings"] = sorted(ports, key=repr)
    # Order of name/value lists does not matter to ECS.
    for key in ("environment", "secrets"):
        if container.get(key):
            container[key] = sorted(container[key], key=lambda item: str(item.get("name")))
    return container


def _snake(definition: Mapping[str, Any]) -> dict[str, Any]:
    if any(key in definition for key in ("containerDefinitions", "networkMode", "taskRoleArn", "executionRoleArn")):
        return camel_dict_to_snake_dict(dict(definition))
    return dict(definition)


def canonical_task_definition(definition: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a task definition that make it what it is, in one form: snake_case keys (camelCase input is
    converted as ``community.aws.ecs_taskdefinition_info`` converts its answer), AWS's defaults removed, empty
    values dropped, environment and secrets by name."""
    snake = _snake(definition)
    network_mode = snake.get("network_mode")
    result = {key: _normal(snake.get(key)) for key in TASK_KEYS if snake.get(key) not in EMPTY}
    containers = [_container(item, network_mode) for item in snake.get("container_definitions") or []]
    result["container_definitions"] = sorted(containers, key=lambda item: str(item.get("name")))
    return result


def task_definition_changes(current: Mapping[str, Any] | None, wanted: Mapping[str, Any]) -> list[str]:
    """What differs between the latest ACTIVE revision (``current``, snake_case as community.aws.ecs_taskdefinition_info
    returns it, or camelCase from DescribeTaskDefinition; none/empty when the family has no revision) and the wanted
    definition (the module options in camelCase: ``containerDefinitions``, ``networkMode``, ...). One line per
    differing field, e.g. ``container app: environment``; empty when the revision already is what is wanted."""
    if not current or not (current.get("container_definitions") or current.get("containerDefinitions")):
        return ["no ACTIVE revision"]
    if (current.get("status") or "ACTIVE") != "ACTIVE":
        return ["revision is %s" % current.get("status")]
    have, want = canonical_task_definition(current), canonical_task_definition(wanted)
    changes = ["task: %s" % key for key in TASK_KEYS if have.get(key) != want.get(key)]
    have_containers = {item.get("name"): item for item in have["container_definitions"]}
    want_containers = {item.get("name"): item for item in want["container_definitions"]}
    for name in sorted(set(have_containers) | set(want_containers), key=str):
        if name not in want_containers:
            changes.append("container %s: removed" % name)
        elif name not in have_containers:
            changes.append("container %s: added" % name)
        else:
            old, new = have_containers[name], want_containers[name]
            changes.extend(
                "container %s: %s" % (name, key) for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)
            )
    return changes


# --- shared secrets -------------------------------------------------------------------------------------------------


def shared_secrets(names: Sequence[str], values_by_region: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """The value every region must use for each generated secret.

    ``values_by_region``: region -> the values of ``names`` there, in order (none where the parameter does not exist).
    Returns ``values`` (name -> the one value the regions have, or none: generate it), ``missing`` (name -> the regions
    without it) and ``conflicts``: one entry per secret whose regions hold different values, ``{name, groups}`` with
    the regions grouped by value - never the values themselves (so the result's ``conflicts`` may be printed).
    """
    values: dict[str, Any] = {}
    missing: dict[str, list[str]] = {}
    conflicts: list[dict[str, Any]] = []
    for index, name in enumerate(names):
        groups: dict[Any, list[str]] = {}
        for region in sorted(values_by_region):
            row = values_by_region[region]
            value = row[index] if index < len(row) else None
            if value in (None, ""):
                missing.setdefault(name, []).append(region)
            else:
                groups.setdefault(value, []).append(region)
        if len(groups) > 1:
            conflicts.append({"name": name, "groups": sorted(groups.values())})
            values[name] = None
        else:
            values[name] = next(iter(groups), None)
    return {"values": values, "missing": missing, "conflicts": conflicts}


def conflict_errors(conflicts: Iterable[Mapping[str, Any]], prefix: str) -> list[str]:
    """Messages for :func:`shared_secrets` conflicts: the parameter, the regions that agree with each other."""
    return [
        "SSM parameter %s%s differs between regions (%s): every region of one BEAM cluster needs the same value; put the"
        " right value in release_secrets.%s (vault-encrypted) to overwrite it everywhere, or delete the wrong"
        " parameters" % (prefix, item["name"], " | ".join(", ".join(group) for group in item["groups"]), item["name"])
        for item in conflicts
    ]


# --- all of the sizing checks at once -------------------------------------------------------------------------------


def release_checks(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The sizing checks of a release in one call (what the role's validate step uses).

    ``inputs`` keys: ``desired_count``, ``max_size`` (none: capacity not checked), ``maximum_percent``,
    ``minimum_healthy_percent``, ``migrate``, ``uses_spot``, ``deregistration_delay``, ``stop_timeout``,
    ``rollout_timeout``, ``instance_warmup``, ``health_check_start_period``, ``health_check_interval``,
    ``healthy_threshold``, ``migration_memory_mib``, ``web_memory_mib``.
    """
    get = inputs.get
    errors: list[str] = []
    capacity = None
    if get("max_size") not in (None, ""):
        capacity = rollout_capacity(
            get("desired_count", 0),
            get("max_size"),
            get("maximum_percent", 200),
            get("minimum_healthy_percent", 100),
            bool(get("migrate", True)),
        )
        errors += capacity["errors"]
    spot = spot_drain(bool(get("uses_spot")), get("deregistration_delay", 30), get("stop_timeout", 60))
    errors += spot["errors"]
    rollout = rollout_timeout(
        get("rollout_timeout", 900),
        instance_warmup=get("instance_warmup", 300),
        health_check_start_period=get("health_check_start_period", 60),
        health_check_interval=get("health_check_interval", 10),
        healthy_threshold=get("healthy_threshold", 2),
        deregistration_delay=get("deregistration_delay", 30),
        stop_timeout=get("stop_timeout", 60),
    )
    errors += rollout["errors"]
    memory = migration_memory(get("migration_memory_mib"), get("web_memory_mib", 512))
    errors += memory["errors"]
    return {
        "errors": errors,
        "capacity": capacity,
        "spot": spot,
        "rollout": rollout,
        "migration_memory_mib": memory["mib"],
    }
