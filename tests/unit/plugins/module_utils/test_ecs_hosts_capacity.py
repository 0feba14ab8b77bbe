# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The capacity planner of playbooks/capacity.yml: sizes, the services' minimum, AZ-balanced removal."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.module_utils.ecs_hosts_capacity import capacity_plan
from ansible_collections.megapool.aws.plugins.module_utils.ecs_hosts_capacity import removal_order


def _instances(counts: dict[str, int]) -> list[dict]:
    return [
        {"instance_id": "i-%s%02d" % (zone[-1], index), "availability_zone": zone, "lifecycle_state": "InService"}
        for zone, count in counts.items()
        for index in range(count)
    ]


def _group(counts, desired=None, low=0, high=10):
    instances = _instances(counts)
    return {
        "min_size": low,
        "max_size": high,
        "desired_capacity": len(instances) if desired is None else desired,
        "instances": instances,
    }


def test_removal_takes_from_the_fullest_zone_first_and_the_last_id_there():
    order = removal_order(_instances({"eu-north-1a": 3, "eu-north-1b": 1, "eu-north-1c": 2}))
    assert order == ["i-a02", "i-a01", "i-c01", "i-a00", "i-b00", "i-c00"]


@given(st.dictionaries(st.sampled_from(["x-1a", "x-1b", "x-1c", "x-1d"]), st.integers(0, 7), min_size=1))
def test_every_prefix_leaves_the_zones_as_balanced_as_possible(counts):
    instances = _instances(counts)
    order = removal_order(instances)
    assert sorted(order) == sorted(item["instance_id"] for item in instances)
    zone_of = {item["instance_id"]: item["availability_zone"] for item in instances}
    left = Counter({zone: count for zone, count in counts.items() if count})
    for instance_id in order:
        zone = zone_of[instance_id]
        assert left[zone] == max(left.values())  # never from a zone smaller than another
        left[zone] -= 1


def test_plan_removes_down_to_desired():
    plan = capacity_plan(2, "eu-north-1", _group({"eu-north-1a": 2, "eu-north-1b": 2}), [])
    assert plan == {"errors": [], "before": 4, "add": False, "leaving": ["i-a01", "i-b01"], "services_minimum": 0}


def test_plan_adds():
    plan = capacity_plan(5, "eu-north-1", _group({"eu-north-1a": 1, "eu-north-1b": 1}), [])
    assert plan["add"] and plan["leaving"] == [] and plan["before"] == 2


def test_outside_the_group_range_names_the_variables():
    plan = capacity_plan(12, "eu-north-1", _group({"eu-north-1a": 1}), [])
    assert plan["errors"] == [
        "capacity_desired=12 is outside the size range of the group, 0..10 in eu-north-1: choose a value in that range, "
        "or change ecs_hosts_min_size / ecs_hosts_max_size and run playbooks/site.yml"
    ]
    assert plan["leaving"] == [] and not plan["add"]


def test_below_the_services_minimum_counts_only_active_services():
    services = [
        {"serviceName": "web", "desiredCount": 3, "status": "ACTIVE"},
        {"serviceName": "old", "desiredCount": 5, "status": "DRAINING"},
    ]
    plan = capacity_plan(2, "eu-north-1", _group({"eu-north-1a": 2, "eu-north-1b": 2}), services)
    assert plan["services_minimum"] == 3
    assert plan["errors"] == [
        "capacity_desired=2 is below the minimum the services need: 3 instances in eu-north-1 (one BEAM task per instance; "
        "desired counts: web=3): set capacity_desired to 3 or more, or scale the services down first"
    ]
    assert plan["leaving"] == []


def test_only_in_service_instances_are_chosen():
    group = _group({"eu-north-1a": 2})
    group["instances"][1]["lifecycle_state"] = "Pending"
    assert capacity_plan(1, "r", group, [])["leaving"] == ["i-a00"]
