# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: ECS-native blue/green deployments (deploymentConfiguration.strategy BLUE_GREEN).

What AWS does (Amazon ECS developer guide: "Amazon ECS blue/green service deployments workflow",
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-how-it-works.html; "Application Load
Balancer resources for blue/green deployments", .../alb-resources-for-blue-green.html; API reference:
API_DeploymentConfiguration, API_AdvancedConfiguration, API_ServiceDeployment, DescribeServiceDeployments)
    - UpdateService may set ``deploymentConfiguration.strategy`` to ``BLUE_GREEN`` (with ``bakeTimeInMinutes``, 0-1440)
      when every load balancer of the service has ``advancedConfiguration``: ``alternateTargetGroupArn``,
      ``productionListenerRule`` (an ALB listener rule whose forward action lists both target groups), optional
      ``testListenerRule`` (a rule of another listener, e.g. a test port, forwarding over the same pair: ECS sends its
      traffic to green in TEST_TRAFFIC_SHIFT, before any production traffic moves), and ``roleArn`` (the infrastructure
      role ECS assumes to modify the rules). Without them
      the call is refused with an InvalidParameterException.
    - A deployment of a blue/green service passes the lifecycle stages RECONCILE_SERVICE, PRE_SCALE_UP, SCALE_UP
      (the green tasks start beside the blue ones and register in the target group that takes no production
      traffic), POST_SCALE_UP, TEST_TRAFFIC_SHIFT / POST_TEST_TRAFFIC_SHIFT (the test rule sends its traffic to
      green), PRODUCTION_TRAFFIC_SHIFT / POST_PRODUCTION_TRAFFIC_SHIFT (the production rule's weighted forward action
      becomes green 100 / blue 0: all at once for BLUE_GREEN), BAKE_TIME (both revisions run for
      ``bakeTimeInMinutes``; a failure rolls back by sending the traffic back to blue at once), CLEAN_UP (the blue
      tasks are stopped, their targets drain). The next deployment goes the other way: which target group is live
      alternates. DescribeServiceDeployments answers ``lifecycleStage`` and ``status`` (IN_PROGRESS, SUCCESSFUL,
      ROLLBACK_IN_PROGRESS, ROLLBACK_SUCCESSFUL, ...) of each service deployment.

What moto (5.2) does
    Stores ``strategy``, ``bakeTimeInMinutes`` and ``advancedConfiguration`` as given and does nothing with them:
    no validation, a deployment is rolling (ecs_deployments, ecs_dataplane), no rule changes, and
    ListServiceDeployments / DescribeServiceDeployments are not implemented.

How this extension imitates AWS (docs/emulator.md, "ECS blue/green deployments")
    - UpdateService refuses BLUE_GREEN without the advanced configuration, a bake time, or a production rule (or a
      test rule, when one is given) that forwards to both target groups (before any change). The test rule moves to
      green in TEST_TRAFFIC_SHIFT (the local data plane; timer deployments move it with the production rule when they
      complete) and back to blue on a rollback.
    - A new deployment of a BLUE_GREEN service that has a previous one (a new revision or forceNewDeployment) is played
      stage by stage. Local releases (ecs_dataplane: real tasks) get the real thing: green tasks in the idle target
      group, the ALB's real health checks, the production rule's weights switched (the local HTTP front follows the
      rule at each request, so traffic moves), the bake time, then the blue tasks drained and stopped. A green task
      that fails its health checks (or exits) before CLEAN_UP rolls back: the rule goes back to blue (if it had
      moved), the green tasks stop, the deployment turns FAILED and a rollback deployment on the previous revision
      takes over the blue tasks (as the circuit breaker does in ecs_deployments). Other images (the timer
      deployments of ecs_deployments) switch the rule when their deployment completes and have no bake time.
    - The bake time is ``bakeTimeInMinutes`` x ``$MEGAPOOL_EMULATOR_ECS_BAKE_SECONDS_PER_MINUTE`` seconds (default 60,
      AWS's minute; tests set e.g. 2).
    - ListServiceDeployments / DescribeServiceDeployments answer the service deployments of blue/green services.
"""

from __future__ import annotations

import functools
import os
import random
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Callable

from . import ecs_dataplane
from . import ecs_deployments
from .patching import MethodPatches

BAKE_SECONDS_ENV = "MEGAPOOL_EMULATOR_ECS_BAKE_SECONDS_PER_MINUTE"
DEFAULT_BAKE_SECONDS_PER_MINUTE = 60.0
STAGES = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
)
_LOCK = threading.RLock()
# The clock of the stages (tests may replace it).
_clock: Callable[[], float] = time.monotonic


@dataclass
class BlueGreen:
    """One blue/green deployment: its stage, target groups, rules and service deployment record."""

    deployment_id: str
    green_tg: str
    blue_tg: str
    rule_arn: str
    test_rule_arn: str | None
    bake_seconds: float
    record: dict[str, Any]
    stage: str = "RECONCILE_SERVICE"
    shifted: bool = False
    bake_until: float | None = None
    done: bool = False
    failures: list[str] = field(default_factory=list)


_STATE: dict[str, BlueGreen] = {}
# service ARN -> its service deployments (newest last)
_RECORDS: dict[str, list[dict[str, Any]]] = {}
_ORIGINALS: dict[str, Any] = {}


def bake_seconds_per_minute() -> float:
    try:
        return max(float(os.environ.get(BAKE_SECONDS_ENV) or DEFAULT_BAKE_SECONDS_PER_MINUTE), 0.0)
    except ValueError:
        return DEFAULT_BAKE_SECONDS_PER_MINUTE


def _now():
    from moto.core.utils import utcnow  # pylint: disable=import-outside-toplevel

    return utcnow()


def _weight(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 1


# --------------------------------------------------------------------------------------------- pure rules


def strategy_of(configuration: dict[str, Any] | None) -> str:
    return (configuration or {}).get("strategy") or "ROLLING"


def blue_green_errors(
    configuration: dict[str, Any] | None,
    load_balancers: list[dict[str, Any]] | None,
    rule_groups: Callable[[str], list[str] | None],
) -> list[str]:
    """Why a BLUE_GREEN service configuration is refused (empty: accepted). ``rule_groups(rule ARN)`` answers the target
    groups a rule forwards to, None for a rule that does not exist."""
    if strategy_of(configuration) != "BLUE_GREEN":
        return []
    errors = []
    if (configuration or {}).get("bakeTimeInMinutes") is None:
        errors.append("bakeTimeInMinutes is required for the BLUE_GREEN deployment strategy.")
    if not load_balancers:
        errors.append("The BLUE_GREEN deployment strategy requires a load balancer with advancedConfiguration.")
    for entry in load_balancers or []:
        advanced = entry.get("advancedConfiguration") or {}
        missing = [
            key for key in ("alternateTargetGroupArn", "productionListenerRule", "roleArn") if not advanced.get(key)
        ]
        if missing:
            errors.append(
                "loadBalancers advancedConfiguration is missing %s for the BLUE_GREEN deployment strategy."
                % ", ".join(missing)
            )
            continue
        for kind, key in (("production", "productionListenerRule"), ("test", "testListenerRule")):
            if not advanced.get(key):
                continue  # the test listener rule is optional
            groups = rule_groups(advanced[key])
            if groups is None:
                errors.append("The %s listener rule %s does not exist." % (kind, advanced[key]))
            elif not {entry.get("targetGroupArn"), advanced["alternateTargetGroupArn"]} <= set(groups):
                errors.append(
                    "The %s listener rule %s must forward to both the target group and the alternate target group."
                    % (kind, advanced[key])
                )
    return errors


def shifted_actions(actions: list[dict[str, Any]], live: str, idle: str) -> list[dict[str, Any]]:
    """A rule's actions with its forward action sending everything to ``live`` and nothing to ``idle``."""
    result = []
    for action in actions:
        action = dict(action)
        if action.get("Type") == "forward":
            action.pop("TargetGroupArn", None)
            stickiness = (action.get("ForwardConfig") or {}).get("TargetGroupStickinessConfig") or {"Enabled": False}
            action["ForwardConfig"] = {
                "TargetGroups": [{"TargetGroupArn": live, "Weight": 1}, {"TargetGroupArn": idle, "Weight": 0}],
                "TargetGroupStickinessConfig": stickiness,
            }
        result.append(action)
    return result


def live_of(actions: list[dict[str, Any]], primary: str, alternate: str) -> str:
    """The target group of the pair that a rule sends production traffic to (the primary when neither is weighted)."""
    weights: dict[str, int] = {}
    for action in actions:
        if action.get("Type") != "forward":
            continue
        if action.get("TargetGroupArn"):
            weights[action["TargetGroupArn"]] = 1
        for group in (action.get("ForwardConfig") or {}).get("TargetGroups") or []:
            weights[group["TargetGroupArn"]] = _weight(group.get("Weight", 1))
    if weights.get(alternate, 0) > weights.get(primary, 0):
        return alternate
    return primary


# --------------------------------------------------------------------------------------------- elbv2 access


def _elbv2(account: str, region: str) -> Any:
    from moto.elbv2.models import elbv2_backends  # pylint: disable=import-outside-toplevel

    return elbv2_backends[account][region]


def _rule(account: str, region: str, rule_arn: str) -> Any:
    try:
        found = _elbv2(account, region).describe_rules(listener_arn=None, rule_arns=[rule_arn])
    except Exception:  # pylint: disable=broad-except
        return None
    return found[0] if found else None


def _rule_actions(account: str, region: str, rule_arn: str) -> list[dict[str, Any]]:
    rule = _rule(account, region, rule_arn)
    return [dict(action.data) for action in rule.actions] if rule is not None else []


def _rule_groups(account: str, region: str, rule_arn: str) -> list[str] | None:
    rule = _rule(account, region, rule_arn)
    if rule is None:
        return None
    groups = []
    for action in _rule_actions(account, region, rule_arn):
        if action.get("TargetGroupArn"):
            groups.append(action["TargetGroupArn"])
        groups += [group["TargetGroupArn"] for group in (action.get("ForwardConfig") or {}).get("TargetGroups") or []]
    return groups


def _shift(account: str, region: str, rule_arn: str | None, live: str, idle: str) -> None:
    if not rule_arn:
        return
    actions = _rule_actions(account, region, rule_arn)
    if actions:
        _elbv2(account, region).modify_rule(rule_arn, [], shifted_actions(actions, live, idle))


def _advanced(service: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    for entry in service.load_balancers or []:
        advanced = entry.get("advancedConfiguration") or {}
        if advanced.get("alternateTargetGroupArn") and advanced.get("productionListenerRule"):
            return entry, advanced
    return None


def live_target_group(service: Any) -> str | None:
    """The target group of a blue/green service that takes production traffic now (None: not blue/green)."""
    found = _advanced(service)
    if found is None:
        return None
    entry, advanced = found
    actions = _rule_actions(service._account_id, service.region_name, advanced["productionListenerRule"])  # pylint: disable=protected-access
    return live_of(actions, entry["targetGroupArn"], advanced["alternateTargetGroupArn"])


# --------------------------------------------------------------------------------------------- service deployments


def _record(service: Any, deployment: dict[str, Any], source: str | None) -> dict[str, Any]:
    now = _now()
    suffix = "%019d" % random.randrange(10**18, 10**19)
    base = "arn:aws:ecs:%s:%s:" % (service.region_name, service._account_id)  # pylint: disable=protected-access
    record = {
        "serviceDeploymentArn": "%sservice-deployment/%s/%s/%s" % (base, service.cluster_name, service.name, suffix),
        "serviceArn": service.arn,
        "clusterArn": service.cluster_arn,
        "createdAt": now,
        "startedAt": now,
        "updatedAt": now,
        "status": "IN_PROGRESS",
        "lifecycleStage": "RECONCILE_SERVICE",
        "targetServiceRevision": {
            "arn": "%sservice-revision/%s/%s/%s" % (base, service.cluster_name, service.name, suffix),
            "requestedTaskCount": int(service.desired_count or 0),
            "runningTaskCount": 0,
            "pendingTaskCount": 0,
        },
        "sourceServiceRevisions": [
            {"arn": source, "requestedTaskCount": 0, "runningTaskCount": 0, "pendingTaskCount": 0}
        ]
        if source
        else [],
        "deploymentConfiguration": dict(getattr(service, "deployment_configuration", None) or {}),
        "_deployment_id": deployment["id"],
    }
    _RECORDS.setdefault(service.arn, []).append(record)
    return record


def _set(state: BlueGreen, **values: Any) -> None:
    state.record.update(values, updatedAt=_now())
    if "lifecycleStage" in values:
        state.stage = values["lifecycleStage"]


# Hook stages (botocore's DeploymentLifecycleHookStage) that run when a deployment enters a stage of STAGES.
HOOK_STAGES_AT = {"PRODUCTION_TRAFFIC_SHIFT": ("PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT")}


def hooks_at(hooks: list[dict[str, Any]] | None, stage: str) -> list[tuple[str, dict[str, Any]]]:
    """``[(hook stage, hook)]`` of the lifecycle hooks that run when a deployment enters ``stage``, in order."""
    return [
        (hook_stage, hook)
        for hook_stage in HOOK_STAGES_AT.get(stage, (stage,))
        for hook in hooks or []
        if hook_stage in (hook.get("lifecycleStages") or [])
    ]


def _run_hooks(service: Any, state: BlueGreen, stage: str) -> None:
    """The lifecycle hooks of ``stage``: the emulator runs no Lambda function (no Docker, no Lambda runtime). Each
    hook is recorded and counted as SUCCEEDED, and a service event says so: never a silent success."""
    hooks = (getattr(service, "deployment_configuration", None) or {}).get("lifecycleHooks")
    for hook_stage, hook in hooks_at(hooks, stage):
        state.record.setdefault("_hook_runs", []).append(
            {"stage": hook_stage, "hookTargetArn": hook.get("hookTargetArn"), "status": "SUCCEEDED"}
        )
        message = (
            "lifecycle hook %s at %s: not invoked (the emulator runs no Lambda function), counted as SUCCEEDED."
            % (hook.get("hookTargetArn"), hook_stage)
        )
        ecs_dataplane._event(service, message)  # pylint: disable=protected-access


def _begin(backend: Any, service: Any) -> None:
    """After UpdateService: a new PRIMARY deployment of a BLUE_GREEN service with a previous one is a blue/green one."""
    if strategy_of(getattr(service, "deployment_configuration", None)) != "BLUE_GREEN":
        return
    primary = ecs_deployments._primary(service)  # pylint: disable=protected-access
    found = _advanced(service)
    if primary is None or found is None or primary["id"] in _STATE or primary.get("rolloutState") != "IN_PROGRESS":
        return
    if not [item for item in service.deployments if item is not primary]:
        return  # nothing blue: the first deployment is a plain one
    entry, advanced = found
    blue = live_target_group(service) or entry["targetGroupArn"]
    green = advanced["alternateTargetGroupArn"] if blue == entry["targetGroupArn"] else entry["targetGroupArn"]
    minutes = int((service.deployment_configuration or {}).get("bakeTimeInMinutes") or 0)
    previous = next((item for item in service.deployments if item is not primary), {})
    record = _record(service, primary, previous.get("taskDefinition"))
    _STATE[primary["id"]] = BlueGreen(
        primary["id"],
        green,
        blue,
        advanced["productionListenerRule"],
        advanced.get("testListenerRule"),
        minutes * bake_seconds_per_minute(),
        record,
    )
    _run_hooks(service, _STATE[primary["id"]], "RECONCILE_SERVICE")
    del backend  # the deployment is moved by the ECS data plane (local releases) or ecs_deployments' timers


# --------------------------------------------------------------------------------------------- the local scheduler


def target_group_for(local: Any, balancer: dict[str, Any]) -> str | None:
    """The target group a local task registers in: the green one during its blue/green deployment, else the live one."""
    arn = balancer.get("targetGroupArn")
    advanced = balancer.get("advancedConfiguration") or {}
    if not advanced.get("alternateTargetGroupArn") or local.service is None:
        return arn
    with _LOCK:
        state = _STATE.get(local.deployment_id or "")
    if state is not None and not state.done:
        return state.green_tg
    return live_target_group(local.service) or arn


def _fail_green(service: Any, green: list[Any]) -> str | None:
    """A green task that failed: exited, or unhealthy in its target group after the grace period (None: all fine)."""
    grace = float(getattr(service, "health_check_grace_period_seconds", None) or 0)
    for local in green:
        if local.failed:
            return "task %s failed: %s" % (local.task.id, local.stop_reason or "stopped")
        if local.stopping:
            continue
        states = local.target_states()
        if "unhealthy" in states and time.monotonic() - local.started >= grace:
            local.failed = local.counted = True
            group = local.targets[0][1] if local.targets else ""
            message = "(task %s) failed ELB health checks in (target-group %s)" % (local.task.id, group)
            ecs_dataplane._event(service, message)  # pylint: disable=protected-access
            local.stop("Task failed ELB health checks", "ServiceSchedulerInitiated")
            return "task %s failed ELB health checks" % local.task.id
    return None


def _rollback(service: Any, primary: dict[str, Any], state: BlueGreen, reason: str, green: list[Any]) -> None:
    account, region = service._account_id, service.region_name  # pylint: disable=protected-access
    if state.shifted:
        _shift(account, region, state.rule_arn, state.blue_tg, state.green_tg)
    if state.test_rule_arn:
        _shift(account, region, state.test_rule_arn, state.blue_tg, state.green_tg)
    for local in green:
        local.stop("Blue/green deployment rolled back", "ServiceSchedulerInitiated")
    _set(
        state,
        status="ROLLBACK_IN_PROGRESS",
        statusReason="Rolling back: %s" % reason,
        rollback={
            "reason": reason,
            "startedAt": _now(),
            "serviceRevisionArn": (state.record.get("sourceServiceRevisions") or [{}])[0].get("arn"),
        },
    )
    state.done = True
    message = "(deployment %s) blue/green deployment failed in %s: %s; rolling back." % (
        primary["id"],
        state.stage,
        reason,
    )
    ecs_dataplane._event(service, message)  # pylint: disable=protected-access
    tracked = dict(ecs_deployments._TRACKED.get(primary["id"]) or {})  # pylint: disable=protected-access
    failed = max(int(primary.get("failedTasks") or 0), 1)
    ecs_deployments._fail(service, primary, tracked)  # pylint: disable=protected-access
    primary.update(
        failedTasks=failed, rolloutStateReason="ECS blue/green deployment failed in %s: %s" % (state.stage, reason)
    )


def schedule(backend: Any, service: Any, primary: dict[str, Any]) -> bool:
    """One scheduler step of a local blue/green deployment in progress; False when it is not one (the rolling
    scheduler goes on)."""
    with _LOCK:
        state = _STATE.get(primary["id"])
    if state is None or state.done or primary.get("rolloutState") != "IN_PROGRESS":
        return False
    account, region = service._account_id, service.region_name  # pylint: disable=protected-access
    tasks = ecs_dataplane.service_tasks(service)
    live = [local for local in tasks if not local.finished.is_set()]
    mine = [local for local in tasks if local.deployment_id == primary["id"]]
    green = [local for local in live if local.deployment_id == primary["id"] and not local.stopping]
    blue = [local for local in live if local.deployment_id != primary["id"] and not local.stopping]
    desired = int(service.desired_count or 0)
    if state.stage != "CLEAN_UP":
        reason = _fail_green(service, mine)
        if reason:
            _rollback(service, primary, state, reason, green)
            return True
    stage = state.stage
    if stage in ("RECONCILE_SERVICE", "PRE_SCALE_UP"):
        _set(state, lifecycleStage=STAGES[STAGES.index(stage) + 1])
    elif stage == "SCALE_UP":
        backoff = getattr(service, ecs_dataplane.BACKOFF, (0, 0.0))[1]
        while len(green) < desired and time.monotonic() >= backoff:
            local = ecs_dataplane._launch(backend, service, primary)  # pylint: disable=protected-access
            if local is None or local.finished.is_set():
                break
            green.append(local)
        if len(green) >= desired:
            _set(state, lifecycleStage="POST_SCALE_UP")
    elif stage == "POST_SCALE_UP":
        if all(local.healthy() for local in green):
            _set(state, lifecycleStage="TEST_TRAFFIC_SHIFT")
    elif stage == "TEST_TRAFFIC_SHIFT":
        _shift(account, region, state.test_rule_arn, state.green_tg, state.blue_tg)
        _set(state, lifecycleStage="POST_TEST_TRAFFIC_SHIFT")
    elif stage == "POST_TEST_TRAFFIC_SHIFT":
        _set(state, lifecycleStage="PRODUCTION_TRAFFIC_SHIFT")
    elif stage == "PRODUCTION_TRAFFIC_SHIFT":
        _shift(account, region, state.rule_arn, state.green_tg, state.blue_tg)
        state.shifted = True
        message = "(deployment %s) production traffic shifted to (target-group %s)." % (primary["id"], state.green_tg)
        ecs_dataplane._event(service, message)  # pylint: disable=protected-access
        _set(state, lifecycleStage="POST_PRODUCTION_TRAFFIC_SHIFT")
    elif stage == "POST_PRODUCTION_TRAFFIC_SHIFT":
        state.bake_until = _clock() + state.bake_seconds
        _set(state, lifecycleStage="BAKE_TIME")
    elif stage == "BAKE_TIME":
        if _clock() >= (state.bake_until or 0):
            _set(state, lifecycleStage="CLEAN_UP")
            for local in blue:
                local.stop(
                    "Blue/green deployment %s cleaned up the blue revision" % primary["id"], "ServiceSchedulerInitiated"
                )
                ecs_dataplane._event(service, "has stopped 1 running tasks: (task %s)." % local.task.id)  # pylint: disable=protected-access
    elif stage == "CLEAN_UP":
        if not [local for local in live if local.deployment_id != primary["id"]]:
            _set(state, status="SUCCESSFUL", finishedAt=_now())
            state.done = True
            ecs_deployments._complete(service, primary)  # pylint: disable=protected-access
    if state.stage != stage:
        _run_hooks(service, state, state.stage)
    # counts
    for deployment in service.deployments:
        own = [local for local in live if local.deployment_id == deployment["id"] and not local.stopping]
        deployment["runningCount"] = len(own)
        deployment["pendingCount"] = max(desired - len(own), 0) if deployment is primary and not state.done else 0
    ecs_deployments._sync_counts(service)  # pylint: disable=protected-access
    state.record["targetServiceRevision"].update(
        runningTaskCount=len(green), pendingTaskCount=max(desired - len(green), 0)
    )
    return True


# --------------------------------------------------------------------------------------------- timer deployments


def _on_complete(original: Callable[..., Any]) -> Callable[..., Any]:
    """ecs_deployments._complete: a blue/green deployment the timers completed switches the rule (no bake time)."""

    @functools.wraps(original)
    def complete(service: Any, deployment: dict[str, Any]) -> Any:
        with _LOCK:
            state = _STATE.get(deployment["id"])
            if state is not None and not state.done:
                account, region = service._account_id, service.region_name  # pylint: disable=protected-access
                for stage in STAGES[STAGES.index(state.stage) + 1 :]:
                    _run_hooks(service, state, stage)
                _shift(account, region, state.test_rule_arn, state.green_tg, state.blue_tg)
                _shift(account, region, state.rule_arn, state.green_tg, state.blue_tg)
                state.shifted = state.done = True
                _set(state, lifecycleStage="CLEAN_UP", status="SUCCESSFUL", finishedAt=_now())
            for record in _RECORDS.get(getattr(service, "arn", ""), []):
                if record["status"] == "ROLLBACK_IN_PROGRESS":
                    record.update(status="ROLLBACK_SUCCESSFUL", finishedAt=_now(), updatedAt=_now())
        return original(service, deployment)

    return complete


def _on_start(original: Callable[..., Any]) -> Callable[..., Any]:
    """ecs_deployments._start_deployment: a new deployment of a BLUE_GREEN service (not a rollback) is a blue/green one,
    known before the timers move it (a 0-second deployment completes inside UpdateService)."""

    @functools.wraps(original)
    def start(service: Any, *args: Any, **kwargs: Any) -> Any:
        deployment = original(service, *args, **kwargs)
        if not kwargs.get("rollback"):
            with _LOCK:
                _begin(service._backend, service)  # pylint: disable=protected-access
        return deployment

    return start


def _on_fail(original: Callable[..., Any]) -> Callable[..., Any]:
    """ecs_deployments._fail: a timer blue/green deployment that fails rolls back (the rule never moved)."""

    @functools.wraps(original)
    def fail(service: Any, deployment: dict[str, Any], tracked: dict[str, Any]) -> Any:
        with _LOCK:
            state = _STATE.get(deployment["id"])
            if state is not None and not state.done:
                state.done = True
                _set(
                    state,
                    status="ROLLBACK_IN_PROGRESS",
                    statusReason="Rolling back: tasks failed to start.",
                    rollback={"reason": "tasks failed to start", "startedAt": _now()},
                )
        return original(service, deployment, tracked)

    return fail


# --------------------------------------------------------------------------------------------- patched calls


def _update_service(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def update_service(self: Any, service_properties: dict[str, Any]) -> Any:
        from moto.ecs.exceptions import InvalidParameterException  # pylint: disable=import-outside-toplevel

        cluster = service_properties.get("cluster", "default")
        name = str(service_properties.get("service", "")).rsplit("/", maxsplit=1)[-1]
        current = self._get_service(cluster, name)  # pylint: disable=protected-access
        configuration = service_properties.get("deployment_configuration") or getattr(
            current, "deployment_configuration", None
        )
        balancers = (
            service_properties.get("load_balancers")
            if service_properties.get("load_balancers") is not None
            else current.load_balancers
        )
        errors = blue_green_errors(
            configuration, balancers, lambda arn: _rule_groups(self.account_id, self.region_name, arn)
        )
        if errors:
            raise InvalidParameterException(" ".join(errors))
        with ecs_deployments._LOCK, _LOCK:  # pylint: disable=protected-access  # the scheduler's order: theirs, then ours
            return original(self, service_properties)

    return update_service


def _describe_service_deployments(self: Any) -> Any:
    from moto.core.responses import ActionResult  # pylint: disable=import-outside-toplevel

    wanted = self._get_param("serviceDeploymentArns") or []
    with _LOCK:
        found = {record["serviceDeploymentArn"]: record for records in _RECORDS.values() for record in records}
        answer = [
            {key: value for key, value in found[arn].items() if not key.startswith("_")}
            for arn in wanted
            if arn in found
        ]
        failures = [{"arn": arn, "reason": "MISSING"} for arn in wanted if arn not in found]
    return ActionResult({"serviceDeployments": answer, "failures": failures})


def _list_service_deployments(self: Any) -> Any:
    from moto.core.responses import ActionResult  # pylint: disable=import-outside-toplevel

    service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("service"))  # pylint: disable=protected-access
    statuses = self._get_param("status") or []
    with _LOCK:
        records = [
            record for record in reversed(_RECORDS.get(service.arn, [])) if not statuses or record["status"] in statuses
        ]
        keys = ("serviceDeploymentArn", "serviceArn", "clusterArn", "startedAt", "createdAt", "finishedAt", "status")
        summaries = [
            {key: record.get(key) for key in keys if record.get(key) is not None}
            | {"targetServiceRevisionArn": record["targetServiceRevision"]["arn"]}
            for record in records
        ]
    return ActionResult({"serviceDeployments": summaries})


def _reset_state(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def reset(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            _STATE.clear()
            _RECORDS.clear()
        return original(self, *args, **kwargs)

    return reset


def _action(answer: Callable[[Any], Any]) -> Callable[[Any], Callable[[Any], Any]]:
    """The wrap of an ECS API action moto does not answer: it replaces whatever is there (moto 5 has neither)."""

    def wrap(original: Any) -> Callable[[Any], Any]:
        del original  # no chain to keep: the action is ours

        def action(self: Any) -> Any:
            return answer(self)

        action.__name__ = answer.__name__.lstrip("_")
        action.__doc__ = answer.__doc__
        return action

    return wrap


# ecs_deployments wraps UpdateService too, and its timers' functions are wrapped here: the wrappers chain, each
# recognised by its own mark (patching.MethodPatches; moto imported at the first apply()).
_INSTALLED = MethodPatches(
    (
        ("moto.ecs.models:EC2ContainerServiceBackend", "update_service", _update_service),
        (ecs_deployments, "_complete", _on_complete),
        (ecs_deployments, "_start_deployment", _on_start),
        (ecs_deployments, "_fail", _on_fail),
        ("moto.moto_api._internal.models:MotoAPIBackend", "reset", _reset_state),
        (
            "moto.ecs.responses:EC2ContainerServiceResponse",
            "describe_service_deployments",
            _action(_describe_service_deployments),
        ),
        (
            "moto.ecs.responses:EC2ContainerServiceResponse",
            "list_service_deployments",
            _action(_list_service_deployments),
        ),
    )
)


def apply() -> None:
    """Install the patch (idempotent; after ecs_deployments and ecs_dataplane)."""
    _INSTALLED.apply()
    ecs_dataplane.HOOKS["schedule"] = schedule
    ecs_dataplane.HOOKS["target_group"] = target_group_for


def applied() -> bool:
    """Whether the patch is installed."""
    return _INSTALLED.applied()


def remove() -> None:
    """Undo :func:`apply` (tests): moto's methods back (one another extension wrapped since stays until that one is
    restored), the data plane's hooks and the deployments' state gone."""
    _INSTALLED.restore()
    ecs_dataplane.HOOKS.pop("schedule", None)
    ecs_dataplane.HOOKS.pop("target_group", None)
    with _LOCK:
        _STATE.clear()
        _RECORDS.clear()


restore = remove
