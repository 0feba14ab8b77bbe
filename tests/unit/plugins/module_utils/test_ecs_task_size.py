# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils.ecs_task_size.plan_task_size: the BEAM task fits the REGISTERED memory of every type, never twice."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.module_utils.ecs_task_size import MEMTOTAL_OBSERVATIONS
from ansible_collections.megapool.aws.plugins.module_utils.ecs_task_size import memtotal_lower_bound
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import missing_service_linked_role
from ansible_collections.megapool.aws.plugins.module_utils.ecs_task_size import plan_task_size
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import service_linked_role_taken


def _type(name: str, memory: int, vcpus: int = 2) -> dict:
    return {"instance_type": name, "memory_mib": memory, "vcpus": vcpus}


@pytest.mark.parametrize("instance_type", sorted(MEMTOTAL_OBSERVATIONS))
def test_model_stays_below_every_observed_memtotal(instance_type):
    nominal, observed, _source = MEMTOTAL_OBSERVATIONS[instance_type]
    assert memtotal_lower_bound(nominal) <= observed


def test_m6i_large_task_is_placeable_unlike_nominal_minus_384():
    """The report: m6i.large places 7820 MiB, not 7908. Nominal - 384 = 7808 was right at the edge; the plan is below."""
    plan = plan_task_size([_type("m6i.large", 8192)], reserve_mib=256)
    assert plan["errors"] == []
    assert plan["task_memory_mib"] <= 7820 - 256
    assert plan["task_memory_mib"] == memtotal_lower_bound(8192) - 256


@pytest.mark.parametrize(
    "types, reserve, task, measured, expected_task, error_words",
    [
        ([_type("t3.small", 2048), _type("t3a.small", 2048)], 256, None, None, memtotal_lower_bound(2048) - 256, []),
        # a measured MemTotal replaces the model for that type
        ([_type("t3.small", 2048)], 256, None, {"t3.small": 1900}, 1644, []),
        ([_type("m7g.large", 8192), _type("c7g.xlarge", 8192)], 256, None, None, memtotal_lower_bound(8192) - 256, []),
        # the user's task memory must fit the smallest registered figure
        ([_type("t3.small", 2048)], 256, 1700, None, 1700, ["ecs_hosts_task_memory_mib=1700", "registers at least"]),
        ([_type("t3.small", 2048)], 256, 1500, None, 1500, []),
        # a reserve that leaves nothing
        ([_type("t3.nano", 512)], 600, None, None, 0, ["ecs_hosts_memory_reserve_mib=600", "leaves no memory"]),
        # two tasks on the big type
        (
            [_type("t3.small", 2048), _type("m5.large", 8192)],
            256,
            None,
            None,
            memtotal_lower_bound(2048) - 256,
            ["m5.large", "two BEAM tasks"],
        ),
    ],
)
def test_plan_task_size(types, reserve, task, measured, expected_task, error_words):
    plan = plan_task_size(types, reserve, task, measured)
    assert plan["task_memory_mib"] == expected_task
    text = " | ".join(plan["errors"])
    for word in error_words:
        assert word in text
    assert bool(plan["errors"]) == bool(error_words)
    assert plan["task_cpu_units"] == (min(t["vcpus"] for t in types) * 1024)


def test_no_types_no_plan():
    assert plan_task_size([], 256) == dict(task_memory_mib=0, task_cpu_units=0, registered_memory_mib={}, errors=[])


@settings(max_examples=200, deadline=None)
@given(
    memories=st.lists(st.integers(min_value=512, max_value=262144), min_size=1, max_size=5),
    reserve=st.integers(min_value=0, max_value=1024),
)
def test_property_an_accepted_plan_fits_every_type_once_and_never_twice(memories, reserve):
    types = [_type("x%d.large" % index, memory) for index, memory in enumerate(memories)]
    plan = plan_task_size(types, reserve)
    if plan["errors"]:
        return
    task = plan["task_memory_mib"]
    assert task > 0
    for record in types:
        # fits the lower bound of what each type registers ...
        assert task <= memtotal_lower_bound(record["memory_mib"]) - reserve
        # ... and two never fit even the upper bound (the nominal memory)
        assert 2 * task > record["memory_mib"] - reserve


@pytest.mark.parametrize(
    "code, message, missing",
    [
        (
            "ClientException",
            "ECS Service Linked Role does not exist. Please create a Service linked role for ECS and try again.",
            True,
        ),
        ("ClientException", "The specified Auto Scaling group is already in use.", False),
        ("InvalidParameterException", "ECS Service Linked Role does not exist.", False),
        ("ClientException", None, False),
    ],
)
def test_missing_service_linked_role(code, message, missing):
    assert missing_service_linked_role(code, message) is missing


@pytest.mark.parametrize(
    "code, message, taken",
    [
        (
            "InvalidInput",
            "Service role name AWSServiceRoleForECS has been taken in this account, please try a different suffix.",
            True,
        ),
        ("InvalidInput", "Invalid service name", False),
        ("AccessDenied", "has been taken", False),
    ],
)
def test_service_linked_role_taken(code, message, taken):
    assert service_linked_role_taken(code, message) is taken
