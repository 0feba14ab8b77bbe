# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/rds_replicas.py: cross-region read replicas behave and refuse like AWS.

The first tests pin down plain moto's behaviour (the reasons for the patch); the others apply the patch.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator_ext import rds_replicas as ext  # noqa: F401  pylint: disable=unused-import  # the patched fixture (conftest.py) applies it

WRITER, READER = "eu-north-1", "ap-southeast-1"
# A DB subnet group name of each region (each exists only in its region).
GROUPS = {WRITER: "db-writer", READER: "db-reader"}


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
                DBSubnetGroupName=GROUPS[region], DBSubnetGroupDescription="db", SubnetIds=subnets
            )
        yield


def _rds(region):
    return boto3.client("rds", region_name=region)


def _writer(**extra):
    args = dict(
        DBInstanceIdentifier="db",
        Engine="postgres",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="megapool",
        MasterUserPassword="secret-password-1",
        StorageEncrypted=True,
        DBSubnetGroupName=GROUPS[WRITER],
        BackupRetentionPeriod=7,
    )
    args.update(extra)
    return _rds(WRITER).create_db_instance(**args)["DBInstance"]


def _replica(source_arn, **extra):
    args = dict(
        DBInstanceIdentifier="db",
        SourceDBInstanceIdentifier=source_arn,
        DBInstanceClass="db.t4g.micro",
        SourceRegion=WRITER,
        KmsKeyId="alias/aws/rds",
        DBSubnetGroupName=GROUPS[READER],
    )
    args.update(extra)
    return _rds(READER).create_db_instance_read_replica(**args)["DBInstance"]


def test_plain_moto_resolves_the_replicas_subnet_group_in_the_source_region(aws):
    with pytest.raises(ClientError, match="DBSubnetGroupNotFoundFault"):
        _replica(_writer()["DBInstanceArn"])


def test_plain_moto_accepts_a_replica_of_a_managed_password(aws):
    arn = _rds(WRITER).create_db_instance(
        DBInstanceIdentifier="m", Engine="postgres", DBInstanceClass="db.t4g.micro", AllocatedStorage=20, MasterUsername="u",
        ManageMasterUserPassword=True, BackupRetentionPeriod=7,
    )["DBInstance"]["DBInstanceArn"]  # fmt: skip
    replica = _rds(WRITER).create_db_instance_read_replica(DBInstanceIdentifier="r", SourceDBInstanceIdentifier="m")[
        "DBInstance"
    ]
    assert arn and replica["ReadReplicaSourceDBInstanceIdentifier"] == "m"


def test_a_cross_region_replica_is_an_instance_of_its_region(aws, patched):  # pylint: disable=unused-argument
    writer = _writer()
    replica = _replica(writer["DBInstanceArn"])
    assert replica["DBInstanceArn"] == "arn:aws:rds:%s:123456789012:db:db" % READER
    assert READER in replica["Endpoint"]["Address"]
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == writer["DBInstanceArn"]
    reader_vpc = boto3.client("ec2", region_name=READER).describe_vpcs(
        Filters=[{"Name": "cidr", "Values": ["10.20.0.0/16"]}]
    )["Vpcs"][0]["VpcId"]
    assert replica["DBSubnetGroup"]["VpcId"] == reader_vpc
    assert "MasterUserSecret" not in replica
    source = _rds(WRITER).describe_db_instances(DBInstanceIdentifier="db")["DBInstances"][0]
    assert source["ReadReplicaDBInstanceIdentifiers"] == [replica["DBInstanceArn"]]


def test_aws_refuses_a_replica_of_a_managed_password(aws, patched):  # pylint: disable=unused-argument
    writer = _rds(WRITER).create_db_instance(
        DBInstanceIdentifier="db", Engine="postgres", DBInstanceClass="db.t4g.micro", AllocatedStorage=20, MasterUsername="u",
        ManageMasterUserPassword=True, StorageEncrypted=True, DBSubnetGroupName=GROUPS[WRITER], BackupRetentionPeriod=7,
    )["DBInstance"]  # fmt: skip
    with pytest.raises(ClientError, match="InvalidParameterCombination"):
        _replica(writer["DBInstanceArn"])
    assert _rds(READER).describe_db_instances()["DBInstances"] == []


def test_aws_refuses_a_replica_of_a_source_without_backups(aws, patched):  # pylint: disable=unused-argument
    writer = _writer(BackupRetentionPeriod=0)
    with pytest.raises(ClientError, match="InvalidDBInstanceState"):
        _replica(writer["DBInstanceArn"])
    assert _rds(READER).describe_db_instances()["DBInstances"] == []


def test_aws_refuses_an_encrypted_cross_region_replica_without_a_key_of_its_region(aws, patched):  # pylint: disable=unused-argument
    writer = _writer()
    args = dict(
        DBInstanceIdentifier="db",
        SourceDBInstanceIdentifier=writer["DBInstanceArn"],
        SourceRegion=WRITER,
        DBSubnetGroupName=GROUPS[READER],
    )
    with pytest.raises(ClientError, match="InvalidParameterCombination"):
        _rds(READER).create_db_instance_read_replica(**args)
    assert _rds(READER).describe_db_instances()["DBInstances"] == []


def test_promote_makes_a_standalone_writer(aws, patched):  # pylint: disable=unused-argument
    writer = _writer()
    _replica(writer["DBInstanceArn"])
    promoted = _rds(READER).promote_read_replica(DBInstanceIdentifier="db", BackupRetentionPeriod=7)["DBInstance"]
    assert "ReadReplicaSourceDBInstanceIdentifier" not in promoted
    assert _rds(WRITER).describe_db_instances()["DBInstances"][0]["ReadReplicaDBInstanceIdentifiers"] == []


def test_a_replica_is_deleted_without_a_final_snapshot_and_leaves_the_source_alone(aws, patched):  # pylint: disable=unused-argument
    writer = _writer()
    _replica(writer["DBInstanceArn"])
    with pytest.raises(ClientError, match="FinalDBSnapshotIdentifier"):
        _rds(READER).delete_db_instance(DBInstanceIdentifier="db", FinalDBSnapshotIdentifier="final")
    _rds(READER).delete_db_instance(DBInstanceIdentifier="db", SkipFinalSnapshot=True)
    assert _rds(READER).describe_db_instances()["DBInstances"] == []
    assert _rds(WRITER).describe_db_instances()["DBInstances"][0]["ReadReplicaDBInstanceIdentifiers"] == []


def test_deleting_the_source_promotes_its_replicas(aws, patched):  # pylint: disable=unused-argument
    writer = _writer()
    _replica(writer["DBInstanceArn"])
    _rds(WRITER).delete_db_instance(DBInstanceIdentifier="db", SkipFinalSnapshot=True)
    survivor = _rds(READER).describe_db_instances()["DBInstances"][0]
    assert "ReadReplicaSourceDBInstanceIdentifier" not in survivor
    _rds(READER).delete_db_instance(DBInstanceIdentifier="db", SkipFinalSnapshot=True)  # no error: nothing dangles
    assert _rds(READER).describe_db_instances()["DBInstances"] == []
