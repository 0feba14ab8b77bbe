# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/rds_global.py: an Aurora global database is one global resource whose members leave it like
on AWS. The first tests pin down plain moto's behaviour (the reasons for the patch); the others apply the patch."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator_ext import rds_global as ext

PRIMARY, SECONDARY = "eu-north-1", "ap-southeast-1"


@pytest.fixture
def aws(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        yield


def _rds(region):
    return boto3.client("rds", region_name=region)


def _global_database(name="g1"):
    """A global cluster with a writer cluster in PRIMARY and a secondary cluster in SECONDARY; their ARNs."""
    _rds(PRIMARY).create_global_cluster(
        GlobalClusterIdentifier=name, Engine="aurora-postgresql", EngineVersion="16.4", StorageEncrypted=True
    )
    primary = _rds(PRIMARY).create_db_cluster(
        DBClusterIdentifier="c-" + name, Engine="aurora-postgresql", EngineVersion="16.4", MasterUsername="megapool",
        MasterUserPassword="secret-password-1", GlobalClusterIdentifier=name, StorageEncrypted=True, KmsKeyId="alias/aws/rds",
    )["DBCluster"]["DBClusterArn"]  # fmt: skip
    secondary = _rds(SECONDARY).create_db_cluster(
        DBClusterIdentifier="c-" + name, Engine="aurora-postgresql", EngineVersion="16.4", GlobalClusterIdentifier=name,
        StorageEncrypted=True, KmsKeyId="alias/aws/rds",
    )["DBCluster"]["DBClusterArn"]  # fmt: skip
    return primary, secondary


def _members(region=PRIMARY, name="g1"):
    found = [
        g for g in _rds(region).describe_global_clusters()["GlobalClusters"] if g["GlobalClusterIdentifier"] == name
    ]
    return {m["DBClusterArn"]: m["IsWriter"] for m in found[0]["GlobalClusterMembers"]}


def test_plain_moto_ignores_the_identifier_and_removes_nothing_outside_us_east_1(aws):
    _rds(PRIMARY).create_global_cluster(
        GlobalClusterIdentifier="g0", Engine="aurora-postgresql", DeletionProtection=True
    )
    _rds(PRIMARY).delete_global_cluster(GlobalClusterIdentifier="g0")  # deletion protection ignored
    with pytest.raises(NotImplementedError):
        _rds(PRIMARY).modify_global_cluster(GlobalClusterIdentifier="g0", DeletionProtection=False)
    primary, secondary = _global_database()
    _global_database("g2")
    assert len(_rds(PRIMARY).describe_global_clusters(GlobalClusterIdentifier="g1")["GlobalClusters"]) == 2
    assert _rds(PRIMARY).describe_global_clusters(GlobalClusterIdentifier="nope")["GlobalClusters"]
    _rds(SECONDARY).remove_from_global_cluster(GlobalClusterIdentifier="g1", DbClusterIdentifier=secondary)
    assert secondary in _members()  # silently still a member
    _rds(PRIMARY).delete_db_cluster(
        DBClusterIdentifier="c-g1", SkipFinalSnapshot=True
    )  # the primary under its secondary
    assert primary in _members()  # and a deleted cluster stays a member


def test_describe_answers_the_named_global_cluster_or_not_found(aws, patched):  # pylint: disable=unused-argument
    _global_database()
    _global_database("g2")
    for region in (PRIMARY, SECONDARY):
        found = _rds(region).describe_global_clusters(GlobalClusterIdentifier="g2")["GlobalClusters"]
        assert [g["GlobalClusterIdentifier"] for g in found] == ["g2"]
        with pytest.raises(ClientError) as missing:
            _rds(region).describe_global_clusters(GlobalClusterIdentifier="nope")
        assert missing.value.response["Error"]["Code"] == "GlobalClusterNotFoundFault"
    assert len(_rds(PRIMARY).describe_global_clusters()["GlobalClusters"]) == 2


def test_a_secondary_removed_in_its_region_becomes_standalone(aws, patched):  # pylint: disable=unused-argument
    primary, secondary = _global_database()
    _rds(SECONDARY).remove_from_global_cluster(GlobalClusterIdentifier="g1", DbClusterIdentifier=secondary)
    assert _members() == {primary: True}
    with pytest.raises(ClientError) as again:
        _rds(SECONDARY).remove_from_global_cluster(GlobalClusterIdentifier="g1", DbClusterIdentifier=secondary)
    assert again.value.response["Error"]["Code"] == "DBClusterNotFoundFault"


def test_the_primary_cannot_be_deleted_under_its_secondaries(aws, patched):  # pylint: disable=unused-argument
    primary, secondary = _global_database()
    with pytest.raises(ClientError) as refused:
        _rds(PRIMARY).delete_db_cluster(DBClusterIdentifier="c-g1", SkipFinalSnapshot=True)
    assert refused.value.response["Error"]["Code"] == "InvalidGlobalClusterStateFault"
    assert "primary member of global cluster" in refused.value.response["Error"]["Message"]
    assert _members() == {primary: True, secondary: False}


def test_the_teardown_order_empties_the_global_cluster(aws, patched):  # pylint: disable=unused-argument
    primary, secondary = _global_database()
    _rds(SECONDARY).delete_db_cluster(DBClusterIdentifier="c-g1", SkipFinalSnapshot=True)  # a deleted member leaves
    assert _members() == {primary: True}
    _rds(PRIMARY).delete_db_cluster(DBClusterIdentifier="c-g1", FinalDBSnapshotIdentifier="c-g1-final")
    assert _members() == {}
    _rds(PRIMARY).delete_global_cluster(GlobalClusterIdentifier="g1")
    assert [
        s["DBClusterSnapshotIdentifier"]
        for s in _rds(PRIMARY).describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
    ] == ["c-g1-final"]


def test_a_protected_global_cluster_is_kept_until_modified(aws, patched):  # pylint: disable=unused-argument
    _rds(PRIMARY).create_global_cluster(
        GlobalClusterIdentifier="g3", Engine="aurora-postgresql", EngineVersion="16.4", DeletionProtection=True
    )
    with pytest.raises(ClientError) as refused:
        _rds(PRIMARY).delete_global_cluster(GlobalClusterIdentifier="g3")
    assert refused.value.response["Error"]["Code"] == "InvalidGlobalClusterStateFault"
    assert (
        _rds(SECONDARY).modify_global_cluster(GlobalClusterIdentifier="g3", DeletionProtection=False)["GlobalCluster"][
            "DeletionProtection"
        ]
        is False
    )
    _rds(PRIMARY).delete_global_cluster(GlobalClusterIdentifier="g3")
    assert _rds(PRIMARY).describe_global_clusters()["GlobalClusters"] == []


def test_restore_puts_moto_back(aws):  # pylint: disable=unused-argument
    ext.apply()
    ext.restore()
    _global_database()
    assert len(_rds(PRIMARY).describe_global_clusters(GlobalClusterIdentifier="nope")["GlobalClusters"]) == 1
