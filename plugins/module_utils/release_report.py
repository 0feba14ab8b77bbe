# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each region runs after a deploy or a rollback, for set_stats (AWX workflow artifacts, docs/awx.md).

Pure functions over what ``community.aws.ecs_service_info`` (``details: true``, ECS DescribeServices as AWS returns
it) and ``community.aws.ecs_taskdefinition_info`` (DescribeTaskDefinition, snake_cased) registered in
``roles/release/tasks/report.yml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The release role puts the version into the app container's environment (roles/release/vars/main.yml).
VERSION_VARIABLE = "RELEASE_VERSION"

EMPTY_REGION: dict[str, Any] = {
    "service": None,
    "status": None,
    "task_definition": None,
    "task_definition_arn": None,
    "image": None,
    "version": None,
    "rollout_state": None,
    "running_count": None,
    "desired_count": None,
}


def _active_service(result: Mapping) -> Mapping | None:
    for service in result.get("services") or []:
        if isinstance(service, Mapping) and service.get("status") == "ACTIVE":
            return service
    return None


def _primary(service: Mapping) -> Mapping:
    """The PRIMARY deployment (the one ECS rolls towards; a rollback makes the old revision PRIMARY again)."""
    for deployment in service.get("deployments") or []:
        if deployment.get("status") == "PRIMARY":
            return deployment
    return {}


def _container(task_definition: Mapping) -> Mapping:
    """The app's container: the one carrying RELEASE_VERSION, else the first one."""
    containers = [c for c in task_definition.get("container_definitions") or [] if isinstance(c, Mapping)]
    for container in containers:
        if any(e.get("name") == VERSION_VARIABLE for e in container.get("environment") or []):
            return container
    return containers[0] if containers else {}


def _version(container: Mapping) -> str | None:
    for variable in container.get("environment") or []:
        if variable.get("name") == VERSION_VARIABLE:
            return variable.get("value")
    return None


def release_report(
    regions: list[str], services: list[Mapping], task_definitions: list[Mapping], canary: str | None
) -> dict[str, Any]:
    """``{canary_region, regions: {region: {...}}}``: every region of ``regions``, None where nothing is known.

    ``services``: the results of the ecs_service_info loop (``item`` = region); ``task_definitions``: those of the
    ecs_taskdefinition_info loop (``item`` = the service result; skipped where the region has no ACTIVE service)."""
    by_region: dict[str, dict[str, Any]] = {region: dict(EMPTY_REGION) for region in regions}
    for result in services or []:
        region = result.get("item")
        service = _active_service(result)
        if region not in by_region or service is None:
            continue
        primary = _primary(service)
        by_region[region].update(
            service=service.get("serviceName"),
            status=service.get("status"),
            task_definition_arn=primary.get("taskDefinition") or service.get("taskDefinition"),
            rollout_state=primary.get("rolloutState"),
            running_count=service.get("runningCount"),
            desired_count=service.get("desiredCount"),
        )
    for result in task_definitions or []:
        if result.get("skipped") or result.get("revision") is None:
            continue
        region = (result.get("item") or {}).get("item")
        if region not in by_region:
            continue
        container = _container(result)
        by_region[region].update(
            task_definition="%s:%s" % (result.get("family"), result.get("revision")),
            image=container.get("image"),
            version=_version(container),
        )
    return {"canary_region": canary, "regions": by_region}
