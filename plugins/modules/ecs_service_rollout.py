#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ecs_service_rollout
short_description: Point an ECS service at a task-definition revision and wait until the rollout completes
version_added: 0.1.0
description:
  - Points an existing Amazon ECS service at a task-definition revision (optionally with a new desired count, or a
    forced new deployment), then waits, with a bounded timeout, until the service's PRIMARY deployment has the
    rollout state C(COMPLETED) and runs its desired count of tasks.
  - Reports the progress (rollout state, running/desired and pending tasks, number of deployments) and the service
    events that appeared since the call started.
  - Fails, with the service events, when the rollout state turns C(FAILED), when the deployment circuit breaker
    rolls the service back (a newer deployment on the previous revision replaces the followed one), or when new
    service events report a failed deployment or a rollback. The previous revision keeps serving in that case.
  - A service that already runs the revision (with the wanted desired count) is not updated; the module then only
    reports (and with O(wait), waits for) the state of its PRIMARY deployment. A FAILED deployment of the same
    revision that ECS is still rolling back makes the module fail instead of deploying it again.
  - Follows the project's wait protocol. With O(wait=false) it makes the change (if any), reads the service once and
    returns RV(done) and RV(progress). The action plugin of the same name runs it that way on the controller, once
    for the change and then every O(poll_interval) seconds with O(deployment_id) and O(events_since), and prints a
    line whenever the progress changes and for each new service event.
  - The options are validated before any AWS call; a missing cluster, service or task-definition revision fails
    before any change.
options:
  cluster:
    description:
      - The name or ARN of the ECS cluster.
    type: str
    required: true
  service:
    description:
      - The name or ARN of the ECS service. It must exist (create it with M(community.aws.ecs_service)).
    type: str
    required: true
  task_definition:
    description:
      - The task-definition revision to run, as V(family:revision) or a task-definition ARN. It must be registered.
      - A bare family name is refused, because it would deploy whatever revision is latest.
    type: str
    required: true
  desired_count:
    description:
      - The number of tasks the service should run. Left alone when not set.
    type: int
  force_new_deployment:
    description:
      - Start a new deployment even when the service already runs O(task_definition) (for example to pull a mutable
        image tag again). Reports a change on every run.
    type: bool
    default: false
  strategy:
    description:
      - The deployment strategy of the service (C(deploymentConfiguration.strategy)). V(rolling) replaces tasks in
        place; V(blue_green) is the ECS-native blue/green deployment, which needs the service's load balancer to have
        an alternate target group, a production listener rule and a role (AWS refuses the update otherwise).
      - Left alone when not set. Set on the same C(UpdateService) call that deploys the revision (the strategy is a
        parameter of C(UpdateService), so a service may switch both ways).
      - Going from V(blue_green) back to V(rolling), the module reads the production listener rule and keeps the service
        on the target group that takes the production traffic now (ECS alternates the live one of the pair with every
        blue/green deployment), without C(advancedConfiguration).
    type: str
    choices: ['rolling', 'blue_green']
  bake_time_minutes:
    description:
      - With the V(blue_green) strategy, how many minutes blue and green both run after the production traffic moved
        (C(deploymentConfiguration.bakeTimeInMinutes), 0 to 1440); ECS rolls back when the deployment fails in that
        time. Left alone when not set.
    type: int
  load_balancers:
    description:
      - The service's load balancers in the ECS API's form (C(targetGroupArn), C(containerName), C(containerPort) and,
        for V(blue_green), C(advancedConfiguration) with C(alternateTargetGroupArn), C(productionListenerRule),
        C(roleArn) and optionally C(testListenerRule)). Left alone when not set.
      - The target group and the alternate one count as a pair in either order, and the entry sent is turned so that
        C(targetGroupArn) is the one the production listener rule sends traffic to now.
    type: list
    elements: dict
  lifecycle_hooks:
    description:
      - With the V(blue_green) strategy, Lambda functions ECS runs at lifecycle stages of each deployment
        (C(deploymentConfiguration.lifecycleHooks)); a hook that fails rolls the deployment back. Set on the same
        C(UpdateService) call; an empty list removes the hooks; left alone when not set.
      - The stages are checked against botocore's ECS model (C(DeploymentLifecycleHookStage)), the ARNs by their form,
        before any AWS call.
      - U(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-how-it-works.html)
    type: list
    elements: dict
    suboptions:
      hook_target_arn:
        description: The ARN of the Lambda function (optionally with a version or alias).
        type: str
        required: true
      role_arn:
        description: The IAM role ECS assumes to invoke the function (it needs C(lambda:InvokeFunction) on it).
        type: str
        required: true
      lifecycle_stages:
        description:
          - The stages to run the function at, e.g. C(POST_SCALE_UP) (green runs, no traffic yet),
            C(POST_TEST_TRAFFIC_SHIFT) (test traffic on green) or C(POST_PRODUCTION_TRAFFIC_SHIFT).
        type: list
        elements: str
        required: true
  wait:
    description:
      - Wait until the rollout is COMPLETED (or has failed). With V(false), make the change and report the state once.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait at most (0 to 86400). On timeout the module fails with a message naming
        O(wait_timeout) and the last progress; the deployment goes on in ECS.
    type: int
    default: 900
  poll_interval:
    description:
      - Seconds between two reads of the service while waiting.
    type: float
    default: 10
  deployment_id:
    description:
      - Follow this deployment (the RV(deployment.id) of an earlier call) and make no change at all
        (O(desired_count), O(strategy) and O(force_new_deployment) are ignored). The action plugin passes it on its
        polls, so that a poll never deploys the revision again after ECS rolled it back.
    type: str
  events_since:
    description:
      - Report the service events after this time (ISO 8601, the RV(events_since) of an earlier call). By default the
        time of the newest event before the call, so only events of this rollout are reported.
    type: str
author:
  - megapool.aws maintainers (@megapool)
notes:
  - The deployment circuit breaker (C(deploymentConfiguration.deploymentCircuitBreaker) with C(rollback)) is a
    setting of the service; turn it on when creating the service, so that a failing release is rolled back by ECS.
  - For a blue/green service the progress also names the lifecycle stage of the newest service deployment
    (C(ecs:ListServiceDeployments), C(ecs:DescribeServiceDeployments); without these permissions the stage is left
    out), and a service deployment that ECS rolls back or stops fails the module like a failed rollout.
    U(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-how-it-works.html)
extends_documentation_fragment:
  - megapool.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Roll out revision 3 of the web task definition, 15 minutes at most
  megapool.aws.ecs_service_rollout:
    cluster: megapool-prod
    service: web
    task_definition: "web-megapool-prod:3"
    desired_count: 2
    wait_timeout: 900
  register: rollout

- name: Remember what to roll back to
  ansible.builtin.set_fact:
    web_rollback_to: "{{ rollout.previous_task_definition }}"

- name: Redeploy the same revision (pull a mutable tag again), without waiting
  megapool.aws.ecs_service_rollout:
    cluster: megapool-prod
    service: web
    task_definition: "{{ rollout.deployment.task_definition }}"
    force_new_deployment: true
    wait: false

- name: Blue/green with a 5-minute bake time (the alb role's alternate target group, rule and role)
  megapool.aws.ecs_service_rollout:
    cluster: megapool-prod
    service: web
    task_definition: "web-megapool-prod:5"
    strategy: blue_green
    bake_time_minutes: 5
    load_balancers:
      - targetGroupArn: "{{ alb_outputs.target_group_arn }}"
        containerName: app
        containerPort: 4000
        advancedConfiguration:
          alternateTargetGroupArn: "{{ alb_outputs.alternate_target_group_arn }}"
          productionListenerRule: "{{ alb_outputs.production_listener_rule_arn }}"
          roleArn: "{{ alb_outputs.infrastructure_role_arn }}"

- name: What would change (nothing is written)
  megapool.aws.ecs_service_rollout:
    cluster: megapool-prod
    service: web
    task_definition: "web-megapool-prod:4"
  check_mode: true
  diff: true
"""

RETURN = r"""
service:
  description:
    - The service after the run (as the last read saw it), in snake_case, without its event log.
  returned: always
  type: dict
  contains:
    service_name:
      description: The name of the service.
      type: str
      returned: always
      sample: web
    task_definition:
      description: The task-definition ARN the service runs.
      type: str
      returned: always
      sample: arn:aws:ecs:eu-north-1:123456789012:task-definition/web-megapool-prod:3
    desired_count:
      description: The desired count of tasks.
      type: int
      returned: always
      sample: 2
    running_count:
      description: Running tasks of all deployments.
      type: int
      returned: always
      sample: 2
    deployments:
      description: The deployments of the service, in snake_case (see RV(deployment)).
      type: list
      elements: dict
      returned: always
deployment:
  description:
    - The followed deployment (the PRIMARY one started by the update, or the PRIMARY one when nothing changed), in
      snake_case. After a rollback, the PRIMARY deployment that replaced it.
  returned: always
  type: dict
  contains:
    id:
      description: The deployment id.
      type: str
      returned: always
      sample: ecs-svc/1234567890123456789
    status:
      description: C(PRIMARY), C(ACTIVE) or C(INACTIVE).
      type: str
      returned: always
      sample: PRIMARY
    task_definition:
      description: The task-definition ARN of the deployment.
      type: str
      returned: always
      sample: arn:aws:ecs:eu-north-1:123456789012:task-definition/web-megapool-prod:3
    rollout_state:
      description: C(IN_PROGRESS), C(COMPLETED) or C(FAILED).
      type: str
      returned: when AWS reports it
      sample: COMPLETED
    rollout_state_reason:
      description: Why the deployment is in its rollout state.
      type: str
      returned: when AWS reports it
      sample: ECS deployment ecs-svc/1234567890123456789 completed.
    desired_count:
      description: Tasks the deployment should run.
      type: int
      returned: always
      sample: 2
    running_count:
      description: Tasks of the deployment in the RUNNING state.
      type: int
      returned: always
      sample: 2
    pending_count:
      description: Tasks of the deployment in the PENDING state.
      type: int
      returned: always
      sample: 0
    failed_tasks:
      description: Tasks of the deployment that failed to start.
      type: int
      returned: when AWS reports it
      sample: 0
previous_task_definition:
  description:
    - The task-definition ARN the service ran before the call (what to roll back to).
  returned: always
  type: str
  sample: arn:aws:ecs:eu-north-1:123456789012:task-definition/web-megapool-prod:2
done:
  description:
    - Whether the rollout reached its end state (COMPLETED with the desired count running). Also true for a failed
      rollout (the module fails then). False in check mode when the service would change.
  returned: always
  type: bool
  sample: true
progress:
  description:
    - A one-line summary of the followed deployment; for a blue/green service led by the lifecycle stage and status of
      its newest service deployment.
  returned: always
  type: str
  sample: "rollout IN_PROGRESS: running 1/2, pending 1, 2 deployments"
lifecycle_stage:
  description:
    - The lifecycle stage of the newest service deployment of a blue/green service (C(SCALE_UP), C(BAKE_TIME), ...), null
      for a rolling service or when it cannot be read.
  returned: always
  type: str
  sample: BAKE_TIME
events:
  description:
    - The service events after RV(events_since), oldest first, as C(<UTC time> <message>).
  returned: always
  type: list
  elements: str
  sample:
    - "2025-01-31T12:00:03Z (service web) has started 2 tasks: (task 0a1b2c3d)."
    - "2025-01-31T12:01:10Z (service web) has reached a steady state."
events_since:
  description:
    - The time after which service events count as new (ISO 8601), null when the service had no event before the
      call. Pass it back as O(events_since) to keep reporting from the same point.
  returned: always
  type: str
  sample: "2025-01-31T11:58:00.123000+00:00"
diff:
  description:
    - The revision, container images and desired count before and after the run (after = predicted in check mode).
  returned: always
  type: dict
  contains:
    before:
      description: Before the run.
      type: dict
      returned: always
    after:
      description: After the run.
      type: dict
      returned: always
  sample:
    before: {"task_definition": "web-megapool-prod:2", "images": {"web": "123456789012.dkr.ecr.eu-north-1.amazonaws.com/web:1.4.1"}, "desired_count": 2}
    after: {"task_definition": "web-megapool-prod:3", "images": {"web": "123456789012.dkr.ecr.eu-north-1.amazonaws.com/web:1.4.2"}, "desired_count": 2}
"""

import datetime
import time
from typing import Any
from typing import Callable
from typing import NoReturn

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_message

from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.base import WaitTimeout
from ansible_collections.megapool.aws.plugins.module_utils.base import poll_until
from ansible_collections.megapool.aws.plugins.module_utils.release_strategy import lifecycle_hook_errors
from ansible_collections.megapool.aws.plugins.module_utils.release_strategy import lifecycle_hooks_wanted
from ansible_collections.megapool.aws.plugins.module_utils.release_strategy import live_target_group
from ansible_collections.megapool.aws.plugins.module_utils.release_strategy import rolled_back
from ansible_collections.megapool.aws.plugins.module_utils.release_strategy import same_lifecycle_hooks
from ansible_collections.megapool.aws.plugins.module_utils.release_strategy import stage_of
from ansible_collections.megapool.aws.plugins.module_utils.rollout import Assessment
from ansible_collections.megapool.aws.plugins.module_utils.rollout import RolloutError
from ansible_collections.megapool.aws.plugins.module_utils.rollout import RolloutPlan
from ansible_collections.megapool.aws.plugins.module_utils.rollout import RolloutRequest
from ansible_collections.megapool.aws.plugins.module_utils.rollout import assess
from ansible_collections.megapool.aws.plugins.module_utils.rollout import deployment_result
from ansible_collections.megapool.aws.plugins.module_utils.rollout import diff_view
from ansible_collections.megapool.aws.plugins.module_utils.rollout import failed_deployment_of
from ansible_collections.megapool.aws.plugins.module_utils.rollout import failure_message
from ansible_collections.megapool.aws.plugins.module_utils.rollout import newest_event_time
from ansible_collections.megapool.aws.plugins.module_utils.rollout import parse_timestamp
from ansible_collections.megapool.aws.plugins.module_utils.rollout import plan_rollout
from ansible_collections.megapool.aws.plugins.module_utils.rollout import primary_deployment
from ansible_collections.megapool.aws.plugins.module_utils.rollout import same_task_definition
from ansible_collections.megapool.aws.plugins.module_utils.rollout import service_result
from ansible_collections.megapool.aws.plugins.module_utils.rollout import short_task_definition
from ansible_collections.megapool.aws.plugins.module_utils.rollout import timeout_message
from ansible_collections.megapool.aws.plugins.module_utils.rollout import validate_rollout

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    cluster=dict(type="str", required=True),
    service=dict(type="str", required=True),
    task_definition=dict(type="str", required=True),
    desired_count=dict(type="int"),
    force_new_deployment=dict(type="bool", default=False),
    strategy=dict(type="str", choices=["rolling", "blue_green"]),
    bake_time_minutes=dict(type="int"),
    load_balancers=dict(type="list", elements="dict"),
    lifecycle_hooks=dict(
        type="list",
        elements="dict",
        options=dict(
            hook_target_arn=dict(type="str", required=True),
            role_arn=dict(type="str", required=True),
            lifecycle_stages=dict(type="list", elements="str", required=True),
        ),
    ),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=900),
    poll_interval=dict(type="float", default=10),
    deployment_id=dict(type="str"),
    events_since=dict(type="str"),
)

# The clock and the pause of the wait (tests replace them).
_clock: Callable[[], float] = time.monotonic
_sleep: Callable[[float], None] = time.sleep


# ---------------------------------------------------------------------------------------------- AWS calls


@AWSErrorHandler.common_error_handler("describe the ECS service")
def _describe_service(client, cluster: str, service: str) -> dict | None:
    answer = client.describe_services(cluster=cluster, services=[service])
    found = [item for item in answer.get("services", []) if item.get("status") != "INACTIVE"]
    return found[0] if found else None


@AWSErrorHandler.common_error_handler("describe the task definition")
def _describe_task_definition(client, reference: str) -> dict:
    return client.describe_task_definition(taskDefinition=reference)["taskDefinition"]


@AWSErrorHandler.common_error_handler("update the ECS service")
def _update_service(client, cluster: str, service: str, **params: Any) -> dict:
    return client.update_service(cluster=cluster, service=service, **params)["service"]


@AWSErrorHandler.common_error_handler("read the production listener rule")
def _describe_rules(client, rule_arns: list[str]) -> list[dict]:
    return client.describe_rules(RuleArns=rule_arns).get("Rules", [])


@AWSErrorHandler.common_error_handler("read the target groups of the blue/green pair")
def _target_group_exists(client, arn: str) -> bool:
    try:
        return bool(client.describe_target_groups(TargetGroupArns=[arn]).get("TargetGroups"))
    except client.exceptions.TargetGroupNotFoundException:
        return False


@AWSErrorHandler.common_error_handler("read the service deployments")
def _newest_service_deployment(client, cluster: str, service: str) -> dict | None:
    listed = client.list_service_deployments(cluster=cluster, service=service).get("serviceDeployments") or []
    if not listed:
        return None
    newest = max(listed, key=lambda item: item.get("createdAt") or item.get("startedAt") or 0)
    found = (
        client.describe_service_deployments(serviceDeploymentArns=[newest["serviceDeploymentArn"]]).get(
            "serviceDeployments"
        )
        or []
    )
    return found[0] if found else None


# ---------------------------------------------------------------------------------------------- the rollout


class _Rollout:
    """Reads the service and the revisions, updates the service, follows its deployment."""

    def __init__(self, module: MegapoolAWSModule, request: RolloutRequest) -> None:
        self.module = module
        self.request = request
        self.ecs = module.client("ecs")
        self.changed = False
        self.result: dict[str, Any] = {}

    def fail(self, msg: str) -> NoReturn:
        self.module.fail_json(msg=msg, **dict(self.result, changed=self.changed))

    def missing_service(self) -> str:
        return (
            "ECS service %s not found (or not ACTIVE) in cluster %s in %s. Create it first (community.aws.ecs_service, "
            "or the megapool.aws.release role), or check the service, cluster and region options."
            % (self.request.service, self.request.cluster, self.module.region)
        )

    def read_service(self) -> dict:
        service = _describe_service(self.ecs, self.request.cluster, self.request.service)
        if service is None:
            self.fail(self.missing_service())
        return service

    def read_task_definition(self, reference: str, option: str) -> dict:
        try:
            return _describe_task_definition(self.ecs, reference)
        except is_ansible_aws_error_message("Unable to describe task definition"):
            self.fail(
                "%s=%s is not a registered task definition in %s. Register it first (community.aws.ecs_taskdefinition, "
                "or the megapool.aws.release role); nothing was changed." % (option, reference, self.module.region)
            )
        return {}

    # ------------------------------------------------------------------ the run

    def run(self) -> dict[str, Any]:
        request = self.request
        service = self.read_service()
        wanted = self.read_task_definition(request.task_definition, "task_definition")
        wanted_arn = wanted["taskDefinitionArn"]
        previous_arn = service.get("taskDefinition")
        if same_task_definition(previous_arn, wanted_arn):
            current = wanted
        else:
            current = self.read_task_definition(previous_arn, "the service's task definition") if previous_arn else {}
        since = request.events_since or newest_event_time(service)
        self.result = dict(
            service=service_result(service),
            deployment=deployment_result(primary_deployment(service)),
            previous_task_definition=previous_arn,
            done=False,
            progress="",
            events=[],
            events_since=since.isoformat() if since else None,
            lifecycle_stage=None,
        )
        before = diff_view(service, current)
        if request.deployment_id:
            deployment_id = request.deployment_id
            after = diff_view(service, wanted)
        else:
            self._refuse_redeploying_a_failure(service, wanted_arn)
            plan = self._with_lifecycle_hooks(
                plan_rollout(service, wanted_arn, request, self._live_target_groups(service)), service
            )
            after = diff_view(service, wanted, request.desired_count)
            self.result["diff"] = dict(before=before, after=after)
            if plan.update and self.module.check_mode:
                self.result.update(
                    changed=True,
                    progress="check mode: would update service %s (%s)" % (request.service, ", ".join(plan.changes)),
                )
                return self.result
            if plan.update:
                service = _update_service(self.ecs, request.cluster, request.service, **plan.params)
                self.changed = True
            deployment_id = (primary_deployment(service) or {}).get("id")
        self.result.setdefault("diff", dict(before=before, after=after))
        assessment = self._report(service, wanted_arn, deployment_id, since)
        if request.wait and not self.module.check_mode:
            self._wait(assessment, wanted_arn, deployment_id, since)
        self.result["changed"] = self.changed
        return self.result

    def _with_lifecycle_hooks(self, plan: RolloutPlan, service: dict) -> RolloutPlan:
        """The plan with deploymentConfiguration.lifecycleHooks when the wanted hooks differ from the service's."""
        hooks = self.module.params.get("lifecycle_hooks")
        if hooks is None:
            return plan
        configuration = dict(plan.params.get("deploymentConfiguration") or service.get("deploymentConfiguration") or {})
        wanted = lifecycle_hooks_wanted(hooks)
        if same_lifecycle_hooks(configuration.get("lifecycleHooks"), wanted):
            return plan
        configuration["lifecycleHooks"] = wanted
        return RolloutPlan(
            changes=tuple(plan.changes) + ("lifecycle_hooks",),
            params=dict(plan.params, deploymentConfiguration=configuration),
        )

    def _live_target_groups(self, service: dict) -> dict[str, str | None]:
        """Production listener rule ARN -> the target group of its pair that takes production traffic now (blue/green)."""
        pairs = {}
        for entry in list(service.get("loadBalancers") or []) + list(self.request.load_balancers or []):
            advanced = entry.get("advancedConfiguration") or {}
            if advanced.get("productionListenerRule") and advanced.get("alternateTargetGroupArn"):
                pairs[advanced["productionListenerRule"]] = (
                    entry.get("targetGroupArn"),
                    advanced["alternateTargetGroupArn"],
                )
        if not pairs:
            return {}
        elbv2 = self.module.client("elbv2")
        live: dict[str, str | None] = {}
        for rule_arn, pair in sorted(pairs.items()):
            try:
                rules = _describe_rules(elbv2, [rule_arn])
            except is_ansible_aws_error_code("RuleNotFound"):
                # The alb role removed blue/green's pieces (alb_blue_green false) before the release goes back to rolling:
                # the target group of the pair that still exists is the one that serves (the role removes the
                # alternate one only while the rule sent no production traffic to it).
                live[rule_arn] = self._surviving_target_group(elbv2, pair)
                continue
            live.update(
                {
                    rule["RuleArn"]: live_target_group(rule.get("Actions"), *pair)
                    for rule in rules
                    if rule.get("RuleArn") == rule_arn
                }
            )
        return live

    def _surviving_target_group(self, elbv2, pair: tuple[str | None, str]) -> str | None:
        existing = [arn for arn in pair if arn and _target_group_exists(elbv2, arn)]
        return existing[0] if len(existing) == 1 else None

    def _service_deployment(self, service: dict) -> dict | None:
        """The newest service deployment of a blue/green service (its lifecycle stage), None when it cannot be read."""
        if (service.get("deploymentConfiguration") or {}).get("strategy") != "BLUE_GREEN":
            return None
        try:
            return _newest_service_deployment(self.ecs, self.request.cluster, self.request.service)
        except AnsibleAWSError:
            return (
                None  # no permission for the service deployments, or an older endpoint: the rollout state still tells
            )

    def _refuse_redeploying_a_failure(self, service: dict, wanted_arn: str) -> None:
        failed = failed_deployment_of(service, wanted_arn)
        primary = primary_deployment(service) or {}
        if failed and not same_task_definition(primary.get("taskDefinition"), wanted_arn):
            self.fail(
                "A deployment of %s on ECS service %s FAILED (%s) and ECS is rolling the service back to %s. Not deploying "
                "it again: fix the release, or wait until the rollback is over and run again."
                % (
                    short_task_definition(wanted_arn),
                    self.request.service,
                    failed.get("rolloutStateReason") or "no reason given",
                    short_task_definition(primary.get("taskDefinition")),
                )
            )

    def _report(self, service: dict, wanted_arn: str, deployment_id: str | None, since) -> Assessment:
        """Assess one read of the service, store it in the result; fail on a failed rollout."""
        assessment = assess(service, wanted_arn, deployment_id, since)
        progress = assessment.progress
        service_deployment = self._service_deployment(service) if not self.module.check_mode else None
        if service_deployment:
            progress = "blue/green %s | %s" % (stage_of(service_deployment), progress)
            started = parse_timestamp((assessment.deployment or {}).get("createdAt"))
            created = parse_timestamp(service_deployment.get("createdAt"))
            ours = started is None or created is None or created >= started - datetime.timedelta(seconds=60)
            if ours and rolled_back(service_deployment) and not assessment.failed:
                assessment = Assessment(
                    done=True,
                    failed=True,
                    progress=progress,
                    deployment=assessment.deployment,
                    events=assessment.events,
                    reason="ECS %s the blue/green deployment of %s in its %s stage (%s)"
                    % (
                        "stopped" if "STOP" in service_deployment.get("status", "") else "rolled back",
                        short_task_definition(wanted_arn),
                        service_deployment.get("lifecycleStage") or "-",
                        service_deployment.get("statusReason") or "no reason given",
                    ),
                )
        assessment = Assessment(
            assessment.done, assessment.failed, progress, assessment.deployment, assessment.events, assessment.reason
        )
        self.result.update(
            service=service_result(service),
            deployment=deployment_result(assessment.deployment),
            done=assessment.done,
            progress=assessment.progress,
            events=assessment.events,
            lifecycle_stage=(service_deployment or {}).get("lifecycleStage"),
        )
        if assessment.failed:
            self.fail(failure_message(self.request, assessment, assessment.events))
        return assessment

    def _wait(self, assessment: Assessment, wanted_arn: str, deployment_id: str | None, since) -> None:
        """Read and assess the service until the rollout is done (``_report`` fails a failed one), within wait_timeout."""
        try:
            poll_until(
                lambda: self._report(self.read_service(), wanted_arn, deployment_id, since),
                lambda current: current.done,
                what="the rollout of %s" % self.request.service,
                timeout=self.request.wait_timeout,
                interval=self.request.poll_interval,
                first=assessment,
                clock=_clock,
                sleep=_sleep,
            )
        except WaitTimeout as timed_out:
            self.fail(timeout_message(self.request, timed_out.last.progress))


def hook_stages() -> list[str]:
    """The stages ECS runs lifecycle hooks at, from botocore's ECS model (no AWS call)."""
    import botocore.session  # pylint: disable=import-outside-toplevel

    try:
        return list(
            botocore.session.get_session().get_service_model("ecs").shape_for("DeploymentLifecycleHookStage").enum
        )
    except Exception:  # pylint: disable=broad-except  # an older botocore without the shape
        return []


def _validated(module: MegapoolAWSModule) -> RolloutRequest:
    request = validate_rollout(module.params)
    hooks = module.params.get("lifecycle_hooks")
    if hooks is not None:
        stages = hook_stages()
        if not stages:
            raise RolloutError(
                "lifecycle_hooks needs a botocore whose ECS model has deployment lifecycle hooks: upgrade boto3 and botocore."
            )
        errors = lifecycle_hook_errors(hooks, stages)
        if hooks and (module.params.get("strategy") or "") == "rolling":
            errors.append(
                "lifecycle_hooks run at the stages of a blue/green deployment: use them with strategy=blue_green."
            )
        if errors:
            raise RolloutError(" ".join(errors))
    return request


def _run(module: MegapoolAWSModule) -> dict[str, Any]:
    request = _validated(module)  # before any AWS call
    rollout = _Rollout(module, request)
    try:
        return rollout.run()
    except is_ansible_aws_error_code("ClusterNotFoundException"):
        # DescribeServices or UpdateService in a cluster the region does not have: fails with what is known so far.
        rollout.fail(
            "ECS cluster %s not found in %s. Check the cluster option and the region."
            % (request.cluster, module.region)
        )
    except is_ansible_aws_error_code(["ServiceNotFoundException", "ServiceNotActiveException"]):  # pylint: disable=duplicate-except
        rollout.fail(rollout.missing_service())


def main() -> None:
    module = MegapoolAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(_run, module, input_errors=(RolloutError,))


if __name__ == "__main__":
    main()
