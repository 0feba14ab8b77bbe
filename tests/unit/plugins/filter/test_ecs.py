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
    assert set(FilterModule().filters()) == {"asg_differences", "ecs_task_size", "ecs_hosts_capacity_plan"}


def test_asg_differences():
    asg_differences = FilterModule().filters()["asg_differences"]
    assert asg_differences(GROUP, {"min_size": 1, "max_size": "4"}) == []
    assert asg_differences(GROUP, {"max_size": 5}) == ["max_size: 4 -> 5"]
    assert asg_differences(None, {"max_size": 5}) == ["group - missing"]


@pytest.mark.parametrize(
    "group, wanted, message",
    [
        (GROUP, {"max_sise": 5}, "unknown keys max_sise"),
        (GROUP, ["max_size"], "wanted must be a dict"),
        ("megapool-local-app", {}, "the input must be an item of autoscaling_group_info's results"),
    ],
)
def test_bad_arguments_are_filter_errors(group, wanted, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FilterModule().filters()["asg_differences"](group, wanted)


def test_through_a_templar_with_the_role_s_fallback_for_a_missing_group():
    templar = Templar(loader=DataLoader(), variables={"found": {"results": []}, "wanted": {"min_size": 1}})
    templar.environment.filters.update(FilterModule().filters())
    expression = trust_as_template("{{ found.results[0] | default(None) | asg_differences(wanted) }}")
    assert templar.template(expression) == ["group - missing"]


def test_ecs_task_size():
    ecs_task_size = FilterModule().filters()["ecs_task_size"]
    types = [{"instance_type": "t3.small", "memory_mib": 2048, "vcpus": 2}]
    plan = ecs_task_size(types, "256", None, {"t3.small": 1900})
    assert plan["task_memory_mib"] == 1644 and plan["task_cpu_units"] == 2048 and plan["errors"] == []
    computed = ecs_task_size(types, 256, "")
    assert computed["task_memory_mib"] == computed["registered_memory_mib"]["t3.small"] > 0


@pytest.mark.parametrize(
    "types, measured, message",
    [
        ("t3.small", None, "instance_types list"),
        (
            [{"instance_type": "t3.small", "memory_mib": 2048, "vcpus": 2}],
            ["t3.small"],
            "ecs_hosts_registered_memory_mib",
        ),
        ([{"instance_type": "t3.small"}], None, "ecs_task_size: "),
    ],
)
def test_ecs_task_size_bad_input(types, measured, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FilterModule().filters()["ecs_task_size"](types, 256, None, measured)
