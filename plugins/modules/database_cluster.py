#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: database_cluster
short_description: One region's member of an Aurora PostgreSQL global database, its master password and its Ecto URLs
version_added: 0.1.0
description:
  - Manages the Aurora side of the role C(megapool.aws.database) (C(database_engine=aurora-postgresql)) in one region.
    amazon.aws has no module for the global cluster itself (C(CreateGlobalCluster)) nor a wait for a secondary
    cluster, so the global cluster, the region's DB cluster and its DB instances are managed here together.
  - O(role=primary) creates the global cluster (C(CreateGlobalCluster), encrypted, with O(deletion_protection)) when it
    does not exist, then the writer cluster in it (C(CreateDBCluster) with C(GlobalClusterIdentifier), encrypted with
    O(kms_key_id), the master user and the database) and its DB instances.
  - O(role=secondary) creates a secondary cluster of the global cluster in this region (no master user and no
    database name, they come from the primary; an encrypted secondary in another region is given a KMS key of its own
    region, O(kms_key_id), C(CreateDBCluster) C(KmsKeyId)) and its DB instances, once the global cluster exists.
  - "The master password: Secrets Manager cannot manage the password of a cluster that is part of an Aurora global
    database (U(https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html#rds-secrets-manager-limitations)),
    so it is generated once (or taken from O(master_password)) and kept as SSM SecureString O(master_password_parameter)
    in the primary's region, and copied to every secondary's region. It is never returned or logged."
  - With O(url_parameter) and O(reader_url_parameter) the module writes the Ecto URLs of the writer and of this
    region's reader endpoint (the cluster's C(ReaderEndpoint)) as SSM SecureString parameters of this region. The
    writer is the global cluster's writer endpoint (C(GlobalCluster.Endpoint), which always points at the current
    primary cluster's writer, U(https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_GlobalCluster.html)),
    or the primary cluster's C(Endpoint) where the global cluster has none.
  - Settings that drift (backup retention and window, maintenance window, deletion protection, IAM authentication,
    security groups, the instances' class and Performance Insights) are modified (C(ModifyDBCluster),
    C(ModifyDBInstance)). A cluster whose place differs (a standalone cluster, a secondary where the writer is
    planned or the writer where a secondary is planned) fails with the fix.
  - O(state=absent) removes the region's member in the order AWS requires. A secondary is removed from the global
    cluster (C(RemoveFromGlobalCluster)) and waited for until it is a standalone C(available) cluster, then its
    instances and the cluster are deleted; the primary is refused while the global cluster has other members, else it
    is removed from the global cluster, its instances deleted, the cluster deleted with a final cluster snapshot
    (unless O(skip_final_snapshot)), then the global cluster. Deletion protection is only turned off with
    O(force_delete).
  - Every wait is bounded (O(wait_timeout), O(poll_interval)); RV(events) lists the states seen.
author:
  - megapool.aws maintainers (@megapool)
options:
  identifier:
    description: The DB cluster identifier (the same in every region); the instances are C(<identifier>-1) and up.
    type: str
    required: true
  global_identifier:
    description: The global cluster identifier; by default O(identifier).
    type: str
  role:
    description: V(primary) (the writer cluster) or V(secondary) (a read-only cluster of the global database).
    type: str
    choices: [primary, secondary]
    default: primary
  primary_region:
    description: The primary cluster's region (O(role=secondary)).
    type: str
  engine_version:
    description: The Aurora PostgreSQL version, major.minor (every member of a global database runs the same).
    type: str
    default: "16.4"
  instance_class:
    description: The DB instance class of the cluster's instances (memory-optimised for a global database).
    type: str
    default: db.r6g.large
  instances:
    description: How many DB instances the cluster has (the first one is the writer of the primary cluster).
    type: int
    default: 1
  backup_retention:
    description: Days of automated backups (1-35).
    type: int
    default: 7
  performance_insights:
    description: Turn Performance Insights on for the instances.
    type: bool
    default: false
  parameter_group:
    description: A DB cluster parameter group name; empty for the engine's default.
    type: str
    default: ""
  db_name:
    description: The database created in the global database (primary only).
    type: str
    default: megapool
  username:
    description: The master user name (primary only).
    type: str
    default: megapool
  deletion_protection:
    description: Deletion protection of the cluster (the primary sets the global cluster's too).
    type: bool
    default: true
  master_password_parameter:
    description: The SSM SecureString parameter of the master password, in this region.
    type: str
  skip_final_snapshot:
    description: With O(state=absent), delete the primary cluster without a final cluster snapshot.
    type: bool
    default: false
  final_snapshot_identifier:
    description: The final cluster snapshot's name; by default C(<identifier>-final-<UTC timestamp>).
    type: str
  wait_timeout:
    description: Seconds to wait for a cluster or an instance to become available, detached or deleted.
    type: int
    default: 3600
extends_documentation_fragment:
  - megapool.aws.database
  - megapool.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The writer cluster of the global database in eu-north-1
  megapool.aws.database_cluster:
    region: eu-north-1
    identifier: megapool-prod
    role: primary
    engine_version: "16.4"
    instance_class: db.r6g.large
    subnet_group: megapool-prod
    security_group_ids: [sg-0123456789abcdef0]
    master_password_parameter: /megapool/prod/database/master_password
    url_parameter: /megapool/prod/database/url
    reader_url_parameter: /megapool/prod/database/reader_url

- name: A secondary cluster in ap-southeast-1
  megapool.aws.database_cluster:
    region: ap-southeast-1
    identifier: megapool-prod
    role: secondary
    primary_region: eu-north-1
    engine_version: "16.4"
    instance_class: db.r6g.large
    subnet_group: megapool-prod
    security_group_ids: [sg-0fedcba9876543210]
    master_password_parameter: /megapool/prod/database/master_password
    url_parameter: /megapool/prod/database/url
    reader_url_parameter: /megapool/prod/database/reader_url
"""

RETURN = r"""
cluster:
  description: The region's cluster after the run (predicted in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    identifier:
      description: The DB cluster identifier.
      type: str
    arn:
      description: The ARN.
      type: str
    status:
      description: The cluster's C(Status).
      type: str
    role:
      description: C(primary) or C(secondary).
      type: str
    endpoint:
      description: The cluster's (writer) endpoint.
      type: str
    reader_endpoint:
      description: The cluster's reader endpoint.
      type: str
    writer_endpoint:
      description: The global database's writer endpoint (what O(url_parameter) points at).
      type: str
    port:
      description: The port.
      type: int
    global_cluster_arn:
      description: The global cluster's ARN.
      type: str
    instances:
      description: The identifiers of the cluster's DB instances.
      type: list
      elements: str
parameters:
  description: ARNs of the SSM parameters this region holds (C(master_password), C(url), C(reader_url)).
  returned: always
  type: dict
events:
  description: What was done and the states seen.
  returned: always
  type: list
  elements: str
diff:
  description: The cluster's settings before and after.
  returned: always
  type: dict
final_snapshot:
  description: The final cluster snapshot taken on delete.
  returned: when one was taken
  type: str
"""

from typing import Any

from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.base import aws_call
from ansible_collections.megapool.aws.plugins.module_utils.database_common import DATABASE_ARGUMENT_SPEC
from ansible_collections.megapool.aws.plugins.module_utils.database_common import DatabaseMember
from ansible_collections.megapool.aws.plugins.module_utils.database_plan import cluster_differences
from ansible_collections.megapool.aws.plugins.module_utils.database_plan import cluster_topology_error
from ansible_collections.megapool.aws.plugins.module_utils.database_plan import global_membership

ENGINE = "aurora-postgresql"

ARGUMENT_SPEC: dict[str, Any] = dict(
    DATABASE_ARGUMENT_SPEC,
    global_identifier=dict(type="str"),
    role=dict(type="str", choices=["primary", "secondary"], default="primary"),
    primary_region=dict(type="str"),
    engine_version=dict(type="str", default="16.4"),
    instance_class=dict(type="str", default="db.r6g.large"),
    instances=dict(type="int", default=1),
)


class _Cluster(DatabaseMember):
    """One region's member of the global database, its instances and its parameters."""

    def __init__(self, module: MegapoolAWSModule):
        super().__init__(module)
        self.global_id = self.params["global_identifier"] or self.params["identifier"]

    # ------------------------------------------------------------------ reads
    def describe_global(self, rds: Any = None) -> dict[str, Any] | None:
        return self.describe_first(
            "the global cluster %s" % self.global_id,
            (rds or self.rds).describe_global_clusters,
            "GlobalClusterNotFoundFault",
            "GlobalClusters",
            GlobalClusterIdentifier=self.global_id,
        )

    def describe_cluster(self, rds: Any = None) -> dict[str, Any] | None:
        return self.describe_first(
            "the DB cluster %s" % self.params["identifier"],
            (rds or self.rds).describe_db_clusters,
            "DBClusterNotFoundFault",
            "DBClusters",
            DBClusterIdentifier=self.params["identifier"],
        )

    def describe_instances(self) -> list[dict[str, Any]]:
        found = aws_call(
            "read the instances of %s" % self.params["identifier"],
            self.rds.describe_db_instances,
            Filters=[{"Name": "db-cluster-id", "Values": [self.params["identifier"]]}],
        )
        return sorted(found["DBInstances"], key=lambda db: db["DBInstanceIdentifier"])

    # ------------------------------------------------------------------ waits
    def wait(self, read: Any, done: Any, name: str, what: str) -> Any:
        """Poll ``read()`` until ``done(value)``; fail after wait_timeout with the last state."""
        return self.poll(
            read,
            lambda value: (value or {}).get("Status") or (value or {}).get("DBInstanceStatus") or "gone",
            done,
            name,
            what,
        )

    def wait_cluster(self, what: str = "available", detached_from: Any = None) -> dict[str, Any]:
        """Until the cluster is ``available`` (and, with ``detached_from`` (the global cluster's RDS client), no longer
        a member of the global cluster)."""

        def done(cluster: dict[str, Any] | None) -> bool:
            if not cluster or cluster.get("Status") != "available":
                return False
            if detached_from is None:
                return True
            return not global_membership(self.describe_global(detached_from), cluster.get("DBClusterArn"))["member"]

        return self.wait(self.describe_cluster, done, self.params["identifier"], what)

    def _describe_instance(self, identifier: str) -> dict[str, Any] | None:
        return self.describe_first(
            "the DB instance %s" % identifier,
            self.rds.describe_db_instances,
            "DBInstanceNotFound",
            "DBInstances",
            DBInstanceIdentifier=identifier,
        )

    def wait_instance(self, identifier: str, gone: bool = False) -> None:
        def done(instance: dict[str, Any] | None) -> bool:
            return instance is None if gone else bool(instance) and instance["DBInstanceStatus"] == "available"

        self.wait(lambda: self._describe_instance(identifier), done, identifier, "deleted" if gone else "available")

    # ------------------------------------------------------------------ present
    def _tags(self) -> list[dict[str, str]]:
        return [{"Key": k, "Value": str(v)} for k, v in (self.params["tags"] or {}).items()]

    def create_global(self) -> None:
        p = self.params
        self.changed = True
        self.events.append("global cluster %s created" % self.global_id)
        if self.module.check_mode:
            return
        aws_call(
            "create the global cluster %s" % self.global_id,
            self.rds.create_global_cluster,
            GlobalClusterIdentifier=self.global_id,
            Engine=ENGINE,
            EngineVersion=p["engine_version"],
            StorageEncrypted=True,
            DeletionProtection=p["deletion_protection"],
        )

    def create_cluster(self, password: str | None) -> dict[str, Any] | None:
        p = self.params
        args: dict[str, Any] = dict(
            DBClusterIdentifier=p["identifier"],
            GlobalClusterIdentifier=self.global_id,
            Engine=ENGINE,
            EngineVersion=p["engine_version"],
            Port=p["port"],
            DBSubnetGroupName=p["subnet_group"],
            VpcSecurityGroupIds=p["security_group_ids"],
            StorageEncrypted=True,
            # A KMS key of this region: an encrypted cluster in another region cannot use the primary's key
            # (CreateDBCluster KmsKeyId, https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html).
            KmsKeyId=p["kms_key_id"],
            BackupRetentionPeriod=p["backup_retention"],
            PreferredBackupWindow=p["backup_window"],
            PreferredMaintenanceWindow=p["maintenance_window"],
            DeletionProtection=p["deletion_protection"],
            EnableIAMDatabaseAuthentication=p["iam_auth"],
            CopyTagsToSnapshot=True,
            Tags=self._tags(),
        )
        if p["parameter_group"]:
            args["DBClusterParameterGroupName"] = p["parameter_group"]
        if p["role"] == "primary":
            # A secondary takes neither: the master user and the database are the primary's.
            args.update(MasterUsername=p["username"], MasterUserPassword=password, DatabaseName=p["db_name"])
        self.changed = True
        self.events.append("%s %s cluster created in %s" % (p["identifier"], p["role"], self.global_id))
        if self.module.check_mode:
            return None
        aws_call("create the DB cluster %s" % p["identifier"], self.rds.create_db_cluster, **args)
        return self.wait_cluster()

    def converge_instances(self) -> list[str]:
        p = self.params
        have = {db["DBInstanceIdentifier"]: db for db in self.describe_instances()}
        wanted = ["%s-%d" % (p["identifier"], n) for n in range(1, p["instances"] + 1)]
        for name in wanted:
            instance = have.get(name)
            if instance is None:
                self.changed = True
                self.events.append("%s instance %s created" % (p["identifier"], name))
                if not self.module.check_mode:
                    aws_call(
                        "create the DB instance %s" % name,
                        self.rds.create_db_instance,
                        DBInstanceIdentifier=name,
                        DBClusterIdentifier=p["identifier"],
                        Engine=ENGINE,
                        DBInstanceClass=p["instance_class"],
                        PubliclyAccessible=False,
                        EnablePerformanceInsights=p["performance_insights"],
                        AutoMinorVersionUpgrade=True,
                        Tags=self._tags(),
                    )
                    self.wait_instance(name)
                continue
            changes: dict[str, Any] = {}
            if (instance.get("PendingModifiedValues") or {}).get(
                "DBInstanceClass", instance.get("DBInstanceClass")
            ) != p["instance_class"]:
                changes["DBInstanceClass"] = p["instance_class"]
            if bool(instance.get("PerformanceInsightsEnabled")) != p["performance_insights"]:
                changes["EnablePerformanceInsights"] = p["performance_insights"]
            if changes:
                self.changed = True
                self.events.append("%s modified: %s" % (name, ", ".join(sorted(changes))))
                if not self.module.check_mode:
                    aws_call(
                        "modify %s" % name,
                        self.rds.modify_db_instance,
                        DBInstanceIdentifier=name,
                        ApplyImmediately=p["apply_immediately"],
                        **changes,
                    )
        return wanted

    def wanted_settings(self) -> dict[str, Any]:
        p = self.params
        return dict(
            BackupRetentionPeriod=p["backup_retention"],
            PreferredBackupWindow=p["backup_window"],
            PreferredMaintenanceWindow=p["maintenance_window"],
            DeletionProtection=p["deletion_protection"],
            IAMDatabaseAuthenticationEnabled=p["iam_auth"],
            VpcSecurityGroupIds=p["security_group_ids"] or None,
            DBClusterParameterGroup=p["parameter_group"] or None,
        )

    def present(self) -> dict[str, Any]:
        p = self.params
        primary_rds = self.client("rds", p["primary_region"] if p["role"] == "secondary" else None)
        global_cluster = self.describe_global(primary_rds)
        before = self.describe_cluster()
        error = cluster_topology_error(p["role"], self.region, before, global_cluster, self.global_id)
        if error:
            self.module.fail_json(msg=error)
        if global_cluster is None:
            if p["role"] == "secondary":
                if not self.module.check_mode:
                    self.module.fail_json(
                        msg="The global cluster %s does not exist yet: build the primary cluster in %s first"
                        % (self.global_id, p["primary_region"])
                    )
            else:
                self.create_global()
        password = self.master_password(p["primary_region"] if p["role"] == "secondary" else None, "primary region")
        cluster = before
        if cluster is None:
            cluster = self.create_cluster(password)
        else:
            changes = cluster_differences(self.wanted_settings(), cluster)
            if changes:
                self.changed = True
                self.events.append("%s modified: %s" % (p["identifier"], ", ".join(sorted(changes))))
                if not self.module.check_mode:
                    aws_call(
                        "modify %s" % p["identifier"],
                        self.rds.modify_db_cluster,
                        DBClusterIdentifier=p["identifier"],
                        ApplyImmediately=p["apply_immediately"],
                        **changes,
                    )
                    cluster = self.describe_cluster()
            self._tag(cluster)
        instances = self.converge_instances()
        if cluster is not None and not self.module.check_mode:
            cluster = self.describe_cluster()
        global_cluster = self.describe_global(primary_rds) if not self.module.check_mode or global_cluster else None
        writer = self.writer_endpoint(global_cluster, primary_rds)
        reader = (cluster or {}).get("ReaderEndpoint")
        self.write_urls(password, (writer, p["port"]) if writer else None, (reader, p["port"]) if reader else None)
        return dict(
            changed=self.changed,
            cluster=_view(cluster, p["role"], writer, global_cluster, instances),
            parameters=self.parameter_arns(),
            events=self.events,
            diff=dict(
                before=_settings(before),
                after=_settings(cluster)
                if cluster
                else {"identifier": p["identifier"], "role": p["role"], "created": True},
            ),
        )

    def writer_endpoint(self, global_cluster: dict[str, Any] | None, primary_rds: Any) -> str | None:
        if not global_cluster:
            return None
        if global_cluster.get("Endpoint"):
            return global_cluster["Endpoint"]
        writer_arn = global_membership(global_cluster, None)["writer_arn"]
        if not writer_arn:
            return None
        region = writer_arn.split(":")[3]
        found = aws_call(
            "read the primary cluster", self.client("rds", region).describe_db_clusters, DBClusterIdentifier=writer_arn
        )
        return (found["DBClusters"] or [{}])[0].get("Endpoint") if found else None

    def _tag(self, cluster: dict[str, Any] | None) -> None:
        wanted = self.params["tags"] or {}
        if not cluster or not wanted:
            return
        have = {tag["Key"]: tag["Value"] for tag in cluster.get("TagList") or []}
        missing = {k: str(v) for k, v in wanted.items() if have.get(k) != str(v)}
        if not missing:
            return
        self.changed = True
        self.events.append("%s tagged: %s" % (self.params["identifier"], ", ".join(sorted(missing))))
        if not self.module.check_mode:
            aws_call(
                "tag %s" % self.params["identifier"],
                self.rds.add_tags_to_resource,
                ResourceName=cluster["DBClusterArn"],
                Tags=[{"Key": k, "Value": v} for k, v in missing.items()],
            )

    # ------------------------------------------------------------------ absent
    def absent(self) -> dict[str, Any]:
        p = self.params
        cluster = self.describe_cluster()
        global_rds = self.client("rds", p["primary_region"])
        global_cluster = self.describe_global(global_rds)
        snapshot = None
        # The global cluster goes with its writer (wherever it is after a switchover) or with the planned primary.
        delete_global = p["role"] == "primary"
        if cluster is not None:
            self.refuse_if_protected(cluster)
            membership = global_membership(global_cluster, cluster.get("DBClusterArn"))
            if membership["member"] and membership["is_writer"] and membership["others"]:
                self.module.fail_json(
                    msg="%s in %s is the primary cluster of %s, which still has the secondary clusters %s: remove them first "
                    "(playbooks/teardown.yml removes every region's secondary before the primary)"
                    % (p["identifier"], self.region, self.global_id, ", ".join(membership["others"]))
                )
            was_writer = membership["is_writer"] or not membership["member"]
            delete_global = delete_global or membership["is_writer"]
            if membership["member"]:
                self.changed = True
                self.events.append("%s removed from the global cluster %s" % (p["identifier"], self.global_id))
                if not self.module.check_mode:
                    aws_call(
                        "remove %s from %s" % (p["identifier"], self.global_id),
                        self.rds.remove_from_global_cluster,
                        GlobalClusterIdentifier=self.global_id,
                        DbClusterIdentifier=cluster["DBClusterArn"],
                    )
                    # A removed cluster is promoting for a while; a snapshot or a delete needs it available
                    # (https://github.com/hashicorp/terraform-provider-aws/pull/40333).
                    cluster = self.wait_cluster("standalone", detached_from=global_rds)
            snapshot = self.delete_cluster(cluster, final_snapshot=was_writer and not p["skip_final_snapshot"])
        if delete_global and global_cluster is not None:
            self.delete_global(global_rds, global_cluster, cluster)
        if p["delete_parameters"]:
            self.delete_parameters()
        result: dict[str, Any] = dict(
            changed=self.changed,
            cluster={},
            parameters={},
            events=self.events,
            diff=dict(before=_settings(cluster), after={}),
        )
        if snapshot:
            result["final_snapshot"] = snapshot
        return result

    def delete_cluster(self, cluster: dict[str, Any], final_snapshot: bool) -> str | None:
        p = self.params
        identifier = cluster["DBClusterIdentifier"]
        snapshot = None
        if final_snapshot:
            snapshot = self.final_snapshot_name(identifier)
        members = [m["DBInstanceIdentifier"] for m in cluster.get("DBClusterMembers") or []]
        self.changed = True
        for name in members:
            self.events.append("%s instance %s deleted" % (identifier, name))
        self.events.append("%s deleted%s" % (identifier, " (final cluster snapshot %s)" % snapshot if snapshot else ""))
        if self.module.check_mode:
            return snapshot
        if cluster.get("DeletionProtection"):
            aws_call(
                "turn off deletion protection of %s" % identifier,
                self.rds.modify_db_cluster,
                DBClusterIdentifier=identifier,
                DeletionProtection=False,
                ApplyImmediately=True,
            )
        for name in members:
            # A cluster's instances have no final snapshot of their own (the cluster's is taken).
            aws_call(
                "delete the DB instance %s" % name,
                self.rds.delete_db_instance,
                DBInstanceIdentifier=name,
                SkipFinalSnapshot=True,
            )
        for name in members:
            self.wait_instance(name, gone=True)
        args: dict[str, Any] = dict(DBClusterIdentifier=identifier)
        if snapshot:
            args["FinalDBSnapshotIdentifier"] = snapshot
        else:
            args["SkipFinalSnapshot"] = True
        aws_call("delete the DB cluster %s" % identifier, self.rds.delete_db_cluster, **args)
        self.wait(self.describe_cluster, lambda found: found is None, identifier, "deleted")
        return snapshot

    def delete_global(self, rds: Any, global_cluster: dict[str, Any], removed: dict[str, Any] | None) -> None:
        others = [
            m["DBClusterArn"]
            for m in global_cluster.get("GlobalClusterMembers") or []
            if not removed or m["DBClusterArn"] != removed.get("DBClusterArn")
        ]
        if others:
            self.module.fail_json(
                msg="The global cluster %s still has the members %s: remove them first"
                % (self.global_id, ", ".join(others))
            )
        if global_cluster.get("DeletionProtection") and not self.params["force_delete"]:
            self.module.fail_json(
                msg="The global cluster %s has deletion protection on: set database_deletion_protection: false and run site.yml "
                "first, or pass database_force_delete=true" % self.global_id
            )
        self.changed = True
        self.events.append("global cluster %s deleted" % self.global_id)
        if self.module.check_mode:
            return
        if global_cluster.get("DeletionProtection"):
            aws_call(
                "turn off deletion protection of %s" % self.global_id,
                rds.modify_global_cluster,
                GlobalClusterIdentifier=self.global_id,
                DeletionProtection=False,
            )
        aws_call(
            "delete the global cluster %s" % self.global_id,
            rds.delete_global_cluster,
            GlobalClusterIdentifier=self.global_id,
        )


def _settings(cluster: dict[str, Any] | None) -> dict[str, Any]:
    if not cluster:
        return {}
    return dict(
        identifier=cluster.get("DBClusterIdentifier"),
        engine_version=cluster.get("EngineVersion"),
        backup_retention=cluster.get("BackupRetentionPeriod"),
        deletion_protection=cluster.get("DeletionProtection"),
        storage_encrypted=cluster.get("StorageEncrypted"),
        global_cluster=cluster.get("GlobalClusterIdentifier"),
        instances=sorted(m["DBInstanceIdentifier"] for m in cluster.get("DBClusterMembers") or []),
    )


def _view(
    cluster: dict[str, Any] | None,
    role: str,
    writer: str | None,
    global_cluster: dict[str, Any] | None,
    instances: list[str],
) -> dict[str, Any]:
    if not cluster:
        return {}
    return dict(
        identifier=cluster["DBClusterIdentifier"],
        arn=cluster.get("DBClusterArn"),
        status=cluster.get("Status"),
        role=role,
        endpoint=cluster.get("Endpoint"),
        reader_endpoint=cluster.get("ReaderEndpoint"),
        writer_endpoint=writer,
        port=cluster.get("Port"),
        global_cluster_arn=(global_cluster or {}).get("GlobalClusterArn"),
        instances=instances,
    )


def _validate(module: MegapoolAWSModule) -> None:
    p = module.params
    if p["state"] == "present":
        if not p["subnet_group"]:
            module.fail_json(msg="subnet_group is required with state=present")
        if not p["master_password_parameter"]:
            module.fail_json(msg="master_password_parameter is required with state=present")
        if p["instances"] < 1:
            module.fail_json(msg="instances must be at least 1")
    if p["role"] == "secondary" and not p["primary_region"]:
        module.fail_json(msg="primary_region is required with role=secondary")
    if p["wait_timeout"] < 1 or p["poll_interval"] <= 0:
        module.fail_json(msg="wait_timeout must be at least 1 and poll_interval positive")


def main() -> None:
    module = MegapoolAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    _validate(module)
    cluster = _Cluster(module)
    module.run(
        cluster.present if module.params["state"] == "present" else cluster.absent,
        failure_result=cluster.failure_result,
    )


if __name__ == "__main__":
    main()
