# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: ECS service deployments that start on UpdateService and progress over time.

What moto (5.2) does
    ``CreateService`` gives the service one PRIMARY deployment whose running count is ``MOTO_ECS_SERVICE_RUNNING``
    (the emulator sets 1) and whose rolloutState is COMPLETED only if that number reaches the desired count, and it
    never changes afterwards. ``UpdateService`` with another task definition only rewrites the service's
    ``taskDefinition`` (with the string it was given, not the ARN); the deployment list keeps the old PRIMARY
    deployment on the old task definition, and ``forceNewDeployment`` only renames that deployment. A real wait for
    the new deployment's rollout would never end.

What AWS does (API reference: UpdateService, DescribeServices, Deployment, DeploymentCircuitBreaker;
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html and
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html)
    An update with a new task definition (or ``forceNewDeployment``) makes the running PRIMARY deployment ACTIVE and
    starts a new PRIMARY deployment (new id, counts 0, rolloutState IN_PROGRESS). The scheduler starts the new tasks
    and stops the old ones; the service events say "(service web) has started 2 tasks: ...". When the new deployment
    runs its desired count it becomes COMPLETED, the ACTIVE deployment disappears and the events say "(service web)
    (deployment ecs-svc/...) deployment completed." and "(service web) has reached a steady state.". With the
    deployment circuit breaker, a deployment whose tasks keep failing turns FAILED (failedTasks counts them); with
    rollback on, ECS starts a new PRIMARY deployment on the last COMPLETED task definition and sets the service's
    task definition back to it. A change of the desired count alone starts no deployment.

How this patch imitates it (only in the emulator process; ``scripts/emulator.py serve`` calls :func:`apply`)
    - ``UpdateService`` with a task definition other than the PRIMARY deployment's, or with ``forceNewDeployment``:
      the old PRIMARY deployment becomes ACTIVE and a new PRIMARY deployment starts (``ecs-svc/<digits>`` id,
      createdAt/updatedAt, counts 0, pending = desired, rolloutState IN_PROGRESS, event "has started N tasks").
      The service's ``taskDefinition`` is the ARN (as in AWS).
    - Every ``DescribeServices`` moves the deployments of the services it returns forward in time: over
      ``MEGAPOOL_EMULATOR_ECS_DEPLOY_SECONDS`` seconds (default 3; 0 = at the next read) the new deployment's
      running count grows to its desired count while the old deployment's shrinks; then the new one is COMPLETED,
      the old one is gone, and the "deployment completed" and "has reached a steady state" events are added.
      ``CreateService`` starts its first deployment the same way (from 0 running to COMPLETED), so the first deploy's
      wait ends too. A desired-count change alone moves the PRIMARY deployment's counts, without a new deployment.
    - The failure hook, deterministic and documented: a task definition with a container image whose reference
      contains ``emulator-fail`` (for example ``repo/web:1.4.2-emulator-fail``) never starts. Half-way through the
      deployment time its deployment turns FAILED (failedTasks = desired count, reason "ECS deployment circuit
      breaker: tasks failed to start.", event "deployment failed: tasks failed to start."), and, like the circuit
      breaker with rollback, a new PRIMARY deployment on the previous task definition starts ("rolling back to
      deploymentId ..." event) and completes as above; the service's task definition goes back. The emulator always
      rolls back (moto ignores the deployment configuration on create). A failing first deployment (CreateService)
      has nothing to roll back to: it stays FAILED.
    - Services of another deployment controller (CODE_DEPLOY, EXTERNAL: no deployments in moto) are left alone.
    - What the service was given: moto's ``CreateService`` drops ``deploymentConfiguration``,
      ``capacityProviderStrategy``, ``placementStrategy``, ``placementConstraints`` and
      ``healthCheckGracePeriodSeconds`` and answers ``launchType: EC2`` even for a capacity provider strategy; AWS's
      DescribeServices returns them as given, the deployment configuration with its defaults filled in (maximumPercent
      200, minimumHealthyPercent 100, circuit breaker off; API_DeploymentConfiguration,
      https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html) and no launch type
      when a capacity provider strategy is used (API_Service,
      https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Service.html). The patch keeps them on the
      service, so a drift check against DescribeServices sees what AWS would show.

:func:`installed` applies the patch for the duration of a ``with`` block (tests); :func:`remove` undoes it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import threading
import time
import uuid
from typing import Any
from typing import Callable
from typing import Iterator

from . import ecs_dataplane
from .patching import MethodPatches

DEPLOY_SECONDS_ENV = "MEGAPOOL_EMULATOR_ECS_DEPLOY_SECONDS"
DEFAULT_DEPLOY_SECONDS = 3.0
FAIL_MARK = "emulator-fail"
# AWS keeps the last 100 events of a service.
MAX_EVENTS = 100

# The clock of the deployments (tests replace it).
_clock: Callable[[], float] = time.monotonic
_LOCK = threading.RLock()
# deployment id -> how it progresses: start (clock), from_running, rollback_to (deployment dict or None), rollback (bool)
_TRACKED: dict[str, dict[str, Any]] = {}


def _deploy_seconds() -> float:
    try:
        return max(float(os.environ.get(DEPLOY_SECONDS_ENV) or DEFAULT_DEPLOY_SECONDS), 0.0)
    except ValueError:
        return DEFAULT_DEPLOY_SECONDS


def _now():
    from moto.core.utils import utcnow  # pylint: disable=import-outside-toplevel

    return utcnow()


def _new_id() -> str:
    return "ecs-svc/%019d" % random.randrange(10**18, 10**19)


def _event(service: Any, message: str) -> None:
    service.events.insert(
        0, {"id": str(uuid.uuid4()), "createdAt": _now(), "message": "(service %s) %s" % (service.name, message)}
    )
    del service.events[MAX_EVENTS:]


def _primary(service: Any) -> dict[str, Any] | None:
    return next((item for item in service.deployments if item.get("status") == "PRIMARY"), None)


def _fails(backend: Any, task_definition_arn: str | None) -> bool:
    if not task_definition_arn:
        return False
    try:
        definition = backend.describe_task_definition(task_definition_arn)
    except Exception:  # pylint: disable=broad-except
        return False
    return any(FAIL_MARK in str(item.get("image", "")) for item in definition.container_definitions or [])


def _sync_counts(service: Any) -> None:
    service.running_count = sum(int(item.get("runningCount") or 0) for item in service.deployments)
    service.pending_count = sum(int(item.get("pendingCount") or 0) for item in service.deployments)


def _task_ids(count: int) -> str:
    return " ".join("(task %s)" % uuid.uuid4().hex for _index in range(count))


def _start_deployment(
    service: Any,
    template: dict[str, Any],
    task_definition: str,
    rollback_to: dict | None,
    reason: str | None = None,
    from_running: int = 0,
    rollback: bool = False,
) -> dict[str, Any]:
    """A new PRIMARY deployment (IN_PROGRESS) at the head of the service's deployments."""
    now = _now()
    deployment = dict(template)
    deployment_id = _new_id()
    desired = int(service.desired_count or 0)
    deployment.update(
        id=deployment_id,
        status="PRIMARY",
        taskDefinition=task_definition,
        desiredCount=desired,
        runningCount=from_running,
        pendingCount=max(desired - from_running, 0),
        failedTasks=0,
        rolloutState="IN_PROGRESS",
        rolloutStateReason=reason or "ECS deployment %s in progress." % deployment_id,
        createdAt=now,
        updatedAt=now,
    )
    service.deployments.insert(0, deployment)
    _TRACKED[deployment_id] = dict(
        start=_clock(), from_running=from_running, rollback_to=rollback_to, rollback=rollback
    )
    # a local release's tasks are real: the scheduler writes their events
    if desired > from_running and not ecs_dataplane.is_local_service(service._backend, service):  # pylint: disable=protected-access
        _event(service, "has started %d tasks: %s." % (desired - from_running, _task_ids(desired - from_running)))
    return deployment


def _complete(service: Any, deployment: dict[str, Any]) -> None:
    desired = int(deployment.get("desiredCount") or 0)
    deployment.update(
        runningCount=desired,
        pendingCount=0,
        rolloutState="COMPLETED",
        updatedAt=_now(),
        rolloutStateReason="ECS deployment %s completed." % deployment["id"],
    )
    service.deployments[:] = [deployment]
    _TRACKED.pop(deployment["id"], None)
    _event(service, "(deployment %s) deployment completed." % deployment["id"])
    _event(service, "has reached a steady state.")


def _fail(service: Any, deployment: dict[str, Any], tracked: dict[str, Any]) -> None:
    """The circuit breaker: FAILED, then (when there is a previous deployment) a rollback deployment."""
    desired = int(deployment.get("desiredCount") or 0)
    deployment.update(
        runningCount=0,
        pendingCount=0,
        failedTasks=max(desired, 1),
        rolloutState="FAILED",
        updatedAt=_now(),
        rolloutStateReason="ECS deployment circuit breaker: tasks failed to start.",
    )
    _TRACKED.pop(deployment["id"], None)
    _event(service, "(deployment %s) deployment failed: tasks failed to start." % deployment["id"])
    previous = tracked.get("rollback_to")
    if not previous:
        return
    deployment["status"] = "ACTIVE"
    # The rollback deployment takes over the tasks of the deployment it returns to.
    service.deployments[:] = [item for item in service.deployments if item is not previous]
    service.task_definition = previous["taskDefinition"]
    _event(
        service,
        "(deployment %s) deployment circuit breaker: rolling back to deploymentId %s."
        % (deployment["id"], previous["id"]),
    )
    _start_deployment(
        service,
        previous,
        previous["taskDefinition"],
        None,
        reason="ECS deployment circuit breaker: rolling back to deploymentId %s." % previous["id"],
        from_running=min(int(previous.get("runningCount") or 0), int(service.desired_count or 0)),
        rollback=True,
    )


def _advance(backend: Any, service: Any) -> None:
    """Move the service's tracked PRIMARY deployment forward to now (a local release's: the ECS data plane does)."""
    if ecs_dataplane.is_local_service(backend, service):
        return
    primary = _primary(service)
    tracked = _TRACKED.get(primary["id"]) if primary else None
    if not tracked:
        return
    seconds = _deploy_seconds()
    elapsed = _clock() - tracked["start"]
    fraction = 1.0 if seconds <= 0 else min(elapsed / seconds, 1.0)
    if not tracked["rollback"] and _fails(backend, primary.get("taskDefinition")):
        if fraction >= 0.5:
            _fail(service, primary, tracked)
            _advance(backend, service)  # the rollback deployment (0 s: completes at once)
        return
    desired = int(primary.get("desiredCount") or 0)
    start = tracked["from_running"]
    running = start + int((desired - start) * fraction)
    if fraction >= 1.0 or (
        desired == start and primary.get("rolloutState") == "IN_PROGRESS" and not service.deployments[1:]
    ):
        _complete(service, primary)
    else:
        primary.update(runningCount=running, pendingCount=max(desired - running, 0), updatedAt=_now())
        for item in service.deployments:
            if item is not primary and item.get("rolloutState") != "FAILED":
                item["runningCount"] = max(min(int(item.get("desiredCount") or 0), desired - running), 0)
                item["pendingCount"] = 0
    _sync_counts(service)


# ---------------------------------------------------------------------------------------------- the patched calls


def _create_service(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def create_service(self: Any, *args: Any, **kwargs: Any) -> Any:
        service = original(self, *args, **kwargs)
        with _LOCK:
            primary = _primary(service)
            if primary is None:
                return service
            service.deployments.remove(primary)
            _start_deployment(service, primary, service.task_definition, None)
            _advance(self, service)
        return service

    return create_service


def _update_service(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def update_service(self: Any, service_properties: dict[str, Any]) -> Any:
        properties = dict(service_properties)
        force = bool(properties.pop("force_new_deployment", False))
        service = self._get_service(
            properties.get("cluster", "default"), str(properties.get("service", "")).rsplit("/", maxsplit=1)[-1]
        )
        wanted = properties.get("task_definition")
        wanted_arn = self.describe_task_definition(wanted).arn if wanted else None  # fails before any change
        with _LOCK:
            _advance(self, service)
            updated = original(self, properties)
            if wanted_arn:
                updated.task_definition = wanted_arn
            primary = _primary(updated)
            if primary is None:
                return updated
            if force or (wanted_arn and wanted_arn != primary.get("taskDefinition")):
                tracked = _TRACKED.get(primary["id"])
                rollback_to = (
                    primary if primary.get("rolloutState") == "COMPLETED" else (tracked or {}).get("rollback_to")
                )
                primary["status"] = "ACTIVE"
                _start_deployment(updated, primary, updated.task_definition, rollback_to)
            elif int(primary.get("desiredCount") or 0) != int(updated.desired_count or 0):
                primary["desiredCount"] = int(updated.desired_count or 0)
                tracked = _TRACKED.get(primary["id"])
                if tracked is None:
                    _TRACKED[primary["id"]] = dict(
                        start=_clock(),
                        from_running=min(int(primary.get("runningCount") or 0), primary["desiredCount"]),
                        rollback_to=None,
                        rollback=True,
                    )
            _advance(self, updated)
            _sync_counts(updated)
        return updated

    return update_service


def _describe_services(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def describe_services(self: Any, *args: Any, **kwargs: Any) -> Any:
        services, failures = original(self, *args, **kwargs)
        with _LOCK:
            for service in services:
                _advance(self, service)
        return services, failures

    return describe_services


# CreateService parameters moto's handler does not pass on, and the Service attribute each is answered from.
KEPT_PARAMETERS = {
    "deploymentConfiguration": "deployment_configuration",
    "capacityProviderStrategy": "capacity_provider_strategy",
    "placementStrategy": "placement_strategy",
    "placementConstraints": "placement_constraints",
    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
}
DEPLOYMENT_DEFAULTS = {
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
}


def deployment_configuration(given: dict[str, Any] | None) -> dict[str, Any]:
    """The deploymentConfiguration DescribeServices shows for what CreateService was given (AWS's defaults filled in)."""
    result = {key: (dict(value) if isinstance(value, dict) else value) for key, value in DEPLOYMENT_DEFAULTS.items()}
    for key, value in (given or {}).items():
        result[key] = dict(result.get(key) or {}, **value) if isinstance(value, dict) else value
    return result


def _create_service_response(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def create_service(self: Any, *args: Any, **kwargs: Any) -> Any:
        answer = original(self, *args, **kwargs)
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("serviceName"))  # pylint: disable=protected-access
        for parameter, attribute in KEPT_PARAMETERS.items():
            value = self._get_param(parameter)
            if parameter == "deploymentConfiguration":
                value = deployment_configuration(value)
            if value is not None:
                setattr(service, attribute, value)
        if self._get_param("capacityProviderStrategy") and not self._get_param("launchType"):
            service.launch_type = None  # AWS: a service on capacity providers has no launch type
            for deployment in service.deployments:
                deployment.pop("launchType", None)
                deployment["capacityProviderStrategy"] = self._get_param("capacityProviderStrategy")
        return answer

    return create_service


# Other extensions wrap UpdateService (ecs_blue_green) and may wrap the others: the wrappers chain, each recognised by
# its own mark (patching.MethodPatches; moto imported at the first apply()).
_ECS = "moto.ecs.models:EC2ContainerServiceBackend"
_PATCHES = MethodPatches(
    (
        (_ECS, "create_service", _create_service),
        (_ECS, "update_service", _update_service),
        (_ECS, "describe_services", _describe_services),
        ("moto.ecs.responses:EC2ContainerServiceResponse", "create_service", _create_service_response),
    )
)
apply, applied = _PATCHES.apply, _PATCHES.applied  # apply() is idempotent


def restore() -> None:
    """Undo :func:`apply` (tests); a method another extension wrapped afterwards keeps the chain."""
    _PATCHES.restore()
    _TRACKED.clear()


remove = restore  # the name older tests use


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """The patch for the duration of a ``with`` block."""
    apply()
    try:
        yield
    finally:
        restore()
