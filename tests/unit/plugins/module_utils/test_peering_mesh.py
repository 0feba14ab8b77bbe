# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The peering mesh planner, as a pure function: table-driven cases and hypothesis properties."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import MeshError
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import Observed
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import ObservedPeering
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import OverlapError
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import find_overlaps
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import mesh_pairs
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import plan_mesh
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import predict
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import validate_vpcs
from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import view

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1", "eu-central-1", "us-west-2"]
USE1, EUW1, APSE2 = REGIONS[:3]


def _vpcs(count: int = 3, tables: int = 1) -> list:
    """VPC i in REGIONS[i], vpc-i, 10.i.0.0/16, route tables rtb-i-0.."""
    return validate_vpcs(
        [
            dict(
                region=REGIONS[i],
                vpc_id="vpc-%d" % i,
                cidr="10.%d.0.0/16" % i,
                route_table_ids=["rtb-%d-%d" % (i, t) for t in range(tables)],
            )
            for i in range(count)
        ]
    )


def _peering(
    pid: str, a: int, b: int, status: str = "active", dns: bool = True, tags: dict | None = None
) -> ObservedPeering:
    """A peering requested by VPC a (REGIONS[a]) to VPC b, tagged like the mesh (prefix 'mesh') unless told."""
    low, high = sorted((REGIONS[a], REGIONS[b]))
    name = "mesh-%s-%s" % (low, high)
    view_tags = {"Name": name} if tags is None else tags
    return ObservedPeering(
        pid,
        REGIONS[a],
        "vpc-%d" % a,
        REGIONS[b],
        "vpc-%d" % b,
        status,
        dns,
        dns,
        {REGIONS[a]: dict(view_tags), REGIONS[b]: dict(view_tags)},
    )


def _full_routes(count: int, ids: dict[frozenset, str], tables: int = 1) -> dict:
    return {
        "rtb-%d-%d" % (i, t): {
            "10.%d.0.0/16" % i: "local",
            **{"10.%d.0.0/16" % j: ids[frozenset((i, j))] for j in range(count) if j != i},
        }
        for i in range(count)
        for t in range(tables)
    }


def _healthy(count: int = 3, tables: int = 1) -> Observed:
    """A complete, correct mesh of ``count`` VPCs (requester = the lower index's region sorted first)."""
    ids, peerings = {}, []
    for a, b in itertools.combinations(range(count), 2):
        requester, accepter = sorted((a, b), key=lambda i: REGIONS[i])
        pid = "pcx-%d%d" % (a, b)
        ids[frozenset((a, b))] = pid
        peerings.append(_peering(pid, requester, accepter))
    return Observed(tuple(peerings), _full_routes(count, ids, tables))


# ------------------------------------------------------------------------------------------ overlaps


@pytest.mark.parametrize(
    "cidrs, expected",
    [
        pytest.param({"a": "10.0.0.0/16", "b": "10.1.0.0/16"}, [], id="adjacent"),
        pytest.param({"a": "10.0.0.0/16", "b": "10.0.0.0/16"}, [("a", "b")], id="identical"),
        pytest.param({"a": "10.0.0.0/8", "b": "10.200.0.0/16"}, [("a", "b")], id="nested-outer-first"),
        pytest.param({"a": "10.200.0.0/16", "b": "10.0.0.0/8"}, [("a", "b")], id="nested-inner-first"),
        pytest.param({"a": "10.0.0.0/16", "b": "10.0.255.0/24", "c": "172.16.0.0/12"}, [("a", "b")], id="one-of-three"),
        pytest.param(
            {"a": "10.0.0.0/8", "b": "10.1.0.0/16", "c": "10.2.0.0/16", "d": "192.168.0.0/16"},
            [("a", "b"), ("a", "c")],
            id="two-overlaps-in-order",
        ),
        pytest.param({"a": "10.0.0.0/16", "b": "fd00::/8"}, [], id="ipv4-vs-ipv6"),
        pytest.param({"a": "10.0.0.0/16"}, [], id="single"),
        pytest.param({}, [], id="empty"),
    ],
)
def test_find_overlaps(cidrs, expected):
    assert find_overlaps(cidrs) == expected


def test_find_overlaps_names_a_bad_cidr():
    with pytest.raises(ValueError, match=r"b: '10\.0\.0\.0/33' is not a valid CIDR"):
        find_overlaps({"a": "10.0.0.0/16", "b": "10.0.0.0/33"})


@given(st.lists(st.tuples(st.integers(0, 255), st.integers(8, 24)), min_size=0, max_size=8))
def test_find_overlaps_agrees_with_address_sets(blocks):
    import ipaddress  # pylint: disable=import-outside-toplevel

    cidrs = {
        "n%d" % i: str(ipaddress.ip_network("10.%d.0.0/%d" % (octet, prefix), strict=False))
        for i, (octet, prefix) in enumerate(blocks)
    }
    nets = {name: ipaddress.ip_network(cidr) for name, cidr in cidrs.items()}
    expected = [
        (a, b)
        for a, b in itertools.combinations(cidrs, 2)
        if nets[a].network_address <= nets[b].broadcast_address and nets[b].network_address <= nets[a].broadcast_address
    ]
    assert find_overlaps(cidrs) == expected


# ------------------------------------------------------------------------------------------ validation


def _entry(region: str, vpc_id: str, cidr: str, tables=()) -> dict:
    return dict(region=region, vpc_id=vpc_id, cidr=cidr, route_table_ids=list(tables))


@pytest.mark.parametrize(
    "entries, pattern",
    [
        pytest.param([_entry(USE1, "vpc-1", "10.1.0.0/16")], r"at least 2 VPCs, got 1", id="one-vpc"),
        pytest.param([], r"at least 2 VPCs, got 0", id="no-vpc"),
        pytest.param(
            [_entry(USE1, "vpc-1", "10.1.0.0/16"), _entry(USE1, "vpc-1", "10.2.0.0/16")],
            r"vpcs\[1\]: VPC vpc-1 is listed twice \(also vpcs\[0\]\)",
            id="duplicate-vpc-same-region",
        ),
        pytest.param(
            [_entry(USE1, "vpc-1", "10.1.0.0/16"), _entry(EUW1, "vpc-1", "10.2.0.0/16")],
            r"VPC vpc-1 is listed twice",
            id="duplicate-vpc-other-region",
        ),
        pytest.param(
            [_entry(USE1, "vpc-1", "10.1.0.0/16"), _entry(EUW1, "", "10.2.0.0/16")],
            r"vpcs\[1\]\.vpc_id is empty \(region eu-west-1\)\. Create the network",
            id="empty-vpc-id",
        ),
        pytest.param(
            [_entry(USE1, "vpc-1", "10.1.0.0/16"), _entry("", "vpc-2", "10.2.0.0/16")],
            r"vpcs\[1\]\.region is empty",
            id="empty-region",
        ),
        pytest.param(
            [_entry(USE1, "vpc-1", "10.1.0.0/16"), _entry(EUW1, "vpc-2", "10.2.0.1/16")],
            r"vpcs\[1\]\.cidr='10\.2\.0\.1/16' \(region eu-west-1\) is not a valid IPv4 network CIDR \(.*host bits",
            id="host-bits",
        ),
        pytest.param(
            [_entry(USE1, "vpc-1", "10.1.0.0/16"), _entry(EUW1, "vpc-2", "banana")],
            r"vpcs\[1\]\.cidr='banana'",
            id="not-a-cidr",
        ),
        pytest.param(
            [_entry(USE1, "vpc-1", "10.1.0.0/16"), _entry(EUW1, "vpc-2", "fd00::/56")],
            r"vpcs\[1\]\.cidr='fd00::/56' \(region eu-west-1\) is not a valid IPv4 network CIDR",
            id="ipv6",
        ),
        pytest.param(
            [_entry(USE1, "vpc-1", "10.1.0.0/16", ["rtb-1"]), _entry(EUW1, "vpc-2", "10.2.0.0/16", ["rtb-1"])],
            r"vpcs\[1\]\.route_table_ids: rtb-1 is listed twice \(also under vpcs\[0\]\)",
            id="shared-route-table",
        ),
        pytest.param(
            [_entry(USE1, "vpc-1", "10.1.0.0/16", ["rtb-1", ""]), _entry(EUW1, "vpc-2", "10.2.0.0/16")],
            r"vpcs\[0\]\.route_table_ids has an empty entry",
            id="empty-route-table",
        ),
    ],
)
def test_validate_vpcs_rejects(entries, pattern):
    with pytest.raises(MeshError, match=pattern):
        validate_vpcs(entries)


@pytest.mark.parametrize(
    "cidr_a, cidr_b",
    [
        pytest.param("10.0.0.0/16", "10.0.0.0/16", id="identical"),
        pytest.param("10.0.0.0/8", "10.42.0.0/16", id="nested"),
        pytest.param("10.42.128.0/20", "10.42.0.0/16", id="nested-reversed"),
    ],
)
def test_overlapping_cidrs_fail_with_regions_cidrs_and_fix(cidr_a, cidr_b):
    entries = [_entry(USE1, "vpc-1", cidr_a), _entry(EUW1, "vpc-2", cidr_b), _entry(APSE2, "vpc-3", "192.168.0.0/16")]
    with pytest.raises(OverlapError) as caught:
        validate_vpcs(entries)
    message = str(caught.value)
    assert "us-east-1 (%s)" % cidr_a in message
    assert "eu-west-1 (%s)" % cidr_b in message
    assert "ap-southeast-2" not in message
    assert "give each region a non-overlapping network_vpc_cidr" in message


def test_overlap_in_one_region_names_the_vpcs():
    entries = [_entry(USE1, "vpc-1", "10.0.0.0/16"), _entry(USE1, "vpc-2", "10.0.0.0/20")]
    with pytest.raises(
        OverlapError, match=r"us-east-1-vpc-1 \(10\.0\.0\.0/16\) and us-east-1-vpc-2 \(10\.0\.0\.0/20\)"
    ):
        validate_vpcs(entries)


def test_plan_refuses_overlaps_too():
    vpcs = _vpcs(2)
    bad = [vpcs[0], vpcs[1].__class__(EUW1, "vpc-9", "10.0.128.0/17")]
    with pytest.raises(OverlapError):
        plan_mesh(bad, Observed())


def test_unknown_vpcs_are_allowed_when_asked():
    vpcs = validate_vpcs(
        [
            _entry(USE1, "", "10.1.0.0/16", ["", "rtb-1"]),
            _entry(EUW1, "", "10.2.0.0/16"),
            _entry(APSE2, "vpc-3", "10.3.0.0/16"),
        ],
        allow_unknown=True,
    )
    assert [(vpc.vpc_id, vpc.known, vpc.route_table_ids) for vpc in vpcs] == [
        ("unknown-0", False, ("rtb-1",)),
        ("unknown-1", False, ()),
        ("vpc-3", True, ()),
    ]
    plan = plan_mesh(vpcs, Observed())
    assert len(plan.create) == 3
    assert [route.destination for route in plan.routes_add] == ["10.2.0.0/16", "10.3.0.0/16"]


# ------------------------------------------------------------------------------------------ present


@pytest.mark.parametrize("count", [2, 3, 4])
def test_empty_account_creates_every_pair(count):
    vpcs = _vpcs(count, tables=2)
    plan = plan_mesh(vpcs, Observed())
    assert len(plan.create) == count * (count - 1) // 2
    for item in plan.create:
        assert item.requester_region < item.accepter_region
        assert item.tags == {"Name": item.name}
        assert item.name == "mesh-%s-%s" % (item.requester_region, item.accepter_region)
    assert [(a.name, a.peering_id, a.region) for a in plan.accept] == [
        (c.name, None, c.accepter_region) for c in plan.create
    ]
    assert sorted((d.name, d.side, d.region) for d in plan.dns) == sorted(
        [(c.name, "requester", c.requester_region) for c in plan.create]
        + [(c.name, "accepter", c.accepter_region) for c in plan.create]
    )
    # cross-region: the accepter region's view gets tagged too (the requester view is tagged at creation)
    assert [(t.name, t.region, dict(t.set_tags)) for t in plan.tags] == [
        (c.name, c.accepter_region, {"Name": c.name}) for c in plan.create
    ]
    # every route table gets a route to every peer
    assert len(plan.routes_add) == count * 2 * (count - 1)
    for vpc in vpcs:
        for table_id in vpc.route_table_ids:
            routes = [r for r in plan.routes_add if r.route_table_id == table_id]
            assert {r.destination for r in routes} == {other.cidr for other in vpcs if other is not vpc}
            assert all(r.region == vpc.region and r.peering_id is None for r in routes)
    assert not plan.routes_replace and not plan.routes_remove and not plan.delete
    assert plan.changed


def test_requester_is_the_region_sorting_first():
    plan = plan_mesh(_vpcs(3), Observed())
    assert [(c.requester_region, c.accepter_region) for c in plan.create] == [
        (APSE2, EUW1),
        (APSE2, USE1),
        (EUW1, USE1),
    ]
    assert [(c.requester_vpc_id, c.accepter_vpc_id) for c in plan.create] == [
        ("vpc-2", "vpc-1"),
        ("vpc-2", "vpc-0"),
        ("vpc-1", "vpc-0"),
    ]


@pytest.mark.parametrize("count", [2, 3, 4])
def test_healthy_mesh_needs_nothing(count):
    plan = plan_mesh(_vpcs(count, tables=2), _healthy(count, tables=2))
    assert not plan.changed
    assert all(pair.peering is not None for pair in plan.pairs)


def test_cluster_tag_names_the_peerings():
    plan = plan_mesh(_vpcs(2), Observed(), tags={"megapool:cluster": "shop", "megapool:env": "prod"})
    assert plan.create[0].name == "shop-eu-west-1-us-east-1"
    assert plan.create[0].tags == {
        "megapool:cluster": "shop",
        "megapool:env": "prod",
        "Name": "shop-eu-west-1-us-east-1",
    }


def test_name_tag_wins_over_a_name_in_tags():
    plan = plan_mesh(_vpcs(2), Observed(), tags={"Name": "mine"})
    assert plan.create[0].tags == {"Name": "mesh-eu-west-1-us-east-1"}


def test_same_region_vpcs_are_named_by_vpc_id():
    vpcs = validate_vpcs(
        [
            _entry(USE1, "vpc-b", "10.1.0.0/16"),
            _entry(USE1, "vpc-a", "10.2.0.0/16"),
            _entry(EUW1, "vpc-c", "10.3.0.0/16"),
        ]
    )
    names = [pair.name for pair in mesh_pairs(vpcs)]
    assert names == [
        "mesh-eu-west-1-us-east-1-vpc-a",
        "mesh-eu-west-1-us-east-1-vpc-b",
        "mesh-us-east-1-vpc-a-us-east-1-vpc-b",
    ]
    plan = plan_mesh(vpcs, Observed())
    same = [c for c in plan.create if c.requester_region == c.accepter_region]
    assert [(c.requester_vpc_id, c.accepter_vpc_id) for c in same] == [("vpc-a", "vpc-b")]
    assert not [t for t in plan.tags if t.name == same[0].name], (
        "a same-region peering has one view, tagged at creation"
    )


def test_pending_peering_is_accepted_not_recreated():
    observed = Observed(
        (_peering("pcx-1", 1, 0, status="pending-acceptance", dns=False),),
        _full_routes(2, {frozenset((0, 1)): "pcx-1"}),
    )
    plan = plan_mesh(_vpcs(2), observed)
    assert not plan.create
    assert [(a.peering_id, a.region) for a in plan.accept] == [("pcx-1", USE1)]
    assert sorted((d.peering_id, d.side, d.region) for d in plan.dns) == [
        ("pcx-1", "accepter", USE1),
        ("pcx-1", "requester", EUW1),
    ]
    assert not plan.routes_add and not plan.routes_replace


def test_initiating_request_is_accepted_in_the_accepter_region():
    observed = Observed(
        (_peering("pcx-1", 1, 0, status="initiating-request"),), _full_routes(2, {frozenset((0, 1)): "pcx-1"})
    )
    plan = plan_mesh(_vpcs(2), observed)
    assert [(a.peering_id, a.region) for a in plan.accept] == [("pcx-1", USE1)]


def test_provisioning_peering_is_left_to_finish():
    observed = Observed(
        (_peering("pcx-1", 1, 0, status="provisioning"),), _full_routes(2, {frozenset((0, 1)): "pcx-1"})
    )
    assert not plan_mesh(_vpcs(2), observed).changed


@pytest.mark.parametrize("status", ["deleted", "deleting", "rejected", "failed", "expired"])
def test_terminal_peerings_count_as_absent(status):
    dead = _peering("pcx-dead", 1, 0, status=status)
    observed = Observed((dead,), _full_routes(2, {frozenset((0, 1)): "pcx-dead"}))
    plan = plan_mesh(_vpcs(2), observed)
    assert [c.name for c in plan.create] == ["mesh-eu-west-1-us-east-1"]
    assert all(p.peering is None for p in plan.pairs)
    # the routes through the dead peering get pointed at the new one
    assert {(r.route_table_id, r.current_target, r.peering_id) for r in plan.routes_replace} == {
        ("rtb-0-0", "pcx-dead", None),
        ("rtb-1-0", "pcx-dead", None),
    }
    assert not plan.routes_add
    assert not [t for t in plan.tags if t.peering_id == "pcx-dead"]


def test_peering_requested_the_other_way_round_is_reused():
    # us-east-1 requested, although eu-west-1 sorts first: keep it, enable DNS on its real sides.
    name_tag = {"Name": "mesh-eu-west-1-us-east-1"}
    reverse = ObservedPeering(
        "pcx-r", USE1, "vpc-0", EUW1, "vpc-1", "active", True, False, {USE1: name_tag, EUW1: name_tag}
    )
    plan = plan_mesh(_vpcs(2), Observed((reverse,), _full_routes(2, {frozenset((0, 1)): "pcx-r"})))
    assert not plan.create and not plan.accept
    assert [(d.peering_id, d.side, d.region) for d in plan.dns] == [("pcx-r", "accepter", EUW1)]


def test_active_peering_wins_over_a_duplicate():
    peerings = (_peering("pcx-b", 1, 0), _peering("pcx-a", 1, 0, status="pending-acceptance"))
    plan = plan_mesh(_vpcs(2), Observed(peerings, _full_routes(2, {frozenset((0, 1)): "pcx-b"})))
    assert plan.pairs[0].peering.peering_id == "pcx-b"
    assert not plan.changed


def test_peerings_to_other_vpcs_are_ignored():
    stranger = ObservedPeering("pcx-x", EUW1, "vpc-1", USE1, "vpc-99", "active")
    plan = plan_mesh(_vpcs(2), Observed((stranger,)))
    assert len(plan.create) == 1


@pytest.mark.parametrize(
    "dns, expected",
    [
        pytest.param((True, True), [], id="both-set"),
        pytest.param((False, True), [("requester", EUW1)], id="requester-missing"),
        pytest.param((True, False), [("accepter", USE1)], id="accepter-missing"),
        pytest.param((False, False), [("requester", EUW1), ("accepter", USE1)], id="both-missing"),
    ],
)
def test_dns_resolution_is_enabled_per_side_in_its_region(dns, expected):
    name_tag = {"Name": "mesh-eu-west-1-us-east-1"}
    peering = ObservedPeering(
        "pcx-1", EUW1, "vpc-1", USE1, "vpc-0", "active", dns[0], dns[1], {EUW1: name_tag, USE1: name_tag}
    )
    plan = plan_mesh(_vpcs(2), Observed((peering,), _full_routes(2, {frozenset((0, 1)): "pcx-1"})))
    assert [(d.side, d.region) for d in plan.dns] == expected


@pytest.mark.parametrize(
    "table, expected_add, expected_replace",
    [
        pytest.param({}, [("rtb-0-0", "10.1.0.0/16")], [], id="route-missing"),
        pytest.param({"10.1.0.0/16": "pcx-01"}, [], [], id="route-present"),
        pytest.param({"10.1.0.0/16": "igw-1"}, [], [("rtb-0-0", "10.1.0.0/16", "igw-1")], id="points-to-gateway"),
        pytest.param(
            {"10.1.0.0/16": "pcx-other"}, [], [("rtb-0-0", "10.1.0.0/16", "pcx-other")], id="points-to-other-peering"
        ),
        pytest.param(
            {"10.1.0.0/16": "pcx-01", "0.0.0.0/0": "igw-1", "10.99.0.0/16": "tgw-1"},
            [],
            [],
            id="other-routes-untouched",
        ),
        pytest.param({"10.1.0.0/16": "pcx-01", "10.1.0.0/24": "igw-1"}, [], [], id="more-specific-route-untouched"),
    ],
)
def test_routes(table, expected_add, expected_replace):
    routes = {"rtb-0-0": table, "rtb-1-0": {"10.0.0.0/16": "pcx-01"}}
    plan = plan_mesh(_vpcs(2), Observed((_peering("pcx-01", 1, 0),), routes))
    assert [(r.route_table_id, r.destination) for r in plan.routes_add] == expected_add
    assert [(r.route_table_id, r.destination, r.current_target) for r in plan.routes_replace] == expected_replace
    assert all(r.peering_id == "pcx-01" and r.region == USE1 for r in plan.routes_add + plan.routes_replace)
    assert not plan.create and not plan.dns


def test_route_table_not_read_yet_is_treated_as_empty():
    observed = _healthy(2)
    routes = dict(observed.routes)
    del routes["rtb-1-0"]
    plan = plan_mesh(_vpcs(2), Observed(observed.peerings, routes))
    assert [(r.route_table_id, r.destination) for r in plan.routes_add] == [("rtb-1-0", "10.0.0.0/16")]


# ------------------------------------------------------------------------------------------ tags


@pytest.mark.parametrize(
    "current, tags, purge, expected",
    [
        pytest.param({"Name": "mesh-eu-west-1-us-east-1"}, None, True, [], id="no-tags-only-name"),
        pytest.param({"Name": "old", "keep": "1"}, None, True, [], id="no-tags-leaves-tags-alone"),
        pytest.param(
            {"Name": "old", "keep": "1"},
            {},
            False,
            [({"Name": "mesh-eu-west-1-us-east-1"}, ())],
            id="empty-tags-fix-name-keep-rest",
        ),
        pytest.param(
            {"Name": "old", "keep": "1"},
            {},
            True,
            [({"Name": "mesh-eu-west-1-us-east-1"}, ("keep",))],
            id="empty-tags-purge",
        ),
        pytest.param(
            {"Name": "mesh-eu-west-1-us-east-1", "x": "1"},
            {"env": "prod"},
            True,
            [({"env": "prod"}, ("x",))],
            id="purge",
        ),
        pytest.param(
            {"Name": "mesh-eu-west-1-us-east-1", "x": "1"},
            {"env": "prod"},
            False,
            [({"env": "prod"}, ())],
            id="no-purge",
        ),
        pytest.param(
            {"Name": "mesh-eu-west-1-us-east-1", "aws:cloudformation": "x"}, {}, True, [], id="aws-prefix-never-purged"
        ),
    ],
)
def test_tags_are_compared_in_each_region_view(current, tags, purge, expected):
    peering = _peering("pcx-1", 1, 0, tags=current)
    plan = plan_mesh(
        _vpcs(2), Observed((peering,), _full_routes(2, {frozenset((0, 1)): "pcx-1"})), tags=tags, purge_tags=purge
    )
    got = [(dict(t.set_tags), t.unset_tags) for t in plan.tags]
    assert got == expected * 2  # the requester view and the accepter view
    assert sorted(t.region for t in plan.tags) == sorted([EUW1, USE1] * len(expected))


def test_only_the_accepter_view_can_lack_tags():
    name = "mesh-eu-west-1-us-east-1"
    peering = ObservedPeering(
        "pcx-1", EUW1, "vpc-1", USE1, "vpc-0", "active", True, True, {EUW1: {"Name": name}, USE1: {}}
    )
    plan = plan_mesh(_vpcs(2), Observed((peering,), _full_routes(2, {frozenset((0, 1)): "pcx-1"})), tags={})
    assert [(t.region, dict(t.set_tags)) for t in plan.tags] == [(USE1, {"Name": name})]


# ------------------------------------------------------------------------------------------ absent


def test_absent_removes_mesh_routes_then_peerings():
    observed = _healthy(3)
    routes = {table: dict(entries, **{"0.0.0.0/0": "igw-1"}) for table, entries in observed.routes.items()}
    dead = _peering("pcx-dead", 1, 0, status="deleted")
    routes["rtb-0-0"]["10.77.0.0/16"] = "pcx-dead"  # a leftover route through a dead mesh peering
    routes["rtb-1-0"]["10.88.0.0/16"] = "pcx-foreign"  # not a mesh peering: left alone
    plan = plan_mesh(_vpcs(3), Observed(observed.peerings + (dead,), routes), state="absent")
    removed = {(r.route_table_id, r.destination, r.current_target) for r in plan.routes_remove}
    assert removed == {
        ("rtb-0-0", "10.1.0.0/16", "pcx-01"),
        ("rtb-0-0", "10.2.0.0/16", "pcx-02"),
        ("rtb-0-0", "10.77.0.0/16", "pcx-dead"),
        ("rtb-1-0", "10.0.0.0/16", "pcx-01"),
        ("rtb-1-0", "10.2.0.0/16", "pcx-12"),
        ("rtb-2-0", "10.0.0.0/16", "pcx-02"),
        ("rtb-2-0", "10.1.0.0/16", "pcx-12"),
    }
    assert sorted((d.peering_id, d.region) for d in plan.delete) == [
        ("pcx-01", EUW1),
        ("pcx-02", APSE2),
        ("pcx-12", APSE2),
    ]
    assert not plan.create and not plan.accept and not plan.dns and not plan.tags and not plan.routes_add


def test_absent_deletes_pending_peerings_too():
    observed = Observed((_peering("pcx-1", 1, 0, status="pending-acceptance"),))
    plan = plan_mesh(_vpcs(2), observed, state="absent")
    assert [(d.peering_id, d.region) for d in plan.delete] == [("pcx-1", EUW1)]


@pytest.mark.parametrize("status", ["deleted", "rejected", "failed", "expired"])
def test_absent_leaves_terminal_peerings_alone(status):
    plan = plan_mesh(
        _vpcs(2), Observed((_peering("pcx-1", 1, 0, status=status),), {"rtb-0-0": {}, "rtb-1-0": {}}), state="absent"
    )
    assert not plan.changed


def test_absent_on_nothing_is_a_no_op():
    assert not plan_mesh(_vpcs(4), Observed(), state="absent").changed


def test_unknown_state_is_refused():
    with pytest.raises(MeshError, match="present or absent"):
        plan_mesh(_vpcs(2), Observed(), state="gone")


# ------------------------------------------------------------------------------------------ predict / view


def test_view_of_a_new_mesh_is_id_free():
    vpcs = _vpcs(2)
    plan = plan_mesh(vpcs, Observed())
    after = view(vpcs, plan, predict(vpcs, Observed(), plan))
    name = "mesh-eu-west-1-us-east-1"
    assert after == {
        "peerings": {
            name: {
                "status": "active",
                "requester": "eu-west-1/vpc-1",
                "accepter": "us-east-1/vpc-0",
                "dns_resolution": {"requester": True, "accepter": True},
                "tags": {EUW1: {"Name": name}, USE1: {"Name": name}},
            }
        },
        "routes": {"rtb-0-0": {"10.1.0.0/16": "peering:" + name}, "rtb-1-0": {"10.0.0.0/16": "peering:" + name}},
    }
    assert view(vpcs, plan, Observed()) == {"peerings": {}, "routes": {"rtb-0-0": {}, "rtb-1-0": {}}}


def test_view_marks_routes_through_dead_peerings():
    vpcs = _vpcs(2)
    observed = Observed((_peering("pcx-dead", 1, 0, status="deleted"),), {"rtb-0-0": {"10.1.0.0/16": "pcx-dead"}})
    plan = plan_mesh(vpcs, observed)
    assert view(vpcs, plan, observed)["routes"]["rtb-0-0"] == {
        "10.1.0.0/16": "peering:mesh-eu-west-1-us-east-1 (deleted)"
    }


def test_summary_is_plain_data():
    plan = plan_mesh(
        _vpcs(2), Observed((_peering("pcx-1", 1, 0),), {"rtb-0-0": {"10.1.0.0/16": "igw-1"}, "rtb-1-0": {}})
    )
    assert plan.summary() == {
        "peerings_created": [],
        "peerings_accepted": [],
        "peerings_deleted": [],
        "routes_added": [
            {
                "peering": "mesh-eu-west-1-us-east-1",
                "vpc_peering_connection_id": "pcx-1",
                "region": EUW1,
                "route_table_id": "rtb-1-0",
                "destination_cidr_block": "10.0.0.0/16",
            }
        ],
        "routes_replaced": [
            {
                "peering": "mesh-eu-west-1-us-east-1",
                "vpc_peering_connection_id": "pcx-1",
                "region": USE1,
                "route_table_id": "rtb-0-0",
                "destination_cidr_block": "10.1.0.0/16",
                "previous_target": "igw-1",
            }
        ],
        "routes_removed": [],
    }


# ------------------------------------------------------------------------------------------ properties

_STATUSES = [
    "active",
    "pending-acceptance",
    "initiating-request",
    "provisioning",
    "deleted",
    "rejected",
    "failed",
    "expired",
    "deleting",
]
_TARGETS = ["local", "igw-1", "pcx-stranger", "nat-1"]


@st.composite
def _worlds(draw):
    """Random VPCs (2-6 regions, 0-2 route tables each) and a random observed state around them."""
    count = draw(st.integers(2, 6))
    tables = draw(st.integers(0, 2))
    vpcs = _vpcs(count, tables)
    peerings = []
    for a, b in itertools.combinations(range(count), 2):
        for copy in range(draw(st.integers(0, 2))):
            requester, accepter = (a, b) if draw(st.booleans()) else (b, a)
            tags = draw(st.sampled_from([None, {}, {"Name": "stale"}, {"Name": "x", "extra": "1"}]))
            peering = _peering(
                "pcx-%d%d-%d" % (a, b, copy),
                requester,
                accepter,
                draw(st.sampled_from(_STATUSES)),
                draw(st.booleans()),
                tags,
            )
            peerings.append(peering)
    ids = [p.peering_id for p in peerings]
    routes = {}
    for i in range(count):
        for t in range(tables):
            table = {}
            for j in range(count):
                choice = draw(st.sampled_from(["absent"] + _TARGETS + ids))
                if choice != "absent":
                    table["10.%d.0.0/16" % j] = choice
            routes["rtb-%d-%d" % (i, t)] = table
    tags = draw(st.sampled_from([None, {}, {"megapool:cluster": "c"}, {"env": "prod", "extra": "1"}]))
    purge = draw(st.booleans())
    return vpcs, Observed(tuple(peerings), routes), tags, purge


@given(st.integers(2, 8))
def test_number_of_pairs_is_n_choose_2(count):
    vpcs = validate_vpcs([_entry("r-%02d" % i, "vpc-%d" % i, "10.%d.0.0/16" % i) for i in range(count)])
    plan = plan_mesh(vpcs, Observed())
    assert len(plan.create) == count * (count - 1) // 2
    assert len({frozenset((c.requester_vpc_id, c.accepter_vpc_id)) for c in plan.create}) == len(plan.create)
    assert len({c.name for c in plan.create}) == len(plan.create)


@settings(max_examples=200, deadline=None)
@given(_worlds())
def test_applying_the_plan_converges(world):
    vpcs, observed, tags, purge = world
    plan = plan_mesh(vpcs, observed, tags=tags, purge_tags=purge)
    after = predict(vpcs, observed, plan)
    replan = plan_mesh(vpcs, after, tags=tags, purge_tags=purge)
    assert not replan.changed, replan
    # exactly one live peering per pair is in use, every listed route table routes every peer through it
    used = {pair.name: pair.peering.peering_id for pair in replan.pairs}
    assert len(used) == len(vpcs) * (len(vpcs) - 1) // 2
    for pair in replan.pairs:
        assert pair.peering.status in ("active", "provisioning")
        assert pair.peering.requester_dns and pair.peering.accepter_dns
        for local, remote in ((pair.requester, pair.accepter), (pair.accepter, pair.requester)):
            for table_id in local.route_table_ids:
                assert after.routes[table_id][remote.cidr] == pair.peering.peering_id
    # routes to anything but peer CIDRs are untouched
    for table_id, entries in observed.routes.items():
        for destination, target in entries.items():
            if not re.match(r"10\.\d\.0\.0/16$", destination):
                assert after.routes[table_id][destination] == target


@settings(max_examples=200, deadline=None)
@given(_worlds())
def test_absent_converges_and_leaves_no_mesh_route(world):
    vpcs, observed, tags, purge = world
    plan = plan_mesh(vpcs, observed, state="absent", tags=tags, purge_tags=purge)
    after = predict(vpcs, observed, plan)
    assert not plan_mesh(vpcs, after, state="absent").changed
    mesh_ids = {p.peering_id for p in observed.peerings}
    assert all(target not in mesh_ids for entries in after.routes.values() for target in entries.values())
    assert all(not p.live for p in after.peerings)
    assert view(vpcs, plan, after)["peerings"] == {}
    # and building it again creates every pair
    assert len(plan_mesh(vpcs, after).create) == len(vpcs) * (len(vpcs) - 1) // 2


@settings(max_examples=100, deadline=None)
@given(_worlds())
def test_a_converged_mesh_is_a_fixed_point_of_its_view(world):
    vpcs, observed, tags, purge = world
    plan = plan_mesh(vpcs, observed, tags=tags, purge_tags=purge)
    after = predict(vpcs, observed, plan)
    replan = plan_mesh(vpcs, after, tags=tags, purge_tags=purge)
    assert view(vpcs, replan, predict(vpcs, after, replan)) == view(vpcs, replan, after)
