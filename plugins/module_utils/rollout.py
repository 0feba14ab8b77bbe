# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure planner of megapool.aws.ecs_service_rollout: no I/O, only dicts as ECS describes them.

- :func:`validate_rollout` checks the options (before any AWS call),
- :func:`plan_rollout` says which UpdateService parameters turn the service into the wanted one,
- :func:`assess` tells, from one DescribeServices answer, how far the followed deployment got: done, failed
  (rollout FAILED, circuit-breaker rollback, replaced by another deployment) or still in progress, with a one-line
  ``progress`` and the new service events.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Iterable
from typing import Mapping
from typing import Sequence

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.megapool.aws.plugins.module_utils.release_strategy import MAX_BAKE_TIME_MINUTES
from ansible_collections.megapool.aws.plugins.module_utils.release_strategy import rolling_load_balancers
from ansible_collections.megapool.aws.plugins.module_utils.release_strategy import same_load_balancers

# The longest wait_timeout we accept (a day); AWS's own deployment timeouts are far shorter.
MAX_WAIT_TIMEOUT = 86400
STRATEGIES = {"rolling": "ROLLING", "blue_green": "BLUE_GREEN"}
_SHORT_TD_RE = re.compile(r"^(?P<family>[A-Za-z0-9_-]{1,255}):(?P<revision>[1-9][0-9]*)$")
_ARN_TD_RE = re.compile(
    r"^arn:aws[a-zA-Z-]*:ecs:[a-z0-9-]+:[0-9]{12}:task-definition/(?P<family>[A-Za-z0-9_-]{1,255}):(?P<revision>[1-9][0-9]*)$"
)
# Words of ECS service events (and rollout-state reasons) that tell a deployment failed or is being rolled back.
_FAILURE_WORDS = ("deployment failed", "circuit breaker", "rolling back", "rolled back")


class RolloutError(Exception):
    """Bad options, or a rollout that failed; the message names the cause and the fix."""


@dataclass(frozen=True)
class RolloutRequest:
    """The validated options of one call."""

    cluster: str
    service: str
    task_definition: str
    desired_count: int | None = None
    force_new_deployment: bool = False
    strategy: str | None = None
    bake_time_minutes: int | None = None
    load_balancers: tuple[dict[str, Any], ...] | None = None
    wait: bool = True
    wait_timeout: int = 900
    poll_interval: float = 10.0
    deployment_id: str | None = None
    events_since: datetime.datetime | None = None


@dataclass(frozen=True)
class RolloutPlan:
    """What UpdateService has to change; ``params`` are its arguments besides cluster and service."""

    changes: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def update(self) -> bool:
        return bool(self.changes)


@dataclass(frozen=True)
class Assessment:
    """How the followed deployment is doing after one read of the service."""

    done: bool
    failed: bool
    progress: str
    deployment: dict[str, Any]
    events: list[str]
    reason: str = ""


# ---------------------------------------------------------------------------------------------- options


def parse_task_definition(value: str) -> tuple[str, int] | None:
    """``(family, revision)`` of ``family:revision`` or a task-definition ARN, else None."""
    match = _SHORT_TD_RE.match(value or "") or _ARN_TD_RE.match(value or "")
    if not match:
        return None
    return match.group("family"), int(match.group("revision"))


def same_task_definition(left: str | None, right: str | None) -> bool:
    """Whether two references (``family:revision`` or ARN) name the same revision."""
    if not left or not right:
        return False
    if left == right:
        return True
    parsed_left, parsed_right = parse_task_definition(left), parse_task_definition(right)
    return parsed_left is not None and parsed_left == parsed_right


def short_task_definition(value: str | None) -> str:
    """``family:revision`` of a reference (the value itself when it cannot be parsed)."""
    parsed = parse_task_definition(value or "")
    return "%s:%d" % parsed if parsed else (value or "")


def parse_timestamp(value: Any) -> datetime.datetime | None:
    """A timezone-aware datetime from an ISO 8601 string or datetime (naive ones count as UTC); None for empty."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        stamp = value
    else:
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        stamp = datetime.datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.timezone.utc)
    return stamp


def validate_rollout(params: Mapping[str, Any]) -> RolloutRequest:
    """The options as a :class:`RolloutRequest`, or :class:`RolloutError` naming each bad option and the fix."""
    errors = []
    cluster = str(params.get("cluster") or "").strip()
    service = str(params.get("service") or "").strip()
    task_definition = str(params.get("task_definition") or "").strip()
    if not cluster:
        errors.append("cluster is empty: give the name or ARN of the ECS cluster.")
    if not service:
        errors.append("service is empty: give the name or ARN of the ECS service.")
    if parse_task_definition(task_definition) is None:
        errors.append(
            "task_definition=%r is not a task-definition revision: give family:revision (web-prod:3) or the "
            "task-definition ARN (a bare family would deploy whatever revision is latest)." % task_definition
        )
    desired_count = params.get("desired_count")
    if desired_count is not None and desired_count < 0:
        errors.append("desired_count must be 0 or more, got %s." % desired_count)
    wait_timeout = params.get("wait_timeout", 900)
    if not 0 <= wait_timeout <= MAX_WAIT_TIMEOUT:
        errors.append("wait_timeout must be between 0 and %d seconds, got %s." % (MAX_WAIT_TIMEOUT, wait_timeout))
    poll_interval = params.get("poll_interval", 10)
    if not poll_interval > 0:
        errors.append("poll_interval must be more than 0 seconds, got %s." % poll_interval)
    bake = params.get("bake_time_minutes")
    if bake is not None and not 0 <= bake <= MAX_BAKE_TIME_MINUTES:
        errors.append("bake_time_minutes must be between 0 and %d, got %s." % (MAX_BAKE_TIME_MINUTES, bake))
    load_balancers = params.get("load_balancers")
    for index, entry in enumerate(load_balancers or []):
        if not isinstance(entry, dict) or not entry.get("targetGroupArn"):
            errors.append(
                "load_balancers[%d] needs a targetGroupArn (the ECS API's loadBalancers form), got %r." % (index, entry)
            )
    if (
        params.get("strategy") == "blue_green"
        and load_balancers is not None
        and not all(
            isinstance(entry, dict) and (entry.get("advancedConfiguration") or {}).get("alternateTargetGroupArn")
            for entry in load_balancers
        )
    ):
        errors.append(
            "strategy=blue_green needs advancedConfiguration (alternateTargetGroupArn, productionListenerRule, roleArn) on every "
            "entry of load_balancers: ECS refuses a blue/green service without them."
        )
    events_since = None
    try:
        events_since = parse_timestamp(params.get("events_since"))
    except ValueError:
        errors.append(
            "events_since=%r is not an ISO 8601 timestamp (2025-01-31T12:00:00+00:00)." % params.get("events_since")
        )
    if errors:
        raise RolloutError(" ".join(errors))
    return RolloutRequest(
        cluster=cluster,
        service=service,
        task_definition=task_definition,
        desired_count=desired_count,
        force_new_deployment=bool(params.get("force_new_deployment")),
        strategy=STRATEGIES.get(params.get("strategy") or ""),
        bake_time_minutes=bake,
        load_balancers=tuple(dict(entry) for entry in load_balancers) if load_balancers is not None else None,
        wait=bool(params.get("wait", True)),
        wait_timeout=int(wait_timeout),
        poll_interval=float(poll_interval),
        deployment_id=params.get("deployment_id") or None,
        events_since=events_since,
    )


# ---------------------------------------------------------------------------------------------- planning


def current_strategy(service: Mapping[str, Any]) -> str:
    """The deployment strategy of a service (ECS's default is ROLLING)."""
    return (service.get("deploymentConfiguration") or {}).get("strategy") or "ROLLING"


def orient_to_live(entries: Iterable[Mapping[str, Any]], live: Mapping[str, str | None]) -> list[dict[str, Any]]:
    """Blue/green loadBalancers with ``targetGroupArn`` on the target group that takes production traffic now.

    ``live``: production listener rule ARN -> live target group ARN. ECS alternates the live target group of the pair
    on every deployment; a loadBalancers entry that named the idle one as the primary would point the next deployment
    the wrong way round.
    """
    result = []
    for entry in entries:
        entry = dict(entry)
        advanced = dict(entry.get("advancedConfiguration") or {})
        now_live = live.get(advanced.get("productionListenerRule") or "")
        if now_live and advanced.get("alternateTargetGroupArn") == now_live:
            advanced["alternateTargetGroupArn"], entry["targetGroupArn"] = entry.get("targetGroupArn"), now_live
            entry["advancedConfiguration"] = advanced
        result.append(entry)
    return result


def plan_rollout(
    service: Mapping[str, Any],
    task_definition_arn: str,
    request: RolloutRequest,
    live: Mapping[str, str | None] | None = None,
) -> RolloutPlan:
    """The UpdateService that points ``service`` (as DescribeServices returns it) at ``task_definition_arn``.

    No change when the service already runs that revision with the wanted desired count, strategy, bake time and load
    balancers, and no new deployment is forced. ``live`` (production listener rule ARN -> the target group it sends
    production traffic to) is read by the caller for a blue/green service: going back to rolling keeps the service on
    the live target group, and blue/green load balancers are oriented to it (:func:`orient_to_live`).
    """
    changes: list[str] = []
    params: dict[str, Any] = {}
    live = live or {}
    if not same_task_definition(service.get("taskDefinition"), task_definition_arn):
        changes.append("task_definition")
        params["taskDefinition"] = task_definition_arn
    if request.desired_count is not None and service.get("desiredCount") != request.desired_count:
        changes.append("desired_count")
        params["desiredCount"] = request.desired_count
    configuration = dict(service.get("deploymentConfiguration") or {})
    wanted = dict(configuration)
    if request.strategy:
        wanted["strategy"] = request.strategy
    if (wanted.get("strategy") or "ROLLING") == "BLUE_GREEN" and request.bake_time_minutes is not None:
        wanted["bakeTimeInMinutes"] = request.bake_time_minutes
    if (wanted.get("strategy") or "ROLLING") != "BLUE_GREEN":
        wanted.pop("bakeTimeInMinutes", None)
    if request.strategy and current_strategy(service) != request.strategy:
        changes.append("strategy")
    if (configuration.get("bakeTimeInMinutes") != wanted.get("bakeTimeInMinutes")) and wanted.get(
        "strategy"
    ) == "BLUE_GREEN":
        changes.append("bake_time_minutes")
    if "strategy" in changes or "bake_time_minutes" in changes:
        params["deploymentConfiguration"] = wanted
    current_lbs = service.get("loadBalancers") or []
    wanted_lbs: list[dict[str, Any]] | None = None
    if request.load_balancers is not None:
        wanted_lbs = (
            orient_to_live(request.load_balancers, live)
            if wanted.get("strategy") == "BLUE_GREEN"
            else [dict(e) for e in request.load_balancers]
        )
    if current_strategy(service) == "BLUE_GREEN" and wanted.get("strategy") == "ROLLING":
        # Back to rolling: the service stays on the target group that serves now (it may be the alternate one).
        wanted_lbs = rolling_load_balancers(current_lbs, live)
    if wanted_lbs is not None and not same_load_balancers(current_lbs, wanted_lbs):
        changes.append("load_balancers")
        params["loadBalancers"] = wanted_lbs
    if request.force_new_deployment:
        changes.append("force_new_deployment")
        params["forceNewDeployment"] = True
    return RolloutPlan(changes=tuple(changes), params=params)


def primary_deployment(service: Mapping[str, Any]) -> dict[str, Any] | None:
    return next((dict(item) for item in service.get("deployments") or [] if item.get("status") == "PRIMARY"), None)


def find_deployment(service: Mapping[str, Any], deployment_id: str | None) -> dict[str, Any] | None:
    if not deployment_id:
        return None
    return next((dict(item) for item in service.get("deployments") or [] if item.get("id") == deployment_id), None)


def failed_deployment_of(service: Mapping[str, Any], task_definition_arn: str) -> dict[str, Any] | None:
    """A deployment of ``task_definition_arn`` that ECS still lists as FAILED (a rollback of it is under way)."""
    return next(
        (
            dict(item)
            for item in service.get("deployments") or []
            if item.get("rolloutState") == "FAILED"
            and same_task_definition(item.get("taskDefinition"), task_definition_arn)
        ),
        None,
    )


# ---------------------------------------------------------------------------------------------- events


def newest_event_time(service: Mapping[str, Any]) -> datetime.datetime | None:
    """The time of the newest service event (the cursor before a change): later events are new."""
    times = [parse_timestamp(event.get("createdAt")) for event in service.get("events") or [] if event.get("createdAt")]
    return max(times) if times else None


def event_line(event: Mapping[str, Any]) -> str:
    stamp = parse_timestamp(event.get("createdAt"))
    when = stamp.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if stamp else "-"
    return "%s %s" % (when, event.get("message", ""))


def new_events(service: Mapping[str, Any], since: datetime.datetime | None) -> list[str]:
    """The service events after ``since`` (all when None), oldest first, as ``<UTC time> <message>`` lines."""
    # ECS lists the newest event first; reversed, a stable sort keeps events of the same time in their order.
    fresh = [
        event
        for event in reversed(service.get("events") or [])
        if since is None or (event.get("createdAt") and parse_timestamp(event["createdAt"]) > since)
    ]
    fresh.sort(
        key=lambda event: (
            parse_timestamp(event.get("createdAt")) or datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
        )
    )
    return [event_line(event) for event in fresh]


def _failure_events(events: Iterable[str], deployment_id: str | None) -> list[str]:
    """Events that report a failure or rollback of ``deployment_id`` (or of no deployment in particular)."""
    found = []
    for line in events:
        lowered = line.lower()
        if not any(word in lowered for word in _FAILURE_WORDS):
            continue
        if (
            deployment_id
            and "ecs-svc/" in lowered
            and deployment_id.lower() not in lowered
            and "rolling back" not in lowered
        ):
            continue  # about another deployment
        found.append(line)
    return found


# ---------------------------------------------------------------------------------------------- progress


def _plural(count: int, word: str) -> str:
    return "%d %s%s" % (count, word, "" if count == 1 else "s")


def progress_line(service: Mapping[str, Any], deployment: Mapping[str, Any] | None) -> str:
    """``rollout IN_PROGRESS: running 1/2, pending 1, 2 deployments`` (plus failed tasks when there are some)."""
    count = len(service.get("deployments") or [])
    if not deployment:
        return "rollout UNKNOWN: running %d/%d, pending %d, %s" % (
            int(service.get("runningCount") or 0),
            int(service.get("desiredCount") or 0),
            int(service.get("pendingCount") or 0),
            _plural(count, "deployment"),
        )
    line = "rollout %s: running %d/%d, pending %d, %s" % (
        deployment.get("rolloutState") or deployment.get("status") or "UNKNOWN",
        int(deployment.get("runningCount") or 0),
        int(deployment.get("desiredCount") or 0),
        int(deployment.get("pendingCount") or 0),
        _plural(count, "deployment"),
    )
    if int(deployment.get("failedTasks") or 0):
        line += ", %s" % _plural(int(deployment["failedTasks"]), "failed task")
    return line


def _is_complete(service: Mapping[str, Any], deployment: Mapping[str, Any]) -> bool:
    running_all = int(deployment.get("runningCount") or 0) == int(deployment.get("desiredCount") or 0)
    state = deployment.get("rolloutState")
    if state:
        return state == "COMPLETED" and running_all
    # No rollout state (older APIs): steady when the primary is the only deployment and runs everything.
    return running_all and len(service.get("deployments") or []) == 1


def assess(
    service: Mapping[str, Any],
    task_definition_arn: str,
    deployment_id: str | None,
    since: datetime.datetime | None,
) -> Assessment:
    """How the deployment ``deployment_id`` (of ``task_definition_arn``) is doing in ``service``.

    Failed when the deployment's rollout state is FAILED, when ECS replaced it (it is gone, or no longer PRIMARY,
    while the PRIMARY deployment runs another task definition: a circuit-breaker rollback or another update), or
    when new service events report its failure or a rollback. Done when it is the PRIMARY deployment, its rollout
    state is COMPLETED and it runs its desired count.
    """
    events = new_events(service, since)
    primary = primary_deployment(service)
    followed = find_deployment(service, deployment_id) if deployment_id else primary
    deployment = followed or primary or {}
    progress = progress_line(service, deployment)
    wanted = short_task_definition(task_definition_arn)

    def _failed(reason: str) -> Assessment:
        return Assessment(
            done=True, failed=True, progress=progress, deployment=deployment, events=events, reason=reason
        )

    if followed and followed.get("rolloutState") == "FAILED":
        reason = "the rollout of %s FAILED" % wanted
        if followed.get("rolloutStateReason"):
            reason += " (%s)" % followed["rolloutStateReason"]
        if primary and not same_task_definition(primary.get("taskDefinition"), task_definition_arn):
            reason += "; ECS is rolling the service back to %s" % short_task_definition(primary.get("taskDefinition"))
        return _failed(reason)
    primary_td = (primary or {}).get("taskDefinition")
    if primary and not same_task_definition(primary_td, task_definition_arn):
        deployment = primary
        progress = progress_line(service, primary)
        return _failed(
            "the deployment of %s was replaced or never started: the service now runs %s in its PRIMARY deployment (a "
            "deployment circuit-breaker rollback, or another update of the service)"
            % (wanted, short_task_definition(primary_td))
        )
    if deployment_id and followed is None:
        return _failed("the deployment %s of %s is gone from the service" % (deployment_id, wanted))
    failures = _failure_events(events, (followed or {}).get("id"))
    if failures:
        return _failed("ECS reports a failed deployment or a rollback: %s" % failures[-1])
    done = bool(followed) and followed.get("status") == "PRIMARY" and _is_complete(service, followed)
    return Assessment(done=done, failed=False, progress=progress, deployment=deployment, events=events)


# ---------------------------------------------------------------------------------------------- results


def images_of(task_definition: Mapping[str, Any] | None) -> dict[str, str]:
    """``{container name: image}`` of a task definition as DescribeTaskDefinition returns it."""
    return {
        item.get("name", ""): item.get("image", "")
        for item in (task_definition or {}).get("containerDefinitions") or []
    }


def diff_view(
    service: Mapping[str, Any], task_definition: Mapping[str, Any] | None, desired_count: int | None = None
) -> dict[str, Any]:
    """The compact before/after picture for ``diff``: revision, images, desired count."""
    return {
        "task_definition": short_task_definition(
            (task_definition or {}).get("taskDefinitionArn") or service.get("taskDefinition")
        ),
        "images": images_of(task_definition),
        "desired_count": service.get("desiredCount") if desired_count is None else desired_count,
    }


def service_result(service: Mapping[str, Any] | None) -> dict[str, Any]:
    """The snake_case ``service`` result, without its event log (new events are in ``events``)."""
    if not service:
        return {}
    body = {key: value for key, value in service.items() if key not in ("events", "tags", "ResponseMetadata")}
    return camel_dict_to_snake_dict(body)


def deployment_result(deployment: Mapping[str, Any] | None) -> dict[str, Any]:
    return camel_dict_to_snake_dict(dict(deployment)) if deployment else {}


def timeout_message(request: RolloutRequest, progress: str) -> str:
    return (
        "Timed out after wait_timeout=%ss waiting for the rollout of %s on ECS service %s (cluster %s); last progress: "
        "%s. The deployment goes on in ECS: run again to keep waiting, or raise wait_timeout. New service events are "
        "in 'events'."
        % (
            request.wait_timeout,
            short_task_definition(request.task_definition),
            request.service,
            request.cluster,
            progress,
        )
    )


def failure_message(request: RolloutRequest, assessment: Assessment, events: Sequence[str]) -> str:
    tail = list(events)[-5:]
    message = "Rollout of %s on ECS service %s (cluster %s) failed: %s. Last progress: %s." % (
        short_task_definition(request.task_definition),
        request.service,
        request.cluster,
        assessment.reason,
        assessment.progress,
    )
    if tail:
        message += " Service events: %s" % " | ".join(tail)
    return message
