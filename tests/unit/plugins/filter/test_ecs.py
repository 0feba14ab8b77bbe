# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The megapool.aws ECS filters (thin wrappers over module_utils.ecs_settings), also through a Templar."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible.template import trust_as_template

from ansible_collections.megapool.aws.plugins.filter.ecs import FilterModule

GROUP = {"min_size": 1, "max_size": 4, "desired_capacity": 2, "instances": []}


def test_filters_offered():
    assert set(FilterModule().filters()) == {"asg_differences"}


def test_asg_differences():
    asg_differences = FilterModule().filters()["asg_differences"]
    assert asg_differences(GROUP, {"min_size": 1, "max_size": "4"}) == []
    assert asg_differences(GROUP, {"max_size": 5}) == ["max_size: 4 -> 5"]
    assert asg_differences(None, {"max_size": 5}) == ["group - missing"]


@pytest.mark.parametrize("group, wanted, message", [
    (GROUP, {"max_sise": 5}, "unknown keys max_sise"),
    (GROUP, ["max_size"], "wanted must be a dict"),
    ("megapool-local-app", {}, "the input must be an item of autoscaling_group_info's results"),
])
def test_bad_arguments_are_filter_errors(group, wanted, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FilterModule().filters()["asg_differences"](group, wanted)


def test_through_a_templar_with_the_role_s_fallback_for_a_missing_group():
    templar = Templar(loader=DataLoader(), variables={"found": {"results": []}, "wanted": {"min_size": 1}})
    templar.environment.filters.update(FilterModule().filters())
    expression = trust_as_template("{{ found.results[0] | default(None) | asg_differences(wanted) }}")
    assert templar.template(expression) == ["group - missing"]
