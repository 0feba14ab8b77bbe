#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: autoscaling_group_settings
short_description: Auto Scaling group settings amazon.aws.autoscaling_group cannot set (capacity rebalance, scale-in protection)
version_added: 0.1.0
description:
  - Sets, on an existing Auto Scaling group, what M(amazon.aws.autoscaling_group) has no option for
    C(CapacityRebalance) (replace spot instances at elevated risk of interruption),
    C(NewInstancesProtectedFromScaleIn) (required by an ECS capacity provider with managed termination protection),
    and the scale-in protection of the instances already in the group.
  - Reads the group with one C(DescribeAutoScalingGroups) call and compares before it writes; it sends only what
    differs (C(UpdateAutoScalingGroup) with just those parameters, C(SetInstanceProtection) for the instances whose
    protection differs), then reads the group back. A setting the endpoint accepted but does not report is a warning.
  - An option that is not set leaves that setting as it is.
author:
  - megapool.aws maintainers (@megapool)
options:
  name:
    description: Name of the Auto Scaling group. It must exist (create it with M(amazon.aws.autoscaling_group)).
    type: str
    required: true
  capacity_rebalance:
    description:
      - Whether the group launches a replacement when AWS signals that a spot instance is at elevated risk of
        interruption (C(CapacityRebalance)).
    type: bool
  new_instances_protected_from_scale_in:
    description:
      - Whether the instances the group launches from now on are protected from scale-in.
      - An ECS capacity provider with managed termination protection needs V(true); ECS then sets each instance's
        protection itself (on while it runs tasks).
    type: bool
  instances_protected_from_scale_in:
    description:
      - The scale-in protection of the instances in the group now. Instances leaving the group (terminating,
        detaching) are left alone.
      - For example V(false) after turning managed termination protection off, or the instances would never be
        scaled in.
    type: bool
extends_documentation_fragment:
  - megapool.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Capacity rebalance, and protection from scale-in for managed termination protection
  megapool.aws.autoscaling_group_settings:
    name: megapool-prod-app
    capacity_rebalance: true
    new_instances_protected_from_scale_in: true

- name: Managed termination protection off - clear the protection of the instances too
  megapool.aws.autoscaling_group_settings:
    name: megapool-prod-app
    new_instances_protected_from_scale_in: false
    instances_protected_from_scale_in: false
"""

RETURN = r"""
auto_scaling_group:
  description: The group's settings after the run (predicted in check mode).
  returned: always
  type: dict
  contains:
    auto_scaling_group_name:
      description: The name of the group.
      type: str
      returned: always
      sample: megapool-prod-app
    auto_scaling_group_arn:
      description: The ARN of the group.
      type: str
      returned: always
      sample: arn:aws:autoscaling:eu-north-1:123456789012:autoScalingGroup:0b1c2d3e-aaaa-bbbb-cccc-0123456789ab:autoScalingGroupName/megapool-prod-app
    capacity_rebalance:
      description: C(CapacityRebalance).
      type: bool
      returned: always
      sample: true
    new_instances_protected_from_scale_in:
      description: C(NewInstancesProtectedFromScaleIn).
      type: bool
      returned: always
      sample: true
    instances_protected_from_scale_in:
      description: Scale-in protection of each instance in the group (instances leaving it are not listed).
      type: dict
      returned: always
      sample: {"i-0123456789abcdef0": true}
instances_changed:
  description: The instances whose scale-in protection was set (would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [i-0123456789abcdef0]
diff:
  description: The settings before and after the run.
  returned: always
  type: dict
  contains:
    before:
      description: The settings before the run.
      type: dict
      returned: always
    after:
      description: The settings after the run (predicted in check mode).
      type: dict
      returned: always
  sample:
    before: {"capacity_rebalance": false, "new_instances_protected_from_scale_in": true, "instances_protected_from_scale_in": {}}
    after: {"capacity_rebalance": true, "new_instances_protected_from_scale_in": true, "instances_protected_from_scale_in": {}}
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler

from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.base import retry_while
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import PROTECTION_BATCH
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import GroupSettingsPlan
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import group_settings_view
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import plan_group_settings
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import predict_group_settings
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import settings_not_applied

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    name=dict(type="str", required=True),
    capacity_rebalance=dict(type="bool"),
    new_instances_protected_from_scale_in=dict(type="bool"),
    instances_protected_from_scale_in=dict(type="bool"),
)


@AWSErrorHandler.common_error_handler("describe the Auto Scaling group")
def _describe(client, name: str) -> dict[str, Any] | None:
    groups = client.describe_auto_scaling_groups(AutoScalingGroupNames=[name]).get("AutoScalingGroups", [])
    return groups[0] if groups else None


@AWSErrorHandler.common_error_handler("update the Auto Scaling group")
@retry_while(["ScalingActivityInProgress"])
def _update(client, name: str, params: dict[str, bool]) -> None:
    client.update_auto_scaling_group(AutoScalingGroupName=name, **params)


@AWSErrorHandler.common_error_handler("set the scale-in protection of the instances")
def _protect(client, name: str, instance_ids: list[str], protect: bool) -> None:
    client.set_instance_protection(AutoScalingGroupName=name, InstanceIds=instance_ids, ProtectedFromScaleIn=protect)


def _apply(client, name: str, plan: GroupSettingsPlan) -> None:
    if plan.update:
        _update(client, name, plan.update)
    for start in range(0, len(plan.instances), PROTECTION_BATCH):
        _protect(client, name, list(plan.instances[start : start + PROTECTION_BATCH]), bool(plan.protect))


def _run(module: MegapoolAWSModule) -> dict[str, Any]:
    name = module.params["name"]
    client = module.client("autoscaling")
    group = _describe(client, name)
    if group is None:
        module.fail_json(
            msg="Auto Scaling group %s does not exist in %s: create it first (amazon.aws.autoscaling_group), then set "
            "its settings." % (name, module.region)
        )
    plan = plan_group_settings(
        group,
        capacity_rebalance=module.params["capacity_rebalance"],
        new_instances_protected_from_scale_in=module.params["new_instances_protected_from_scale_in"],
        instances_protected_from_scale_in=module.params["instances_protected_from_scale_in"],
    )
    before = group_settings_view(group)
    after = predict_group_settings(before, plan)
    if plan.changed and not module.check_mode:
        _apply(client, name, plan)
        after = group_settings_view(_describe(client, name) or group)
        missed = settings_not_applied(after, plan)
        if missed:
            module.warn(
                "The endpoint accepted %s for Auto Scaling group %s but still reports otherwise (an endpoint that "
                "does not implement it?)." % (", ".join(missed), name)
            )
    result = dict(after, auto_scaling_group_arn=group.get("AutoScalingGroupARN"))
    diff_view = {key: value for key, value in before.items() if key != "auto_scaling_group_name"}
    diff_after = {key: value for key, value in after.items() if key != "auto_scaling_group_name"}
    return dict(
        changed=plan.changed,
        auto_scaling_group=result,
        instances_changed=list(plan.instances),
        diff={"before": diff_view, "after": diff_after},
    )


def main() -> None:
    module = MegapoolAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(_run, module)


if __name__ == "__main__":
    main()
