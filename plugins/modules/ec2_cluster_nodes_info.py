#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ec2_cluster_nodes_info
short_description: The Erlang node names of a cluster's running instances in all its regions
version_added: 0.1.0
description:
  - Finds the running EC2 instances tagged C(megapool:env=<env>), C(megapool:cluster=<cluster>) and
    C(megapool:role=<role>) in every listed region, all regions at once (one paginated, server-side filtered
    C(DescribeInstances) per region, in a bounded pool of threads), and returns their Erlang node names
    C(<basename>@<private IP>) - the cross-region version of libcluster's EC2 tag strategy.
  - With O(include_release=true), the release (the O(release_tag) tag of the instance) is part of the name,
    C(<basename>-<release>@<private IP>) (for example C(megapool-1.4.2@10.10.0.5)), so that old and new releases can be
    kept apart during a deploy. O(release) keeps only the instances of one release.
  - Instances that are pending, stopping or stopped, or have no private IP, are not members.
  - A region that cannot be queried is a warning and is reported in RV(errors), unless O(strict_regions=true); when no
    region answers, the module fails with a message that names the endpoint.
  - Read-only; runs the same in check mode.
  - "Scope: the names are built from the B(instances') private IPs. They are the Erlang nodes only where a node runs on
    its instance's address (ECS C(host) network mode, or BEAM nodes outside ECS). The release role of this collection
    runs its tasks in C(awsvpc) mode: each task has its own ENI and IP, and its node is C(<basename>@<task IP>), which
    this module does not return. For those nodes use the Cloud Map names of every region (C(DNS_CLUSTER_QUERY),
    docs/clustering.md); this module then lists the cluster's hosts, not its nodes."
options:
  regions:
    description:
      - The regions of the cluster, queried at once. Every name must be a region botocore knows.
    type: list
    elements: str
    required: true
  env:
    description:
      - The environment, the value of the C(megapool:env) tag.
    type: str
    required: true
  cluster:
    description:
      - The cluster, the value of the C(megapool:cluster) tag.
    type: str
    required: true
  role:
    description:
      - The value of the C(megapool:role) tag of the cluster's BEAM nodes. An empty string takes every role.
    type: str
    default: app
  basename:
    description:
      - The name part of the node names (before C(@)); letters, digits, C(_), C(.) and C(-) only.
      - Defaults to O(cluster). The value of O(basename_tag) on an instance takes precedence.
    type: str
  basename_tag:
    description:
      - A tag whose value on an instance is that instance's basename (characters other than letters, digits, C(_),
        C(.) and C(-) become C(_)). Instances without the tag use O(basename).
    type: str
  include_release:
    description:
      - Append C(-<release>) to the basename, the release being the instance's O(release_tag) tag (instances without
        the tag keep the plain basename).
    type: bool
    default: false
  release:
    description:
      - Only the instances whose O(release_tag) tag has this value (a server-side filter).
    type: str
  release_tag:
    description:
      - The tag that holds an instance's release version.
    type: str
    default: megapool:release
  strict_regions:
    description:
      - Fail when any region cannot be queried, instead of a warning (and an entry in RV(errors)).
    type: bool
    default: false
  max_workers:
    description:
      - How many regions are queried at the same time, at most.
    type: int
    default: 8
notes:
  - The O(region) option is not used to choose regions (O(regions) does). O(endpoint_url), when set, is used for all
    regions (useful with an emulator). So C(module_defaults) of C(group/megapool.aws.aws) with the inventory's
    C(megapool_aws) connection settings apply as they are.
author:
  - megapool.aws maintainers (@megapool)
extends_documentation_fragment:
  - megapool.aws.attributes.info
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The node names of the cluster in every region of the inventory
  megapool.aws.ec2_cluster_nodes_info:
    regions: "{{ groups['regions'] }}"
    env: "{{ megapool_env }}"
    cluster: "{{ megapool_cluster }}"
  run_once: true
  register: discovery

- name: Hand them to the release (libcluster Epmd strategy, see docs/reaching-hosts.md)
  ansible.builtin.copy:
    dest: /etc/megapool/cluster_hosts
    content: "{{ discovery.nodes | join('\n') }}\n"
    mode: "0644"

- name: During a deploy, only the nodes of the new release, names with the release
  megapool.aws.ec2_cluster_nodes_info:
    regions: [eu-north-1, ap-southeast-1, us-east-1]
    env: prod
    cluster: megapool
    basename: megapool
    include_release: true
    release: 1.4.2
  register: new_release

- name: Against the local emulator
  megapool.aws.ec2_cluster_nodes_info:
    regions: [eu-north-1, ap-southeast-1]
    env: local
    cluster: megapool
    endpoint_url: http://127.0.0.1:5000
    access_key: testing
    secret_key: testing

# Ad hoc, on a region host of the local inventory:
#   ansible -i inventories/local eu-north-1 -m megapool.aws.ec2_cluster_nodes_info \
#     -a "regions=eu-north-1,ap-southeast-1 env=local cluster=megapool
#         endpoint_url=http://127.0.0.1:5000 access_key=testing secret_key=testing"
"""

RETURN = r"""
nodes:
  description: The node names of the members, sorted, each once.
  returned: always
  type: list
  elements: str
  sample: ["megapool@10.10.0.5", "megapool@10.20.64.7"]
members:
  description: The members, sorted by node name, then instance id.
  returned: always
  type: list
  elements: dict
  contains:
    node:
      description: The Erlang node name, C(<basename>[-<release>]@<private IP>).
      type: str
      returned: always
      sample: megapool-1.4.2@10.10.0.5
    instance_id:
      description: The EC2 instance.
      type: str
      returned: always
      sample: i-0a1b2c3d4e5f6a7b8
    region:
      description: Its region.
      type: str
      returned: always
      sample: eu-north-1
    az:
      description: Its availability zone.
      type: str
      returned: always
      sample: eu-north-1a
    private_ip:
      description: Its private IPv4 address.
      type: str
      returned: always
      sample: 10.10.0.5
    release:
      description: The value of its O(release_tag) tag, null when it has none.
      type: str
      returned: always
      sample: 1.4.2
errors:
  description: Per region that could not be queried, why (empty when all answered).
  returned: always
  type: dict
  sample:
    me-central-1: >-
      OptInRequired: You are not subscribed to this service.
      (the region is not enabled for this account; enable it or remove it from the regions)
regions:
  description: The regions that answered.
  returned: always
  type: list
  elements: str
  sample: [eu-north-1, ap-southeast-1]
"""

from typing import Any

from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import NODE_BASENAME_PATTERN
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import RUNNING_STATES
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import TAG_RELEASE
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import cluster_members
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import default_client_config
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import describe_in_regions
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import failed_regions_message
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import instance_facts
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import instance_filters
from ansible_collections.megapool.aws.plugins.module_utils.regions import regions_error

ARGUMENT_SPEC = dict(
    regions=dict(type="list", elements="str", required=True),
    env=dict(type="str", required=True),
    cluster=dict(type="str", required=True),
    role=dict(type="str", default="app"),
    basename=dict(type="str"),
    basename_tag=dict(type="str"),
    include_release=dict(type="bool", default=False),
    release=dict(type="str"),
    release_tag=dict(type="str", default=TAG_RELEASE),
    strict_regions=dict(type="bool", default=False),
    max_workers=dict(type="int", default=8),
)


def _validated(module: MegapoolAWSModule) -> dict[str, Any]:
    params = dict(module.params)
    params["regions"] = list(dict.fromkeys(str(region).strip() for region in params["regions"]))
    problem = regions_error(params["regions"])
    if problem:
        module.fail_json(msg=problem)
    for name in ("env", "cluster"):
        if not params[name].strip():
            module.fail_json(msg="%s must not be empty (the megapool:%s tag value)." % (name, name))
    params["basename"] = params["basename"] if params["basename"] is not None else params["cluster"]
    if not NODE_BASENAME_PATTERN.match(params["basename"]):
        module.fail_json(
            msg="basename=%r cannot be the name part of an Erlang node name: use letters, digits, '_', '.' and '-' only."
            % params["basename"]
        )
    if params["max_workers"] < 1:
        module.fail_json(msg="max_workers must be 1 or more, got %d." % params["max_workers"])
    if params["release"] is not None and not params["release_tag"]:
        module.fail_json(msg="release needs release_tag, the tag that holds the release version.")
    return params


def _discover(module: MegapoolAWSModule, params: dict[str, Any]) -> dict[str, Any]:
    config = default_client_config()
    # Clients are made here, one after the other (boto3 sessions are not thread-safe), and used in the threads.
    clients = module.region_clients("ec2", params["regions"], config=config)  # one session: the EC2 model once
    release_filter = {params["release_tag"]: params["release"]} if params["release"] is not None else None
    filters = instance_filters(
        params["env"], params["cluster"], states=RUNNING_STATES, role=params["role"] or None, tags=release_filter
    )
    found = describe_in_regions(clients, filters, max_workers=params["max_workers"])
    if found.errors:
        message = failed_regions_message(found.errors, module.params.get("endpoint_url"))
        if params["strict_regions"] or not found.instances:
            module.fail_json(
                msg=message + (" (strict_regions is true)." if found.instances else " (no region answered)."),
                errors=found.errors,
            )
        for region in sorted(found.errors):
            module.warn("Skipped region %s: %s" % (region, found.errors[region]))
    facts = {
        region: [instance_facts(instance, region) for instance in instances]
        for region, instances in found.instances.items()
    }
    members = cluster_members(
        facts,
        basename=params["basename"],
        basename_tag=params["basename_tag"],
        include_release=params["include_release"],
        release_tag=params["release_tag"],
    )
    return dict(
        changed=False,
        nodes=sorted({member["node"] for member in members}),
        members=members,
        errors=found.errors,
        regions=[region for region in params["regions"] if region in found.instances],
    )


def _run(module: MegapoolAWSModule) -> dict[str, Any]:
    return _discover(module, _validated(module))


def main() -> None:
    module = MegapoolAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(_run, module)


if __name__ == "__main__":
    main()
