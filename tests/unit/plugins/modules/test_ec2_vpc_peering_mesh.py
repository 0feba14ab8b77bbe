# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.ec2_vpc_peering_mesh against moto in-process, with real VPCs and route tables in several regions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from ansible_collections.megapool.aws.plugins.module_utils import base
from ansible_collections.megapool.aws.plugins.modules import ec2_vpc_peering_mesh as module_under_test

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
CLUSTER_TAGS = {"megapool:cluster": "shop", "megapool:env": "test"}
LIVE = ("active", "pending-acceptance", "initiating-request", "provisioning")


@pytest.fixture
def aws(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        yield


_CLIENTS: dict[str, Any] = {}


def _ec2(region: str):
    """A test-side client (cached: creating boto3 clients is the slow part of these tests)."""
    if region not in _CLIENTS:
        _CLIENTS[region] = boto3.client("ec2", region_name=region)
    return _CLIENTS[region]


def _make_vpcs(
    regions: tuple[str, ...] | list[str] = tuple(REGIONS), cidrs=None, tables: int = 1
) -> list[dict[str, Any]]:
    """A VPC (10.<i>.0.0/16 unless told) with ``tables`` route tables and an internet route in each region."""
    vpcs = []
    for index, region in enumerate(regions):
        ec2 = _ec2(region)
        cidr = cidrs[index] if cidrs else "10.%d.0.0/16" % index
        vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
        table_ids = []
        for _number in range(tables):
            table_id = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
            ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
            table_ids.append(table_id)
        vpcs.append(dict(region=region, vpc_id=vpc_id, cidr=cidr, route_table_ids=table_ids, igw=igw))
    return vpcs


def _args(vpcs: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    args = dict(vpcs=[{k: v for k, v in vpc.items() if k != "igw"} for vpc in vpcs])
    args.update(extra)
    return args


def _peerings(region: str, live_only: bool = True) -> list[dict]:
    found = _ec2(region).describe_vpc_peering_connections()["VpcPeeringConnections"]
    return [p for p in found if p["Status"]["Code"] in LIVE or not live_only]


def _live_mesh_peerings(vpcs) -> dict[frozenset, dict]:
    """Live peerings between the given VPCs, by the pair of VPC ids (fails on duplicates)."""
    ids = {vpc["vpc_id"] for vpc in vpcs}
    found: dict[frozenset, dict] = {}
    for region in {vpc["region"] for vpc in vpcs}:
        for peering in _peerings(region):
            ends = frozenset((peering["RequesterVpcInfo"]["VpcId"], peering["AccepterVpcInfo"]["VpcId"]))
            if ends <= ids:
                assert found.get(ends, peering)["VpcPeeringConnectionId"] == peering["VpcPeeringConnectionId"], (
                    "duplicate peering"
                )
                found[ends] = peering
    return found


def _routes(vpc: dict) -> dict[str, dict[str, str]]:
    tables = _ec2(vpc["region"]).describe_route_tables(RouteTableIds=vpc["route_table_ids"])["RouteTables"]
    return {
        table["RouteTableId"]: {
            route["DestinationCidrBlock"]: route.get("VpcPeeringConnectionId") or route.get("GatewayId")
            for route in table["Routes"]
            if "DestinationCidrBlock" in route
        }
        for table in tables
    }


def _tags(peering: dict) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in peering.get("Tags", [])}


def _assert_full_mesh(vpcs, tags=None) -> dict[frozenset, dict]:
    mesh = _live_mesh_peerings(vpcs)
    assert len(mesh) == len(vpcs) * (len(vpcs) - 1) // 2
    for peering in mesh.values():
        assert peering["Status"]["Code"] == "active"
        requester, accepter = peering["RequesterVpcInfo"], peering["AccepterVpcInfo"]
        assert requester["Region"] <= accepter["Region"]
        assert requester["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is True
        assert accepter["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is True
        if tags is not None:
            assert _tags(peering) == dict(
                tags, Name="%s-%s-%s" % (tags.get("megapool:cluster", "mesh"), requester["Region"], accepter["Region"])
            )
    for vpc in vpcs:
        for table_id, routes in _routes(vpc).items():
            for peer in vpcs:
                if peer is not vpc:
                    pcx = mesh[frozenset((vpc["vpc_id"], peer["vpc_id"]))]["VpcPeeringConnectionId"]
                    assert routes[peer["cidr"]] == pcx, (table_id, peer["cidr"])
            assert routes["0.0.0.0/0"] == vpc["igw"]
    return mesh


# ------------------------------------------------------------------------------------------ present


def test_creates_an_active_mesh_with_routes_dns_and_tags(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpcs = _make_vpcs(tables=2)
    result = run_module(module_under_test.main, _args(vpcs, tags=CLUSTER_TAGS))

    assert result["changed"] is True, result
    mesh = _assert_full_mesh(vpcs, tags=CLUSTER_TAGS)
    assert (
        sorted(result["peerings_created"])
        == sorted(result["peerings_accepted"])
        == [
            "shop-ap-southeast-2-eu-west-1",
            "shop-ap-southeast-2-us-east-1",
            "shop-eu-west-1-us-east-1",
        ]
    )
    assert len(result["routes_added"]) == 3 * 2 * 2
    assert result["routes_replaced"] == result["routes_removed"] == result["peerings_deleted"] == []
    ids = {p["VpcPeeringConnectionId"] for p in mesh.values()}
    assert {route["vpc_peering_connection_id"] for route in result["routes_added"]} == ids

    by_name = {p["name"]: p for p in result["peerings"]}
    assert set(by_name) == set(result["peerings_created"])
    returned = by_name["shop-eu-west-1-us-east-1"]
    assert returned["id"] == mesh[frozenset((vpcs[0]["vpc_id"], vpcs[1]["vpc_id"]))]["VpcPeeringConnectionId"]
    assert returned["status"] == "active"
    assert returned["requester"] == dict(
        region="eu-west-1",
        vpc_id=vpcs[1]["vpc_id"],
        cidr_block="10.1.0.0/16",
        allow_dns_resolution_from_remote_vpc=True,
    )
    assert returned["accepter"] == dict(
        region="us-east-1",
        vpc_id=vpcs[0]["vpc_id"],
        cidr_block="10.0.0.0/16",
        allow_dns_resolution_from_remote_vpc=True,
    )
    assert returned["tags"] == dict(CLUSTER_TAGS, Name="shop-eu-west-1-us-east-1")

    # the peering is requested in the requester's region and accepted in the accepter's
    for call in aws_calls.of("CreateVpcPeeringConnection"):
        assert call.params["PeerRegion"] > call.region
    accepted = {
        call.params["VpcPeeringConnectionId"]: call.region for call in aws_calls.of("AcceptVpcPeeringConnection")
    }
    assert accepted == {p["VpcPeeringConnectionId"]: p["AccepterVpcInfo"]["Region"] for p in mesh.values()}

    assert result["diff"]["before"] == {
        "peerings": {},
        "routes": {t: {} for vpc in vpcs for t in vpc["route_table_ids"]},
    }
    assert result["diff"]["after"]["routes"][vpcs[0]["route_table_ids"][0]] == {
        "10.1.0.0/16": "peering:shop-eu-west-1-us-east-1",
        "10.2.0.0/16": "peering:shop-ap-southeast-2-us-east-1",
    }


def test_dns_options_are_set_per_side_in_that_sides_region(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    # moto accepts either side's options in any region; AWS does not for cross-region peerings.
    vpcs = _make_vpcs()
    result = run_module(module_under_test.main, _args(vpcs))
    assert result["changed"], result
    regions = {p["id"]: (p["requester"]["region"], p["accepter"]["region"]) for p in result["peerings"]}
    calls = aws_calls.of("ModifyVpcPeeringConnectionOptions")
    assert len(calls) == 6
    enable = {"AllowDnsResolutionFromRemoteVpc": True}
    seen = set()
    for call in calls:
        peering_id = call.params["VpcPeeringConnectionId"]
        requester_region, accepter_region = regions[peering_id]
        if call.region == requester_region:
            assert call.params == {"VpcPeeringConnectionId": peering_id, "RequesterPeeringConnectionOptions": enable}
        else:
            assert call.region == accepter_region
            assert call.params == {"VpcPeeringConnectionId": peering_id, "AccepterPeeringConnectionOptions": enable}
        seen.add((peering_id, call.region))
    assert len(seen) == 6


def test_second_run_changes_nothing(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpcs = _make_vpcs()
    first = run_module(module_under_test.main, _args(vpcs, tags=CLUSTER_TAGS))
    assert first["changed"], first
    aws_calls.clear()

    second = run_module(module_under_test.main, _args(vpcs, tags=CLUSTER_TAGS), diff=True)

    assert second["changed"] is False, second
    assert aws_calls.writes() == []
    # one read of the peerings and one of the route tables per region
    assert sorted(aws_calls.operations()) == sorted(["DescribeVpcPeeringConnections", "DescribeRouteTables"] * 3)
    assert second["diff"]["before"] == second["diff"]["after"] == first["diff"]["after"]
    assert sorted(second["peerings"], key=lambda p: p["name"]) == sorted(first["peerings"], key=lambda p: p["name"])
    assert second["peerings_created"] == second["routes_added"] == []


def test_check_mode_makes_no_change_but_reports_the_plan(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpcs = _make_vpcs()
    routes_before = [_routes(vpc) for vpc in vpcs]
    aws_calls.clear()

    checked = run_module(module_under_test.main, _args(vpcs, tags=CLUSTER_TAGS), check_mode=True, diff=True)

    assert checked["changed"] is True, checked
    assert aws_calls.writes() == []
    assert all(_peerings(region, live_only=False) == [] for region in REGIONS)
    assert [_routes(vpc) for vpc in vpcs] == routes_before
    assert len(checked["peerings_created"]) == 3
    assert len(checked["routes_added"]) == 6
    assert all(p["id"] is None and p["status"] == "active" for p in checked["peerings"])

    # the prediction matches what a real run then does
    applied = run_module(module_under_test.main, _args(vpcs, tags=CLUSTER_TAGS), diff=True)
    assert applied["diff"] == checked["diff"]
    strip = [dict(p, id=None) for p in applied["peerings"]]
    assert sorted(strip, key=lambda p: p["name"]) == sorted(checked["peerings"], key=lambda p: p["name"])
    assert {k: applied[k] for k in ("peerings_created", "peerings_accepted")} == {
        k: checked[k] for k in ("peerings_created", "peerings_accepted")
    }


def test_check_mode_copes_with_vpcs_that_do_not_exist_yet(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    existing = _make_vpcs(regions=REGIONS[:1])
    args = _args(existing)
    args["vpcs"] += [
        dict(region="eu-west-1", vpc_id="", cidr="10.1.0.0/16", route_table_ids=[""]),
        dict(region="ap-southeast-2", vpc_id="", cidr="10.2.0.0/16", route_table_ids=[]),
    ]
    aws_calls.clear()

    result = run_module(module_under_test.main, args, check_mode=True, diff=True)

    assert result["changed"] is True, result
    assert aws_calls.writes() == []
    assert len(result["peerings_created"]) == 3
    assert [(r["route_table_id"], r["destination_cidr_block"]) for r in result["routes_added"]] == [
        (existing[0]["route_table_ids"][0], "10.1.0.0/16"),
        (existing[0]["route_table_ids"][0], "10.2.0.0/16"),
    ]
    new = {p["name"]: p for p in result["peerings"]}["mesh-eu-west-1-us-east-1"]
    assert new["requester"]["vpc_id"] is None
    assert new["accepter"]["vpc_id"] == existing[0]["vpc_id"]


def test_an_empty_vpc_id_fails_outside_check_mode(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    existing = _make_vpcs(regions=REGIONS[:1])
    args = _args(existing)
    args["vpcs"].append(dict(region="eu-west-1", vpc_id="", cidr="10.1.0.0/16"))
    aws_calls.clear()
    result = run_module(module_under_test.main, args)
    assert result["failed"]
    assert "vpcs[1].vpc_id is empty (region eu-west-1)" in result["msg"]
    assert aws_calls == []


def test_existing_pending_peering_is_accepted_and_stray_route_replaced(aws, run_module):  # pylint: disable=unused-argument
    vpcs = _make_vpcs(regions=REGIONS[:2])
    use1, euw1 = vpcs
    # made by hand, from the "wrong" side, still pending; and a route to the peer CIDR via the gateway
    pcx = _ec2("us-east-1").create_vpc_peering_connection(
        VpcId=use1["vpc_id"], PeerVpcId=euw1["vpc_id"], PeerRegion="eu-west-1"
    )
    pcx_id = pcx["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    _ec2("us-east-1").create_route(
        RouteTableId=use1["route_table_ids"][0], DestinationCidrBlock="10.1.0.0/16", GatewayId=use1["igw"]
    )

    result = run_module(module_under_test.main, _args(vpcs))

    assert result["changed"], result
    assert result["peerings_created"] == []
    assert result["peerings_accepted"] == ["mesh-eu-west-1-us-east-1"]
    assert [
        (r["route_table_id"], r["previous_target"], r["vpc_peering_connection_id"]) for r in result["routes_replaced"]
    ] == [
        (use1["route_table_ids"][0], use1["igw"], pcx_id),
    ]
    mesh = _live_mesh_peerings(vpcs)
    assert [p["VpcPeeringConnectionId"] for p in mesh.values()] == [pcx_id]
    assert mesh[frozenset((use1["vpc_id"], euw1["vpc_id"]))]["Status"]["Code"] == "active"
    assert _routes(use1)[use1["route_table_ids"][0]]["10.1.0.0/16"] == pcx_id
    assert _routes(euw1)[euw1["route_table_ids"][0]]["10.0.0.0/16"] == pcx_id
    assert [(p["requester"]["region"], p["accepter"]["region"]) for p in result["peerings"]] == [
        ("us-east-1", "eu-west-1")
    ]
    assert run_module(module_under_test.main, _args(vpcs))["changed"] is False


def test_deleted_peering_is_replaced_by_a_new_one(aws, run_module):  # pylint: disable=unused-argument
    vpcs = _make_vpcs(regions=REGIONS[:2])
    first = run_module(module_under_test.main, _args(vpcs))
    old_id = first["peerings"][0]["id"]
    _ec2("eu-west-1").delete_vpc_peering_connection(VpcPeeringConnectionId=old_id)

    second = run_module(module_under_test.main, _args(vpcs))

    assert second["changed"], second
    new_id = second["peerings"][0]["id"]
    assert new_id != old_id
    assert {r["previous_target"] for r in second["routes_replaced"]} == {old_id}
    _assert_full_mesh(vpcs)


def test_same_region_vpcs_are_peered_with_one_options_call(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpcs = _make_vpcs(regions=["us-east-1", "us-east-1", "eu-west-1"])
    result = run_module(module_under_test.main, _args(vpcs))
    assert result["changed"], result
    _assert_full_mesh(vpcs)
    same = [p for p in result["peerings"] if p["requester"]["region"] == p["accepter"]["region"]]
    assert len(same) == 1
    first, second = sorted((vpcs[0]["vpc_id"], vpcs[1]["vpc_id"]))
    assert same[0]["name"] == "mesh-us-east-1-%s-us-east-1-%s" % (first, second)
    options_calls = [
        c
        for c in aws_calls.of("ModifyVpcPeeringConnectionOptions")
        if c.params["VpcPeeringConnectionId"] == same[0]["id"]
    ]
    assert len(options_calls) == 1
    assert set(options_calls[0].params) == {
        "VpcPeeringConnectionId",
        "RequesterPeeringConnectionOptions",
        "AccepterPeeringConnectionOptions",
    }
    create = [c for c in aws_calls.of("CreateVpcPeeringConnection") if c.params["VpcId"] == first]
    assert "PeerRegion" not in create[0].params
    assert run_module(module_under_test.main, _args(vpcs))["changed"] is False


# ------------------------------------------------------------------------------------------ tags


@pytest.mark.parametrize(
    "new_tags, purge, expected",
    [
        pytest.param(
            {"megapool:cluster": "shop", "team": "core"}, True, {"megapool:cluster": "shop", "team": "core"}, id="purge"
        ),
        pytest.param(
            {"megapool:cluster": "shop", "team": "core"}, False, dict(CLUSTER_TAGS, team="core"), id="no-purge"
        ),
        pytest.param(None, True, CLUSTER_TAGS, id="tags-unset-leaves-tags-alone"),
    ],
)
def test_tags_update(aws, run_module, aws_calls, new_tags, purge, expected):  # pylint: disable=unused-argument
    vpcs = _make_vpcs()
    assert run_module(module_under_test.main, _args(vpcs, tags=CLUSTER_TAGS))["changed"]
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(vpcs, tags=new_tags, purge_tags=purge), diff=True)

    changes = new_tags is not None
    assert result["changed"] is changes, result
    _assert_full_mesh(vpcs, tags=expected)
    for peering in result["peerings"]:
        name = "shop-%s-%s" % (peering["requester"]["region"], peering["accepter"]["region"])
        assert peering["tags"] == dict(expected, Name=name)
    assert {call.operation for call in aws_calls.writes()} <= {"CreateTags", "DeleteTags"}
    if changes:
        # cross-region peerings are tagged in both regions (AWS keeps each region's tags apart)
        tagged = {(c.region, c.params["Resources"][0]) for c in aws_calls.of("CreateTags")}
        assert tagged == {
            (region, p["id"])
            for p in result["peerings"]
            for region in (p["requester"]["region"], p["accepter"]["region"])
        }
        assert result["diff"]["before"] != result["diff"]["after"]
    assert run_module(module_under_test.main, _args(vpcs, tags=new_tags, purge_tags=purge))["changed"] is False


# ------------------------------------------------------------------------------------------ absent


def test_absent_removes_routes_and_peerings_and_is_idempotent(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpcs = _make_vpcs()
    created = run_module(module_under_test.main, _args(vpcs, tags=CLUSTER_TAGS))
    ids = {p["id"] for p in created["peerings"]}

    checked = run_module(
        module_under_test.main, _args(vpcs, state="absent", tags=CLUSTER_TAGS), check_mode=True, diff=True
    )
    assert checked["changed"] is True
    assert len(_live_mesh_peerings(vpcs)) == 3, "check mode deleted something"

    aws_calls.clear()
    removed = run_module(module_under_test.main, _args(vpcs, state="absent", tags=CLUSTER_TAGS), diff=True)

    assert removed["changed"] is True, removed
    assert removed["diff"] == checked["diff"]
    assert _live_mesh_peerings(vpcs) == {}
    assert {p["VpcPeeringConnectionId"] for region in REGIONS for p in _peerings(region, live_only=False)} == ids
    for vpc in vpcs:
        for routes in _routes(vpc).values():
            assert set(routes) == {vpc["cidr"], "0.0.0.0/0"}, "only the mesh routes go"
    assert len(removed["routes_removed"]) == 6
    assert sorted(removed["peerings_deleted"]) == sorted(p["name"] for p in created["peerings"])
    assert removed["peerings"] == []
    assert removed["diff"]["after"]["peerings"] == {}
    # routes go before the peerings they use
    operations = aws_calls.operations()
    assert max(i for i, op in enumerate(operations) if op == "DeleteRoute") < min(
        i for i, op in enumerate(operations) if op == "DeleteVpcPeeringConnection"
    )

    aws_calls.clear()
    again = run_module(module_under_test.main, _args(vpcs, state="absent"))
    assert again["changed"] is False, again
    assert aws_calls.writes() == []


# ------------------------------------------------------------------------------------------ refusals


def test_overlapping_cidrs_fail_before_any_aws_call(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpcs = _make_vpcs(cidrs=["10.0.0.0/16", "10.1.0.0/16", "10.0.128.0/20"])
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(vpcs))
    assert result["failed"] is True
    assert "us-east-1 (10.0.0.0/16) and ap-southeast-2 (10.0.128.0/20)" in result["msg"]
    assert "give each region a non-overlapping network_vpc_cidr" in result["msg"]
    assert aws_calls == []
    assert all(_peerings(region, live_only=False) == [] for region in REGIONS)


@pytest.mark.parametrize(
    "mutate, message",
    [
        pytest.param(lambda args: args["vpcs"].pop(), "a mesh needs at least 2 VPCs, got 1", id="one-vpc"),
        pytest.param(lambda args: args["vpcs"].append(dict(args["vpcs"][0])), "is listed twice", id="duplicate"),
        pytest.param(lambda args: args.update(wait_timeout=-1), "wait_timeout must be 0 or more", id="negative-wait"),
    ],
)
def test_invalid_input_fails_before_any_aws_call(aws, run_module, aws_calls, mutate, message):  # pylint: disable=unused-argument
    args = _args(_make_vpcs(regions=REGIONS[:2]))
    mutate(args)
    aws_calls.clear()
    result = run_module(module_under_test.main, args)
    assert result["failed"] is True
    assert message in result["msg"]
    assert aws_calls == []


def test_missing_route_table_fails_before_any_change(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpcs = _make_vpcs(regions=REGIONS[:2])
    vpcs[1]["route_table_ids"].append("rtb-0123456789abcdef0")
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(vpcs))
    assert result["failed"] is True
    assert "Route tables not found: rtb-0123456789abcdef0 (eu-west-1)" in result["msg"]
    assert aws_calls.writes() == []


def test_route_table_of_another_vpc_is_refused(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpcs = _make_vpcs(regions=REGIONS[:2])
    stranger = _ec2("eu-west-1").create_vpc(CidrBlock="172.16.0.0/16")["Vpc"]["VpcId"]
    foreign_table = _ec2("eu-west-1").create_route_table(VpcId=stranger)["RouteTable"]["RouteTableId"]
    vpcs[1]["route_table_ids"] = [foreign_table]
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(vpcs), check_mode=True)
    assert result["failed"] is True
    assert "vpcs[1].route_table_ids: %s in eu-west-1 belongs to %s" % (foreign_table, stranger) in result["msg"]
    assert aws_calls.writes() == []


@pytest.mark.parametrize("wait_timeout, pauses", [(0, []), (30, [1, 2, 4, 8, 15])])
def test_waiting_is_bounded(aws, run_module, monkeypatch, clock, wait_timeout, pauses):  # pylint: disable=unused-argument
    """Polled after 1 s, then twice as long each time up to 15 s, the last pause ending at wait_timeout."""
    # A peering that never leaves initiating-request (moto makes them pending at once).
    from moto.ec2.models.vpc_peering_connections import PeeringConnectionStatus  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(PeeringConnectionStatus, "pending", PeeringConnectionStatus.initiating)
    vpcs = _make_vpcs(regions=REGIONS[:2])
    result = run_module(module_under_test.main, _args(vpcs, wait_timeout=wait_timeout))
    assert result["failed"] is True
    assert "Timed out after %ss waiting for VPC peering pcx-" % wait_timeout in result["msg"]
    assert (
        "to become active or pending-acceptance or provisioning in us-east-1 (last status: initiating-request)"
        in result["msg"]
    )
    assert clock.sleeps == pauses


# ------------------------------------------------------------------------------------------ base class


def test_user_agent_names_the_collection(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpcs = _make_vpcs(regions=REGIONS[:2])
    aws_calls.clear()
    run_module(module_under_test.main, _args(vpcs), check_mode=True)
    assert aws_calls
    assert all("megapool.aws/%s" % base.MEGAPOOL_AWS_COLLECTION_VERSION in call.user_agent for call in aws_calls)


def test_collection_version_matches_galaxy_yml():
    galaxy = yaml.safe_load((Path(__file__).resolve().parents[4] / "galaxy.yml").read_text())
    assert base.MEGAPOOL_AWS_COLLECTION_VERSION == galaxy["version"]
    assert base.MEGAPOOL_AWS_COLLECTION_NAME == "%s.%s" % (galaxy["namespace"], galaxy["name"])


def test_documented_options_match_the_argument_spec(docs_match_spec):
    docs_match_spec(module_under_test)


# ------------------------------------------------------------------------------------------ AWS errors


class _Fault:  # pylint: disable=too-few-public-methods
    """AWS answers ``code`` to ``operation`` (when ``when(params)``), at most ``times`` times (None: always)."""

    def __init__(self, operation: str, code: str, when=None, times: int | None = None) -> None:
        self.operation, self.code, self.when, self.times = operation, code, when, times
        self.fired = 0

    def takes(self, operation: str, params: dict) -> bool:
        if operation != self.operation or (self.times is not None and self.fired >= self.times):
            return False
        if self.when is not None and not self.when(params):
            return False
        self.fired += 1
        return True


_FAULTS: list[_Fault] = []  # module-wide: a client cached by _ec2() outlives the test that made it


def _choose_fault(params, model, context, **_):
    context["megapool_fault"] = next((fault for fault in _FAULTS if fault.takes(model.name, params)), None)


def _answer_fault(context, **_):
    from botocore.awsrequest import AWSResponse  # pylint: disable=import-outside-toplevel

    fault = context.get("megapool_fault")
    if fault is None:
        return None
    error = {"Code": fault.code, "Message": "the %s message" % fault.code}
    return AWSResponse("https://fault.invalid/", 400, {}, None), {
        "Error": error,
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }


@pytest.fixture
def aws_faults(monkeypatch):
    """Append a :class:`_Fault` to the list: every boto3 client made afterwards gets AWS's error answer for it (a
    4xx with the code, raised by botocore as the service's modeled ClientError, as a real answer would be)."""
    original = boto3.session.Session.client

    def _client(self, *args, **kwargs):
        client = original(self, *args, **kwargs)
        client.meta.events.register("before-parameter-build", _choose_fault)
        client.meta.events.register("before-call", _answer_fault)
        return client

    monkeypatch.setattr(boto3.session.Session, "client", _client)
    yield _FAULTS
    _FAULTS.clear()


def _aws_error(code: str, operation: str) -> str:
    return ": An error occurred (%s) when calling the %s operation: the %s message" % (code, operation, code)


@pytest.mark.parametrize(
    "operation, code, what",
    [
        ("DescribeRouteTables", "UnauthorizedOperation", lambda call: "describe route tables in %s" % call.region),
        (
            "CreateVpcPeeringConnection",
            "VpcPeeringConnectionLimitExceeded",
            lambda call: "create the VPC peering mesh-eu-west-1-us-east-1",
        ),
        (
            "AcceptVpcPeeringConnection",
            "OperationNotPermitted",
            lambda call: "accept VPC peering %s in %s" % (call.params["VpcPeeringConnectionId"], call.region),
        ),
        (
            "ModifyVpcPeeringConnectionOptions",
            "OperationNotPermitted",
            lambda call: (
                "enable DNS resolution on VPC peering %s in %s" % (call.params["VpcPeeringConnectionId"], call.region)
            ),
        ),
        (
            "CreateRoute",
            "RouteLimitExceeded",
            lambda call: (
                "route %s via %s in %s (%s)"
                % (
                    call.params["DestinationCidrBlock"],
                    call.params["VpcPeeringConnectionId"],
                    call.params["RouteTableId"],
                    call.region,
                )
            ),
        ),
    ],
)
def test_an_aws_error_is_one_fail_json_saying_what_was_being_done(
    aws, run_module, aws_calls, aws_faults, operation, code, what
):  # pylint: disable=unused-argument
    vpcs = _make_vpcs(regions=REGIONS[:2])
    aws_calls.clear()
    aws_faults.append(_Fault(operation, code))
    result = run_module(module_under_test.main, _args(vpcs))

    assert result["failed"] is True
    failing = aws_calls.of(operation)
    assert len(failing) == 1, "an AWS error is not retried by the module"
    assert result["msg"] == "Could not " + what(failing[0]) + _aws_error(code, operation)
    assert result["error"] == {"code": code, "message": "the %s message" % code}
    assert aws_calls[-1].operation == operation, "nothing runs after the failing call"


def test_an_aws_error_while_removing_names_the_peering(aws, run_module, aws_calls, aws_faults):  # pylint: disable=unused-argument
    vpcs = _make_vpcs(regions=REGIONS[:2])
    created = run_module(module_under_test.main, _args(vpcs))
    aws_calls.clear()
    aws_faults.append(_Fault("DeleteVpcPeeringConnection", "DependencyViolation"))
    result = run_module(module_under_test.main, _args(vpcs, state="absent"))

    (peering,) = created["peerings"]
    assert result["msg"] == "Could not delete VPC peering %s in %s" % (
        peering["id"],
        peering["requester"]["region"],
    ) + _aws_error("DependencyViolation", "DeleteVpcPeeringConnection")
    assert len(aws_calls.of("DeleteRoute")) == 2, "the routes went first"


def test_a_route_gone_meanwhile_is_not_an_error(aws, run_module, aws_faults):  # pylint: disable=unused-argument
    vpcs = _make_vpcs(regions=REGIONS[:2])
    run_module(module_under_test.main, _args(vpcs))
    aws_faults.append(_Fault("DeleteRoute", "InvalidRoute.NotFound", times=1))
    result = run_module(module_under_test.main, _args(vpcs, state="absent"))

    assert result["changed"] is True, result
    assert aws_faults[0].fired == 1
    assert len(result["routes_removed"]) == 2
    assert _live_mesh_peerings(vpcs) == {}


def test_a_peering_not_visible_yet_is_waited_for(aws, run_module, aws_faults, clock):  # pylint: disable=unused-argument
    # A peering requested in one region reaches the other region's API a moment later: DescribeVpcPeeringConnections
    # by its id answers InvalidVpcPeeringConnectionID.NotFound meanwhile.
    aws_faults.append(
        _Fault(
            "DescribeVpcPeeringConnections",
            "InvalidVpcPeeringConnectionID.NotFound",
            when=lambda params: "VpcPeeringConnectionIds" in params,
            times=2,
        )
    )
    vpcs = _make_vpcs(regions=REGIONS[:2])
    result = run_module(module_under_test.main, _args(vpcs))

    assert result["changed"] is True and "failed" not in result, result
    assert aws_faults[0].fired == 2
    assert clock.sleeps[:2] == [1.0, 2.0]
    _assert_full_mesh(vpcs)


def test_the_module_handles_no_aws_error_itself():
    """Its AWS errors go through the kernel (base.aws_call, MegapoolAWSModule.run): no try/except of botocore or
    amazon.aws errors, no fail_json_aws of its own."""
    import ast  # pylint: disable=import-outside-toplevel

    tree = ast.parse(Path(module_under_test.__file__).read_text(encoding="utf-8"))
    caught = sorted(
        ast.unparse(handler.type)
        for handler in ast.walk(tree)
        if isinstance(handler, ast.ExceptHandler) and handler.type is not None
    )
    assert caught == ["WaitTimeout"]
    calls = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr.startswith("fail_json")
    }
    assert calls == {"fail_json"}  # a wait that timed out, a peering in a failed state


def test_the_ec2_model_is_parsed_once_for_every_region(aws, run_module, model_reads):  # pylint: disable=unused-argument
    """The regions' clients come from the kernel's region_clients (one session), not one module.client() each."""
    vpcs = _make_vpcs(regions=REGIONS)
    del model_reads[:]  # the test's own clients that made the VPCs
    result = run_module(module_under_test.main, _args(vpcs))

    assert result["changed"] is True and "failed" not in result, result
    assert model_reads == ["ec2"], "three regions, one parse of the EC2 model"
