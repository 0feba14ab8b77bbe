# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/ec2_dependencies.py: security groups and subnets answer DependencyViolation for a while after
the instance, NAT gateway or load balancer that used them went, as on AWS.

The first test pins down plain moto (the reason for the patch); the others apply it. The patch is removed after each
test: other unit tests use plain moto.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator_ext import ec2_dependencies as ext

REGION = "eu-north-1"


@pytest.fixture
def patched(monkeypatch):
    monkeypatch.delenv(ext.LINGER_ENV, raising=False)
    ext.apply()
    yield
    ext.restore()


@pytest.fixture
def vpc(aws_env):  # pylint: disable=unused-argument
    """A VPC with a subnet, a security group and an instance in both."""
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc_id = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.9.0.0/24")["Subnet"]["SubnetId"]
        group_id = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc_id)["GroupId"]
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        instance = ec2.run_instances(
            ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet_id, SecurityGroupIds=[group_id]
        )
        yield ec2, subnet_id, group_id, instance["Instances"][0]["InstanceId"]


def _code(call, **kwargs) -> str | None:
    try:
        call(**kwargs)
    except ClientError as exc:
        return exc.response["Error"]["Code"]
    return None


def test_plain_moto_deletes_at_once_after_termination(vpc):
    ec2, subnet_id, group_id, instance_id = vpc
    assert not ext.applied()
    ec2.terminate_instances(InstanceIds=[instance_id])
    assert _code(ec2.delete_security_group, GroupId=group_id) is None
    assert _code(ec2.delete_subnet, SubnetId=subnet_id) is None


def test_deletes_are_refused_twice_after_termination_then_succeed(vpc, patched):  # pylint: disable=unused-argument
    ec2, subnet_id, group_id, instance_id = vpc
    ec2.terminate_instances(InstanceIds=[instance_id])
    assert ext.lingering() == {subnet_id: 2, group_id: 2}
    assert [_code(ec2.delete_security_group, GroupId=group_id) for _attempt in range(3)] == [
        "DependencyViolation",
        "DependencyViolation",
        None,
    ]
    with pytest.raises(ClientError, match="has dependencies and cannot be deleted"):
        ec2.delete_subnet(SubnetId=subnet_id)
    assert [_code(ec2.delete_subnet, SubnetId=subnet_id) for _attempt in range(2)] == ["DependencyViolation", None]
    assert ext.lingering() == {}


def test_nothing_is_refused_while_the_dependents_are_there_or_never_existed(vpc, patched):  # pylint: disable=unused-argument
    ec2, _subnet_id, _group_id, _instance_id = vpc
    other = ec2.create_security_group(
        GroupName="other", Description="o", VpcId=ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    )["GroupId"]
    assert _code(ec2.delete_security_group, GroupId=other) is None
    assert ext.lingering() == {}


def test_the_knob_sets_the_count_and_zero_turns_it_off(vpc, patched, monkeypatch):  # pylint: disable=unused-argument
    ec2, subnet_id, group_id, instance_id = vpc
    monkeypatch.setenv(ext.LINGER_ENV, "0")
    ec2.terminate_instances(InstanceIds=[instance_id])
    assert _code(ec2.delete_security_group, GroupId=group_id) is None
    assert _code(ec2.delete_subnet, SubnetId=subnet_id) is None


def test_nat_gateway_and_load_balancer_deletion_mark_their_subnets_and_groups(vpc, patched):  # pylint: disable=unused-argument
    ec2, subnet_id, group_id, _instance_id = vpc
    vpc_id = ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["VpcId"]
    second = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.9.1.0/24", AvailabilityZone=REGION + "b")["Subnet"][
        "SubnetId"
    ]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=second, AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    ec2.delete_nat_gateway(NatGatewayId=nat)
    assert ext.lingering() == {second: 2}
    elbv2 = boto3.client("elbv2", region_name=REGION)
    arn = elbv2.create_load_balancer(Name="lb", Subnets=[subnet_id, second], SecurityGroups=[group_id])[
        "LoadBalancers"
    ][0]["LoadBalancerArn"]
    elbv2.delete_load_balancer(LoadBalancerArn=arn)
    assert ext.lingering() == {second: 2, subnet_id: 2, group_id: 2}


def test_apply_is_idempotent_and_restore_undoes_it(patched):  # pylint: disable=unused-argument
    ext.apply()
    assert ext.applied()
    ext.restore()
    assert not ext.applied()
    ext.apply()
