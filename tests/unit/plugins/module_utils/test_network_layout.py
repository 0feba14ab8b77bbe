# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the pure network planner (subnet layout, route tables, input validation)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.module_utils.network_layout import LayoutError
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import admin_cidr_errors
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import find_overlaps
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import nat_subnet_ids
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import network_errors
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import overlap_errors
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import region_errors
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import route_table_plan
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import subnet_layout
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import subnet_plan

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
        ("10.0.0.0/16", 3, 19, ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"], ["10.0.128.0/19", "10.0.160.0/19", "10.0.192.0/19"]),
        ("10.0.0.0/16", 4, 19,
         ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19", "10.0.96.0/19"],
         ["10.0.128.0/19", "10.0.160.0/19", "10.0.192.0/19", "10.0.224.0/19"]),
        ("10.0.0.0/16", 6, 20,
         ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20", "10.0.48.0/20", "10.0.64.0/20", "10.0.80.0/20"],
         ["10.0.128.0/20", "10.0.144.0/20", "10.0.160.0/20", "10.0.176.0/20", "10.0.192.0/20", "10.0.208.0/20"]),
        # /20
        ("172.16.16.0/20", 2, 22, ["172.16.16.0/22", "172.16.20.0/22"], ["172.16.24.0/22", "172.16.28.0/22"]),
        ("172.16.16.0/20", 3, 23,
         ["172.16.16.0/23", "172.16.18.0/23", "172.16.20.0/23"], ["172.16.24.0/23", "172.16.26.0/23", "172.16.28.0/23"]),
        ("172.16.16.0/20", 4, 23,
         ["172.16.16.0/23", "172.16.18.0/23", "172.16.20.0/23", "172.16.22.0/23"],
         ["172.16.24.0/23", "172.16.26.0/23", "172.16.28.0/23", "172.16.30.0/23"]),
        ("172.16.16.0/20", 6, 24,
         ["172.16.16.0/24", "172.16.17.0/24", "172.16.18.0/24", "172.16.19.0/24", "172.16.20.0/24", "172.16.21.0/24"],
         ["172.16.24.0/24", "172.16.25.0/24", "172.16.26.0/24", "172.16.27.0/24", "172.16.28.0/24", "172.16.29.0/24"]),
        # /24
        ("192.168.5.0/24", 2, 26, ["192.168.5.0/26", "192.168.5.64/26"], ["192.168.5.128/26", "192.168.5.192/26"]),
        ("192.168.5.0/24", 3, 27,
         ["192.168.5.0/27", "192.168.5.32/27", "192.168.5.64/27"], ["192.168.5.128/27", "192.168.5.160/27", "192.168.5.192/27"]),
        ("192.168.5.0/24", 4, 27,
         ["192.168.5.0/27", "192.168.5.32/27", "192.168.5.64/27", "192.168.5.96/27"],
         ["192.168.5.128/27", "192.168.5.160/27", "192.168.5.192/27", "192.168.5.224/27"]),
        ("192.168.5.0/24", 6, 28,
         ["192.168.5.0/28", "192.168.5.16/28", "192.168.5.32/28", "192.168.5.48/28", "192.168.5.64/28", "192.168.5.80/28"],
         ["192.168.5.128/28", "192.168.5.144/28", "192.168.5.160/28", "192.168.5.176/28", "192.168.5.192/28", "192.168.5.208/28"]),
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
        ("10.0.0.0/16", 3, 24, ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"], ["10.0.4.0/24", "10.0.5.0/24", "10.0.6.0/24"]),
        ("10.0.0.0/16", 2, 28, ["10.0.0.0/28", "10.0.0.16/28"], ["10.0.0.32/28", "10.0.0.48/28"]),
        ("10.0.0.0/16", 2, "22", ["10.0.0.0/22", "10.0.4.0/22"], ["10.0.8.0/22", "10.0.12.0/22"]),  # -e gives strings
    ],
)
def test_subnet_layout_explicit_prefix(vpc_cidr, az_count, subnet_prefix, private, public):
    assert subnet_layout(vpc_cidr, az_count, subnet_prefix) == {"private": private, "public": public, "prefix": int(subnet_prefix)}


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


@pytest.mark.parametrize("vpc_cidr", ["10.0.0.0/8", "10.0.0.0/15", "0.0.0.0/0", "10.0.0.0/29", "10.0.0.0/30", "10.0.0.1/32"])
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


@pytest.mark.parametrize("vpc_cidr", ["10.0.0.1/16", "10.0.128.0/16", "192.168.1.0/20", "10.1.128.0/255.255.0.0", "10.0.0.7/28"])
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
    return [{"tier": tier, "az": az, "id": "subnet-%s-%s" % (tier[:3], az[-1])} for tier in ("private", "public") for az in AZS[:az_count]]


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
    subnets = [{"tier": "private", "az": "a", "id": "p1"}, {"tier": "public", "az": "b", "id": "u1"}, {"tier": "private", "az": "b", "id": "p2"}]
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
        {"name": "prod-app-eu-north-1-public", "role": "public-rt",
         "subnets": ["subnet-pub-a", "subnet-pub-b", "subnet-pub-c"],
         "routes": [{"dest": "0.0.0.0/0", "gateway_id": "igw-1"}]},
        {"name": "prod-app-eu-north-1-private-eu-north-1a", "role": "private-rt",
         "subnets": ["subnet-pri-a"], "routes": [{"dest": "0.0.0.0/0", "gateway_id": "nat-a"}]},
        {"name": "prod-app-eu-north-1-private-eu-north-1b", "role": "private-rt",
         "subnets": ["subnet-pri-b"], "routes": [{"dest": "0.0.0.0/0", "gateway_id": "nat-b"}]},
        {"name": "prod-app-eu-north-1-private-eu-north-1c", "role": "private-rt",
         "subnets": ["subnet-pri-c"], "routes": [{"dest": "0.0.0.0/0", "gateway_id": "nat-c"}]},
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
    tables = route_table_plan(subnets, "stg-x-us-east-1", "igw-9", nat_mode, {s["id"]: "nat-" + s["id"] for s in subnets})
    assert [table["name"] for table in tables] == ["stg-x-us-east-1-public"] + ["stg-x-us-east-1-private-%s" % az for az in AZS[:az_count]]
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
        ({"eu-north-1": "10.0.0.0/16", "us-east-1": "10.1.0.0/16", "ap-southeast-1": "10.0.64.0/18"},
         [("ap-southeast-1", "eu-north-1")]),
        ({"eu-north-1": "10.0.0.0/15", "us-east-1": "10.1.0.0/16", "ap-southeast-1": "10.0.64.0/18"},
         [("ap-southeast-1", "eu-north-1"), ("eu-north-1", "us-east-1")]),
        ({"c": "10.0.0.0/16", "b": "10.0.0.0/16", "a": "10.0.0.0/16"}, [("a", "b"), ("a", "c"), ("b", "c")]),
        # invalid CIDRs are ignored here (network_errors reports them per region)
        ({"eu-north-1": "10.0.0.0/16", "us-east-1": "banana"}, []),
        ({"eu-north-1": "10.0.0.0/16", "us-east-1": None, "ap-southeast-1": "10.0.1.0/24"}, [("ap-southeast-1", "eu-north-1")]),
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


@pytest.mark.parametrize("cidrs", [{}, {"a": "10.0.0.0/16", "b": "10.1.0.0/16"}, {"a": "10.0.0.0/16", "b": "not-a-cidr"}])
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
    args = {"region": "eu-north-1", "known_regions": KNOWN_REGIONS, "vpc_cidr": "10.0.0.0/16", "az_count": 2, "admin_cidrs": []}
    args.update(kwargs)
    errors = network_errors(**args)
    assert len(errors) == 1
    assert errors[0].startswith(expected_start)


# --------------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------------

@st.composite
def vpc_and_azs(draw, min_prefix=16, max_prefix=24):
    prefix = draw(st.integers(min_value=min_prefix, max_value=max_prefix))
    address = draw(st.integers(min_value=0, max_value=2 ** 32 - 1))
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
    assert all(not a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])
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
    fits = 2 ** extra_bits >= 2 * az_count and subnet_prefix <= 28
    if fits:
        layout = subnet_layout(vpc_cidr, az_count, subnet_prefix)
        nets = [ipaddress.IPv4Network(cidr) for cidr in layout["private"] + layout["public"]]
        assert {net.prefixlen for net in nets} == {subnet_prefix}
        assert all(net.subnet_of(vpc) for net in nets)
        assert len(set(nets)) == 2 * az_count
    elif 2 ** extra_bits < 2 * az_count:
        assert "network_subnet_prefix=/%d" % subnet_prefix in _layout_error(vpc_cidr, az_count, subnet_prefix)
    else:
        assert "AWS subnets are at most /28" in _layout_error(vpc_cidr, az_count, subnet_prefix)


_cidrs = st.builds(
    lambda address, prefix: str(ipaddress.IPv4Network((address >> (32 - prefix) << (32 - prefix), prefix))),
    st.integers(min_value=0, max_value=2 ** 32 - 1),
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
    expected = sorted(
        (a, b) for a in cidrs for b in cidrs if a < b and _overlap_reference(cidrs[a], cidrs[b])
    )
    assert find_overlaps(cidrs) == expected
