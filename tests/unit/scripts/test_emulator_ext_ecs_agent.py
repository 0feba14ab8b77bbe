# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/ecs_agent.py: RegisterContainerInstance without a cluster, the ECS service-linked role, and
the AmazonECSManaged tag, as on AWS.

The first tests pin down plain moto's behaviour (the reason for the patch); the others install it with pytest's
monkeypatch (undone after each test).
"""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator_ext import ecs_agent

REGION = "eu-north-1"
GROUP = "hosts"


@pytest.fixture
def plain(aws_env, mixed_group):  # pylint: disable=unused-argument
    with mock_aws():
        mixed_group(REGION, GROUP)
        yield boto3.client("ecs", region_name=REGION)


@pytest.fixture
def patched(aws_env, mixed_group, monkeypatch):  # pylint: disable=unused-argument
    with mock_aws():
        ecs_agent.install(monkeypatch)
        mixed_group(REGION, GROUP)
        yield boto3.client("ecs", region_name=REGION)


def _group_arn() -> str:
    client = boto3.client("autoscaling", region_name=REGION)
    return client.describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])["AutoScalingGroups"][0][
        "AutoScalingGroupARN"
    ]


def _group_tags() -> dict[str, tuple[str, bool]]:
    client = boto3.client("autoscaling", region_name=REGION)
    group = client.describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])["AutoScalingGroups"][0]
    return {tag["Key"]: (tag["Value"], tag["PropagateAtLaunch"]) for tag in group.get("Tags", [])}


def _roles() -> list[str]:
    return [role["RoleName"] for role in boto3.client("iam", region_name=REGION).list_roles()["Roles"]]


def _provider(ecs):
    return ecs.create_capacity_provider(name="hosts", autoScalingGroupProvider={"autoScalingGroupArn": _group_arn()})


def test_plain_moto_creates_a_provider_without_the_role_and_tags_nothing(plain):
    _provider(plain)
    assert ecs_agent.ECS_ROLE_NAME not in _roles()
    assert ecs_agent.MANAGED_TAG not in _group_tags()


def test_register_without_cluster_is_aws_client_exception(patched):
    with pytest.raises(ClientError) as caught:
        patched.register_container_instance(
            cluster="missing", instanceIdentityDocument='{"instanceId": "i-0123456789abcdef0"}'
        )
    assert caught.value.response["Error"]["Code"] == "ClientException"
    assert caught.value.response["Error"]["Message"] == "Cluster not found."


def test_register_into_an_existing_cluster_works(patched):
    patched.create_cluster(clusterName="app")
    ec2 = boto3.client("ec2", region_name=REGION)
    instance = ec2.describe_instances()["Reservations"][0]["Instances"][0]["InstanceId"]
    document = '{"instanceId": "%s", "region": "%s"}' % (instance, REGION)
    registered = patched.register_container_instance(cluster="app", instanceIdentityDocument=document)
    assert registered["containerInstance"]["ec2InstanceId"] == instance


def test_provider_without_service_linked_role_fails_like_aws(patched):
    with pytest.raises(ClientError) as caught:
        _provider(patched)
    assert caught.value.response["Error"]["Code"] == "ClientException"
    assert "ECS Service Linked Role does not exist" in caught.value.response["Error"]["Message"]
    assert patched.describe_capacity_providers(capacityProviders=["hosts"])["capacityProviders"] == []


def test_create_cluster_creates_the_role_then_the_provider_works(patched):
    patched.create_cluster(clusterName="app")
    assert ecs_agent.ECS_ROLE_NAME in _roles()
    assert _provider(patched)["capacityProvider"]["name"] == "hosts"


def test_service_linked_role_twice_is_taken(patched):
    iam = boto3.client("iam", region_name=REGION)
    iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    with pytest.raises(ClientError) as caught:
        iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    assert caught.value.response["Error"]["Code"] == "InvalidInput"
    assert "has been taken in this account" in caught.value.response["Error"]["Message"]
    patched.create_cluster(clusterName="app")  # the role exists: CreateCluster leaves it
    assert _roles().count(ecs_agent.ECS_ROLE_NAME) == 1


def test_provider_tags_its_group_amazonecsmanaged(patched):
    patched.create_cluster(clusterName="app")
    _provider(patched)
    assert _group_tags()[ecs_agent.MANAGED_TAG] == ("", True)


def test_provider_keeps_a_managed_tag_the_group_has(patched):
    patched.create_cluster(clusterName="app")
    boto3.client("autoscaling", region_name=REGION).create_or_update_tags(
        Tags=[
            {
                "ResourceId": GROUP,
                "ResourceType": "auto-scaling-group",
                "Key": ecs_agent.MANAGED_TAG,
                "Value": "true",
                "PropagateAtLaunch": True,
            }
        ]
    )
    _provider(patched)
    assert _group_tags()[ecs_agent.MANAGED_TAG] == ("true", True)


def test_plain_moto_leaves_the_provider_lists_out(plain):
    plain.create_cluster(clusterName="app")
    assert "capacityProviders" not in plain.describe_clusters(clusters=["app"])["clusters"][0]


def test_cluster_without_providers_lists_them_empty(patched):
    patched.create_cluster(clusterName="app")
    cluster = patched.describe_clusters(clusters=["app"])["clusters"][0]
    assert cluster["capacityProviders"] == [] and cluster["defaultCapacityProviderStrategy"] == []


def _moto_methods() -> tuple:
    from moto.ecs.models import EC2ContainerServiceBackend  # pylint: disable=import-outside-toplevel
    from moto.iam.models import IAMBackend  # pylint: disable=import-outside-toplevel

    return (
        EC2ContainerServiceBackend.register_container_instance,
        EC2ContainerServiceBackend.create_cluster,
        EC2ContainerServiceBackend.create_capacity_provider,
        IAMBackend.create_service_linked_role,
    )


def test_apply_wraps_once_and_restore_gives_moto_back():
    """The emulator's apply() (patching.MethodPatches): idempotent, each wrapper around moto's method, restorable."""
    moto_methods = _moto_methods()
    assert not ecs_agent.applied()
    ecs_agent.apply()
    ecs_agent.apply()
    try:
        assert ecs_agent.applied()
        assert [method.__wrapped__ for method in _moto_methods()] == list(moto_methods)
    finally:
        ecs_agent.restore()
    assert _moto_methods() == moto_methods and not ecs_agent.applied()


def test_install_through_a_monkeypatch_is_undone_by_it(monkeypatch):
    moto_methods = _moto_methods()
    with monkeypatch.context() as scoped:
        ecs_agent.install(scoped)
        ecs_agent.install(scoped)
        assert ecs_agent.applied()
        assert [method.__wrapped__ for method in _moto_methods()] == list(moto_methods)
    assert _moto_methods() == moto_methods and not ecs_agent.applied()
