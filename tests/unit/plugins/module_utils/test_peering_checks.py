# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The peering role's input planner: one case per message."""

from __future__ import annotations

import pytest

from ansible_collections.megapool.aws.plugins.module_utils.peering_checks import peering_input_errors

HOSTS = ["eu-north-1", "us-east-1"]
DEFAULTS = {
    "megapool_cluster": "shop",
    "megapool_env": "prod",
    "peering_regions": HOSTS,
    "peering_tags": {},
    "peering_wait_timeout": 300,
}

CASES = {
    "env_with_space": ({"megapool_env": "my env"}, ["megapool_env='my env' is not usable in AWS names"]),
    "regions_a_string": (
        {"peering_regions": "eu-north-1"},
        ["peering_regions='eu-north-1' is a string, but a list is expected"],
    ),
    "unknown_host": (
        {"peering_regions": ["eu-north-1", "eu-west-9"]},
        ["peering_regions has eu-west-9, not a host of this inventory: list region hosts (eu-north-1, us-east-1)"],
    ),
    "tags_a_list": ({"peering_tags": ["team=platform"]}, ["peering_tags=['team=platform'] is not a mapping"]),
    "timeout": ({"peering_wait_timeout": 0}, ["peering_wait_timeout=0 must be a positive number of seconds"]),
}


def test_valid_inputs():
    assert peering_input_errors(DEFAULTS, HOSTS) == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_message(case):
    overrides, texts = CASES[case]
    errors = peering_input_errors(dict(DEFAULTS, **overrides), HOSTS)
    assert len(errors) == 1, errors
    for text in texts:
        assert text in errors[0], errors[0]
