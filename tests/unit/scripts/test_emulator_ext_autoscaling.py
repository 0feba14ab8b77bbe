# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/autoscaling.py: moto's UpdateAutoScalingGroup, patched, keeps what the request leaves out.

The first tests pin down plain moto's behaviour (the reason for the patch: if moto changes, they say so); the others
apply the patch and show AWS's behaviour. The patch is removed after each test: other unit tests use plain moto.
"""

from __future__ import annotations

import pytest
from moto import mock_aws

from emulator_ext import autoscaling as ext

REGION = "eu-north-1"
GROUP = "hosts"


@pytest.fixture
def autoscaling(aws_env, mixed_group):  # pylint: disable=unused-argument
    """A mixed on-demand/spot group of 2 instances, capacity rebalance off."""
    with mock_aws():
        yield mixed_group(
            REGION, GROUP, distribution={"OnDemandBaseCapacity": 1, "OnDemandPercentageAboveBaseCapacity": 0}
        )


def _group(client) -> dict:
    return client.describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])["AutoScalingGroups"][0]


def _types(group: dict) -> list[str]:
    return [item["InstanceType"] for item in group["MixedInstancesPolicy"]["LaunchTemplate"]["Overrides"]]


# ------------------------------------------------------------------------------------------ plain moto


def test_plain_moto_ignores_capacity_rebalance_and_drops_the_policy(autoscaling):
    assert not ext.applied()
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=GROUP, CapacityRebalance=True)
    group = _group(autoscaling)
    assert not group.get("CapacityRebalance")
    assert "MixedInstancesPolicy" not in group


# ------------------------------------------------------------------------------------------ patched


def test_capacity_rebalance_is_honoured_both_ways(autoscaling, patched):  # pylint: disable=unused-argument
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=GROUP, CapacityRebalance=True)
    assert _group(autoscaling)["CapacityRebalance"] is True
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=GROUP, MaxSize=5)  # not in the request: unchanged
    assert _group(autoscaling)["CapacityRebalance"] is True
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=GROUP, CapacityRebalance=False)
    assert _group(autoscaling)["CapacityRebalance"] is False


def test_an_update_without_a_policy_keeps_the_group_s_policy(autoscaling, patched):  # pylint: disable=unused-argument
    before = _group(autoscaling)["MixedInstancesPolicy"]
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=GROUP, NewInstancesProtectedFromScaleIn=True)
    group = _group(autoscaling)
    assert group["NewInstancesProtectedFromScaleIn"] is True
    assert group["MixedInstancesPolicy"] == before
    assert _types(group) == ["t3.small", "t3a.small"]


def test_growing_the_group_still_launches_from_the_policy(autoscaling, patched):  # pylint: disable=unused-argument
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=GROUP, DesiredCapacity=4)
    group = _group(autoscaling)
    assert len(group["Instances"]) == 4
    assert {item["InstanceType"] for item in group["Instances"]} <= {"t3.small", "t3a.small"}
    assert _types(group) == ["t3.small", "t3a.small"]


def test_a_new_policy_in_the_request_replaces_the_old_one(autoscaling, patched):  # pylint: disable=unused-argument
    template = _group(autoscaling)["MixedInstancesPolicy"]["LaunchTemplate"]["LaunchTemplateSpecification"][
        "LaunchTemplateId"
    ]
    autoscaling.update_auto_scaling_group(
        AutoScalingGroupName=GROUP,
        MixedInstancesPolicy={
            "LaunchTemplate": {
                "LaunchTemplateSpecification": {"LaunchTemplateId": template, "Version": "1"},
                "Overrides": [{"InstanceType": "t3.medium"}],
            },
        },
    )
    assert _types(_group(autoscaling)) == ["t3.medium"]


def test_errors_stay_moto_s(autoscaling, patched):  # pylint: disable=unused-argument
    with pytest.raises(autoscaling.exceptions.ClientError, match="AutoScalingGroup name not found"):
        autoscaling.update_auto_scaling_group(AutoScalingGroupName="nope", CapacityRebalance=True)


def test_apply_is_idempotent_and_restore_undoes_it():
    ext.apply()
    ext.apply()
    assert ext.applied()
    ext.restore()
    assert not ext.applied()
    from moto.autoscaling.models import FakeAutoScalingGroup  # pylint: disable=import-outside-toplevel

    assert not hasattr(FakeAutoScalingGroup.update, "_megapool_emulator_ext")


def _template_group(name: str, protected: bool = False) -> tuple:
    """A group of 2 on a launch template with IMDSv2 required, hop limit 1 and an instance profile."""
    import boto3  # pylint: disable=import-outside-toplevel

    iam = boto3.client("iam", region_name=REGION)
    profile = iam.create_instance_profile(InstanceProfileName=name + "-profile")["InstanceProfile"]["Arn"]
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.0.0/24", AvailabilityZone=REGION + "a")["Subnet"]["SubnetId"]
    ec2.create_launch_template(
        LaunchTemplateName=name,
        LaunchTemplateData={
            "ImageId": "ami-12c6146b",
            "InstanceType": "t3.small",
            "IamInstanceProfile": {"Arn": profile},
            "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 1, "HttpEndpoint": "enabled"},
        },
    )
    client = boto3.client("autoscaling", region_name=REGION)
    client.create_auto_scaling_group(
        AutoScalingGroupName=name,
        MinSize=0,
        MaxSize=4,
        DesiredCapacity=2,
        VPCZoneIdentifier=subnet,
        LaunchTemplate={"LaunchTemplateName": name, "Version": "$Latest"},
        NewInstancesProtectedFromScaleIn=protected,
    )
    ids = [
        item["InstanceId"]
        for item in client.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0][
            "Instances"
        ]
    ]
    return client, ec2, ids, profile


@pytest.mark.parametrize("apply_patch, tokens", [(False, "optional"), (True, "required")])
def test_launched_instances_carry_the_template_metadata_options_and_profile(aws_env, apply_patch, tokens):  # pylint: disable=unused-argument
    with mock_aws():
        if apply_patch:
            ext.apply()
        try:
            _client, ec2, ids, profile = _template_group("lt-group")
            instances = [i for r in ec2.describe_instances(InstanceIds=ids)["Reservations"] for i in r["Instances"]]
            assert len(instances) == 2
            assert {i["MetadataOptions"]["HttpTokens"] for i in instances} == {tokens}
            if apply_patch:
                assert {i["MetadataOptions"]["HttpPutResponseHopLimit"] for i in instances} == {1}
                assert {i["IamInstanceProfile"]["Arn"] for i in instances} == {profile}
            else:
                assert all("IamInstanceProfile" not in i for i in instances)
        finally:
            ext.restore()


@pytest.mark.parametrize("apply_patch, left", [(False, 2), (True, 0)])
def test_force_delete_terminates_protected_instances(aws_env, apply_patch, left):  # pylint: disable=unused-argument
    with mock_aws():
        if apply_patch:
            ext.apply()
        try:
            client, ec2, ids, _profile = _template_group("protected", protected=True)
            client.delete_auto_scaling_group(AutoScalingGroupName="protected", ForceDelete=True)
            running = [
                i
                for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]
                for i in r["Instances"]
                if i["State"]["Name"] in ("pending", "running")
            ]
            assert len(running) == left
        finally:
            ext.restore()


def test_disable_metrics_collection(autoscaling, patched):  # pylint: disable=unused-argument
    autoscaling.enable_metrics_collection(
        AutoScalingGroupName=GROUP,
        Granularity="1Minute",
        Metrics=["GroupMinSize", "GroupMaxSize", "GroupInServiceInstances"],
    )
    autoscaling.disable_metrics_collection(AutoScalingGroupName=GROUP, Metrics=["GroupMinSize"])
    assert sorted(m["Metric"] for m in _group(autoscaling)["EnabledMetrics"]) == [
        "GroupInServiceInstances",
        "GroupMaxSize",
    ]
    autoscaling.disable_metrics_collection(AutoScalingGroupName=GROUP)
    assert _group(autoscaling).get("EnabledMetrics", []) == []


def test_plain_moto_has_no_disable_metrics_collection(autoscaling):
    from botocore.exceptions import ClientError  # pylint: disable=import-outside-toplevel

    with pytest.raises((ClientError, NotImplementedError)):
        autoscaling.disable_metrics_collection(AutoScalingGroupName=GROUP)


@pytest.mark.parametrize("apply_patch, in_data", [(False, True), (True, False)])
def test_template_tags_stay_off_the_version_data(aws_env, apply_patch, in_data):  # pylint: disable=unused-argument
    import boto3  # pylint: disable=import-outside-toplevel

    with mock_aws():
        if apply_patch:
            ext.apply()
        try:
            ec2 = boto3.client("ec2", region_name=REGION)
            ec2.create_launch_template(
                LaunchTemplateName="tagged",
                LaunchTemplateData={
                    "ImageId": "ami-12c6146b",
                    "TagSpecifications": [{"ResourceType": "volume", "Tags": [{"Key": "role", "Value": "disk"}]}],
                },
                TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "role", "Value": "template"}]}],
            )
            data = ec2.describe_launch_template_versions(LaunchTemplateName="tagged")["LaunchTemplateVersions"][0][
                "LaunchTemplateData"
            ]
            kinds = [spec["ResourceType"] for spec in data.get("TagSpecifications", [])]
            assert ("launch-template" in kinds) is in_data
            assert "volume" in kinds
            template = ec2.describe_launch_templates(LaunchTemplateNames=["tagged"])["LaunchTemplates"][0]
            tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [template["LaunchTemplateId"]]}])[
                "Tags"
            ]
            assert {(t["Key"], t["Value"]) for t in tags} == {("role", "template")}
        finally:
            ext.restore()
