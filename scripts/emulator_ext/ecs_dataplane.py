# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: the ECS data plane for local releases. Tasks of a ``megapool.local/`` image really run.

What AWS does
    The ECS agent on a container instance starts the containers of a placed task (Amazon ECS task lifecycle,
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html): in ``awsvpc``
    mode the task gets its own ENI and IP address (``attachments[].details`` ``privateIPv4Address`` in
    DescribeTasks); the container runs ``entryPoint`` + ``command`` in the image's working directory with the
    container's ``environment``, its ``secrets`` resolved by the agent with the task execution role from SSM
    Parameter Store or Secrets Manager (a name for a parameter of the task's region, else the full ARN:
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-ssm-paramstore.html), and
    ``ECS_CONTAINER_METADATA_URI_V4`` pointing at the task metadata endpoint v4 (the container's metadata at the
    URI, the task's at ``/task``:
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-examples.html). The awslogs
    driver writes the output to ``<awslogs-group>`` stream ``<prefix>/<container>/<task id>``. When the essential
    container exits the task is STOPPED with ``stopCode`` ``EssentialContainerExited`` and the container's
    ``exitCode``. StopTask (and the service scheduler) sends SIGTERM, waits the container's ``stopTimeout``
    (default 30 s, the agent's ``ECS_CONTAINER_STOP_TIMEOUT``) and then sends SIGKILL
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html). A service task is registered in
    the service's target groups (``<ip>:<containerPort>``) and its Cloud Map service (``AWS_INSTANCE_IPV4``) when it
    runs; on stop ECS deregisters it, waits for the target to drain (the target group's deregistration delay), and
    only then stops the container (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/load-balancer-connection-draining.html).
    The rolling-update scheduler keeps ``maximumPercent`` / ``minimumHealthyPercent`` of the desired count, counts
    a task behind a load balancer healthy when its target is healthy, replaces tasks that exit or fail their ELB
    health checks (after ``healthCheckGracePeriodSeconds``), and the deployment circuit breaker fails a deployment
    after min(max(3, 0.5 x desired), 200) failed tasks, rolling back when asked
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeploymentCircuitBreaker.html,
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html).

What moto does
    Nothing runs: a task is a record that walks its states per DescribeTasks call, a service has counts only.

How this extension imitates AWS (docs/emulator.md, "Local data plane: ECS tasks")
    - The image rule: ``megapool.local/<name>:<tag>`` is a local release whose filesystem is the directory
      ``$MEGAPOOL_LOCAL_IMAGES/<name>/<tag>/`` (default ``<repository root>/.cache/images``). Any other image keeps
      the timer behaviour of ``ecs_tasks`` / ``ecs_deployments`` unchanged.
    - Each task is a process group (``start_new_session``) of ``entryPoint + command`` run in that directory, with
      its own loopback address from 127.1.0.2 upward (unique among running tasks; no network namespace, the process
      binds its address itself), the environment above, ``ERL_INETRC`` pointing at the local DNS server of
      ``dns_dataplane`` when it runs (the local stand-in for the VPC resolver), and its output in CloudWatch Logs.
    - RunTask tasks and service tasks alike; a background thread (wall clock) runs the service scheduler, so
      traffic and deployments progress between API calls.
    - Service tasks are placed on the cluster's container instances (ecs_instances: the agent of the Auto Scaling
      group's instances, ``choose_instance``, managed scale-out) and hold their resources there; a task on a DRAINING
      instance is replaced like a task of an old deployment (a new one elsewhere within maximumPercent, the old one
      drained and stopped while minimumHealthyPercent allows,
      https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-instance-draining.html). A cluster that
      never had a container instance, and FARGATE, run tasks without one (the tests without instances).
    - Differences: no network namespace or cgroup limits; container health checks (``127.0.0.1`` inside a task)
      are not run, the ALB's health checks decide; the image's own ENV is the host's ``PATH``, ``HOME`` and
      ``LANG``.
"""

from __future__ import annotations

import fcntl
import functools
import http.server
import ipaddress
import json
import math
import os
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from datetime import datetime
from datetime import timezone
from typing import Any
from typing import Callable

from .patching import MethodPatches


LOCAL_PREFIX = "megapool.local/"
IMAGES_ENV = "MEGAPOOL_LOCAL_IMAGES"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_IMAGES = os.path.join(ROOT, ".cache", "images")
FIRST_ADDRESS = "127.1.0.2"
# The agent's ECS_CONTAINER_STOP_TIMEOUT default (container stopTimeout when the task definition has none).
DEFAULT_STOP_TIMEOUT = 30.0
# How often the scheduler looks at the services (wall clock).
TICK_SECONDS = 0.25
# How long a stop waits at most for a target that stays "draining" (beyond the target group's delay).
DRAIN_GRACE_SECONDS = 30.0
# The emulator's stop and a moto reset end every task within this bound (SIGTERM, then SIGKILL).
SHUTDOWN_SECONDS = 5.0
# Failed launches of a service are retried after 0.5 s, 1 s, 2 s, ... at most this long.
MAX_BACKOFF_SECONDS = 30.0
BACKOFF = "_megapool_launch_backoff"
# Environment a container gets from its image on AWS; locally the host's values stand in for the image's ENV.
HOST_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL")

STOPPED_EXITED = "Essential container in task exited"
# How long a stopped container's last output may take to reach its log stream before the task reads STOPPED.
LOG_FLUSH_SECONDS = 5.0
# Blue/green deployments (scripts/emulator_ext/ecs_blue_green.py sets these when applied): "target_group" (local task,
# loadBalancers entry) -> the target group the task registers in; "schedule" (backend, service, PRIMARY deployment)
# -> True when it moved a blue/green deployment in progress (the rolling steps below are then skipped).
HOOKS: dict[str, Callable[..., Any]] = {}
# ecs_tasks' mark of a task whose lastStatus is its own (not moto's per-poll state manager); read task._status only.
TASK_MARK = "_megapool_run"


class LocalImageError(Exception):
    """A local image whose directory is missing: the task fails to start (CannotPullContainerError on AWS)."""


class SecretError(Exception):
    """A secret the agent cannot resolve: the task fails to start (ResourceInitializationError on AWS)."""


# --------------------------------------------------------------------------------------------- pure helpers


def is_local(image: str | None) -> bool:
    """Whether an image reference is a local release (``megapool.local/<name>:<tag>``)."""
    return bool(image) and str(image).startswith(LOCAL_PREFIX)


def images_root() -> str:
    """Where local images live: ``$MEGAPOOL_LOCAL_IMAGES``, else ``<repository root>/.cache/images``."""
    return os.environ.get(IMAGES_ENV) or DEFAULT_IMAGES


def image_directory(image: str, root: str | None = None) -> str:
    """The directory of a local image ``megapool.local/<name>:<tag>``: ``<root>/<name>/<tag>``.

    Raises LocalImageError (naming the image, the directory and the variable) when the reference or the directory
    is not there.
    """
    reference = str(image)[len(LOCAL_PREFIX) :].split("@", 1)[0]
    name, _sep, tag = reference.rpartition(":")
    if not name or "/" in tag:
        name, tag = reference, "latest"
    if not name or ".." in name.split("/") or tag in ("", ".", ".."):
        raise LocalImageError(
            "CannotPullContainerError: %s is not a local image reference (megapool.local/<name>:<tag>)" % image
        )
    directory = os.path.join(root or images_root(), name, tag)
    if not os.path.isdir(directory):
        raise LocalImageError(
            "CannotPullContainerError: local image %s not found: no directory %s (build the image there, or set %s)"
            % (image, directory, IMAGES_ENV)
        )
    return directory


def local_definition(definition: Any) -> bool:
    """Whether a task definition (moto's) runs a local release: its first (essential) container's image is local."""
    containers = getattr(definition, "container_definitions", None) or []
    return bool(containers) and is_local(containers[0].get("image"))


def inetrc_text(host: str, port: int) -> str:
    """An Erlang inetrc that resolves through the DNS server at ``host:port`` (the local VPC resolver).

    ``{resolv_conf, ""}`` first, so that inet_db never replaces the nameserver with the host's /etc/resolv.conf.
    """
    quad = ",".join(host.split("."))
    return '{resolv_conf, ""}.\n{nameserver, {%s}, %d}.\n{lookup, [dns]}.\n' % (quad, int(port))


def circuit_breaker_threshold(desired: int) -> int:
    """AWS's failure threshold: 0.5 x desired count, at least 3 and at most 200 (API_ServiceDeploymentCircuitBreaker)."""
    return min(max(3, int(math.ceil(0.5 * int(desired)))), 200)


def deployment_limits(desired: int, maximum_percent: int, minimum_healthy_percent: int) -> tuple[int, int]:
    """(most tasks RUNNING or PENDING, fewest healthy tasks) for a rolling update (API_DeploymentConfiguration).

    AWS rounds the maximum down and the minimum up; the maximum is never below one task when tasks are wanted.
    """
    desired = max(int(desired), 0)
    most = int(math.floor(desired * int(maximum_percent) / 100.0))
    fewest = int(math.ceil(desired * int(minimum_healthy_percent) / 100.0))
    if desired and most < 1:
        most = 1
    return most, min(fewest, desired)


def command_line(container_definition: dict[str, Any], overrides: dict[str, Any] | None = None) -> list[str]:
    """``entryPoint`` + ``command`` of a container, the override's command replacing the definition's."""
    command = list(container_definition.get("command") or [])
    for override in (overrides or {}).get("containerOverrides") or []:
        if override.get("name") == container_definition.get("name") and override.get("command"):
            command = list(override["command"])
    return list(container_definition.get("entryPoint") or []) + command


def _parameter_name(value_from: str) -> tuple[str | None, str]:
    """(region of an ARN or None, the reference) of an SSM ``valueFrom``: a name, or an ARN ``...:parameter/<name>``."""
    if value_from.startswith("arn:"):
        return value_from.split(":")[3] or None, value_from
    return None, value_from


def _listening_addresses() -> set[str]:
    """Loopback addresses something listens on (TCP) or is bound to (UDP), from /proc/net (empty elsewhere)."""
    found = set()
    for table, state in (("/proc/net/tcp", "0A"), ("/proc/net/udp", "07")):
        try:
            with open(table, encoding="ascii") as handle:
                lines = handle.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == state:
                packed = int(fields[1].split(":")[0], 16)
                found.add(str(ipaddress.IPv4Address(packed.to_bytes(4, "little"))))
    return found


class Addresses:
    """Loopback addresses for tasks, from ``first`` upward, unique among the tasks running (never 127.0.0.x).

    Several emulators may run on one host (make up on 5000, the tests on 5100, ...): an address is also held with
    an exclusive lock on ``<lock_dir>/<address>`` for as long as a task has it (the lock goes with the process that
    holds it), and an address something already listens on is skipped.
    """

    def __init__(self, first: str = FIRST_ADDRESS, lock_dir: str | None = None) -> None:
        self.first = int(ipaddress.IPv4Address(first))
        if ipaddress.IPv4Address(self.first) in ipaddress.IPv4Network("127.0.0.0/24"):
            raise ValueError("task addresses never come from 127.0.0.0/24")
        self.last = int(ipaddress.IPv4Address("127.255.255.254"))
        self.lock_dir = (
            lock_dir if lock_dir is not None else os.path.join(tempfile.gettempdir(), "megapool-task-addresses")
        )
        self.taken: dict[int, Any] = {}
        self.lock = threading.Lock()

    def _hold(self, address: str) -> Any:
        """An open file holding the address's lock, or None when another process holds it."""
        os.makedirs(self.lock_dir, exist_ok=True)
        handle = open(os.path.join(self.lock_dir, address), "a+", encoding="ascii")  # pylint: disable=consider-using-with
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return None
        return handle

    def allocate(self) -> str:
        """The lowest free address (no .0 or .255 last octet)."""
        with self.lock:
            busy = _listening_addresses() if self.lock_dir else set()
            for value in range(self.first, self.last + 1):
                if value in self.taken or value % 256 in (0, 255):
                    continue
                address = str(ipaddress.IPv4Address(value))
                if address in busy:
                    continue
                holder = self._hold(address) if self.lock_dir else True
                if holder is None:
                    continue
                self.taken[value] = holder
                return address
        raise RuntimeError("no free loopback address for a task")

    def release(self, address: str) -> None:
        with self.lock:
            holder = self.taken.pop(int(ipaddress.IPv4Address(address)), None)
            if holder not in (None, True):
                holder.close()


ADDRESSES = Addresses()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment else None


# --------------------------------------------------------------------------------------------- AWS look-ups


def resolve_secrets(account_id: str, region: str, secrets: list[dict[str, Any]] | None) -> dict[str, str]:
    """The container's ``secrets`` as the agent resolves them: SSM parameters (name in the task's region, or ARN of
    any region) and Secrets Manager secrets (ARN, optionally ``:json-key:version-stage:version-id``)."""
    from moto.ssm.models import ssm_backends  # pylint: disable=import-outside-toplevel

    resolved = {}
    for secret in secrets or []:
        name, value_from = secret.get("name"), str(secret.get("valueFrom") or "")
        if value_from.startswith("arn:") and value_from.split(":")[2] == "secretsmanager":
            resolved[name] = _secrets_manager_value(account_id, value_from)
            continue
        arn_region, parameter = _parameter_name(value_from)
        try:
            found = ssm_backends[account_id][arn_region or region].get_parameter(parameter)
        except Exception:  # pylint: disable=broad-except
            found = None
        if found is None:
            raise SecretError(
                "ResourceInitializationError: unable to pull secrets or registry auth: the SSM parameter %s (secret %s) "
                "does not exist in %s" % (value_from, name, arn_region or region)
            )
        resolved[name] = found.decrypt(found.value)
    return resolved


def _secrets_manager_value(account_id: str, value_from: str) -> str:
    from moto.secretsmanager.models import secretsmanager_backends  # pylint: disable=import-outside-toplevel

    parts = value_from.split(":")
    region = parts[3]
    secret_id = ":".join(parts[:7])
    json_key, stage, version = (parts[7:10] + ["", "", ""])[:3]
    try:
        answer = secretsmanager_backends[account_id][region].get_secret_value(secret_id, version or None, stage or None)
    except Exception as error:  # pylint: disable=broad-except
        raise SecretError(
            "ResourceInitializationError: unable to retrieve secret from Secrets Manager %s: %s" % (value_from, error)
        ) from error
    value = answer.get("SecretString") if isinstance(answer, dict) else getattr(answer, "secret_string", None)
    if json_key:
        try:
            value = json.loads(value or "{}")[json_key]
        except (ValueError, KeyError) as error:
            raise SecretError(
                "ResourceInitializationError: secret %s has no JSON key %s" % (value_from, json_key)
            ) from error
    return str(value)


def _erl_inetrc(vpc_id: str | None) -> str | None:
    """The ERL_INETRC content that resolves through the DNS part's resolver of the task's VPC (its ``inetrc()``, else
    :func:`inetrc_text` of its ``resolver()``); None when that extension is absent or serves nothing."""
    import importlib  # pylint: disable=import-outside-toplevel

    try:
        module = importlib.import_module("%s.dns_dataplane" % __package__)
        if hasattr(module, "inetrc"):
            return module.inetrc(vpc_id)
        found = module.resolver(vpc_id)
    except Exception:  # pylint: disable=broad-except
        return None
    return inetrc_text(str(found[0]), int(found[1])) if found else None


def _log_target(task: Any, container_definition: dict[str, Any]) -> dict[str, Any] | None:
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
        "create": str(options.get("awslogs-create-group", "")).lower() == "true",
        "options": dict(options),
    }


def _logs_group(account_id: str, target: dict[str, Any]) -> Any:
    from moto.logs.models import logs_backends  # pylint: disable=import-outside-toplevel

    backend = logs_backends[account_id][target["region"]]
    if target["group"] not in backend.groups:
        if not target["create"]:
            raise SecretError(
                "ResourceInitializationError: failed to validate logger args: The specified log group does not exist "
                "(awslogs-group %s in %s)" % (target["group"], target["region"])
            )
        backend.create_log_group(target["group"], {})
    group = backend.groups[target["group"]]
    if target["stream"] not in group.streams:
        group.create_log_stream(target["stream"])
    return group


# --------------------------------------------------------------------------------------------- metadata v4


class _MetadataHandler(http.server.BaseHTTPRequestHandler):
    """``GET /v4/<token>`` (the container), ``/v4/<token>/task`` (the task), ``.../stats`` and ``.../task/stats``."""

    def do_GET(self) -> None:  # noqa: N802  # pylint: disable=invalid-name
        parts = [part for part in self.path.split("?", 1)[0].split("/") if part]
        local = METADATA.tasks.get(parts[1]) if len(parts) >= 2 and parts[0] == "v4" else None
        if local is None:
            self._answer(404, {"error": "no such task"})
            return
        rest = parts[2:]
        if not rest:
            self._answer(200, local.container_metadata())
        elif rest == ["task"]:
            self._answer(200, local.task_metadata())
        elif rest in (["stats"], ["task", "stats"]):
            self._answer(200, {})
        else:
            self._answer(404, {"error": "unknown path %s" % self.path})

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            return  # the task went away while asking

    def log_message(self, *args: Any) -> None:  # pylint: disable=arguments-differ
        return


class MetadataServer:
    """The task metadata endpoint v4 of every local task, on 127.0.0.1 (ephemeral port), started on first use."""

    def __init__(self) -> None:
        self.tasks: dict[str, LocalTask] = {}
        self.server: http.server.ThreadingHTTPServer | None = None
        self.lock = threading.Lock()

    def uri(self, local: LocalTask) -> str:
        with self.lock:
            if self.server is None:
                self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _MetadataHandler)
                self.server.daemon_threads = True
                threading.Thread(target=self.server.serve_forever, name="ecs-metadata-v4", daemon=True).start()
            self.tasks[local.token] = local
            return "http://127.0.0.1:%d/v4/%s" % (self.server.server_address[1], local.token)

    def forget(self, local: LocalTask) -> None:
        with self.lock:
            self.tasks.pop(local.token, None)


METADATA = MetadataServer()


# --------------------------------------------------------------------------------------------- one task

# task ARN -> LocalTask, every local task that has not been forgotten (reset)
TASKS: dict[str, LocalTask] = {}
_TASKS_LOCK = threading.RLock()


class LocalTask:  # pylint: disable=too-many-instance-attributes
    """One moto Task whose essential container runs as a real process group."""

    def __init__(
        self, backend: Any, task: Any, definition: Any, service: Any = None, deployment_id: str | None = None
    ) -> None:
        self.backend = backend
        self.task = task
        self.definition = definition
        self.container_definition = definition.container_definitions[0]
        self.service = service
        self.deployment_id = deployment_id
        self.token = "%s-%s" % (task.id, uuid.uuid4().hex[:8])
        self.address: str | None = None
        self.process: subprocess.Popen | None = None
        self.inetrc: str | None = None
        self.log: dict[str, Any] | None = None
        self.stop_timeout = float(self.container_definition.get("stopTimeout") or DEFAULT_STOP_TIMEOUT)
        self.started = time.monotonic()
        self.created_at = _now()
        self.started_at: datetime | None = None
        self.exit_code: int | None = None
        self.stopping = False
        self.stop_reason: str | None = None
        self.stop_code: str | None = None
        self.failed = False  # counts for the deployment circuit breaker
        self.counted = False  # the failure was counted
        self.finished = threading.Event()
        self.pump: threading.Thread | None = None  # the output into the log stream (_pump)
        self.targets: list[tuple[str, str, int]] = []  # (region, target group ARN, port)
        self.registrations: list[tuple[str, str]] = []  # (region, Cloud Map service id)
        self.lock = threading.Lock()
        # The container instance it is placed on (ecs_instances; None: not placed) and what it holds there.
        self.instance: Any = None
        self.ports: list[int] = []

    def place(self, instance: Any, cpu: int, memory: int, ports: list[int]) -> None:
        """The task holds its resources on its container instance until it stops (ecs_instances.refresh counts them)."""
        self.instance, self.ports = instance, list(ports)
        self.task.resource_requirements = {
            "CPU": int(cpu),
            "MEMORY": int(memory),
            "PORTS": list(ports),
            "PORTS_UDP": [],
        }

    def draining(self) -> bool:
        """Whether its container instance is no longer ACTIVE (DRAINING, or deregistered)."""
        return self.instance is not None and self.instance.status != "ACTIVE"

    # ---- start

    def start(self) -> None:
        """Start the process; a task that cannot start is STOPPED at once with AWS's stop code and reason."""
        task = self.task
        setattr(task, TASK_MARK, {"local": True, "done": True, "exit": None, "log": None})
        with _TASKS_LOCK:
            TASKS[task.task_arn] = self
        try:
            directory = image_directory(self.container_definition.get("image"))
            command = command_line(self.container_definition, task.overrides)
            if not command:
                raise LocalImageError(
                    "CannotStartContainerError: container %s has no entryPoint or command"
                    % self.container_definition.get("name")
                )
            environment = self._environment()
            self.log = _log_target(task, self.container_definition)
            if self.log:
                _logs_group(task._account_id, self.log)  # pylint: disable=protected-access
        except (LocalImageError, SecretError) as error:
            self._fail_to_start(str(error))
            return
        self.address = ADDRESSES.allocate()
        environment["ECS_CONTAINER_METADATA_URI_V4"] = METADATA.uri(self)
        environment["ECS_CONTAINER_METADATA_URI"] = environment["ECS_CONTAINER_METADATA_URI_V4"]
        inetrc = _erl_inetrc(self._vpc_id())
        if inetrc:
            handle, self.inetrc = tempfile.mkstemp(prefix="megapool-task-%s-" % task.id, suffix=".inetrc")
            with os.fdopen(handle, "w", encoding="ascii") as stream:
                stream.write(inetrc)
            environment["ERL_INETRC"] = self.inetrc
        self._set_address()
        try:
            self.process = subprocess.Popen(  # pylint: disable=consider-using-with
                command,
                cwd=directory,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as error:
            self._fail_to_start("CannotStartContainerError: %s" % error)
            return
        self.started_at = _now()
        task.status = "RUNNING"
        task.started_at = self.started_at
        for container in task.containers:
            container.last_status = "RUNNING"
            container.exitCode = None
        self.pump = threading.Thread(target=self._pump, name="task-log-%s" % task.id, daemon=True)
        self.pump.start()
        threading.Thread(target=self._wait, name="task-wait-%s" % task.id, daemon=True).start()

    def _environment(self) -> dict[str, str]:
        task = self.task
        environment = {name: os.environ[name] for name in HOST_ENVIRONMENT if name in os.environ}
        environment.setdefault("LANG", "C.UTF-8")
        environment["AWS_EXECUTION_ENV"] = "AWS_ECS_EC2"
        overrides = {}
        for override in (task.overrides or {}).get("containerOverrides") or []:
            if override.get("name") == self.container_definition.get("name"):
                overrides = {item["name"]: item.get("value", "") for item in override.get("environment") or []}
        for item in self.container_definition.get("environment") or []:
            environment[item["name"]] = str(item.get("value", ""))
        environment.update(overrides)
        environment.update(
            resolve_secrets(task._account_id, task.region_name, self.container_definition.get("secrets"))
        )  # pylint: disable=protected-access
        return environment

    def _set_address(self) -> None:
        """The task's ENI address (DescribeTasks attachments, the container's networkInterfaces) is its loopback address."""
        task = self.task
        attachment_id = None
        for attachment in task.attachments or []:
            if attachment.get("type") != "ElasticNetworkInterface":
                continue
            attachment_id = attachment.get("id")
            for detail in attachment.get("details") or []:
                if detail.get("name") == "privateIPv4Address":
                    detail["value"] = self.address
                if detail.get("name") == "privateDnsName":
                    detail["value"] = "ip-%s.%s.compute.internal" % (self.address.replace(".", "-"), task.region_name)
        if attachment_id:
            for container in task.containers:
                container.network_interfaces = [{"attachmentId": attachment_id, "privateIpv4Address": self.address}]

    def _fail_to_start(self, reason: str) -> None:
        task = self.task
        self.failed = True
        task.status = "STOPPED"
        task.desired_status = "STOPPED"
        task.stop_code = "TaskFailedToStart"
        task.stopped_reason = reason
        task.stopped_at = _now()
        for container in task.containers:
            container.last_status = "STOPPED"
            container.exitCode = None
            container.reason = reason
        self._release()

    # ---- run

    def _pump(self) -> None:
        """The container's output, line by line, into its awslogs stream."""
        assert self.process is not None and self.process.stdout is not None
        for raw in iter(self.process.stdout.readline, b""):
            self.write_log(raw.decode("utf-8", "replace").rstrip("\n"))
        self.process.stdout.close()

    def write_log(self, message: str) -> None:
        if not self.log:
            return
        try:
            group = _logs_group(self.task._account_id, self.log)  # pylint: disable=protected-access
            group.put_log_events(
                self.log["stream"], [{"timestamp": int(time.time() * 1000), "message": message or " "}]
            )
        except Exception:  # pylint: disable=broad-except
            return

    def _wait(self) -> None:
        assert self.process is not None
        code = self.process.wait()
        # The container's last lines are in its log stream before the task reads STOPPED: Docker's awslogs driver
        # publishes what it buffered when the container stops, so a caller that sees STOPPED and then reads the
        # stream (the migration gate) finds the output. Bounded: a process the container left behind may hold the
        # pipe open.
        if self.pump is not None:
            self.pump.join(LOG_FLUSH_SECONDS)
        self.exit_code = 128 + (-code) if code < 0 else code  # killed by a signal: 128 + signal, as Docker reports
        self._finish()

    def _finish(self) -> None:
        task = self.task
        with self.lock:
            if self.finished.is_set():
                return
            if not self.stopping:
                self.failed = True
            self._unregister()
            # What the task held goes before it reads STOPPED (a caller that sees STOPPED finds it all gone).
            self._free()
            task.status = "STOPPED"
            task.desired_status = "STOPPED"
            task.stop_code = self.stop_code or "EssentialContainerExited"
            task.stopped_reason = self.stop_reason or STOPPED_EXITED
            task.stopped_at = _now()
            task.stopping_at = task.stopping_at if getattr(task, "stopping_at", None) else task.stopped_at
            task.execution_stopped_at = task.stopped_at
            for container in task.containers:
                container.last_status = "STOPPED"
                container.exitCode = self.exit_code
            self.finished.set()

    def _release(self) -> None:
        self._free()
        self.finished.set()

    def _free(self) -> None:
        """The task's address, metadata endpoint, inetrc file and ENI."""
        if self.address:
            ADDRESSES.release(self.address)
        METADATA.forget(self)
        if self.inetrc:
            try:
                os.unlink(self.inetrc)
            except OSError:
                pass
        self._delete_eni()

    def _delete_eni(self) -> None:
        """AWS deletes a task's ENI when the task stops (moto keeps it)."""
        from moto.ec2.models import ec2_backends  # pylint: disable=import-outside-toplevel

        for attachment in self.task.attachments or []:
            for detail in attachment.get("details") or []:
                if detail.get("name") == "networkInterfaceId":
                    try:
                        ec2_backends[self.task._account_id][self.task.region_name].delete_network_interface(
                            detail["value"]
                        )  # pylint: disable=protected-access
                    except Exception:  # pylint: disable=broad-except
                        pass

    # ---- targets, Cloud Map

    def register(self) -> None:
        """Register the running service task in its target groups and Cloud Map services (as ECS does)."""
        from moto.elbv2.models import elbv2_backends  # pylint: disable=import-outside-toplevel
        from moto.servicediscovery.models import servicediscovery_backends  # pylint: disable=import-outside-toplevel

        service, task = self.service, self.task
        if service is None or self.address is None:
            return
        account, region = task._account_id, task.region_name  # pylint: disable=protected-access
        for balancer in service.load_balancers or []:
            arn = HOOKS["target_group"](self, balancer) if "target_group" in HOOKS else balancer.get("targetGroupArn")
            if not arn or balancer.get("containerName") not in (None, self.container_definition.get("name")):
                continue
            port = int(balancer.get("containerPort") or 0)
            try:
                elbv2_backends[account][region].register_targets(arn, [{"Id": self.address, "Port": port}])
                self.targets.append((region, arn, port))
                _event(service, "registered 1 targets in (target-group %s)" % arn)
            except Exception as error:  # pylint: disable=broad-except
                self.write_log(
                    "emulator: could not register the target %s:%d in %s: %s" % (self.address, port, arn, error)
                )
        for registry in service.service_registries or []:
            arn = registry.get("registryArn") or ""
            service_id = arn.rsplit("/", 1)[-1]
            attributes = {
                "AWS_INSTANCE_IPV4": self.address,
                "AWS_INIT_HEALTH_STATUS": "HEALTHY",
                "AVAILABILITY_ZONE": "%sa" % region,
                "REGION": region,
                "ECS_CLUSTER_NAME": task.cluster_name,
                "ECS_SERVICE_NAME": service.name,
                "ECS_TASK_DEFINITION_FAMILY": self.definition.family,
            }
            if registry.get("port"):
                attributes["AWS_INSTANCE_PORT"] = str(registry["port"])
            try:
                servicediscovery_backends[account][region].register_instance(
                    service_id, task.id, str(uuid.uuid4()), attributes
                )
                self.registrations.append((region, service_id))
            except Exception as error:  # pylint: disable=broad-except
                self.write_log(
                    "emulator: could not register the instance %s in Cloud Map %s: %s" % (task.id, arn, error)
                )

    def _deregister_targets(self) -> None:
        from moto.elbv2.models import elbv2_backends  # pylint: disable=import-outside-toplevel

        for region, arn, port in self.targets:
            try:
                elbv2_backends[self.task._account_id][region].deregister_targets(
                    arn, [{"Id": self.address, "Port": port}]
                )  # pylint: disable=protected-access
            except Exception:  # pylint: disable=broad-except
                pass

    def _deregister_cloud_map(self) -> None:
        from moto.servicediscovery.models import servicediscovery_backends  # pylint: disable=import-outside-toplevel

        for region, service_id in self.registrations:
            try:
                servicediscovery_backends[self.task._account_id][region].deregister_instance(service_id, self.task.id)  # pylint: disable=protected-access
            except Exception:  # pylint: disable=broad-except
                pass
        self.registrations = []

    def _unregister(self) -> None:
        self._deregister_cloud_map()
        if self.targets:
            self._deregister_targets()
            self.targets = []

    def target_states(self) -> list[str]:
        """The target health state of each of the task's targets (describe_target_health of the elbv2 backend)."""
        from moto.elbv2.models import elbv2_backends  # pylint: disable=import-outside-toplevel

        states = []
        for region, arn, port in self.targets:
            try:
                backend = elbv2_backends[self.task._account_id][region]  # pylint: disable=protected-access
                found = backend.describe_target_health(arn, [{"Id": self.address, "Port": port}])
                states.append(found[0].status if found else "unused")
            except Exception:  # pylint: disable=broad-except
                states.append("unused")
        return states

    def _deregistration_delay(self, region: str, arn: str) -> float:
        from moto.elbv2.models import elbv2_backends  # pylint: disable=import-outside-toplevel

        try:
            group = elbv2_backends[self.task._account_id][region].target_groups[arn]  # pylint: disable=protected-access
            return float(group.attributes.get("deregistration_delay.timeout_seconds", 300))
        except Exception:  # pylint: disable=broad-except
            return 0.0

    # ---- stop

    def stop(self, reason: str, stop_code: str = "UserInitiated", drain: bool = True) -> None:
        """Stop the task (once): deregister, wait while its targets drain, SIGTERM, stopTimeout, SIGKILL."""
        with self.lock:
            if self.stopping or self.finished.is_set():
                return
            self.stopping = True
            self.stop_reason = reason
            self.stop_code = stop_code
            self.task.desired_status = "STOPPED"
            self.task.stopping_at = _now()
        threading.Thread(target=self._stop, args=(drain,), name="task-stop-%s" % self.task.id, daemon=True).start()

    def _stop(self, drain: bool) -> None:
        self._deregister_cloud_map()
        if self.targets and drain:
            self.task.status = "DEACTIVATING"
            self._deregister_targets()
            delay = max((self._deregistration_delay(region, arn) for region, arn, _port in self.targets), default=0.0)
            deadline = time.monotonic() + delay + DRAIN_GRACE_SECONDS
            while time.monotonic() < deadline and "draining" in self.target_states() and not self.finished.is_set():
                time.sleep(TICK_SECONDS)
            self.targets = []
        if not self.finished.is_set():
            self.task.status = "STOPPING"
        self.terminate(self.stop_timeout)

    def terminate(self, timeout: float) -> None:
        """SIGTERM to the process group, SIGKILL after ``timeout`` seconds; returns when the process is gone."""
        if self.process is None:
            self._finish()
            return
        _signal_group(self.process.pid, signal.SIGTERM)
        if not self.finished.wait(max(timeout, 0.0)):
            _signal_group(self.process.pid, signal.SIGKILL)
            self.finished.wait(SHUTDOWN_SECONDS)
        # the group may hold children that outlived the leader
        _signal_group(self.process.pid, signal.SIGKILL)

    # ---- answers

    def healthy(self) -> bool:
        """A running task counts when every target of it is healthy (no targets: when it runs)."""
        if self.finished.is_set() or self.stopping or self.process is None:
            return False
        return all(state == "healthy" for state in self.target_states())

    def container_metadata(self) -> dict[str, Any]:
        task, container = self.task, self.container_definition
        labels = {
            "com.amazonaws.ecs.cluster": task.cluster_arn,
            "com.amazonaws.ecs.container-name": container.get("name"),
            "com.amazonaws.ecs.task-arn": task.task_arn,
            "com.amazonaws.ecs.task-definition-family": self.definition.family,
            "com.amazonaws.ecs.task-definition-version": str(self.definition.revision),
        }
        answer = {
            "DockerId": uuid.uuid5(uuid.NAMESPACE_URL, task.task_arn).hex * 2,
            "Name": container.get("name"),
            "DockerName": "ecs-%s-%s-%s" % (self.definition.family, self.definition.revision, container.get("name")),
            "Image": container.get("image"),
            "ImageID": "sha256:%s" % (uuid.uuid5(uuid.NAMESPACE_URL, str(container.get("image"))).hex * 2),
            "Labels": labels,
            "DesiredStatus": task.desired_status,
            "KnownStatus": "STOPPED" if self.finished.is_set() else "RUNNING",
            "Limits": {
                "CPU": int(container.get("cpu") or 0),
                "Memory": int(container.get("memory") or container.get("memoryReservation") or 0),
            },
            "CreatedAt": _iso(self.created_at),
            "StartedAt": _iso(self.started_at),
            "Type": "NORMAL",
            "ContainerARN": task.containers[0].container_arn if task.containers else None,
            "Networks": [self._network()],
        }
        if self.log:
            answer["LogDriver"] = "awslogs"
            answer["LogOptions"] = dict(self.log["options"], **{"awslogs-stream": self.log["stream"]})
        if self.exit_code is not None:
            answer["ExitCode"] = self.exit_code
        return answer

    def _network(self) -> dict[str, Any]:
        mac = ""
        for attachment in self.task.attachments or []:
            for detail in attachment.get("details") or []:
                if detail.get("name") == "macAddress":
                    mac = detail.get("value") or ""
        return {
            "NetworkMode": self.definition.network_mode or "bridge",
            "IPv4Addresses": [self.address],
            "AttachmentIndex": 0,
            "MACAddress": mac,
            "IPv4SubnetCIDRBlock": "127.0.0.0/8",
            "PrivateDNSName": "ip-%s.%s.compute.internal"
            % (str(self.address).replace(".", "-"), self.task.region_name),
            "SubnetGatewayIpv4Address": "127.0.0.1/8",
        }

    def _vpc_id(self) -> str | None:
        from moto.ec2.models import ec2_backends  # pylint: disable=import-outside-toplevel

        for attachment in self.task.attachments or []:
            for detail in attachment.get("details") or []:
                if detail.get("name") == "subnetId":
                    try:
                        return (
                            ec2_backends[self.task._account_id][self.task.region_name]
                            .get_subnet(detail["value"])
                            .vpc_id
                        )  # pylint: disable=protected-access
                    except Exception:  # pylint: disable=broad-except
                        return None
        return None

    def task_metadata(self) -> dict[str, Any]:
        task = self.task
        answer = {
            "Cluster": task.cluster_arn,
            "TaskARN": task.task_arn,
            "Family": self.definition.family,
            "Revision": str(self.definition.revision),
            "DesiredStatus": task.desired_status,
            "KnownStatus": "STOPPED" if self.finished.is_set() else "RUNNING",
            "PullStartedAt": _iso(self.created_at),
            "PullStoppedAt": _iso(self.created_at),
            "AvailabilityZone": "%sa" % task.region_name,
            "LaunchType": task.launch_type or "EC2",
            "Containers": [self.container_metadata()],
        }
        vpc = self._vpc_id()
        if vpc:
            answer["VPCID"] = vpc
        if self.service is not None:
            answer["ServiceName"] = self.service.name
        return answer


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except OSError:
        pass


def _event(service: Any, message: str) -> None:
    from . import ecs_deployments  # pylint: disable=import-outside-toplevel

    ecs_deployments._event(service, message)  # pylint: disable=protected-access


# --------------------------------------------------------------------------------------------- RunTask


def start_task(backend: Any, task: Any, service: Any = None, deployment_id: str | None = None) -> LocalTask | None:
    """Run a placed task for real when its image is local; None for any other image (the timers keep it)."""
    definition = backend.describe_task_definition(task.task_definition_arn)
    if not local_definition(definition):
        return None
    local = LocalTask(backend, task, definition, service, deployment_id)
    local.start()
    return local


def local_task(task: Any) -> LocalTask | None:
    with _TASKS_LOCK:
        return TASKS.get(task.task_arn)


def tasks_on(container_instance_arn: str) -> list[LocalTask]:
    """The local tasks placed on a container instance that have not stopped."""
    with _TASKS_LOCK:
        return [
            local
            for local in TASKS.values()
            if local.instance is not None
            and local.instance.container_instance_arn == container_instance_arn
            and not local.finished.is_set()
        ]


def stop_all(timeout: float = SHUTDOWN_SECONDS) -> int:
    """End every task process (SIGTERM, SIGKILL after ``timeout``), in parallel; the number of tasks ended.

    The scheduler forgets every service first: otherwise it starts replacements for the tasks this ends, and those
    outlive the emulator (seen: four demo nodes left with parent 1 after `emulator.py stop`)."""
    with SCHEDULER.lock:
        SCHEDULER.services.clear()
    with _TASKS_LOCK:
        running = [local for local in TASKS.values() if not local.finished.is_set() and local.process is not None]
    threads = []
    for local in running:
        local.stopping = True
        local.stop_reason = local.stop_reason or "Emulator stopped"
        local.stop_code = local.stop_code or "TerminationNotice"
        thread = threading.Thread(target=local.terminate, args=(min(timeout, local.stop_timeout),), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout + SHUTDOWN_SECONDS)
    return len(running)


def forget_all() -> None:
    """At a moto reset: the scheduler forgets every service (so it starts no replacement), every task ends."""
    from . import ecs_deployments  # pylint: disable=import-outside-toplevel

    with SCHEDULER.lock:
        SCHEDULER.services.clear()
    with ecs_deployments._LOCK:  # pylint: disable=protected-access  # a scheduling step under way ends first
        pass
    stop_all()
    with _TASKS_LOCK:
        TASKS.clear()


# --------------------------------------------------------------------------------------------- the service scheduler


class Scheduler:
    """The replica scheduler of local services, driven by a background thread (wall clock)."""

    def __init__(self) -> None:
        self.services: dict[
            tuple[str, str, str, str], tuple[Any, Any]
        ] = {}  # (account, region, cluster, name) -> (backend, service)
        self.lock = threading.RLock()
        self.thread: threading.Thread | None = None
        self.halt = threading.Event()

    def track(self, backend: Any, service: Any) -> None:
        key = (backend.account_id, backend.region_name, service.cluster_name, service.name)
        with self.lock:
            self.services[key] = (backend, service)
            if self.thread is None or not self.thread.is_alive():
                self.halt.clear()
                self.thread = threading.Thread(target=self._run, name="ecs-scheduler", daemon=True)
                self.thread.start()

    def tracked(self, service: Any) -> bool:
        with self.lock:
            return any(item is service for _backend, item in self.services.values())

    def _run(self) -> None:
        while not self.halt.wait(TICK_SECONDS):
            self.tick()

    def tick(self) -> None:
        from . import ecs_deployments  # pylint: disable=import-outside-toplevel

        with self.lock:
            services = list(self.services.items())
        for key, (backend, service) in services:
            with ecs_deployments._LOCK:  # pylint: disable=protected-access
                with self.lock:
                    if self.services.get(key, (None, None))[1] is not service:
                        continue  # forgotten meanwhile (a reset)
                try:
                    done = schedule(backend, service)
                except Exception as error:  # pylint: disable=broad-except
                    print("emulator: ecs scheduler: %s: %r" % ("/".join(key), error), flush=True)
                    done = False
            if done:
                with self.lock:
                    self.services.pop(key, None)


SCHEDULER = Scheduler()


def service_tasks(service: Any) -> list[LocalTask]:
    with _TASKS_LOCK:
        return [local for local in TASKS.values() if local.service is service]


def _config(service: Any) -> dict[str, Any]:
    from . import ecs_deployments  # pylint: disable=import-outside-toplevel

    return ecs_deployments.deployment_configuration(getattr(service, "deployment_configuration", None))


def _network_configuration(service: Any) -> dict[str, Any] | None:
    found = getattr(service, "network_configuration", None)
    if found:
        return found
    for deployment in service.deployments or []:
        if deployment.get("networkConfiguration"):
            return deployment["networkConfiguration"]
    return None


# The "unable to place a task" event is written at most this often per service (AWS throttles it too).
UNPLACED_EVENT_SECONDS = 30.0
UNPLACED = "_megapool_unplaced_event"


def _placement(
    backend: Any, service: Any, cluster: Any, definition: Any
) -> tuple[bool, Any, tuple[int, int, list[int]]]:
    """(placed or no placement needed, the container instance or None, the task's requirements).

    Tasks go on the cluster's container instances (ecs_instances) unless the service is FARGATE or the cluster has
    never had one registered (the emulator's tests that deploy without instances: docs/emulator.md)."""
    from . import ecs_instances  # pylint: disable=import-outside-toplevel

    needs = ecs_instances.task_requirements(definition)
    if (service.launch_type or "") == "FARGATE" or not backend.container_instances.get(cluster.name):
        return True, None, needs
    ecs_instances.refresh(backend, cluster.name)
    with _TASKS_LOCK:
        mine: dict[str, int] = {}
        ports: dict[str, list[int]] = {}
        for local in TASKS.values():
            if local.instance is None or local.finished.is_set():
                continue
            arn = local.instance.container_instance_arn
            ports.setdefault(arn, []).extend(local.ports)
            if local.service is service:
                mine[arn] = mine.get(arn, 0) + 1
    distinct = any(
        (item.get("type") or "") == "distinctInstance" for item in getattr(service, "placement_constraints", None) or []
    )
    arn = ecs_instances.choose_instance(
        ecs_instances.candidates(backend, cluster.name, mine, ports), needs[0], needs[1], distinct, needs[2]
    )
    if arn is None:
        return False, None, needs
    instance = next(
        item for item in ecs_instances.container_instances(backend, cluster.name) if item.container_instance_arn == arn
    )
    return True, instance, needs


def _unplaced(backend: Any, service: Any) -> None:
    """No container instance has room: AWS's service event (throttled), and the capacity provider scales out."""
    from . import ecs_instances  # pylint: disable=import-outside-toplevel

    if time.monotonic() >= getattr(service, UNPLACED, 0.0):
        setattr(service, UNPLACED, time.monotonic() + UNPLACED_EVENT_SECONDS)
        _event(service, ecs_instances.unable_to_place(service.name)[len("service %s " % service.name) :])
    ecs_instances.scale_out(backend, service, 1)


def _launch(backend: Any, service: Any, deployment: dict[str, Any]) -> LocalTask | None:
    from moto.ecs.models import Task  # pylint: disable=import-outside-toplevel

    definition = backend.describe_task_definition(deployment["taskDefinition"])
    cluster = backend._get_cluster(service.cluster_name)  # pylint: disable=protected-access
    placed, instance, needs = _placement(backend, service, cluster, definition)
    if not placed:
        _unplaced(backend, service)
        return None
    strategy = getattr(service, "capacity_provider_strategy", None) or deployment.get("capacityProviderStrategy")
    task = Task(
        cluster=cluster,
        task_definition=definition,
        container_instance_arn=instance.container_instance_arn if instance is not None else None,
        resource_requirements=backend._calculate_task_resource_requirements(definition),  # pylint: disable=protected-access
        backend=backend,
        group="service:%s" % service.name,
        started_by=deployment["id"],
        tags=list(service.tags or []) if getattr(service, "propagate_tags", None) == "SERVICE" else [],
        launch_type=service.launch_type or "EC2",
        networking_configuration=_network_configuration(service) if definition.network_mode == "awsvpc" else None,
        capacity_provider_name=strategy[0]["capacityProvider"] if strategy else None,
    )
    backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
    local = LocalTask(backend, task, definition, service, deployment["id"])
    if instance is not None:
        local.place(instance, needs[0], needs[1], needs[2])
    local.start()
    if not local.finished.is_set():
        local.register()
        _event(service, "has started 1 tasks: (task %s)." % task.id)
    return local


def schedule(backend: Any, service: Any) -> bool:  # pylint: disable=too-many-locals,too-many-branches,too-many-statements
    """One step of the scheduler for one service; True when the service is gone and has no task left."""
    from . import ecs_deployments  # pylint: disable=import-outside-toplevel

    tasks = service_tasks(service)
    live = [local for local in tasks if not local.finished.is_set()]
    gone = service.status != "ACTIVE" or "%s:%s" % (service.cluster_name, service.name) not in backend.services
    if gone:
        for local in live:
            local.stop("Service was deleted", "ServiceSchedulerInitiated")
        return not live
    primary = ecs_deployments._primary(service)  # pylint: disable=protected-access
    if primary is None:
        return False
    if "schedule" in HOOKS and HOOKS["schedule"](backend, service, primary):
        return False
    deployment_ids = {item["id"]: item for item in service.deployments}
    # Tasks of a deployment that went (a rollback takes over the tasks of the deployment it returns to).
    for local in tasks:
        if local.deployment_id not in deployment_ids:
            same = [
                item for item in service.deployments if item.get("taskDefinition") == local.task.task_definition_arn
            ]
            if same:
                local.deployment_id = same[0]["id"]
    config = _config(service)
    desired = int(service.desired_count or 0)
    grace = float(getattr(service, "health_check_grace_period_seconds", None) or 0)
    # 1. Tasks that failed: exited by themselves, or ELB health checks failed (after the grace period).
    for local in live:
        if local.stopping:
            continue
        states = local.target_states()
        if "unhealthy" in states and time.monotonic() - local.started >= grace:
            local.failed = True
            arn = next((arn for (_region, arn, _port), state in zip(local.targets, states) if state == "unhealthy"), "")
            _event(service, "(task %s) failed ELB health checks in (target-group %s)" % (local.task.id, arn))
            local.stop("Task failed ELB health checks in (target-group %s)" % arn, "ServiceSchedulerInitiated")
    for local in tasks:
        if local.failed and not local.counted:
            local.counted = True
            deployment = deployment_ids.get(local.deployment_id)
            if deployment is not None and deployment.get("rolloutState") == "IN_PROGRESS":
                deployment["failedTasks"] = int(deployment.get("failedTasks") or 0) + 1
            # ECS retries failing launches with a growing delay (the service throttles task launches)
            failures, _not_before = getattr(service, BACKOFF, (0, 0.0))
            setattr(service, BACKOFF, (failures + 1, time.monotonic() + min(0.5 * 2**failures, MAX_BACKOFF_SECONDS)))
    tasks = service_tasks(service)
    live = [local for local in tasks if not local.finished.is_set()]
    running = [local for local in live if not local.stopping]
    # 2. The circuit breaker.
    breaker = config.get("deploymentCircuitBreaker") or {}
    if (
        primary.get("rolloutState") == "IN_PROGRESS"
        and breaker.get("enable")
        and int(primary.get("failedTasks") or 0) >= circuit_breaker_threshold(desired)
    ):
        failed = int(primary["failedTasks"])
        tracked = dict(ecs_deployments._TRACKED.get(primary["id"]) or {})  # pylint: disable=protected-access
        if not breaker.get("rollback"):
            tracked["rollback_to"] = None
        ecs_deployments._fail(service, primary, tracked)  # pylint: disable=protected-access
        primary["failedTasks"] = failed
        primary = ecs_deployments._primary(service)  # pylint: disable=protected-access
        deployment_ids = {item["id"]: item for item in service.deployments}
        for local in tasks:
            if local.deployment_id not in deployment_ids:
                same = [
                    item for item in service.deployments if item.get("taskDefinition") == local.task.task_definition_arn
                ]
                if same:
                    local.deployment_id = same[0]["id"]
    most, fewest = deployment_limits(
        desired, config.get("maximumPercent", 200), config.get("minimumHealthyPercent", 100)
    )
    mine = [local for local in running if local.deployment_id == primary["id"]]
    others = [local for local in running if local.deployment_id != primary["id"]]
    # Tasks on a DRAINING (or gone) container instance are replaced like old ones: new tasks elsewhere within
    # maximumPercent, then stopped (drained first) while minimumHealthyPercent stays (container-instance-draining.html).
    evicted = [local for local in mine if local.draining()]
    mine = [local for local in mine if local not in evicted]
    others = others + evicted
    healthy = [local for local in running if local.healthy()]
    launching = primary.get("rolloutState") != "FAILED" and time.monotonic() >= getattr(service, BACKOFF, (0, 0.0))[1]
    # 3. Scale the primary deployment in (desired count lowered).
    for local in mine[desired:]:
        local.stop("Scaling activity initiated by (deployment %s)" % primary["id"], "ServiceSchedulerInitiated")
        _event(service, "has stopped 1 running tasks: (task %s)." % local.task.id)
    mine = mine[:desired]
    # 4. Start new tasks up to the desired count, within maximumPercent (tasks being stopped still count).
    while launching and len(mine) < desired and len(live) < max(most, 1):
        local = _launch(backend, service, primary)
        if local is None:
            break
        live.append(local)
        if not local.finished.is_set():
            mine.append(local)
            running.append(local)
        else:
            break
    # 5. Stop old tasks while minimumHealthyPercent allows: unhealthy ones first.
    healthy_count = len(healthy)
    for local in sorted(others, key=lambda item: item in healthy):
        is_healthy = local in healthy
        if is_healthy and healthy_count - 1 < fewest:
            continue
        if is_healthy:
            healthy_count -= 1
        local.stop("Scaling activity initiated by (deployment %s)" % primary["id"], "ServiceSchedulerInitiated")
        _event(service, "has stopped 1 running tasks: (task %s)." % local.task.id)
    # 6. Counts and the end of the rollout.
    primary_running = [local for local in mine if not local.finished.is_set()]
    primary_healthy = [local for local in primary_running if local.healthy()]
    for deployment in service.deployments:
        own = [
            local
            for local in live
            if local.deployment_id == deployment["id"] and not local.stopping and not local.finished.is_set()
        ]
        deployment["runningCount"] = len(own)
        deployment["pendingCount"] = (
            max(desired - len(own), 0) if deployment is primary and deployment.get("rolloutState") != "FAILED" else 0
        )
        if deployment is primary:
            deployment["desiredCount"] = desired
    ecs_deployments._sync_counts(service)  # pylint: disable=protected-access
    leftovers = [local for local in live if local.deployment_id != primary["id"] and not local.finished.is_set()]
    others_running = [
        item
        for item in service.deployments
        if item is not primary and item.get("rolloutState") != "FAILED" and int(item.get("runningCount") or 0)
    ]
    if (
        primary.get("rolloutState") == "IN_PROGRESS"
        and len(primary_healthy) >= desired
        and not leftovers
        and not others_running
    ):
        ecs_deployments._complete(service, primary)  # pylint: disable=protected-access
        setattr(service, BACKOFF, (0, 0.0))
        _sync_counts_after_complete(service, primary, len(primary_running))
    return False


def _sync_counts_after_complete(service: Any, primary: dict[str, Any], running: int) -> None:
    from . import ecs_deployments  # pylint: disable=import-outside-toplevel

    primary["runningCount"] = running
    primary["pendingCount"] = 0
    ecs_deployments._sync_counts(service)  # pylint: disable=protected-access


def is_local_service(backend: Any, service: Any) -> bool:
    """Whether the service's PRIMARY deployment runs a local image (then the scheduler, not the timers, moves it)."""
    if SCHEDULER.tracked(service):
        return True
    from . import ecs_deployments  # pylint: disable=import-outside-toplevel

    primary = ecs_deployments._primary(service)  # pylint: disable=protected-access
    arn = (primary or {}).get("taskDefinition") or service.task_definition
    try:
        definition = backend.describe_task_definition(arn)
    except Exception:  # pylint: disable=broad-except
        return False
    if not local_definition(definition):
        return False
    SCHEDULER.track(backend, service)
    return True


# --------------------------------------------------------------------------------------------- patches


def _stop_task(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def stop_task(self: Any, cluster_str: str, task_str: str, reason: str) -> Any:
        cluster = self._get_cluster(cluster_str)  # pylint: disable=protected-access
        task_id = task_str.split("/")[-1]
        for arn, task in (self.tasks.get(cluster.name) or {}).items():
            if arn.endswith(task_id):
                local = local_task(task)
                if local is None:
                    break
                local.stop(reason or "Task stopped by user", "UserInitiated")
                return task
        return original(self, cluster_str, task_str, reason)

    return stop_task


def _list_tasks(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def list_tasks(
        self: Any,
        cluster_str: str | None = None,
        container_instance: str | None = None,
        family: str | None = None,
        started_by: str | None = None,
        service_name: str | None = None,
        desiredStatus: str | None = None,
    ) -> list:  # noqa: N803  # pylint: disable=invalid-name
        found = original(self, cluster_str, container_instance, family, started_by, service_name, desiredStatus)
        if service_name:  # moto ignores serviceName; a service's tasks are in the group service:<name> (API_Task)
            found = [task for task in found if task.group == "service:%s" % service_name.split("/")[-1]]
        return found

    return list_tasks


def _reset(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def reset(self: Any) -> None:
        forget_all()
        original(self)

    return reset


# moto's reset (and maybe StopTask, ListTasks) are wrapped by other extensions too (elbv2_dataplane, dns_dataplane):
# the wrappers chain, each recognised by its own mark (patching.MethodPatches; moto imported at the first apply()).
_ECS = "moto.ecs.models:EC2ContainerServiceBackend"
_PATCHES = MethodPatches(
    (
        (_ECS, "stop_task", _stop_task),
        (_ECS, "list_tasks", _list_tasks),
        ("moto.moto_api._internal.models:MotoAPIBackend", "reset", _reset),
    )
)
apply, applied = _PATCHES.apply, _PATCHES.applied  # apply() is idempotent


def restore() -> None:
    """End every task and undo :func:`apply` (tests); a method another extension wrapped afterwards keeps the chain."""
    forget_all()
    _PATCHES.restore()


remove = restore  # the name the data plane's older tests use
