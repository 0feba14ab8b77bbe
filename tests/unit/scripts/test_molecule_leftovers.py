# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""extensions/molecule/shared/library/megapool_leftovers.py (the molecule cleanups' one read of what is left): it
names what is ours and left, by kind, and nothing else (another environment's resources, a deleted cluster)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

_PATH = Path(__file__).resolve().parents[3] / "extensions/molecule/shared/library/megapool_leftovers.py"
_SPEC = importlib.util.spec_from_file_location("megapool_leftovers", _PATH)
leftovers = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(leftovers)

REGION = "eu-north-1"
ARGS = {
    "region": REGION,
    "env": "local",
    "cluster": "megapool",
    "ecs_names": {
        "cluster": "megapool-local",
        "capacity_provider": "megapool-local",
        "instance_role": "megapool-local-ecs-instance",
    },
    "zone_name": "megapool.test.",
    "namespace_name": "eu-north-1.megapool.local.internal",
}
OURS = [{"Key": "megapool:env", "Value": "local"}, {"Key": "megapool:cluster", "Value": "megapool"}]
THEIRS = [{"Key": "megapool:env", "Value": "prod"}, {"Key": "megapool:cluster", "Value": "megapool"}]
TRUST = '{"Version": "2012-10-17", "Statement": []}'


@pytest.fixture
def aws(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        yield


def _read(run_module, *look_for: str) -> dict:
    result = run_module(leftovers.main, dict(ARGS, look_for=list(look_for)))
    assert not result.get("failed"), result
    return result


def test_nothing_left_reads_every_kind(aws, run_module):
    result = _read(run_module, "ours", "release", "database")
    assert result["left"] == {}
    assert len(result["read"]) == 19 + 6 + 7
    assert {"vpcs", "iam_roles", "hosted_zones", "health_checks", "ssm_parameters", "db_subnet_groups"} <= set(
        result["read"]
    )


def test_names_what_is_ours_and_left(aws, run_module):
    ec2 = boto3.client("ec2", region_name=REGION)
    ours = ec2.create_vpc(CidrBlock="10.9.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": OURS}])
    ec2.create_vpc(CidrBlock="10.8.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": THEIRS}])
    group = ec2.create_security_group(
        GroupName="left",
        Description="left",
        VpcId=ours["Vpc"]["VpcId"],
        TagSpecifications=[{"ResourceType": "security-group", "Tags": OURS}],
    )
    iam = boto3.client("iam", region_name=REGION)
    iam.create_role(RoleName="megapool-local-ecs-instance", AssumeRolePolicyDocument=TRUST)
    iam.create_role(RoleName="megapool-local-ecs-task", AssumeRolePolicyDocument=TRUST)
    iam.create_role(RoleName="megapool-prod-ecs-task", AssumeRolePolicyDocument=TRUST)
    route53 = boto3.client("route53", region_name=REGION)
    route53.create_hosted_zone(Name="megapool.test", CallerReference="left")
    route53.create_hosted_zone(Name="other.test", CallerReference="other")
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/megapool/local/database/url", Value="postgres://left", Type="SecureString"
    )
    ecs = boto3.client("ecs", region_name=REGION)
    ecs.create_cluster(clusterName="megapool-local")

    result = _read(run_module, "ours", "release", "database")

    assert result["left"] == {
        "vpcs": [ours["Vpc"]["VpcId"]],
        "security_groups": [group["GroupId"]],
        "iam_roles": ["megapool-local-ecs-instance"],
        "hosted_zones": ["megapool.test"],
        "ecs_clusters": ["megapool-local (ACTIVE)"],
        "release_roles": ["megapool-local-ecs-task"],
        "ssm_parameters": ["/megapool/local/database/url"],
        "database_parameters": ["/megapool/local/database/url"],
    }
    assert "postgres://left" not in str(result)  # names only, never a value

    ecs.delete_cluster(cluster="megapool-local")  # INACTIVE: gone
    assert "ecs_clusters" not in _read(run_module, "ours")["left"]


def test_ours_needs_the_ecs_names(aws, run_module):
    result = run_module(leftovers.main, dict(ARGS, look_for=["ours"], ecs_names=None))
    assert result["failed"]
    assert "ecs_names" in result["msg"]
