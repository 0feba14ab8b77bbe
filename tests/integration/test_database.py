# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The database layer on the emulator: bad input refused before any change, and a failover there and back.

Both regions are built once for the module with the database molecule scenario's converge playbook (network,
peering mesh, the writer in eu-north-1 and a cross-region read replica in ap-southeast-1). Each bad input then runs
playbooks/site.yml, which must fail in its validation play with the variable and the fix, and leave the emulator
exactly as it was (every resource id, plus every DB instance's settings and the database's SSM parameters). The
failover test moves the writer with playbooks/db_failover.yml to ap-southeast-1 and back.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import (
    PORT,
    REGIONS,
    ROOT,
    Inventory,
    _emulator,
    assert_site_refuses_early,
    client,
    flat,
    run_playbook,
    snapshot,
)

NAME = "megapool-local"  # <cluster>-<env> of inventories/local
WRITER, READER = REGIONS
PREFIX = "/megapool/local/database/"


def _converge(inventory: Path) -> subprocess.CompletedProcess:
    env = dict(
        os.environ, MEGAPOOL_EMULATOR_PORT=str(PORT), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1"
    )
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        str(ROOT / "extensions" / "molecule" / "database" / "converge.yml"),
        "-i",
        str(inventory),
    ]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory, emulator):  # pylint: disable=unused-argument
    _emulator("reset")
    inventory = Inventory(tmp_path_factory.mktemp("database") / "inventory")
    result = _converge(inventory.path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    return inventory


def _instances(region: str) -> dict:
    return {
        db["DBInstanceIdentifier"]: {
            key: db.get(key)
            for key in (
                "DBInstanceClass", "EngineVersion", "BackupRetentionPeriod", "DeletionProtection", "MultiAZ", "AllocatedStorage",
                "ReadReplicaSourceDBInstanceIdentifier", "ReadReplicaDBInstanceIdentifiers", "DBInstanceArn",
            )
        }
        for db in client("rds", region).describe_db_instances()["DBInstances"]
    }  # fmt: skip


def _parameters(region: str) -> dict:
    pages = (
        client("ssm", region)
        .get_paginator("get_parameters_by_path")
        .paginate(Path=PREFIX, Recursive=True, WithDecryption=True)
    )
    return {p["Name"]: p["Value"] for page in pages for p in page["Parameters"]}


def database_snapshot() -> dict:
    """conftest.snapshot() plus every DB instance's settings, DB subnet groups, snapshots and the URL parameters."""
    state = snapshot()
    for region in REGIONS:
        rds = client("rds", region)
        state[region]["db_instances"] = _instances(region)
        state[region]["db_subnet_groups"] = sorted(
            g["DBSubnetGroupName"] for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]
        )
        state[region]["db_snapshots"] = sorted(
            s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots()["DBSnapshots"]
        )
        state[region]["database_parameters"] = _parameters(region)
    return state


def _set_database(inventory: Inventory, **values) -> None:
    inventory.set_vars("database", **values)


CASES = {
    "unknown_engine": (
        dict(database_engine="mysql"),
        ["database_engine=mysql is not an engine of the role", "use postgres"],
    ),
    "aurora_burstable_class": (
        dict(
            database_engine="aurora-postgresql", database_engine_version="16.4", database_instance_class="db.t4g.medium"
        ),
        ["database_instance_class=db.t4g.medium: an Aurora global database needs a memory-optimised class"],
    ),
    "aurora_version_without_global_database": (
        dict(
            database_engine="aurora-postgresql", database_engine_version="15.1", database_instance_class="db.r6g.large"
        ),
        ["database_engine_version=15.1 has no Aurora global database support", "15.2"],
    ),
    "aurora_secrets_manager": (
        dict(
            database_engine="aurora-postgresql",
            database_engine_version="16.4",
            database_instance_class="db.r6g.large",
            database_master_password_mode="secrets_manager",
        ),
        ["cannot manage the master password of a DB cluster that is part of an Aurora global database"],
    ),
    "backup_retention_out_of_range": (
        dict(database_backup_retention=40),
        ["database_backup_retention=40 is outside 0-35 days"],
    ),
    "backups_off_with_replicas": (
        dict(database_backup_retention=0),
        ["read replicas need them on their source", "set it to 1-35"],
    ),
    "primary_not_in_inventory": (
        dict(database_primary_region="us-west-2"),
        ["database_primary_region=us-west-2 is not a region of the inventory (eu-north-1, ap-southeast-1)"],
    ),
    "instance_class_not_for_postgres": (
        dict(database_instance_class="db.x2g.large"),
        [
            "database_instance_class=db.x2g.large: RDS for PostgreSQL does not offer the db.x2g family",
            "Concepts.DBInstanceClass.Support",
        ],
    ),
    "secrets_manager_with_replicas": (
        dict(database_master_password_mode="secrets_manager"),
        [
            "RDS cannot create read replicas of an instance whose master password it manages in Secrets Manager",
            "use auto or ssm",
        ],
    ),
    "plain_text_password": (
        dict(database_master_password="hunter2-in-git"),
        [
            "database_master_password is set in plain text",
            "ansible-vault encrypt_string --name database_master_password",
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_database_input_is_refused_before_any_change(built, case):
    values, expected = CASES[case]
    inventory = Inventory(built.path.parent / ("bad-" + case))
    _set_database(inventory, **values)
    assert_site_refuses_early(inventory, expected, take_snapshot=database_snapshot)


def test_the_plain_text_password_is_never_printed(built):
    inventory = Inventory(built.path.parent / "bad-printed")
    _set_database(inventory, database_master_password="hunter2-in-git")
    result = run_playbook("site.yml", inventory.path)
    assert result.returncode != 0
    assert "hunter2-in-git" not in result.stdout + result.stderr


def test_failover_moves_the_writer_there_and_back(built):
    writer_arn = _instances(WRITER)[NAME]["DBInstanceArn"]
    reader_arn = _instances(READER)[NAME]["DBInstanceArn"]
    assert _instances(READER)[NAME]["ReadReplicaSourceDBInstanceIdentifier"] == writer_arn
    password = _parameters(WRITER)[PREFIX + "master_password"]

    # A region that is not a member is refused before any change.
    before = database_snapshot()
    refused = run_playbook("db_failover.yml", built.path, "-e", "database_primary_region=us-east-1")
    assert refused.returncode != 0
    assert "database_primary_region=us-east-1 is not a region of the inventory (eu-north-1, ap-southeast-1)" in flat(
        refused.stdout
    )
    assert database_snapshot() == before

    moved = run_playbook("db_failover.yml", built.path, "-e", "database_primary_region=" + READER)
    assert moved.returncode == 0, moved.stdout[-4000:]
    assert _instances(READER)[NAME]["ReadReplicaSourceDBInstanceIdentifier"] is None  # promoted
    assert _instances(WRITER)[NAME]["ReadReplicaSourceDBInstanceIdentifier"] == reader_arn  # rebuilt from it
    reader_endpoint = client("rds", READER).describe_db_instances()["DBInstances"][0]["Endpoint"]["Address"]
    for region in REGIONS:  # every region's DATABASE_URL points at the new writer, with the same password
        assert _parameters(region)[PREFIX + "url"] == "ecto://megapool:%s@%s:5432/megapool" % (
            password,
            reader_endpoint,
        )
    assert password not in moved.stdout + moved.stderr

    back = run_playbook("db_failover.yml", built.path, "-e", "database_primary_region=" + WRITER)
    assert back.returncode == 0, back.stdout[-4000:]
    assert _instances(WRITER)[NAME]["ReadReplicaSourceDBInstanceIdentifier"] is None
    assert _instances(READER)[NAME]["ReadReplicaSourceDBInstanceIdentifier"] == writer_arn
    writer_endpoint = client("rds", WRITER).describe_db_instances()["DBInstances"][0]["Endpoint"]["Address"]
    assert _parameters(READER)[PREFIX + "url"].endswith("@%s:5432/megapool" % writer_endpoint)


def test_the_replica_region_as_primary_without_failover_is_refused_with_the_fix(built):
    inventory = Inventory(built.path.parent / "wrong-primary")
    _set_database(inventory, database_primary_region=READER)
    before = database_snapshot()
    env = dict(
        os.environ, MEGAPOOL_EMULATOR_PORT=str(PORT), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1"
    )
    converge = ROOT / "extensions" / "molecule" / "database" / "converge.yml"
    command = [str(Path(sys.executable).parent / "ansible-playbook"), str(converge), "-i", str(inventory.path)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "is a read replica of" in flat(
        result.stdout
    ) and "db_failover.yml -e database_primary_region=" + READER in flat(result.stdout)
    after = database_snapshot()
    for region in REGIONS:
        assert after[region]["db_instances"] == before[region]["db_instances"]
    assert (
        yaml.safe_load((inventory.path / "group_vars" / "all" / "database.yml").read_text())["database_primary_region"]
        == READER
    )


def test_deploy_refuses_to_migrate_from_a_replica_region_before_any_change(built):
    before = database_snapshot()
    refused = run_playbook(
        "deploy.yml", built.path, "-e", "release_image=megapool:1", "-e", "release_primary_region=" + READER
    )
    output = flat(refused.stdout + refused.stderr)
    assert refused.returncode != 0, output[-3000:]
    assert (
        "release_primary_region=%s: the database there is a read replica of arn:aws:rds:%s:" % (READER, WRITER)
        in output
    ), output[-3000:]
    assert "set release_primary_region to the database's writer region" in output
    assert "PLAY [Register the release" not in output
    assert database_snapshot() == before
    # From the writer's region the check passes (the deploy then stops on what else is missing here: no service).
    writer = run_playbook(
        "deploy.yml", built.path, "-e", "release_image=megapool:1", "-e", "release_primary_region=" + WRITER
    )
    assert "the database there is" not in flat(writer.stdout + writer.stderr)
    assert "The migration gate region holds the database writer" in writer.stdout
    assert database_snapshot() == before


_SECRETS_PLAY = """
- hosts: regions
  gather_facts: false
  module_defaults:
    group/megapool.aws.aws: "{{ megapool_aws }}"
  tasks:
    - ansible.builtin.include_role:
        name: megapool.aws.release
        tasks_from: secrets
      vars:
        _release_shared: {values: {}}
        _release_account: "123456789012"
"""


def test_the_release_removes_its_former_database_url_parameter(built, tmp_path):
    legacy = "/megapool/local/DATABASE_URL"
    for region in REGIONS:
        client("ssm", region).put_parameter(Name=legacy, Value="ecto://old", Type="SecureString", Overwrite=True)
    play = tmp_path / "secrets.yml"
    play.write_text(_SECRETS_PLAY)
    env = dict(
        os.environ, MEGAPOOL_EMULATOR_PORT=str(PORT), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1"
    )
    command = [str(Path(sys.executable).parent / "ansible-playbook"), str(play), "-i", str(built.path)]

    # An explicit release_secrets.DATABASE_URL is the release's own: kept.
    kept = subprocess.run(
        [*command, "-e", '{"release_secrets": {"DATABASE_URL": "ecto://old"}}'],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert kept.returncode == 0, kept.stdout[-3000:]
    for region in REGIONS:
        assert client("ssm", region).get_parameter(Name=legacy)["Parameter"]["Name"] == legacy

    removed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert removed.returncode == 0, removed.stdout[-3000:]
    for region in REGIONS:
        names = [
            p["Name"]
            for p in client("ssm", region).get_parameters_by_path(Path="/megapool/local/", Recursive=True)["Parameters"]
        ]
        assert legacy not in names and PREFIX + "url" in names  # the database's own URL stays
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout[-3000:]


# Last: it resets the emulator (the tests above share the RDS build of the module fixture).
def test_aurora_global_database_converges_idempotently_and_tears_down_to_empty(emulator, tmp_path):  # pylint: disable=unused-argument
    _emulator("reset")
    inventory = Inventory(tmp_path / "aurora")
    _set_database(
        inventory,
        database_engine="aurora-postgresql",
        database_engine_version="16.4",
        database_instance_class="db.r6g.large",
    )
    first = _converge(inventory.path)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr
    members = client("rds", WRITER).describe_global_clusters(GlobalClusterIdentifier=NAME)["GlobalClusters"][0][
        "GlobalClusterMembers"
    ]
    roles = {m["DBClusterArn"].split(":")[3]: m["IsWriter"] for m in members}
    assert roles == {WRITER: True, READER: False}
    for region in REGIONS:
        cluster = client("rds", region).describe_db_clusters(DBClusterIdentifier=NAME)["DBClusters"][0]
        assert (
            cluster["StorageEncrypted"]
            and cluster["Engine"] == "aurora-postgresql"
            and cluster["EngineVersion"] == "16.4"
        )
        assert [m["DBInstanceIdentifier"] for m in cluster["DBClusterMembers"]] == [NAME + "-1"]
        instance = client("rds", region).describe_db_instances(DBInstanceIdentifier=NAME + "-1")["DBInstances"][0]
        assert instance["DBInstanceClass"] == "db.r6g.large" and not instance["PubliclyAccessible"]
        parameters = _parameters(region)
        password = parameters[PREFIX + "master_password"]
        global_endpoint = client("rds", WRITER).describe_global_clusters(GlobalClusterIdentifier=NAME)[
            "GlobalClusters"
        ][0]["Endpoint"]
        assert parameters[PREFIX + "url"] == "ecto://megapool:%s@%s:5432/megapool" % (password, global_endpoint)
        assert parameters[PREFIX + "reader_url"] == "ecto://megapool:%s@%s:5432/megapool" % (
            password,
            cluster["ReaderEndpoint"],
        )
        assert password not in first.stdout + first.stderr

    again = _converge(inventory.path)
    assert again.returncode == 0, again.stdout[-4000:]
    assert all("changed=0" in line for line in again.stdout.splitlines() if "unreachable=" in line), again.stdout[
        -2000:
    ]

    # Failover of a global database is AWS's managed switchover: refused before any change, with the command.
    before = database_snapshot()
    refused = run_playbook("db_failover.yml", inventory.path, "-e", "database_primary_region=" + READER)
    assert refused.returncode != 0
    assert "aws rds switchover-global-cluster" in flat(refused.stdout)
    assert database_snapshot() == before

    env = dict(
        os.environ, MEGAPOOL_EMULATOR_PORT=str(PORT), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1"
    )
    cleanup = ROOT / "extensions" / "molecule" / "database" / "cleanup.yml"
    command = [str(Path(sys.executable).parent / "ansible-playbook"), str(cleanup), "-i", str(inventory.path)]
    gone = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert gone.returncode == 0, gone.stdout[-4000:]
    for region in REGIONS:
        rds = client("rds", region)
        assert rds.describe_db_clusters()["DBClusters"] == [] and rds.describe_db_instances()["DBInstances"] == []
        assert _parameters(region) == {}
    assert client("rds", WRITER).describe_global_clusters()["GlobalClusters"] == []
