# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: standalone ECS tasks (``RunTask``) run for a while, then stop with an exit code.

What AWS does (ECS API reference: RunTask, DescribeTasks; "Amazon ECS task lifecycle"): a task started by
``RunTask`` is placed on capacity (with a capacity-provider strategy, managed scaling launches an instance when none
is free; the task waits in ``PROVISIONING``), runs its containers, and when the essential container exits the task
goes ``STOPPED`` with ``stopCode=EssentialContainerExited``, ``stoppedReason="Essential container in task exited"``,
``stoppedAt`` and the container's ``exitCode``. With the ``awslogs`` log driver the container's output lands in the
stream ``<awslogs-stream-prefix>/<container name>/<task id>`` of ``awslogs-group``.

What moto 5 does: ``RunTask`` raises (HTTP 500, "No instances found in cluster") when no container instance is
registered, which is always the case on the emulator (EC2 instances of an Auto Scaling group never register with
ECS); a placed task walks one lifecycle step per ``DescribeTasks`` call (its state manager ``ecs::task``, default
"manual, 1 tick"), so it is ``STOPPED`` after four polls whatever it runs, with the container's ``exitCode`` 0 from
the start and its ``lastStatus`` ``PENDING`` forever; nothing is written to CloudWatch Logs. A migration gate
would therefore always pass and the failure path could never run locally.

How this patch imitates AWS (emulator process only, never the unit tests):

- ``RunTask`` on an EC2 cluster without container instances places the tasks without an instance (like managed
  scaling would, eventually), with ``launchType`` ``EC2`` and the strategy's capacity provider; a cluster with
  registered instances keeps moto's placement;
- every task started by ``RunTask`` is ``RUNNING`` (container ``RUNNING``, no ``exitCode``) for
  ``MEGAPOOL_EMULATOR_ECS_TASK_SECONDS`` seconds (default 2; wall clock, not poll count), then ``STOPPED`` as
  above with exit code 0;
- a deterministic failure hook, read from the container's command (the ``containerOverrides`` command of the
  first container, else the task definition's): a word ``emulator-exit=N`` makes it exit with code ``N``;
  ``emulator-hang`` makes it run until ``StopTask``. Real images never see these words; they only exist to run
  the failure paths (non-zero exit, timeout) of the code that waits for tasks;
- with an ``awslogs`` log configuration whose group exists, the task writes two lines to its stream
  (``<prefix>/<container>/<task id>``): the command it runs when it starts, and its exit code when it stops;
- ``StopTask`` keeps moto's behaviour (and wins over the timer).
"""

from __future__ import annotations

import functools
import os
import re
import time
from datetime import datetime
from datetime import timezone
from typing import Any
from typing import Callable

from . import ecs_dataplane
from .patching import MethodPatches

DEFAULT_SECONDS = 2.0
SECONDS_ENV = "MEGAPOOL_EMULATOR_ECS_TASK_SECONDS"
_EXIT_RE = re.compile(r"(?:^|\s)emulator-exit=(\d+)(?:\s|$)")
_HANG_RE = re.compile(r"(?:^|\s)emulator-hang(?:\s|$)")
# The attribute that marks a task started through the patched RunTask.
_MARK = "_megapool_run"
_STOPPED_REASON = "Essential container in task exited"


def task_seconds() -> float:
    """How long a RunTask task runs, from ``MEGAPOOL_EMULATOR_ECS_TASK_SECONDS`` (default 2)."""
    try:
        return max(float(os.environ.get(SECONDS_ENV) or DEFAULT_SECONDS), 0.0)
    except ValueError:
        return DEFAULT_SECONDS


def outcome(command: list[str] | None) -> int | None:
    """The exit code a container with this command ends with on the emulator; None: it never ends by itself."""
    text = " ".join(command or [])
    if _HANG_RE.search(text):
        return None
    found = _EXIT_RE.search(text)
    return int(found.group(1)) if found else 0


def _command(task: Any, container_definition: dict[str, Any]) -> list[str]:
    for override in (task.overrides or {}).get("containerOverrides") or []:
        if override.get("name") == container_definition.get("name") and override.get("command"):
            return list(override["command"])
    return list(container_definition.get("command") or [])


def _log(task: Any, message: str) -> None:
    """One line in the task's awslogs stream, when the task definition logs there and the group exists."""
    from moto.logs.models import logs_backends  # pylint: disable=import-outside-toplevel

    run = getattr(task, _MARK)
    config = run["log"]
    if not config:
        return
    try:
        backend = logs_backends[task._account_id][config["region"]]  # pylint: disable=protected-access
        if config["group"] not in backend.groups:
            return
        group = backend.groups[config["group"]]
        if config["stream"] not in group.streams:
            group.create_log_stream(config["stream"])
        group.put_log_events(config["stream"], [{"timestamp": int(time.time() * 1000), "message": message}])
    except Exception:  # pylint: disable=broad-except
        return  # a log line is a courtesy; never break the task for it


def _log_config(task: Any, container_definition: dict[str, Any]) -> dict[str, str] | None:
    config = container_definition.get("logConfiguration") or {}
    options = config.get("options") or {}
    if config.get("logDriver") != "awslogs" or not options.get("awslogs-group"):
        return None
    prefix = options.get("awslogs-stream-prefix")
    stream = "%s/%s/%s" % (prefix, container_definition.get("name"), task.id) if prefix else task.id
    return {
        "group": options["awslogs-group"],
        "region": options.get("awslogs-region") or task.region_name,
        "stream": stream,
    }


def start(backend: Any, task: Any) -> None:
    """Mark a task started by RunTask: RUNNING now, STOPPED with its exit code after the configured seconds.

    A task of a local release (``megapool.local/`` image) really runs instead (``ecs_dataplane``).
    """
    if ecs_dataplane.start_task(backend, task) is not None:
        return
    definition = backend.describe_task_definition(task.task_definition_arn)
    container_definition = definition.container_definitions[0]
    command = _command(task, container_definition)
    setattr(
        task,
        _MARK,
        {
            "stop_at": time.monotonic() + task_seconds(),
            "exit": outcome(command),
            "log": _log_config(task, container_definition),
        },
    )
    task.status = "RUNNING"
    task.started_at = datetime.now(timezone.utc)
    for container in task.containers:
        container.last_status = "RUNNING"
        container.exitCode = None
    _log(task, "emulator: task %s started: %s" % (task.id, " ".join(command) or "(image default command)"))


def _finish(task: Any) -> None:
    run = getattr(task, _MARK)
    run["done"] = True
    task.status = "STOPPED"
    task.desired_status = "STOPPED"
    task.stopped_reason = _STOPPED_REASON
    task.stop_code = "EssentialContainerExited"
    task.stopped_at = datetime.now(timezone.utc)
    for container in task.containers:
        container.last_status = "STOPPED"
        container.exitCode = run["exit"]
    _log(task, "emulator: task %s exited with code %d" % (task.id, run["exit"]))


def advance(task: Any) -> None:
    """Stop a marked task whose time has come (before anything of it is read, so one answer is consistent)."""
    run = getattr(task, _MARK, None)
    if run is None or run.get("done") or task.desired_status == "STOPPED" or run["exit"] is None:
        return
    if time.monotonic() >= run["stop_at"]:
        _finish(task)


def _last_status(original: property) -> property:
    """Task.lastStatus: a marked task's own status; any other task keeps moto's state manager."""

    def current_status(task: Any) -> str | None:
        if getattr(task, _MARK, None) is None:
            return original.fget(task)
        return task._status  # pylint: disable=protected-access  # set by start(), _finish() and StopTask

    return property(current_status, original.fset, original.fdel, original.__doc__)


def _describe_tasks(original: Callable[..., Any]) -> Callable[..., Any]:
    """DescribeTasks: moto's lookup, after moving the marked tasks forward in time."""

    @functools.wraps(original)
    def describe_tasks(self: Any, cluster_str: str, tasks: list[str]) -> list:
        found = original(self, cluster_str, tasks)
        for task in found:
            advance(task)
        return found

    return describe_tasks


def _has_active_instances(backend: Any, cluster_name: str) -> bool:
    return any(instance.status == "ACTIVE" for instance in backend.container_instances.get(cluster_name, {}).values())


def _place_without_instance(
    backend: Any, cluster: Any, definition_str: str, count: int, kwargs: dict[str, Any], strategy: list | None
) -> list:
    from moto.ecs.models import Task  # pylint: disable=import-outside-toplevel

    definition = backend.describe_task_definition(definition_str)
    tasks = []
    backend.tasks.setdefault(cluster.name, {})
    for _index in range(count):
        task = Task(
            cluster=cluster,
            task_definition=definition,
            container_instance_arn=None,
            resource_requirements=backend._calculate_task_resource_requirements(definition),  # pylint: disable=protected-access
            backend=backend,
            group=kwargs.get("group") or "family:%s" % definition.family,
            overrides=kwargs.get("overrides") or {},
            started_by=kwargs.get("started_by") or "",
            tags=kwargs.get("tags") or [],
            launch_type=kwargs.get("launch_type") or "EC2",
            networking_configuration=kwargs.get("networking_configuration"),
            platform_version=kwargs.get("platform_version"),
            capacity_provider_name=strategy[0]["capacityProvider"] if strategy else None,
        )
        backend.tasks[cluster.name][task.task_arn] = task
        tasks.append(task)
    return tasks


_PARAMS = (
    "overrides",
    "started_by",
    "tags",
    "launch_type",
    "networking_configuration",
    "group",
    "platform_version",
    "capacity_provider_strategy",
)


def _run_task(original: Callable[..., Any]) -> Callable[..., Any]:
    """RunTask: moto's placement, or placement without an instance on an EC2 cluster that has none; then start()."""

    @functools.wraps(original)
    def run_task(self: Any, cluster_str: str, task_definition_str: str, count: int, *args: Any, **kwargs: Any) -> list:
        kwargs.update(zip(_PARAMS, args))
        cluster = self._get_cluster(cluster_str)  # pylint: disable=protected-access
        launch_type = kwargs.get("launch_type")
        strategy = kwargs.get("capacity_provider_strategy") or (
            None if launch_type else cluster.default_capacity_provider_strategy
        )
        fargate = launch_type == "FARGATE" or (
            strategy and strategy[0]["capacityProvider"] in ("FARGATE", "FARGATE_SPOT")
        )
        if (
            fargate
            or _has_active_instances(self, cluster.name)
            or (launch_type and launch_type not in ("EC2", "EXTERNAL"))
        ):
            tasks = original(self, cluster_str, task_definition_str, count, **kwargs)
        else:
            tasks = _place_without_instance(self, cluster, task_definition_str, count, kwargs, strategy)
        for task in tasks:
            start(self, task)
        return tasks

    return run_task


# ecs_instances wraps RunTask too (around this wrapper): the wrappers chain, each recognised by its own mark
# (patching.MethodPatches; moto imported at the first apply()). restore() is for tests.
_ECS = "moto.ecs.models:EC2ContainerServiceBackend"
_PATCHES = MethodPatches(
    (
        (_ECS, "run_task", _run_task),
        (_ECS, "describe_tasks", _describe_tasks),
        ("moto.ecs.models:Task", "last_status", _last_status),
    )
)
apply, applied, restore = _PATCHES.apply, _PATCHES.applied, _PATCHES.restore  # apply() is idempotent


def install(monkeypatch: Any = None) -> None:
    """:func:`apply`; with a pytest ``monkeypatch``, moto's methods are recorded in it first, so that its undo (the
    end of the test) puts them back (the data plane's older tests use this)."""
    if monkeypatch is not None:
        for owner, attribute, _wrap in _PATCHES.patches:
            monkeypatch.setattr(owner, attribute, getattr(owner, attribute))
    apply()
