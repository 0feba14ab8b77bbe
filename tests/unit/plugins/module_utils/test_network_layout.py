# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the pure network planner (subnet layout, route tables, input validation, drift from the plan)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.module_utils.network_layout import LayoutError
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import admin_cidr_errors
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import converged_route_table_ids
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import converged_subnets
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import find_overlaps
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import nat_subnet_ids
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import network_errors
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import overlap_errors
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import region_errors
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import route_table_drift
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import route_table_plan
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import route_tables_to_converge
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import subnet_layout
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import subnet_drift
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import subnet_plan
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import subnet_spec
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import subnets_to_converge
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import tags_differ

AZS = ["eu-north-1a", "eu-north-1b", "eu-north-1c", "eu-north-1d", "eu-north-1e", "eu-north-1f"]
KNOWN_REGIONS = ["eu-north-1", "eu-west-1", "eu-central-1", "us-east-1", "ap-southeast-1"]


def _layout_error(*args, **kwargs) -> str:
    with pytest.raises(LayoutError) as excinfo:
        subnet_layout(*args, **kwargs)
    return str(excinfo.value)


# --------------------------------------------------------------------------------------------------
# subnet_layout
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "vpc_cidr, az_count, prefix, private, public",
    [
        # /16
        ("10.0.0.0/16", 2, 18, ["10.0.0.0/18", "10.0.64.0/18"], ["10.0.128.0/18", "10.0.192.0/18"]),
        (
            "10.0.0.0/16",
            3,
            19,
            ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"],
            ["10.0.128.0/19", "10.0.160.0/19", "10.0.192.0/19"],
        ),
        (
            "10.0.0.0/16",
            4,
            19,
            ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19", "10.0.96.0/19"],
            ["10.0.128.0/19", "10.0.160.0/19", "10.0.192.0/19", "10.0.224.0/19"],
        ),
        (
            "10.0.0.0/16",
            6,
            20,
            ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20", "10.0.48.0/20", "10.0.64.0/20", "10.0.80.0/20"],
            ["10.0.128.0/20", "10.0.144.0/20", "10.0.160.0/20", "10.0.176.0/20", "10.0.192.0/20", "10.0.208.0/20"],
        ),
        # /20
        ("172.16.16.0/20", 2, 22, ["172.16.16.0/22", "172.16.20.0/22"], ["172.16.24.0/22", "172.16.28.0/22"]),
        (
            "172.16.16.0/20",
            3,
            23,
            ["172.16.16.0/23", "172.16.18.0/23", "172.16.20.0/23"],
            ["172.16.24.0/23", "172.16.26.0/23", "172.16.28.0/23"],
        ),
        (
            "172.16.16.0/20",
            4,
            23,
            ["172.16.16.0/23", "172.16.18.0/23", "172.16.20.0/23", "172.16.22.0/23"],
            ["172.16.24.0/23", "172.16.26.0/23", "172.16.28.0/23", "172.16.30.0/23"],
        ),
        (
            "172.16.16.0/20",
            6,
            24,
            [
                "172.16.16.0/24",
                "172.16.17.0/24",
                "172.16.18.0/24",
                "172.16.19.0/24",
                "172.16.20.0/24",
                "172.16.21.0/24",
            ],
            [
                "172.16.24.0/24",
                "172.16.25.0/24",
                "172.16.26.0/24",
                "172.16.27.0/24",
                "172.16.28.0/24",
                "172.16.29.0/24",
            ],
        ),
        # /24
        ("192.168.5.0/24", 2, 26, ["192.168.5.0/26", "192.168.5.64/26"], ["192.168.5.128/26", "192.168.5.192/26"]),
        (
            "192.168.5.0/24",
            3,
            27,
            ["192.168.5.0/27", "192.168.5.32/27", "192.168.5.64/27"],
            ["192.168.5.128/27", "192.168.5.160/27", "192.168.5.192/27"],
        ),
        (
            "192.168.5.0/24",
            4,
            27,
            ["192.168.5.0/27", "192.168.5.32/27", "192.168.5.64/27", "192.168.5.96/27"],
            ["192.168.5.128/27", "192.168.5.160/27", "192.168.5.192/27", "192.168.5.224/27"],
        ),
        (
            "192.168.5.0/24",
            6,
            28,
            [
                "192.168.5.0/28",
                "192.168.5.16/28",
                "192.168.5.32/28",
                "192.168.5.48/28",
                "192.168.5.64/28",
                "192.168.5.80/28",
            ],
            [
                "192.168.5.128/28",
                "192.168.5.144/28",
                "192.168.5.160/28",
                "192.168.5.176/28",
                "192.168.5.192/28",
                "192.168.5.208/28",
            ],
        ),
        # /26: only 2 AZs fit (4 x /28)
        ("10.20.30.64/26", 2, 28, ["10.20.30.64/28", "10.20.30.80/28"], ["10.20.30.96/28", "10.20.30.112/28"]),
    ],
)
def test_subnet_layout_default_prefix(vpc_cidr, az_count, prefix, private, public):
    assert subnet_layout(vpc_cidr, az_count) == {"private": private, "public": public, "prefix": prefix}


@pytest.mark.parametrize(
    "vpc_cidr, az_count, smallest_vpc",
    [
        ("10.20.30.64/26", 3, 25),
        ("10.20.30.64/26", 4, 25),
        ("10.20.30.64/26", 6, 24),
        ("10.0.0.0/27", 2, 26),
        ("10.0.0.0/25", 6, 24),
    ],
)
def test_subnet_layout_vpc_too_small_for_az_count(vpc_cidr, az_count, smallest_vpc):
    message = _layout_error(vpc_cidr, az_count)
    assert "network_vpc_cidr=%s is too small" % vpc_cidr in message
    assert "AWS subnets are at most /28" in message
    # the fix: a larger VPC (with the largest prefix that works) or fewer AZs
    assert "Use a larger network_vpc_cidr (e.g. /%d or shorter)" % smallest_vpc in message
    assert "fewer AZs (network_az_count)" in message
    # and the suggested VPC size really works
    bigger = ipaddress.ip_network(vpc_cidr).supernet(new_prefix=smallest_vpc)
    assert len(subnet_layout(str(bigger), az_count)["private"]) == az_count


@pytest.mark.parametrize(
    "vpc_cidr, az_count, subnet_prefix, private, public",
    [
        ("10.0.0.0/16", 2, 18, ["10.0.0.0/18", "10.0.64.0/18"], ["10.0.128.0/18", "10.0.192.0/18"]),
        ("10.0.0.0/16", 2, 20, ["10.0.0.0/20", "10.0.16.0/20"], ["10.0.32.0/20", "10.0.48.0/20"]),
        (
            "10.0.0.0/16",
            3,
            24,
            ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"],
            ["10.0.4.0/24", "10.0.5.0/24", "10.0.6.0/24"],
        ),
        ("10.0.0.0/16", 2, 28, ["10.0.0.0/28", "10.0.0.16/28"], ["10.0.0.32/28", "10.0.0.48/28"]),
        ("10.0.0.0/16", 2, "22", ["10.0.0.0/22", "10.0.4.0/22"], ["10.0.8.0/22", "10.0.12.0/22"]),  # -e gives strings
    ],
)
def test_subnet_layout_explicit_prefix(vpc_cidr, az_count, subnet_prefix, private, public):
    assert subnet_layout(vpc_cidr, az_count, subnet_prefix) == {
        "private": private,
        "public": public,
        "prefix": int(subnet_prefix),
    }


@pytest.mark.parametrize(
    "vpc_cidr, az_count, subnet_prefix, needed",
    [
        ("10.0.0.0/16", 2, 17, 18),  # 4 x /17 do not fit in a /16
        ("10.0.0.0/16", 2, 16, 18),
        ("10.0.0.0/16", 3, 18, 19),  # 6 subnets need 8 slots
        ("10.0.0.0/16", 6, 19, 20),
        ("10.0.0.0/24", 2, 24, 26),
    ],
)
def test_subnet_layout_explicit_prefix_too_big(vpc_cidr, az_count, subnet_prefix, needed):
    message = _layout_error(vpc_cidr, az_count, subnet_prefix)
    assert message.startswith("network_subnet_prefix=/%d:" % subnet_prefix)
    assert "do not fit in network_vpc_cidr=%s" % vpc_cidr in message
    assert "Use /%d or longer, or leave network_subnet_prefix unset." % needed in message


@pytest.mark.parametrize("subnet_prefix", [29, 30, 32])
def test_subnet_layout_explicit_prefix_too_small_is_refused(subnet_prefix):
    message = _layout_error("10.0.0.0/16", 2, subnet_prefix)
    assert "/%d" % subnet_prefix in message
    assert "AWS subnets are at most /28" in message


@pytest.mark.parametrize("subnet_prefix", [29, 32])
def test_subnet_layout_explicit_prefix_too_small_names_network_subnet_prefix(subnet_prefix):
    """A /16 is plenty for 4 subnets: the message blames the user's network_subnet_prefix, not the VPC CIDR."""
    message = _layout_error("10.0.0.0/16", 2, subnet_prefix)
    assert "network_subnet_prefix" in message
    assert "Use a larger network_vpc_cidr" not in message


@pytest.mark.parametrize(
    "vpc_cidr", ["10.0.0.0/8", "10.0.0.0/15", "0.0.0.0/0", "10.0.0.0/29", "10.0.0.0/30", "10.0.0.1/32"]
)
def test_subnet_layout_vpc_prefix_out_of_aws_range(vpc_cidr):
    message = _layout_error(vpc_cidr, 2)
    assert message.startswith("network_vpc_cidr=%s:" % vpc_cidr)
    assert "AWS accepts VPC CIDRs from /16 to /28" in message
    assert "Choose a block in that range" in message


@pytest.mark.parametrize("az_count", [1, 0, -3])
def test_subnet_layout_too_few_azs(az_count):
    message = _layout_error("10.0.0.0/16", az_count)
    assert message.startswith("network_az_count=%d:" % az_count)
    assert "Set network_az_count to 2 or more." in message


@pytest.mark.parametrize(
    "vpc_cidr, reason",
    [
        ("banana", "Expected 4 octets"),
        ("", "Address cannot be empty"),
        (None, "Expected 4 octets"),
        ("10.0.0.0/33", "not a valid netmask"),
        ("10.0.0/16", "Expected 4 octets"),
        ("256.0.0.0/16", "Octet 256"),
        ("fd00::/48", ""),  # IPv6 is not a VPC primary CIDR here
        ("10.0.0.0/16/16", ""),
    ],
)
def test_subnet_layout_invalid_cidr(vpc_cidr, reason):
    message = _layout_error(vpc_cidr, 2)
    assert message.startswith("network_vpc_cidr=%r is not a valid IPv4 network CIDR" % vpc_cidr)
    assert reason in message
    assert "Use a network address such as 10.10.0.0/16." in message


@pytest.mark.parametrize(
    "vpc_cidr", ["10.0.0.1/16", "10.0.128.0/16", "192.168.1.0/20", "10.1.128.0/255.255.0.0", "10.0.0.7/28"]
)
def test_subnet_layout_host_bits_set(vpc_cidr):
    message = _layout_error(vpc_cidr, 2)
    assert "network_vpc_cidr=%r is not a valid IPv4 network CIDR" % vpc_cidr in message
    assert "has host bits set" in message
    assert "Use a network address such as 10.10.0.0/16." in message


def test_layout_error_is_a_value_error():
    assert issubclass(LayoutError, ValueError)


def test_subnet_layout_checks_the_cidr_before_the_az_count():
    # the first problem named is the CIDR (the az count would be refused too)
    assert _layout_error("banana", 1).startswith("network_vpc_cidr=")
    assert _layout_error("10.0.0.0/8", 1).startswith("network_vpc_cidr=")


@pytest.mark.parametrize("smaller, larger", [(3, 4), (5, 6), (5, 8), (6, 7)])
def test_subnet_layout_stable_when_az_count_grows_within_the_same_power_of_two(smaller, larger):
    """Adding an AZ within the same power of two takes a free slot: existing subnets (and the NATs, bastion
    and ALB in them) keep their CIDRs."""
    before = subnet_layout("10.0.0.0/16", smaller)
    after = subnet_layout("10.0.0.0/16", larger)
    assert before["prefix"] == after["prefix"]  # same power of two: same slot size
    assert after["private"][:smaller] == before["private"]
    assert after["public"][:smaller] == before["public"]


# --------------------------------------------------------------------------------------------------
# subnet_plan
# --------------------------------------------------------------------------------------------------


def test_subnet_plan_order_tiers_and_az_pairing():
    assert subnet_plan("10.0.0.0/16", AZS[:3]) == [
        {"tier": "private", "az": "eu-north-1a", "cidr": "10.0.0.0/19"},
        {"tier": "private", "az": "eu-north-1b", "cidr": "10.0.32.0/19"},
        {"tier": "private", "az": "eu-north-1c", "cidr": "10.0.64.0/19"},
        {"tier": "public", "az": "eu-north-1a", "cidr": "10.0.128.0/19"},
        {"tier": "public", "az": "eu-north-1b", "cidr": "10.0.160.0/19"},
        {"tier": "public", "az": "eu-north-1c", "cidr": "10.0.192.0/19"},
    ]


@pytest.mark.parametrize("az_count", [2, 3, 4, 6])
def test_subnet_plan_matches_layout(az_count):
    azs = AZS[:az_count]
    plan = subnet_plan("10.8.0.0/16", azs)
    layout = subnet_layout("10.8.0.0/16", az_count)
    assert len(plan) == 2 * az_count
    for tier in ("private", "public"):
        rows = [row for row in plan if row["tier"] == tier]
        assert [row["az"] for row in rows] == azs  # each tier once per AZ, in the given AZ order
        assert [row["cidr"] for row in rows] == layout[tier]
    assert [row["tier"] for row in plan] == ["private"] * az_count + ["public"] * az_count


def test_subnet_plan_keeps_the_given_az_order():
    plan = subnet_plan("10.0.0.0/16", ["zone-b", "zone-a"])
    assert [(row["tier"], row["az"], row["cidr"]) for row in plan] == [
        ("private", "zone-b", "10.0.0.0/18"),
        ("private", "zone-a", "10.0.64.0/18"),
        ("public", "zone-b", "10.0.128.0/18"),
        ("public", "zone-a", "10.0.192.0/18"),
    ]


def test_subnet_plan_explicit_prefix():
    plan = subnet_plan("10.0.0.0/16", AZS[:2], 24)
    assert [row["cidr"] for row in plan] == ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]


@pytest.mark.parametrize("azs, variable", [([], "network_az_count=0"), (["only-one"], "network_az_count=1")])
def test_subnet_plan_too_few_azs(azs, variable):
    with pytest.raises(LayoutError, match=variable):
        subnet_plan("10.0.0.0/16", azs)


def test_subnet_plan_invalid_cidr():
    with pytest.raises(LayoutError, match="network_vpc_cidr='10.0.0.0/33' is not a valid IPv4 network CIDR"):
        subnet_plan("10.0.0.0/33", AZS[:2])


# --------------------------------------------------------------------------------------------------
# nat_subnet_ids / route_table_plan
# --------------------------------------------------------------------------------------------------


def _built(az_count: int) -> list[dict]:
    """Built subnets as the role has them: private first, then public, in AZ order."""
    return [
        {"tier": tier, "az": az, "id": "subnet-%s-%s" % (tier[:3], az[-1])}
        for tier in ("private", "public")
        for az in AZS[:az_count]
    ]


@pytest.mark.parametrize(
    "nat_mode, expected",
    [
        ("none", []),
        ("single", ["subnet-pub-a"]),
        ("per_az", ["subnet-pub-a", "subnet-pub-b", "subnet-pub-c"]),
    ],
)
def test_nat_subnet_ids(nat_mode, expected):
    assert nat_subnet_ids(_built(3), nat_mode) == expected


def test_nat_subnet_ids_never_picks_private_subnets():
    subnets = [
        {"tier": "private", "az": "a", "id": "p1"},
        {"tier": "public", "az": "b", "id": "u1"},
        {"tier": "private", "az": "b", "id": "p2"},
    ]
    assert nat_subnet_ids(subnets, "single") == ["u1"]
    assert nat_subnet_ids(subnets, "per_az") == ["u1"]
    assert nat_subnet_ids([s for s in subnets if s["tier"] == "private"], "single") == []


def test_nat_subnet_ids_unknown_mode_is_refused():
    # network_nat_mode is restricted by the role's argument spec; the planner does not guess
    with pytest.raises(KeyError):
        nat_subnet_ids(_built(2), "two")


def _routes(tables: list[dict]) -> dict[str, list[dict]]:
    return {table["name"]: table["routes"] for table in tables}


def test_route_table_plan_per_az_routes_each_private_subnet_to_its_own_nat():
    nat_by_subnet = {"subnet-pub-a": "nat-a", "subnet-pub-b": "nat-b", "subnet-pub-c": "nat-c"}
    tables = route_table_plan(_built(3), "prod-app-eu-north-1", "igw-1", "per_az", nat_by_subnet)
    assert tables == [
        {
            "name": "prod-app-eu-north-1-public",
            "role": "public-rt",
            "subnets": ["subnet-pub-a", "subnet-pub-b", "subnet-pub-c"],
            "routes": [{"dest": "0.0.0.0/0", "gateway_id": "igw-1"}],
        },
        {
            "name": "prod-app-eu-north-1-private-eu-north-1a",
            "role": "private-rt",
            "subnets": ["subnet-pri-a"],
            "routes": [{"dest": "0.0.0.0/0", "gateway_id": "nat-a"}],
        },
        {
            "name": "prod-app-eu-north-1-private-eu-north-1b",
            "role": "private-rt",
            "subnets": ["subnet-pri-b"],
            "routes": [{"dest": "0.0.0.0/0", "gateway_id": "nat-b"}],
        },
        {
            "name": "prod-app-eu-north-1-private-eu-north-1c",
            "role": "private-rt",
            "subnets": ["subnet-pri-c"],
            "routes": [{"dest": "0.0.0.0/0", "gateway_id": "nat-c"}],
        },
    ]


def test_route_table_plan_per_az_pairs_by_az_not_by_position():
    subnets = [
        {"tier": "public", "az": "z-b", "id": "pub-b"},
        {"tier": "private", "az": "z-a", "id": "pri-a"},
        {"tier": "public", "az": "z-a", "id": "pub-a"},
        {"tier": "private", "az": "z-b", "id": "pri-b"},
    ]
    tables = route_table_plan(subnets, "n", "igw", "per_az", {"pub-a": "nat-a", "pub-b": "nat-b"})
    assert _routes(tables) == {
        "n-public": [{"dest": "0.0.0.0/0", "gateway_id": "igw"}],
        "n-private-z-a": [{"dest": "0.0.0.0/0", "gateway_id": "nat-a"}],
        "n-private-z-b": [{"dest": "0.0.0.0/0", "gateway_id": "nat-b"}],
    }


def test_route_table_plan_single_nat_is_shared_by_all_private_subnets():
    tables = route_table_plan(_built(3), "n", "igw-1", "single", {"subnet-pub-a": "nat-1"})
    assert _routes(tables) == {
        "n-public": [{"dest": "0.0.0.0/0", "gateway_id": "igw-1"}],
        "n-private-eu-north-1a": [{"dest": "0.0.0.0/0", "gateway_id": "nat-1"}],
        "n-private-eu-north-1b": [{"dest": "0.0.0.0/0", "gateway_id": "nat-1"}],
        "n-private-eu-north-1c": [{"dest": "0.0.0.0/0", "gateway_id": "nat-1"}],
    }


def test_route_table_plan_single_ignores_nats_left_in_other_subnets():
    # e.g. while switching per_az -> single the other NATs still exist; only the first public subnet's is used
    nat_by_subnet = {"subnet-pub-a": "nat-a", "subnet-pub-b": "nat-b"}
    tables = route_table_plan(_built(2), "n", "igw", "single", nat_by_subnet)
    assert {route["gateway_id"] for table in tables[1:] for route in table["routes"]} == {"nat-a"}


@pytest.mark.parametrize("nat_by_subnet", [{}, {"subnet-pub-a": "nat-stale"}])
def test_route_table_plan_none_has_no_private_routes(nat_by_subnet):
    tables = route_table_plan(_built(2), "n", "igw-1", "none", nat_by_subnet)
    assert _routes(tables) == {
        "n-public": [{"dest": "0.0.0.0/0", "gateway_id": "igw-1"}],
        "n-private-eu-north-1a": [],
        "n-private-eu-north-1b": [],
    }


def test_route_table_plan_no_route_while_the_nat_is_unknown():
    # check mode / NAT not created yet: no route rather than a route to None
    tables = route_table_plan(_built(2), "n", "igw", "per_az", {"subnet-pub-a": "nat-a"})
    assert _routes(tables)["n-private-eu-north-1a"] == [{"dest": "0.0.0.0/0", "gateway_id": "nat-a"}]
    assert _routes(tables)["n-private-eu-north-1b"] == []


@pytest.mark.parametrize("nat_mode", ["none", "single", "per_az"])
@pytest.mark.parametrize("az_count", [2, 3, 6])
def test_route_table_plan_shape(nat_mode, az_count):
    subnets = _built(az_count)
    tables = route_table_plan(
        subnets, "stg-x-us-east-1", "igw-9", nat_mode, {s["id"]: "nat-" + s["id"] for s in subnets}
    )
    assert [table["name"] for table in tables] == ["stg-x-us-east-1-public"] + [
        "stg-x-us-east-1-private-%s" % az for az in AZS[:az_count]
    ]
    assert [table["role"] for table in tables] == ["public-rt"] + ["private-rt"] * az_count
    # every subnet is associated with exactly one table, and with a table of its tier
    associated = [subnet_id for table in tables for subnet_id in table["subnets"]]
    assert sorted(associated) == sorted(s["id"] for s in subnets)
    assert all(subnet_id.startswith("subnet-pub") for subnet_id in tables[0]["subnets"])
    assert all(table["subnets"][0].startswith("subnet-pri") for table in tables[1:])
    # private routes never point at the internet gateway
    assert all(route["gateway_id"] != "igw-9" for table in tables[1:] for route in table["routes"])


# --------------------------------------------------------------------------------------------------
# find_overlaps / overlap_errors
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cidrs, expected",
    [
        ({}, []),
        ({"eu-north-1": "10.0.0.0/16"}, []),
        ({"eu-north-1": "10.0.0.0/16", "us-east-1": "10.0.0.0/16"}, [("eu-north-1", "us-east-1")]),  # identical
        ({"eu-north-1": "10.0.0.0/16", "us-east-1": "10.0.128.0/17"}, [("eu-north-1", "us-east-1")]),  # nested
        ({"eu-north-1": "10.0.0.0/8", "us-east-1": "10.200.16.0/20"}, [("eu-north-1", "us-east-1")]),  # nested, far
        ({"eu-north-1": "10.0.0.0/16", "us-east-1": "10.1.0.0/16"}, []),  # adjacent, not overlapping
        ({"eu-north-1": "10.0.0.0/17", "us-east-1": "10.0.128.0/17"}, []),  # adjacent halves
        ({"eu-north-1": "10.0.0.0/16", "us-east-1": "10.1.0.0/16", "ap-southeast-1": "10.2.0.0/16"}, []),
        (
            {"eu-north-1": "10.0.0.0/16", "us-east-1": "10.1.0.0/16", "ap-southeast-1": "10.0.64.0/18"},
            [("ap-southeast-1", "eu-north-1")],
        ),
        (
            {"eu-north-1": "10.0.0.0/15", "us-east-1": "10.1.0.0/16", "ap-southeast-1": "10.0.64.0/18"},
            [("ap-southeast-1", "eu-north-1"), ("eu-north-1", "us-east-1")],
        ),
        ({"c": "10.0.0.0/16", "b": "10.0.0.0/16", "a": "10.0.0.0/16"}, [("a", "b"), ("a", "c"), ("b", "c")]),
        # invalid CIDRs are ignored here (network_errors reports them per region)
        ({"eu-north-1": "10.0.0.0/16", "us-east-1": "banana"}, []),
        (
            {"eu-north-1": "10.0.0.0/16", "us-east-1": None, "ap-southeast-1": "10.0.1.0/24"},
            [("ap-southeast-1", "eu-north-1")],
        ),
        # host bits are tolerated for the overlap check
        ({"eu-north-1": "10.0.0.5/16", "us-east-1": "10.0.9.0/24"}, [("eu-north-1", "us-east-1")]),
    ],
)
def test_find_overlaps(cidrs, expected):
    assert find_overlaps(cidrs) == expected


def test_overlap_errors_message():
    errors = overlap_errors({"us-east-1": "10.0.0.0/16", "eu-north-1": "10.0.128.0/17"})
    assert errors == [
        "network_vpc_cidr of eu-north-1 (10.0.128.0/17) overlaps network_vpc_cidr of us-east-1 (10.0.0.0/16): "
        "peered VPCs need disjoint address ranges. Give each region a non-overlapping network_vpc_cidr."
    ]


def test_overlap_errors_one_message_per_pair():
    errors = overlap_errors({"a": "10.0.0.0/16", "b": "10.0.0.0/16", "c": "10.0.0.0/16", "d": "10.9.0.0/16"})
    assert len(errors) == 3
    assert all("Give each region a non-overlapping network_vpc_cidr." in error for error in errors)
    assert not any("(10.9.0.0/16)" in error for error in errors)


def test_overlap_errors_names_the_given_variable():
    errors = overlap_errors({"a": "10.0.0.0/16", "b": "10.0.1.0/24"}, variable="peering_cidr")
    assert len(errors) == 1
    assert errors[0].startswith("peering_cidr of a (10.0.0.0/16) overlaps peering_cidr of b (10.0.1.0/24)")
    assert "non-overlapping peering_cidr." in errors[0]
    assert "network_vpc_cidr" not in errors[0]


@pytest.mark.parametrize(
    "cidrs", [{}, {"a": "10.0.0.0/16", "b": "10.1.0.0/16"}, {"a": "10.0.0.0/16", "b": "not-a-cidr"}]
)
def test_overlap_errors_none(cidrs):
    assert overlap_errors(cidrs) == []


# --------------------------------------------------------------------------------------------------
# admin_cidr_errors
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "admin_cidrs",
    [[], ["203.0.113.7/32"], ["203.0.113.0/24", "198.51.100.0/22"], ["203.0.113.7"], ["2001:db8::/32"], ["10.0.0.0/8"]],
)
@pytest.mark.parametrize("allow_open", [False, True])
def test_admin_cidr_errors_accepts(admin_cidrs, allow_open):
    assert admin_cidr_errors(admin_cidrs, allow_open) == []


@pytest.mark.parametrize("open_cidr", ["0.0.0.0/0", "::/0"])
def test_admin_cidr_errors_refuses_the_whole_internet(open_cidr):
    errors = admin_cidr_errors(["203.0.113.7/32", open_cidr], False)
    assert len(errors) == 1
    assert errors[0].startswith("network_admin_cidrs contains %s" % open_cidr)
    assert "whole internet" in errors[0]
    # the fix: list real ranges, or opt in explicitly
    assert "List your office/VPN ranges instead" in errors[0]
    assert "set network_allow_open_admin: true" in errors[0]


@pytest.mark.parametrize("open_cidr", ["0.0.0.0/0", "::/0"])
def test_admin_cidr_errors_open_allowed_when_opted_in(open_cidr):
    assert admin_cidr_errors([open_cidr], True) == []


@pytest.mark.parametrize(
    "bad, reason",
    [
        ("banana", "does not appear to be an IPv4 or IPv6 network"),
        ("203.0.113.7/24", "has host bits set"),
        ("203.0.113.0/33", "does not appear to be an IPv4 or IPv6 network"),
        ("", "does not appear to be an IPv4 or IPv6 network"),
        (None, "does not appear to be an IPv4 or IPv6 network"),
        ("0.0.0.0/0 ", "does not appear to be an IPv4 or IPv6 network"),
    ],
)
def test_admin_cidr_errors_malformed(bad, reason):
    errors = admin_cidr_errors(["203.0.113.7/32", bad], False)
    assert len(errors) == 1
    assert errors[0].startswith("network_admin_cidrs: %r is not a valid CIDR" % bad)
    assert reason in errors[0]
    assert "Use e.g. 203.0.113.7/32." in errors[0]


def test_admin_cidr_errors_one_message_per_bad_entry_in_order():
    errors = admin_cidr_errors(["x", "0.0.0.0/0", "203.0.113.7/32", "1.2.3.4/8"], False)
    assert [error.split(" ")[1] for error in errors] == ["'x'", "contains", "'1.2.3.4/8'"]


def test_admin_cidr_errors_malformed_even_when_open_is_allowed():
    errors = admin_cidr_errors(["0.0.0.0/0", "nope"], True)
    assert len(errors) == 1
    assert "'nope' is not a valid CIDR" in errors[0]


# --------------------------------------------------------------------------------------------------
# region_errors / network_errors
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("region", KNOWN_REGIONS)
def test_region_errors_known(region):
    assert region_errors(region, KNOWN_REGIONS) == []


@pytest.mark.parametrize(
    "region, hint",
    [
        ("eu-nowhere-1", " Known regions with that prefix: eu-central-1, eu-north-1, eu-west-1."),
        ("us-east-9", " Known regions with that prefix: us-east-1."),
        ("mars-north-1", ""),
        ("", ""),
        ("EU-NORTH-1", ""),
        (None, ""),
        ("localhost", ""),
    ],
)
def test_region_errors_unknown(region, hint):
    errors = region_errors(region, KNOWN_REGIONS)
    assert len(errors) == 1
    assert errors[0].startswith("aws_region=%r is not an AWS region this botocore knows." % region)
    assert "Name the inventory host (or set aws_region) after a real region such as eu-north-1." in errors[0]
    assert errors[0].endswith("eu-north-1." + hint)


def test_region_errors_empty_known_list_rejects_everything():
    assert len(region_errors("eu-north-1", [])) == 1


def test_network_errors_none_when_fine():
    assert network_errors("eu-north-1", KNOWN_REGIONS, "10.0.0.0/16", 3, ["203.0.113.7/32"]) == []
    assert network_errors("eu-north-1", KNOWN_REGIONS, "10.0.0.0/16", "2", [], False, 20) == []
    assert network_errors("eu-north-1", KNOWN_REGIONS, "10.0.0.0/24", 2, ["0.0.0.0/0"], allow_open_admin=True) == []


def test_network_errors_collects_every_problem_in_order():
    errors = network_errors("eu-nowhere-1", KNOWN_REGIONS, "10.0.0.0/16", 1, ["0.0.0.0/0", "bad"])
    assert len(errors) == 4
    assert errors[0].startswith("aws_region='eu-nowhere-1'")
    assert errors[1].startswith("network_az_count=1:")
    assert errors[2].startswith("network_admin_cidrs contains 0.0.0.0/0")
    assert "network_allow_open_admin" in errors[2]
    assert errors[3].startswith("network_admin_cidrs: 'bad'")


@pytest.mark.parametrize(
    "kwargs, expected_start",
    [
        ({"vpc_cidr": "10.0.0.1/16"}, "network_vpc_cidr='10.0.0.1/16' is not a valid IPv4 network CIDR"),
        ({"vpc_cidr": "10.0.0.0/12"}, "network_vpc_cidr=10.0.0.0/12: AWS accepts VPC CIDRs from /16 to /28"),
        ({"vpc_cidr": "10.0.0.0/26", "az_count": 3}, "network_vpc_cidr=10.0.0.0/26 is too small"),
        ({"az_count": 1}, "network_az_count=1:"),
        ({"az_count": "1"}, "network_az_count=1:"),
        ({"subnet_prefix": 17}, "network_subnet_prefix=/17:"),
        ({"admin_cidrs": ["0.0.0.0/0"]}, "network_admin_cidrs contains 0.0.0.0/0"),
        ({"admin_cidrs": ["0.0.0.0/0"], "allow_open_admin": False}, "network_admin_cidrs contains 0.0.0.0/0"),
        ({"region": "eu-nowhere-1"}, "aws_region='eu-nowhere-1'"),
    ],
)
def test_network_errors_single_problem(kwargs, expected_start):
    args = {
        "region": "eu-north-1",
        "known_regions": KNOWN_REGIONS,
        "vpc_cidr": "10.0.0.0/16",
        "az_count": 2,
        "admin_cidrs": [],
    }
    args.update(kwargs)
    errors = network_errors(**args)
    assert len(errors) == 1
    assert errors[0].startswith(expected_start)


# --------------------------------------------------------------------------------------------------
# drift: subnets_to_converge / route_tables_to_converge and the merged IDs
# --------------------------------------------------------------------------------------------------
# `existing` rows have the shape amazon.aws ec2_vpc_subnet_info / ec2_vpc_route_table_info return (snake_case,
# tags as a dict, absent route targets as None), as read from the emulator.

NAME = "megapool-local"
TAGS = {"megapool:env": "local", "megapool:cluster": "megapool"}
PLAN = subnet_plan("10.10.0.0/16", ["eu-north-1a", "eu-north-1b"])
SUBNET_IDS = {
    "10.10.0.0/18": "subnet-pa",
    "10.10.64.0/18": "subnet-pb",
    "10.10.128.0/18": "subnet-ua",
    "10.10.192.0/18": "subnet-ub",
}


def _found_subnet(spec, subnet_id):
    """A subnet as ec2_vpc_subnet_info returns it after ec2_vpc_subnet built `spec`."""
    return {
        "id": subnet_id,
        "subnet_id": subnet_id,
        "vpc_id": "vpc-1",
        "state": "available",
        "cidr_block": spec["cidr"],
        "availability_zone": spec["az"],
        "availability_zone_id": "eun1-az1",
        "map_public_ip_on_launch": spec["map_public"],
        "assign_ipv6_address_on_creation": False,
        "ipv6_cidr_block_association_set": [],
        "default_for_az": False,
        "tags": {key: str(value) for key, value in spec["tags"].items()},
    }


def _found_subnets(plan=None, tags=None):
    return [_found_subnet(subnet_spec(item, NAME, tags or TAGS), SUBNET_IDS[item["cidr"]]) for item in plan or PLAN]


def _changed(subnets, cidr, **changes):
    for subnet in subnets:
        if subnet["cidr_block"] == cidr:
            subnet.update(changes)
    return subnets


def test_subnet_spec_carries_what_the_module_is_asked():
    private, public = [subnet_spec(item, NAME, TAGS) for item in (PLAN[0], PLAN[2])]
    assert private == {
        "tier": "private",
        "az": "eu-north-1a",
        "cidr": "10.10.0.0/18",
        "map_public": False,
        "tags": {
            "megapool:env": "local",
            "megapool:cluster": "megapool",
            "Name": "megapool-local-private-eu-north-1a",
            "megapool:role": "private-subnet",
        },
    }
    assert public["map_public"] is True
    assert public["tags"]["Name"] == "megapool-local-public-eu-north-1a"
    assert public["tags"]["megapool:role"] == "public-subnet"


def test_subnet_spec_role_tags_win_over_extra_tags_and_the_plan_is_not_changed():
    item = dict(PLAN[0])
    spec = subnet_spec(item, NAME, dict(TAGS, Name="x", team="core"))
    assert spec["tags"]["Name"] == "megapool-local-private-eu-north-1a"
    assert spec["tags"]["team"] == "core"
    assert item == PLAN[0]


def test_subnets_to_converge_nothing_when_everything_is_as_planned():
    assert subnets_to_converge(PLAN, _found_subnets(), NAME, TAGS) == []


@pytest.mark.parametrize("existing", [[], None])
def test_subnets_to_converge_everything_on_an_empty_vpc(existing):
    converge = subnets_to_converge(PLAN, existing, NAME, TAGS)
    assert converge == [dict(subnet_spec(item, NAME, TAGS), drift=["missing"]) for item in PLAN]


S_PRIVATE_A, S_PRIVATE_B, S_PUBLIC_A, S_PUBLIC_B = (item["cidr"] for item in PLAN)


@pytest.mark.parametrize(
    "change, cidr, drift",
    [
        # a tag changed, added by hand, or removed: purge_tags makes the module put them back
        ({"tags": dict(TAGS, Name="renamed", **{"megapool:role": "public-subnet"})}, S_PUBLIC_A, ["tags"]),
        (
            {
                "tags": dict(
                    TAGS,
                    Name="megapool-local-private-eu-north-1b",
                    owner="someone",
                    **{"megapool:role": "private-subnet"},
                )
            },
            S_PRIVATE_B,
            ["tags"],
        ),
        (
            {
                "tags": {
                    "Name": "megapool-local-private-eu-north-1a",
                    "megapool:role": "private-subnet",
                    "megapool:env": "local",
                }
            },
            S_PRIVATE_A,
            ["tags"],
        ),
        ({"tags": {}}, S_PUBLIC_B, ["tags"]),
        # map_public flipped either way
        ({"map_public_ip_on_launch": False}, S_PUBLIC_B, ["map_public_ip_on_launch"]),
        ({"map_public_ip_on_launch": True}, S_PRIVATE_A, ["map_public_ip_on_launch"]),
        # IPv6 the role does not ask for: the module removes it
        ({"assign_ipv6_address_on_creation": True}, S_PRIVATE_A, ["ipv6"]),
        (
            {
                "ipv6_cidr_block_association_set": [
                    {
                        "association_id": "a",
                        "ipv6_cidr_block": "2001:db8::/64",
                        "ipv6_cidr_block_state": {"state": "associated"},
                    }
                ]
            },
            S_PUBLIC_A,
            ["ipv6"],
        ),
        (
            {
                "ipv6_cidr_block_association_set": [
                    {
                        "association_id": "a",
                        "ipv6_cidr_block": "2001:db8::/64",
                        "ipv6_cidr_block_state": {"state": "associating"},
                    }
                ]
            },
            S_PUBLIC_A,
            ["ipv6"],
        ),
        # the planned CIDR exists in another AZ
        ({"availability_zone": "eu-north-1c"}, S_PRIVATE_B, ["availability zone eu-north-1c, planned eu-north-1b"]),
        # several at once, all named
        ({"map_public_ip_on_launch": False, "tags": {}}, S_PUBLIC_A, ["map_public_ip_on_launch", "tags"]),
    ],
)
def test_subnets_to_converge_drift_runs_the_module_for_exactly_that_subnet(change, cidr, drift):
    converge = subnets_to_converge(PLAN, _changed(_found_subnets(), cidr, **change), NAME, TAGS)
    (item,) = converge
    assert item["cidr"] == cidr
    assert item["drift"] == drift
    assert item == dict(subnet_spec(next(row for row in PLAN if row["cidr"] == cidr), NAME, TAGS), drift=drift)


@pytest.mark.parametrize(
    "change",
    [
        # AWS-reserved tags are never purged by the module
        {
            "tags": dict(
                TAGS,
                Name="megapool-local-public-eu-north-1a",
                **{"megapool:role": "public-subnet", "aws:cloudformation:stack-name": "x"},
            )
        },
        # an IPv6 block that is gone (disassociated) is no IPv6
        {
            "ipv6_cidr_block_association_set": [
                {
                    "association_id": "a",
                    "ipv6_cidr_block": "2001:db8::/64",
                    "ipv6_cidr_block_state": {"state": "disassociated"},
                }
            ]
        },
        # what the module does not look at
        {"state": "pending", "available_ip_address_count": 3, "assign_ipv6_address_on_creation": None},
    ],
)
def test_subnets_to_converge_ignores_what_the_module_leaves_alone(change):
    assert subnets_to_converge(PLAN, _changed(_found_subnets(), S_PUBLIC_A, **change), NAME, TAGS) == []


def test_subnets_to_converge_one_missing_subnet():
    existing = [subnet for subnet in _found_subnets() if subnet["cidr_block"] != S_PRIVATE_B]
    assert [(item["cidr"], item["drift"]) for item in subnets_to_converge(PLAN, existing, NAME, TAGS)] == [
        (S_PRIVATE_B, ["missing"])
    ]


def test_subnets_to_converge_ignores_other_subnets_of_the_vpc():
    extra = _found_subnet({"cidr": "10.10.250.0/24", "az": "eu-north-1a", "map_public": True, "tags": {}}, "subnet-x")
    assert subnets_to_converge(PLAN, _found_subnets() + [extra], NAME, TAGS) == []


def test_subnets_to_converge_tag_values_compare_as_text():
    # network_tags: {cost_center: 42} arrives as an int; AWS holds "42"; the module compares text
    tags = dict(TAGS, cost_center=42, billable=True)
    assert subnets_to_converge(PLAN, _found_subnets(tags=tags), NAME, tags) == []


def test_subnets_to_converge_extra_network_tag_added_to_the_inventory_converges_every_subnet():
    converge = subnets_to_converge(PLAN, _found_subnets(), NAME, dict(TAGS, team="core"))
    assert [(item["cidr"], item["drift"]) for item in converge] == [(item["cidr"], ["tags"]) for item in PLAN]


@pytest.mark.parametrize("az_count", [2, 3, 6])
def test_subnets_to_converge_built_plan_is_converged(az_count):
    plan = subnet_plan("10.0.0.0/16", AZS[:az_count])
    existing = [
        _found_subnet(item, "subnet-%d" % index) for index, item in enumerate(subnets_to_converge(plan, [], NAME, TAGS))
    ]
    assert subnets_to_converge(plan, existing, NAME, TAGS) == []
    # growing the AZ count converges only the new subnets
    if az_count < 6:
        bigger = subnet_plan("10.0.0.0/16", AZS[: az_count + 1])
        if {item["cidr"] for item in plan} <= {item["cidr"] for item in bigger}:
            assert [item["az"] for item in subnets_to_converge(bigger, existing, NAME, TAGS)] == [AZS[az_count]] * 2


@pytest.mark.parametrize(
    "desired, current, differ",
    [
        ({}, {}, False),
        ({}, None, False),
        ({"a": "1"}, {"a": "1"}, False),
        ({"a": 1}, {"a": "1"}, False),
        ({"a": "1"}, {"a": "1", "aws:autoscaling:groupName": "g"}, False),
        ({"a": "1"}, {"a": "2"}, True),
        ({"a": "1"}, {}, True),
        ({"a": "1"}, {"a": "1", "b": "2"}, True),
        ({}, {"b": "2"}, True),
        ({"A": "1"}, {"a": "1"}, True),
    ],
)
def test_tags_differ(desired, current, differ):
    assert tags_differ(desired, current) is differ


def test_subnet_drift_missing():
    assert subnet_drift(subnet_spec(PLAN[0], NAME, TAGS), None) == ["missing"]


# --- converged_subnets ---------------------------------------------------------------------------


def _subnet_result(item, subnet_id, changed=True):
    return {
        "item": dict(subnet_spec(item, NAME, TAGS), drift=["x"]),
        "changed": changed,
        "ansible_loop_var": "item",
        "subnet": {"id": subnet_id, "cidr_block": item["cidr"]} if subnet_id else {},
    }


def test_converged_subnets_all_found_no_module_ran():
    assert converged_subnets(PLAN, _found_subnets(), []) == [
        {"tier": "private", "az": "eu-north-1a", "id": "subnet-pa"},
        {"tier": "private", "az": "eu-north-1b", "id": "subnet-pb"},
        {"tier": "public", "az": "eu-north-1a", "id": "subnet-ua"},
        {"tier": "public", "az": "eu-north-1b", "id": "subnet-ub"},
    ]


def test_converged_subnets_merges_created_and_found_in_plan_order():
    existing = [subnet for subnet in _found_subnets() if subnet["cidr_block"] not in (S_PRIVATE_B, S_PUBLIC_A)]
    results = [_subnet_result(PLAN[2], "subnet-new-ua"), _subnet_result(PLAN[1], "subnet-new-pb")]
    assert [row["id"] for row in converged_subnets(PLAN, existing, results)] == [
        "subnet-pa",
        "subnet-new-pb",
        "subnet-new-ua",
        "subnet-ub",
    ]


def test_converged_subnets_the_module_result_wins_over_what_was_found():
    results = [_subnet_result(PLAN[3], "subnet-ub", changed=True)]
    assert converged_subnets(PLAN, _found_subnets(), results) == converged_subnets(PLAN, _found_subnets(), [])


def test_converged_subnets_check_mode_creation_has_no_id():
    # check mode on a VPC without subnets: ec2_vpc_subnet returns "subnet": {}
    results = [_subnet_result(item, None) for item in PLAN]
    assert [row["id"] for row in converged_subnets(PLAN, [], results)] == [None] * 4
    assert [row["id"] for row in converged_subnets(PLAN, [], [])] == [None] * 4


def test_converged_subnets_keeps_tier_and_az_from_the_plan():
    existing = _changed(_found_subnets(), S_PUBLIC_A, availability_zone="elsewhere")
    assert converged_subnets(PLAN, existing, [])[2] == {"tier": "public", "az": "eu-north-1a", "id": "subnet-ua"}


# --- route tables --------------------------------------------------------------------------------

BUILT = [dict(tier=item["tier"], az=item["az"], id=SUBNET_IDS[item["cidr"]]) for item in PLAN]
TABLES = route_table_plan(BUILT, NAME, "igw-1", "single", {"subnet-ua": "nat-1"})
RT_IDS = {NAME + "-public": "rtb-pub", NAME + "-private-eu-north-1a": "rtb-pa", NAME + "-private-eu-north-1b": "rtb-pb"}
PEER_ROUTE = {
    "destination_cidr_block": "10.20.0.0/16",
    "gateway_id": None,
    "nat_gateway_id": None,
    "origin": "CreateRoute",
    "state": "active",
    "vpc_peering_connection_id": "pcx-1",
    "instance_id": None,
    "network_interface_id": None,
    "interface_id": None,
}


def _found_route(dest, target):
    route = {
        "destination_cidr_block": dest,
        "gateway_id": None,
        "origin": "CreateRoute",
        "state": "active",
        "instance_id": None,
        "network_interface_id": None,
        "interface_id": None,
    }
    route["nat_gateway_id" if target.startswith("nat-") else "gateway_id"] = target
    return route


def _found_table(table, table_id, tags=None):
    """A route table as ec2_vpc_route_table_info returns it after ec2_vpc_route_table built `table`, and the
    peering mesh added its route."""
    local = {
        "destination_cidr_block": "10.10.0.0/16",
        "gateway_id": "local",
        "origin": "CreateRouteTable",
        "state": "active",
        "instance_id": None,
        "network_interface_id": None,
        "interface_id": None,
    }
    return {
        "id": table_id,
        "route_table_id": table_id,
        "vpc_id": "vpc-1",
        "owner_id": "123456789012",
        "propagating_vgws": [],
        "associations": [
            {
                "main": False,
                "id": "rtbassoc-%s-%d" % (table_id, index),
                "route_table_association_id": "rtbassoc-%s-%d" % (table_id, index),
                "route_table_id": table_id,
                "subnet_id": subnet_id,
                "association_state": {"state": "associated"},
            }
            for index, subnet_id in enumerate(table["subnets"])
        ],
        "routes": [local]
        + [_found_route(route["dest"], route["gateway_id"]) for route in table["routes"]]
        + [dict(PEER_ROUTE)],
        "tags": dict(tags or TAGS, **{"Name": table["name"], "megapool:role": table["role"]}),
    }


MAIN_TABLE = {
    "id": "rtb-main",
    "route_table_id": "rtb-main",
    "vpc_id": "vpc-1",
    "tags": {},
    "routes": [],
    "associations": [
        {
            "main": True,
            "id": "rtbassoc-main",
            "route_table_association_id": "rtbassoc-main",
            "route_table_id": "rtb-main",
            "association_state": {"state": "associated"},
        }
    ],
}


def _found_tables():
    return [dict(MAIN_TABLE)] + [_found_table(table, RT_IDS[table["name"]]) for table in TABLES]


def _table(existing, name):
    return next(table for table in existing if table["tags"].get("Name") == name)


def test_route_tables_to_converge_nothing_when_everything_is_as_planned():
    # the peering mesh's routes to the other regions and the local route are not the role's business
    assert route_tables_to_converge(TABLES, _found_tables(), TAGS) == []


@pytest.mark.parametrize("existing", [[], None, [MAIN_TABLE]])
def test_route_tables_to_converge_everything_on_a_new_vpc(existing):
    converge = route_tables_to_converge(TABLES, existing, TAGS)
    assert [(table["name"], table["id"], table["drift"]) for table in converge] == [
        (NAME + "-public", None, ["missing"]),
        (NAME + "-private-eu-north-1a", None, ["missing"]),
        (NAME + "-private-eu-north-1b", None, ["missing"]),
    ]
    assert converge[0]["tags"] == dict(TAGS, Name=NAME + "-public", **{"megapool:role": "public-rt"})
    assert converge[1]["tags"]["megapool:role"] == "private-rt"
    # the planned table is passed on unchanged
    assert [{key: table[key] for key in ("name", "role", "subnets", "routes")} for table in converge] == TABLES


def _drop_association(table, subnet_id):
    table["associations"] = [assoc for assoc in table["associations"] if assoc.get("subnet_id") != subnet_id]


def _add_association(table, subnet_id):
    table["associations"].append(
        {
            "main": False,
            "id": "rtbassoc-x",
            "route_table_association_id": "rtbassoc-x",
            "route_table_id": table["id"],
            "subnet_id": subnet_id,
            "association_state": {"state": "associated"},
        }
    )


def _retarget(table, dest, **target):
    for route in table["routes"]:
        if route["destination_cidr_block"] == dest:
            route.update({"gateway_id": None, "nat_gateway_id": None}, **target)


def _drop_route(table, dest):
    table["routes"] = [route for route in table["routes"] if route["destination_cidr_block"] != dest]


PUBLIC, PRIVATE_A, PRIVATE_B = (table["name"] for table in TABLES)


@pytest.mark.parametrize(
    "name, change, drift",
    [
        # an association missing, or one too many (purge_subnets), or moved to another table
        (PUBLIC, lambda t: _drop_association(t, "subnet-ub"), ["subnet associations"]),
        (PRIVATE_A, lambda t: _drop_association(t, "subnet-pa"), ["subnet associations"]),
        (PUBLIC, lambda t: _add_association(t, "subnet-x"), ["subnet associations"]),
        # the default route deleted, or pointing elsewhere (another gateway, another NAT, the NAT's route as an IGW one)
        (PUBLIC, lambda t: _drop_route(t, "0.0.0.0/0"), ["route 0.0.0.0/0"]),
        (PUBLIC, lambda t: _retarget(t, "0.0.0.0/0", gateway_id="igw-other"), ["route 0.0.0.0/0"]),
        (PUBLIC, lambda t: _retarget(t, "0.0.0.0/0", nat_gateway_id="nat-1"), ["route 0.0.0.0/0"]),
        (PRIVATE_B, lambda t: _drop_route(t, "0.0.0.0/0"), ["route 0.0.0.0/0"]),
        (PRIVATE_B, lambda t: _retarget(t, "0.0.0.0/0", nat_gateway_id="nat-other"), ["route 0.0.0.0/0"]),
        (PRIVATE_A, lambda t: _retarget(t, "0.0.0.0/0", gateway_id="nat-1"), ["route 0.0.0.0/0"]),
        (PRIVATE_A, lambda t: _retarget(t, "0.0.0.0/0", vpc_peering_connection_id="pcx-1"), ["route 0.0.0.0/0"]),
        # tags changed, added, removed
        (PRIVATE_A, lambda t: t["tags"].update(Name=PRIVATE_A, team="x"), ["tags"]),
        (PUBLIC, lambda t: t["tags"].update({"megapool:env": "prod"}), ["tags"]),
        (PRIVATE_B, lambda t: t["tags"].pop("megapool:cluster"), ["tags"]),
        # several at once, in a fixed order
        (
            PUBLIC,
            lambda t: (_drop_route(t, "0.0.0.0/0"), _drop_association(t, "subnet-ua"), t["tags"].update(x="1")),
            ["subnet associations", "route 0.0.0.0/0", "tags"],
        ),
    ],
)
def test_route_tables_to_converge_drift_runs_the_module_for_exactly_that_table(name, change, drift):
    existing = _found_tables()
    change(_table(existing, name))
    (table,) = route_tables_to_converge(TABLES, existing, TAGS)
    assert (table["name"], table["id"], table["drift"]) == (name, RT_IDS[name], drift)
    assert table["subnets"] == next(planned for planned in TABLES if planned["name"] == name)["subnets"]


@pytest.mark.parametrize(
    "change",
    [
        # routes the role does not own stay (purge_routes: false): the mesh's, and anyone else's
        lambda t: t["routes"].append(_found_route("192.168.0.0/16", "vgw-1")),
        lambda t: _drop_route(t, "10.20.0.0/16"),
        # a blackhole route still has its target: the module matches it and changes nothing
        lambda t: _retarget(t, "0.0.0.0/0", gateway_id="igw-1", state="blackhole"),
        # the main association is not a subnet association; an association state is not looked at
        lambda t: t["associations"].append(
            {"main": True, "id": "rtbassoc-m", "route_table_association_id": "rtbassoc-m"}
        ),
        # gateway (edge) associations and route propagation are not managed by the role
        lambda t: t["associations"].append(
            {"main": False, "id": "rtbassoc-g", "gateway_id": "igw-1", "association_state": {"state": "associated"}}
        ),
        lambda t: t["propagating_vgws"].append({"gateway_id": "vgw-1"}),
        # AWS-reserved tags
        lambda t: t["tags"].update({"aws:cloudformation:stack-id": "x"}),
    ],
)
def test_route_tables_to_converge_ignores_what_the_module_leaves_alone(change):
    existing = _found_tables()
    change(_table(existing, PUBLIC))
    assert route_tables_to_converge(TABLES, existing, TAGS) == []


def test_route_tables_to_converge_nat_mode_none_leaves_the_old_default_route():
    # the documented limitation (docs/network.md): no route is planned, and routes are never purged
    tables = route_table_plan(BUILT, NAME, "igw-1", "none", {})
    assert route_tables_to_converge(tables, _found_tables(), TAGS) == []


def test_route_tables_to_converge_nat_mode_change_to_per_az():
    tables = route_table_plan(BUILT, NAME, "igw-1", "per_az", {"subnet-ua": "nat-1", "subnet-ub": "nat-2"})
    converge = route_tables_to_converge(tables, _found_tables(), TAGS)
    assert [(table["name"], table["drift"], table["routes"]) for table in converge] == [
        (PRIVATE_B, ["route 0.0.0.0/0"], [{"dest": "0.0.0.0/0", "gateway_id": "nat-2"}]),
    ]


def test_route_tables_to_converge_unknown_target_is_never_taken_as_converged():
    # e.g. check mode where the internet gateway would be created: the module decides
    tables = route_table_plan(BUILT, NAME, None, "single", {"subnet-ua": "nat-1"})
    assert [table["name"] for table in route_tables_to_converge(tables, _found_tables(), TAGS)] == [PUBLIC]


def test_route_table_drift_unknown_target_never_matches_a_route_without_that_kind_of_target():
    # the info module sets gateway_id to None on a NAT route: None must not match it
    table = {"name": "t", "role": "public-rt", "subnets": [], "routes": [{"dest": "0.0.0.0/0", "gateway_id": None}]}
    current = {
        "associations": [],
        "tags": dict(TAGS, Name="t", **{"megapool:role": "public-rt"}),
        "routes": [_found_route("0.0.0.0/0", "nat-1")],
    }
    assert current["routes"][0]["gateway_id"] is None
    assert route_table_drift(table, current, TAGS) == ["route 0.0.0.0/0"]


def test_route_tables_to_converge_unknown_subnet_is_never_taken_as_converged():
    built = [dict(row, id=None) if row["id"] == "subnet-pb" else row for row in BUILT]
    tables = route_table_plan(built, NAME, "igw-1", "single", {"subnet-ua": "nat-1"})
    assert [(table["name"], table["drift"]) for table in route_tables_to_converge(tables, _found_tables(), TAGS)] == [
        (PRIVATE_B, ["subnet associations"]),
    ]


def test_route_table_drift_transit_and_ipv6_routes():
    table = {
        "name": "t",
        "role": "private-rt",
        "subnets": [],
        "routes": [{"dest": "10.99.0.0/16", "gateway_id": "tgw-1"}, {"dest": "::/0", "gateway_id": "igw-1"}],
    }
    current = {
        "associations": [],
        "tags": dict(TAGS, Name="t", **{"megapool:role": "private-rt"}),
        "routes": [
            {"destination_cidr_block": "10.99.0.0/16", "gateway_id": None, "transit_gateway_id": "tgw-1"},
            {"destination_cidr_block": None, "destination_ipv6_cidr_block": "::/0", "gateway_id": "igw-1"},
        ],
    }
    assert route_table_drift(table, current, TAGS) == []
    current["routes"][0]["transit_gateway_id"] = "tgw-2"
    current["routes"][1]["gateway_id"] = "igw-2"
    assert route_table_drift(table, current, TAGS) == ["route 10.99.0.0/16", "route ::/0"]


def test_route_tables_to_converge_tables_are_found_by_name_only():
    existing = _found_tables()
    _table(existing, PUBLIC)["tags"]["megapool:role"] = "something"
    (table,) = route_tables_to_converge(TABLES, existing, TAGS)
    assert (table["id"], table["drift"]) == ("rtb-pub", ["tags"])


def test_route_tables_to_converge_of_two_tables_with_one_name_the_last_counts():
    existing = _found_tables()
    duplicate = dict(_table(existing, PUBLIC), id="rtb-dup", route_table_id="rtb-dup", associations=[])
    assert [(t["id"], t["drift"]) for t in route_tables_to_converge(TABLES, existing + [duplicate], TAGS)] == [
        ("rtb-dup", ["subnet associations"]),
    ]
    assert converged_route_table_ids(TABLES, existing + [duplicate], [])[0] == "rtb-dup"


@pytest.mark.parametrize("nat_mode", ["none", "single", "per_az"])
@pytest.mark.parametrize("az_count", [2, 3, 6])
def test_route_tables_to_converge_built_plan_is_converged(nat_mode, az_count):
    built = [
        dict(tier=item["tier"], az=item["az"], id="subnet-%d" % index)
        for index, item in enumerate(subnet_plan("10.0.0.0/16", AZS[:az_count]))
    ]
    nats = {row["id"]: "nat-%s" % row["id"] for row in built if row["tier"] == "public"}
    tables = route_table_plan(built, NAME, "igw-1", nat_mode, nats)
    existing = [
        _found_table(table, "rtb-%d" % index) for index, table in enumerate(route_tables_to_converge(tables, [], TAGS))
    ]
    assert route_tables_to_converge(tables, existing, TAGS) == []


# --- converged_route_table_ids -------------------------------------------------------------------


def _rt_result(table, table_id):
    return {
        "item": dict(table, id=None, drift=["x"]),
        "changed": True,
        "route_table": {"id": table_id, "route_table_id": table_id},
    }


def test_converged_route_table_ids_all_found():
    assert converged_route_table_ids(TABLES, _found_tables(), []) == ["rtb-pub", "rtb-pa", "rtb-pb"]


def test_converged_route_table_ids_merges_created_and_found_in_plan_order():
    existing = [table for table in _found_tables() if table["tags"].get("Name") != PRIVATE_A]
    assert converged_route_table_ids(TABLES, existing, [_rt_result(TABLES[1], "rtb-new")]) == [
        "rtb-pub",
        "rtb-new",
        "rtb-pb",
    ]


def test_converged_route_table_ids_check_mode_and_nothing_found():
    # check mode: ec2_vpc_route_table returns the placeholder "rtb-xxxxxxxx" for a table it would create
    results = [_rt_result(table, "rtb-xxxxxxxx") for table in TABLES]
    assert converged_route_table_ids(TABLES, [], results) == ["rtb-xxxxxxxx"] * 3
    assert converged_route_table_ids(TABLES, [MAIN_TABLE], []) == [None] * 3


# --------------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------------


@st.composite
def vpc_and_azs(draw, min_prefix=16, max_prefix=24):
    prefix = draw(st.integers(min_value=min_prefix, max_value=max_prefix))
    address = draw(st.integers(min_value=0, max_value=2**32 - 1))
    network = ipaddress.IPv4Network((address >> (32 - prefix) << (32 - prefix), prefix))
    return str(network), draw(st.integers(min_value=2, max_value=6))


@settings(max_examples=300, deadline=None)
@given(vpc_and_azs())
def test_property_layout_is_a_disjoint_equal_partition_inside_the_vpc(case):
    vpc_cidr, az_count = case
    vpc = ipaddress.IPv4Network(vpc_cidr)
    layout = subnet_layout(vpc_cidr, az_count)
    nets = [ipaddress.IPv4Network(cidr) for cidr in layout["private"] + layout["public"]]

    assert len(layout["private"]) == len(layout["public"]) == az_count
    assert len(nets) == 2 * az_count
    assert all(net.subnet_of(vpc) for net in nets)
    assert {net.prefixlen for net in nets} == {layout["prefix"]}
    assert layout["prefix"] <= 28
    assert all(not a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])
    # the largest size that fits: one bit shorter would not hold 2 * az_count subnets
    assert 2 ** (layout["prefix"] - 1 - vpc.prefixlen) < 2 * az_count
    # deterministic, and subnet_plan agrees
    assert subnet_layout(vpc_cidr, az_count) == layout
    plan = subnet_plan(vpc_cidr, AZS[:az_count])
    assert [row["cidr"] for row in plan] == layout["private"] + layout["public"]


@settings(max_examples=200, deadline=None)
@given(vpc_and_azs(), st.integers(min_value=0, max_value=12))
def test_property_explicit_prefix_fits_or_names_network_subnet_prefix(case, extra_bits):
    vpc_cidr, az_count = case
    vpc = ipaddress.IPv4Network(vpc_cidr)
    subnet_prefix = vpc.prefixlen + extra_bits
    fits = 2**extra_bits >= 2 * az_count and subnet_prefix <= 28
    if fits:
        layout = subnet_layout(vpc_cidr, az_count, subnet_prefix)
        nets = [ipaddress.IPv4Network(cidr) for cidr in layout["private"] + layout["public"]]
        assert {net.prefixlen for net in nets} == {subnet_prefix}
        assert all(net.subnet_of(vpc) for net in nets)
        assert len(set(nets)) == 2 * az_count
    elif 2**extra_bits < 2 * az_count:
        assert "network_subnet_prefix=/%d" % subnet_prefix in _layout_error(vpc_cidr, az_count, subnet_prefix)
    else:
        assert "AWS subnets are at most /28" in _layout_error(vpc_cidr, az_count, subnet_prefix)


_cidrs = st.builds(
    lambda address, prefix: str(ipaddress.IPv4Network((address >> (32 - prefix) << (32 - prefix), prefix))),
    st.integers(min_value=0, max_value=2**32 - 1),
    st.integers(min_value=8, max_value=28),
)


def _overlap_reference(a: str, b: str) -> bool:
    first, second = ipaddress.IPv4Network(a), ipaddress.IPv4Network(b)
    return int(first[0]) <= int(second[-1]) and int(second[0]) <= int(first[-1])


@settings(max_examples=300, deadline=None)
@given(_cidrs, _cidrs)
def test_property_overlap_detection_is_symmetric_and_correct(a, b):
    forward = find_overlaps({"r1": a, "r2": b})
    backward = find_overlaps({"r1": b, "r2": a})
    assert bool(forward) == bool(backward) == _overlap_reference(a, b)
    assert forward in ([], [("r1", "r2")])
    assert len(overlap_errors({"r1": a, "r2": b})) == len(forward)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(KNOWN_REGIONS), _cidrs, max_size=5))
def test_property_find_overlaps_is_every_overlapping_pair(cidrs):
    expected = sorted((a, b) for a in cidrs for b in cidrs if a < b and _overlap_reference(cidrs[a], cidrs[b]))
    assert find_overlaps(cidrs) == expected


# --------------------------------------------------------------------------------------------------
# public subnets big enough for the ALB, NAT mode with ECS hosts

from ansible_collections.megapool.aws.plugins.module_utils.network_layout import choose_azs  # noqa: E402
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import existing_slot_azs  # noqa: E402
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import nat_mode_errors  # noqa: E402
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import offers_by_type  # noqa: E402
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import public_subnet_errors  # noqa: E402
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import zone_records  # noqa: E402


@pytest.mark.parametrize(
    "vpc_cidr, az_count, subnet_prefix, refused",
    [
        ("10.20.30.64/26", 2, None, True),  # 4 x /28: the ALB refuses /28 subnets
        ("10.20.30.0/25", 2, None, False),  # 4 x /27
        ("10.20.30.0/25", 3, None, True),  # 3 AZs: 8 slots of /28
        ("10.20.30.0/24", 3, None, False),  # 8 x /27
        ("10.0.0.0/16", 2, 28, True),  # explicit /28
        ("10.0.0.0/16", 2, 27, False),
    ],
)
def test_network_errors_refuse_public_subnets_smaller_than_the_alb_accepts(vpc_cidr, az_count, subnet_prefix, refused):
    layout = subnet_layout(vpc_cidr, az_count, subnet_prefix)
    errors = network_errors("eu-north-1", KNOWN_REGIONS, vpc_cidr, az_count, [], False, subnet_prefix)
    assert bool(errors) == (layout["prefix"] > 27) == refused
    if refused:
        assert "/27 or larger" in errors[0]
        assert ("network_subnet_prefix" if subnet_prefix else "Use a larger network_vpc_cidr") in errors[0]


def test_public_subnet_errors_name_the_largest_vpc_needed():
    (message,) = public_subnet_errors("10.20.30.64/26", 2, 28)
    assert message.startswith("network_vpc_cidr=10.20.30.64/26 with network_az_count=2 gives /28 public subnets")
    assert "(/25 or shorter)" in message
    assert subnet_layout("10.20.30.0/25", 2)["prefix"] == 27


@pytest.mark.parametrize(
    "nat_mode, private_hosts, refused",
    [
        ("none", True, True),
        ("none", False, False),
        ("single", True, False),
        ("per_az", True, False),
    ],
)
def test_nat_mode_none_is_refused_with_ecs_hosts(nat_mode, private_hosts, refused):
    errors = nat_mode_errors(nat_mode, private_hosts)
    assert bool(errors) == refused
    full = network_errors("eu-north-1", KNOWN_REGIONS, "10.0.0.0/16", 2, [], False, None, nat_mode, private_hosts)
    assert full == errors
    if refused:
        assert "network_nat_mode=none" in errors[0] and "network_nat_mode: single" in errors[0]


# --------------------------------------------------------------------------------------------------
# AZ choice by AZ ID

# A synthetic us-east-1 account mapping that puts use1-az3 (no current general-purpose types) at us-east-1a.
USE1_ZONES = [
    {"zone_name": "us-east-1a", "zone_id": "use1-az3"},
    {"zone_name": "us-east-1b", "zone_id": "use1-az6"},
    {"zone_name": "us-east-1c", "zone_id": "use1-az1"},
    {"zone_name": "us-east-1d", "zone_id": "use1-az2"},
    {"zone_name": "us-east-1e", "zone_id": "use1-az4"},
    {"zone_name": "us-east-1f", "zone_id": "use1-az5"},
]
USE1_OFFERS = {
    "t3.micro": ["use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6"],
    "t3.small": ["use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6"],
    "m7g.large": ["use1-az1", "use1-az2", "use1-az4", "use1-az6"],
}


def test_choose_azs_skips_the_zone_that_lacks_the_types_whatever_its_name():
    choice = choose_azs(USE1_ZONES, USE1_OFFERS, ["t3.micro", "t3.small"], 3)
    assert choice["azs"] == ["us-east-1b", "us-east-1c", "us-east-1d"]
    assert choice["zone_ids"] == ["use1-az6", "use1-az1", "use1-az2"]
    assert choice["errors"] == [] and choice["kept_unqualified"] == []


def test_choose_azs_needs_every_wanted_type_in_the_zone():
    choice = choose_azs(USE1_ZONES, USE1_OFFERS, ["t3.micro", "m7g.large"], 5)
    assert choice["azs"] == []
    (message,) = choice["errors"]
    assert message.startswith(
        "network_az_count=5 but only 4 availability zones of the region offer every instance type"
    )
    assert "us-east-1a (use1-az3) lacks t3.micro, m7g.large" in message
    assert "us-east-1f (use1-az5) lacks m7g.large" in message
    assert "Lower network_az_count" in message


def test_choose_azs_a_type_offered_nowhere_disqualifies_every_zone():
    choice = choose_azs(
        USE1_ZONES,
        USE1_OFFERS,
        ["t3.micro", "t3a.nope"],
        2,
        region="us-east-1",
        wanted_from="ecs_hosts_instance_types=t3a.nope",
    )
    (message,) = choice["errors"]
    assert "only 0 availability zones of us-east-1" in message and "(ecs_hosts_instance_types=t3a.nope)" in message


def test_choose_azs_keeps_the_zones_of_existing_subnets():
    # An existing VPC built by name order: slot 0 in us-east-1a (use1-az3). It never moves; the free slot takes
    # the first qualifying zone not in use.
    choice = choose_azs(USE1_ZONES, USE1_OFFERS, ["t3.small"], 3, ["us-east-1a", None, "us-east-1c"])
    assert choice["azs"] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert choice["kept_unqualified"] == ["us-east-1a (use1-az3) lacks t3.small"]
    assert choice["errors"] == []


def test_choose_azs_is_stable_when_offerings_change():
    first = choose_azs(USE1_ZONES, USE1_OFFERS, ["t3.small"], 2)
    offers = dict(USE1_OFFERS, **{"t3.small": ["use1-az1", "use1-az2", "use1-az4", "use1-az5"]})  # az6 stops selling it
    again = choose_azs(USE1_ZONES, offers, ["t3.small"], 2, first["azs"])
    assert again["azs"] == first["azs"] == ["us-east-1b", "us-east-1c"]
    assert again["kept_unqualified"] == ["us-east-1b (use1-az6) lacks t3.small"]


def test_existing_slot_azs_reads_the_plan_slots():
    existing = [
        {"cidr_block": "10.42.0.0/18", "availability_zone": "us-east-1a"},  # private slot 0
        {"cidr_block": "10.42.192.0/18", "availability_zone": "us-east-1d"},  # public slot 1
        {"cidr_block": "10.42.64.7/32", "availability_zone": "us-east-1f"},  # not the plan's
    ]
    assert existing_slot_azs("10.42.0.0/16", 2, None, existing) == ["us-east-1a", "us-east-1d"]
    assert existing_slot_azs("10.42.0.0/16", 2, None, []) == [None, None]


@given(
    permutation=st.permutations([zone["zone_id"] for zone in USE1_ZONES]),
    az_count=st.integers(min_value=2, max_value=6),
)
@settings(max_examples=60, deadline=None)
def test_choose_azs_property_by_zone_id_whatever_the_mapping(permutation, az_count):
    """Whatever the account's name -> ID mapping, the chosen zones are distinct and all offer every wanted type."""
    zones = [{"zone_name": zone["zone_name"], "zone_id": zone_id} for zone, zone_id in zip(USE1_ZONES, permutation)]
    choice = choose_azs(zones, USE1_OFFERS, ["t3.micro", "t3.small"], az_count)
    if az_count > 5:
        assert choice["errors"] and choice["azs"] == []
        return
    assert len(set(choice["azs"])) == len(choice["azs"]) == az_count
    assert "use1-az3" not in choice["zone_ids"]
    id_of = {zone["zone_name"]: zone["zone_id"] for zone in zones}
    assert [id_of[name] for name in choice["azs"]] == choice["zone_ids"]


def test_offers_and_zone_records_from_the_api_shapes():
    assert offers_by_type(
        [
            {"InstanceType": "t3.small", "Location": "use1-az2", "LocationType": "availability-zone-id"},
            {"InstanceType": "t3.small", "Location": "use1-az1", "LocationType": "availability-zone-id"},
        ]
    ) == {"t3.small": ["use1-az1", "use1-az2"]}
    assert zone_records(
        [
            {"ZoneName": "us-east-1b", "ZoneId": "use1-az6", "State": "available", "ZoneType": "availability-zone"},
            {"ZoneName": "us-east-1-bos-1a", "ZoneId": "use1-bos1-az1", "State": "available", "ZoneType": "local-zone"},
            {"ZoneName": "us-east-1a", "ZoneId": "use1-az3", "State": "impaired", "ZoneType": "availability-zone"},
            {"ZoneName": "us-east-1a", "ZoneId": "use1-az3"},
        ]
    ) == [{"zone_name": "us-east-1a", "zone_id": "use1-az3"}, {"zone_name": "us-east-1b", "zone_id": "use1-az6"}]


from ansible_collections.megapool.aws.plugins.module_utils.network_layout import dependency_violation  # noqa: E402


@pytest.mark.parametrize(
    "result, expected",
    [
        ({"failed": True, "error": {"code": "DependencyViolation"}, "msg": "Unable to delete security group"}, True),
        (
            {"failed": True, "msg": "An error occurred (DependencyViolation) when calling the DeleteSubnet operation"},
            True,
        ),
        ({"failed": True, "error": {"code": "InvalidGroup.NotFound"}, "msg": "not found"}, False),
        ({"failed": False, "msg": "DependencyViolation"}, False),
        ({"changed": True}, False),
        ({}, False),
        (None, False),
    ],
)
def test_dependency_violation(result, expected):
    assert dependency_violation(result) is expected


from ansible_collections.megapool.aws.plugins.module_utils.network_layout import bastion_architecture_errors  # noqa: E402

X86 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
ARM = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"


@pytest.mark.parametrize(
    "instance_type, parameter, architectures, refused",
    [
        ("t3.micro", X86, ["i386", "x86_64"], False),
        ("t4g.micro", ARM, ["arm64"], False),
        ("t4g.micro", X86, ["arm64"], True),
        ("t3.micro", ARM, ["i386", "x86_64"], True),
        ("t3.micro", "/my/own/ami", ["x86_64"], False),  # the parameter names no architecture: not checked
        ("t9.nope", X86, [], False),  # unknown type: ec2_instance_type_info reports it as missing
    ],
)
def test_bastion_architecture_errors(instance_type, parameter, architectures, refused):
    errors = bastion_architecture_errors(instance_type, parameter, architectures)
    assert bool(errors) is refused
    if refused:
        assert errors[0].startswith("network_bastion_instance_type=%s runs" % instance_type)
        assert "network_bastion_ami_parameter=" in errors[0]
