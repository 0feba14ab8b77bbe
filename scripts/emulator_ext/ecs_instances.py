# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: the ECS agent on EC2 instances, placement on container instances, spot interruptions.

What AWS does
    - **The agent joins its cluster.** An instance of the ECS-optimised AMI starts the ECS container agent, which reads
      ``/etc/ecs/ecs.config`` (written by the user data; ``ECS_CLUSTER=<name>``) and calls RegisterContainerInstance
      with the instance identity document and its resources: CPU = 1024 units per vCPU, MEMORY = the memory the
      operating system reports (MemTotal) minus ``ECS_RESERVED_MEMORY``
      (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/memory-management.html: "an m4.large instance has
      8 GiB of installed memory ... free -b 8373026816 bytes" = 7985 MiB; ``ECS_RESERVED_MEMORY`` "reserves memory ...
      from the pool of memory that the agent registers",
      https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-agent-config.html). A cluster that does not
      exist is terminal for the agent (ecs_agent.py). When the instance terminates, ECS deregisters the container
      instance (it becomes INACTIVE) and its tasks stop with it.
    - **Placement.** The scheduler places a task of the EC2 launch type (or of a capacity provider of an Auto Scaling
      group) only on an ACTIVE container instance whose remaining CPU and memory hold the task's, never on a DRAINING
      one ("Amazon ECS prevents new tasks from being scheduled for placement on the container instance",
      https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-instance-draining.html), honouring the
      ``distinctInstance`` constraint and spreading by ``attribute:ecs.availability-zone``. When none has room the
      service writes "service <name> was unable to place a task because no container instance met all of its
      requirements" (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages-list.html) and a
      capacity provider with managed scaling scales its Auto Scaling group out (the task waits in PROVISIONING,
      https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-auto-scaling.html).
    - **Draining.** UpdateContainerInstancesState DRAINING: the service scheduler replaces the instance's RUNNING
      service tasks according to minimumHealthyPercent / maximumPercent, stopping them (deregistered from the target
      group, drained, then stopped) once the replacements allow it (container-instance-draining.html above; the
      scheduler part is in ecs_dataplane.py).
    - **Spot interruption.** EC2 gives a Spot Instance a two-minute interruption notice before terminating it; "If
      Amazon ECS Spot Instance draining is turned on on the instance, Amazon ECS receives the Spot Instance
      interruption notice and places the instance in DRAINING status" (``ECS_ENABLE_SPOT_INSTANCE_DRAINING=true``,
      https://docs.aws.amazon.com/AmazonECS/latest/developerguide/spot-instance-draining-linux-container.html).
      Auto Scaling then replaces the terminated instance.

What moto does
    No agent: an instance launched with ``ECS_CLUSTER=`` in its user data never becomes a container instance;
    RegisterContainerInstance registers 4096 CPU / 7482 MiB whatever the type; nothing is placed anywhere
    (``ecs_dataplane`` ran tasks without a container instance); no spot interruption exists.

How this extension imitates AWS (docs/emulator.md, "ECS container instances")
    - ``InstanceBackend.run_instances`` is wrapped: every new instance whose user data sets ``ECS_CLUSTER`` (cloud-config
      ``write_files`` content or ``echo ECS_CLUSTER=... >> /etc/ecs/ecs.config``) is registered in that cluster when it
      exists (through RegisterContainerInstance, so ecs_agent's "Cluster not found." applies), with
      :func:`registered_resources` of its type; its agent settings are kept on the container instance.
    - ``InstanceBackend.terminate_instances`` is wrapped: the instance's local tasks are stopped and its container
      instance deregistered.
    - :func:`choose_instance` (pure) is the placement ecs_dataplane uses; :func:`scale_out` the managed scaling.
    - ``POST /megapool-api/spot-interruption`` with ``{"region", "instance_id", "notice_seconds"}`` (default 120) plays
      the notice: DRAINING when the agent's ``ECS_ENABLE_SPOT_INSTANCE_DRAINING`` is ``true``, then after the notice
      the instance terminates (Auto Scaling's ``terminate_instance`` without decrement, so the group replaces it).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import threading
import time
from typing import Any
from typing import Callable
from typing import Iterable
from typing import Mapping

from .patching import MethodPatches

ROUTE = "/megapool-api/spot-interruption"
SPOT_NOTICE_SECONDS = 120.0
# MemTotal / installed memory of the one figure AWS publishes (m4.large: 7985 of 8192 MiB, memory-management.html).
MEMTOTAL_RATIO = 7985.0 / 8192.0
CPU_UNITS_PER_VCPU = 1024
AGENT = "_megapool_agent_config"
_AGENT_LINE = re.compile(r"""^\s*(?:-\s*)?(?:echo\s+(?:-e\s+)?)?["']?(ECS_[A-Z0-9_]+)=([^\s"'>]*)""")


class SpotInterruptionError(Exception):
    """A spot interruption the emulator cannot play (unknown or not running instance): HTTP 400."""


# --------------------------------------------------------------------------------------------- pure helpers


def user_data_text(user_data: Any) -> str:
    """The text of an instance's user data (moto keeps it base64-encoded, sometimes in a one-element list)."""
    if isinstance(user_data, (list, tuple)):
        user_data = user_data[0] if user_data else ""
    if isinstance(user_data, bytes):
        user_data = user_data.decode("utf-8", "replace")
    text = str(user_data or "")
    try:
        decoded = base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return text
    return decoded


def agent_config(user_data: Any) -> dict[str, str]:
    """The ``ECS_*`` settings the user data writes into /etc/ecs/ecs.config (the last one of a name wins)."""
    found = {}
    for line in user_data_text(user_data).splitlines():
        match = _AGENT_LINE.match(line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def registered_resources(vcpus: int, memory_mib: int, reserved_mib: int = 0) -> tuple[int, int]:
    """(CPU units, MiB) the agent registers for a type: 1024 per vCPU; MemTotal minus ECS_RESERVED_MEMORY."""
    memtotal = int(int(memory_mib) * MEMTOTAL_RATIO)
    return int(vcpus) * CPU_UNITS_PER_VCPU, max(memtotal - max(int(reserved_mib or 0), 0), 0)


def choose_instance(
    candidates: Iterable[Mapping[str, Any]], cpu: int, memory: int, distinct: bool = False, ports: Iterable[int] = ()
) -> str | None:
    """The container instance a task goes to, or None when none has room.

    ``candidates``: ``arn``, ``status``, ``cpu`` and ``memory`` (remaining), ``zone``, ``service_tasks`` (tasks of the
    same service on it), ``ports`` (host ports in use). Only ACTIVE instances with room and none of the task's host
    ``ports`` in use; with ``distinct`` (distinctInstance) only those without a task of the service; spread over zones
    (the zone with the fewest tasks of the service first), then the instance with the fewest, then the ARN.
    """
    candidates = list(candidates)
    wanted_ports = {int(port) for port in ports if port}
    fitting = [
        item
        for item in candidates
        if item.get("status") == "ACTIVE"
        and int(item.get("cpu") or 0) >= int(cpu)
        and int(item.get("memory") or 0) >= int(memory)
        and not (distinct and int(item.get("service_tasks") or 0))
        and not wanted_ports & {int(port) for port in item.get("ports") or ()}
    ]
    if not fitting:
        return None
    per_zone: dict[str, int] = {}
    for item in candidates:
        per_zone[item.get("zone") or ""] = per_zone.get(item.get("zone") or "", 0) + int(item.get("service_tasks") or 0)
    best = min(
        fitting,
        key=lambda item: (per_zone.get(item.get("zone") or "", 0), int(item.get("service_tasks") or 0), item["arn"]),
    )
    return str(best["arn"])


def unable_to_place(service_name: str) -> str:
    """AWS's service event when no container instance has room (service-event-messages-list.html)."""
    return (
        "service %s was unable to place a task because no container instance met all of its requirements. "
        "Reason: No Container Instances were found in your cluster that are ACTIVE and have enough CPU and memory."
        % service_name
    )


def scale_out_target(desired: int, maximum: int, in_service: int, wanted: int) -> int | None:
    """The group's new desired capacity for ``wanted`` more instances (at most its maximum), or None: no change."""
    target = min(max(int(desired), int(in_service)) + max(int(wanted), 0), int(maximum))
    return target if target > int(desired) else None


def _truthy(value: Any) -> bool:
    return str(value or "").strip().lower() == "true"


# --------------------------------------------------------------------------------------------- moto look-ups


def _ecs(account_id: str, region: str) -> Any:
    from moto.ecs.models import ecs_backends  # pylint: disable=import-outside-toplevel

    return ecs_backends[account_id][region]


def _resource(resources: list[dict[str, Any]], name: str) -> int:
    return int(next((item.get("integerValue") or 0 for item in resources if item.get("name") == name), 0))


def _set_resource(resources: list[dict[str, Any]], name: str, value: int) -> None:
    for item in resources:
        if item.get("name") == name:
            item["integerValue"] = int(value)


def container_instances(backend: Any, cluster_name: str) -> list[Any]:
    """Every registered container instance of a cluster (moto's objects)."""
    return list((backend.container_instances.get(cluster_name) or {}).values())


def find_container_instance(backend: Any, ec2_instance_id: str) -> tuple[str, Any] | None:
    """(cluster name, container instance) of an EC2 instance in any cluster of the backend."""
    for cluster_name, instances in list(backend.container_instances.items()):
        for instance in list(instances.values()):
            if instance.ec2_instance_id == ec2_instance_id:
                return cluster_name, instance
    return None


def task_requirements(definition: Any) -> tuple[int, int, list[int]]:
    """(CPU units, MiB, host ports) a task needs on an instance: the task-level cpu/memory when set (they are what EC2
    placement uses then), else the containers' ``cpu`` and ``memory`` (or ``memoryReservation``); host ports only
    outside awsvpc (there every task has its own ENI)."""
    containers = list(getattr(definition, "container_definitions", None) or [])
    cpu = sum(int(item.get("cpu") or 0) for item in containers)
    memory = sum(int(item.get("memory") or item.get("memoryReservation") or 0) for item in containers)
    if str(getattr(definition, "cpu", None) or "").isdigit():
        cpu = int(definition.cpu)
    if str(getattr(definition, "memory", None) or "").isdigit():
        memory = int(definition.memory)
    ports = []
    if getattr(definition, "network_mode", None) != "awsvpc":
        ports = [
            int(mapping["hostPort"])
            for item in containers
            for mapping in item.get("portMappings") or []
            if mapping.get("hostPort")
        ]
    return cpu, memory, ports


def remaining(registered: Mapping[str, int], holding: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """What is left on an instance: its registered CPU and MEMORY minus those of the tasks that hold it, their host
    ``ports`` (only tasks outside awsvpc hold host ports), and how many tasks run there."""
    holding = list(holding)
    return {
        "CPU": int(registered.get("CPU") or 0) - sum(int(item.get("cpu") or 0) for item in holding),
        "MEMORY": int(registered.get("MEMORY") or 0) - sum(int(item.get("memory") or 0) for item in holding),
        "PORTS": sorted({str(port) for item in holding for port in item.get("ports") or ()}),
        "running": len(holding),
    }


def _holds(task: Any) -> bool:
    """Whether a task still holds its instance's resources: until it is STOPPED (a local task: until its process ended;
    an ecs_tasks timer task: until its time is up)."""
    from . import ecs_dataplane  # pylint: disable=import-outside-toplevel

    local = ecs_dataplane.local_task(task)
    if local is not None:
        return not local.finished.is_set()
    if task.desired_status == "STOPPED" or getattr(task, "_status", None) == "STOPPED":
        return False
    run = getattr(task, "_megapool_run", None) or {}  # ecs_tasks' timer
    return not (run.get("stop_at") is not None and run.get("exit") is not None and time.monotonic() >= run["stop_at"])


def refresh(backend: Any, cluster_name: str) -> None:
    """Recompute every container instance's remainingResources and runningTasksCount from the tasks placed on it.

    moto counts them up when it places a RunTask task and down only in its own StopTask, so a task that ends by itself
    would hold its instance for ever (and an awsvpc task's container port, which on AWS is on the task's own ENI)."""
    instances = container_instances(backend, cluster_name)
    if not instances:
        return
    holding: dict[str, list[dict[str, Any]]] = {}
    for task in list((backend.tasks.get(cluster_name) or {}).values()):
        arn = getattr(task, "container_instance_arn", None)
        if not arn or not _holds(task):
            continue
        needs = getattr(task, "resource_requirements", None) or {}
        awsvpc = bool(getattr(task, "attachments", None))  # an ENI of its own
        holding.setdefault(arn, []).append(
            {
                "cpu": needs.get("CPU"),
                "memory": needs.get("MEMORY"),
                "ports": [] if awsvpc else list(needs.get("PORTS") or []),
            }
        )
    for instance in instances:
        registered = {name: _resource(instance.registered_resources, name) for name in ("CPU", "MEMORY")}
        left = remaining(registered, holding.get(instance.container_instance_arn, []))
        _set_resource(instance.remaining_resources, "CPU", left["CPU"])
        _set_resource(instance.remaining_resources, "MEMORY", left["MEMORY"])
        base = next(
            (item.get("stringSetValue") or [] for item in instance.registered_resources if item.get("name") == "PORTS"),
            [],
        )
        for item in instance.remaining_resources:
            if item.get("name") == "PORTS":
                item["stringSetValue"] = sorted(set(base) | set(left["PORTS"]))
        instance.running_tasks_count = left["running"]


def candidates(
    backend: Any, cluster_name: str, service_arns: Mapping[str, int], ports: Mapping[str, Iterable[int]] | None = None
) -> list[dict[str, Any]]:
    """The cluster's container instances as :func:`choose_instance` reads them."""
    return [
        {
            "arn": instance.container_instance_arn,
            "status": instance.status,
            "cpu": _resource(instance.remaining_resources, "CPU"),
            "memory": _resource(instance.remaining_resources, "MEMORY"),
            "zone": (instance.attributes or {}).get("ecs.availability-zone"),
            "service_tasks": int(service_arns.get(instance.container_instance_arn, 0)),
            "ports": list((ports or {}).get(instance.container_instance_arn) or ()),
        }
        for instance in container_instances(backend, cluster_name)
    ]


def register(ec2_backend: Any, instance: Any) -> Any:
    """What the agent does at boot: join the cluster of ``ECS_CLUSTER`` when it exists; the container instance or None."""
    config = agent_config(getattr(instance, "user_data", None))
    cluster = config.get("ECS_CLUSTER")
    if not cluster:
        return None
    backend = _ecs(ec2_backend.account_id, ec2_backend.region_name)
    if cluster not in backend.clusters or find_container_instance(backend, instance.id):
        return None  # the agent exits (ClientException: Cluster not found.), or it joined already
    try:
        registered = backend.register_container_instance(cluster, instance.id)
    except Exception:  # pylint: disable=broad-except
        return None
    from moto.ec2.models.instance_types import INSTANCE_TYPES  # pylint: disable=import-outside-toplevel

    info = INSTANCE_TYPES.get(instance.instance_type) or {}
    vcpus = int((info.get("VCpuInfo") or {}).get("DefaultVCpus") or 2)
    memory = int((info.get("MemoryInfo") or {}).get("SizeInMiB") or 4096)
    reserved = (
        int(config.get("ECS_RESERVED_MEMORY") or 0) if str(config.get("ECS_RESERVED_MEMORY") or "0").isdigit() else 0
    )
    cpu, mib = registered_resources(vcpus, memory, reserved)
    for resources in (registered.registered_resources, registered.remaining_resources):
        _set_resource(resources, "CPU", cpu)
        _set_resource(resources, "MEMORY", mib)
    setattr(registered, AGENT, config)
    return registered


def deregister(ec2_backend: Any, instance_id: str) -> bool:
    """The instance terminated: its local tasks stop, its container instance is deregistered (INACTIVE)."""
    backend = _ecs(ec2_backend.account_id, ec2_backend.region_name)
    found = find_container_instance(backend, instance_id)
    if found is None:
        return False
    cluster_name, instance = found
    from . import ecs_dataplane  # pylint: disable=import-outside-toplevel

    for local in ecs_dataplane.tasks_on(instance.container_instance_arn):
        local.stop("Host EC2 (instance %s) terminated." % instance_id, "TerminationNotice", drain=False)
    instance.status = "INACTIVE"
    instance.running_tasks_count = 0
    try:
        backend.deregister_container_instance(cluster_name, instance.container_instance_arn, True)
    except Exception:  # pylint: disable=broad-except
        return False
    return True


def scale_out(backend: Any, service: Any, wanted: int = 1) -> int | None:
    """Managed scaling of the service's capacity provider: raise its group's desired capacity (None: no change)."""
    from moto.autoscaling.models import autoscaling_backends  # pylint: disable=import-outside-toplevel

    strategy = list(getattr(service, "capacity_provider_strategy", None) or [])
    for deployment in getattr(service, "deployments", None) or []:
        strategy = strategy or list(deployment.get("capacityProviderStrategy") or [])
    cluster = backend.clusters.get(service.cluster_name)
    strategy = strategy or list(getattr(cluster, "default_capacity_provider_strategy", None) or [])
    for item in strategy:
        provider = backend.capacity_providers.get(item.get("capacityProvider"))
        details = getattr(provider, "auto_scaling_group_provider", None) or {}
        if str((details.get("managedScaling") or {}).get("status") or "").upper() != "ENABLED":
            continue
        name = str(details.get("autoScalingGroupArn") or "").split("autoScalingGroupName/", 1)[-1]
        scaling = autoscaling_backends[backend.account_id][backend.region_name]
        group = scaling.autoscaling_groups.get(name)
        if group is None:
            continue
        target = scale_out_target(group.desired_capacity or 0, group.max_size or 0, len(group.instance_states), wanted)
        if target is None:
            continue
        scaling.set_desired_capacity(name, target)
        return target
    return None


def spot_interruption(
    region: str, instance_id: str, notice_seconds: float = SPOT_NOTICE_SECONDS, account_id: str | None = None
) -> dict[str, Any]:
    """Play EC2's spot interruption notice for an instance; returns what happens (draining, when it terminates)."""
    from moto.core import DEFAULT_ACCOUNT_ID  # pylint: disable=import-outside-toplevel
    from moto.ec2.models import ec2_backends  # pylint: disable=import-outside-toplevel

    account = account_id or DEFAULT_ACCOUNT_ID
    ec2 = ec2_backends[account][region]
    try:
        instance = ec2.get_instance(instance_id)
    except Exception as error:  # pylint: disable=broad-except
        raise SpotInterruptionError("no instance %s in %s" % (instance_id, region)) from error
    if instance.state != "running":
        raise SpotInterruptionError("instance %s in %s is %s, not running" % (instance_id, region, instance.state))
    backend = _ecs(account, region)
    found = find_container_instance(backend, instance_id)
    draining = False
    if found is not None:
        cluster_name, container = found
        if _truthy(getattr(container, AGENT, {}).get("ECS_ENABLE_SPOT_INSTANCE_DRAINING")):
            backend.update_container_instances_state(cluster_name, [container.container_instance_arn], "DRAINING")
            draining = True
    timer = threading.Timer(max(float(notice_seconds), 0.0), _terminate, args=(account, region, instance_id))
    timer.daemon = True
    timer.start()
    return {
        "region": region,
        "instance_id": instance_id,
        "draining": draining,
        "container_instance_arn": found[1].container_instance_arn if found else None,
        "terminates_at": time.time() + max(float(notice_seconds), 0.0),
    }


def _terminate(account: str, region: str, instance_id: str) -> None:
    """The end of the notice: the instance terminates; its Auto Scaling group (if any) replaces it."""
    from moto.autoscaling.models import autoscaling_backends  # pylint: disable=import-outside-toplevel
    from moto.ec2.models import ec2_backends  # pylint: disable=import-outside-toplevel
    from . import ecs_deployments  # pylint: disable=import-outside-toplevel

    with ecs_deployments._LOCK:  # pylint: disable=protected-access  # not in the middle of a scheduler step
        try:
            scaling = autoscaling_backends[account][region]
            if any(
                state.instance.id == instance_id
                for group in scaling.autoscaling_groups.values()
                for state in group.instance_states
            ):
                scaling.terminate_instance(instance_id, False)
            else:
                ec2_backends[account][region].terminate_instances([instance_id])
        except Exception as error:  # pylint: disable=broad-except
            print("emulator: spot interruption of %s in %s: %r" % (instance_id, region, error), flush=True)


# --------------------------------------------------------------------------------------------- patches


def _run_instances(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def run_instances(self: Any, *args: Any, **kwargs: Any) -> Any:
        reservation = original(self, *args, **kwargs)
        for instance in reservation.instances:
            register(self, instance)
        return reservation

    return run_instances


def _terminate_instances(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def terminate_instances(self: Any, instance_ids: list[str], *args: Any, **kwargs: Any) -> Any:
        result = original(self, instance_ids, *args, **kwargs)
        for instance_id in instance_ids:
            deregister(self, instance_id)
        return result

    return terminate_instances


def _refreshed(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: Any, cluster_str: Any = None, *args: Any, **kwargs: Any) -> Any:
        try:
            refresh(self, str(cluster_str or "default").rsplit("/", maxsplit=1)[-1])
        except Exception:  # pylint: disable=broad-except
            pass
        return original(self, cluster_str, *args, **kwargs)

    return method


_RUN_TASK_PARAMS = (
    "cluster_str",
    "task_definition_str",
    "count",
    "overrides",
    "started_by",
    "tags",
    "launch_type",
    "networking_configuration",
    "group",
    "platform_version",
    "capacity_provider_strategy",
)


class _Strategy:  # pylint: disable=too-few-public-methods
    """What scale_out reads of a service, for a RunTask request."""

    def __init__(self, cluster_name: str, strategy: list[dict[str, Any]]) -> None:
        self.cluster_name = cluster_name
        self.capacity_provider_strategy = strategy
        self.deployments: list[dict[str, Any]] = []


def provision(
    backend: Any,
    cluster_name: str,
    definition: Any,
    count: int,
    strategy: list[dict[str, Any]] | None,
    launch_type: str | None,
) -> int:
    """RunTask on capacity providers: tasks that have no room wait in PROVISIONING while managed scaling adds instances
    (cluster-auto-scaling.html); here the group is scaled out before moto places them. The instances added."""
    if launch_type or not container_instances(backend, cluster_name):
        return 0
    cluster = backend.clusters.get(cluster_name)
    strategy = list(strategy or getattr(cluster, "default_capacity_provider_strategy", None) or [])
    if not strategy or strategy[0].get("capacityProvider") in ("FARGATE", "FARGATE_SPOT"):
        return 0
    cpu, memory, ports = task_requirements(definition)
    refresh(backend, cluster_name)
    free = [
        item for item in candidates(backend, cluster_name, {}) if choose_instance([item], cpu, memory, False, ports)
    ]
    wanted = max(int(count or 1) - len(free), 0)
    if wanted and scale_out(backend, _Strategy(cluster_name, strategy), wanted) is not None:
        refresh(backend, cluster_name)
        return wanted
    return 0


def _provisioned(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def run_task(self: Any, *args: Any, **kwargs: Any) -> Any:
        given = dict(zip(_RUN_TASK_PARAMS, args), **kwargs)
        try:
            cluster_name = str(given.get("cluster_str") or "default").rsplit("/", maxsplit=1)[-1]
            refresh(self, cluster_name)
            provision(
                self,
                cluster_name,
                self.describe_task_definition(given["task_definition_str"]),
                int(given.get("count") or 1),
                given.get("capacity_provider_strategy"),
                given.get("launch_type"),
            )
        except Exception:  # pylint: disable=broad-except
            pass
        return original(self, *args, **kwargs)

    return run_task


def _dispatch(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        if (environ.get("PATH_INFO") or "").rstrip("/") != ROUTE:
            return original(self, environ, start_response)
        status, answer = "200 OK", {}
        try:
            if environ.get("REQUEST_METHOD") != "POST":
                raise SpotInterruptionError('POST {"region": ..., "instance_id": ..., "notice_seconds": 120}')
            length = int(environ.get("CONTENT_LENGTH") or 0)
            request = json.loads(environ["wsgi.input"].read(length) or b"{}")
            answer = spot_interruption(
                str(request["region"]),
                str(request["instance_id"]),
                float(request.get("notice_seconds", SPOT_NOTICE_SECONDS)),
            )
        except (SpotInterruptionError, KeyError, ValueError, TypeError) as error:
            status, answer = "400 Bad Request", {"error": str(error) or repr(error)}
        body = json.dumps(answer, sort_keys=True).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return method


def _patches() -> tuple[tuple[type, str, Callable[[Any], Any]], ...]:
    from moto.ec2.models.instances import InstanceBackend  # pylint: disable=import-outside-toplevel
    from moto.ecs.models import EC2ContainerServiceBackend  # pylint: disable=import-outside-toplevel
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication  # pylint: disable=import-outside-toplevel

    return (
        (EC2ContainerServiceBackend, "describe_container_instances", _refreshed),
        (EC2ContainerServiceBackend, "run_task", _provisioned),
        (InstanceBackend, "run_instances", _run_instances),
        (InstanceBackend, "terminate_instances", _terminate_instances),
        (DomainDispatcherApplication, "__call__", _dispatch),
    )


# Other extensions wrap run_instances (autoscaling) and the dispatcher (elbv2_dataplane): the wrappers chain, each
# wrapping whatever is there, recognised by this extension's own mark (patching.MethodPatches). Made at the first
# apply(): moto's classes are imported then, not when the emulator imports its extensions.
_INSTALLED: list[MethodPatches] = []


def _installed() -> MethodPatches:
    if not _INSTALLED:
        _INSTALLED.append(MethodPatches(_patches()))
    return _INSTALLED[0]


def apply() -> None:
    """Install the patches (idempotent)."""
    _installed().apply()


def applied() -> bool:
    """Whether every patch is installed."""
    return _installed().applied()


def restore() -> None:
    """Put moto's methods back (tests); a method another extension wrapped afterwards keeps the chain."""
    _installed().restore()
