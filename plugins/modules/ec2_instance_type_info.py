#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ec2_instance_type_info
short_description: Architecture, memory and vCPUs of EC2 instance types, and which ones a region does not offer
version_added: 0.1.0
description:
  - Reads the given instance types with C(DescribeInstanceTypes) (filtered by name, so a name the region does not
    offer is reported in RV(missing) instead of failing the call) and returns their processor architectures, memory,
    vCPUs and usage classes, in the order asked for.
  - Read only; amazon.aws has no module for it.
author:
  - megapool.aws maintainers (@megapool)
options:
  instance_types:
    description:
      - Names of instance types, for example V(t3.small) or V(m7g.large). No wildcards. A name given twice is
        reported once.
    type: list
    elements: str
    required: true
extends_documentation_fragment:
  - megapool.aws.attributes.info
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the instance types of the ECS hosts
  megapool.aws.ec2_instance_type_info:
    instance_types: [t3.small, t3a.small]
  register: types

- name: Refuse types the region does not offer, or a mix of architectures
  ansible.builtin.assert:
    that:
      - types.missing | length == 0
      - types.instance_types | map(attribute='architectures') | map('first') | unique | length == 1
    fail_msg: "not offered here: {{ types.missing }}"
"""

RETURN = r"""
instance_types:
  description: The instance types the region offers, in the order asked for.
  returned: always
  type: list
  elements: dict
  contains:
    instance_type:
      description: The name.
      type: str
      returned: always
      sample: t3.small
    architectures:
      description: The processor architectures it runs, sorted (C(arm64), C(i386), C(x86_64), ...).
      type: list
      elements: str
      returned: always
      sample: [i386, x86_64]
    memory_mib:
      description: Memory in MiB.
      type: int
      returned: always
      sample: 2048
    vcpus:
      description: Default number of vCPUs.
      type: int
      returned: always
      sample: 2
    default_cores:
      description: Default number of cores, when AWS reports it.
      type: int
      returned: always
      sample: 1
    current_generation:
      description: Whether it is a current-generation type.
      type: bool
      returned: always
      sample: true
    burstable_performance_supported:
      description: Whether it is a burstable (CPU credits) type.
      type: bool
      returned: always
      sample: true
    supported_usage_classes:
      description: How it can be bought (C(on-demand), C(spot), ...), sorted.
      type: list
      elements: str
      returned: always
      sample: [on-demand, spot]
    hypervisor:
      description: C(nitro) or C(xen); absent for bare metal.
      type: str
      returned: always
      sample: nitro
missing:
  description: The names asked for that the region does not offer (or that do not exist).
  returned: always
  type: list
  elements: str
  sample: [t3.tiny]
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import INSTANCE_TYPE_BATCH
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import instance_type_errors
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import match_instance_types

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    instance_types=dict(type="list", elements="str", required=True),
)


@AWSErrorHandler.common_error_handler("describe the instance types")
@AWSRetry.jittered_backoff()
def _describe(client, names: list[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    paginator = client.get_paginator("describe_instance_types")
    for start in range(0, len(names), INSTANCE_TYPE_BATCH):
        batch = names[start:start + INSTANCE_TYPE_BATCH]
        result = paginator.paginate(Filters=[{"Name": "instance-type", "Values": batch}]).build_full_result()
        found.extend(result.get("InstanceTypes", []))
    return found


def _run(module: MegapoolAWSModule) -> None:
    names = [str(name).strip() for name in module.params["instance_types"]]
    errors = instance_type_errors(names)
    if errors:
        module.fail_json(msg=" ".join(errors))
    client = module.client("ec2")
    try:
        described = _describe(client, sorted(set(names)))
    except AnsibleAWSError as exc:
        module.fail_json_aws_error(exc)
    found, missing = match_instance_types(names, described)
    module.exit_json(changed=False, instance_types=found, missing=missing)


def main() -> None:
    _run(MegapoolAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True))


if __name__ == "__main__":
    main()
