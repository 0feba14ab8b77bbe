# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The database layer's planner, as pure functions: input validation, topology, names, instance-class checks.

Everything the role ``megapool.aws.database`` decides is here (no AWS call), so it is table-tested; the role only
loops modules over the plan. The AWS facts each rule copies:

- Engines: ``postgres`` (RDS for PostgreSQL, the default) and ``aurora-postgresql`` (an Aurora global database: a
  writer cluster in the primary region, a secondary cluster in every other region; docs/database.md).
- Aurora PostgreSQL versions of a global database ("Supported Regions and DB engines for Aurora global databases",
  https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.Aurora_Fea_Regions_DB-eng.Feature.GlobalDatabase.html):
  the engine version is major.minor (Aurora has no "latest minor of 16" for a global database: every member runs the
  same version) and at least 13.3, 14.3, 15.2, 16.1 or 17.4 for its major (the minimums of most regions; some newer
  regions start later, which CreateGlobalCluster reports).
- Secrets Manager cannot manage the master password of a DB cluster that is part of an Aurora global database
  ("Limitations for Secrets Manager integration with Amazon Aurora",
  https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html#rds-secrets-manager-limitations):
  with Aurora the password is always generated once and kept in SSM SecureString.
- Instance classes of RDS for PostgreSQL ("Supported DB engines for DB instance classes",
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Support.html): the burstable
  db.t3 / db.t4g, general purpose db.m5 / db.m6g / db.m6i / db.m7g / db.m7i / db.m8g and memory-optimised db.r5 /
  db.r6g / db.r6i / db.r7g / db.r7i / db.r8g families. An Aurora global database requires memory-optimised classes
  ("Configuration requirements of an Amazon Aurora global database",
  https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database.configuration.requirements.html):
  db.r5 and newer db.r*/db.x2g, no burstable db.t*.
- Backup retention is 0-35 days (CreateDBInstance ``BackupRetentionPeriod``); a read replica needs automated
  backups on its source, so with more than one region it is at least 1 ("Working with DB instance read replicas",
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.html).
- A password managed by RDS in Secrets Manager (``ManageMasterUserPassword``) does not allow read replicas of the
  instance ("Limitations for Secrets Manager integration with Amazon RDS",
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html#rds-secrets-manager-limitations):
  with replicas the master password is generated once and kept in SSM SecureString in every region instead.
- An encrypted cross-region replica needs a KMS key of its own region (CreateDBInstanceReadReplica ``KmsKeyId``):
  the AWS-managed key ``alias/aws/rds`` exists in every region, a customer key must be given per region.
- Identifiers: 1-63 letters, digits or hyphens, starting with a letter, no two hyphens in a row, no trailing hyphen;
  the database name: 1-63 letters, digits or underscores starting with a letter; the master user name: 1-63, not
  a reserved word (``postgres`` is allowed on RDS, ``rdsadmin`` is not).
"""

from __future__ import annotations

import re
from typing import Any

ENGINES = ("postgres", "aurora-postgresql")
BUILT_ENGINES = ("postgres", "aurora-postgresql")
# The lowest Aurora PostgreSQL minor of each major that an Aurora global database supports (module docstring).
AURORA_GLOBAL_MIN_VERSIONS = {13: 3, 14: 3, 15: 2, 16: 1, 17: 4}
PASSWORD_MODES = ("auto", "secrets_manager", "ssm")
POSTGRES_FAMILIES = (
    "db.t3", "db.t4g",
    "db.m5", "db.m6g", "db.m6i", "db.m7g", "db.m7i", "db.m8g",
    "db.r5", "db.r6g", "db.r6i", "db.r7g", "db.r7i", "db.r8g",
)  # fmt: skip
AURORA_GLOBAL_FAMILIES = ("db.r5", "db.r6g", "db.r6i", "db.r7g", "db.r7i", "db.r8g", "db.x2g")
SIZES = (
    "micro",
    "small",
    "medium",
    "large",
    "xlarge",
    "2xlarge",
    "4xlarge",
    "8xlarge",
    "12xlarge",
    "16xlarge",
    "24xlarge",
    "32xlarge",
    "48xlarge",
)
STORAGE_TYPES = ("gp3", "gp2", "io1", "io2")
MAX_BACKUP_RETENTION = 35
DEFAULT_KMS_KEY = "alias/aws/rds"
RESERVED_USERNAMES = ("rdsadmin", "rdsrepladmin", "rds_superuser", "admin", "public")
_IDENTIFIER_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_DB_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
_WINDOW_DAYS = "(mon|tue|wed|thu|fri|sat|sun)"
_CLOCK = "([01][0-9]|2[0-3]):[0-5][0-9]"
_BACKUP_WINDOW_RE = re.compile(r"^%s-%s$" % (_CLOCK, _CLOCK))
_MAINTENANCE_WINDOW_RE = re.compile(r"^%s:%s-%s:%s$" % (_WINDOW_DAYS, _CLOCK, _WINDOW_DAYS, _CLOCK))
_VERSION_RE = re.compile(r"^[0-9]+(\.[0-9]+)?$")


class PlanError(ValueError):
    """Bad input: ``errors`` lists every problem (variable, value, fix)."""

    def __init__(self, errors: list[str]):
        super().__init__(" | ".join(errors))
        self.errors = errors


def class_family(instance_class: str) -> str:
    """``db.t4g.micro`` -> ``db.t4g``."""
    return ".".join(str(instance_class).split(".")[:2])


def instance_class_error(instance_class: str, engine: str, regions: int) -> str | None:
    """Why ``instance_class`` cannot run ``engine`` (a global database when regions > 1), or None."""
    parts = str(instance_class).split(".")
    if len(parts) != 3 or parts[0] != "db" or parts[2] not in SIZES:
        return (
            "database_instance_class=%s is not an RDS instance class: write it like db.t4g.micro or db.r7g.large"
            % instance_class
        )
    family = class_family(instance_class)
    if engine == "aurora-postgresql":
        if family not in AURORA_GLOBAL_FAMILIES and regions > 1:
            return (
                "database_instance_class=%s: an Aurora global database needs a memory-optimised class (%s); "
                "burstable and general-purpose classes are not supported "
                "(https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database.configuration.requirements.html)"
                % (instance_class, ", ".join(AURORA_GLOBAL_FAMILIES))
            )
        return None
    if family not in POSTGRES_FAMILIES:
        return (
            "database_instance_class=%s: RDS for PostgreSQL does not offer the %s family; use one of %s "
            "(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Support.html)"
            % (instance_class, family, ", ".join(POSTGRES_FAMILIES))
        )
    return None


def password_mode(mode: str, regions: int, engine: str = "postgres") -> str:
    """The effective master password mode: ``auto`` is Secrets Manager for one RDS region, SSM with replicas and
    always SSM for an Aurora global database (Secrets Manager cannot manage a global database member's password)."""
    if mode == "auto":
        return "secrets_manager" if regions == 1 and engine == "postgres" else "ssm"
    return mode


def aurora_version_error(version: str) -> str | None:
    """Why ``version`` cannot run an Aurora PostgreSQL global database, or None."""
    parts = str(version).split(".")
    if len(parts) != 2:
        return (
            "database_engine_version=%s: an Aurora global database needs the exact major.minor version every cluster "
            "runs (e.g. 16.4); write it with its minor" % version
        )
    major, minor = int(parts[0]), int(parts[1])
    if major not in AURORA_GLOBAL_MIN_VERSIONS or minor < AURORA_GLOBAL_MIN_VERSIONS[major]:
        return "database_engine_version=%s has no Aurora global database support: use %s or newer (%s)" % (
            version,
            ", ".join("%d.%d" % item for item in sorted(AURORA_GLOBAL_MIN_VERSIONS.items())),
            "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.Aurora_Fea_Regions_DB-eng.Feature.GlobalDatabase.html",
        )
    return None


def validate(inputs: dict[str, Any]) -> list[str]:
    """Every problem of the database inputs, each naming the variable and the fix ([] when they are fine).

    ``inputs`` holds the role variables without the ``database_`` prefix plus ``regions`` (the inventory's
    regions, in order) and ``vpc_cidrs`` ({region: CIDR}) where known.
    """
    errors: list[str] = []
    regions = list(inputs.get("regions") or [])
    engine = inputs.get("engine")
    if engine not in ENGINES:
        errors.append(
            "database_engine=%s is not an engine of the role: use postgres (RDS, the default) or aurora-postgresql"
            % engine
        )
    primary = inputs.get("primary_region") or (regions[0] if regions else "")
    if not regions:
        errors.append("the inventory has no region: put the region hosts into the group regions")
    elif primary not in regions:
        errors.append(
            "database_primary_region=%s is not a region of the inventory (%s): set it to one of them, or leave it "
            "empty for the first (%s)" % (primary, ", ".join(regions), regions[0])
        )
    if engine in ENGINES:
        # The role builds an Aurora global database even for one region (a region added later joins it).
        members = len(regions) if engine == "postgres" else max(len(regions), 2)
        error = instance_class_error(inputs.get("instance_class", ""), engine, members)
        if error:
            errors.append(error)
    version = str(inputs.get("engine_version", ""))
    if not _VERSION_RE.match(version):
        errors.append(
            "database_engine_version=%s is not a PostgreSQL version: write the major (16) or major.minor (16.4)"
            % version
        )
    elif engine == "postgres" and int(version.split(".", maxsplit=1)[0]) < 13:
        errors.append(
            "database_engine_version=%s: RDS for PostgreSQL below 13 is out of standard support; use 16 or 17" % version
        )
    elif engine == "aurora-postgresql":
        error = aurora_version_error(version)
        if error:
            errors.append(error)
    retention = inputs.get("backup_retention")
    if not isinstance(retention, int) or isinstance(retention, bool) or not 0 <= retention <= MAX_BACKUP_RETENTION:
        errors.append(
            "database_backup_retention=%s is outside 0-%d days: set the days RDS keeps automated backups (default 7)"
            % (retention, MAX_BACKUP_RETENTION)
        )
    elif retention == 0 and len(regions) > 1:
        errors.append(
            "database_backup_retention=0 turns automated backups off, and read replicas need them on their source: "
            "set it to 1-35 (default 7) when the inventory has more than one region"
        )
    storage = inputs.get("allocated_storage")
    max_storage = inputs.get("max_allocated_storage")
    if not isinstance(storage, int) or not 20 <= storage <= 65536:
        errors.append(
            "database_allocated_storage=%s GiB is outside 20-65536: set the initial storage in GiB (default 20)"
            % storage
        )
    elif not isinstance(max_storage, int) or (max_storage and max_storage < storage) or max_storage > 65536:
        errors.append(
            "database_max_allocated_storage=%s: the storage autoscaling limit is 0 (off) or between "
            "database_allocated_storage (%s) and 65536 GiB" % (max_storage, storage)
        )
    if inputs.get("storage_type") not in STORAGE_TYPES:
        errors.append(
            "database_storage_type=%s is not one of %s (gp3 is the default)"
            % (inputs.get("storage_type"), ", ".join(STORAGE_TYPES))
        )
    if not _BACKUP_WINDOW_RE.match(str(inputs.get("backup_window", ""))):
        errors.append(
            "database_backup_window=%s must be hh24:mi-hh24:mi in UTC, e.g. 03:00-03:30" % inputs.get("backup_window")
        )
    if not _MAINTENANCE_WINDOW_RE.match(str(inputs.get("maintenance_window", ""))):
        errors.append(
            "database_maintenance_window=%s must be ddd:hh24:mi-ddd:hh24:mi in UTC, e.g. sun:04:00-sun:04:30"
            % inputs.get("maintenance_window")
        )
    name = str(inputs.get("name", ""))
    if not _DB_NAME_RE.match(name):
        errors.append(
            "database_name=%s: the database name is 1-63 letters, digits or underscores starting with a letter" % name
        )
    username = str(inputs.get("username", ""))
    if not _DB_NAME_RE.match(username) or username.lower() in RESERVED_USERNAMES:
        errors.append(
            "database_username=%s: the master user is 1-63 letters, digits or underscores starting with a letter, and not "
            "one of %s" % (username, ", ".join(RESERVED_USERNAMES))
        )
    port = inputs.get("port")
    if not isinstance(port, int) or not 1150 <= port <= 65535:
        errors.append("database_port=%s is outside 1150-65535 (RDS for PostgreSQL); 5432 is the default" % port)
    mode = inputs.get("master_password_mode")
    if mode not in PASSWORD_MODES:
        errors.append("database_master_password_mode=%s is not one of %s" % (mode, ", ".join(PASSWORD_MODES)))
    elif engine == "aurora-postgresql" and mode == "secrets_manager":
        errors.append(
            "database_master_password_mode=secrets_manager: Secrets Manager cannot manage the master password of a DB "
            "cluster that is part of an Aurora global database "
            "(https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html#rds-secrets-manager-limitations); "
            "use auto or ssm (generated once, kept in SSM SecureString)"
        )
    elif password_mode(mode, len(regions)) == "secrets_manager" and len(regions) > 1:
        errors.append(
            "database_master_password_mode=secrets_manager: RDS cannot create read replicas of an instance whose master "
            "password it manages in Secrets Manager "
            "(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html#rds-secrets-manager-limitations); "
            "use auto or ssm (generated once, kept in SSM SecureString) with more than one region"
        )
    kms = inputs.get("kms_key_ids") or {}
    if not isinstance(kms, dict):
        errors.append(
            "database_kms_key_ids must be a mapping region -> KMS key ARN or alias (empty: alias/aws/rds everywhere)"
        )
    else:
        foreign = [
            "%s=%s" % (region, key)
            for region, key in kms.items()
            if str(key).startswith("arn:") and str(key).split(":")[3:4] != [region]
        ]
        if foreign:
            errors.append(
                "database_kms_key_ids: %s: a KMS key is regional and an encrypted replica needs a key of its own region; "
                "give each region a key ARN of that region (or leave it out for alias/aws/rds)" % ", ".join(foreign)
            )
        unknown = sorted(set(kms) - set(regions))
        if unknown:
            errors.append(
                "database_kms_key_ids names %s, not regions of the inventory (%s)"
                % (", ".join(unknown), ", ".join(regions))
            )
    for option in ("identifier",):
        value = str(inputs.get(option, ""))
        if not _IDENTIFIER_RE.match(value) or len(value) > 63:
            errors.append(
                "database_%s=%s: an RDS identifier is 1-63 lowercase letters, digits or single hyphens starting with a letter"
                % (option, value)
            )
    if (
        inputs.get("performance_insights")
        and class_family(inputs.get("instance_class", "")) in ("db.t3",)
        and str(inputs.get("instance_class")).endswith((".micro", ".small"))
    ):
        errors.append(
            "database_performance_insights=true: db.t3.micro and db.t3.small do not support Performance Insights; "
            "use db.t4g (any size), db.t3.medium or larger, or turn it off"
        )
    return errors


def plan(inputs: dict[str, Any]) -> dict[str, Any]:
    """The topology for the inventory's regions: who is the writer, who replicates from whom, the names, the allowed
    CIDRs of each region's security group, the KMS key of each region. Raises PlanError on bad input."""
    errors = validate(inputs)
    if errors:
        raise PlanError(errors)
    regions = list(inputs["regions"])
    primary = inputs.get("primary_region") or regions[0]
    identifier = inputs["identifier"]
    cidrs = inputs.get("vpc_cidrs") or {}
    kms = inputs.get("kms_key_ids") or {}
    prefix = "/%s/%s/database" % (inputs.get("cluster", "megapool"), inputs.get("env", "local"))
    members = {}
    for region in regions:
        members[region] = {
            "region": region,
            "role": "primary" if region == primary else "replica",
            "identifier": identifier,
            "source_region": None if region == primary else primary,
            "source_arn_hint": None if region == primary else "arn:aws:rds:%s:<account>:db:%s" % (primary, identifier),
            "kms_key_id": kms.get(region) or DEFAULT_KMS_KEY,
            # Cross-region security group references are not possible: the other regions come in by VPC CIDR.
            "peer_cidrs": [cidrs[other] for other in regions if other != region and cidrs.get(other)],
        }
    return {
        "engine": inputs["engine"],
        "primary_region": primary,
        "replica_regions": [region for region in regions if region != primary],
        "password_mode": password_mode(inputs["master_password_mode"], len(regions), inputs["engine"]),
        # Aurora: the global cluster is named like the regional clusters; each cluster has one instance <id>-1.
        "global_identifier": identifier if inputs["engine"] == "aurora-postgresql" else None,
        "parameters": {
            "master_password": prefix + "/master_password",
            "url": prefix + "/url",
            "reader_url": prefix + "/reader_url",
        },
        "members": members,
    }


def url(username: str, password: str, host: str, port: int, name: str) -> str:
    """The Ecto URL (``ecto://user:password@host:port/name``) with the password percent-encoded."""
    from urllib.parse import quote  # pylint: disable=import-outside-toplevel

    return "ecto://%s:%s@%s:%d/%s" % (quote(username, safe=""), quote(password, safe=""), host, int(port), name)


def topology_error(role: str, region: str, observed: dict[str, Any] | None, source_arn: str | None) -> str | None:
    """Why the existing instance does not fit the planned role, or None (nothing there yet, or it fits).

    ``observed`` is the DescribeDBInstances entry; ``source_arn`` the planned source (replicas only)."""
    if not observed:
        return None
    source = observed.get("ReadReplicaSourceDBInstanceIdentifier")
    if role == "primary" and source:
        return (
            "the database in %s is a read replica of %s, but database_primary_region names %s as the writer: move the "
            "writer with playbooks/db_failover.yml -e database_primary_region=%s, or set database_primary_region to the "
            "current writer's region" % (region, source, region, region)
        )
    if role == "replica" and not source:
        return (
            "the database in %s is a standalone writer, but database_primary_region names another region: after "
            "playbooks/db_failover.yml set database_primary_region to %s in the inventory, or run db_failover.yml to "
            "move the writer back" % (region, region)
        )
    if role == "replica" and source_arn and source != source_arn:
        return "the database in %s replicates from %s, not from %s: run playbooks/db_failover.yml to rebuild it" % (
            region,
            source,
            source_arn,
        )
    return None


def effective(observed: dict[str, Any]) -> dict[str, Any]:
    """The instance as it will be: its ``PendingModifiedValues`` (applied in the next maintenance window) count as
    applied, so a run before the window does not modify again."""
    result = dict(observed)
    result.update(
        {key: value for key, value in (observed.get("PendingModifiedValues") or {}).items() if key in _PENDING_KEYS}
    )
    return result


_PENDING_KEYS = (
    "DBInstanceClass",
    "AllocatedStorage",
    "BackupRetentionPeriod",
    "MultiAZ",
    "EngineVersion",
    "StorageType",
    "IAMDatabaseAuthenticationEnabled",
)


# Settings compared between the inputs and DescribeDBInstances (ModifyDBInstance names), for drift.
def differences(wanted: dict[str, Any], observed: dict[str, Any], role: str) -> dict[str, Any]:
    """The ModifyDBInstance parameters that bring ``observed`` to ``wanted`` (only what differs).

    ``wanted`` uses the ModifyDBInstance names. The engine version compares by prefix (``16`` matches ``16.4``: RDS
    picks the minor). A replica takes no backup window, storage or Multi-AZ change here (it follows its source's).
    """
    changes: dict[str, Any] = {}
    for key, value in wanted.items():
        if value is None:
            continue
        current = observed.get(key)
        if key == "EngineVersion":
            wanted_parts = str(value).split(".")
            if str(current or "").split(".")[: len(wanted_parts)] != wanted_parts:
                changes[key] = value
            continue
        if key == "VpcSecurityGroupIds":
            have = sorted(group["VpcSecurityGroupId"] for group in observed.get("VpcSecurityGroups") or [])
            if have != sorted(value):
                changes[key] = sorted(value)
            continue
        if key == "DBParameterGroupName":
            have = [group["DBParameterGroupName"] for group in observed.get("DBParameterGroups") or []]
            if value and value not in have:
                changes[key] = value
            continue
        if key == "PerformanceInsightsEnabled":
            if bool(current) != bool(value):
                changes["EnablePerformanceInsights"] = bool(value)
            continue
        if key == "IAMDatabaseAuthenticationEnabled":
            if bool(current) != bool(value):
                changes["EnableIAMDatabaseAuthentication"] = bool(value)
            continue
        if isinstance(value, str) and isinstance(current, str) and key.startswith("Preferred"):
            if value.lower() != current.lower():
                changes[key] = value
            continue
        if current != value:
            changes[key] = value
    if role == "replica":
        for key in ("PreferredBackupWindow", "MultiAZ", "AllocatedStorage", "MaxAllocatedStorage"):
            changes.pop(key, None)
    return changes


# ---------------------------------------------------------------------------------------------- Aurora global database
def global_membership(global_cluster: dict[str, Any] | None, cluster_arn: str | None) -> dict[str, Any]:
    """Where ``cluster_arn`` stands in the DescribeGlobalClusters entry: ``member``, ``is_writer``, the writer's ARN
    and the other members' ARNs."""
    members = (global_cluster or {}).get("GlobalClusterMembers") or []
    mine = [m for m in members if cluster_arn and m.get("DBClusterArn") == cluster_arn]
    writer = [m["DBClusterArn"] for m in members if m.get("IsWriter")]
    return {
        "member": bool(mine),
        "is_writer": bool(mine and mine[0].get("IsWriter")),
        "writer_arn": writer[0] if writer else None,
        "others": sorted(m["DBClusterArn"] for m in members if m.get("DBClusterArn") != cluster_arn),
    }


def cluster_topology_error(
    role: str, region: str, observed: dict[str, Any] | None, global_cluster: dict[str, Any] | None, global_id: str
) -> str | None:
    """Why the region's existing DB cluster does not fit the planned role in the global database, or None.

    ``observed`` is the DescribeDBClusters entry (None: nothing there yet), ``global_cluster`` the DescribeGlobalClusters
    entry (None: no global cluster)."""
    if not observed:
        return None
    membership = global_membership(global_cluster, observed.get("DBClusterArn"))
    if not membership["member"]:
        return (
            "the DB cluster %s in %s is not a member of the global database %s (a standalone cluster, e.g. left by a "
            "detach or a restore): delete it or give the role another database_identifier, then run again"
            % (observed.get("DBClusterIdentifier"), region, global_id)
        )
    writer_region = str(membership["writer_arn"] or "").split(":")[3:4]
    if role == "primary" and not membership["is_writer"]:
        return (
            "the DB cluster in %s is a secondary cluster of %s, but database_primary_region names %s as the writer: set "
            "database_primary_region to the current writer's region (%s), or move the writer with a switchover of the "
            "global database (docs/database.md, Failover)"
            % (region, global_id, region, ", ".join(writer_region) or "unknown")
        )
    if role == "secondary" and membership["is_writer"]:
        return (
            "the DB cluster in %s is the writer of %s, but database_primary_region names another region: set "
            "database_primary_region to %s in the inventory" % (region, global_id, region)
        )
    return None


def cluster_differences(wanted: dict[str, Any], observed: dict[str, Any]) -> dict[str, Any]:
    """The ModifyDBCluster parameters that bring the DescribeDBClusters entry ``observed`` to ``wanted`` (only what
    differs). ``wanted`` uses the DescribeDBClusters names; None means "leave it"."""
    changes: dict[str, Any] = {}
    for key, value in wanted.items():
        if value is None:
            continue
        current = observed.get(key)
        if key == "VpcSecurityGroupIds":
            have = sorted(group["VpcSecurityGroupId"] for group in observed.get("VpcSecurityGroups") or [])
            if have != sorted(value):
                changes[key] = sorted(value)
        elif key == "IAMDatabaseAuthenticationEnabled":
            if bool(current) != bool(value):
                changes["EnableIAMDatabaseAuthentication"] = bool(value)
        elif key == "DBClusterParameterGroup":
            if current != value:
                changes["DBClusterParameterGroupName"] = value
        elif key.startswith("Preferred"):
            if str(value).lower() != str(current or "").lower():
                changes[key] = value
        elif current != value:
            changes[key] = value
    return changes
