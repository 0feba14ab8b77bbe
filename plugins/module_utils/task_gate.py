# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning for a gate task (module ``ecs_task_gate``): run one ECS task, follow it, judge its end. No I/O.

- :func:`validate_gate` turns the module options into a :class:`GateRequest` or raises :class:`GateError`
  naming the option and the fix;
- :func:`run_task_params` builds the ``RunTask`` request;
- :func:`log_location` finds the awslogs stream of the task's container (``<prefix>/<container>/<task id>``);
- :func:`task_view` is the snake_case record of a task the module returns (and a later poll compares with);
  :func:`gate_state`, :func:`progress_line`, :func:`task_events` follow it poll by poll;
- :func:`failure_message` and :func:`timeout_message` explain a gate that failed, with the exit code, the stop
  reason and the tail of the container's log.
"""

from __future__ import annotations

import datetime
import json
import re

from dataclasses import dataclass
from typing import Any
from typing import Mapping
from typing import Sequence

# RunTask's startedBy: up to 128 letters, numbers, hyphens, forward slashes and underscores (botocore's ECS model,
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html); anything else is refused by the API.
STARTED_BY_MAX = 128
_STARTED_BY_BAD = re.compile(r"[^A-Za-z0-9_/-]+")
# What ECS answers while a just-created role is not usable yet (IAM is eventually consistent:
# https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
ROLE_NOT_READY = "unable to assume the role"

# The task's lastStatus once it has ended (ECS task lifecycle).
STOPPED = "STOPPED"
# gate_state() values.
RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"


class GateError(ValueError):
    """Options the module refuses; the message names the option and the fix."""


@dataclass(frozen=True)
class GateRequest:
    """What to run (or follow) and how long to wait."""

    cluster: str
    task_definition: str
    container: str | None
    command: tuple[str, ...] | None
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    assign_public_ip: bool
    capacity_provider_strategy: tuple[Mapping[str, Any], ...]
    launch_type: str | None
    started_by: str
    task_arn: str | None
    wait: bool
    wait_timeout: int
    poll_interval: float
    log_lines: int
    stop_on_timeout: bool
    role_wait_timeout: int = 60
    check_image: bool = True


def started_by_mark(value: str) -> str:
    """``value`` as RunTask accepts it: each run of other characters becomes '-', at most 128 characters."""
    mark = _STARTED_BY_BAD.sub("-", value).strip("-")[:STARTED_BY_MAX]
    return mark or "megapool-aws-ecs_task_gate"


def role_not_ready(message: str) -> bool:
    """True for ECS's answer while the execution or task role cannot be assumed yet (retry, it propagates)."""
    return ROLE_NOT_READY in (message or "").lower()


def validate_gate(params: Mapping[str, Any]) -> GateRequest:
    """The request the options describe; raises GateError naming the first option that is wrong, and the fix."""
    if params.get("command") is not None and not [word for word in params["command"] if str(word).strip()]:
        raise GateError(
            "command is empty: give the command that runs the task's job (e.g. [bin/shop, eval, 'Shop.Release.migrate()']), "
            "or leave it out to run the task definition's own command"
        )
    if params["wait_timeout"] < 0:
        raise GateError("wait_timeout=%s: give the seconds to wait at most, 0 or more" % params["wait_timeout"])
    if params["poll_interval"] <= 0:
        raise GateError("poll_interval=%s: give the seconds between two polls, more than 0" % params["poll_interval"])
    if int(params.get("role_wait_timeout", 60)) < 0:
        raise GateError(
            "role_wait_timeout=%s: give the seconds to wait for a new role to be usable, 0 or more"
            % params["role_wait_timeout"]
        )
    if params["log_lines"] < 0:
        raise GateError("log_lines=%s: give how many log lines to show on failure, 0 or more" % params["log_lines"])
    network = params.get("network_configuration") or {}
    if network.get("security_groups") and not network.get("subnets"):
        raise GateError(
            "network_configuration.security_groups needs network_configuration.subnets: list the subnets the task runs in"
        )
    strategy = tuple(
        {"capacityProvider": item["capacity_provider"], "weight": item.get("weight", 1), "base": item.get("base", 0)}
        for item in params.get("capacity_provider_strategy") or []
    )
    if strategy and params.get("launch_type"):
        raise GateError("capacity_provider_strategy and launch_type exclude each other: set one of them")
    return GateRequest(
        cluster=params["cluster"],
        task_definition=params["task_definition"],
        container=params.get("container"),
        command=tuple(params["command"]) if params.get("command") is not None else None,
        subnets=tuple(network.get("subnets") or ()),
        security_groups=tuple(network.get("security_groups") or ()),
        assign_public_ip=bool(network.get("assign_public_ip")),
        capacity_provider_strategy=strategy,
        launch_type=params.get("launch_type"),
        started_by=started_by_mark(params.get("started_by") or ""),
        task_arn=params.get("task_arn"),
        wait=params["wait"],
        wait_timeout=params["wait_timeout"],
        poll_interval=params["poll_interval"],
        log_lines=params["log_lines"],
        stop_on_timeout=params["stop_on_timeout"],
        role_wait_timeout=int(params.get("role_wait_timeout", 60)),
        check_image=bool(params.get("check_image", True)),
    )


def run_task_params(request: GateRequest, container: str) -> dict[str, Any]:
    """The RunTask request of the gate (one task)."""
    params: dict[str, Any] = {
        "cluster": request.cluster,
        "taskDefinition": request.task_definition,
        "count": 1,
        "startedBy": started_by_mark(request.started_by),
    }
    if request.command is not None:
        params["overrides"] = {"containerOverrides": [{"name": container, "command": list(request.command)}]}
    if request.subnets:
        params["networkConfiguration"] = {
            "awsvpcConfiguration": {
                "subnets": list(request.subnets),
                "securityGroups": list(request.security_groups),
                "assignPublicIp": "ENABLED" if request.assign_public_ip else "DISABLED",
            }
        }
    if request.capacity_provider_strategy:
        params["capacityProviderStrategy"] = [dict(item) for item in request.capacity_provider_strategy]
    elif request.launch_type:
        params["launchType"] = request.launch_type
    return params


def pick_container(definition: Mapping[str, Any], name: str | None) -> Mapping[str, Any] | None:
    """The container definition named ``name`` (the first essential one when None); None when there is no such."""
    containers = definition.get("containerDefinitions") or []
    if name:
        return next((item for item in containers if item.get("name") == name), None)
    return next((item for item in containers if item.get("essential", True)), containers[0] if containers else None)


def log_location(container: Mapping[str, Any], task_id: str, region: str) -> dict[str, str] | None:
    """Where the awslogs driver writes the container's output (group, stream, region); None without awslogs."""
    config = container.get("logConfiguration") or {}
    options = config.get("options") or {}
    if config.get("logDriver") != "awslogs" or not options.get("awslogs-group"):
        return None
    prefix = options.get("awslogs-stream-prefix")
    stream = "%s/%s/%s" % (prefix, container.get("name"), task_id) if prefix else task_id
    return {"group": options["awslogs-group"], "stream": stream, "region": options.get("awslogs-region") or region}


def task_view(raw: Mapping[str, Any], container: str | None) -> dict[str, Any]:
    """The snake_case record of a task as DescribeTasks/RunTask return it, with the gate container's exit code."""
    containers = raw.get("containers") or []
    chosen = next((item for item in containers if item.get("name") == container), containers[0] if containers else {})
    arn = raw.get("taskArn", "")
    return {
        "task_arn": arn,
        "task_id": arn.rsplit("/", 1)[-1],
        "task_definition_arn": raw.get("taskDefinitionArn"),
        "last_status": raw.get("lastStatus"),
        "desired_status": raw.get("desiredStatus"),
        "container": chosen.get("name"),
        "container_status": chosen.get("lastStatus"),
        "exit_code": chosen.get("exitCode"),
        "container_reason": chosen.get("reason"),
        "stop_code": raw.get("stopCode"),
        "stopped_reason": raw.get("stoppedReason") or None,
        "created_at": _iso(raw.get("createdAt")),
        "stopped_at": _iso(raw.get("stoppedAt")),
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime.datetime) else (value or None)


def task_age(view: Mapping[str, Any], now: datetime.datetime, fallback: float) -> float:
    """Seconds from the task's creation to its stop (or to ``now``): the same figure on every call of the module,
    unlike the time since the call started (``fallback``, used when the task has no creation time)."""
    if not view.get("created_at"):
        return fallback
    created = datetime.datetime.fromisoformat(view["created_at"])
    end = datetime.datetime.fromisoformat(view["stopped_at"]) if view.get("stopped_at") else now
    if created.tzinfo is None:
        created = created.replace(tzinfo=datetime.timezone.utc)
    if end.tzinfo is None:
        end = end.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, (end - created).total_seconds())


def gate_state(view: Mapping[str, Any]) -> str:
    """running until the task is STOPPED; then succeeded on exit code 0, else failed."""
    if view.get("last_status") != STOPPED:
        return RUNNING
    return SUCCEEDED if view.get("exit_code") == 0 else FAILED


def progress_line(view: Mapping[str, Any], elapsed: float) -> str:
    """One line on the task, e.g. ``task 5f2c… RUNNING (desired RUNNING) after 12s``."""
    line = "task %s %s (desired %s) after %ds" % (
        view.get("task_id"),
        view.get("last_status"),
        view.get("desired_status"),
        int(elapsed),
    )
    if view.get("last_status") == STOPPED:
        line += ", exit code %s" % ("none" if view.get("exit_code") is None else view["exit_code"])
        if view.get("stopped_reason"):
            line += ": %s" % view["stopped_reason"]
    return line


def task_events(before: Mapping[str, Any] | None, after: Mapping[str, Any], elapsed: float) -> list[str]:
    """Human-readable events between two views of the task (its start, each status change)."""
    if before is None:
        return ["%ds: task %s started (%s)" % (int(elapsed), after.get("task_id"), after.get("last_status"))]
    if before.get("last_status") != after.get("last_status"):
        return [
            "%ds: task %s %s -> %s"
            % (int(elapsed), after.get("task_id"), before.get("last_status"), after.get("last_status"))
        ]
    return []


def _tail(lines: Sequence[str], where: Mapping[str, str] | None) -> str:
    if where is None:
        return "No log lines: the container does not use the awslogs log driver."
    if not lines:
        return "No log lines in %s %s." % (where["group"], where["stream"])
    return "Last %d log lines (%s %s):\n%s" % (len(lines), where["group"], where["stream"], "\n".join(lines))


def failure_message(
    view: Mapping[str, Any], task_definition: str, lines: Sequence[str], where: Mapping[str, str] | None
) -> str:
    """Why a stopped gate task failed: exit code (or none), the stop code and reason, the log tail."""
    code = view.get("exit_code")
    what = (
        "exited with code %s" % code if code is not None else "stopped without an exit code (the container did not run)"
    )
    reasons = [
        text for text in (view.get("stop_code"), view.get("stopped_reason"), view.get("container_reason")) if text
    ]
    return "Gate task %s (%s) %s%s. %s" % (
        view.get("task_id"),
        task_definition,
        what,
        ": " + "; ".join(reasons) if reasons else "",
        _tail(lines, where),
    )


def timeout_message(
    view: Mapping[str, Any],
    task_definition: str,
    wait_timeout: int,
    stopped: bool,
    lines: Sequence[str],
    where: Mapping[str, str] | None,
) -> str:
    """A gate task that did not stop within wait_timeout."""
    return (
        "Gate task %s (%s) did not stop within wait_timeout=%ds (last status %s)%s. Raise wait_timeout if the job needs longer. %s"
        % (
            view.get("task_id"),
            task_definition,
            wait_timeout,
            view.get("last_status"),
            "; it was stopped (StopTask)" if stopped else "; it keeps running (stop_on_timeout=false)",
            _tail(lines, where),
        )
    )


# --- the image, before the task starts --------------------------------------------------------------------------------

# A private ECR image reference: <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:<tag>][@sha256:<digest>].
_ECR_IMAGE = re.compile(
    r"^(?P<registry>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repository>[^:@]+)"
    r"(?::(?P<tag>[^@]+))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
# runtimePlatform.cpuArchitecture -> the OCI platform architecture of an image index
# (https://github.com/opencontainers/image-spec/blob/main/image-index.md).
OCI_ARCHITECTURE = {"X86_64": "amd64", "ARM64": "arm64"}
# What BatchGetImage may answer with (image indexes first, so a multi-platform image shows its platforms).
MANIFEST_MEDIA_TYPES = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
]


def ecr_image(image: str) -> dict[str, Any] | None:
    """Registry, region, repository and image id (tag or digest) of a private ECR image; None for any other image."""
    match = _ECR_IMAGE.match(image or "")
    if not match:
        return None
    image_id = {"imageDigest": match["digest"]} if match["digest"] else {"imageTag": match["tag"] or "latest"}
    return {
        "registry": match["registry"],
        "region": match["region"],
        "repository": match["repository"],
        "image_id": image_id,
    }


def manifest_architectures(manifest: str | None) -> list[str] | None:
    """The architectures of an image index / manifest list (attestation entries, platform unknown/unknown, left out);
    None for a single-platform manifest (its architecture is in the config blob, not in the manifest)."""
    try:
        parsed = json.loads(manifest or "")
    except ValueError:
        return None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("manifests"), list):
        return None
    found = []
    for entry in parsed["manifests"]:
        platform = entry.get("platform") or {}
        if platform.get("os") in (None, "unknown") or platform.get("architecture") in (None, "unknown"):
            continue
        if platform["architecture"] not in found:
            found.append(platform["architecture"])
    return found


def image_errors(
    image: str, where: Mapping[str, Any], found: bool, architectures: Sequence[str] | None, cpu_architecture: str | None
) -> list[str]:
    """Why the gate's image cannot run: not pushed yet, or built for other architectures than the task's."""
    if not found:
        return [
            "image %s is not in ECR (repository %s of account %s in %s): push it before deploying, e.g. `aws ecr"
            " get-login-password --region %s | docker login --username AWS --password-stdin %s.dkr.ecr.%s.amazonaws.com`"
            ' then `docker push %s` (docs/deploy.md, "Images"); ECS would only stop the task with CannotPullContainerError'
            % (
                image,
                where["repository"],
                where["registry"],
                where["region"],
                where["region"],
                where["registry"],
                where["region"],
                image,
            )
        ]
    wanted = OCI_ARCHITECTURE.get(cpu_architecture or "")
    if wanted and architectures is not None and wanted not in architectures:
        return [
            "image %s is built for %s, but the task definition runs on %s (runtimePlatform: the ECS hosts' architecture):"
            " build it for linux/%s (docker buildx build --platform linux/%s ...) or choose hosts of its architecture"
            % (
                image,
                ", ".join("linux/%s" % arch for arch in architectures) or "no platform",
                cpu_architecture,
                wanted,
                wanted,
            )
        ]
    return []
