# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/clustering.py: namespaces per region, DNS_CLUSTER_QUERY, Erlang distribution settings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.filter.clustering import FilterModule
from ansible_collections.megapool.aws.plugins.module_utils import clustering

REGIONS = ["eu-north-1", "ap-southeast-1", "us-east-1", "eu-west-1", "sa-east-1"]


@pytest.mark.parametrize(
    "region, name, expected",
    [
        pytest.param("eu-north-1", None, "eu-north-1.megapool.prod.internal", id="default"),
        pytest.param("eu-north-1", "", "eu-north-1.megapool.prod.internal", id="empty-is-default"),
        pytest.param("eu-north-1", "Shop.Example.Internal.", "eu-north-1.shop.example.internal", id="given-normalized"),
    ],
)
def test_discovery_namespace(region, name, expected):
    assert clustering.discovery_namespace(region, "megapool", "prod", name) == expected


def test_namespace_errors_refuse_one_name_for_two_regions_naming_the_fix():
    [error] = clustering.namespace_errors(
        {"us-east-1": "shop.internal", "eu-north-1": "shop.internal", "eu-west-1": "b.internal"}
    )
    assert error.startswith(
        "dns_discovery_namespace: the regions eu-north-1, us-east-1 all use the Cloud Map namespace shop.internal"
    )
    assert "ConflictingDomainExists" in error and "do not repeat the region" in error


@pytest.mark.parametrize("bad", ["not a name", "-a.internal", "single", "a..b", "x" * 64 + ".internal"])
def test_namespace_errors_refuse_what_is_not_a_dns_name(bad):
    [error] = clustering.namespace_errors({"eu-north-1": bad})
    assert "is not a DNS name" in error and "(region eu-north-1)" in error


@given(
    st.lists(st.sampled_from(REGIONS), unique=True, min_size=1),
    st.sampled_from([None, "", "shop.internal", "a.b.example"]),
)
def test_one_domain_for_every_region_never_conflicts(regions, domain):
    """One dns_discovery_namespace at group level gives every region its own namespace."""
    names = {region: clustering.discovery_namespace(region, "megapool", "local", domain) for region in regions}
    assert clustering.namespace_errors(names) == []
    assert all(name.startswith(region + ".") for region, name in names.items())


def test_cluster_query_lists_every_region_in_region_order_once():
    entries = [
        {"region": "us-east-1", "service": "megapool", "namespace": "us-east-1.megapool.prod.internal"},
        {"region": "eu-north-1", "service": "megapool", "namespace": "eu-north-1.megapool.prod.internal."},
        {
            "region": "ap-southeast-1",
            "service": "",
            "namespace": "ap-southeast-1.megapool.prod.internal",
        },  # no discovery
        {"region": "eu-north-1", "service": "Megapool", "namespace": "eu-north-1.megapool.prod.internal"},  # twice
    ]
    assert (
        clustering.cluster_query(entries)
        == "megapool.eu-north-1.megapool.prod.internal,megapool.us-east-1.megapool.prod.internal"
    )
    assert clustering.cluster_query([]) == ""


@given(st.permutations(REGIONS))
def test_cluster_query_does_not_depend_on_the_order_of_the_regions(regions):
    entries = [
        {"region": region, "service": "app", "namespace": clustering.discovery_namespace(region, "c", "e")}
        for region in regions
    ]
    query = clustering.cluster_query(entries)
    assert query == clustering.cluster_query(sorted(entries, key=lambda entry: entry["region"]))
    assert len(query.split(",")) == len(regions)


@pytest.mark.parametrize(
    "mode, low, high, port, aflags, ports",
    [
        pytest.param(
            "epmd",
            9100,
            9155,
            None,
            "-kernel inet_dist_listen_min 9100 inet_dist_listen_max 9155",
            ["9100-9155", "4369"],
            id="epmd",
        ),
        pytest.param(
            "epmd",
            "9100",
            "9100",
            9999,
            "-kernel inet_dist_listen_min 9100 inet_dist_listen_max 9100",
            ["9100-9100", "4369"],
            id="epmd-ignores-port",
        ),
        pytest.param(
            "epmdless", 9100, 9155, None, "-start_epmd false -erl_epmd_port 9100", ["9100"], id="epmdless-default-port"
        ),
        pytest.param(
            "epmdless", 9100, 9155, "9120", "-start_epmd false -erl_epmd_port 9120", ["9120"], id="epmdless-port"
        ),
    ],
)
def test_distribution(mode, low, high, port, aflags, ports):
    result = clustering.distribution(mode, low, high, port)
    assert result["errors"] == []
    assert result["erl_aflags"] == aflags and result["ports"] == ports
    assert "4369" not in result["ports"] or mode == "epmd"


@pytest.mark.parametrize(
    "mode, low, high, port, message",
    [
        pytest.param("epmd_less", 9100, 9155, None, "release_distribution='epmd_less': choose epmd", id="mode"),
        pytest.param(
            "epmd",
            9155,
            9100,
            None,
            "release_erlang_dist_port_min/max=9155/9100: the range must lie within",
            id="reversed",
        ),
        pytest.param("epmd", 80, 90, None, "the range must lie within 1024-65535", id="low"),
        pytest.param("epmd", 4000, 5000, None, "includes epmd's port 4369", id="around-epmd"),
        pytest.param("epmdless", 9100, 9155, 4369, "release_erlang_dist_port=4369: one port", id="epmd-port"),
        pytest.param("epmdless", 9100, 9155, 70000, "release_erlang_dist_port=70000: one port", id="too-high"),
        pytest.param(
            "epmdless",
            9100,
            9155,
            9200,
            "release_erlang_dist_port=9200 is outside the distribution range 9100-9155",
            id="outside",
        ),
    ],
)
def test_distribution_errors_name_the_variable_and_the_fix(mode, low, high, port, message):
    result = clustering.distribution(mode, low, high, port)
    assert any(message in error for error in result["errors"]), result["errors"]
    assert result["erl_aflags"] == "" and result["ports"] == []


@given(st.integers(1024, 65535), st.integers(0, 200), st.sampled_from(clustering.DISTRIBUTIONS))
def test_the_ports_opened_are_the_ports_the_nodes_use(low, width, mode):
    high = min(low + width, 65535)
    result = clustering.distribution(mode, low, high)
    if low <= clustering.EPMD_PORT <= high:
        assert result["errors"]
        return
    first, last = result["listen_ports"]
    opened = result["ports"][0].split("-")
    assert (int(opened[0]), int(opened[-1])) == (first, last)
    assert (str(clustering.EPMD_PORT) in result["ports"]) == (mode == "epmd")


def test_the_filters_are_the_planner():
    filters = FilterModule().filters()
    assert filters["discovery_namespace"]("eu-north-1", "megapool", "local") == "eu-north-1.megapool.local.internal"
    assert filters["cluster_dns_query"]([{"region": "r", "service": "s", "namespace": "n.internal"}]) == "s.n.internal"
    assert (
        filters["erlang_distribution"]("epmdless", 9100, 9155)["erl_aflags"] == "-start_epmd false -erl_epmd_port 9100"
    )
    assert filters["discovery_namespace_errors"]({"a": "x.internal", "b": "x.internal"})


def test_peer_vpcs_from_the_loop_results():
    results = [
        {"item": "us-east-1", "vpcs": [{"id": "vpc-0b"}]},
        {"item": "ap-southeast-1", "vpcs": []},  # not built yet
        {"item": "eu-west-1", "vpcs": [{"id": "vpc-0c"}, {"id": "vpc-0a"}]},
        {"item": "us-east-1", "vpcs": [{"id": "vpc-0b"}]},  # twice
        {"item": "sa-east-1", "skipped": True},
    ]
    assert clustering.peer_vpcs(results) == [
        {"vpc_id": "vpc-0a", "vpc_region": "eu-west-1"},
        {"vpc_id": "vpc-0c", "vpc_region": "eu-west-1"},
        {"vpc_id": "vpc-0b", "vpc_region": "us-east-1"},
    ]
    assert FilterModule().filters()["discovery_peer_vpcs"](results) == clustering.peer_vpcs(results)


def test_the_namespace_filter_takes_region_and_name_pairs():
    namespace = FilterModule().filters()["discovery_namespace"]
    assert namespace(["eu-north-1", ""], "megapool", "local") == "eu-north-1.megapool.local.internal"
    assert namespace(["eu-north-1", "North.internal"], "megapool", "local") == "eu-north-1.north.internal"
