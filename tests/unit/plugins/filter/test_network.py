# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the megapool.aws network filters (thin wrappers over module_utils.network_layout)."""

from __future__ import annotations

import inspect
import socket

import pytest

from ansible.errors import AnsibleError
from ansible.errors import AnsibleFilterError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible.template import trust_as_template

from ansible_collections.megapool.aws.plugins.filter.network import FilterModule
from ansible_collections.megapool.aws.plugins.module_utils import network_layout

FILTER_NAMES = {
    "subnet_plan",
    "built_subnets",
    "network_errors",
    "overlap_errors",
    "nat_subnet_ids",
    "route_table_plan",
    "subnets_to_converge",
    "converged_subnets",
    "route_tables_to_converge",
    "converged_route_table_ids",
    "network_azs",
    "dependency_violation",
    "bastion_architecture_errors",
}


@pytest.fixture(scope="module")
def filters():
    return FilterModule().filters()


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test: region data must come from botocore's bundled files."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted: %r %r" % (args, kwargs))

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_filter_module_exposes_the_filters(filters):
    assert set(filters) == FILTER_NAMES
    assert all(callable(function) for function in filters.values())


PASS_THROUGH = (
    "nat_subnet_ids",
    "route_table_plan",
    "subnets_to_converge",
    "converged_subnets",
    "route_tables_to_converge",
    "converged_route_table_ids",
    "dependency_violation",
    "bastion_architecture_errors",
)


@pytest.mark.parametrize("name", PASS_THROUGH)
def test_the_pure_filters_call_the_planners_own_functions(filters, monkeypatch, name):
    """Not copies: each has the planner function's signature and hands its arguments to it (looked up when called, as
    the filter file imports module_utils inside the filters)."""
    planner = getattr(network_layout, name)
    assert inspect.signature(filters[name]) == inspect.signature(planner)
    calls = []
    monkeypatch.setattr(network_layout, name, lambda *args: calls.append(args) or calls)
    args = tuple(object() for _parameter in inspect.signature(planner).parameters)
    assert filters[name](*args) is calls
    assert calls == [args]


# --- subnet_plan ---------------------------------------------------------------------------------


def test_subnet_plan(filters):
    assert filters["subnet_plan"]("10.0.0.0/16", ("eu-north-1a", "eu-north-1b")) == [
        {"tier": "private", "az": "eu-north-1a", "cidr": "10.0.0.0/18"},
        {"tier": "private", "az": "eu-north-1b", "cidr": "10.0.64.0/18"},
        {"tier": "public", "az": "eu-north-1a", "cidr": "10.0.128.0/18"},
        {"tier": "public", "az": "eu-north-1b", "cidr": "10.0.192.0/18"},
    ]


def test_subnet_plan_explicit_prefix(filters):
    plan = filters["subnet_plan"]("10.0.0.0/16", ["a", "b"], 24)
    assert [row["cidr"] for row in plan] == ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]


def test_subnet_plan_default_prefix_none_is_the_role_default(filters):
    # roles/network/defaults: network_subnet_prefix: null
    assert filters["subnet_plan"]("10.0.0.0/16", ["a", "b"], None) == filters["subnet_plan"]("10.0.0.0/16", ["a", "b"])


@pytest.mark.parametrize(
    "vpc_cidr, azs, subnet_prefix, fragments",
    [
        (
            "banana",
            ["a", "b"],
            None,
            ["network_vpc_cidr='banana' is not a valid IPv4 network CIDR", "Use a network address such as"],
        ),
        ("10.0.0.1/16", ["a", "b"], None, ["network_vpc_cidr='10.0.0.1/16'", "has host bits set"]),
        ("10.0.0.0/12", ["a", "b"], None, ["network_vpc_cidr=10.0.0.0/12", "Choose a block in that range"]),
        ("10.0.0.0/16", ["a"], None, ["network_az_count=1", "Set network_az_count to 2 or more."]),
        ("10.0.0.0/16", [], None, ["network_az_count=0", "Set network_az_count to 2 or more."]),
        (
            "10.0.0.0/16",
            ["a", "b"],
            17,
            ["network_subnet_prefix=/17", "Use /18 or longer, or leave network_subnet_prefix unset."],
        ),
        (
            "10.0.0.0/27",
            ["a", "b"],
            None,
            ["network_vpc_cidr=10.0.0.0/27 is too small", "Use a larger network_vpc_cidr"],
        ),
    ],
)
def test_subnet_plan_bad_input_raises_filter_error_with_the_message(filters, vpc_cidr, azs, subnet_prefix, fragments):
    with pytest.raises(AnsibleFilterError) as excinfo:
        filters["subnet_plan"](vpc_cidr, azs, subnet_prefix)
    message = excinfo.value.message
    for fragment in fragments:
        assert fragment in message
    # the planner's message, unchanged (no wrapper text in front)
    with pytest.raises(network_layout.LayoutError) as planner:
        network_layout.subnet_plan(vpc_cidr, list(azs), subnet_prefix)
    assert message == str(planner.value)


# --- network_errors (regions from botocore's bundled data) --------------------------------------


@pytest.mark.parametrize("region", ["eu-north-1", "ap-southeast-1", "us-east-1", "eu-central-1"])
def test_network_errors_accepts_real_regions(filters, no_network, region):
    assert filters["network_errors"](region, "10.0.0.0/16", 2, ["203.0.113.7/32"]) == []


@pytest.mark.parametrize("region", ["cn-north-1", "us-gov-west-1"])
def test_network_errors_knows_regions_of_other_partitions(filters, no_network, region):
    assert filters["network_errors"](region, "10.0.0.0/16", 2, []) == []


@pytest.mark.parametrize("region", ["eu-nowhere-1", "localhost", "", "eu-north-1a"])
def test_network_errors_rejects_unknown_regions(filters, no_network, region):
    errors = filters["network_errors"](region, "10.0.0.0/16", 2, [])
    assert len(errors) == 1
    assert errors[0].startswith("aws_region=%r is not an AWS region this botocore knows." % region)
    assert "after a real region such as eu-north-1" in errors[0]


def test_network_errors_hints_regions_with_the_same_prefix(filters, no_network):
    (error,) = filters["network_errors"]("eu-nowhere-1", "10.0.0.0/16", 2, [])
    hint = error.split("Known regions with that prefix: ", 1)[1].rstrip(".").split(", ")
    assert {"eu-north-1", "eu-west-1", "eu-central-1"} <= set(hint)
    assert all(name.startswith("eu-") for name in hint)
    assert hint == sorted(hint)


@pytest.mark.parametrize(
    "args, expected_start",
    [
        (("eu-north-1", "10.0.0.0/16", 2, None), None),  # network_admin_cidrs omitted -> none
        (("eu-north-1", "10.0.0.0/16", "3", []), None),  # ints arrive as strings from -e
        (("eu-north-1", "10.0.0.0/16", 2, ["0.0.0.0/0"], True), None),
        (("eu-north-1", "10.0.0.0/16", 2, ["0.0.0.0/0"]), "network_admin_cidrs contains 0.0.0.0/0"),
        (("eu-north-1", "10.0.0.0/16", 2, ["0.0.0.0/0"], None), "network_admin_cidrs contains 0.0.0.0/0"),
        (
            ("eu-north-1", "10.0.0.0/16", 2, ["203.0.113.7/24"]),
            "network_admin_cidrs: '203.0.113.7/24' is not a valid CIDR",
        ),
        (("eu-north-1", "10.0.0.0/16", 1, []), "network_az_count=1:"),
        (("eu-north-1", "10.0.0.0/33", 2, []), "network_vpc_cidr='10.0.0.0/33'"),
        (("eu-north-1", "10.0.0.0/16", 2, [], False, 17), "network_subnet_prefix=/17:"),
    ],
)
def test_network_errors_inputs(filters, no_network, args, expected_start):
    errors = filters["network_errors"](*args)
    if expected_start is None:
        assert errors == []
    else:
        assert len(errors) == 1
        assert errors[0].startswith(expected_start)


def test_network_errors_open_admin_message_names_the_opt_in(filters, no_network):
    (error,) = filters["network_errors"]("eu-north-1", "10.0.0.0/16", 2, ["0.0.0.0/0"])
    assert "set network_allow_open_admin: true" in error


# --- overlap_errors ------------------------------------------------------------------------------


def test_overlap_errors(filters):
    errors = filters["overlap_errors"](
        {"eu-north-1": "10.0.0.0/16", "us-east-1": "10.0.0.0/16", "ap-southeast-1": "10.2.0.0/16"}
    )
    assert errors == [
        "network_vpc_cidr of eu-north-1 (10.0.0.0/16) overlaps network_vpc_cidr of us-east-1 (10.0.0.0/16): "
        "peered VPCs need disjoint address ranges. Give each region a non-overlapping network_vpc_cidr."
    ]


def test_overlap_errors_accepts_pairs(filters):
    # e.g. built with zip() in a template
    assert len(filters["overlap_errors"]([("a", "10.0.0.0/16"), ("b", "10.0.1.0/24")])) == 1
    assert filters["overlap_errors"]([("a", "10.0.0.0/16"), ("b", "10.1.0.0/16")]) == []


# --- built_subnets -------------------------------------------------------------------------------


def _result(tier, az, cidr, subnet_id, **extra):
    result = {
        "changed": False,
        "failed": False,
        "ansible_loop_var": "item",
        "item": {"tier": tier, "az": az, "cidr": cidr},
        "subnet": {
            "id": subnet_id,
            "cidr_block": cidr,
            "availability_zone": az,
            "vpc_id": "vpc-1",
            "state": "available",
        },
    }
    result.update(extra)
    return result


def test_built_subnets_converts_loop_results(filters):
    results = [
        _result("private", "eu-north-1a", "10.0.0.0/18", "subnet-1"),
        _result("private", "eu-north-1b", "10.0.64.0/18", "subnet-2", changed=True),
        _result("public", "eu-north-1a", "10.0.128.0/18", "subnet-3"),
        _result("public", "eu-north-1b", "10.0.192.0/18", "subnet-4"),
    ]
    assert filters["built_subnets"](results) == [
        {"tier": "private", "az": "eu-north-1a", "id": "subnet-1"},
        {"tier": "private", "az": "eu-north-1b", "id": "subnet-2"},
        {"tier": "public", "az": "eu-north-1a", "id": "subnet-3"},
        {"tier": "public", "az": "eu-north-1b", "id": "subnet-4"},
    ]


def test_built_subnets_keeps_tier_and_az_from_the_item_not_the_subnet(filters):
    result = _result("public", "eu-north-1c", "10.0.0.0/24", "subnet-9")
    result["subnet"]["availability_zone"] = "something-else"
    assert filters["built_subnets"]([result]) == [{"tier": "public", "az": "eu-north-1c", "id": "subnet-9"}]


@pytest.mark.parametrize("subnet", [None, {}])
def test_built_subnets_without_a_subnet_has_no_id(filters, subnet):
    result = _result("private", "a", "10.0.0.0/24", "unused")
    result["subnet"] = subnet
    assert filters["built_subnets"]([result]) == [{"tier": "private", "az": "a", "id": None}]
    del result["subnet"]
    assert filters["built_subnets"]([result]) == [{"tier": "private", "az": "a", "id": None}]


def test_built_subnets_empty(filters):
    assert filters["built_subnets"]([]) == []


def test_built_subnets_feed_the_route_table_plan(filters):
    plan = filters["subnet_plan"]("10.0.0.0/16", ["z1", "z2"])
    results = [{"item": row, "subnet": {"id": "subnet-%d" % index}} for index, row in enumerate(plan)]
    built = filters["built_subnets"](results)
    assert filters["nat_subnet_ids"](built, "per_az") == ["subnet-2", "subnet-3"]
    tables = filters["route_table_plan"](built, "n", "igw", "per_az", {"subnet-2": "nat-z1", "subnet-3": "nat-z2"})
    assert [(table["name"], table["subnets"], table["routes"]) for table in tables] == [
        ("n-public", ["subnet-2", "subnet-3"], [{"dest": "0.0.0.0/0", "gateway_id": "igw"}]),
        ("n-private-z1", ["subnet-0"], [{"dest": "0.0.0.0/0", "gateway_id": "nat-z1"}]),
        ("n-private-z2", ["subnet-1"], [{"dest": "0.0.0.0/0", "gateway_id": "nat-z2"}]),
    ]


# --- through Ansible's templating, by FQCN (as the role uses them) ------------------------------


def _template(expression, **variables):
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(expression))


def test_filters_resolve_by_fqcn_in_templates():
    plan = _template(
        "{{ network_vpc_cidr | megapool.aws.subnet_plan(azs, none) }}", network_vpc_cidr="10.0.0.0/24", azs=["a", "b"]
    )
    assert [row["cidr"] for row in plan] == ["10.0.0.0/26", "10.0.0.64/26", "10.0.0.128/26", "10.0.0.192/26"]


def test_filter_error_surfaces_in_templates():
    with pytest.raises(AnsibleError) as excinfo:
        _template("{{ '10.0.0.0/16' | megapool.aws.subnet_plan(azs) }}", azs=["only-one"])
    assert "Set network_az_count to 2 or more." in str(excinfo.value)


# --- find, then converge only what differs: as the role chains them in templates ------------------

_TAGS = {"megapool:env": "local", "megapool:cluster": "megapool"}


def _info_subnet(spec, subnet_id):
    return {
        "id": subnet_id,
        "cidr_block": spec["cidr"],
        "availability_zone": spec["az"],
        "map_public_ip_on_launch": spec["map_public"],
        "assign_ipv6_address_on_creation": False,
        "ipv6_cidr_block_association_set": [],
        "tags": dict(spec["tags"]),
    }


def test_subnet_filters_in_templates_converge_only_the_drifted_subnet():
    variables = {
        "network_vpc_cidr": "10.10.0.0/16",
        "azs": ["eu-north-1a", "eu-north-1b"],
        "name": "megapool-local",
        "tags": _TAGS,
    }
    everything = _template(
        "{{ network_vpc_cidr | megapool.aws.subnet_plan(azs) | megapool.aws.subnets_to_converge([], name, tags) }}",
        **variables,
    )
    assert [item["drift"] for item in everything] == [["missing"]] * 4
    found = [_info_subnet(spec, "subnet-%d" % index) for index, spec in enumerate(everything)]
    found[3]["tags"]["Name"] = "changed by hand"
    drifted = _template(
        "{{ network_vpc_cidr | megapool.aws.subnet_plan(azs) | megapool.aws.subnets_to_converge(found, name, tags) }}",
        found=found,
        **variables,
    )
    assert [(item["cidr"], item["map_public"], item["drift"]) for item in drifted] == [
        ("10.10.192.0/18", True, ["tags"])
    ]
    results = [{"item": drifted[0], "changed": True, "subnet": {"id": "subnet-3"}}]
    built = _template(
        "{{ network_vpc_cidr | megapool.aws.subnet_plan(azs) | megapool.aws.converged_subnets(found, results) }}",
        found=found,
        results=results,
        **variables,
    )
    assert [row["id"] for row in built] == ["subnet-0", "subnet-1", "subnet-2", "subnet-3"]


def test_route_table_filters_in_templates():
    built = [{"tier": "private", "az": "a", "id": "subnet-1"}, {"tier": "public", "az": "a", "id": "subnet-2"}]
    tables = _template(
        "{{ built | megapool.aws.route_table_plan('n', 'igw-1', 'single', {'subnet-2': 'nat-1'}) }}", built=built
    )
    found = [
        {
            "id": "rtb-%d" % index,
            "associations": [{"main": False, "subnet_id": subnet_id} for subnet_id in table["subnets"]],
            "routes": [{"destination_cidr_block": "0.0.0.0/0", "gateway_id": "igw-1", "nat_gateway_id": None}],
            "tags": dict(_TAGS, Name=table["name"], **{"megapool:role": table["role"]}),
        }
        for index, table in enumerate(tables)
    ]
    converge = _template(
        "{{ tables | megapool.aws.route_tables_to_converge(found, tags) }}", tables=tables, found=found, tags=_TAGS
    )
    # the private table's default route goes to the internet gateway instead of the NAT gateway
    assert [(table["name"], table["id"], table["drift"]) for table in converge] == [
        ("n-private-a", "rtb-1", ["route 0.0.0.0/0"])
    ]
    results = [{"item": converge[0], "changed": True, "route_table": {"id": "rtb-1"}}]
    assert _template(
        "{{ tables | megapool.aws.converged_route_table_ids(found, results) }}",
        tables=tables,
        found=found,
        results=results,
    ) == ["rtb-0", "rtb-1"]


def test_network_errors_refuses_nat_none_with_ecs_hosts(filters, no_network):
    (error,) = filters["network_errors"]("eu-north-1", "10.0.0.0/16", 2, [], False, None, "none", True)
    assert error.startswith("network_nat_mode=none")
    assert filters["network_errors"]("eu-north-1", "10.0.0.0/16", 2, [], False, None, "none", False) == []


# What megapool.aws.ec2_instance_type_info returns, for a us-east-1 account that maps use1-az3 to us-east-1a.
TYPE_INFO = {
    "instance_types": [
        {
            "instance_type": "t3.micro",
            "availability_zone_ids": ["use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6"],
        },
        {
            "instance_type": "t3.small",
            "availability_zone_ids": ["use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6"],
        },
    ],
    "missing": [],
    "availability_zones": [
        {"zone_name": "us-east-1a", "zone_id": "use1-az3", "lacks": ["t3.micro", "t3.small"]},
        {"zone_name": "us-east-1b", "zone_id": "use1-az6", "lacks": []},
        {"zone_name": "us-east-1c", "zone_id": "use1-az1", "lacks": []},
        {"zone_name": "us-east-1d", "zone_id": "use1-az2", "lacks": []},
    ],
}


def test_network_azs_from_the_module_result(filters):
    choice = filters["network_azs"](TYPE_INFO, 2, "x", "us-east-1")
    assert choice["azs"] == ["us-east-1b", "us-east-1c"] and choice["errors"] == []


def test_network_azs_keeps_existing_subnets(filters):
    existing = [{"cidr_block": "10.42.128.0/18", "availability_zone": "us-east-1a"}]  # public slot 0
    choice = filters["network_azs"](TYPE_INFO, 2, "x", "us-east-1", existing, "10.42.0.0/16")
    assert choice["azs"] == ["us-east-1a", "us-east-1b"]
    assert choice["kept_unqualified"] == ["us-east-1a (use1-az3) lacks t3.micro, t3.small"]


def test_network_azs_a_missing_type_counts_as_wanted(filters):
    info = dict(TYPE_INFO, missing=["t3a.small"])
    (error,) = filters["network_azs"](info, 2, "ecs_hosts_instance_types=t3.small, t3a.small", "eu-north-1")["errors"]
    assert (
        "only 0 availability zones of eu-north-1" in error and "ecs_hosts_instance_types=t3.small, t3a.small" in error
    )


def test_network_azs_leaves_another_roles_missing_type_to_that_role(filters):
    # t9.nope is an ECS host type the region does not offer at all: ecs_hosts' validation names it and its variable,
    # so the network's zone check (which reports only the bastion's type) does not turn it into a zone error.
    info = dict(TYPE_INFO, missing=["t9.nope"])
    choice = filters["network_azs"](info, 2, "x", "us-east-1", report_missing=["t3.micro"])
    assert choice["errors"] == [] and choice["azs"] == ["us-east-1b", "us-east-1c"]


def test_network_azs_reports_its_own_missing_type(filters):
    info = dict(TYPE_INFO, missing=["t9.bastion"])
    (error,) = filters["network_azs"](
        info, 2, "network_bastion_instance_type=t9.bastion", "us-east-1", report_missing=["t9.bastion"]
    )["errors"]
    assert "network_bastion_instance_type=t9.bastion" in error
