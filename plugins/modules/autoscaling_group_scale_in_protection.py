#!/usr/bin/python
# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: autoscaling_group_scale_in_protection
short_description: Protect an Auto Scaling group's instances from scale-in
version_added: 0.1.0
description:
  - Sets C(NewInstancesProtectedFromScaleIn) on an Auto Scaling group, which M(amazon.aws.autoscaling_group) cannot
    set, and optionally the scale-in protection of the instances already in it.
  - An ECS capacity provider with managed termination protection requires both.
author:
  - megapool.aws maintainers (@megapool)
options:
  name:
    description: Name of the Auto Scaling group.
    type: str
    required: true
  protect_new_instances:
    description: Whether instances the group launches from now on are protected from scale-in.
    type: bool
    default: true
  protect_existing_instances:
    description:
      - Also set the protection of the instances currently in the group to O(protect_new_instances).
      - Instances that are terminating or already detached are left alone.
    type: bool
    default: true
extends_documentation_fragment:
  - megapool.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Protect the ECS hosts from scale-in (managed termination protection needs it)
  megapool.aws.autoscaling_group_scale_in_protection:
    name: megapool-prod-ecs
    protect_new_instances: true
"""

RETURN = r"""
new_instances_protected_from_scale_in:
  description: The group's setting after the run.
  returned: always
  type: bool
  sample: true
instances_changed:
  description: Instances whose protection was changed (would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [i-0123456789abcdef0]
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule

# SetInstanceProtection takes at most 50 instances per call.
_BATCH = 50
_SETTLED_STATES = ("Terminating", "Terminating:Wait", "Terminating:Proceed", "Terminated", "Detaching", "Detached")


def _plan(group: dict[str, Any], protect: bool, existing: bool) -> tuple[bool, list[str]]:
    """(group setting to change?, instance ids whose protection must change) — pure."""
    group_change = bool(group.get("NewInstancesProtectedFromScaleIn")) != protect
    instances = []
    if existing:
        instances = sorted(
            instance["InstanceId"]
            for instance in group.get("Instances", [])
            if bool(instance.get("ProtectedFromScaleIn")) != protect and instance.get("LifecycleState") not in _SETTLED_STATES
        )
    return group_change, instances


def main() -> None:
    module = MegapoolAWSModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            protect_new_instances=dict(type="bool", default=True),
            protect_existing_instances=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    name, protect = module.params["name"], module.params["protect_new_instances"]
    client = module.client("autoscaling", retry_decorator=AWSRetry.jittered_backoff())
    try:
        groups = client.describe_auto_scaling_groups(AutoScalingGroupNames=[name], aws_retry=True)["AutoScalingGroups"]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        module.fail_json_aws(exc, msg="Could not describe Auto Scaling group %s" % name)
    if not groups:
        module.fail_json(msg="Auto Scaling group %s does not exist in %s; create it first (amazon.aws.autoscaling_group)." % (name, module.region))
    group = groups[0]
    group_change, instances = _plan(group, protect, module.params["protect_existing_instances"])
    changed = group_change or bool(instances)
    if changed and not module.check_mode:
        try:
            if group_change:
                client.update_auto_scaling_group(AutoScalingGroupName=name, NewInstancesProtectedFromScaleIn=protect, aws_retry=True)
            for start in range(0, len(instances), _BATCH):
                client.set_instance_protection(
                    AutoScalingGroupName=name, InstanceIds=instances[start:start + _BATCH], ProtectedFromScaleIn=protect, aws_retry=True
                )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            module.fail_json_aws(exc, msg="Could not set scale-in protection on Auto Scaling group %s" % name)
    before = bool(group.get("NewInstancesProtectedFromScaleIn"))
    module.exit_json(
        changed=changed,
        new_instances_protected_from_scale_in=protect,
        instances_changed=instances,
        diff={
            "before": {"new_instances_protected_from_scale_in": before, "instances": {i: not protect for i in instances}},
            "after": {"new_instances_protected_from_scale_in": protect, "instances": {i: protect for i in instances}},
        },
    )


if __name__ == "__main__":
    main()
