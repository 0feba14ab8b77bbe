#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ecr_replication
short_description: Replicate one ECR repository to other regions, merged into the registry's replication configuration
version_added: 0.1.0
description:
  - ECR replication is a setting of the private registry of one region (C(PutReplicationConfiguration) replaces the
    whole configuration; up to 10 rules, 1-25 destinations each, C(PREFIX_MATCH) repository filters;
    U(https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html)). This module reads the configuration
    of the module's O(region) (C(DescribeRegistry)) and makes sure O(repository) is replicated to every region of
    O(regions), without clobbering rules someone else configured.
  - A destination some rule already gives the repository (a rule without filters, or with a prefix of the repository
    name) is left alone; missing destinations go into the rule whose only filter is exactly O(repository), else into a
    new such rule. C(PutReplicationConfiguration) is called only when something is missing.
  - O(state=absent) removes that rule only.
  - ECR replicates only images pushed after the rule exists; it creates a missing destination repository (with a
    matching repository creation template's settings, else the defaults).
  - Cross-region, same account (O(regions) are regions of the caller's account). The first call creates ECR's
    service-linked role for replication (C(iam:CreateServiceLinkedRole)).
author:
  - megapool.aws maintainers (@megapool)
options:
  repository:
    description: The repository name (a C(PREFIX_MATCH) filter; a longer name with this prefix is replicated too).
    type: str
    required: true
  regions:
    description: The destination regions (the module's own region among them is ignored).
    type: list
    elements: str
    default: []
  state:
    description: C(present) adds the missing destinations, C(absent) removes the repository's own rule.
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
- name: Push once in eu-north-1, run everywhere
  megapool.aws.ecr_replication:
    region: eu-north-1
    repository: megapool-prod
    regions: [ap-southeast-1, us-east-1]
"""

RETURN = r"""
replication_configuration:
  description: The registry's replication configuration after the run (predicted in check mode).
  returned: always
  type: dict
  sample: {"rules": [{"destinations": [{"region": "us-east-1", "registryId": "123456789012"}],
           "repositoryFilters": [{"filter": "megapool-prod", "filterType": "PREFIX_MATCH"}]}]}
added:
  description: The destination regions added.
  returned: always
  type: list
  elements: str
removed:
  description: The destination regions removed (O(state=absent)).
  returned: always
  type: list
  elements: str
diff:
  description: The replication configuration before and after.
  returned: always
  type: dict
"""

from typing import Any

from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.base import aws_call
from ansible_collections.megapool.aws.plugins.module_utils.ecr_replication import plan_replication

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    repository=dict(type="str", required=True),
    regions=dict(type="list", elements="str", default=[]),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)


def _run(module: MegapoolAWSModule) -> dict[str, Any]:
    params = module.params
    client = module.client("ecr")
    registry = aws_call("read the ECR replication configuration of %s" % module.region, client.describe_registry)
    current = registry.get("replicationConfiguration") or {"rules": []}
    plan = plan_replication(
        current, params["repository"], registry["registryId"], module.region, params["regions"], params["state"]
    )
    if plan["errors"]:
        module.fail_json(msg=" | ".join(plan["errors"]))
    after = plan["configuration"]
    if plan["changed"] and not module.check_mode:
        after = aws_call(
            "set the ECR replication configuration of %s (%s)" % (module.region, _change(plan)),
            client.put_replication_configuration,
            replicationConfiguration=after,
        )["replicationConfiguration"]
    return dict(
        changed=plan["changed"],
        replication_configuration=after,
        added=plan["added"],
        removed=plan["removed"],
        diff={"before": {"rules": current.get("rules") or []}, "after": {"rules": after.get("rules") or []}},
    )


def _change(plan: dict[str, Any]) -> str:
    """``add ap-southeast-1; remove us-east-1``: the destinations the write changes."""
    parts = []
    if plan["added"]:
        parts.append("add " + ", ".join(plan["added"]))
    if plan["removed"]:
        parts.append("remove " + ", ".join(plan["removed"]))
    return "; ".join(parts) or "rewrite"


def main() -> None:
    module = MegapoolAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(_run, module)


if __name__ == "__main__":
    main()
