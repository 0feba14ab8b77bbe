#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: route53_latency_records
short_description: One region's latency alias records for several names, from one read per name
version_added: 0.1.0
description:
  - Makes the latency alias record of one region exist for each name of O(names) in a Route 53 hosted zone - set
    identifier O(identifier), latency region O(latency_region), an alias to O(alias_dns_name) - one module run for all
    the names instead of one M(amazon.aws.route53) run per name (which lists the whole zone each time).
  - Reads each name's record sets of type O(type) (C(ListResourceRecordSets) from the name and type), then sends one
    C(ChangeResourceRecordSets) batch with an C(UPSERT) for each record that is missing or differs; a no-op makes no
    write. The other regions' records of the same names are left alone.
  - Does not wait for the change to reach every Route 53 server (C(INSYNC)), as M(amazon.aws.route53) with its
    default C(wait=false).
author:
  - megapool.aws maintainers (@megapool)
options:
  hosted_zone_id:
    description: The hosted zone's ID (without C(/hostedzone/)).
    type: str
    required: true
  names:
    description: The record names (fully qualified, inside the zone).
    type: list
    elements: str
    required: true
  type:
    description: The record type.
    type: str
    default: A
    choices: ['A', 'AAAA']
  identifier:
    description: The set identifier of this region's records (the region's name, usually).
    type: str
    required: true
  latency_region:
    description: The AWS region Route 53 measures latency to (the region of the load balancer).
    type: str
    required: true
  alias_dns_name:
    description: The DNS name of the alias target (the load balancer's).
    type: str
    required: true
  alias_hosted_zone_id:
    description: The hosted zone ID of the alias target (the load balancer's canonical hosted zone).
    type: str
    required: true
  evaluate_target_health:
    description: Whether Route 53 answers with this record only while the alias target is healthy.
    type: bool
    default: true
  health_check_id:
    description: A Route 53 health check of the records; none when not given (an existing one is removed).
    type: str
extends_documentation_fragment:
  - megapool.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Latency alias records of eu-north-1
  megapool.aws.route53_latency_records:
    hosted_zone_id: Z0123456789ABCDEFGHIJ
    names: [app.example.com, example.com]
    identifier: eu-north-1
    latency_region: eu-north-1
    alias_dns_name: megapool-prod-123.eu-north-1.elb.amazonaws.com
    alias_hosted_zone_id: Z23TAZ7KFE6MEJ
"""

RETURN = r"""
records:
  description: This region's record of each name after the run (predicted in check mode), by name with a trailing dot.
  returned: always
  type: dict
  sample: {"app.example.com.": {"Name": "app.example.com.", "Type": "A", "SetIdentifier": "eu-north-1", "Region": "eu-north-1"}}
written:
  description: The names whose record was upserted (to be upserted, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["app.example.com."]
change_id:
  description: The ID of the change batch; none when nothing was written.
  returned: always
  type: str
  sample: /change/C2682N5HXP0BZ4
diff:
  description: The records before and after, by name.
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
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler

from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.route53_records import dns_name
from ansible_collections.megapool.aws.plugins.module_utils.route53_records import find_record
from ansible_collections.megapool.aws.plugins.module_utils.route53_records import more_of_the_name
from ansible_collections.megapool.aws.plugins.module_utils.route53_records import plan_records
from ansible_collections.megapool.aws.plugins.module_utils.route53_records import record_errors
from ansible_collections.megapool.aws.plugins.module_utils.route53_records import wanted_record

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    hosted_zone_id=dict(type="str", required=True),
    names=dict(type="list", elements="str", required=True),
    type=dict(type="str", default="A", choices=["A", "AAAA"]),
    identifier=dict(type="str", required=True),
    latency_region=dict(type="str", required=True),
    alias_dns_name=dict(type="str", required=True),
    alias_hosted_zone_id=dict(type="str", required=True),
    evaluate_target_health=dict(type="bool", default=True),
    health_check_id=dict(type="str"),
)


@AWSErrorHandler.common_error_handler("list the record sets")
def _find(client, zone_id: str, name: str, record_type: str, identifier: str) -> dict[str, Any] | None:
    kwargs = {"HostedZoneId": zone_id, "StartRecordName": dns_name(name), "StartRecordType": record_type}
    while True:
        page = client.list_resource_record_sets(**kwargs)
        record = find_record(page.get("ResourceRecordSets", []), name, record_type, identifier)
        if record or not more_of_the_name(page, name, record_type):
            return record
        kwargs = dict(
            kwargs,
            StartRecordName=page["NextRecordName"],
            StartRecordType=page["NextRecordType"],
            StartRecordIdentifier=page["NextRecordIdentifier"],
        )


@AWSErrorHandler.common_error_handler("change the record sets")
def _upsert(client, zone_id: str, records: tuple[dict[str, Any], ...]) -> str:
    changes = [{"Action": "UPSERT", "ResourceRecordSet": record} for record in records]
    return client.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})["ChangeInfo"][
        "Id"
    ]


def _run(module: MegapoolAWSModule) -> dict[str, Any]:
    params = module.params
    zone_id = params["hosted_zone_id"].replace("/hostedzone/", "")
    errors = record_errors(params["names"], params["identifier"], params["latency_region"])
    if errors:
        module.fail_json(msg=" | ".join(errors))
    wanted = [
        wanted_record(
            name,
            params["type"],
            params["identifier"],
            params["latency_region"],
            params["alias_dns_name"],
            params["alias_hosted_zone_id"],
            params["evaluate_target_health"],
            params["health_check_id"],
        )
        for name in params["names"]
    ]
    client = module.client("route53")
    change_id = None
    found = {
        record["Name"]: _find(client, zone_id, record["Name"], params["type"], params["identifier"])
        for record in wanted
    }
    plan = plan_records(found, wanted)
    if plan.changed and not module.check_mode:
        change_id = _upsert(client, zone_id, plan.upserts)
    return dict(
        changed=plan.changed,
        records=plan.after,
        written=[record["Name"] for record in plan.upserts],
        change_id=change_id,
        diff={"before": plan.before, "after": plan.after},
    )


def main() -> None:
    module = MegapoolAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(_run, module)


if __name__ == "__main__":
    main()
