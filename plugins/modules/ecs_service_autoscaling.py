#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ecs_service_autoscaling
short_description: Target-tracking service autoscaling of an ECS service (Application Auto Scaling)
version_added: 0.1.0
description:
  - Registers the ECS service's desired count as an Application Auto Scaling scalable target
    (C(service/<cluster>/<service>), C(ecs:service:DesiredCount)) with a minimum and maximum task count, and puts its
    target-tracking scaling policies; with O(state=absent) deletes the policies and deregisters the target.
  - Reads the target and all its policies first (C(DescribeScalableTargets), C(DescribeScalingPolicies), policies
    matched by name on the client) and writes only what differs - C(RegisterScalableTarget) when the minimum or
    maximum differ, C(PutScalingPolicy) per policy whose configuration differs, C(DeleteScalingPolicy) for the
    target's other policies (O(purge_policies)). Check mode writes nothing and reports the same diff.
  - M(community.aws.application_autoscaling_policy) writes in check mode (it never consults it), compares only the
    first policy C(DescribeScalingPolicies) returns and never deregisters the target; this module does not.
  - No C(RoleARN) is given - for ECS, Application Auto Scaling uses its service-linked role
    C(AWSServiceRoleForApplicationAutoScaling_ECSService), created on the first registration.
author:
  - megapool.aws maintainers (@megapool)
options:
  cluster:
    description: Name of the ECS cluster.
    type: str
    required: true
  service:
    description: Name of the ECS service. With O(state=present) it must exist (AWS refuses the registration otherwise).
    type: str
    required: true
  min_count:
    description: The fewest tasks Application Auto Scaling keeps. Required with O(state=present).
    type: int
  max_count:
    description: The most tasks Application Auto Scaling starts. Required with O(state=present).
    type: int
  policies:
    description:
      - The target-tracking policies (C(PolicyType=TargetTrackingScaling)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The policy name (unique for the target).
        type: str
        required: true
      configuration:
        description:
          - C(TargetTrackingScalingPolicyConfiguration) as AWS spells it - C(TargetValue),
            C(PredefinedMetricSpecification) (C(PredefinedMetricType), C(ResourceLabel)), C(ScaleInCooldown),
            C(ScaleOutCooldown), C(DisableScaleIn).
        type: dict
        required: true
  purge_policies:
    description: Delete the target's policies that are not in O(policies).
    type: bool
    default: true
  state:
    description: V(present) registers the target and puts the policies; V(absent) deletes them all and deregisters.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - megapool.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Two to six tasks, holding 60 % CPU
  megapool.aws.ecs_service_autoscaling:
    cluster: megapool-prod
    service: megapool-prod-web
    min_count: 2
    max_count: 6
    policies:
      - name: megapool-prod-web-cpu
        configuration:
          TargetValue: 60
          PredefinedMetricSpecification: {PredefinedMetricType: ECSServiceAverageCPUUtilization}
          ScaleInCooldown: 300
          ScaleOutCooldown: 60

- name: No autoscaling any more (the service keeps its current desired count)
  megapool.aws.ecs_service_autoscaling:
    cluster: megapool-prod
    service: megapool-prod-web
    state: absent
"""

RETURN = r"""
resource_id:
  description: The scalable target's resource ID.
  returned: always
  type: str
  sample: service/megapool-prod/megapool-prod-web
registered:
  description: Whether the target was (re)registered (would be, in check mode).
  returned: always
  type: bool
put_policies:
  description: The policies put (would be, in check mode).
  returned: always
  type: list
  elements: str
deleted_policies:
  description: The policies deleted (would be, in check mode).
  returned: always
  type: list
  elements: str
deregistered:
  description: Whether the target was deregistered (would be, in check mode).
  returned: always
  type: bool
diff:
  description: The target's minimum and maximum and the policies' configurations before and after (predicted in check mode).
  returned: always
  type: dict
  sample:
    before: {"target": null, "policies": {}}
    after: {"target": {"min_count": 2, "max_count": 6}, "policies": {"megapool-prod-web-cpu": {"TargetValue": 60.0}}}
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler

from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.release_autoscaling import DIMENSION
from ansible_collections.megapool.aws.plugins.module_utils.release_autoscaling import NAMESPACE
from ansible_collections.megapool.aws.plugins.module_utils.release_autoscaling import AutoscalingError
from ansible_collections.megapool.aws.plugins.module_utils.release_autoscaling import autoscaling_changes
from ansible_collections.megapool.aws.plugins.module_utils.release_autoscaling import resource_id

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    cluster=dict(type="str", required=True),
    service=dict(type="str", required=True),
    min_count=dict(type="int"),
    max_count=dict(type="int"),
    policies=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(name=dict(type="str", required=True), configuration=dict(type="dict", required=True)),
    ),
    purge_policies=dict(type="bool", default=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)


@AWSErrorHandler.common_error_handler("describe the scalable target")
def _target(client, rid: str) -> dict[str, Any] | None:
    found = client.describe_scalable_targets(ServiceNamespace=NAMESPACE, ResourceIds=[rid], ScalableDimension=DIMENSION)
    return next((item for item in found.get("ScalableTargets", []) if item.get("ResourceId") == rid), None)


@AWSErrorHandler.common_error_handler("describe the scaling policies")
def _policies(client, rid: str) -> list[dict[str, Any]]:
    # Every policy of the target, matched by name here: a PolicyNames filter with MaxResults=1 is not relied upon.
    paginator = client.get_paginator("describe_scaling_policies")
    pages = paginator.paginate(ServiceNamespace=NAMESPACE, ResourceId=rid, ScalableDimension=DIMENSION)
    return [
        item
        for page in pages
        for item in page.get("ScalingPolicies", [])
        if item.get("ResourceId") == rid and item.get("ScalableDimension") == DIMENSION
    ]


@AWSErrorHandler.common_error_handler("register the scalable target")
def _register(client, rid: str, low: int, high: int) -> None:
    client.register_scalable_target(
        ServiceNamespace=NAMESPACE, ResourceId=rid, ScalableDimension=DIMENSION, MinCapacity=low, MaxCapacity=high
    )


@AWSErrorHandler.common_error_handler("put the scaling policy")
def _put(client, rid: str, name: str, configuration: dict[str, Any]) -> None:
    client.put_scaling_policy(
        PolicyName=name,
        ServiceNamespace=NAMESPACE,
        ResourceId=rid,
        ScalableDimension=DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=configuration,
    )


@AWSErrorHandler.common_error_handler("delete the scaling policy")
def _delete(client, rid: str, name: str) -> None:
    client.delete_scaling_policy(
        PolicyName=name, ServiceNamespace=NAMESPACE, ResourceId=rid, ScalableDimension=DIMENSION
    )


@AWSErrorHandler.common_error_handler("deregister the scalable target")
def _deregister(client, rid: str) -> None:
    client.deregister_scalable_target(ServiceNamespace=NAMESPACE, ResourceId=rid, ScalableDimension=DIMENSION)


def request_configuration(configuration: dict[str, Any]) -> dict[str, Any]:
    """The configuration as PutScalingPolicy takes it: unset keys left out, TargetValue a float, cooldowns ints."""
    request = {key: value for key, value in configuration.items() if value is not None}
    if "TargetValue" in request:
        request["TargetValue"] = float(request["TargetValue"])
    for key in ("ScaleInCooldown", "ScaleOutCooldown"):
        if key in request:
            request[key] = int(request[key])
    if "DisableScaleIn" in request:
        request["DisableScaleIn"] = bool(request["DisableScaleIn"])
    return request


def _apply(client, rid: str, params: dict[str, Any], changes: dict[str, Any]) -> None:
    # Order: the target before its policies (AWS refuses a policy without a target); policies before deregistering.
    if changes["register"]:
        _register(client, rid, params["min_count"], params["max_count"])
    wanted = {policy["name"]: policy["configuration"] for policy in params["policies"]}
    for name in changes["put"]:
        _put(client, rid, name, request_configuration(wanted[name]))
    for name in changes["delete"]:
        _delete(client, rid, name)
    if changes["deregister"]:
        _deregister(client, rid)


def _run(module: MegapoolAWSModule) -> dict[str, Any]:
    params = module.params
    rid = resource_id(params["cluster"], params["service"])
    client = module.client("application-autoscaling")
    wanted = {
        "state": params["state"],
        "min_count": params["min_count"],
        "max_count": params["max_count"],
        "policies": [
            {"name": policy["name"], "configuration": request_configuration(policy["configuration"])}
            for policy in params["policies"]
        ],
    }
    target = _target(client, rid)
    policies = _policies(client, rid) if target is not None else []
    try:
        changes = autoscaling_changes(target, policies, wanted, params["purge_policies"])
    except AutoscalingError as exc:
        module.fail_json(msg="%s: %s" % (rid, exc))
    if changes["changed"] and not module.check_mode:
        _apply(client, rid, params, changes)
    return dict(
        changed=changes["changed"],
        resource_id=rid,
        registered=changes["register"],
        put_policies=changes["put"],
        deleted_policies=changes["delete"],
        deregistered=changes["deregister"],
        diff={"before": changes["before"], "after": changes["after"]},
    )


def main() -> None:
    module = MegapoolAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(_run, module)


if __name__ == "__main__":
    main()
