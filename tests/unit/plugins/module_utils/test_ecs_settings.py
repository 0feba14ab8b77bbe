# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure planners of plugins/module_utils/ecs_settings.py (no AWS)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import ClusterSettingsPlan
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import GroupSettingsPlan
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import SettingsError
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import asg_differences
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import cluster_view
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import group_settings_view
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import instance_type_errors
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import match_instance_types
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import plan_cluster_settings
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import plan_group_settings
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import predict_cluster
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import predict_group_settings
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import settings_not_applied

# ------------------------------------------------------------------------------------------ instance types


def test_instance_type_names():
    assert instance_type_errors(["t3.small", "m7g.xlarge", "u-6tb1.metal"]) == []
    assert len(instance_type_errors(["t3.*", "T3.small", "t3"])) == 3
    assert instance_type_errors([]) == [
        "instance_types is empty: give one or more instance type names, e.g. [t3.small, t3a.small]."
    ]


def test_match_instance_types_keeps_request_order_and_reports_missing():
    described = [
        {
            "InstanceType": "t3a.small",
            "ProcessorInfo": {"SupportedArchitectures": ["x86_64"]},
            "MemoryInfo": {"SizeInMiB": 2048},
            "VCpuInfo": {"DefaultVCpus": 2},
        },
        {
            "InstanceType": "t4g.small",
            "ProcessorInfo": {"SupportedArchitectures": ["arm64"]},
            "MemoryInfo": {"SizeInMiB": 2048},
            "VCpuInfo": {"DefaultVCpus": 2, "DefaultCores": 2},
            "SupportedUsageClasses": ["spot", "on-demand"],
        },
    ]
    found, missing = match_instance_types(["t4g.small", "nope.large", "t3a.small", "t4g.small"], described)
    assert [item["instance_type"] for item in found] == ["t4g.small", "t3a.small"]
    assert found[0]["supported_usage_classes"] == ["on-demand", "spot"] and found[0]["default_cores"] == 2
    assert missing == ["nope.large"]


# ------------------------------------------------------------------------------------------ group settings

GROUP = {
    "AutoScalingGroupName": "hosts",
    "CapacityRebalance": False,
    "NewInstancesProtectedFromScaleIn": True,
    "Instances": [
        {"InstanceId": "i-2", "ProtectedFromScaleIn": True, "LifecycleState": "InService"},
        {"InstanceId": "i-1", "ProtectedFromScaleIn": False, "LifecycleState": "InService"},
        {"InstanceId": "i-3", "ProtectedFromScaleIn": False, "LifecycleState": "Terminating:Wait"},
    ],
}


@pytest.mark.parametrize(
    "wanted, update, instances",
    [
        (dict(), {}, ()),
        (dict(capacity_rebalance=False, new_instances_protected_from_scale_in=True), {}, ()),
        (dict(capacity_rebalance=True), {"CapacityRebalance": True}, ()),
        (dict(new_instances_protected_from_scale_in=False), {"NewInstancesProtectedFromScaleIn": False}, ()),
        (dict(instances_protected_from_scale_in=True), {}, ("i-1",)),  # i-3 is leaving: left alone
        (dict(instances_protected_from_scale_in=False), {}, ("i-2",)),
    ],
)
def test_plan_group_settings(wanted, update, instances):
    plan = plan_group_settings(GROUP, **wanted)
    assert plan.update == update
    assert plan.instances == instances
    assert plan.changed is bool(update or instances)


def test_predict_and_not_applied():
    view = group_settings_view(GROUP)
    assert view["instances_protected_from_scale_in"] == {"i-1": False, "i-2": True}
    plan = plan_group_settings(GROUP, capacity_rebalance=True, instances_protected_from_scale_in=True)
    after = predict_group_settings(view, plan)
    assert after["capacity_rebalance"] is True and after["instances_protected_from_scale_in"] == {
        "i-1": True,
        "i-2": True,
    }
    assert view["capacity_rebalance"] is False  # not changed in place
    assert settings_not_applied(after, plan) == []
    assert settings_not_applied(view, plan) == ["CapacityRebalance=True", "ProtectedFromScaleIn=True on i-1"]
    assert not GroupSettingsPlan().changed


# ------------------------------------------------------------------------------------------ cluster settings


def test_cluster_settings_plan_and_prediction():
    view = cluster_view(
        {
            "clusterName": "c",
            "clusterArn": "arn:c",
            "status": "ACTIVE",
            "settings": [],
            "tags": [{"key": "a", "value": "1"}, {"key": "old", "value": "x"}],
        }
    )
    assert view["container_insights"] == "disabled"  # never set: disabled
    plan = plan_cluster_settings(view, "enabled", {"a": 1, "b": "2"}, purge_tags=True)
    assert plan == ClusterSettingsPlan(
        settings=(("containerInsights", "enabled"),), tags_to_set={"b": "2"}, tags_to_unset=("old",)
    )
    assert predict_cluster(view, plan)["tags"] == {"a": "1", "b": "2"}
    assert not plan_cluster_settings(view, "disabled", {"a": "1", "old": "x"}).changed
    assert not plan_cluster_settings(view, None, None).changed
    assert plan_cluster_settings(view, None, {"b": "2"}, purge_tags=False).tags_to_unset == ()
    assert cluster_view(None) == {}


# ------------------------------------------------------------------------------------------ asg_differences

# An item of amazon.aws.autoscaling_group_info's results (snake_case), as the role's group looks after a converge.
INFO = {
    "auto_scaling_group_name": "megapool-local-app",
    "min_size": 1,
    "max_size": 4,
    "desired_capacity": 2,
    "health_check_type": "EC2",
    "health_check_grace_period": 300,
    "default_cooldown": 300,
    "termination_policies": ["Default"],
    "vpc_zone_identifier": "subnet-b,subnet-a",
    "mixed_instances_policy": {
        "launch_template": {
            "launch_template_specification": {
                "launch_template_id": "lt-1",
                "launch_template_name": "megapool-local-app",
                "version": "1",
            },
            "overrides": [{"instance_type": "t3.small"}, {"instance_type": "t3a.small"}],
        },
        "instances_distribution": {
            "on_demand_allocation_strategy": "prioritized",
            "on_demand_base_capacity": 1,
            "on_demand_percentage_above_base_capacity": 0,
            "spot_allocation_strategy": "price-capacity-optimized",
            "spot_instance_pools": 2,
        },
    },
    "enabled_metrics": [{"metric": "GroupMinSize", "granularity": "1Minute"}],
    "tags": [
        {"key": "megapool:role", "value": "app", "propagate_at_launch": True},
        {"key": "Name", "value": "megapool-local-app", "propagate_at_launch": True},
    ],
    "instances": [
        {"instance_id": "i-1", "lifecycle_state": "InService"},
        {"instance_id": "i-2", "lifecycle_state": "InService"},
    ],
}
# What the role asks for (values as templating may give them: numbers as strings).
WANTED = {
    "min_size": "1",
    "max_size": 4,
    "desired_capacity": 2,
    "health_check_type": "EC2",
    "health_check_period": 300,
    "default_cooldown": 300,
    "termination_policies": ["Default"],
    "vpc_zone_identifier": ["subnet-a", "subnet-b"],
    "launch_template_name": "megapool-local-app",
    "launch_template_version": 1,
    "instance_types": ["t3.small", "t3a.small"],
    "instances_distribution": {
        "on_demand_allocation_strategy": "prioritized",
        "on_demand_base_capacity": "1",
        "on_demand_percentage_above_base_capacity": 0,
        "spot_allocation_strategy": "price-capacity-optimized",
    },
    "metrics_collection": True,
    "tags": {"Name": "megapool-local-app", "megapool:role": "app"},
    "propagate_at_launch": True,
    "in_service": True,
}


def test_a_converged_group_has_no_difference():
    assert asg_differences(INFO, WANTED) == []


def test_a_missing_group():
    assert asg_differences(None, WANTED) == ["group - missing"]
    assert asg_differences({}, WANTED) == ["group - missing"]


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"max_size": 5}, "max_size: 4 -> 5"),
        ({"desired_capacity": 3, "in_service": False}, "desired_capacity: 2 -> 3"),
        (
            {"vpc_zone_identifier": ["subnet-a", "subnet-c"]},
            "vpc_zone_identifier: subnet-a,subnet-b -> subnet-a,subnet-c",
        ),
        ({"launch_template_version": "2"}, "launch_template_version: 1 -> 2"),
        ({"launch_template_name": "other"}, "launch_template_name: megapool-local-app -> other"),
        (
            {"instance_types": ["t3a.small", "t3.small"]},
            "instance_types: ['t3.small', 't3a.small'] -> ['t3a.small', 't3.small']",
        ),
        (
            {"instances_distribution": {"on_demand_percentage_above_base_capacity": 50}},
            "instances_distribution.on_demand_percentage_above_base_capacity: 0 -> 50",
        ),
        ({"metrics_collection": False}, "metrics_collection: True -> False"),
        (
            {"tags": {"Name": "megapool-local-app"}},
            "tags: {'megapool:role': 'app', 'Name': 'megapool-local-app'} -> {'Name': 'megapool-local-app'}",
        ),
        ({"propagate_at_launch": False}, "propagate_at_launch: True -> False on Name, megapool:role"),
        ({"termination_policies": ["OldestInstance"]}, "termination_policies: ['Default'] -> ['OldestInstance']"),
        ({"health_check_period": 60}, "health_check_period: 300 -> 60"),
    ],
)
def test_each_difference_is_named(change, expected):
    assert asg_differences(INFO, dict(WANTED, **change)) == [expected]


def test_a_group_short_of_instances_must_run_the_module_again():
    info = copy.deepcopy(INFO)
    info["instances"][1]["lifecycle_state"] = "Pending"
    assert asg_differences(info, WANTED) == ["instances in service: 1 of 2"]
    assert asg_differences(info, dict(WANTED, in_service=False)) == []


def test_the_policy_dropped_by_an_endpoint_is_a_difference():
    info = copy.deepcopy(INFO)
    del info["mixed_instances_policy"]
    info["launch_template"] = {
        "launch_template_id": "lt-1",
        "launch_template_name": "megapool-local-app",
        "version": "1",
    }
    differences = asg_differences(info, WANTED)
    assert differences[0] == "instance_types: [] -> ['t3.small', 't3a.small']"
    assert len(differences) == 5  # the types and each of the 4 distribution settings


def test_none_and_absent_keys_are_not_compared():
    assert asg_differences(INFO, {"launch_template_version": None, "vpc_zone_identifier": None}) == []
    assert asg_differences(INFO, {}) == []


def test_unknown_keys_are_refused():
    with pytest.raises(SettingsError, match="unknown keys min_sise"):
        asg_differences(INFO, {"min_sise": 1})
