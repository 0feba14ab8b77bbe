#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ecs_task_gate
short_description: Run one ECS task (a release's migration), wait until it stops and fail unless it exited with 0
version_added: 0.1.0
description:
  - Runs one task of an ECS task definition (C(RunTask)), e.g. the database migration of a release, then waits, with
    a bounded timeout, until it is C(STOPPED), and succeeds only when its container exited with code 0.
  - On a non-zero exit code, a task that stopped without one (image pull failure, no capacity) or a timeout, the
    module fails with the exit code, the stop code and reason, and the last O(log_lines) lines of the container's
    CloudWatch Logs stream (C(awslogs) driver, stream C(<prefix>/<container>/<task id>)).
  - A gate run is an action, not a state; every call without O(task_arn) starts a new task and reports C(changed).
    Run it only when there is something to gate (a new release).
  - With O(task_arn), the module starts nothing and follows that task (C(changed=false)); this is how a caller polls
    a gate started with O(wait=false).
  - Follows the collection's wait protocol. With O(wait=false) the module starts the task, reads it once and
    returns RV(done), RV(progress) and RV(events); it fails only on a final failure (the task stopped with a
    non-zero exit code).
options:
  cluster:
    description: The name or ARN of the ECS cluster.
    type: str
    required: true
  task_definition:
    description:
      - The task definition to run, as C(family), C(family:revision) or ARN. A family alone runs its latest
        C(ACTIVE) revision.
    type: str
    required: true
  container:
    description:
      - The container whose exit code decides, whose command O(command) overrides and whose log is shown.
      - Defaults to the first essential container of the task definition.
    type: str
  command:
    description:
      - Overrides the container's command for this run (C(containerOverrides)). Leave out to run the task
        definition's own command. An empty list is an error.
    type: list
    elements: str
  network_configuration:
    description: The C(awsvpc) network of the task (needed when the task definition's network mode is C(awsvpc)).
    type: dict
    suboptions:
      subnets:
        description: Subnet ids the task's network interface is placed in.
        type: list
        elements: str
      security_groups:
        description: Security group ids of the task's network interface.
        type: list
        elements: str
      assign_public_ip:
        description: Give the task a public IP.
        type: bool
        default: false
  capacity_provider_strategy:
    description:
      - Capacity providers to run the task on. Without it (and without O(launch_type)) the cluster's default
        strategy applies.
    type: list
    elements: dict
    suboptions:
      capacity_provider:
        description: The capacity provider's name.
        type: str
        required: true
      weight:
        description: Relative weight.
        type: int
        default: 1
      base:
        description: Tasks to place on this provider first.
        type: int
        default: 0
  launch_type:
    description: The launch type, instead of a capacity provider strategy.
    type: str
    choices: ['EC2', 'FARGATE', 'EXTERNAL']
  started_by:
    description:
      - The C(startedBy) mark of the task. RunTask accepts up to 128 letters, numbers, C(-), C(/) and C(_); every run of
        other characters is sent as C(-) (C(release 1.4.2) becomes C(release-1-4-2)).
    type: str
    default: megapool-aws-ecs_task_gate
  role_wait_timeout:
    description:
      - Seconds to keep retrying RunTask while ECS answers that it is unable to assume the task's execution or task
        role. IAM is eventually consistent, so a role created seconds before is often not usable yet
        (U(https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency)).
      - C(0) fails at the first such answer.
    type: int
    default: 60
  check_image:
    description:
      - Before the task starts, when the gate container's image is in a private ECR registry, check with
        C(ecr:BatchGetImage) that it was pushed and, for a multi-platform image (image index), that one of its
        platforms is the task definition's C(runtimePlatform.cpuArchitecture). Either failing stops the gate with
        how to fix it, before any task runs.
      - A single-platform image's architecture is not in its manifest and is not checked.
    type: bool
    default: true
  task_arn:
    description:
      - Follow this task (started by an earlier call with O(wait=false)) instead of starting one.
    type: str
  wait:
    description: Wait until the task is C(STOPPED).
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait at most. On timeout the module fails, naming O(wait_timeout) and showing the last
        progress and log lines.
      - V(0) with O(wait=true) times out at once unless the task has already stopped (with O(task_arn), this is how a
        caller that polls stops the task on its own timeout).
    type: int
    default: 900
  poll_interval:
    description: Seconds between two polls of the task while waiting.
    type: float
    default: 5
  log_lines:
    description: How many of the last lines of the container's log to show when the gate fails (0 for none).
    type: int
    default: 20
  stop_on_timeout:
    description: Stop the task (C(StopTask)) when the wait times out, so a hung job does not keep running.
    type: bool
    default: true
author:
  - megapool.aws maintainers (@megapool)
notes:
  - In check mode nothing runs; the module reads the task definition and reports the task it would start
    (RV(would_run)), with C(changed=true).
extends_documentation_fragment:
  - megapool.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Run the release's migration once, wait at most 15 minutes
  megapool.aws.ecs_task_gate:
    cluster: shop-prod
    task_definition: shop-prod-migrate
    network_configuration:
      subnets: "{{ network_outputs.private_subnet_ids }}"
      security_groups: ["{{ network_outputs.security_groups.cluster }}"]
    capacity_provider_strategy:
      - capacity_provider: shop-prod-app
    wait_timeout: 900

- name: Start a job without waiting, then poll it
  megapool.aws.ecs_task_gate:
    cluster: shop-prod
    task_definition: shop-prod-migrate:42
    command: [bin/shop, eval, "Shop.Release.migrate()"]
    wait: false
  register: started

- name: Poll it until it is done
  megapool.aws.ecs_task_gate:
    cluster: shop-prod
    task_definition: shop-prod-migrate:42
    task_arn: "{{ started.task.task_arn }}"
    wait: false
  register: gate
  until: gate.done
  retries: 60
  delay: 10
"""

RETURN = r"""
task:
  description: The task as the last poll saw it (empty in check mode).
  returned: always
  type: dict
  contains:
    task_arn:
      description: The task's ARN.
      type: str
      returned: when a task ran
      sample: arn:aws:ecs:eu-west-1:123456789012:task/shop-prod/0f1e2d3c4b5a69788796a5b4c3d2e1f0
    task_id:
      description: The task's id (the last part of the ARN; the end of the log stream name).
      type: str
      returned: when a task ran
      sample: 0f1e2d3c4b5a69788796a5b4c3d2e1f0
    task_definition_arn:
      description: The task definition revision that ran.
      type: str
      returned: when a task ran
      sample: arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-prod-migrate:42
    last_status:
      description: The task's last status (C(PROVISIONING), C(PENDING), C(RUNNING), ..., C(STOPPED)).
      type: str
      returned: when a task ran
      sample: STOPPED
    desired_status:
      description: The task's desired status.
      type: str
      returned: when a task ran
      sample: STOPPED
    container:
      description: The name of the gate container.
      type: str
      returned: when a task ran
      sample: app
    container_status:
      description: The last status of the gate container.
      type: str
      returned: when a task ran
      sample: STOPPED
    exit_code:
      description: The gate container's exit code, once it exited (null before, or when it never ran).
      type: int
      returned: when a task ran
      sample: 0
    container_reason:
      description: Why the container stopped, when ECS says (e.g. an image pull failure).
      type: str
      returned: when a task ran
      sample: null
    stop_code:
      description: The task's stop code, e.g. C(EssentialContainerExited).
      type: str
      returned: when a task ran
      sample: EssentialContainerExited
    stopped_reason:
      description: The task's stop reason.
      type: str
      returned: when a task ran
      sample: Essential container in task exited
    created_at:
      description: When the task was created (ISO 8601); the progress counts the task's age from it.
      type: str
      returned: when a task ran
      sample: "2026-11-22T07:29:20.123000+00:00"
    stopped_at:
      description: When the task stopped (ISO 8601), null while it runs.
      type: str
      returned: when a task ran
      sample: "2026-11-22T07:29:22.456000+00:00"
exit_code:
  description: The gate container's exit code (null while running, in check mode, or when it never ran).
  returned: always
  type: int
  sample: 0
done:
  description: True once the task is C(STOPPED) (successful or not).
  returned: always
  type: bool
  sample: true
progress:
  description: One line on the task's current state.
  returned: always
  type: str
  sample: "task 0f1e2d3c4b5a69788796a5b4c3d2e1f0 STOPPED (desired STOPPED) after 42s, exit code 0: Essential container in task exited"
events:
  description: Human-readable events of this call (the start, each status change).
  returned: always
  type: list
  elements: str
  sample: ["0s: task 0f1e2d3c started (PROVISIONING)", "12s: task 0f1e2d3c PROVISIONING -> RUNNING"]
log:
  description: Where the container logs (C(awslogs) driver), null when it does not.
  returned: always
  type: dict
  contains:
    group:
      description: The log group.
      type: str
      returned: when the container uses awslogs
      sample: /ecs/shop-prod
    stream:
      description: The log stream of this task's container.
      type: str
      returned: when the container uses awslogs
      sample: migrate/app/0f1e2d3c4b5a69788796a5b4c3d2e1f0
    region:
      description: The region of the log group.
      type: str
      returned: when the container uses awslogs
      sample: eu-west-1
  sample: {"group": "/ecs/shop-prod", "stream": "migrate/app/0f1e2d3c", "region": "eu-west-1"}
log_lines:
  description: The last O(log_lines) lines of the container's log (only read when the gate fails).
  returned: always
  type: list
  elements: str
  sample: ["** (Postgrex.Error) ERROR 42P07 (duplicate_table) relation \"users\" already exists"]
would_run:
  description: In check mode, the RunTask request the module would send (task definition, command, network).
  returned: in check mode
  type: dict
  sample: {"cluster": "shop-prod", "taskDefinition": "shop-prod-migrate", "count": 1}
"""

import datetime
import time
from typing import Any
from typing import Callable

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_code

from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.base import WaitTimeout
from ansible_collections.megapool.aws.plugins.module_utils.base import backoff_pauses
from ansible_collections.megapool.aws.plugins.module_utils.base import poll_until
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import FAILED
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import MANIFEST_MEDIA_TYPES
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import RUNNING
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import GateError
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import GateRequest
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import failure_message
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import gate_state
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import log_location
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import pick_container
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import progress_line
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import ecr_image
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import image_errors
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import manifest_architectures
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import role_not_ready
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import run_task_params
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import task_age
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import task_events
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import task_view
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import timeout_message
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import validate_gate

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    cluster=dict(type="str", required=True),
    task_definition=dict(type="str", required=True),
    container=dict(type="str"),
    command=dict(type="list", elements="str"),
    network_configuration=dict(
        type="dict",
        options=dict(
            subnets=dict(type="list", elements="str"),
            security_groups=dict(type="list", elements="str"),
            assign_public_ip=dict(type="bool", default=False),
        ),
    ),
    capacity_provider_strategy=dict(
        type="list",
        elements="dict",
        options=dict(
            capacity_provider=dict(type="str", required=True),
            weight=dict(type="int", default=1),
            base=dict(type="int", default=0),
        ),
    ),
    launch_type=dict(type="str", choices=["EC2", "FARGATE", "EXTERNAL"]),
    started_by=dict(type="str", default="megapool-aws-ecs_task_gate"),
    role_wait_timeout=dict(type="int", default=60),
    check_image=dict(type="bool", default=True),
    task_arn=dict(type="str"),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=900),
    poll_interval=dict(type="float", default=5),
    log_lines=dict(type="int", default=20),
    stop_on_timeout=dict(type="bool", default=True),
)

# The clock and the pause of the wait (tests replace them).
_clock: Callable[[], float] = time.monotonic
_sleep: Callable[[float], None] = time.sleep
# RunTask while ECS cannot assume a new role: the first pause, doubled each time up to the cap (seconds).
_ROLE_PAUSE = 2.0
_ROLE_PAUSE_CAP = 15.0


@AWSErrorHandler.common_error_handler("describe the task definition")
def _describe_task_definition(client, task_definition: str) -> dict:
    return client.describe_task_definition(taskDefinition=task_definition)["taskDefinition"]


@AWSErrorHandler.common_error_handler("run the task")
def _run_task(client, params: dict) -> tuple[list[dict], list[dict]]:
    answer = client.run_task(**params)
    return answer.get("tasks", []), answer.get("failures", [])


@AWSErrorHandler.common_error_handler("describe the task")
def _describe_task(client, cluster: str, task_arn: str) -> dict | None:
    tasks = client.describe_tasks(cluster=cluster, tasks=[task_arn]).get("tasks", [])
    return tasks[0] if tasks else None


@AWSErrorHandler.common_error_handler("stop the task")
def _stop_task(client, cluster: str, task_arn: str, reason: str) -> None:
    client.stop_task(cluster=cluster, task=task_arn, reason=reason)


def _log_tail(client, group: str, stream: str, count: int) -> list[str]:
    events = client.get_log_events(logGroupName=group, logStreamName=stream, limit=count, startFromHead=False).get(
        "events", []
    )
    return [event.get("message", "").rstrip("\n") for event in events][-count:]


@AWSErrorHandler.common_error_handler("read the image from ECR")
def _batch_get_image(client, where: dict) -> dict:
    return client.batch_get_image(
        registryId=where["registry"],
        repositoryName=where["repository"],
        imageIds=[where["image_id"]],
        acceptedMediaTypes=MANIFEST_MEDIA_TYPES,
    )


class _Gate:
    """Reads the task definition, starts (or finds) the task, polls it, judges its end."""

    def __init__(self, module: MegapoolAWSModule, request: GateRequest) -> None:
        self.module = module
        self.request = request
        self.ecs = module.client("ecs")
        self.events: list[str] = []
        self.changed = False
        self.start = _clock()
        self.container: dict[str, Any] = {}

    def read_definition(self) -> dict[str, Any] | None:
        """The task definition and its gate container; None in check mode when it does not exist yet."""
        try:
            definition = _describe_task_definition(self.ecs, self.request.task_definition)
        except is_ansible_aws_error_code("ClientException"):
            if self.module.check_mode:
                return None
            self.module.fail_json(
                msg="task_definition=%s: no such task definition in %s. Register it first (role megapool.aws.release does)."
                % (self.request.task_definition, self.module.region)
            )
        container = pick_container(definition, self.request.container)
        if container is None:
            self.module.fail_json(
                msg="container=%s: task definition %s has no such container (it has %s)."
                % (
                    self.request.container,
                    definition.get("taskDefinitionArn"),
                    ", ".join(item.get("name", "") for item in definition.get("containerDefinitions", [])),
                )
            )
        self.container = dict(container)
        return definition

    def _elapsed(self) -> float:
        return _clock() - self.start

    def _age(self, view: dict[str, Any]) -> float:
        return task_age(view, datetime.datetime.now(datetime.timezone.utc), self._elapsed())

    def _log_lines(self, view: dict[str, Any]) -> tuple[list[str], dict[str, str] | None]:
        where = log_location(self.container, view["task_id"], self.module.region)
        if where is None or self.request.log_lines == 0:
            return [], where
        try:
            logs = self.module.client("logs", region=where["region"])
            return _log_tail(logs, where["group"], where["stream"], self.request.log_lines), where
        except Exception:  # pylint: disable=broad-except  # a missing stream must not hide the gate's own failure
            return [], where

    def started(self) -> dict[str, Any]:
        """Start the gate task (or find the one given by task_arn)."""
        name = self.container.get("name")
        if self.request.task_arn:
            raw = _describe_task(self.ecs, self.request.cluster, self.request.task_arn)
            if raw is None:
                self.module.fail_json(
                    msg="task_arn=%s: no such task in cluster %s." % (self.request.task_arn, self.request.cluster)
                )
            return task_view(raw, name)
        tasks, failures = self._run_task_when_roles_work(run_task_params(self.request, name))
        if failures or not tasks:
            self.module.fail_json(
                msg="RunTask of %s in cluster %s placed no task: %s"
                % (
                    self.request.task_definition,
                    self.request.cluster,
                    "; ".join("%s %s" % (item.get("reason"), item.get("detail") or "") for item in failures)
                    or "no reason given",
                ),
                changed=False,
            )
        self.changed = True
        view = task_view(tasks[0], name)
        self.events.extend(task_events(None, view, 0))
        return view

    def _run_task_when_roles_work(self, params: dict[str, Any]) -> tuple[list[dict], list[dict]]:
        """RunTask, retried while ECS cannot assume a role that was just created (IAM eventual consistency): after
        2 s, then twice as long each time up to 15 s, for role_wait_timeout."""
        refusals = [0]

        def attempt() -> tuple[Any, AnsibleAWSError | None]:
            try:
                return _run_task(self.ecs, params), None
            except AnsibleAWSError as e:
                if not role_not_ready(str(e)):
                    raise
                return None, e

        def progress(outcome: tuple[Any, AnsibleAWSError | None], waited: float) -> None:
            if outcome[1] is None:
                return
            pause = min(_ROLE_PAUSE * 2 ** refusals[0], _ROLE_PAUSE_CAP, self.request.role_wait_timeout - waited)
            refusals[0] += 1
            if pause > 0:
                self.events.append(
                    "RunTask: ECS cannot assume the role yet (IAM is eventually consistent), retrying in %ds" % pause
                )

        try:
            placed, _error = poll_until(
                attempt,
                lambda outcome: outcome[1] is None,
                what="ECS to assume the task's role",
                timeout=self.request.role_wait_timeout,
                interval=backoff_pauses(_ROLE_PAUSE, 2.0, _ROLE_PAUSE_CAP),
                progress=progress,
                clock=_clock,
                sleep=_sleep,
            )
        except WaitTimeout as timed_out:
            self.module.fail_json(
                msg="ECS could not assume the task's role for role_wait_timeout=%ds (IAM changes take a while to"
                " reach every region); run again, or raise role_wait_timeout: %s"
                % (self.request.role_wait_timeout, timed_out.last[1])
            )
        return placed

    def poll(self, view: dict[str, Any]) -> dict[str, Any]:
        raw = _describe_task(self.ecs, self.request.cluster, view["task_arn"])
        polled = task_view(raw, view["container"]) if raw else dict(view, last_status="STOPPED")
        self.events.extend(task_events(view, polled, self._age(polled)))
        return polled

    def result(self, view: dict[str, Any], **extra: Any) -> dict[str, Any]:
        where = log_location(self.container, view["task_id"], self.module.region) if view.get("task_id") else None
        return dict(
            dict(
                changed=self.changed,
                task=view,
                exit_code=view.get("exit_code"),
                done=gate_state(view) != RUNNING,
                progress=progress_line(view, self._age(view)),
                events=self.events,
                log=where,
                log_lines=[],
            ),
            **extra,
        )

    def fail(self, view: dict[str, Any], timed_out: bool = False) -> None:
        stopped = False
        if timed_out and self.request.stop_on_timeout:
            _stop_task(
                self.ecs,
                self.request.cluster,
                view["task_arn"],
                "megapool.aws.ecs_task_gate: wait_timeout=%ds" % self.request.wait_timeout,
            )
            stopped = True
        lines, where = self._log_lines(view)
        if timed_out:
            msg = timeout_message(view, self.request.task_definition, self.request.wait_timeout, stopped, lines, where)
        else:
            msg = failure_message(view, self.request.task_definition, lines, where)
        self.module.fail_json(msg=msg, **self.result(view, log_lines=lines))

    def wait(self, view: dict[str, Any]) -> dict[str, Any]:
        last = [view]

        def read() -> dict[str, Any]:
            last[0] = self.poll(last[0])
            return last[0]

        try:
            return poll_until(
                read,
                lambda polled: gate_state(polled) != RUNNING,
                what="task %s to stop" % view.get("task_arn"),
                timeout=self.request.wait_timeout,
                started=self.start,
                interval=self.request.poll_interval,
                first=view,
                clock=_clock,
                sleep=_sleep,
            )
        except WaitTimeout as timed_out:
            self.fail(timed_out.last, timed_out=True)
        return view

    def check_image(self, definition: dict[str, Any]) -> None:
        """A private ECR image must be pushed, and built for the task's architecture, before the task starts."""
        image = self.container.get("image") or ""
        where = ecr_image(image)
        if where is None or not self.request.check_image:
            return
        architecture = (definition.get("runtimePlatform") or {}).get("cpuArchitecture")
        try:
            answer = _batch_get_image(self.module.client("ecr", region=where["region"]), where)
        except is_ansible_aws_error_code("RepositoryNotFoundException"):
            answer = {"images": []}
        images = answer.get("images") or []
        errors = image_errors(
            image,
            where,
            bool(images),
            manifest_architectures(images[0].get("imageManifest")) if images else None,
            architecture,
        )
        if errors:
            self.module.fail_json(msg=" ".join(errors), changed=False)

    def run(self) -> dict[str, Any]:
        definition = self.read_definition()
        if definition and not self.request.task_arn:
            self.check_image(definition)
        if self.module.check_mode and not self.request.task_arn:
            params = run_task_params(self.request, self.container.get("name") or self.request.container or "")
            where = "" if definition else " (the task definition does not exist yet)"
            return dict(
                changed=True,
                task={},
                exit_code=None,
                done=False,
                events=[],
                log=None,
                log_lines=[],
                would_run=params,
                progress="check mode: would run one task of %s in cluster %s%s"
                % (self.request.task_definition, self.request.cluster, where),
            )
        view = self.started()
        if not self.request.task_arn:
            view = self.poll(view)  # the state right after the start
        if self.request.wait:
            view = self.wait(view)
        if gate_state(view) == FAILED:
            self.fail(view)
        return self.result(view)


def _run(module: MegapoolAWSModule) -> dict[str, Any]:
    request = validate_gate(module.params)  # before any AWS call
    try:
        return _Gate(module, request).run()
    except is_ansible_aws_error_code("ClusterNotFoundException"):
        # RunTask, DescribeTasks or StopTask in a cluster the region does not have: an input error.
        raise GateError(
            "ECS cluster %s not found in %s. Check the cluster option and the region."
            % (request.cluster, module.region)
        ) from None


def main() -> None:
    module = MegapoolAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(_run, module, input_errors=(GateError,))


if __name__ == "__main__":
    main()
