# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.autoscaling_group_settings against moto in-process.

Plain moto ignores CapacityRebalance on UpdateAutoScalingGroup; the tests that change it apply the emulator's own
extension (scripts/emulator_ext/autoscaling.py) to make moto behave like AWS, and remove it afterwards. One test
keeps plain moto to show the module reports an endpoint that ignores a setting.
"""

from __future__ import annotations

import pytest
from moto import mock_aws

from emulator_ext import autoscaling

from ansible_collections.megapool.aws.plugins.modules import autoscaling_group_settings as module_under_test

REGION = "eu-north-1"
GROUP = "hosts"


@pytest.fixture
def like_aws():
    """moto's UpdateAutoScalingGroup honours CapacityRebalance and keeps the mixed instances policy, as AWS does."""
    autoscaling.apply()
    yield
    autoscaling.restore()


@pytest.fixture
def group(aws_env, mixed_group):  # pylint: disable=unused-argument
    """A mixed-instances group of two instances, nothing protected, capacity rebalance off."""
    with mock_aws():
        yield mixed_group(REGION, GROUP, min_size=2)


def _state(client) -> tuple:
    found = client.describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])["AutoScalingGroups"][0]
    return (
        bool(found.get("CapacityRebalance")),
        found["NewInstancesProtectedFromScaleIn"],
        sorted(i["ProtectedFromScaleIn"] for i in found["Instances"]),
    )


def _run(run_module, check_mode=False, **args):
    return run_module(
        module_under_test.main, dict({"name": GROUP, "region": REGION}, **args), check_mode=check_mode, diff=True
    )


ALL_ON = dict(
    capacity_rebalance=True, new_instances_protected_from_scale_in=True, instances_protected_from_scale_in=True
)


def test_sets_what_differs_then_is_idempotent(group, run_module, aws_calls, like_aws):  # pylint: disable=unused-argument
    assert _state(group) == (False, False, [False, False])
    aws_calls.clear()

    first = _run(run_module, **ALL_ON)

    assert first["changed"] is True and len(first["instances_changed"]) == 2
    assert [call.operation for call in aws_calls.writes()] == ["UpdateAutoScalingGroup", "SetInstanceProtection"]
    assert aws_calls.of("UpdateAutoScalingGroup")[0].params == {
        "AutoScalingGroupName": GROUP,
        "CapacityRebalance": True,
        "NewInstancesProtectedFromScaleIn": True,
    }
    assert _state(group) == (True, True, [True, True])
    assert first["diff"]["before"]["capacity_rebalance"] is False
    assert first["diff"]["after"] == {
        "capacity_rebalance": True,
        "new_instances_protected_from_scale_in": True,
        "instances_protected_from_scale_in": {i: True for i in first["instances_changed"]},
    }
    assert first["auto_scaling_group"]["auto_scaling_group_arn"].endswith("autoScalingGroupName/" + GROUP)
    assert not first.get("warnings")
    # The policy survived the update (what the role relies on).
    policy = group.describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])["AutoScalingGroups"][0][
        "MixedInstancesPolicy"
    ]
    assert [o["InstanceType"] for o in policy["LaunchTemplate"]["Overrides"]] == ["t3.small", "t3a.small"]

    aws_calls.clear()
    again = _run(run_module, **ALL_ON)
    assert again["changed"] is False and again["instances_changed"] == []
    assert aws_calls.writes() == []
    assert again["diff"]["before"] == again["diff"]["after"] == first["diff"]["after"]


def test_only_the_parameter_that_differs_is_sent(group, run_module, aws_calls, like_aws):  # pylint: disable=unused-argument
    _run(run_module, capacity_rebalance=True)
    aws_calls.clear()
    result = _run(run_module, capacity_rebalance=True, new_instances_protected_from_scale_in=True)
    assert result["changed"] is True
    assert [call.params for call in aws_calls.writes()] == [
        {"AutoScalingGroupName": GROUP, "NewInstancesProtectedFromScaleIn": True}
    ]


def test_check_mode_predicts_and_writes_nothing(group, run_module, aws_calls, like_aws):  # pylint: disable=unused-argument
    checked = _run(run_module, check_mode=True, **ALL_ON)
    assert checked["changed"] is True and len(checked["instances_changed"]) == 2
    assert aws_calls.writes() == []
    assert _state(group) == (False, False, [False, False])
    applied = _run(run_module, **ALL_ON)
    assert applied["diff"] == checked["diff"]
    assert applied["auto_scaling_group"] == checked["auto_scaling_group"]


def test_unset_options_leave_settings_alone(group, run_module, aws_calls, like_aws):  # pylint: disable=unused-argument
    _run(run_module, **ALL_ON)
    aws_calls.clear()
    result = _run(run_module)
    assert result["changed"] is False and aws_calls.writes() == []
    assert result["auto_scaling_group"]["capacity_rebalance"] is True


def test_protection_off_clears_the_instances_too(group, run_module, like_aws):  # pylint: disable=unused-argument
    _run(run_module, **ALL_ON)
    result = _run(run_module, new_instances_protected_from_scale_in=False, instances_protected_from_scale_in=False)
    assert result["changed"] is True
    assert _state(group) == (True, False, [False, False])
    assert (
        _run(run_module, new_instances_protected_from_scale_in=False, instances_protected_from_scale_in=False)[
            "changed"
        ]
        is False
    )


def test_new_instances_only_leaves_existing_ones_alone(group, run_module, like_aws):  # pylint: disable=unused-argument
    result = _run(run_module, new_instances_protected_from_scale_in=True)
    assert result["changed"] is True and result["instances_changed"] == []
    assert _state(group) == (False, True, [False, False])


def test_an_endpoint_that_ignores_a_setting_is_reported(group, run_module):  # pylint: disable=unused-argument
    # Plain moto: UpdateAutoScalingGroup ignores CapacityRebalance. The module says so instead of hiding it.
    result = _run(run_module, capacity_rebalance=True)
    assert result["changed"] is True
    assert any("CapacityRebalance=True" in warning and GROUP in warning for warning in result["warnings"]), result
    assert result["auto_scaling_group"]["capacity_rebalance"] is False  # what the read-back shows


def test_missing_group_is_a_clear_error(group, run_module, aws_calls):  # pylint: disable=unused-argument
    aws_calls.clear()
    result = run_module(module_under_test.main, {"name": "nope", "region": REGION, "capacity_rebalance": True})
    assert result["failed"] is True
    assert "Auto Scaling group nope does not exist in eu-north-1: create it first" in result["msg"]
    assert aws_calls.writes() == []
