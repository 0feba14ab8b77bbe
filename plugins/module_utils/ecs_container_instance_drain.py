# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning of container-instance draining (module ``ecs_container_instance_drain``). No boto3, no I/O.

It works on plain instance records, the snake_case dicts the module returns (:func:`instance_record`), so that
anything holding two module results (a later action plugin that shows progress while it polls) can use the same
functions:

- :func:`resolve_instances` matches the requested EC2 instance ids and container-instance ARNs to the cluster's
  container instances and reports the ones that are not registered;
- :func:`plan_states` lists the instances whose status must change;
- :func:`tasks_left`, :func:`drain_progress` and :func:`still_busy` follow a drain poll by poll;
  :func:`timeout_message` explains a drain that ran out of time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from typing import Iterable
from typing import Mapping
from typing import Sequence

from ansible_collections.megapool.aws.plugins.module_utils.text import seconds


class DrainError(ValueError):
    """Bad module options: the message names the option and the fix."""


INSTANCE_STATES = {"draining": "DRAINING", "active": "ACTIVE"}
# The termination lifecycle hook ECS adds to the group of a capacity provider with managed draining
# (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-instance-draining.html).
ECS_MANAGED_DRAINING_HOOK = "ecs-managed-draining-termination-hook"
# Auto Scaling lifecycle states of an instance waiting for a termination lifecycle action to complete.
TERMINATING_WAIT_STATES = frozenset({"Terminating:Wait", "Warmed:Terminating:Wait"})
# The most container instances one DescribeContainerInstances / UpdateContainerInstancesState call takes.
DESCRIBE_BATCH = 100
UPDATE_BATCH = 10
_EC2_ID_RE = re.compile(r"^(i|mi)-[0-9a-zA-Z]+$")


@dataclass(frozen=True)
class DrainRequest:
    """The validated options of a drain: what to act on and how."""

    cluster: str
    instance_ids: tuple[str, ...]
    container_instance_arns: tuple[str, ...]
    status: str
    wait: bool = True
    wait_timeout: int = 600
    poll_interval: float = 5.0
    lifecycle_hook_name: str | None = None
    auto_scaling_group_name: str | None = None
    lifecycle_action_result: str = "CONTINUE"

    @property
    def completes_lifecycle(self) -> bool:
        return self.status == "DRAINING" and bool(self.lifecycle_hook_name)


def _unique(values: Iterable[Any]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(value).strip() for value in values or ()))


def validate_drain(params: Mapping[str, Any]) -> DrainRequest:
    """The drain options as a :class:`DrainRequest`, or :class:`DrainError` naming the option and the fix."""
    errors = []
    cluster = str(params.get("cluster") or "").strip()
    if not cluster:
        errors.append("cluster is empty: give the name or ARN of the ECS cluster.")
    instance_ids = _unique(params.get("instance_ids") or ())
    arns = _unique(params.get("container_instance_arns") or ())
    if not instance_ids and not arns:
        errors.append(
            "Give the instances to act on in instance_ids (EC2 instance ids) and/or container_instance_arns; both are empty."
        )
    for index, value in enumerate(instance_ids):
        if value.startswith("arn:"):
            errors.append(
                "instance_ids[%d]=%r is an ARN: put container-instance ARNs in container_instance_arns."
                % (index, value)
            )
        elif not _EC2_ID_RE.match(value):
            errors.append("instance_ids[%d]=%r is not an EC2 instance id (i-0123456789abcdef0)." % (index, value))
    for index, value in enumerate(arns):
        if not value:
            errors.append("container_instance_arns[%d] is empty." % index)
    if params.get("wait_timeout", 600) < 0:
        errors.append("wait_timeout must be 0 or more seconds, got %s." % params.get("wait_timeout"))
    if not params.get("poll_interval", 5) > 0:
        errors.append("poll_interval must be more than 0 seconds, got %s." % params.get("poll_interval"))
    hook, group = params.get("lifecycle_hook_name"), params.get("auto_scaling_group_name")
    if bool(hook) != bool(group):
        errors.append("lifecycle_hook_name and auto_scaling_group_name go together: give both or neither.")
    if hook == ECS_MANAGED_DRAINING_HOOK:
        errors.append(
            "lifecycle_hook_name=%s is the hook ECS adds for managed draining: ECS drains those instances and completes it "
            "itself (completing it early would terminate instances whose tasks still run). Leave lifecycle_hook_name and "
            "auto_scaling_group_name out." % hook
        )
    if errors:
        raise DrainError(" ".join(errors))
    return DrainRequest(
        cluster=cluster,
        instance_ids=instance_ids,
        container_instance_arns=arns,
        status=INSTANCE_STATES[params.get("state", "draining")],
        wait=bool(params.get("wait", True)),
        wait_timeout=int(params.get("wait_timeout", 600)),
        poll_interval=float(params.get("poll_interval", 5)),
        lifecycle_hook_name=hook or None,
        auto_scaling_group_name=group or None,
        lifecycle_action_result=params.get("lifecycle_action_result") or "CONTINUE",
    )


def instance_record(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The snake_case record of a container instance from DescribeContainerInstances (what the module returns)."""
    return {
        "ec2_instance_id": raw.get("ec2InstanceId"),
        "container_instance_arn": raw.get("containerInstanceArn"),
        "status": raw.get("status"),
        "running_tasks_count": int(raw.get("runningTasksCount") or 0),
        "pending_tasks_count": int(raw.get("pendingTasksCount") or 0),
    }


def instance_key(record: Mapping[str, Any]) -> str:
    """How an instance is named in progress reports: its EC2 id, or its container-instance ARN."""
    return record.get("ec2_instance_id") or record["container_instance_arn"]


def _arn_matches(arn: str, requested: str) -> bool:
    """A container-instance ARN against a requested ARN or bare container-instance id."""
    return arn == requested or (not requested.startswith("arn:") and arn.rsplit("/", 1)[-1] == requested)


def resolve_instances(
    instance_ids: Sequence[str], container_instance_arns: Sequence[str], described: Iterable[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Match the requested instances to ``described`` container instances (AWS dicts).

    Returns the records of the matches (in request order, each instance once) and the requests that match no
    registered instance. An ``INACTIVE`` (deregistered) container instance does not count as registered.
    """
    registered = [raw for raw in described if raw.get("status") != "INACTIVE"]
    found: dict[str, dict[str, Any]] = {}
    unknown: list[str] = []
    for instance_id in instance_ids:
        match = next((raw for raw in registered if raw.get("ec2InstanceId") == instance_id), None)
        if match is None:
            unknown.append(instance_id)
        else:
            found.setdefault(match["containerInstanceArn"], instance_record(match))
    for requested in container_instance_arns:
        match = next((raw for raw in registered if _arn_matches(raw.get("containerInstanceArn", ""), requested)), None)
        if match is None:
            unknown.append(requested)
        else:
            found.setdefault(match["containerInstanceArn"], instance_record(match))
    return list(found.values()), unknown


def unknown_message(cluster: str, unknown: Sequence[str]) -> str:
    return (
        "Not registered in ECS cluster %s: %s. Check the instance ids and the cluster (a terminated or deregistered "
        "instance is no longer a container instance); nothing was changed." % (cluster, ", ".join(unknown))
    )


def plan_states(instances: Iterable[Mapping[str, Any]], status: str) -> list[dict[str, Any]]:
    """The instances whose status is not ``status`` yet (they get UpdateContainerInstancesState)."""
    return [dict(record) for record in instances if record.get("status") != status]


def predict_states(instances: Iterable[Mapping[str, Any]], status: str) -> list[dict[str, Any]]:
    """The records with their status set to ``status`` (check mode)."""
    return [dict(record, status=status) for record in instances]


def tasks_left(instances: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Tasks still on each instance (running + pending), by :func:`instance_key`."""
    return {
        instance_key(record): int(record.get("running_tasks_count") or 0) + int(record.get("pending_tasks_count") or 0)
        for record in instances
    }


def still_busy(instances: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """The instances that still have tasks, with how many."""
    return {key: count for key, count in tasks_left(instances).items() if count}


def is_drained(record: Mapping[str, Any]) -> bool:
    return not (int(record.get("running_tasks_count") or 0) + int(record.get("pending_tasks_count") or 0))


def drain_progress(
    before: Iterable[Mapping[str, Any]] | None, now: Iterable[Mapping[str, Any]]
) -> dict[str, int] | None:
    """The tasks left per instance in ``now`` if that differs from ``before`` (or there is no ``before``), else None.

    ``before`` and ``now`` are two successive polls (instance records, e.g. RV(instances) of two module results).
    """
    current = tasks_left(now)
    if before is not None and tasks_left(before) == current:
        return None
    return current


def _left_text(left: Mapping[str, int]) -> str:
    return ", ".join(
        "%s %s" % (key, ("%s left" % _tasks(count)) if count else "drained") for key, count in left.items()
    )


def drain_summary(instances: Sequence[Mapping[str, Any]], status: str) -> str:
    """The one-line progress of a drain (or of a return to ACTIVE): what each instance has left."""
    count = len(instances)
    noun = "instance" if count == 1 else "instances"
    if status == "ACTIVE":
        return "%d %s ACTIVE" % (count, noun)
    busy = still_busy(instances)
    if not busy:
        return "%d %s drained" % (count, noun)
    return "draining %d %s: %s" % (count, noun, _left_text(tasks_left(instances)))


def drain_event(elapsed: float, left: Mapping[str, int]) -> str:
    """A change seen while waiting, as the event line a user reads."""
    return "after %s s: %s" % (seconds(round(elapsed, 1)), _left_text(left))


def status_view(instances: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """``{instance: status}`` for the diff."""
    return {instance_key(record): record.get("status") for record in instances}


def _tasks(count: int) -> str:
    return "%d task%s" % (count, "" if count == 1 else "s")


def timeout_message(cluster: str, instances: Iterable[Mapping[str, Any]], timeout: float) -> str:
    busy = still_busy(instances)
    left = ", ".join("%s (%s left)" % (key, _tasks(count)) for key, count in busy.items())
    return (
        "Timed out after %ss waiting for container instances of ECS cluster %s to drain: %s. Draining does not stop "
        "standalone tasks (only service tasks are replaced): stop them, or raise wait_timeout. The progress is in "
        "'events'." % (seconds(timeout), cluster, left)
    )


def lifecycle_pending(asg_instances: Iterable[Mapping[str, Any]], group: str) -> tuple[set[str], list[str]]:
    """From DescribeAutoScalingInstances: the instances of ``group`` waiting in a termination lifecycle action, and
    complaints about instances that belong to another group (``instance (group)``)."""
    pending: set[str] = set()
    elsewhere: list[str] = []
    for item in asg_instances:
        if item.get("AutoScalingGroupName") != group:
            elsewhere.append("%s (%s)" % (item.get("InstanceId"), item.get("AutoScalingGroupName")))
        elif item.get("LifecycleState") in TERMINATING_WAIT_STATES:
            pending.add(item["InstanceId"])
    return pending, elsewhere
