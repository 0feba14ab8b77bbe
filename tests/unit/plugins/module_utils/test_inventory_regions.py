# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Regions are hosts: region_hosts, drain_plan, drain_report."""

from __future__ import annotations

import pytest

from ansible_collections.megapool.aws.plugins.module_utils.inventory_regions import drain_plan
from ansible_collections.megapool.aws.plugins.module_utils.inventory_regions import drain_report
from ansible_collections.megapool.aws.plugins.module_utils.inventory_regions import host_region
from ansible_collections.megapool.aws.plugins.module_utils.inventory_regions import region_hosts

HOSTVARS = {
    "eu-north-1": {},
    "tokyo": {"aws_region": "ap-northeast-1"},
    "app-1": {"aws_region": "eu-north-1", "instance_id": "i-2"},
    "app-2": {"aws_region": "eu-north-1", "instance_id": "i-1"},
    "app-3": {"aws_region": "us-east-1", "instance_id": "i-3"},
}


def test_a_hosts_region_is_its_aws_region_else_its_name():
    assert host_region("tokyo", HOSTVARS) == "ap-northeast-1"
    assert host_region("eu-north-1", HOSTVARS) == "eu-north-1"


def test_region_hosts_keeps_the_order_and_refuses_two_hosts_of_one_region():
    assert region_hosts(["tokyo", "eu-north-1"], HOSTVARS) == {"ap-northeast-1": "tokyo", "eu-north-1": "eu-north-1"}
    with pytest.raises(ValueError, match="the hosts eu-north-1 and other both stand for the region eu-north-1"):
        region_hosts(["eu-north-1", "other"], dict(HOSTVARS, other={"aws_region": "eu-north-1"}))


def test_drain_plan_groups_by_region_with_the_region_host():
    plan = drain_plan(["app-3", "app-1", "app-2"], HOSTVARS, {"eu-north-1": "eu-north-1"})
    assert plan == [
        {"region": "eu-north-1", "region_host": "eu-north-1", "instance_ids": ["i-1", "i-2"]},
        {"region": "us-east-1", "region_host": "localhost", "instance_ids": ["i-3"]},
    ]


def test_drain_report():
    results = [
        {
            "item": {"region": "eu-north-1"},
            "changed": True,
            "progress": "2/2 drained",
            "instances": [{"ec2_instance_id": "i-1", "status": "DRAINING", "running_tasks_count": 0}],
        }
    ]
    assert drain_report(results, "draining") == {
        "eu-north-1": {
            "state": "draining",
            "changed": True,
            "instances": ["i-1 DRAINING (0 running tasks)"],
            "lifecycle_actions_completed": [],
            "progress": "2/2 drained",
        }
    }
