#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ecs_container_instance_drain
short_description: Drain ECS container instances and wait until their tasks are gone, or make them active again
version_added: 0.1.0
description:
  - Sets ECS container instances, given by EC2 instance id or container-instance ARN, to C(DRAINING), then waits, with
    a bounded timeout, until no task runs or is pending on them, and reports the progress (tasks left per instance)
    and the final state of each instance.
  - Optionally, once an instance has drained, completes the Auto Scaling termination lifecycle action it is waiting in
    (its lifecycle state is C(Terminating:Wait)), so the group can terminate it.
  - With O(state=active), sets the instances back to C(ACTIVE) (no waiting).
  - All requested instances are looked up before any change; instances that are not registered in the cluster make
    the module fail with a message naming them and the cluster, and nothing is changed.
  - EC2 instance ids are resolved with one paginated C(ListContainerInstances) and one C(DescribeContainerInstances)
    (per 100 instances); container-instance ARNs alone need only the describe. Each poll is one describe.
  - Draining replaces the tasks of services elsewhere; standalone tasks (C(RunTask)) keep running until they end or are
    stopped, so a drain can time out on them.
  - An instance already in the requested state is left alone; one already C(DRAINING) with no tasks left reports no change.
options:
  cluster:
    description:
      - The name or ARN of the ECS cluster.
    type: str
    required: true
  instance_ids:
    description:
      - EC2 instance ids of the container instances.
      - At least one of O(instance_ids) and O(container_instance_arns) must be non-empty.
    type: list
    elements: str
    default: []
  container_instance_arns:
    description:
      - Container-instance ARNs (or container-instance ids) of the instances.
    type: list
    elements: str
    default: []
  state:
    description:
      - V(draining) sets the instances to C(DRAINING) and (with O(wait)) waits until they have no tasks.
      - V(active) sets them back to C(ACTIVE).
    type: str
    choices: ['draining', 'active']
    default: draining
  wait:
    description:
      - With O(state=draining), wait until no task runs or is pending on the instances.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait at most. On timeout the module fails, listing the instances that still have tasks
        (and how many), with the progress in RV(history).
      - When the module runs as a task, the collection's action plugin does the waiting on the controller and prints
        the progress as it changes; the timeout and the poll interval mean the same there.
    type: int
    default: 600
  poll_interval:
    description:
      - Seconds between two polls of the instances while waiting.
    type: float
    default: 5
  lifecycle_hook_name:
    description:
      - The name of the Auto Scaling termination lifecycle hook whose pending action to complete, for each instance,
        once it has drained. Needs O(auto_scaling_group_name).
      - Only instances of O(auto_scaling_group_name) whose lifecycle state is C(Terminating:Wait) have a pending action;
        other instances are left alone. An instance of another Auto Scaling group is an error (before any change).
      - Without O(wait), only the actions of instances that have no tasks left already are completed.
      - Not used with O(state=active).
      - Not for a capacity provider with managed draining - ECS adds its own hook (C(ecs-managed-draining-termination-hook)),
        drains terminating instances and completes it itself; that hook name is refused (before any change). See
        U(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-instance-draining.html).
    type: str
  auto_scaling_group_name:
    description:
      - The Auto Scaling group of O(lifecycle_hook_name).
    type: str
  lifecycle_action_result:
    description:
      - The result to complete the lifecycle action with. V(CONTINUE) lets the termination go on.
    type: str
    choices: ['CONTINUE', 'ABANDON']
    default: CONTINUE
author:
  - megapool.aws maintainers (@megapool)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - In check mode the module makes no change and does not wait; it reports which instances would change state
        and which lifecycle actions are pending.
extends_documentation_fragment:
  - megapool.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Drain two instances before replacing them, 15 minutes at most
  megapool.aws.ecs_container_instance_drain:
    cluster: shop-prod
    instance_ids:
      - i-0a1b2c3d4e5f60001
      - i-0a1b2c3d4e5f60002
    wait_timeout: 900
  register: drained

- name: Show how the drain went
  ansible.builtin.debug:
    msg: "{{ drained.events | map(attribute='tasks_left') | list }}"

- name: Drain an instance the Auto Scaling group is terminating, then let the termination go on
  megapool.aws.ecs_container_instance_drain:
    cluster: shop-prod
    instance_ids: ["{{ instance_id }}"]
    lifecycle_hook_name: shop-prod-drain
    auto_scaling_group_name: shop-prod

- name: Put them back into service
  megapool.aws.ecs_container_instance_drain:
    cluster: shop-prod
    container_instance_arns: "{{ drained.instances | map(attribute='container_instance_arn') | list }}"
    state: active
"""

RETURN = r"""
instances:
  description:
    - The requested container instances after the run (after a drain, as the last poll saw them), in the order they
      were requested. In check mode the status is the one they would get.
  returned: always
  type: list
  elements: dict
  contains:
    ec2_instance_id:
      description: The EC2 instance id.
      type: str
      returned: always
      sample: i-0a1b2c3d4e5f60001
    container_instance_arn:
      description: The container-instance ARN.
      type: str
      returned: always
      sample: arn:aws:ecs:eu-west-1:123456789012:container-instance/shop-prod/0f1e2d3c4b5a69788796a5b4c3d2e1f0
    status:
      description: The status of the container instance, C(ACTIVE) or C(DRAINING) (C(INACTIVE) once deregistered).
      type: str
      returned: always
      sample: DRAINING
    running_tasks_count:
      description: Tasks in the C(RUNNING) state on the instance.
      type: int
      returned: always
      sample: 0
    pending_tasks_count:
      description: Tasks in the C(PENDING) state on the instance.
      type: int
      returned: always
      sample: 0
  sample:
    - ec2_instance_id: i-0a1b2c3d4e5f60001
      container_instance_arn: arn:aws:ecs:eu-west-1:123456789012:container-instance/shop-prod/0f1e2d3c4b5a69788796a5b4c3d2e1f0
      status: DRAINING
      running_tasks_count: 0
      pending_tasks_count: 0
done:
  description:
    - True when the requested state is reached by all instances; with O(state=draining), when no task is left on any.
  returned: always
  type: bool
  sample: true
progress:
  description:
    - One line on the current state of the instances (what each has left).
  returned: always
  type: str
  sample: "draining 2 instances: i-0a1b2c3d4e5f60001 1 task left, i-0a1b2c3d4e5f60002 drained"
events:
  description:
    - The changes seen while waiting, one line per poll where the number of tasks left changed (empty without
      O(wait)). Printed on screen as they happen when the module runs as a task (the collection's action plugin).
  returned: always
  type: list
  elements: str
  sample:
    - "after 10.1 s: i-0a1b2c3d4e5f60001 1 task left"
    - "after 20.2 s: i-0a1b2c3d4e5f60001 drained"
history:
  description:
    - The progress of the drain as data, one snapshot at the start and one per poll where the number of tasks left
      changed. Also returned when the wait times out.
  returned: always
  type: list
  elements: dict
  contains:
    elapsed:
      description: Seconds since the wait started.
      type: float
      returned: always
      sample: 12.5
    tasks_left:
      description: Tasks (running and pending) left on each instance, by EC2 instance id (or ARN when there is none).
      type: dict
      returned: always
      sample: {"i-0a1b2c3d4e5f60001": 1, "i-0a1b2c3d4e5f60002": 0}
  sample:
    - {"elapsed": 0.0, "tasks_left": {"i-0a1b2c3d4e5f60001": 3}}
    - {"elapsed": 10.1, "tasks_left": {"i-0a1b2c3d4e5f60001": 1}}
    - {"elapsed": 20.2, "tasks_left": {"i-0a1b2c3d4e5f60001": 0}}
lifecycle_actions_completed:
  description:
    - EC2 instance ids whose pending termination lifecycle action was completed (would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [i-0a1b2c3d4e5f60001]
diff:
  description:
    - The status of each instance before and after the run (after = predicted in check mode), by EC2 instance id.
  returned: always
  type: dict
  contains:
    before:
      description: Status by instance before the run.
      type: dict
      returned: always
    after:
      description: Status by instance after the run.
      type: dict
      returned: always
  sample:
    before: {"i-0a1b2c3d4e5f60001": ACTIVE}
    after: {"i-0a1b2c3d4e5f60001": DRAINING}
"""

import time
from typing import Any
from typing import Callable

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_message

from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.base import WaitTimeout
from ansible_collections.megapool.aws.plugins.module_utils.base import poll_until
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import DESCRIBE_BATCH
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import UPDATE_BATCH
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import DrainError
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import DrainRequest
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import drain_event
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import drain_progress
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import drain_summary
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import instance_record
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import is_drained
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import lifecycle_pending
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import plan_states
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import predict_states
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import resolve_instances
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import status_view
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import still_busy
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import tasks_left
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import timeout_message
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import unknown_message
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import validate_drain

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    cluster=dict(type="str", required=True),
    instance_ids=dict(type="list", elements="str", default=[]),
    container_instance_arns=dict(type="list", elements="str", default=[]),
    state=dict(type="str", choices=["draining", "active"], default="draining"),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=600),
    poll_interval=dict(type="float", default=5),
    lifecycle_hook_name=dict(type="str"),
    auto_scaling_group_name=dict(type="str"),
    lifecycle_action_result=dict(type="str", choices=["CONTINUE", "ABANDON"], default="CONTINUE"),
)

# The clock and the pause of the wait (tests replace them).
_clock: Callable[[], float] = time.monotonic
_sleep: Callable[[float], None] = time.sleep

# DescribeAutoScalingInstances takes up to 50 instance ids.
_ASG_DESCRIBE_BATCH = 50


# ---------------------------------------------------------------------------------------------- AWS calls


@AWSErrorHandler.common_error_handler("list the container instances of the cluster")
def _list_container_instances(client, cluster: str) -> list[str]:
    paginator = client.get_paginator("list_container_instances")
    return paginator.paginate(cluster=cluster).build_full_result().get("containerInstanceArns", [])


@AWSErrorHandler.common_error_handler("describe the container instances")
def _describe_container_instances(client, cluster: str, arns: list[str]) -> list[dict]:
    found: list[dict] = []
    for start in range(0, len(arns), DESCRIBE_BATCH):
        answer = client.describe_container_instances(
            cluster=cluster, containerInstances=arns[start : start + DESCRIBE_BATCH]
        )
        found.extend(answer.get("containerInstances", []))
    return found


@AWSErrorHandler.common_error_handler("update the state of the container instances")
def _update_state(client, cluster: str, arns: list[str], status: str) -> tuple[list[dict], list[dict]]:
    answer = client.update_container_instances_state(cluster=cluster, containerInstances=arns, status=status)
    return answer.get("containerInstances", []), answer.get("failures", [])


@AWSErrorHandler.common_error_handler("describe the Auto Scaling instances")
def _describe_asg_instances(client, instance_ids: list[str]) -> list[dict]:
    found: list[dict] = []
    for start in range(0, len(instance_ids), _ASG_DESCRIBE_BATCH):
        answer = client.describe_auto_scaling_instances(InstanceIds=instance_ids[start : start + _ASG_DESCRIBE_BATCH])
        found.extend(answer.get("AutoScalingInstances", []))
    return found


@AWSErrorHandler.common_error_handler("complete the lifecycle action")
def _complete_lifecycle_action(client, **params: str) -> None:
    client.complete_lifecycle_action(**params)


# ---------------------------------------------------------------------------------------------- the drain


class _Drain:
    """Finds the instances, sets their state, polls them until drained, completes lifecycle actions."""

    def __init__(self, module: MegapoolAWSModule, request: DrainRequest) -> None:
        self.module = module
        self.request = request
        self.ecs = module.client("ecs")
        self.autoscaling = module.client("autoscaling") if request.completes_lifecycle else None
        self.pending_lifecycle: set[str] = set()
        self.completed: list[str] = []
        self.changed = False
        self.history: list[dict[str, Any]] = []
        self.events: list[str] = []

    # ------------------------------------------------------------------ reading

    def resolve(self) -> list[dict[str, Any]]:
        """The records of the requested instances; fails (before any change) naming the ones not in the cluster."""
        request = self.request
        if request.instance_ids:
            # Listing all and matching here is right on every endpoint (it does not rely on the filter expression).
            arns = _list_container_instances(self.ecs, request.cluster)
        else:
            arns = list(request.container_instance_arns)
        described = _describe_container_instances(self.ecs, request.cluster, arns) if arns else []
        instances, unknown = resolve_instances(request.instance_ids, request.container_instance_arns, described)
        if unknown:
            self.module.fail_json(msg=unknown_message(request.cluster, unknown))
        return instances

    def read_lifecycle(self, instances: list[dict[str, Any]]) -> None:
        """Which instances wait in a termination lifecycle action of the group (fails on instances of another group)."""
        if self.autoscaling is None:
            return
        ids = [record["ec2_instance_id"] for record in instances if record.get("ec2_instance_id")]
        found = _describe_asg_instances(self.autoscaling, ids) if ids else []
        self.pending_lifecycle, elsewhere = lifecycle_pending(found, self.request.auto_scaling_group_name)
        if elsewhere:
            self.module.fail_json(
                msg="auto_scaling_group_name=%s, but these instances belong to another Auto Scaling group: %s. Drain the "
                "instances of one group per task, with that group's lifecycle hook."
                % (self.request.auto_scaling_group_name, ", ".join(elsewhere))
            )

    def _poll(self, instances: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One describe of ``instances``; an instance the cluster no longer knows counts as deregistered (no tasks)."""
        arns = [record["container_instance_arn"] for record in instances]
        by_arn = {
            raw["containerInstanceArn"]: instance_record(raw)
            for raw in _describe_container_instances(self.ecs, self.request.cluster, arns)
        }
        return [
            by_arn.get(
                record["container_instance_arn"],
                dict(record, status="INACTIVE", running_tasks_count=0, pending_tasks_count=0),
            )
            for record in instances
        ]

    # ------------------------------------------------------------------ changing

    def set_state(self, instances: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """UpdateContainerInstancesState for the instances not in the requested state yet (10 per call)."""
        to_change = [record["container_instance_arn"] for record in plan_states(instances, self.request.status)]
        updated: dict[str, dict[str, Any]] = {}
        for start in range(0, len(to_change), UPDATE_BATCH):
            batch = to_change[start : start + UPDATE_BATCH]
            changed, failures = _update_state(self.ecs, self.request.cluster, batch, self.request.status)
            self.changed = self.changed or bool(changed)
            updated.update((raw["containerInstanceArn"], instance_record(raw)) for raw in changed)
            if failures:
                self.module.fail_json(
                    msg="Could not set %s to %s in ECS cluster %s: %s"
                    % (
                        ", ".join(str(item.get("arn")) for item in failures),
                        self.request.status,
                        self.request.cluster,
                        "; ".join(
                            "%s: %s %s" % (item.get("arn"), item.get("reason"), item.get("detail") or "")
                            for item in failures
                        ),
                    ),
                    changed=self.changed,
                    instances=[updated.get(record["container_instance_arn"], record) for record in instances],
                )
        return [updated.get(record["container_instance_arn"], record) for record in instances]

    def complete_lifecycle(self, instances: list[dict[str, Any]]) -> None:
        """Complete the pending lifecycle action of each drained instance (once)."""
        for record in instances:
            instance_id = record.get("ec2_instance_id")
            if instance_id not in self.pending_lifecycle or instance_id in self.completed or not is_drained(record):
                continue
            try:
                _complete_lifecycle_action(
                    self.autoscaling,
                    LifecycleHookName=self.request.lifecycle_hook_name,
                    AutoScalingGroupName=self.request.auto_scaling_group_name,
                    LifecycleActionResult=self.request.lifecycle_action_result,
                    InstanceId=instance_id,
                )
            except is_ansible_aws_error_message("No active Lifecycle Action found"):
                # It timed out (or someone completed it) since we looked: nothing left to complete.
                self.pending_lifecycle.discard(instance_id)
                continue
            self.completed.append(instance_id)
            self.changed = True

    # ------------------------------------------------------------------ waiting

    def wait(self, instances: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Poll until no instance has tasks, completing lifecycle actions on the way; fail after wait_timeout."""
        self.history.append(dict(elapsed=0.0, tasks_left=tasks_left(instances)))
        last = [instances]

        def progress(polled: list[dict[str, Any]], waited: float) -> None:
            change = drain_progress(last[0], polled)
            if change is not None:
                self.history.append(dict(elapsed=round(waited, 1), tasks_left=change))
                self.events.append(drain_event(round(waited, 1), change))
            last[0] = polled
            self.complete_lifecycle(polled)

        try:
            return poll_until(
                lambda: self._poll(last[0]),
                lambda polled: not still_busy(polled),
                what="the tasks of the draining instances to stop",
                timeout=self.request.wait_timeout,
                interval=self.request.poll_interval,
                first=instances,
                progress=progress,
                clock=_clock,
                sleep=_sleep,
            )
        except WaitTimeout as timed_out:
            now = timed_out.last
            self.module.fail_json(
                msg=timeout_message(self.request.cluster, now, self.request.wait_timeout),
                changed=self.changed,
                instances=now,
                history=self.history,
                events=self.events,
                done=False,
                progress=drain_summary(now, self.request.status),
                lifecycle_actions_completed=self.completed,
            )
        return instances

    # ------------------------------------------------------------------ the run

    def run(self) -> dict[str, Any]:
        request = self.request
        before = self.resolve()
        self.read_lifecycle(before)  # before any change
        if self.module.check_mode:
            after = predict_states(before, request.status)
            self.completed = [
                record["ec2_instance_id"]
                for record in before
                if record.get("ec2_instance_id") in self.pending_lifecycle
            ]
            self.changed = bool(plan_states(before, request.status) or self.completed)
            if request.status == "DRAINING":
                self.history.append(dict(elapsed=0.0, tasks_left=tasks_left(before)))
        else:
            after = self.set_state(before)
            if request.status == "DRAINING":
                if request.wait:
                    after = self.wait(after)
                else:
                    self.history.append(dict(elapsed=0.0, tasks_left=tasks_left(after)))
                    self.complete_lifecycle(after)
        return dict(
            changed=self.changed,
            instances=after,
            done=request.status == "ACTIVE" or not still_busy(after),
            progress=drain_summary(after, request.status),
            history=self.history,
            events=self.events,
            lifecycle_actions_completed=self.completed,
            diff=dict(before=status_view(before), after=status_view(after)),
        )


def _run(module: MegapoolAWSModule) -> dict[str, Any]:
    request = validate_drain(module.params)  # before any AWS call
    if request.status == "ACTIVE" and module.params["lifecycle_hook_name"]:
        module.warn("lifecycle_hook_name is only used with state=draining; ignored.")
    try:
        return _Drain(module, request).run()
    except is_ansible_aws_error_code("ClusterNotFoundException"):
        # Any ECS call of the drain may answer it (the cluster option names no cluster of the region): an input error.
        raise DrainError(
            "ECS cluster %s not found in %s. Check the cluster option and the region."
            % (request.cluster, module.region)
        ) from None


def main() -> None:
    module = MegapoolAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(_run, module, input_errors=(DrainError,))


if __name__ == "__main__":
    main()
