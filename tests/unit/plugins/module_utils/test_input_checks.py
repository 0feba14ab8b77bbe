# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The input checks every role shares: AWS name rules for megapool_cluster / megapool_env, derived-name limits, list
shapes, and variables a role's argument spec does not know (typos)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.module_utils.input_checks import as_int
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import derived_name_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import dict_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import list_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import name_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import number_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import spec_options
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import unknown_variable_messages
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import unknown_variables

# The AWS rules the names feed (input_checks' comment cites them): ECR repository, RDS identifier, ELB name, IAM role.
ECR = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
RDS = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
ELB = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$")
IAM = re.compile(r"^[\w+=,.@-]+$")


@pytest.mark.parametrize(
    "cluster, env, expected",
    [
        ("shop", "prod", []),
        ("megapool", "local", []),
        ("shop-eu", "prod-2", []),
        ("shop", "1", []),
        ("shop", "", ["megapool_env='': give the env name as a non-empty string, e.g. prod"]),
        ("shop", None, ["megapool_env=None: give the env name"]),
        ("shop", "Prod", ["megapool_env='Prod' is not usable in AWS names", "no spaces, upper case"]),
        ("shop", "pro d", ["megapool_env='pro d' is not usable in AWS names", "IAM refuses spaces"]),
        ("shop", "prod_1", ["megapool_env='prod_1' is not usable"]),
        ("shop", "prod-", ["megapool_env='prod-' is not usable"]),
        ("shop", "a--b", ["megapool_env='a--b' is not usable"]),
        ("1shop", "prod", ["megapool_cluster='1shop' is not usable in AWS names", "start with a letter"]),
        ("Shop", "prod", ["megapool_cluster='Shop' is not usable"]),
        ("shop", 3, ["megapool_env=3: give the env name as a non-empty string"]),
        ("shop", "a" * 64, ["megapool_env='%s' is 64 characters: a DNS label" % ("a" * 64), "Shorten megapool_env"]),
        ("internal", "prod", ["megapool_cluster='internal': load balancer names may not begin with 'internal-'"]),
    ],
)
def test_name_errors(cluster, env, expected):
    errors = name_errors(cluster, env)
    assert len(errors) == (1 if expected else 0), errors
    for text in expected:
        assert text in errors[0]


@given(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_. AZ", min_size=1, max_size=20),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_. AZ", min_size=1, max_size=20),
)
def test_accepted_names_pass_every_aws_rule_they_feed(cluster, env):
    """Property: whatever name_errors accepts makes valid ECR, RDS, ELB and IAM names."""
    if name_errors(cluster, env):
        return
    name = "%s-%s" % (cluster, env)
    assert ECR.match(name) and RDS.match(name) and ELB.match(name) and IAM.match(name + "-ecs-instance")
    assert not name.startswith("internal-")


def test_derived_name_errors_names_the_longest_overrun_and_by_how_much():
    names = {"target group name": ("a" * 20 + "-" + "b" * 10 + "-app", 32), "IAM role": ("x" * 70, 64), "ok": ("x", 5)}
    [error] = derived_name_errors(names, "a" * 20, "b" * 10)
    assert "makes the IAM role %s, 70 characters; AWS allows 64" % ("x" * 70) in error
    assert "Shorten megapool_cluster or megapool_env by 6 characters (together at most 24)" in error
    assert derived_name_errors({"ok": ("abc", 3)}, "a", "b") == []


@given(st.integers(min_value=1, max_value=40), st.integers(min_value=1, max_value=40))
def test_derived_name_fix_is_exact(cluster_length, env_length):
    """Property: shortening by the number the message gives makes the name fit, one character less does not."""
    cluster, env = "c" * cluster_length, "e" * env_length
    errors = derived_name_errors({"target group name": ("%s-%s-app" % (cluster, env), 32)}, cluster, env)
    total = cluster_length + env_length
    if total + 5 <= 32:
        assert errors == []
        return
    shorten = int(re.search(r"by (\d+) character", errors[0]).group(1))
    assert total - shorten + 5 == 32


@pytest.mark.parametrize(
    "value, expected",
    [
        (["10.0.0.0/8"], None),
        ([], None),
        (
            "10.0.0.0/8",
            "network_admin_cidrs='10.0.0.0/8' is a string, but a list is expected: write it as a YAML list, e.g. "
            "network_admin_cidrs: [203.0.113.0/24].",
        ),
        ({"a": 1}, "network_admin_cidrs={'a': 1} is not a list"),
        (None, "network_admin_cidrs=None is not a list"),
        ([{"cidr": "10.0.0.0/8"}], "network_admin_cidrs has items that are not strings ({'cidr': '10.0.0.0/8'})"),
    ],
)
def test_list_errors(value, expected):
    errors = list_errors("network_admin_cidrs", value, "[203.0.113.0/24]")
    assert errors == ([] if expected is None else errors[:1]) and (
        expected is None or errors[0].startswith(expected)
    ), errors


def test_dict_and_number_errors():
    assert dict_errors("release_secrets", {}, "{A: b}") == []
    assert dict_errors("release_secrets", "A=b", "{A: b}") == [
        "release_secrets='A=b' is not a mapping: write it as a YAML dict, e.g. release_secrets: {A: b}."
    ]
    assert number_errors({"a": 3, "b": "4", "c": "x", "d": True, "e": None}, "abcde") == [
        "c='x' is not a whole number: give a number, e.g. c: 3.",
        "d=True is not a whole number: give a number, e.g. d: 3.",
        "e=None is not a whole number: give a number, e.g. e: 3.",
    ]
    assert [as_int(v) for v in (3, "-4", " 5 ", 2.0, 2.5, "x", True)] == [3, -4, 5, 2, None, None, None]


SPEC = {
    "argument_specs": {
        "main": {"options": {"network_nat_mode": {}, "network_vpc_cidr": {}, "megapool_env": {}}},
        "teardown": {"options": {"network_teardown_delay": {}}},
    }
}


def test_spec_options_is_the_union_of_every_entry_point():
    assert spec_options(SPEC) == {"network_nat_mode", "network_vpc_cidr", "megapool_env", "network_teardown_delay"}
    assert spec_options(SPEC["argument_specs"]) == spec_options(SPEC)
    assert spec_options({}) == set()


@pytest.mark.parametrize(
    "defined, expected",
    [
        (["network_nat_mode", "network_vpc_cidr"], []),
        (["network_nat_mdoe"], [("network_nat_mdoe", "network_nat_mode")]),
        (
            ["network_vpc_cdir", "network_outputs", "dns_zone_name", "_network_private"],
            [("network_vpc_cdir", "network_vpc_cidr")],
        ),
        (["network_something_else"], [("network_something_else", None)]),
        (["network_teardown_dealy"], [("network_teardown_dealy", "network_teardown_delay")]),
    ],
)
def test_unknown_variables(defined, expected):
    known = spec_options(SPEC)
    assert unknown_variables(defined, known, "network_", allowed=["network_outputs"]) == expected


def test_unknown_variable_messages_name_the_role_the_suggestion_and_the_switch():
    [warning] = unknown_variable_messages([("network_nat_mdoe", "network_nat_mode")], "megapool.aws.network")
    assert warning == (
        "network_nat_mdoe is set but role megapool.aws.network has no such variable: did you mean network_nat_mode? "
        "(ansible-doc -t role megapool.aws.network lists them); megapool_strict_vars: true makes this an error"
    )
    [error] = unknown_variable_messages([("network_x", None)], "megapool.aws.network", strict=True)
    assert "check its spelling against the role's variables" in error and "megapool_strict_vars" not in error
