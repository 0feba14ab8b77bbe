#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ec2_instance_type_info
short_description: Architecture, memory, vCPUs and zone offerings of EC2 instance types, and which ones a region lacks
version_added: 0.1.0
description:
  - Reads the given instance types with C(DescribeInstanceTypes) (filtered by name) and returns their processor
    architectures, memory, vCPUs and usage classes, in the order asked for.
  - Which types the region offers, and in which availability zones, comes from C(DescribeInstanceTypeOfferings)
    (location types C(region) and C(availability-zone-id)), because C(DescribeInstanceTypes) also describes types the region
    does not sell (it describes C(t3a.small) in eu-north-1), and a type the region offers may still be missing from
    some of its zones (us-east-1's C(use1-az3) offers none of the current general-purpose types). A name the region does
    not offer is reported in RV(missing), not in RV(instance_types).
  - The region's zones come from C(DescribeAvailabilityZones). AZ names map to AZ IDs differently in each account
    (U(https://docs.aws.amazon.com/global-infrastructure/latest/regions/az-ids.html)), so offerings are matched by AZ ID
    and RV(availability_zones) gives both.
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

- name: The zones (by name in this account) that offer every type asked for
  ansible.builtin.debug:
    msg: "{{ types.availability_zones | rejectattr('lacks') | map(attribute='zone_name') }}"
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
    availability_zone_ids:
      description: The AZ IDs of the region that offer it, sorted.
      type: list
      elements: str
      returned: always
      sample: [use1-az1, use1-az2, use1-az4, use1-az5, use1-az6]
    availability_zones:
      description: The same zones by this account's AZ names, sorted.
      type: list
      elements: str
      returned: always
      sample: [us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1f]
missing:
  description: The names asked for that the region does not offer (C(DescribeInstanceTypeOfferings)), or that do not exist.
  returned: always
  type: list
  elements: str
  sample: [t3.tiny]
availability_zones:
  description:
    - The region's available zones (no Local or Wavelength Zones), sorted by name, each with the requested types its
      AZ ID does not offer.
  returned: always
  type: list
  elements: dict
  contains:
    zone_name:
      description: The AZ name in this account.
      type: str
      returned: always
      sample: us-east-1a
    zone_id:
      description: The AZ ID (the same physical zone in every account).
      type: str
      returned: always
      sample: use1-az3
    lacks:
      description: The requested types (offered by the region or not) this zone does not offer, in the order asked for.
      type: list
      elements: str
      returned: always
      sample: [t3.small]
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler

from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import INSTANCE_TYPE_BATCH
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import instance_type_errors
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import match_instance_types
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import az_qualification
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import offers_by_type
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import zone_records

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    instance_types=dict(type="list", elements="str", required=True),
)


@AWSErrorHandler.common_error_handler("describe the instance types")
def _describe(client, names: list[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    paginator = client.get_paginator("describe_instance_types")
    for start in range(0, len(names), INSTANCE_TYPE_BATCH):
        batch = names[start : start + INSTANCE_TYPE_BATCH]
        result = paginator.paginate(Filters=[{"Name": "instance-type", "Values": batch}]).build_full_result()
        found.extend(result.get("InstanceTypes", []))
    return found


@AWSErrorHandler.common_error_handler("describe the instance type offerings")
def _offerings(client, names: list[str], location_type: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    paginator = client.get_paginator("describe_instance_type_offerings")
    for start in range(0, len(names), INSTANCE_TYPE_BATCH):
        batch = names[start : start + INSTANCE_TYPE_BATCH]
        result = paginator.paginate(
            LocationType=location_type, Filters=[{"Name": "instance-type", "Values": batch}]
        ).build_full_result()
        found.extend(result.get("InstanceTypeOfferings", []))
    return found


@AWSErrorHandler.common_error_handler("describe the availability zones")
def _zones(client) -> list[dict[str, Any]]:
    return client.describe_availability_zones(
        Filters=[{"Name": "zone-type", "Values": ["availability-zone"]}, {"Name": "state", "Values": ["available"]}]
    ).get("AvailabilityZones", [])


def _run(module: MegapoolAWSModule) -> dict[str, Any]:
    names = [str(name).strip() for name in module.params["instance_types"]]
    errors = instance_type_errors(names)
    if errors:
        module.fail_json(msg=" ".join(errors))
    client = module.client("ec2")
    unique = sorted(set(names))
    described = _describe(client, unique)
    in_region = offers_by_type(_offerings(client, unique, "region"))
    by_zone_id = offers_by_type(_offerings(client, unique, "availability-zone-id"))
    zones = zone_records(_zones(client))
    # Only what the region offers counts: DescribeInstanceTypes also describes types the region does not sell.
    found, missing = match_instance_types(names, [item for item in described if item.get("InstanceType") in in_region])
    name_of = {zone["zone_id"]: zone["zone_name"] for zone in zones}
    for record in found:
        ids = [zone_id for zone_id in by_zone_id.get(record["instance_type"], []) if zone_id in name_of]
        record["availability_zone_ids"] = ids
        record["availability_zones"] = sorted(name_of[zone_id] for zone_id in ids)
    offered = {record["instance_type"]: record["availability_zone_ids"] for record in found}
    return dict(
        changed=False, instance_types=found, missing=missing, availability_zones=az_qualification(zones, offered, names)
    )


def main() -> None:
    module = MegapoolAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(_run, module)


if __name__ == "__main__":
    main()
