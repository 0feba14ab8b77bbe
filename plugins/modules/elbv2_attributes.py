#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: elbv2_attributes
short_description: Set attributes of an ELBv2 load balancer or target group
version_added: 0.1.0
description:
  - Sets attributes (C(idle_timeout.timeout_seconds), C(deletion_protection.enabled), C(stickiness.enabled),
    C(deregistration_delay.timeout_seconds), ...) of an existing Application, Network or Gateway Load Balancer, or
    of a target group.
  - Closes two gaps of the stock modules - M(community.aws.elb_target_group) never turns stickiness off again, and
    M(community.aws.elb_target_group) and M(amazon.aws.elb_application_lb) fail on a resource whose attribute list
    lacks an attribute they compare (some endpoints list an attribute only once it has been set).
  - Reads the current attributes with one C(DescribeLoadBalancerAttributes) or C(DescribeTargetGroupAttributes) call
    (after a C(DescribeLoadBalancers) / C(DescribeTargetGroups) when the resource is given by name), compares, and
    writes only the attributes that differ, in one C(ModifyLoadBalancerAttributes) or
    C(ModifyTargetGroupAttributes) call. Attributes that are not given stay as they are.
  - Unknown attribute keys and invalid values are refused by AWS's own validation; the module reports its error.
author:
  - megapool.aws maintainers (@megapool)
options:
  load_balancer_name:
    description:
      - Name of the load balancer whose attributes to set.
      - Exactly one of O(load_balancer_name), O(load_balancer_arn), O(target_group_name) and O(target_group_arn) is
        required.
    type: str
  load_balancer_arn:
    description: ARN of the load balancer whose attributes to set.
    type: str
  target_group_name:
    description: Name of the target group whose attributes to set.
    type: str
  target_group_arn:
    description: ARN of the target group whose attributes to set.
    type: str
  attributes:
    description:
      - The attributes to set, AWS's attribute keys to their values, for example C(idle_timeout.timeout_seconds=240)
        and C(deletion_protection.enabled=true) (see the examples).
      - Values are sent as AWS's strings - booleans as V(true) / V(false), numbers as their digits; strings as they
        are (write booleans lower case).
      - The resource must exist. Without it the module fails naming the option that gave it; in check mode it only
        warns and reports a change (an earlier task would have created it).
    type: dict
    required: true
extends_documentation_fragment:
  - megapool.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - See U(https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerAttribute.html) and
    U(https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html) for the keys.
seealso:
  - module: amazon.aws.elb_application_lb
  - module: community.aws.elb_target_group
"""

EXAMPLES = r"""
- name: Idle timeout for WebSockets, drop invalid header fields, deletion protection in prod
  megapool.aws.elbv2_attributes:
    load_balancer_name: megapool-prod
    attributes:
      idle_timeout.timeout_seconds: 240
      routing.http.drop_invalid_header_fields.enabled: true
      deletion_protection.enabled: "{{ megapool_env == 'prod' }}"

- name: Stickiness off (community.aws.elb_target_group never turns it off), short deregistration delay
  megapool.aws.elbv2_attributes:
    target_group_name: megapool-prod-app
    attributes:
      stickiness.enabled: false
      stickiness.type: lb_cookie
      stickiness.lb_cookie.duration_seconds: 86400
      deregistration_delay.timeout_seconds: 30

- name: Turn deletion protection off before deleting the load balancer
  megapool.aws.elbv2_attributes:
    load_balancer_arn: "{{ alb_outputs.arn }}"
    attributes:
      deletion_protection.enabled: false
  register: unprotected
"""

RETURN = r"""
arn:
  description: The ARN of the load balancer or target group; null when it does not exist (check mode only).
  returned: always
  type: str
  sample: arn:aws:elasticloadbalancing:eu-north-1:123456789012:loadbalancer/app/megapool-prod/50dc6c495c0c9188
attributes:
  description:
    - All attributes of the resource after the run (predicted in check mode), as AWS's strings; empty when the
      resource does not exist (check mode only).
  returned: always
  type: dict
  sample: {"deletion_protection.enabled": "true", "idle_timeout.timeout_seconds": "240"}
changed_attributes:
  description: The attributes that were written (would be written in check mode), with their new values.
  returned: always
  type: dict
  sample: {"idle_timeout.timeout_seconds": "240"}
diff:
  description: The given attributes before and after the run (keys the resource did not list are left out of C(before)).
  returned: always
  type: dict
  contains:
    before:
      description: Before the run.
      type: dict
      returned: always
    after:
      description: After the run (predicted in check mode).
      type: dict
      returned: always
  sample:
    before: {"idle_timeout.timeout_seconds": "60"}
    after: {"idle_timeout.timeout_seconds": "240"}
"""

from dataclasses import dataclass
from typing import Any
from typing import Callable

from ansible_collections.amazon.aws.plugins.module_utils.elb_utils import ELBv2ErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.elb_utils import ELBv2TargetGroupErrorHandler

from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import AttributesError
from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import attributes_diff
from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import attributes_from_aws
from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import attributes_not_applied
from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import attributes_to_aws
from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import normalize_attributes
from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import plan_attributes
from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import predict_attributes

_RESOURCE_OPTIONS = ["load_balancer_name", "load_balancer_arn", "target_group_name", "target_group_arn"]

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    load_balancer_name=dict(type="str"),
    load_balancer_arn=dict(type="str"),
    target_group_name=dict(type="str"),
    target_group_arn=dict(type="str"),
    attributes=dict(type="dict", required=True),
)


# Load balancers ------------------------------------------------------------------------------------------------------


@ELBv2ErrorHandler.list_error_handler("describe the load balancer")
def _load_balancer_arn(client, name: str) -> str | None:
    return client.describe_load_balancers(Names=[name])["LoadBalancers"][0]["LoadBalancerArn"]


@ELBv2ErrorHandler.list_error_handler("describe the load balancer attributes")
def _load_balancer_attributes(client, arn: str) -> list[dict[str, str]] | None:
    return client.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]


@ELBv2ErrorHandler.common_error_handler("modify the load balancer attributes")
def _modify_load_balancer_attributes(client, arn: str, attributes: list[dict[str, str]]) -> list[dict[str, str]]:
    return client.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=attributes)["Attributes"]


# Target groups -------------------------------------------------------------------------------------------------------


@ELBv2TargetGroupErrorHandler.list_error_handler("describe the target group")
def _target_group_arn(client, name: str) -> str | None:
    return client.describe_target_groups(Names=[name])["TargetGroups"][0]["TargetGroupArn"]


@ELBv2TargetGroupErrorHandler.list_error_handler("describe the target group attributes")
def _target_group_attributes(client, arn: str) -> list[dict[str, str]] | None:
    return client.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]


@ELBv2TargetGroupErrorHandler.common_error_handler("modify the target group attributes")
def _modify_target_group_attributes(client, arn: str, attributes: list[dict[str, str]]) -> list[dict[str, str]]:
    return client.modify_target_group_attributes(TargetGroupArn=arn, Attributes=attributes)["Attributes"]


@dataclass(frozen=True)
class _Kind:
    """The calls for one kind of resource."""

    label: str
    creator: str
    find: Callable[[Any, str], str | None]
    read: Callable[[Any, str], list[dict[str, str]] | None]
    write: Callable[[Any, str, list[dict[str, str]]], list[dict[str, str]]]


_LOAD_BALANCER = _Kind(
    "load balancer",
    "amazon.aws.elb_application_lb",
    _load_balancer_arn,
    _load_balancer_attributes,
    _modify_load_balancer_attributes,
)
_TARGET_GROUP = _Kind(
    "target group",
    "community.aws.elb_target_group",
    _target_group_arn,
    _target_group_attributes,
    _modify_target_group_attributes,
)


def _target(module: MegapoolAWSModule) -> tuple[_Kind, str, str]:
    """(kind, the option that names the resource, its value)."""
    option = next((name for name in _RESOURCE_OPTIONS if module.params.get(name)), None)
    if option is None:
        given = [name for name in _RESOURCE_OPTIONS if module.params.get(name) is not None] or _RESOURCE_OPTIONS
        module.fail_json(
            msg="%s is empty: name the load balancer or target group whose attributes to set." % " / ".join(given)
        )
    return (_LOAD_BALANCER if option.startswith("load_balancer") else _TARGET_GROUP), option, module.params[option]


def _missing(module: MegapoolAWSModule, kind: _Kind, option: str, value: str, wanted: dict[str, str]) -> None:
    message = "%s %s (%s) does not exist in %s" % (kind.label, value, option, module.region)
    if not module.check_mode:
        module.fail_json(msg="%s: create it first (%s), then set its attributes." % (message, kind.creator))
    module.warn("%s: check mode assumes an earlier task creates it; its attributes would be set." % message)
    module.exit_json(
        changed=True, arn=None, attributes={}, changed_attributes=wanted, diff=attributes_diff({}, wanted, wanted)
    )


def _run(module: MegapoolAWSModule) -> dict[str, Any]:
    kind, option, value = _target(module)
    wanted = normalize_attributes(module.params["attributes"])
    client = module.client("elbv2")
    arn = value if option.endswith("_arn") else kind.find(client, value)
    found = kind.read(client, arn) if arn else None
    if found is None:
        _missing(module, kind, option, value, wanted)
    before = attributes_from_aws(found)
    changes = plan_attributes(before, wanted)
    after = predict_attributes(before, changes)
    if changes and not module.check_mode:
        # AWS answers with all attributes, some endpoints only with the ones written: merge over the read.
        after = predict_attributes(before, attributes_from_aws(kind.write(client, arn, attributes_to_aws(changes))))
        ignored = attributes_not_applied(after, changes)
        if ignored:
            module.warn(
                "The endpoint accepted %s for %s %s but answers with other values."
                % (", ".join(ignored), kind.label, value)
            )
    return dict(
        changed=bool(changes),
        arn=arn,
        attributes=after,
        changed_attributes=changes,
        diff=attributes_diff(before, after, wanted),
    )


def main() -> None:
    module = MegapoolAWSModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=[_RESOURCE_OPTIONS],
        required_one_of=[_RESOURCE_OPTIONS],
        supports_check_mode=True,
    )
    module.run(_run, module, input_errors=(AttributesError,))


if __name__ == "__main__":
    main()
