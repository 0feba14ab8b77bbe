# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.database_cluster against moto in-process (plain moto: the global cluster's removals across regions
are the emulator extension rds_global's, covered by tests/integration/test_database.py)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from ansible_collections.megapool.aws.plugins.module_utils import database_common
from ansible_collections.megapool.aws.plugins.modules import database_cluster as module_under_test

PRIMARY, SECONDARY = "eu-north-1", "ap-southeast-1"
PREFIX = "/megapool/test/database/"
TAGS = {"megapool:env": "test", "megapool:cluster": "megapool"}


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    monkeypatch.setattr(database_common, "_sleep", lambda seconds: None)


@pytest.fixture
def aws_global():
    """AWS's RemoveFromGlobalCluster and DeleteDBCluster of members (plain moto keeps global clusters in us-east-1's
    backend only; scripts/emulator_ext/rds_global.py, docs/emulator.md)."""
    from emulator_ext import rds_global  # pylint: disable=import-outside-toplevel

    rds_global.apply()
    yield
    rds_global.restore()


@pytest.fixture
def aws(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        for region, cidr in ((PRIMARY, "10.10.0.0/16"), (SECONDARY, "10.20.0.0/16")):
            ec2 = boto3.client("ec2", region_name=region)
            vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
            zones = [zone["ZoneName"] for zone in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
            subnets = [
                ec2.create_subnet(VpcId=vpc, CidrBlock=cidr.replace("0.0/16", "%d.0/24" % i), AvailabilityZone=zone)[
                    "Subnet"
                ]["SubnetId"]
                for i, zone in enumerate(zones)
            ]
            boto3.client("rds", region_name=region).create_db_subnet_group(
                DBSubnetGroupName="db", DBSubnetGroupDescription="db", SubnetIds=subnets
            )
        yield


def _args(region: str = PRIMARY, **extra: Any) -> dict[str, Any]:
    args: dict[str, Any] = dict(
        region=region,
        identifier="megapool-test",
        subnet_group="db",
        master_password_parameter=PREFIX + "master_password",
        url_parameter=PREFIX + "url",
        reader_url_parameter=PREFIX + "reader_url",
        deletion_protection=False,
        poll_interval=1,
        wait_timeout=30,
        tags=TAGS,
    )
    if region == SECONDARY:
        args.update(role="secondary", primary_region=PRIMARY)
    args.update(extra)
    return args


def _cluster(region: str) -> dict[str, Any]:
    return boto3.client("rds", region_name=region).describe_db_clusters(DBClusterIdentifier="megapool-test")[
        "DBClusters"
    ][0]


def _parameter(region: str, name: str) -> str | None:
    ssm = boto3.client("ssm", region_name=region)
    try:
        return ssm.get_parameter(Name=PREFIX + name, WithDecryption=True)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None


def _global_endpoint() -> str:
    found = boto3.client("rds", region_name=PRIMARY).describe_global_clusters()["GlobalClusters"]
    return [g for g in found if g["GlobalClusterIdentifier"] == "megapool-test"][0]["Endpoint"]


def test_the_primary_creates_the_global_cluster_the_writer_cluster_and_its_instance(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, _args())
    assert result["changed"] and not result.get("failed"), result
    create_global = aws_calls.of("CreateGlobalCluster")[0].params
    assert create_global["Engine"] == "aurora-postgresql" and create_global["StorageEncrypted"] is True
    create = aws_calls.of("CreateDBCluster")[0].params
    password = _parameter(PRIMARY, "master_password")
    assert len(password) == 32 and create["MasterUserPassword"] == password and "ManageMasterUserPassword" not in create
    assert (
        create["GlobalClusterIdentifier"] == "megapool-test"
        and create["KmsKeyId"] == "alias/aws/rds"
        and create["StorageEncrypted"] is True
    )
    instance = aws_calls.of("CreateDBInstance")[0].params
    assert instance["DBClusterIdentifier"] == "megapool-test" and instance["PubliclyAccessible"] is False
    assert instance["DBInstanceClass"] == "db.r6g.large" and instance["DBInstanceIdentifier"] == "megapool-test-1"
    cluster = _cluster(PRIMARY)
    assert _parameter(PRIMARY, "url") == "ecto://megapool:%s@%s:5432/megapool" % (password, _global_endpoint())
    assert _parameter(PRIMARY, "reader_url") == "ecto://megapool:%s@%s:5432/megapool" % (
        password,
        cluster["ReaderEndpoint"],
    )
    assert password not in repr(result)
    assert result["cluster"]["role"] == "primary" and result["cluster"]["instances"] == ["megapool-test-1"]

    aws_calls.clear()
    again = run_module(module_under_test.main, _args())
    assert not again["changed"], again["events"]
    assert aws_calls.writes() == []


def test_check_mode_on_an_empty_account_predicts_and_writes_nothing(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, _args(), check_mode=True)
    assert result["changed"] and not result.get("failed"), result
    secondary = run_module(module_under_test.main, _args(SECONDARY), check_mode=True)
    assert secondary["changed"] and not secondary.get("failed"), secondary
    assert aws_calls.writes() == []


def test_a_secondary_joins_without_master_user_with_a_key_of_its_region(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    run_module(module_under_test.main, _args())
    aws_calls.clear()
    result = run_module(
        module_under_test.main, _args(SECONDARY, kms_key_id="arn:aws:kms:ap-southeast-1:123456789012:key/k")
    )
    assert result["changed"] and not result.get("failed"), result
    request = aws_calls.of("CreateDBCluster")[0]
    assert request.region == SECONDARY
    assert (
        "MasterUsername" not in request.params
        and "MasterUserPassword" not in request.params
        and "DatabaseName" not in request.params
    )
    assert request.params["KmsKeyId"] == "arn:aws:kms:ap-southeast-1:123456789012:key/k"
    password = _parameter(PRIMARY, "master_password")
    assert _parameter(SECONDARY, "master_password") == password
    assert _parameter(SECONDARY, "url") == _parameter(PRIMARY, "url")  # the global writer endpoint
    assert _parameter(SECONDARY, "reader_url").endswith("@%s:5432/megapool" % _cluster(SECONDARY)["ReaderEndpoint"])
    again = run_module(
        module_under_test.main, _args(SECONDARY, kms_key_id="arn:aws:kms:ap-southeast-1:123456789012:key/k")
    )
    assert not again["changed"], again["events"]


def test_a_secondary_before_its_primary_fails_with_the_fix(aws, run_module):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, _args(SECONDARY))
    assert result["failed"] and "build the primary cluster in eu-north-1 first" in result["msg"]


def test_the_secondary_region_named_as_primary_is_refused_before_any_change(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    run_module(module_under_test.main, _args())
    run_module(module_under_test.main, _args(SECONDARY))
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(SECONDARY, role="primary", primary_region=None))
    assert (
        result["failed"]
        and "is a secondary cluster of megapool-test" in result["msg"]
        and "(eu-north-1)" in result["msg"]
    )
    assert aws_calls.writes() == []


def test_drift_is_modified(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    run_module(module_under_test.main, _args())
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(backup_retention=14, instance_class="db.r7g.large"))
    assert result["changed"]
    assert aws_calls.of("ModifyDBCluster")[0].params["BackupRetentionPeriod"] == 14
    assert aws_calls.of("ModifyDBInstance")[0].params["DBInstanceClass"] == "db.r7g.large"


def test_absent_refuses_deletion_protection_then_removes_the_primary_with_a_final_snapshot(  # pylint: disable=unused-argument
    aws, aws_global, run_module, aws_calls
):
    run_module(module_under_test.main, _args(deletion_protection=True))
    aws_calls.clear()
    refused = run_module(module_under_test.main, _args(state="absent"))
    assert refused["failed"] and "database_force_delete=true" in refused["msg"]
    assert aws_calls.writes() == []
    removed = run_module(
        module_under_test.main,
        _args(state="absent", force_delete=True, final_snapshot_identifier="megapool-test-final"),
    )
    assert not removed.get("failed") and removed["changed"], removed
    assert removed["final_snapshot"] == "megapool-test-final"
    rds = boto3.client("rds", region_name=PRIMARY)
    assert rds.describe_db_clusters()["DBClusters"] == []
    assert rds.describe_db_instances()["DBInstances"] == []
    assert [
        s["DBClusterSnapshotIdentifier"]
        for s in rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
    ] == ["megapool-test-final"]
    assert _parameter(PRIMARY, "url") is None and _parameter(PRIMARY, "master_password") is None
    assert boto3.client("rds", region_name=PRIMARY).describe_global_clusters()["GlobalClusters"] == []
    assert run_module(module_under_test.main, _args(state="absent"))["changed"] is False


def test_absent_removes_the_secondary_first_and_refuses_the_primary_under_it(aws, aws_global, run_module, aws_calls):  # pylint: disable=unused-argument
    run_module(module_under_test.main, _args())
    run_module(module_under_test.main, _args(SECONDARY))
    aws_calls.clear()
    refused = run_module(module_under_test.main, _args(state="absent"))
    assert refused["failed"] and "still has the secondary clusters arn:aws:rds:ap-southeast-1:" in refused["msg"]
    assert aws_calls.writes() == []
    secondary = run_module(module_under_test.main, _args(SECONDARY, state="absent"))
    assert not secondary.get("failed") and secondary["changed"], secondary
    assert "final_snapshot" not in secondary  # the primary's snapshot holds the same data
    assert [call.operation for call in aws_calls.writes()][:3] == [
        "RemoveFromGlobalCluster",
        "DeleteDBInstance",
        "DeleteDBCluster",
    ]
    assert boto3.client("rds", region_name=SECONDARY).describe_db_clusters()["DBClusters"] == []
    primary = run_module(module_under_test.main, _args(state="absent", skip_final_snapshot=True))
    assert not primary.get("failed") and primary["changed"], primary
    assert "DeleteGlobalCluster" in [call.operation for call in aws_calls.writes()]


def test_the_documentation_matches_the_argument_spec(docs_match_spec):
    docs_match_spec(module_under_test)
