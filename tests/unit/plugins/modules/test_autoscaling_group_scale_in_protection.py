# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.autoscaling_group_scale_in_protection against moto in-process."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ansible_collections.megapool.aws.plugins.modules import autoscaling_group_scale_in_protection as module_under_test

REGION = "eu-north-1"


@pytest.fixture
def group(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone=REGION + "a")["Subnet"]["SubnetId"]
        ec2.create_launch_template(LaunchTemplateName="hosts-lt", LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"})
        asg = boto3.client("autoscaling", region_name=REGION)
        asg.create_auto_scaling_group(
            AutoScalingGroupName="hosts", MinSize=2, MaxSize=4, DesiredCapacity=2,
            LaunchTemplate={"LaunchTemplateName": "hosts-lt"}, VPCZoneIdentifier=subnet,
        )
        yield asg


def _state(asg):
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["hosts"])["AutoScalingGroups"][0]
    return group["NewInstancesProtectedFromScaleIn"], sorted(i["ProtectedFromScaleIn"] for i in group["Instances"])


def _run(run_module, check_mode=False, **args):
    return run_module(module_under_test.main, dict({"name": "hosts", "region": REGION}, **args), check_mode=check_mode, diff=True)


def test_protects_group_and_existing_instances_idempotently(group, run_module):
    assert _state(group) == (False, [False, False])
    first = _run(run_module)
    assert first["changed"] and len(first["instances_changed"]) == 2
    assert first["diff"]["before"]["new_instances_protected_from_scale_in"] is False
    assert _state(group) == (True, [True, True])
    again = _run(run_module)
    assert not again["changed"] and again["instances_changed"] == []


def test_check_mode_reports_and_changes_nothing(group, run_module, aws_calls):
    result = _run(run_module, check_mode=True)
    assert result["changed"] and len(result["instances_changed"]) == 2
    assert _state(group) == (False, [False, False])
    assert aws_calls.writes() == []


def test_group_only_leaves_instances_alone(group, run_module):
    result = _run(run_module, protect_existing_instances=False)
    assert result["changed"] and result["instances_changed"] == []
    assert _state(group) == (True, [False, False])


def test_unprotect(group, run_module):
    _run(run_module)
    result = _run(run_module, protect_new_instances=False)
    assert result["changed"]
    assert _state(group) == (False, [False, False])


def test_missing_group_is_a_clear_error(group, run_module):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, {"name": "nope", "region": REGION})
    assert result["failed"] and "nope does not exist" in result["msg"]
