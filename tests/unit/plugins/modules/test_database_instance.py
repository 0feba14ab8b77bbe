# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.database_instance against moto in-process.

Plain moto (no emulator extension): a cross-region replica resolves its DB subnet group in the source region, so
both regions use the same group name here (scripts/emulator_ext/rds_replicas.py fixes that for the emulator);
moto's instances are ``available`` at once, so a wait is made to last by setting the status in moto's backend.
"""

from __future__ import annotations

from typing import Any

import boto3
import botocore.exceptions
import pytest
from moto import mock_aws
from moto.rds import models as rds_models

# The clock fixture (tests/unit/conftest.py) installs itself in clock_under_test: the waits are database_common's.
from ansible_collections.megapool.aws.plugins.module_utils import database_common as clock_under_test  # noqa: F401  pylint: disable=unused-import
from ansible_collections.megapool.aws.plugins.modules import database_instance as module_under_test

WRITER, READER = "eu-north-1", "ap-southeast-1"
PREFIX = "/megapool/test/database/"
TAGS = {"megapool:env": "test", "megapool:cluster": "megapool"}


@pytest.fixture
def aws(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        for region, cidr in ((WRITER, "10.10.0.0/16"), (READER, "10.20.0.0/16")):
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


def _args(region: str = WRITER, **extra: Any) -> dict[str, Any]:
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
    if region == READER:
        args.update(role="replica", source_region=WRITER)
    args.update(extra)
    return args


def _instance(region: str) -> dict[str, Any]:
    return boto3.client("rds", region_name=region).describe_db_instances(DBInstanceIdentifier="megapool-test")[
        "DBInstances"
    ][0]


def _parameter(region: str, name: str) -> str | None:
    try:
        return boto3.client("ssm", region_name=region).get_parameter(Name=PREFIX + name, WithDecryption=True)[
            "Parameter"
        ]["Value"]
    except boto3.client("ssm", region_name=region).exceptions.ParameterNotFound:
        return None


def test_creates_an_encrypted_private_writer_with_a_generated_password_and_its_urls(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, _args())
    assert result["changed"] and not result.get("failed"), result
    db = _instance(WRITER)
    assert db["StorageEncrypted"] and not db["PubliclyAccessible"]
    assert db["DBSubnetGroup"]["DBSubnetGroupName"] == "db"
    password = _parameter(WRITER, "master_password")
    assert len(password) == 32
    assert (
        boto3.client("ssm", region_name=WRITER).get_parameter(Name=PREFIX + "url")["Parameter"]["Type"]
        == "SecureString"
    )
    endpoint = db["Endpoint"]["Address"]
    assert _parameter(WRITER, "url") == "ecto://megapool:%s@%s:5432/megapool" % (password, endpoint)
    assert _parameter(WRITER, "reader_url") == _parameter(WRITER, "url")  # the writer's region reads from the writer
    create = aws_calls.of("CreateDBInstance")[0].params
    assert create["MasterUserPassword"] == password and "ManageMasterUserPassword" not in create
    assert (
        create["StorageEncrypted"] is True
        and create["KmsKeyId"] == "alias/aws/rds"
        and create["PubliclyAccessible"] is False
    )
    assert password not in repr(result)  # never returned
    assert result["instance"]["endpoint"] == endpoint and result["instance"]["role"] == "primary"
    assert set(result["parameters"]) == {"master_password", "url", "reader_url"}

    aws_calls.clear()
    again = run_module(module_under_test.main, _args())
    assert not again["changed"], again["events"]
    assert aws_calls.writes() == []
    assert _parameter(WRITER, "master_password") == password  # generated once


def test_check_mode_on_an_empty_account_predicts_and_writes_nothing(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, _args(), check_mode=True)
    assert result["changed"] and not result.get("failed")
    assert aws_calls.writes() == []
    assert boto3.client("rds", region_name=WRITER).describe_db_instances()["DBInstances"] == []
    replica = run_module(module_under_test.main, _args(READER), check_mode=True)
    assert replica["changed"] and not replica.get("failed"), replica


def test_secrets_manager_mode_lets_rds_keep_the_password(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    result = run_module(
        module_under_test.main, _args(master_password_mode="secrets_manager", master_password_parameter=None)
    )
    assert result["changed"] and not result.get("failed"), result
    create = aws_calls.of("CreateDBInstance")[0].params
    assert create["ManageMasterUserPassword"] is True and "MasterUserPassword" not in create
    assert result["instance"]["master_secret_arn"].startswith("arn:aws:secretsmanager:%s:" % WRITER)
    assert _parameter(WRITER, "master_password") is None
    assert _parameter(WRITER, "url").startswith("ecto://megapool:")


def test_a_replica_in_another_region_gets_the_password_and_points_at_the_writer(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    run_module(module_under_test.main, _args())
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(READER))
    assert result["changed"] and not result.get("failed"), result
    replica = _instance(READER)
    writer = _instance(WRITER)
    request = aws_calls.of("CreateDBInstanceReadReplica")[0]
    assert request.region == READER
    assert request.params["SourceDBInstanceIdentifier"] == writer["DBInstanceArn"]
    assert request.params["KmsKeyId"] == "alias/aws/rds"  # a key of the replica's region
    assert "MasterUserPassword" not in request.params
    password = _parameter(WRITER, "master_password")
    assert _parameter(READER, "master_password") == password  # a promoted replica's region has it
    assert _parameter(READER, "url") == "ecto://megapool:%s@%s:5432/megapool" % (
        password,
        writer["Endpoint"]["Address"],
    )
    assert _parameter(READER, "reader_url") == "ecto://megapool:%s@%s:5432/megapool" % (
        password,
        replica["Endpoint"]["Address"],
    )
    assert result["instance"]["writer_endpoint"] == writer["Endpoint"]["Address"]
    again = run_module(module_under_test.main, _args(READER))
    assert not again["changed"], again["events"]


def test_a_replica_before_its_writer_fails_with_the_fix(aws, run_module):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, _args(READER))
    assert result["failed"] and "does not exist in eu-north-1 yet" in result["msg"]


def test_drift_is_modified(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    run_module(module_under_test.main, _args())
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(instance_class="db.t4g.small", backup_retention=14))
    assert result["changed"]
    modify = aws_calls.of("ModifyDBInstance")[0].params
    assert (
        modify["DBInstanceClass"] == "db.t4g.small"
        and modify["BackupRetentionPeriod"] == 14
        and modify["ApplyImmediately"] is False
    )
    assert set(modify) == {"DBInstanceIdentifier", "DBInstanceClass", "BackupRetentionPeriod", "ApplyImmediately"}


@pytest.fixture
def aws_promotes():
    """Plain moto keeps the source of a promoted replica (and cannot delete a cross-region one): the emulator's
    extension makes it do what AWS does (tests/unit/scripts/test_emulator_ext_rds_replicas.py pins both)."""
    from emulator_ext import rds_replicas  # pylint: disable=import-outside-toplevel

    rds_replicas.apply()
    yield
    rds_replicas.restore()


def test_topology_mismatches_fail_with_the_fix_and_promote_and_rebuild_fix_them(aws, aws_promotes, run_module):  # pylint: disable=unused-argument
    run_module(module_under_test.main, _args())
    run_module(module_under_test.main, _args(READER))
    # The replica region asked to be the writer, without promote: refused with the way out.
    refused = run_module(module_under_test.main, _args(READER, role="primary", source_region=None))
    assert refused["failed"] and "db_failover.yml" in refused["msg"]
    promoted = run_module(module_under_test.main, _args(READER, role="primary", source_region=None, promote=True))
    assert not promoted.get("failed") and promoted["changed"], promoted
    assert "ReadReplicaSourceDBInstanceIdentifier" not in _instance(READER)
    # The old writer is a standalone writer now, planned as a replica: refused, then rebuilt from the new writer.
    refused = run_module(module_under_test.main, _args(WRITER, role="replica", source_region=READER))
    assert refused["failed"] and "standalone writer" in refused["msg"]
    rebuilt = run_module(
        module_under_test.main,
        _args(WRITER, role="replica", source_region=READER, rebuild=True, skip_final_snapshot=False),
    )
    assert rebuilt["changed"] and not rebuilt.get("failed"), rebuilt
    assert rebuilt["final_snapshot"].startswith("megapool-test-final-")
    assert _instance(WRITER)["ReadReplicaSourceDBInstanceIdentifier"] == _instance(READER)["DBInstanceArn"]
    writer_endpoint = _instance(READER)["Endpoint"]["Address"]
    assert writer_endpoint in _parameter(WRITER, "url")


def test_the_wait_is_bounded(aws, run_module, clock):  # pylint: disable=unused-argument
    run_module(module_under_test.main, _args())
    database = rds_models.rds_backends["123456789012"][WRITER].databases["megapool-test"]
    # A replica whose promotion never finishes (moto's promote is instantaneous; AWS takes minutes).
    database.is_replica = True
    database.source_db_instance_identifier = "arn:aws:rds:us-east-1:123456789012:db:elsewhere"
    database.status = "modifying"
    stuck = run_module(module_under_test.main, _args(WRITER, promote=True, wait_timeout=10, poll_interval=3))
    assert stuck["failed"] and "did not become available within 10 s (last status modifying)" in stuck["msg"]
    assert clock.sleeps == [3, 3, 3, 1], (
        "the last pause ends at wait_timeout (module_utils/base.py poll_until), not 2 s past it"
    )


def test_absent_refuses_deletion_protection_unless_forced_and_removes_the_parameters(aws, run_module):  # pylint: disable=unused-argument
    run_module(module_under_test.main, _args(deletion_protection=True))
    refused = run_module(module_under_test.main, _args(state="absent"))
    assert refused["failed"] and "deletion protection" in refused["msg"] and "database_force_delete" in refused["msg"]
    assert _instance(WRITER)
    removed = run_module(module_under_test.main, _args(state="absent", force_delete=True, skip_final_snapshot=True))
    assert removed["changed"] and not removed.get("failed"), removed
    assert boto3.client("rds", region_name=WRITER).describe_db_instances()["DBInstances"] == []
    assert _parameter(WRITER, "url") is None and _parameter(WRITER, "master_password") is None
    assert "final_snapshot" not in removed
    again = run_module(module_under_test.main, _args(state="absent"))
    assert not again["changed"]


def test_absent_takes_a_final_snapshot_of_the_writer(aws, run_module):  # pylint: disable=unused-argument
    run_module(module_under_test.main, _args())
    removed = run_module(module_under_test.main, _args(state="absent", final_snapshot_identifier="megapool-test-last"))
    assert removed["final_snapshot"] == "megapool-test-last"
    snapshots = boto3.client("rds", region_name=WRITER).describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    assert [s["DBSnapshotIdentifier"] for s in snapshots] == ["megapool-test-last"]


def test_a_secrets_manager_replica_is_refused_before_any_call(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, _args(READER, master_password_mode="secrets_manager"))
    assert result["failed"] and "rds-secrets-manager-limitations" in result["msg"]
    assert aws_calls == []


def test_documented_options_match_the_argument_spec(docs_match_spec):
    docs_match_spec(module_under_test)


def test_an_aws_error_is_one_failure_naming_what_with_the_events_so_far(aws, run_module, monkeypatch):  # pylint: disable=unused-argument
    """The kernel's path (MegapoolAWSModule.run with the member's failure_result): 'Could not <what>', AWS's error, and
    the run's events up to the refusal."""
    original = boto3.session.Session.client

    def refuse_the_url(params, **_kwargs):
        if params.get("Name") == PREFIX + "url":
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "no ssm:PutParameter"}}, "PutParameter"
            )

    def client(self, *args, **kwargs):
        made = original(self, *args, **kwargs)
        made.meta.events.register("before-parameter-build.ssm.PutParameter", refuse_the_url)
        return made

    monkeypatch.setattr(boto3.session.Session, "client", client)
    result = run_module(module_under_test.main, _args())
    assert result["failed"] is True
    assert result["msg"] == (
        "Could not write the SSM parameter %surl: An error occurred (AccessDeniedException) when calling the "
        "PutParameter operation: no ssm:PutParameter" % PREFIX
    )
    assert result["error"]["code"] == "AccessDeniedException"
    assert "SSM parameter %smaster_password created" % PREFIX in result["events"]
    assert "SSM parameter %surl created" % PREFIX in result["events"], "the events up to the refused write"
