# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The database planner, as pure functions: table-driven validation cases, the topology, drift and URLs."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.module_utils.database_plan import PlanError
from ansible_collections.megapool.aws.plugins.module_utils.database_plan import cluster_differences
from ansible_collections.megapool.aws.plugins.module_utils.database_plan import cluster_topology_error
from ansible_collections.megapool.aws.plugins.module_utils.database_plan import global_membership
from ansible_collections.megapool.aws.plugins.module_utils.database_plan import differences
from ansible_collections.megapool.aws.plugins.module_utils.database_plan import effective
from ansible_collections.megapool.aws.plugins.module_utils.database_plan import instance_class_error
from ansible_collections.megapool.aws.plugins.module_utils.database_plan import password_mode
from ansible_collections.megapool.aws.plugins.module_utils.database_plan import plan
from ansible_collections.megapool.aws.plugins.module_utils.database_plan import topology_error
from ansible_collections.megapool.aws.plugins.module_utils.database_plan import url
from ansible_collections.megapool.aws.plugins.module_utils.database_plan import validate

REGIONS = ["eu-north-1", "ap-southeast-1", "us-east-1"]


def _inputs(**changes):
    inputs = dict(
        engine="postgres",
        engine_version="16",
        instance_class="db.t4g.micro",
        allocated_storage=20,
        max_allocated_storage=100,
        storage_type="gp3",
        backup_retention=7,
        backup_window="03:00-03:30",
        maintenance_window="sun:04:00-sun:04:30",
        performance_insights=False,
        name="megapool",
        username="megapool",
        port=5432,
        master_password_mode="auto",
        kms_key_ids={},
        identifier="megapool-prod",
        primary_region="",
        regions=list(REGIONS),
        vpc_cidrs={"eu-north-1": "10.40.0.0/16", "ap-southeast-1": "10.41.0.0/16", "us-east-1": "10.42.0.0/16"},
        cluster="megapool",
        env="prod",
    )
    inputs.update(changes)
    return inputs


def test_the_defaults_are_valid():
    assert validate(_inputs()) == []


@pytest.mark.parametrize(
    "changes, variable, hint",
    [
        (dict(engine="mysql"), "database_engine=mysql", "use postgres"),
        (
            dict(engine="aurora-postgresql", instance_class="db.t4g.medium", engine_version="16.4"),
            "database_instance_class=db.t4g.medium",
            "memory-optimised",
        ),
        (
            dict(engine="aurora-postgresql", instance_class="db.r6g.large", engine_version="16"),
            "database_engine_version=16",
            "major.minor",
        ),
        (
            dict(engine="aurora-postgresql", instance_class="db.r6g.large", engine_version="15.1"),
            "database_engine_version=15.1",
            "no Aurora global",
        ),
        (
            dict(engine="aurora-postgresql", instance_class="db.r6g.large", engine_version="12.22"),
            "database_engine_version=12.22",
            "13.3",
        ),
        (
            dict(
                engine="aurora-postgresql",
                instance_class="db.r6g.large",
                engine_version="16.4",
                master_password_mode="secrets_manager",
            ),
            "database_master_password_mode=secrets_manager",
            "Aurora global database",
        ),
        (dict(primary_region="us-west-2"), "database_primary_region=us-west-2", "not a region of the inventory"),
        (dict(regions=[]), "the inventory has no region", "group regions"),
        (dict(backup_retention=36), "database_backup_retention=36", "0-35"),
        (dict(backup_retention=-1), "database_backup_retention=-1", "0-35"),
        (dict(backup_retention=0), "database_backup_retention=0", "read replicas need them"),
        (
            dict(instance_class="db.x2g.large"),
            "database_instance_class=db.x2g.large",
            "does not offer the db.x2g family",
        ),
        (dict(instance_class="t4g.micro"), "database_instance_class=t4g.micro", "not an RDS instance class"),
        (dict(instance_class="db.t4g.huge"), "database_instance_class=db.t4g.huge", "not an RDS instance class"),
        (dict(engine_version="sixteen"), "database_engine_version=sixteen", "major"),
        (dict(engine_version="11.22"), "database_engine_version=11.22", "out of standard support"),
        (dict(allocated_storage=10), "database_allocated_storage=10", "20-65536"),
        (dict(max_allocated_storage=15), "database_max_allocated_storage=15", "0 (off)"),
        (dict(storage_type="st1"), "database_storage_type=st1", "gp3"),
        (dict(backup_window="3:00-3:30"), "database_backup_window=3:00-3:30", "hh24:mi"),
        (dict(maintenance_window="sunday 4am"), "database_maintenance_window=sunday 4am", "ddd:hh24:mi"),
        (dict(name="1db"), "database_name=1db", "starting with a letter"),
        (dict(username="rdsadmin"), "database_username=rdsadmin", "not one of"),
        (dict(port=80), "database_port=80", "1150-65535"),
        (dict(master_password_mode="plain"), "database_master_password_mode=plain", "auto"),
        (
            dict(master_password_mode="secrets_manager"),
            "database_master_password_mode=secrets_manager",
            "read replicas",
        ),
        (
            dict(kms_key_ids={"ap-southeast-1": "arn:aws:kms:eu-north-1:123456789012:key/abc"}),
            "database_kms_key_ids: ap-southeast-1=arn:aws:kms:eu-north-1",
            "its own region",
        ),
        (
            dict(kms_key_ids={"us-west-2": "alias/x"}),
            "database_kms_key_ids names us-west-2",
            "not regions of the inventory",
        ),
        (dict(identifier="Megapool--prod"), "database_identifier=Megapool--prod", "single hyphens"),
        (
            dict(performance_insights=True, instance_class="db.t3.micro"),
            "database_performance_insights=true",
            "db.t3.micro",
        ),
    ],
)
def test_bad_input_names_the_variable_and_the_fix(changes, variable, hint):
    errors = validate(_inputs(**changes))
    assert len(errors) == 1, errors
    assert errors[0].startswith(variable)
    assert hint in errors[0]
    with pytest.raises(PlanError) as raised:
        plan(_inputs(**changes))
    assert raised.value.errors == errors


def test_every_problem_is_reported_at_once():
    errors = validate(_inputs(engine="mysql", backup_retention=99, primary_region="mars-1"))
    assert [e.split("=")[0] for e in errors] == [
        "database_engine",
        "database_primary_region",
        "database_backup_retention",
    ]


AURORA = dict(engine="aurora-postgresql", instance_class="db.r6g.large", engine_version="16.4")


@pytest.mark.parametrize("version", ["13.3", "14.3", "15.2", "16.1", "16.4", "17.4", "17.10"])
def test_aurora_global_versions_accepted(version):
    assert validate(_inputs(**{**AURORA, "engine_version": version})) == []


def test_aurora_is_a_global_database_with_the_password_in_ssm_even_in_one_region():
    result = plan(_inputs(**AURORA))
    assert result["engine"] == "aurora-postgresql" and result["global_identifier"] == "megapool-prod"
    assert result["password_mode"] == "ssm"
    one = _inputs(**dict(AURORA, regions=["eu-north-1"]))
    assert plan(one)["password_mode"] == "ssm"
    errors = validate(dict(one, instance_class="db.t4g.medium"))  # still a global database: memory-optimised only
    assert len(errors) == 1 and errors[0].startswith("database_instance_class=db.t4g.medium")
    assert plan(_inputs())["global_identifier"] is None


def test_one_region_takes_the_secrets_manager_password_and_no_backups():
    assert validate(_inputs(regions=["eu-north-1"], backup_retention=0, master_password_mode="secrets_manager")) == []
    assert plan(_inputs(regions=["eu-north-1"]))["password_mode"] == "secrets_manager"


@pytest.mark.parametrize(
    "instance_class, engine, regions, bad",
    [
        ("db.t4g.micro", "postgres", 2, False),
        ("db.m7g.large", "postgres", 2, False),
        ("db.r6g.large", "aurora-postgresql", 2, False),
        ("db.t4g.medium", "aurora-postgresql", 2, True),  # a global database needs memory-optimised classes
        ("db.t4g.medium", "aurora-postgresql", 1, False),
        ("db.r6gd.large", "postgres", 1, True),
    ],
)
def test_instance_classes(instance_class, engine, regions, bad):
    assert (instance_class_error(instance_class, engine, regions) is not None) is bad


def test_the_topology():
    result = plan(
        _inputs(primary_region="ap-southeast-1", kms_key_ids={"us-east-1": "arn:aws:kms:us-east-1:123456789012:key/k"})
    )
    assert result["primary_region"] == "ap-southeast-1"
    assert result["replica_regions"] == ["eu-north-1", "us-east-1"]
    assert result["password_mode"] == "ssm"
    members = result["members"]
    assert members["ap-southeast-1"]["role"] == "primary" and members["ap-southeast-1"]["source_region"] is None
    assert members["eu-north-1"] == dict(
        region="eu-north-1",
        role="replica",
        identifier="megapool-prod",
        source_region="ap-southeast-1",
        source_arn_hint="arn:aws:rds:ap-southeast-1:<account>:db:megapool-prod",
        kms_key_id="alias/aws/rds",
        peer_cidrs=["10.41.0.0/16", "10.42.0.0/16"],
    )
    assert members["us-east-1"]["kms_key_id"] == "arn:aws:kms:us-east-1:123456789012:key/k"
    assert result["parameters"] == {
        "master_password": "/megapool/prod/database/master_password",
        "url": "/megapool/prod/database/url",
        "reader_url": "/megapool/prod/database/reader_url",
    }


def test_the_first_region_writes_by_default():
    assert plan(_inputs())["primary_region"] == "eu-north-1"


@given(st.permutations(REGIONS), st.sampled_from(REGIONS))
def test_one_writer_and_every_other_region_replicates_from_it(regions, primary):
    result = plan(_inputs(regions=list(regions), primary_region=primary))
    roles = {region: member["role"] for region, member in result["members"].items()}
    assert list(roles.values()).count("primary") == 1 and roles[primary] == "primary"
    for region, member in result["members"].items():
        assert member["source_region"] == (None if region == primary else primary)
        assert region not in member["peer_cidrs"]
        assert len(member["peer_cidrs"]) == len(regions) - 1


def test_password_mode():
    assert password_mode("auto", 1) == "secrets_manager"
    assert password_mode("auto", 2) == "ssm"
    assert password_mode("ssm", 1) == "ssm"


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=8, max_size=41))
def test_the_url_keeps_any_password_intact(password):
    parts = urlsplit(url("megapool", password, "db.example", 5432, "megapool"))
    from urllib.parse import unquote  # pylint: disable=import-outside-toplevel

    assert parts.scheme == "ecto"
    assert unquote(parts.password) == password
    assert parts.hostname == "db.example" and parts.port == 5432 and parts.path == "/megapool"


WRITER = {"DBInstanceIdentifier": "db", "DBInstanceArn": "arn:aws:rds:eu-north-1:1:db:db"}
REPLICA = {"DBInstanceIdentifier": "db", "ReadReplicaSourceDBInstanceIdentifier": "arn:aws:rds:eu-north-1:1:db:db"}


@pytest.mark.parametrize(
    "role, observed, source, hint",
    [
        ("primary", None, None, None),
        ("primary", WRITER, None, None),
        ("replica", REPLICA, "arn:aws:rds:eu-north-1:1:db:db", None),
        ("primary", REPLICA, None, "db_failover.yml"),
        ("replica", WRITER, "arn:aws:rds:eu-north-1:1:db:db", "standalone writer"),
        ("replica", REPLICA, "arn:aws:rds:us-east-1:1:db:db", "not from"),
    ],
)
def test_topology_errors(role, observed, source, hint):
    error = topology_error(role, "ap-southeast-1", observed, source)
    assert (error is None) is (hint is None)
    if hint:
        assert hint in error


OBSERVED = {
    "DBInstanceClass": "db.t4g.micro",
    "EngineVersion": "16.4",
    "BackupRetentionPeriod": 7,
    "PreferredBackupWindow": "03:00-03:30",
    "PreferredMaintenanceWindow": "sun:04:00-sun:04:30",
    "MultiAZ": False,
    "AllocatedStorage": 20,
    "MaxAllocatedStorage": 100,
    "DeletionProtection": True,
    "PerformanceInsightsEnabled": False,
    "IAMDatabaseAuthenticationEnabled": False,
    "DBParameterGroups": [{"DBParameterGroupName": "default.postgres16"}],
    "VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-1"}],
}
WANTED = {
    "DBInstanceClass": "db.t4g.micro",
    "EngineVersion": "16",
    "BackupRetentionPeriod": 7,
    "PreferredBackupWindow": "03:00-03:30",
    "PreferredMaintenanceWindow": "Sun:04:00-Sun:04:30",
    "MultiAZ": False,
    "AllocatedStorage": 20,
    "MaxAllocatedStorage": 100,
    "DeletionProtection": True,
    "PerformanceInsightsEnabled": False,
    "IAMDatabaseAuthenticationEnabled": False,
    "DBParameterGroupName": None,
    "VpcSecurityGroupIds": ["sg-1"],
}


@pytest.mark.parametrize(
    "wanted, role, expected",
    [
        ({}, "primary", {}),
        (dict(DBInstanceClass="db.t4g.small"), "primary", dict(DBInstanceClass="db.t4g.small")),
        (dict(EngineVersion="16.4"), "primary", {}),
        (dict(EngineVersion="17"), "primary", dict(EngineVersion="17")),
        (dict(EngineVersion="1"), "primary", dict(EngineVersion="1")),  # 1 is not a prefix of 16.4's major
        (dict(PerformanceInsightsEnabled=True), "primary", dict(EnablePerformanceInsights=True)),
        (dict(IAMDatabaseAuthenticationEnabled=True), "primary", dict(EnableIAMDatabaseAuthentication=True)),
        (dict(DBParameterGroupName="custom"), "primary", dict(DBParameterGroupName="custom")),
        (dict(VpcSecurityGroupIds=["sg-2", "sg-1"]), "primary", dict(VpcSecurityGroupIds=["sg-1", "sg-2"])),
        (dict(MultiAZ=True, AllocatedStorage=50), "replica", {}),
        (dict(DeletionProtection=False), "replica", dict(DeletionProtection=False)),
    ],
)
def test_differences(wanted, role, expected):
    assert differences({**WANTED, **wanted}, OBSERVED, role) == expected


def test_a_pending_modification_counts_as_applied():
    pending = {**OBSERVED, "PendingModifiedValues": {"DBInstanceClass": "db.t4g.small", "MasterUserPassword": "****"}}
    assert differences({**WANTED, "DBInstanceClass": "db.t4g.small"}, effective(pending), "primary") == {}
    assert differences({**WANTED, "DBInstanceClass": "db.t4g.small"}, OBSERVED, "primary") == {
        "DBInstanceClass": "db.t4g.small"
    }
    assert "MasterUserPassword" not in effective(pending)


P_ARN = "arn:aws:rds:eu-north-1:123456789012:cluster:megapool-prod"
S_ARN = "arn:aws:rds:ap-southeast-1:123456789012:cluster:megapool-prod"
GLOBAL = {
    "GlobalClusterMembers": [{"DBClusterArn": P_ARN, "IsWriter": True}, {"DBClusterArn": S_ARN, "IsWriter": False}]
}


def test_global_membership():
    assert global_membership(GLOBAL, S_ARN) == {
        "member": True,
        "is_writer": False,
        "writer_arn": P_ARN,
        "others": [P_ARN],
    }
    assert global_membership(GLOBAL, P_ARN)["is_writer"] is True
    assert global_membership(None, P_ARN) == {"member": False, "is_writer": False, "writer_arn": None, "others": []}
    assert global_membership(GLOBAL, None)["member"] is False


@pytest.mark.parametrize(
    "role, region, observed, global_cluster, hint",
    [
        ("primary", "eu-north-1", None, None, None),
        ("primary", "eu-north-1", {"DBClusterArn": P_ARN}, GLOBAL, None),
        ("secondary", "ap-southeast-1", {"DBClusterArn": S_ARN}, GLOBAL, None),
        ("primary", "ap-southeast-1", {"DBClusterArn": S_ARN}, GLOBAL, "current writer's region (eu-north-1)"),
        ("secondary", "eu-north-1", {"DBClusterArn": P_ARN}, GLOBAL, "set database_primary_region to eu-north-1"),
        (
            "primary",
            "eu-north-1",
            {"DBClusterArn": P_ARN, "DBClusterIdentifier": "megapool-prod"},
            None,
            "not a member of the global database",
        ),
    ],
)
def test_cluster_topology(role, region, observed, global_cluster, hint):
    error = cluster_topology_error(role, region, observed, global_cluster, "megapool-prod")
    assert (error is None) if hint is None else (hint in error), error


@pytest.mark.parametrize(
    "wanted, observed, changes",
    [
        (dict(BackupRetentionPeriod=7), dict(BackupRetentionPeriod=7), {}),
        (dict(BackupRetentionPeriod=14), dict(BackupRetentionPeriod=7), dict(BackupRetentionPeriod=14)),
        (dict(PreferredBackupWindow="03:00-03:30"), dict(PreferredBackupWindow="03:00-03:30"), {}),
        (
            dict(PreferredMaintenanceWindow="sun:04:00-sun:04:30"),
            dict(PreferredMaintenanceWindow="Sun:04:00-Sun:04:30"),
            {},
        ),
        (
            dict(IAMDatabaseAuthenticationEnabled=True),
            dict(IAMDatabaseAuthenticationEnabled=False),
            dict(EnableIAMDatabaseAuthentication=True),
        ),
        (
            dict(VpcSecurityGroupIds=["sg-b", "sg-a"]),
            dict(VpcSecurityGroups=[{"VpcSecurityGroupId": "sg-a"}, {"VpcSecurityGroupId": "sg-b"}]),
            {},
        ),
        (
            dict(VpcSecurityGroupIds=["sg-c"]),
            dict(VpcSecurityGroups=[{"VpcSecurityGroupId": "sg-a"}]),
            dict(VpcSecurityGroupIds=["sg-c"]),
        ),
        (dict(DBClusterParameterGroup=None), dict(DBClusterParameterGroup="default.aurora-postgresql16"), {}),
        (
            dict(DBClusterParameterGroup="mine"),
            dict(DBClusterParameterGroup="default.aurora-postgresql16"),
            dict(DBClusterParameterGroupName="mine"),
        ),
        (dict(DeletionProtection=False), dict(DeletionProtection=True), dict(DeletionProtection=False)),
    ],
)
def test_cluster_differences(wanted, observed, changes):
    assert cluster_differences(wanted, observed) == changes
