#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ecs_capacity_provider
short_description: Create, update or delete an ECS capacity provider for an EC2 Auto Scaling group
version_added: 0.1.0
description:
  - Manages an Amazon ECS capacity provider backed by an EC2 Auto Scaling group, with managed scaling
    (target capacity, minimum and maximum scaling step, instance warm-up), managed termination protection and
    managed draining, and its tags.
  - Reads the provider with one C(DescribeCapacityProviders) call, compares it with the options, and only then
    creates it, updates what differs (C(UpdateCapacityProvider), C(TagResource), C(UntagResource)) or deletes it.
  - A provider in status C(INACTIVE) (deleted; AWS keeps listing it for a while) or whose deletion is in progress
    or complete counts as absent.
  - The Auto Scaling group of an existing provider cannot be changed (AWS does not allow it); a different
    O(auto_scaling_group_arn) fails with a message that names the fix.
  - With O(managed_termination_protection=enabled), the Auto Scaling group must protect new instances from scale-in
    (C(NewInstancesProtectedFromScaleIn)); the module checks it before any change and fails if it is off.
    In check mode this is a warning, and it is skipped when the Auto Scaling group does not exist yet.
  - The options are validated (step sizes, target capacity, name) before any AWS call.
  - In an account that has no ECS service-linked role yet (C(AWSServiceRoleForECS)), AWS refuses
    C(CreateCapacityProvider) with C(ECS Service Linked Role does not exist). The module then creates the role (IAM
    C(CreateServiceLinkedRole) for C(ecs.amazonaws.com); an answer that the name "has been taken" counts as done, so it
    needs C(iam:CreateServiceLinkedRole)) and tries again for about a minute while IAM propagates it. C(CreateCluster)
    creates the role as well, so creating the cluster first usually avoids it. See
    U(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html).
  - A provider still attached to a cluster cannot be deleted; the module fails and names the cluster. Remove the
    provider from the cluster first (for example with M(community.aws.ecs_cluster) and its C(capacity_providers)).
options:
  name:
    description:
      - The name of the capacity provider. Up to 255 letters, digits, underscores and hyphens, not starting with
        C(aws), C(ecs) or C(fargate).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the provider, V(absent) deletes it.
    type: str
    choices: ['present', 'absent']
    default: present
  auto_scaling_group_arn:
    description:
      - The ARN of the Auto Scaling group the provider scales. Required with O(state=present).
      - AWS cannot change the group of an existing provider. To move a provider to another group, delete it and
        create it again, or create a provider with a new name.
      - In check mode it may be empty, for a group that does not exist yet.
    type: str
  managed_scaling:
    description:
      - Managed scaling of the Auto Scaling group by ECS (a target-tracking scaling policy on the
        C(CapacityProviderReservation) metric).
      - Omitted suboptions take their defaults, so omitting O(managed_scaling) enables managed scaling at 100% target.
    type: dict
    suboptions:
      status:
        description: Whether ECS scales the Auto Scaling group.
        type: str
        choices: ['enabled', 'disabled']
        default: enabled
      target_capacity:
        description:
          - The target capacity utilization, in percent, from 1 to 100. V(100) uses the instances fully; lower values
            keep spare capacity.
        type: int
        default: 100
      minimum_scaling_step_size:
        description: The minimum number of instances scaled in or out at once, from 1 to 10000.
        type: int
        default: 1
      maximum_scaling_step_size:
        description:
          - The maximum number of instances scaled in or out at once, from 1 to 10000, not less than
            O(managed_scaling.minimum_scaling_step_size).
        type: int
        default: 10000
      instance_warmup_period:
        description: Seconds, from 0 to 10000, after which a newly launched instance counts towards the group's metrics.
        type: int
        default: 300
  managed_termination_protection:
    description:
      - Whether ECS protects the instances that run tasks from scale-in. Needs O(managed_scaling.status=enabled) and
        an Auto Scaling group with C(NewInstancesProtectedFromScaleIn) on.
    type: str
    choices: ['enabled', 'disabled']
    default: enabled
  managed_draining:
    description:
      - Whether ECS drains an instance (sets it to C(DRAINING) and moves its service tasks) before the Auto Scaling
        group terminates it.
    type: str
    choices: ['enabled', 'disabled']
    default: enabled
  tags:
    description:
      - Tags of the capacity provider. If not set, the tags of an existing provider are left alone.
notes:
  - Deleting a capacity provider is asynchronous in AWS; the provider then shows as C(INACTIVE) for a while, which
    this module treats as absent. A provider whose deletion is still in progress blocks creating one of the same name;
    the module then fails and asks to run again later.
author:
  - megapool.aws maintainers (@megapool)
extends_documentation_fragment:
  - megapool.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Capacity provider for the cluster's Auto Scaling group, keeping 10% spare capacity
  megapool.aws.ecs_capacity_provider:
    name: shop-prod-capacity
    auto_scaling_group_arn: "{{ asg.auto_scaling_group_arn }}"
    managed_scaling:
      target_capacity: 90
      maximum_scaling_step_size: 4
    tags:
      "megapool:env": prod
      "megapool:cluster": shop
  register: provider

- name: No managed termination protection (the group need not protect new instances from scale-in)
  megapool.aws.ecs_capacity_provider:
    name: shop-prod-spot
    auto_scaling_group_arn: "{{ spot_asg.auto_scaling_group_arn }}"
    managed_termination_protection: disabled
    managed_draining: enabled

- name: Delete it (remove it from its cluster first)
  megapool.aws.ecs_capacity_provider:
    name: shop-prod-capacity
    state: absent
"""

RETURN = r"""
capacity_provider:
  description:
    - The capacity provider after the run, in snake_case; empty after O(state=absent).
    - In check mode, a provider that would be created has a null RV(capacity_provider.capacity_provider_arn).
  returned: always
  type: dict
  contains:
    name:
      description: The name of the provider.
      type: str
      returned: when the provider exists
      sample: shop-prod-capacity
    capacity_provider_arn:
      description: The ARN of the provider.
      type: str
      returned: when the provider exists
      sample: arn:aws:ecs:eu-west-1:123456789012:capacity-provider/shop-prod-capacity
    status:
      description: C(ACTIVE) (or C(INACTIVE) for a deleted provider).
      type: str
      returned: when the provider exists
      sample: ACTIVE
    update_status:
      description: The state of the last update or deletion, such as C(UPDATE_COMPLETE) or C(DELETE_FAILED).
      type: str
      returned: when AWS reports it
      sample: UPDATE_COMPLETE
    update_status_reason:
      description: Why the last update or deletion is in the state it is.
      type: str
      returned: when AWS reports it
    auto_scaling_group_provider:
      description: The Auto Scaling group and how ECS manages it.
      type: dict
      returned: when the provider exists
      contains:
        auto_scaling_group_arn:
          description: The ARN of the Auto Scaling group.
          type: str
          returned: always
          sample: arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:0b1c2d3e-aaaa-bbbb-cccc-0123456789ab:autoScalingGroupName/shop-prod
        managed_scaling:
          description: Managed scaling settings.
          type: dict
          returned: always
          sample:
            status: ENABLED
            target_capacity: 90
            minimum_scaling_step_size: 1
            maximum_scaling_step_size: 4
            instance_warmup_period: 300
        managed_termination_protection:
          description: C(ENABLED) or C(DISABLED).
          type: str
          returned: always
          sample: ENABLED
        managed_draining:
          description: C(ENABLED) or C(DISABLED).
          type: str
          returned: always
          sample: ENABLED
    tags:
      description: The tags of the provider.
      type: dict
      returned: when the provider exists
      sample: {"megapool:env": "prod", "megapool:cluster": "shop"}
diff:
  description:
    - The provider before and after the run (after = predicted in check mode); empty dicts stand for no provider.
  returned: always
  type: dict
  contains:
    before:
      description: The provider before the run.
      type: dict
      returned: always
    after:
      description: The provider after the run.
      type: dict
      returned: always
  sample:
    before: {}
    after:
      name: shop-prod-capacity
      auto_scaling_group_arn: arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:0b1c2d3e-aaaa-bbbb-cccc-0123456789ab:autoScalingGroupName/shop-prod
      managed_scaling:
        status: ENABLED
        target_capacity: 90
        minimum_scaling_step_size: 1
        maximum_scaling_step_size: 4
        instance_warmup_period: 300
      managed_termination_protection: ENABLED
      managed_draining: ENABLED
      tags: {"megapool:env": "prod"}
"""

import time
from typing import Any
from typing import Callable

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule (MegapoolAWSModule) reports the missing library

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_code

from ansible_collections.megapool.aws.plugins.module_utils.base import TAGS_ARGUMENT_SPEC
from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.base import retry_while
from ansible_collections.megapool.aws.plugins.module_utils.base import WaitTimeout
from ansible_collections.megapool.aws.plugins.module_utils.base import poll_until
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import ECS_SERVICE_LINKED_ROLE_SERVICE
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import SERVICE_LINKED_ROLE_RETRY_DELAYS
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import CapacityError
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import DesiredProvider
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import ProviderPlan
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import deleting_provider
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import live_provider
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import not_applied
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import missing_service_linked_role
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import plan_provider
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import predict_provider
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import provider_result
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import provider_view
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import service_linked_role_taken
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import validate_provider

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    auto_scaling_group_arn=dict(type="str"),
    managed_scaling=dict(
        type="dict",
        apply_defaults=True,
        options=dict(
            status=dict(type="str", choices=["enabled", "disabled"], default="enabled"),
            target_capacity=dict(type="int", default=100),
            minimum_scaling_step_size=dict(type="int", default=1),
            maximum_scaling_step_size=dict(type="int", default=10000),
            instance_warmup_period=dict(type="int", default=300),
        ),
    ),
    managed_termination_protection=dict(type="str", choices=["enabled", "disabled"], default="enabled"),
    managed_draining=dict(type="str", choices=["enabled", "disabled"], default="enabled"),
    **TAGS_ARGUMENT_SPEC,
)

_PROTECTION_FIX = (
    "Turn it on (megapool.aws.autoscaling_group_settings with new_instances_protected_from_scale_in=true), "
    "or set managed_termination_protection=disabled."
)
# Errors of DeleteCapacityProvider that can mean "still in use" (the message says by what).
_IN_USE_CODES = ["ResourceInUseException", "ClientException"]

# The clock and the pause of the wait for the service-linked role (tests replace them).
_clock: Callable[[], float] = time.monotonic
_sleep: Callable[[float], None] = time.sleep


# ---------------------------------------------------------------------------------------------- AWS calls


@AWSErrorHandler.common_error_handler("describe the capacity provider")
def _describe_providers(client, name: str) -> list[dict]:
    return client.describe_capacity_providers(capacityProviders=[name], include=["TAGS"]).get("capacityProviders", [])


@AWSErrorHandler.common_error_handler("describe the Auto Scaling group")
def _describe_group(client, name: str) -> dict | None:
    groups = client.describe_auto_scaling_groups(AutoScalingGroupNames=[name]).get("AutoScalingGroups", [])
    return groups[0] if groups else None


def _create_raw(client, **params: Any) -> dict:
    return client.create_capacity_provider(**params)["capacityProvider"]


@AWSErrorHandler.common_error_handler("create the ECS service-linked role")
def _create_service_linked_role(client) -> None:
    try:
        client.create_service_linked_role(AWSServiceName=ECS_SERVICE_LINKED_ROLE_SERVICE)
    except botocore.exceptions.ClientError as e:
        error = e.response.get("Error", {})
        if not service_linked_role_taken(error.get("Code"), error.get("Message")):
            raise


@AWSErrorHandler.common_error_handler("create the capacity provider")
def _create(module, client, **params: Any) -> dict:
    """CreateCapacityProvider; when the account has no ECS service-linked role yet, create it and try again while
    IAM propagates it (ecs_capacity.SERVICE_LINKED_ROLE_RETRY_DELAYS)."""
    role_created = [False]

    def attempt() -> tuple[dict | None, Exception | None]:
        try:
            return _create_raw(client, **params), None
        except botocore.exceptions.ClientError as e:
            error = e.response.get("Error", {})
            if not missing_service_linked_role(error.get("Code"), error.get("Message")):
                raise
            return None, e

    def progress(outcome: tuple[dict | None, Exception | None], _waited: float) -> None:
        if outcome[1] is not None and not role_created[0]:
            _create_service_linked_role(module.client("iam"))
            role_created[0] = True

    try:
        created, _error = poll_until(
            attempt,
            lambda outcome: outcome[1] is None,
            what="ECS to see its service-linked role",
            timeout=sum(SERVICE_LINKED_ROLE_RETRY_DELAYS),
            interval=SERVICE_LINKED_ROLE_RETRY_DELAYS,
            progress=progress,
            clock=_clock,
            sleep=_sleep,
        )
    except WaitTimeout as timed_out:
        raise timed_out.last[1] from None  # ECS's own refusal, reported by the error handler
    return created


@AWSErrorHandler.common_error_handler("update the capacity provider")
@retry_while(["UpdateInProgressException"])
def _update(client, **params: Any) -> dict:
    return client.update_capacity_provider(**params)["capacityProvider"]


@AWSErrorHandler.common_error_handler("tag the capacity provider")
def _tag(client, arn: str, tags: dict[str, str]) -> None:
    client.tag_resource(resourceArn=arn, tags=[{"key": key, "value": str(value)} for key, value in tags.items()])


@AWSErrorHandler.common_error_handler("untag the capacity provider")
def _untag(client, arn: str, keys: list[str]) -> None:
    client.untag_resource(resourceArn=arn, tagKeys=keys)


@AWSErrorHandler.common_error_handler("delete the capacity provider")
def _delete(client, name: str) -> dict:
    return client.delete_capacity_provider(capacityProvider=name).get("capacityProvider") or {}


@AWSErrorHandler.common_error_handler("find the clusters that use the capacity provider")
def _clusters_using(client, name: str) -> list[str]:
    arns = client.get_paginator("list_clusters").paginate().build_full_result().get("clusterArns", [])
    using = []
    for start in range(0, len(arns), 100):
        for cluster in client.describe_clusters(clusters=arns[start : start + 100]).get("clusters", []):
            if name in (cluster.get("capacityProviders") or []):
                using.append(cluster.get("clusterName") or cluster.get("clusterArn"))
    return sorted(using)


# ---------------------------------------------------------------------------------------------- the provider


class _Provider:
    """Reads one capacity provider, checks its Auto Scaling group, applies a plan."""

    def __init__(self, module: MegapoolAWSModule, desired: DesiredProvider | None) -> None:
        self.module = module
        self.name = module.params["name"]
        self.desired = desired
        self.ecs = module.client("ecs")

    def read(self) -> tuple[dict | None, list[dict]]:
        providers = _describe_providers(self.ecs, self.name)
        return live_provider(providers, self.name), providers

    def plan(self, current: dict | None, providers: list[dict]) -> ProviderPlan:
        params = self.module.params
        if self.desired and current is None and deleting_provider(providers, self.name):
            self.module.fail_json(
                msg="Capacity provider %s is still being deleted (DELETE_IN_PROGRESS); a new one of that name can only be "
                "created once AWS has finished. Run again in a few minutes." % self.name
            )
        return plan_provider(current, self.desired, params["tags"], params["purge_tags"])

    def check_group(self) -> None:
        """The Auto Scaling group exists, is the one named by the ARN, and protects new instances if it has to."""
        desired = self.desired
        if desired is None or desired.auto_scaling_group_name is None:
            return
        autoscaling = self.module.client("autoscaling")
        group = _describe_group(autoscaling, desired.auto_scaling_group_name)
        if group is None:
            if self.module.check_mode:
                return  # created by an earlier task of the same (checked) play
            self.module.fail_json(
                msg="auto_scaling_group_arn: Auto Scaling group %s not found in %s. Create it first, or check the ARN."
                % (desired.auto_scaling_group_name, self.module.region)
            )
        if group.get("AutoScalingGroupARN") and group["AutoScalingGroupARN"] != desired.auto_scaling_group_arn:
            self.module.fail_json(
                msg="auto_scaling_group_arn: %s is not the ARN of Auto Scaling group %s, which is %s (was the group "
                "re-created?). Use the current ARN."
                % (desired.auto_scaling_group_arn, desired.auto_scaling_group_name, group["AutoScalingGroupARN"])
            )
        if desired.managed_termination_protection == "ENABLED" and not group.get("NewInstancesProtectedFromScaleIn"):
            message = (
                "managed_termination_protection=enabled needs an Auto Scaling group that protects new instances from "
                "scale-in, and %s does not (NewInstancesProtectedFromScaleIn is off). %s"
                % (desired.auto_scaling_group_name, _PROTECTION_FIX)
            )
            if self.module.check_mode:
                self.module.warn(message + " (A real run fails here unless an earlier task turns it on.)")
            else:
                self.module.fail_json(msg=message)

    def apply(self, current: dict | None, plan: ProviderPlan) -> dict | None:
        """Carry out ``plan``; return the provider as AWS describes it afterwards (None once deleted)."""
        if plan.action == "delete":
            self._delete()
            return None
        desired = self.desired
        created = None
        if plan.action == "create":
            params: dict[str, Any] = dict(name=self.name, autoScalingGroupProvider=desired.asg_provider())
            tags = self.module.params["tags"]
            if tags:
                params["tags"] = [{"key": str(key), "value": str(value)} for key, value in sorted(tags.items())]
            created = _create(self.module, self.ecs, **params)
        else:
            if plan.action == "update":
                _update(self.ecs, name=self.name, autoScalingGroupProvider=desired.asg_provider_update())
            arn = current["capacityProviderArn"]
            if plan.tags_to_unset:
                _untag(self.ecs, arn, list(plan.tags_to_unset))
            if plan.tags_to_set:
                _tag(self.ecs, arn, dict(plan.tags_to_set))
        after, _providers = self.read()
        if after is None and plan.action == "create":
            after = created  # not visible to Describe yet
        ignored = not_applied(after, desired)
        if ignored:
            self.module.warn(
                "Capacity provider %s still reports %s different from what was asked after the update; the endpoint may "
                "not support changing them." % (self.name, ", ".join(ignored))
            )
        return after

    def _delete(self) -> None:
        try:
            deleted = _delete(self.ecs, self.name)
        except is_ansible_aws_error_code(_IN_USE_CODES) as e:
            self._fail_in_use(e.exception.response.get("Error", {}).get("Message") or str(e.exception))
        # AWS answers a provider that is attached to a cluster with DELETE_FAILED (and the reason), not an error.
        if deleted.get("updateStatus") == "DELETE_FAILED":
            self._fail_in_use(deleted.get("updateStatusReason") or "DELETE_FAILED")

    def _fail_in_use(self, reason: str) -> None:
        try:
            clusters = _clusters_using(self.ecs, self.name)
        except AnsibleAWSError:
            clusters = []
        message = "Could not delete capacity provider %s: %s." % (self.name, reason.rstrip("."))
        if clusters:
            message += (
                " It is attached to ECS cluster %s. Remove it from the cluster's capacity providers (and from the capacity "
                "provider strategy of its services) first, then delete it." % ", ".join(clusters)
            )
        self.module.fail_json(msg=message)


def _run(module: MegapoolAWSModule) -> dict[str, Any]:
    desired = validate_provider(module.params, check_mode=module.check_mode)  # before any AWS call
    provider = _Provider(module, desired)
    current, providers = provider.read()
    plan = provider.plan(current, providers)
    provider.check_group()  # before any change
    if not plan.changed:
        after = current
    elif module.check_mode:
        after = predict_provider(current, desired, plan, module.params["tags"])
    else:
        after = provider.apply(current, plan)
    return dict(
        changed=plan.changed,
        capacity_provider=provider_result(after),
        diff=dict(before=provider_view(current), after=provider_view(after)),
    )


def main() -> None:
    module = MegapoolAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(_run, module, input_errors=(CapacityError,))


if __name__ == "__main__":
    main()
