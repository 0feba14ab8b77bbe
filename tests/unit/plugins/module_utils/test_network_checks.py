# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network role's input planner: names, list shapes and the port range on top of network_layout's checks."""

from __future__ import annotations

import pytest

from ansible_collections.megapool.aws.plugins.module_utils.network_checks import network_input_errors

KNOWN = ["eu-north-1", "us-east-1"]
DEFAULTS = {
    "megapool_cluster": "shop",
    "megapool_env": "prod",
    "network_vpc_cidr": "10.10.0.0/16",
    "network_az_count": 2,
    "network_admin_cidrs": ["192.0.2.0/24"],
    "network_allow_open_admin": False,
    "network_subnet_prefix": None,
    "network_nat_mode": "single",
    "network_erlang_dist_port_min": 9100,
    "network_erlang_dist_port_max": 9155,
    "private_hosts": True,
}

CASES = {
    "env_empty": ({"megapool_env": ""}, ["megapool_env='': give the env name as a non-empty string"]),
    "env_upper_case": ({"megapool_env": "PROD"}, ["megapool_env='PROD' is not usable in AWS names"]),
    "env_with_space": (
        {"megapool_env": "my env"},
        ["megapool_env='my env' is not usable in AWS names", "IAM refuses spaces"],
    ),
    "cluster_with_dot": ({"megapool_cluster": "shop.eu"}, ["megapool_cluster='shop.eu' is not usable"]),
    "admin_cidrs_a_string": (
        {"network_admin_cidrs": "10.0.0.0/8"},
        ["network_admin_cidrs='10.0.0.0/8' is a string, but a list is expected"],
    ),
    "admin_cidr_invalid": (
        {"network_admin_cidrs": ["10.0.0.1/8"]},
        ["network_admin_cidrs: '10.0.0.1/8' is not a valid CIDR"],
    ),
    "az_count_not_a_number": ({"network_az_count": "two"}, ["network_az_count='two' is not a whole number"]),
    "one_az": ({"network_az_count": 1}, ["network_az_count=1"]),
    "unknown_region": ({}, ["aws_region='eu-nowhere-1'"]),
    "nat_none_with_hosts": ({"network_nat_mode": "none"}, ["network_nat_mode=none"]),
    "ports_reversed": (
        {"network_erlang_dist_port_min": 9200, "network_erlang_dist_port_max": 9100},
        ["network_erlang_dist_port_min=9200 / network_erlang_dist_port_max=9100: the range must lie within 1024-65535"],
    ),
    "ports_privileged": ({"network_erlang_dist_port_min": 80}, ["network_erlang_dist_port_min=80"]),
}


def test_valid_inputs():
    assert network_input_errors(DEFAULTS, "eu-north-1", KNOWN) == []
    assert network_input_errors(dict(DEFAULTS, network_az_count="3"), "eu-north-1", KNOWN) == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_message(case):
    overrides, texts = CASES[case]
    region = "eu-nowhere-1" if case == "unknown_region" else "eu-north-1"
    errors = network_input_errors(dict(DEFAULTS, **overrides), region, KNOWN)
    assert len(errors) == 1, errors
    for text in texts:
        assert text in errors[0], errors[0]


def test_a_string_of_cidrs_is_not_checked_letter_by_letter():
    errors = network_input_errors(dict(DEFAULTS, network_admin_cidrs="10.0.0.0/8"), "eu-north-1", KNOWN)
    assert not any("'1' is not a valid CIDR" in error for error in errors)
