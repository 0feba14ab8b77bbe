#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ec2_vpc_peering_mesh
short_description: Join VPCs in several regions with a full mesh of VPC peerings, routes and DNS resolution
version_added: 0.1.0
description:
  - Makes one VPC peering connection for every pair of the listed VPCs (a full mesh), across regions and
    within a region, accepts it, enables DNS resolution of the remote VPC on both sides, and adds to every
    listed route table of a VPC a route to each peer's CIDR through that pair's peering.
  - The requester of a new peering is the VPC whose region sorts first (then its VPC id); the other VPC accepts
    in its own region. An existing live peering between two listed VPCs is reused, whichever side requested it.
  - Peerings in a terminal state (V(deleted), V(deleting), V(rejected), V(failed), V(expired)) count as absent.
  - A route in a listed route table to a peer's CIDR that points elsewhere is replaced. Other routes are left alone.
  - With O(state=absent), routes in the listed route tables whose target is a peering between two listed VPCs
    are removed, then those peerings are deleted.
  - Reads the current state with one C(DescribeVpcPeeringConnections) and one C(DescribeRouteTables) call per
    region, and fails before any AWS call when the CIDRs of two VPCs overlap.
options:
  vpcs:
    description:
      - The VPCs to join, at least two. Each entry is one VPC; a region may hold several.
    type: list
    elements: dict
    required: true
    suboptions:
      region:
        description:
          - The region of the VPC.
        type: str
        required: true
      vpc_id:
        description:
          - The ID of the VPC.
          - In check mode (and with O(state=absent)) it may be empty, for a VPC that does not exist yet;
            the module then reports everything involving that VPC as to be created.
        type: str
        required: true
      cidr:
        description:
          - The (primary) IPv4 CIDR of the VPC. Peers route this block to the VPC.
          - The CIDRs of all listed VPCs must not overlap.
        type: str
        required: true
      route_table_ids:
        description:
          - Route tables of this VPC that get a route to every peer's CIDR.
        type: list
        elements: str
        default: []
  state:
    description:
      - V(present) builds the mesh, V(absent) removes its routes and peerings.
    type: str
    choices: ['present', 'absent']
    default: present
  wait_timeout:
    description:
      - How many seconds to wait, at most, for a new peering to become visible in the accepter region and
        ready for acceptance, and again for an accepted peering to become active.
    type: int
    default: 300
  tags:
    description:
      - Tags for the peerings. Every peering also gets a C(Name) tag
        C(<megapool:cluster tag or mesh>-<requester region>-<accepter region>), which takes precedence over a C(Name) in O(tags).
        When a region holds several mesh VPCs, the VPC id follows the region in the name.
      - Cross-region peerings are tagged in both regions (AWS keeps the tags of each region's view apart).
      - If O(tags) is not set, the tags of existing peerings are left alone, and new peerings get only the C(Name) tag.
notes:
  - The O(region) option is not used to choose regions; every entry of O(vpcs) names its own region.
    O(endpoint_url), when set, is used for all regions (useful with an emulator).
  - Only peerings within one AWS account are supported.
  - Removing a VPC from O(vpcs) does not delete its peerings; run with O(state=absent) and the old list first.
author:
  - megapool.aws maintainers (@megapool)
extends_documentation_fragment:
  - megapool.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Peer the VPCs of three regions and route between their private subnets
  megapool.aws.ec2_vpc_peering_mesh:
    vpcs:
      - region: us-east-1
        vpc_id: vpc-0a1b2c3d4e5f60001
        cidr: 10.10.0.0/16
        route_table_ids: [rtb-0a1b2c3d4e5f60011, rtb-0a1b2c3d4e5f60012]
      - region: eu-west-1
        vpc_id: vpc-0a1b2c3d4e5f60002
        cidr: 10.20.0.0/16
        route_table_ids: [rtb-0a1b2c3d4e5f60021]
      - region: ap-southeast-2
        vpc_id: vpc-0a1b2c3d4e5f60003
        cidr: 10.30.0.0/16
        route_table_ids: [rtb-0a1b2c3d4e5f60031]
    tags:
      "megapool:env": prod
      "megapool:cluster": shop
    wait_timeout: 600
  register: mesh

- name: Build the list from the per-region network results (one host per region)
  megapool.aws.ec2_vpc_peering_mesh:
    vpcs: >-
      {{ groups['regions'] | map('extract', hostvars)
         | map(attribute='network_result') | list }}
    tags:
      "megapool:cluster": "{{ megapool_cluster }}"
  run_once: true

- name: Tear the mesh down (routes first, then the peerings)
  megapool.aws.ec2_vpc_peering_mesh:
    vpcs: "{{ mesh_vpcs }}"
    state: absent

- name: Against the local emulator
  megapool.aws.ec2_vpc_peering_mesh:
    endpoint_url: http://127.0.0.1:5000
    access_key: testing
    secret_key: testing
    vpcs: "{{ mesh_vpcs }}"
"""

RETURN = r"""
peerings:
  description:
    - The live peerings of the mesh after the run, one per pair of VPCs (empty after O(state=absent)).
    - In check mode, peerings that would be created have a null RV(peerings[].id).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The pair name (also the C(Name) tag).
      type: str
      returned: always
      sample: shop-eu-west-1-us-east-1
    id:
      description: The VPC peering connection ID.
      type: str
      returned: always
      sample: pcx-0123456789abcdef0
    status:
      description: The status code of the peering.
      type: str
      returned: always
      sample: active
    requester:
      description: The requester side.
      type: dict
      returned: always
      contains:
        region:
          description: Region of the requester VPC.
          type: str
          returned: always
          sample: eu-west-1
        vpc_id:
          description: The requester VPC (null in check mode for a VPC that does not exist yet).
          type: str
          returned: always
          sample: vpc-0a1b2c3d4e5f60002
        cidr_block:
          description: The CIDR of the requester VPC as given in O(vpcs).
          type: str
          returned: always
          sample: 10.20.0.0/16
        allow_dns_resolution_from_remote_vpc:
          description: Whether this side resolves the peer's private DNS names to private IPs.
          type: bool
          returned: always
          sample: true
    accepter:
      description: The accepter side, with the same keys as RV(peerings[].requester).
      type: dict
      returned: always
      contains:
        region:
          description: Region of the accepter VPC.
          type: str
          returned: always
          sample: us-east-1
        vpc_id:
          description: The accepter VPC.
          type: str
          returned: always
          sample: vpc-0a1b2c3d4e5f60001
        cidr_block:
          description: The CIDR of the accepter VPC as given in O(vpcs).
          type: str
          returned: always
          sample: 10.10.0.0/16
        allow_dns_resolution_from_remote_vpc:
          description: Whether this side resolves the peer's private DNS names to private IPs.
          type: bool
          returned: always
          sample: true
    tags:
      description: Tags of the peering as seen in the requester region.
      type: dict
      returned: always
      sample: {"Name": "shop-eu-west-1-us-east-1", "megapool:cluster": "shop"}
peerings_created:
  description: Names of the peerings created (or that would be created in check mode).
  returned: always
  type: list
  elements: str
  sample: [shop-eu-west-1-us-east-1]
peerings_accepted:
  description: Names of the peerings accepted (new ones and ones found waiting for acceptance).
  returned: always
  type: list
  elements: str
  sample: [shop-eu-west-1-us-east-1]
peerings_deleted:
  description: Names of the peerings deleted with O(state=absent).
  returned: always
  type: list
  elements: str
  sample: []
routes_added:
  description: Routes added to the listed route tables.
  returned: always
  type: list
  elements: dict
  contains:
    peering:
      description: Name of the pair whose peering the route goes through.
      type: str
      returned: always
      sample: shop-eu-west-1-us-east-1
    vpc_peering_connection_id:
      description: The target peering (null in check mode for a peering that would be created).
      type: str
      returned: always
      sample: pcx-0123456789abcdef0
    region:
      description: Region of the route table.
      type: str
      returned: always
      sample: us-east-1
    route_table_id:
      description: The route table.
      type: str
      returned: always
      sample: rtb-0a1b2c3d4e5f60011
    destination_cidr_block:
      description: The peer CIDR the route leads to.
      type: str
      returned: always
      sample: 10.20.0.0/16
  sample:
    - peering: shop-eu-west-1-us-east-1
      vpc_peering_connection_id: pcx-0123456789abcdef0
      region: us-east-1
      route_table_id: rtb-0a1b2c3d4e5f60011
      destination_cidr_block: 10.20.0.0/16
routes_replaced:
  description:
    - Routes to a peer CIDR that pointed elsewhere and now go through the pair's peering.
    - Same keys as RV(routes_added), plus C(previous_target), the former target (a peering, gateway, ... ID).
  returned: always
  type: list
  elements: dict
  sample:
    - peering: shop-eu-west-1-us-east-1
      vpc_peering_connection_id: pcx-0123456789abcdef0
      region: us-east-1
      route_table_id: rtb-0a1b2c3d4e5f60011
      destination_cidr_block: 10.20.0.0/16
      previous_target: pcx-0fedcba9876543210
routes_removed:
  description:
    - Routes removed with O(state=absent). Same keys as RV(routes_replaced).
  returned: always
  type: list
  elements: dict
  sample:
    - peering: shop-eu-west-1-us-east-1
      vpc_peering_connection_id: pcx-0123456789abcdef0
      region: us-east-1
      route_table_id: rtb-0a1b2c3d4e5f60011
      destination_cidr_block: 10.20.0.0/16
      previous_target: pcx-0123456789abcdef0
diff:
  description:
    - A compact picture of the mesh before and after the run (after = predicted in check mode). Peerings are keyed by name,
      routes by route table and destination; a route through a mesh peering shows as C(peering:<name>).
  returned: always
  type: dict
  contains:
    before:
      description: The mesh before the run.
      type: dict
      returned: always
    after:
      description: The mesh after the run.
      type: dict
      returned: always
  sample:
    before:
      peerings: {}
      routes: {"rtb-0a1b2c3d4e5f60011": {}}
    after:
      peerings:
        shop-eu-west-1-us-east-1:
          status: active
          requester: eu-west-1/vpc-0a1b2c3d4e5f60002
          accepter: us-east-1/vpc-0a1b2c3d4e5f60001
          dns_resolution: {"requester": true, "accepter": true}
          tags:
            eu-west-1: {"Name": "shop-eu-west-1-us-east-1"}
            us-east-1: {"Name": "shop-eu-west-1-us-east-1"}
      routes: {"rtb-0a1b2c3d4e5f60011": {"10.20.0.0/16": "peering:shop-eu-west-1-us-east-1"}}
"""

import time
from typing import Any
from typing import Callable

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_specifications
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.amazon.aws.plugins.module_utils.transformation import ansible_dict_to_boto3_filter_list

from ansible_collections.megapool.aws.plugins.module_utils.base import TAGS_ARGUMENT_SPEC
from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.base import WaitTimeout
from ansible_collections.megapool.aws.plugins.module_utils.base import aws_call
from ansible_collections.megapool.aws.plugins.module_utils.base import backoff_pauses
from ansible_collections.megapool.aws.plugins.module_utils.base import poll_until
from ansible_collections.megapool.aws.plugins.module_utils.base import retry_while
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import IGNORED_STATUSES
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import MeshError
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import MeshVpc
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import Observed
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import ObservedPeering
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import Pair
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import PeeringCreate
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import Plan
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import pair_states
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import plan_mesh
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import predict
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import validate_vpcs
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import view

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    vpcs=dict(
        type="list",
        elements="dict",
        required=True,
        options=dict(
            region=dict(type="str", required=True),
            vpc_id=dict(type="str", required=True),
            cidr=dict(type="str", required=True),
            route_table_ids=dict(type="list", elements="str", default=[]),
        ),
    ),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    wait_timeout=dict(type="int", default=300),
    **TAGS_ARGUMENT_SPEC,
)

# The clock and the pause of the waits (tests replace them).
_clock: Callable[[], float] = time.monotonic
_sleep: Callable[[float], None] = time.sleep

# "Not visible (yet)": a peering requested in one region reaches the peer region's API a moment later
# (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
_NOT_FOUND_CODES = ["InvalidVpcPeeringConnectionID.NotFound"]
_NEW_PEERING_PREFIX = "pcx-(new)-"
_DNS_OPTIONS = {"AllowDnsResolutionFromRemoteVpc": True}
_ROUTE_TARGET_KEYS = (
    "VpcPeeringConnectionId",
    "GatewayId",
    "NatGatewayId",
    "TransitGatewayId",
    "NetworkInterfaceId",
    "InstanceId",
    "EgressOnlyInternetGatewayId",
    "CarrierGatewayId",
    "LocalGatewayId",
    "CoreNetworkArn",
)


def _all_pages(client: Any, operation: str, key: str, **params: Any) -> list[dict]:
    """Every item under ``key`` of every page of ``operation``."""
    return client.get_paginator(operation).paginate(**params).build_full_result()[key]


class _Region:
    """The EC2 clients of one region: ``ec2`` (throttling and server errors retried by the kernel's policy), ``fresh``
    the same client that also retries 'not found yet' after a create (``aws_retry=True``)."""

    def __init__(self, name: str, ec2: Any) -> None:
        self.name = name
        self.ec2 = ec2
        self.fresh = RetryingBotoClientWrapper(
            self.ec2, retry_while(_NOT_FOUND_CODES, retries=8, delay=2, max_delay=20)
        )


class _Mesh:
    """Reads the mesh, applies a plan, and keeps what it learnt (new peering ids, statuses) on the way.

    Every AWS call goes through the kernel's ``aws_call`` with what it does (``Could not <what>: <AWS error>``);
    input errors are ``MeshError``; ``MegapoolAWSModule.run`` in ``main()`` turns both into ``fail_json``."""

    def __init__(self, module: MegapoolAWSModule, vpcs: list[MeshVpc]) -> None:
        self.module = module
        self.vpcs = vpcs
        clients = module.region_clients("ec2", sorted({vpc.region for vpc in vpcs}))  # one session: the model once
        self.regions = {name: _Region(name, client) for name, client in clients.items()}
        self.ids: dict[str, str] = {}
        self.peering_regions: dict[str, tuple[str, ...]] = {}
        self.views: dict[tuple[str, str], dict] = {}
        self.deadline_seconds = module.params["wait_timeout"]

    # ---------------------------------------------------------------- reading

    def read(self) -> Observed:
        known_ids = sorted(vpc.vpc_id for vpc in self.vpcs if vpc.known)
        merged: dict[str, dict[str, dict]] = {}
        routes: dict[str, dict[str, str]] = {}
        for name, region in self.regions.items():
            if len(known_ids) >= 2:
                for raw in self._describe_peerings(region, known_ids):
                    merged.setdefault(raw["VpcPeeringConnectionId"], {})[name] = raw
            table_ids = [table_id for vpc in self.vpcs if vpc.region == name for table_id in vpc.route_table_ids]
            if table_ids:
                for table in self._describe_route_tables(region, table_ids):
                    self._check_table(table, name)
                    routes[table["RouteTableId"]] = _routes_of(table)
        self._check_tables_found(routes)
        return Observed(tuple(_merge_views(views) for views in merged.values()), routes)

    def _describe_peerings(self, region: _Region, vpc_ids: list[str]) -> list[dict]:
        # Both ends of a mesh peering are listed VPCs: one call finds all of them, whichever side requested.
        filters = ansible_dict_to_boto3_filter_list(
            {"requester-vpc-info.vpc-id": vpc_ids, "accepter-vpc-info.vpc-id": vpc_ids}
        )
        return aws_call(
            "describe VPC peering connections in %s" % region.name,
            _all_pages,
            region.ec2,
            "describe_vpc_peering_connections",
            "VpcPeeringConnections",
            Filters=filters,
        )

    def _describe_route_tables(self, region: _Region, table_ids: list[str]) -> list[dict]:
        # A filter (unlike RouteTableIds) does not fail on a table that does not exist (yet, in check mode).
        filters = ansible_dict_to_boto3_filter_list({"route-table-id": table_ids})
        return aws_call(
            "describe route tables in %s" % region.name,
            _all_pages,
            region.ec2,
            "describe_route_tables",
            "RouteTables",
            Filters=filters,
        )

    def _check_table(self, table: dict, region: str) -> None:
        for index, vpc in enumerate(self.vpcs):
            if table["RouteTableId"] in vpc.route_table_ids and vpc.known and table.get("VpcId") != vpc.vpc_id:
                raise MeshError(
                    "vpcs[%d].route_table_ids: %s in %s belongs to %s, not to %s. List each route table under its own VPC."
                    % (index, table["RouteTableId"], region, table.get("VpcId"), vpc.vpc_id)
                )

    def _check_tables_found(self, routes: dict[str, dict[str, str]]) -> None:
        if self.module.check_mode or self.module.params["state"] == "absent":
            return
        missing = [
            "%s (%s)" % (table_id, vpc.region)
            for vpc in self.vpcs
            for table_id in vpc.route_table_ids
            if table_id not in routes
        ]
        if missing:
            raise MeshError("Route tables not found: %s. Check vpcs[].route_table_ids." % ", ".join(missing))

    # ---------------------------------------------------------------- applying

    def apply(self, plan: Plan) -> None:
        active = set()
        for pair in plan.pairs:
            if pair.peering:
                self.ids[pair.name] = pair.peering.peering_id
                self.peering_regions[pair.peering.peering_id] = pair.peering.regions
                if pair.peering.status == "active":
                    active.add(pair.peering.peering_id)
        for item in plan.create:
            self._create(item)
        for action in plan.accept:
            self._accept(self._id(action.name, action.peering_id), action.region)
        # DNS options and routes need an active peering, in both regions.
        for peering_id in sorted(
            {self._id(item.name, item.peering_id) for item in plan.dns + plan.routes_add + plan.routes_replace} - active
        ):
            for region in self.peering_regions[peering_id]:
                self._wait_for(peering_id, region, {"active"})
        for change in plan.tags:
            self._tag(
                self._id(change.name, change.peering_id),
                change.region,
                dict(change.set_tags),
                list(change.unset_tags),
                change.peering_id is None,
            )
        self._enable_dns(plan)
        for route in plan.routes_replace + plan.routes_add:
            self._route(
                route.region,
                route.route_table_id,
                route.destination,
                self._id(route.name, route.peering_id),
                route.current_target is not None,
            )
        for route in plan.routes_remove:
            self._delete_route(route.region, route.route_table_id, route.destination)
        for action in plan.delete:
            self._delete(action.peering_id, action.region)

    def _id(self, name: str, peering_id: str | None) -> str:
        return peering_id or self.ids[name]

    def _create(self, item: PeeringCreate) -> None:
        region = self.regions[item.requester_region]
        params = dict(
            VpcId=item.requester_vpc_id,
            PeerVpcId=item.accepter_vpc_id,
            TagSpecifications=boto3_tag_specifications(dict(item.tags), types=["vpc-peering-connection"]),
        )
        if item.accepter_region != item.requester_region:
            params["PeerRegion"] = item.accepter_region
        peering = aws_call("create the VPC peering %s" % item.name, region.ec2.create_vpc_peering_connection, **params)[
            "VpcPeeringConnection"
        ]
        peering_id = peering["VpcPeeringConnectionId"]
        self.ids[item.name] = peering_id
        self.peering_regions[peering_id] = tuple(dict.fromkeys((item.requester_region, item.accepter_region)))

    def _accept(self, peering_id: str, region_name: str) -> None:
        found = self._wait_for(peering_id, region_name, {"pending-acceptance", "provisioning", "active"})
        if found["Status"]["Code"] != "pending-acceptance":
            return  # someone else accepted it meanwhile
        aws_call(
            "accept VPC peering %s in %s" % (peering_id, region_name),
            self.regions[region_name].fresh.accept_vpc_peering_connection,
            aws_retry=True,
            VpcPeeringConnectionId=peering_id,
        )

    def _wait_for(self, peering_id: str, region_name: str, wanted: set[str]) -> dict:
        """Poll the view of ``peering_id`` in a region until its status is in ``wanted`` (bounded by wait_timeout),
        after 1 s, then twice as long each time up to 15 s."""
        region = self.regions[region_name]

        def read() -> dict | None:
            answer = aws_call(
                "describe VPC peering %s in %s" % (peering_id, region_name),
                region.ec2.describe_vpc_peering_connections,
                missing=_NOT_FOUND_CODES,
                VpcPeeringConnectionIds=[peering_id],
            )
            found = (answer or {}).get("VpcPeeringConnections")
            if not found:
                return None
            self.views[(peering_id, region_name)] = found[0]
            status = found[0]["Status"]["Code"]
            if status in IGNORED_STATUSES:
                self.module.fail_json(
                    msg="VPC peering %s is %s in %s: %s"
                    % (peering_id, status, region_name, found[0]["Status"].get("Message", ""))
                )
            return found[0]

        try:
            return poll_until(
                read,
                lambda view: view is not None and view["Status"]["Code"] in wanted,
                what="VPC peering %s in %s" % (peering_id, region_name),
                timeout=self.deadline_seconds,
                interval=backoff_pauses(1.0, 2.0, 15.0),
                clock=_clock,
                sleep=_sleep,
            )
        except WaitTimeout as timed_out:
            status = timed_out.last["Status"]["Code"] if timed_out.last else "not visible"
            self.module.fail_json(
                msg="Timed out after %ss waiting for VPC peering %s to become %s in %s (last status: %s). "
                "Raise wait_timeout, or look at the peering in the AWS console."
                % (self.deadline_seconds, peering_id, " or ".join(sorted(wanted)), region_name, status)
            )
        return {}

    def _tag(self, peering_id: str, region_name: str, to_set: dict, to_unset: list, recheck: bool) -> None:
        region = self.regions[region_name]
        if recheck:
            # A new peering: its view in this region may already carry the tags (set with the request).
            current = boto3_tag_list_to_ansible_dict(self._view(peering_id, region_name).get("Tags", []))
            to_set, to_unset = compare_aws_tags(current, to_set, purge_tags=False)
        what = "tag VPC peering %s in %s" % (peering_id, region_name)
        if to_unset:
            aws_call(
                what,
                region.fresh.delete_tags,
                aws_retry=True,
                Resources=[peering_id],
                Tags=[{"Key": key} for key in to_unset],
            )
        if to_set:
            aws_call(
                what,
                region.fresh.create_tags,
                aws_retry=True,
                Resources=[peering_id],
                Tags=ansible_dict_to_boto3_tag_list(to_set),
            )

    def _view(self, peering_id: str, region_name: str) -> dict:
        if (peering_id, region_name) not in self.views:
            self._wait_for(peering_id, region_name, {"pending-acceptance", "provisioning", "active"})
        return self.views[(peering_id, region_name)]

    def _enable_dns(self, plan: Plan) -> None:
        # Cross-region, each side's options can only be changed in that side's region: one call per peering and region.
        grouped: dict[tuple[str, str], set[str]] = {}
        for change in plan.dns:
            grouped.setdefault((self._id(change.name, change.peering_id), change.region), set()).add(change.side)
        for (peering_id, region_name), sides in sorted(grouped.items()):
            params = {"VpcPeeringConnectionId": peering_id}
            if "requester" in sides:
                params["RequesterPeeringConnectionOptions"] = dict(_DNS_OPTIONS)
            if "accepter" in sides:
                params["AccepterPeeringConnectionOptions"] = dict(_DNS_OPTIONS)
            aws_call(
                "enable DNS resolution on VPC peering %s in %s" % (peering_id, region_name),
                self.regions[region_name].fresh.modify_vpc_peering_connection_options,
                aws_retry=True,
                **params,
            )

    def _route(self, region_name: str, table_id: str, destination: str, peering_id: str, exists: bool) -> None:
        client = self.regions[region_name].fresh
        params = dict(RouteTableId=table_id, DestinationCidrBlock=destination, VpcPeeringConnectionId=peering_id)
        aws_call(
            "route %s via %s in %s (%s)" % (destination, peering_id, table_id, region_name),
            client.replace_route if exists else client.create_route,
            aws_retry=True,
            **params,
        )

    def _delete_route(self, region_name: str, table_id: str, destination: str) -> None:
        aws_call(
            "delete the route to %s from %s (%s)" % (destination, table_id, region_name),
            self.regions[region_name].ec2.delete_route,
            # gone meanwhile: EC2 answers InvalidRoute.NotFound (API error codes, errors-overview.html as above;
            # amazon.aws's ec2.delete_route treats it as deleted too)
            missing=["InvalidRoute.NotFound"],
            RouteTableId=table_id,
            DestinationCidrBlock=destination,
        )

    def _delete(self, peering_id: str, region_name: str) -> None:
        aws_call(
            "delete VPC peering %s in %s" % (peering_id, region_name),
            self.regions[region_name].ec2.delete_vpc_peering_connection,
            VpcPeeringConnectionId=peering_id,
        )

    # ---------------------------------------------------------------- reporting

    def result(self, plan: Plan, before: Observed, after: Observed) -> dict[str, Any]:
        summary = plan.summary()
        for key in ("routes_added", "routes_replaced"):
            for entry in summary[key]:
                if entry["vpc_peering_connection_id"] is None and entry["peering"] in self.ids:
                    entry["vpc_peering_connection_id"] = self.ids[entry["peering"]]
        return dict(
            changed=plan.changed,
            peerings=[_peering_result(pair) for pair in pair_states(plan, after) if pair.peering],
            diff=dict(before=view(self.vpcs, plan, before), after=view(self.vpcs, plan, after)),
            **summary,
        )


def _merge_views(views: dict[str, dict]) -> ObservedPeering:
    """One peering from its views in the regions that see it (status and options from the side's own region)."""
    any_view = next(iter(views.values()))
    requester_info = any_view.get("RequesterVpcInfo", {})
    accepter_info = any_view.get("AccepterVpcInfo", {})
    requester_region = requester_info.get("Region") or next(iter(views))
    accepter_region = accepter_info.get("Region") or requester_region
    requester_view = views.get(requester_region, any_view)
    accepter_view = views.get(accepter_region, any_view)
    return ObservedPeering(
        peering_id=any_view["VpcPeeringConnectionId"],
        requester_region=requester_region,
        requester_vpc_id=requester_info.get("VpcId", ""),
        accepter_region=accepter_region,
        accepter_vpc_id=accepter_info.get("VpcId", ""),
        status=accepter_view.get("Status", {}).get("Code", "unknown"),
        requester_dns=_dns(requester_view, "RequesterVpcInfo"),
        accepter_dns=_dns(accepter_view, "AccepterVpcInfo"),
        tags={region: boto3_tag_list_to_ansible_dict(raw.get("Tags", [])) for region, raw in views.items()},
    )


def _dns(raw: dict, side: str) -> bool:
    return bool(raw.get(side, {}).get("PeeringOptions", {}).get("AllowDnsResolutionFromRemoteVpc", False))


def _routes_of(table: dict) -> dict[str, str]:
    routes = {}
    for route in table.get("Routes", []):
        destination = route.get("DestinationCidrBlock")
        if destination:
            routes[destination] = next((route[key] for key in _ROUTE_TARGET_KEYS if route.get(key)), "unknown")
    return routes


def _peering_result(pair: Pair) -> dict[str, Any]:
    peering = pair.peering
    sides = {pair.requester.key: pair.requester, pair.accepter.key: pair.accepter}

    def _side(region: str, vpc_id: str, dns: bool) -> dict[str, Any]:
        vpc = sides.get((region, vpc_id))
        return dict(
            region=region,
            vpc_id=vpc_id if vpc is None or vpc.known else None,
            cidr_block=vpc.cidr if vpc else None,
            allow_dns_resolution_from_remote_vpc=dns,
        )

    return dict(
        name=pair.name,
        id=None if peering.peering_id.startswith(_NEW_PEERING_PREFIX) else peering.peering_id,
        status=peering.status,
        requester=_side(peering.requester_region, peering.requester_vpc_id, peering.requester_dns),
        accepter=_side(peering.accepter_region, peering.accepter_vpc_id, peering.accepter_dns),
        tags=dict(peering.tags.get(peering.requester_region, {})),
    )


def _validated(module: MegapoolAWSModule) -> list[MeshVpc]:
    """The VPCs, or ``MeshError`` naming the option and the fix."""
    if module.params["wait_timeout"] < 0:
        raise MeshError("wait_timeout must be 0 or more seconds, got %d." % module.params["wait_timeout"])
    allow_unknown = module.check_mode or module.params["state"] == "absent"
    return validate_vpcs(module.params["vpcs"], allow_unknown=allow_unknown)


def _converge(module: MegapoolAWSModule) -> dict[str, Any]:
    vpcs = _validated(module)  # before any AWS call
    mesh = _Mesh(module, vpcs)
    before = mesh.read()
    plan = plan_mesh(vpcs, before, module.params["state"], module.params["tags"], module.params["purge_tags"])
    if not plan.changed:
        after = before
    elif module.check_mode:
        after = predict(vpcs, before, plan, new_id=lambda name: _NEW_PEERING_PREFIX + name)
    else:
        mesh.apply(plan)
        after = mesh.read()
    return mesh.result(plan, before, after)


def main() -> None:
    module = MegapoolAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(_converge, module, input_errors=(MeshError,))


if __name__ == "__main__":
    main()
