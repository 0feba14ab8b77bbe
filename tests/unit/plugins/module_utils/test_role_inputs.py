# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils.role_inputs: the environment's region hosts (one definition for every role) and the digest of a role's
inputs (validate once per converge)."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.module_utils.role_inputs import environment_hosts
from ansible_collections.megapool.aws.plugins.module_utils.role_inputs import inputs_fingerprint

GROUPS = {"all": ["eu-north-1", "ap-southeast-1", "bastion-1"], "regions": ["eu-north-1", "ap-southeast-1"]}


@pytest.mark.parametrize(
    ("groups", "megapool_regions", "play_hosts", "expected"),
    [
        # megapool_regions wins over the group and the play
        (GROUPS, ["ap-southeast-1"], ["eu-north-1"], ["ap-southeast-1"]),
        # empty or None megapool_regions: the group `regions`, in its order
        (GROUPS, [], ["eu-north-1"], ["eu-north-1", "ap-southeast-1"]),
        (GROUPS, None, ["eu-north-1"], ["eu-north-1", "ap-southeast-1"]),
        # no group `regions`: the play's hosts
        ({"all": ["a", "b"]}, [], ["b", "a"], ["b", "a"]),
        ({"all": ["a"]}, None, None, []),
        # an empty group `regions` is still the inventory's answer (no fallback to the play)
        ({"all": ["a"], "regions": []}, [], ["a"], []),
    ],
)
def test_environment_hosts(groups, megapool_regions, play_hosts, expected):
    assert environment_hosts(groups, megapool_regions, play_hosts) == expected


def test_environment_hosts_refuses_a_string():
    with pytest.raises(ValueError, match=r"megapool_regions must be a list .* write megapool_regions: \[eu-north-1\]"):
        environment_hosts(GROUPS, "eu-north-1", [])


INPUTS = {
    "network_vpc_cidr": "10.10.0.0/16",
    "network_az_count": 2,
    "network_admin_cidrs": ["10.0.0.0/8"],
    "network_tags": {"a": "1", "b": "2"},
    "aws_region": None,
}


@pytest.mark.parametrize(
    "changed",
    [
        {"network_vpc_cidr": "10.11.0.0/16"},
        {"network_az_count": 3},
        {"network_az_count": "2"},  # a string is not the number: the planner may judge it differently
        {"network_admin_cidrs": ["10.0.0.0/8", "192.168.0.0/16"]},
        {"network_admin_cidrs": []},
        {"network_tags": {"a": "1", "b": "3"}},
        {"aws_region": "eu-north-1"},
        {"network_nat_mode": "single"},  # a variable more
    ],
)
def test_any_change_of_an_input_changes_the_fingerprint(changed):
    assert inputs_fingerprint(dict(INPUTS, **changed)) != inputs_fingerprint(INPUTS)


def test_a_removed_input_changes_the_fingerprint():
    assert inputs_fingerprint({k: v for k, v in INPUTS.items() if k != "aws_region"}) != inputs_fingerprint(INPUTS)


def test_the_fingerprint_is_sha256_hex_and_ignores_mapping_order():
    digest = inputs_fingerprint(INPUTS)
    assert len(digest) == 64 and int(digest, 16) >= 0
    reordered = dict(reversed(list(INPUTS.items())))
    reordered["network_tags"] = {"b": "2", "a": "1"}
    assert inputs_fingerprint(reordered) == digest


def test_a_list_order_is_an_input():
    assert inputs_fingerprint({"x": [1, 2]}) != inputs_fingerprint({"x": [2, 1]})


def test_other_types_count_by_type_and_text():
    class Odd:
        def __str__(self):
            return "odd"

    assert inputs_fingerprint({"x": Odd()}) != inputs_fingerprint({"x": "odd"})
    assert inputs_fingerprint({"x": Odd()}) == inputs_fingerprint({"x": Odd()})


def test_the_fingerprint_takes_a_mapping_only():
    with pytest.raises(ValueError, match="takes a mapping of variable names to values, not list"):
        inputs_fingerprint(["network_vpc_cidr"])


_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@given(st.dictionaries(st.text(max_size=10), _values, max_size=6))
def test_equal_inputs_give_equal_fingerprints(inputs):
    """What validate-once relies on to skip: the same inputs, in any key order, give the same digest."""
    assert inputs_fingerprint(copy.deepcopy(inputs)) == inputs_fingerprint(dict(reversed(list(inputs.items()))))


@given(
    st.dictionaries(st.text(max_size=10), _values, max_size=6),
    st.dictionaries(st.text(max_size=10), _values, max_size=6),
)
def test_different_inputs_give_different_fingerprints(left, right):
    """What validate-once relies on to check again: inputs that differ as data (JSON) never share a digest."""
    if json.dumps(left, sort_keys=True) != json.dumps(right, sort_keys=True):
        assert inputs_fingerprint(left) != inputs_fingerprint(right)
