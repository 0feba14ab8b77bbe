#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ssm_secret_parameters
short_description: Secret SSM parameters with the same values in several regions, in one run
version_added: 0.1.0
description:
  - Makes the SSM C(SecureString) parameters C(<prefix><NAME>) exist in every region of O(regions), one module run
    for all the regions and names (one client per region, all from one boto3 session) instead of one
    M(community.aws.ssm_parameter) run per name and region.
  - Reads every region first (C(GetParameters) with decryption, 10 names a call; C(DescribeParameters) for the
    description and tier; C(ListTagsForResource) per parameter when O(tags) is given), decides, then writes only what
    is missing or differs. A no-op makes no write.
  - Given values (O(secrets)) are written where they are missing or differ. Generated ones (O(generated)) take the
    value a region of O(regions) or O(reference_regions) already holds, else one new random value (64 letters and
    digits), the same in every region; their value is never replaced. Regions that hold different values of a
    generated secret fail the module with the parameter and the regions grouped by value, before any write.
  - A new parameter is created with its tags (C(PutParameter) without C(Overwrite)); an existing one is overwritten
    without tags and its tags are changed with C(AddTagsToResource) and C(RemoveTagsFromResource) -- AWS refuses
    C(Tags) together with C(Overwrite=true)
    (U(https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html)).
  - No value is ever returned, logged or shown in a diff (O(secrets) is C(no_log)).
author:
  - megapool.aws maintainers (@megapool)
options:
  regions:
    description: The regions whose parameters are written.
    type: list
    elements: str
    required: true
  reference_regions:
    description:
      - Regions only read, never written -- the environment's regions outside the run (C(--limit)); a generated
        secret takes the value they hold, and a different value there is a conflict.
    type: list
    elements: str
    default: []
  prefix:
    description: The path of the parameters, with a C(/) at both ends (C(/megapool/prod/)).
    type: str
    required: true
  secrets:
    description:
      - Given values, C(NAME -> value); written where missing or different (overwritten), in every region.
    type: dict
    default: {}
  generated:
    description:
      - Names whose value is generated once and shared by every region; a name also in O(secrets) takes the given
        value.
    type: list
    elements: str
    default: []
  absent:
    description:
      - Names whose parameter C(<prefix><NAME>) is deleted in every region of O(regions) where it exists (a parameter
        something else now provides); a name may not be in O(secrets) or O(generated) too.
    type: list
    elements: str
    default: []
  description:
    description:
      - The description of each parameter; C({name}) is replaced by the secret's name. Empty -- the description is
        not managed.
    type: str
    default: ""
  secrets_option:
    description: How the failure message of a conflict names O(secrets) (a role passes its own variable's name).
    type: str
    default: secrets
extends_documentation_fragment:
  - megapool.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
notes:
  - SecureString parameters are encrypted with the account's default key C(alias/aws/ssm); a new parameter is a
    Standard one, an update keeps the parameter's tier.
"""

EXAMPLES = r"""
- name: The release's secrets in both regions (values never shown)
  megapool.aws.ssm_secret_parameters:
    regions: [eu-north-1, ap-southeast-1]
    prefix: /megapool/prod/
    secrets:
      SMTP_PASSWORD: "{{ vault_smtp_password }}"
    generated: [RELEASE_COOKIE, SECRET_KEY_BASE]
    description: "{name} of megapool-prod"
    tags:
      megapool:env: prod
"""

RETURN = r"""
regions:
  description: Per region of O(regions), the parameter names created, updated (value, type or description), whose tags
    changed, deleted (O(absent)) and unchanged (in check mode, what would be).
  returned: always
  type: dict
  sample: {"eu-north-1": {"created": ["/megapool/prod/RELEASE_COOKIE"], "updated": [], "tagged": [],
           "deleted": [], "unchanged": ["/megapool/prod/SMTP_PASSWORD"]}}
parameters:
  description: The parameter names, in the order of their secret names.
  returned: always
  type: list
  elements: str
  sample: ["/megapool/prod/RELEASE_COOKIE", "/megapool/prod/SMTP_PASSWORD"]
conflicts:
  description: The generated secrets whose regions hold different values (the module failed), regions grouped by value.
  returned: failure
  type: list
  elements: dict
  sample: [{"name": "RELEASE_COOKIE", "parameter": "/megapool/prod/RELEASE_COOKIE",
            "regions": [["ap-southeast-1"], ["eu-north-1", "us-east-1"]]}]
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.megapool.aws.plugins.module_utils.base import TAGS_ARGUMENT_SPEC
from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.base import aws_call
from ansible_collections.megapool.aws.plugins.module_utils.ssm_secret_parameters import DESCRIBE_FILTER_MAX
from ansible_collections.megapool.aws.plugins.module_utils.ssm_secret_parameters import Current
from ansible_collections.megapool.aws.plugins.module_utils.ssm_secret_parameters import batches
from ansible_collections.megapool.aws.plugins.module_utils.ssm_secret_parameters import conflict_message
from ansible_collections.megapool.aws.plugins.module_utils.ssm_secret_parameters import diff
from ansible_collections.megapool.aws.plugins.module_utils.ssm_secret_parameters import input_errors
from ansible_collections.megapool.aws.plugins.module_utils.ssm_secret_parameters import plan
from ansible_collections.megapool.aws.plugins.module_utils.ssm_secret_parameters import summary

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    regions=dict(type="list", elements="str", required=True),
    reference_regions=dict(type="list", elements="str", default=[]),
    prefix=dict(type="str", required=True),
    secrets=dict(type="dict", default={}, no_log=True),
    generated=dict(type="list", elements="str", default=[], no_log=False),
    absent=dict(type="list", elements="str", default=[]),
    description=dict(type="str", default=""),
    secrets_option=dict(type="str", default="secrets", no_log=False),
    **TAGS_ARGUMENT_SPEC,
)


def _read(client: Any, names: list[str], details: bool, tagged: Any = ()) -> dict[str, Current]:
    """The parameters of ``names`` that exist in one region (GetParameters: ``InvalidParameters`` are the missing);
    ``details``: their description and tier too; the tags of those in ``tagged``."""
    found: dict[str, dict[str, Any]] = {}
    for batch in batches(names):
        for item in client.get_parameters(Names=batch, WithDecryption=True).get("Parameters", []):
            found[item["Name"]] = {"value": item.get("Value"), "type": item.get("Type")}
    if details and found:
        paginator = client.get_paginator("describe_parameters")
        for batch in batches(sorted(found), DESCRIBE_FILTER_MAX):
            filters = [{"Key": "Name", "Option": "Equals", "Values": batch}]
            for page in paginator.paginate(
                ParameterFilters=filters, PaginationConfig={"PageSize": DESCRIBE_FILTER_MAX}
            ):
                for item in page.get("Parameters", []):
                    if item["Name"] in found:
                        found[item["Name"]].update(description=item.get("Description"), tier=item.get("Tier"))
    for name, row in found.items():
        if name in tagged:
            tags = client.list_tags_for_resource(ResourceType="Parameter", ResourceId=name).get("TagList", [])
            row["tags"] = boto3_tag_list_to_ansible_dict(tags)
    return {name: Current(**row) for name, row in found.items()}


def _apply(client: Any, action: Any) -> None:
    """One parameter's writes in one region: PutParameter (a new one with its tags), then the tag changes; or its
    deletion (already gone meanwhile: done)."""
    if action.kind == "delete":
        try:
            client.delete_parameter(Name=action.name)
        except is_boto3_error_code("ParameterNotFound"):
            pass
        return
    if action.put:
        client.put_parameter(**action.put)
    if action.kind == "create":
        return  # created with its tags
    if action.remove_tags:
        client.remove_tags_from_resource(
            ResourceType="Parameter", ResourceId=action.name, TagKeys=list(action.remove_tags)
        )
    if action.add_tags:
        client.add_tags_to_resource(
            ResourceType="Parameter", ResourceId=action.name, Tags=ansible_dict_to_boto3_tag_list(action.add_tags)
        )


def _run(module: MegapoolAWSModule) -> dict[str, Any]:
    params = module.params
    regions = list(dict.fromkeys(params["regions"]))
    references = [region for region in dict.fromkeys(params["reference_regions"]) if region not in regions]
    errors = input_errors(
        params["prefix"], params["secrets"], params["generated"], regions, references, params["absent"]
    )
    if errors:
        module.fail_json(msg=" | ".join(errors))
    prefix, secrets, tags = params["prefix"], params["secrets"], params["tags"]
    generated = [name for name in dict.fromkeys(params["generated"]) if name not in secrets]
    names = [prefix + name for name in sorted(set(secrets) | set(generated))]
    absent = list(dict.fromkeys(params["absent"]))
    generated_paths = [prefix + name for name in generated]
    clients = module.region_clients("ssm", regions + references)  # one session: the SSM model parsed once
    current: dict[str, dict[str, Current]] = {}
    for region in regions:
        current[region] = aws_call(
            "read the parameters %s in %s" % (", ".join(names), region),
            _read,
            clients[region],
            names + [prefix + name for name in absent],
            True,
            names if tags is not None else (),
        )
    for region in references:
        current[region] = aws_call(
            "read the parameters %s in %s" % (", ".join(generated_paths), region),
            _read,
            clients[region],
            generated_paths,
            False,
        )
    result_plan = plan(
        regions,
        prefix,
        secrets,
        generated,
        current,
        description=params["description"],
        tags=tags,
        purge_tags=params["purge_tags"],
        absent=absent,
    )
    if result_plan.conflicts:
        module.fail_json(
            msg=conflict_message(result_plan.conflicts, params["secrets_option"]),
            conflicts=list(result_plan.conflicts),
        )
    for action in result_plan.actions:
        if action.changed and not module.check_mode:
            what = "%s the parameter %s in %s (%s)" % (
                {"create": "create", "delete": "delete"}.get(action.kind, "update"),
                action.name,
                action.region,
                ", ".join(action.reasons),
            )
            aws_call(what, _apply, clients[action.region], action)
    return dict(
        changed=result_plan.changed,
        regions=summary(result_plan, regions),
        parameters=sorted(names),
        diff=diff(result_plan, current, tags),
    )


def main() -> None:
    module = MegapoolAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(_run, module)


if __name__ == "__main__":
    main()
