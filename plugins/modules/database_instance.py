#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: database_instance
short_description: An RDS for PostgreSQL writer or cross-region read replica, its master password and its Ecto URLs
version_added: 0.1.0
description:
  - Manages the database of one region of a multi-region environment, the way the role C(megapool.aws.database) plans
    it, all in one module because the pieces depend on each other (the URL needs the password and the endpoints, a
    replica needs its source's ARN and a KMS key of its own region, a failover promotes and rebuilds).
  - O(role=primary) creates the writer (encrypted, in the given DB subnet group and security groups, not public);
    O(role=replica) creates a cross-region read replica of O(source_identifier) in O(source_region) (an encrypted
    replica in another region needs a KMS key of its own region, O(kms_key_id); the AWS-managed C(alias/aws/rds)
    exists in every region).
  - "The master password: O(master_password_mode=secrets_manager) lets RDS generate and keep it in Secrets Manager
    (C(ManageMasterUserPassword)); RDS does not allow read replicas of such an instance
    (U(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html#rds-secrets-manager-limitations)),
    so with replicas use O(master_password_mode=ssm): the password is generated once (or taken from O(master_password))
    and kept as an SSM SecureString O(master_password_parameter) in the writer's region, and copied to every replica's
    region so that a promoted replica's region has it too. The password is never returned or logged."
  - With O(url_parameter) and O(reader_url_parameter) the module writes the Ecto URLs
    (C(ecto://user:password@host:port/name)) of the writer and of this region's reader as SSM SecureString parameters
    of this region, for the release's task-definition C(secrets); only their ARNs are returned.
  - Settings that drift (class, storage, backups, windows, Performance Insights, parameter group, security groups,
    deletion protection, IAM authentication, engine version upgrade) are modified with C(ModifyDBInstance); pending
    modifications count as applied, so a run before the maintenance window does not modify again.
  - An existing instance whose place in the topology differs (a replica where a writer is planned, a standalone writer
    where a replica is planned) fails with the fix, unless O(promote) (a replica becomes the writer, a failover) or
    O(rebuild) (the instance is deleted, with a final snapshot of a former writer, and created again as a replica of
    the new source).
  - O(state=absent) deletes the instance (a writer with a final snapshot unless O(skip_final_snapshot); RDS takes no
    final snapshot of a read replica) and, with O(delete_parameters), the SSM parameters. Deletion protection is only
    turned off with O(force_delete).
  - Every wait is bounded (O(wait_timeout), O(poll_interval)); RV(events) lists the states seen.
author:
  - megapool.aws maintainers (@megapool)
options:
  identifier:
    description: The DB instance identifier (the same in every region).
    type: str
    required: true
  role:
    description: V(primary) (the writer) or V(replica) (a read replica of O(source_identifier) in O(source_region)).
    type: str
    choices: [primary, replica]
    default: primary
  source_region:
    description: The writer's region (O(role=replica)).
    type: str
  source_identifier:
    description: The writer's identifier (O(role=replica)); by default O(identifier).
    type: str
  promote:
    description: With O(role=primary), promote the instance if it is a read replica (a failover).
    type: bool
    default: false
  rebuild:
    description: With O(role=replica), delete an instance that is not a replica of the source and create the replica again.
    type: bool
    default: false
  engine:
    description: The engine.
    type: str
    choices: [postgres]
    default: postgres
  engine_version:
    description: Major (V(16), RDS picks the minor) or major.minor version; a newer major on an existing instance is an upgrade.
    type: str
    default: "16"
  instance_class:
    description: The DB instance class.
    type: str
    default: db.t4g.micro
  allocated_storage:
    description: Storage in GiB (writer).
    type: int
    default: 20
  max_allocated_storage:
    description: Storage autoscaling limit in GiB; V(0) is off.
    type: int
    default: 0
  storage_type:
    description: The storage type.
    type: str
    default: gp3
  multi_az:
    description: A standby in another AZ.
    type: bool
    default: false
  backup_retention:
    description: Days of automated backups (0-35; read replicas need at least 1 on their source).
    type: int
    default: 7
  performance_insights:
    description: Turn Performance Insights on.
    type: bool
    default: false
  parameter_group:
    description: A DB parameter group name; empty for the engine's default.
    type: str
    default: ""
  db_name:
    description: The database created on the writer.
    type: str
    default: megapool
  username:
    description: The master user name.
    type: str
    default: megapool
  deletion_protection:
    description: Deletion protection.
    type: bool
    default: true
  master_password_mode:
    description: V(secrets_manager) (RDS manages it; no replicas possible) or V(ssm) (generated once, SSM SecureString).
    type: str
    choices: [secrets_manager, ssm]
    default: ssm
  master_password_parameter:
    description: The SSM parameter of the password (V(ssm) mode), in this region.
    type: str
  skip_final_snapshot:
    description: With O(state=absent), delete a writer without a final snapshot.
    type: bool
    default: false
  final_snapshot_identifier:
    description: The final snapshot's name; by default C(<identifier>-final-<UTC timestamp>).
    type: str
  delete_automated_backups:
    description:
      - With O(state=absent), delete the automated backups too. Kept by default (RDS retains them for their retention
        period, so a deleted instance can still be restored to a point in time).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for the instance to become available or deleted.
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
- name: The writer in eu-north-1 (password in SSM, URLs for the release)
  megapool.aws.database_instance:
    region: eu-north-1
    identifier: megapool-prod-db
    role: primary
    subnet_group: megapool-prod-db
    security_group_ids: [sg-0123456789abcdef0]
    master_password_parameter: /megapool/prod/database/master_password
    url_parameter: /megapool/prod/database/url
    reader_url_parameter: /megapool/prod/database/reader_url

- name: A read replica in ap-southeast-1
  megapool.aws.database_instance:
    region: ap-southeast-1
    identifier: megapool-prod-db
    role: replica
    source_region: eu-north-1
    subnet_group: megapool-prod-db
    security_group_ids: [sg-0fedcba9876543210]
    master_password_parameter: /megapool/prod/database/master_password
    url_parameter: /megapool/prod/database/url
    reader_url_parameter: /megapool/prod/database/reader_url
"""

RETURN = r"""
instance:
  description: The instance after the run (predicted in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    identifier:
      description: The identifier.
      type: str
    arn:
      description: The ARN.
      type: str
    status:
      description: C(DBInstanceStatus).
      type: str
    endpoint:
      description: The instance's DNS name.
      type: str
    port:
      description: The port.
      type: int
    role:
      description: C(primary) or C(replica).
      type: str
    source_arn:
      description: The source of a replica.
      type: str
    writer_endpoint:
      description: The writer's DNS name (the source's for a replica).
      type: str
    master_secret_arn:
      description: The Secrets Manager secret RDS keeps the password in (V(secrets_manager) mode).
      type: str
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
  description: The instance's settings before and after.
  returned: always
  type: dict
final_snapshot:
  description: The final snapshot taken on delete.
  returned: when one was taken
  type: str
"""

import json
from typing import Any

from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.base import aws_call
from ansible_collections.megapool.aws.plugins.module_utils.database_common import DATABASE_ARGUMENT_SPEC
from ansible_collections.megapool.aws.plugins.module_utils.database_common import DatabaseMember
from ansible_collections.megapool.aws.plugins.module_utils.database_plan import differences
from ansible_collections.megapool.aws.plugins.module_utils.database_plan import effective
from ansible_collections.megapool.aws.plugins.module_utils.database_plan import topology_error

ARGUMENT_SPEC: dict[str, Any] = dict(
    DATABASE_ARGUMENT_SPEC,
    role=dict(type="str", choices=["primary", "replica"], default="primary"),
    source_region=dict(type="str"),
    source_identifier=dict(type="str"),
    promote=dict(type="bool", default=False),
    rebuild=dict(type="bool", default=False),
    engine=dict(type="str", choices=["postgres"], default="postgres"),
    engine_version=dict(type="str", default="16"),
    instance_class=dict(type="str", default="db.t4g.micro"),
    allocated_storage=dict(type="int", default=20),
    max_allocated_storage=dict(type="int", default=0),
    storage_type=dict(type="str", default="gp3"),
    multi_az=dict(type="bool", default=False),
    master_password_mode=dict(type="str", choices=["secrets_manager", "ssm"], default="ssm", no_log=False),
    delete_automated_backups=dict(type="bool", default=False),
)


class _Database(DatabaseMember):
    """One region's instance, its source and its parameters."""

    # ------------------------------------------------------------------ reads
    def describe(self, rds: Any = None, identifier: str | None = None) -> dict[str, Any] | None:
        name = identifier or self.params["identifier"]
        return self.describe_first(
            "the DB instance %s" % name,
            (rds or self.rds).describe_db_instances,
            "DBInstanceNotFound",
            "DBInstances",
            DBInstanceIdentifier=name,
        )

    def source_client(self) -> Any:
        return self.client("rds", self.params["source_region"])

    # ------------------------------------------------------------------ waits
    def wait(self, rds: Any, identifier: str, done: Any, what: str) -> dict[str, Any] | None:
        """Poll until ``done(instance or None)``; fail after wait_timeout with the last state."""
        return self.poll(
            lambda: self.describe(rds, identifier),
            lambda found: found["DBInstanceStatus"] if found else "gone",
            done,
            identifier,
            what,
        )

    def wait_available(self, rds: Any = None, identifier: str | None = None, promoted: bool = False) -> dict[str, Any]:
        def done(instance):
            if not instance or instance["DBInstanceStatus"] != "available":
                return False
            return not (promoted and instance.get("ReadReplicaSourceDBInstanceIdentifier"))

        return self.wait(rds or self.rds, identifier or self.params["identifier"], done, "available")

    def wait_gone(self, identifier: str | None = None) -> None:
        self.wait(self.rds, identifier or self.params["identifier"], lambda instance: instance is None, "deleted")

    # ------------------------------------------------------------------ password
    def managed_password(self, instance: dict[str, Any] | None) -> str | None:
        arn = ((instance or {}).get("MasterUserSecret") or {}).get("SecretArn")
        if not arn:
            return None
        found = aws_call(
            "read the master secret of %s" % self.params["identifier"],
            self.client("secretsmanager").get_secret_value,
            SecretId=arn,
        )
        return json.loads(found["SecretString"])["password"]

    # ------------------------------------------------------------------ present
    def wanted_settings(self) -> dict[str, Any]:
        p = self.params
        wanted = dict(
            DBInstanceClass=p["instance_class"],
            EngineVersion=p["engine_version"],
            BackupRetentionPeriod=p["backup_retention"],
            PreferredBackupWindow=p["backup_window"],
            PreferredMaintenanceWindow=p["maintenance_window"],
            MultiAZ=p["multi_az"],
            AllocatedStorage=p["allocated_storage"],
            MaxAllocatedStorage=p["max_allocated_storage"] or None,
            DeletionProtection=p["deletion_protection"],
            PerformanceInsightsEnabled=p["performance_insights"],
            IAMDatabaseAuthenticationEnabled=p["iam_auth"],
            DBParameterGroupName=p["parameter_group"] or None,
            VpcSecurityGroupIds=p["security_group_ids"] or None,
        )
        return wanted

    def create(self, source_arn: str | None, password: str | None) -> dict[str, Any] | None:
        p = self.params
        tags = [{"Key": k, "Value": str(v)} for k, v in (p["tags"] or {}).items()]
        common = dict(
            DBInstanceIdentifier=p["identifier"],
            DBInstanceClass=p["instance_class"],
            DBSubnetGroupName=p["subnet_group"],
            VpcSecurityGroupIds=p["security_group_ids"],
            StorageType=p["storage_type"],
            MultiAZ=p["multi_az"],
            PubliclyAccessible=False,
            DeletionProtection=p["deletion_protection"],
            EnablePerformanceInsights=p["performance_insights"],
            EnableIAMDatabaseAuthentication=p["iam_auth"],
            CopyTagsToSnapshot=True,
            AutoMinorVersionUpgrade=True,
            Tags=tags,
        )
        if p["max_allocated_storage"]:
            common["MaxAllocatedStorage"] = p["max_allocated_storage"]
        if p["parameter_group"]:
            common["DBParameterGroupName"] = p["parameter_group"]
        self.changed = True
        self.events.append(
            "%s %s created" % (p["identifier"], "replica of %s" % source_arn if source_arn else "writer")
        )
        if self.module.check_mode:
            return None
        what = "create the DB instance %s" % p["identifier"]
        if source_arn:
            # An encrypted replica in another region: KmsKeyId of this region; SourceRegion makes botocore sign
            # the PreSignedUrl the source region needs (CreateDBInstanceReadReplica).
            aws_call(
                what,
                self.rds.create_db_instance_read_replica,
                SourceDBInstanceIdentifier=source_arn,
                KmsKeyId=p["kms_key_id"],
                SourceRegion=p["source_region"],
                **common,
            )
        else:
            extra: dict[str, Any] = dict(
                Engine=p["engine"],
                EngineVersion=p["engine_version"],
                AllocatedStorage=p["allocated_storage"],
                DBName=p["db_name"],
                MasterUsername=p["username"],
                Port=p["port"],
                StorageEncrypted=True,
                KmsKeyId=p["kms_key_id"],
                BackupRetentionPeriod=p["backup_retention"],
                PreferredBackupWindow=p["backup_window"],
                PreferredMaintenanceWindow=p["maintenance_window"],
            )
            if p["master_password_mode"] == "secrets_manager":
                extra["ManageMasterUserPassword"] = True
            else:
                extra["MasterUserPassword"] = password
            aws_call(what, self.rds.create_db_instance, **common, **extra)
        return self.wait_available()

    def delete(self, instance: dict[str, Any], final_snapshot: bool) -> str | None:
        p = self.params
        identifier = instance["DBInstanceIdentifier"]
        snapshot = self.final_snapshot_name(identifier) if final_snapshot else None
        self.changed = True
        self.events.append("%s deleted%s" % (identifier, " (final snapshot %s)" % snapshot if snapshot else ""))
        if self.module.check_mode:
            return snapshot
        what = "delete the DB instance %s" % identifier
        if instance.get("DeletionProtection"):
            aws_call(
                what,
                self.rds.modify_db_instance,
                DBInstanceIdentifier=identifier,
                DeletionProtection=False,
                ApplyImmediately=True,
            )
        args: dict[str, Any] = dict(
            DBInstanceIdentifier=identifier, DeleteAutomatedBackups=p["delete_automated_backups"]
        )
        if snapshot:
            args["FinalDBSnapshotIdentifier"] = snapshot
        else:
            args["SkipFinalSnapshot"] = True
        aws_call(what, self.rds.delete_db_instance, **args)
        self.wait_gone(identifier)
        return snapshot

    def present(self) -> dict[str, Any]:
        p = self.params
        before = self.describe()
        source = None
        source_arn = None
        if p["role"] == "replica":
            source = self.describe(self.source_client(), p["source_identifier"] or p["identifier"])
            if source is None and not self.module.check_mode:
                writer = p["source_identifier"] or p["identifier"]
                self.module.fail_json(
                    msg="The writer %s does not exist in %s yet: build the writer first" % (writer, p["source_region"])
                )
            source_arn = (source or {}).get("DBInstanceArn")
        error = topology_error(p["role"], self.region, before, source_arn)
        final_snapshot = None
        instance = before
        if error and p["role"] == "primary" and p["promote"]:
            self.changed = True
            self.events.append(
                "%s promoted from replica of %s to writer"
                % (p["identifier"], before.get("ReadReplicaSourceDBInstanceIdentifier"))
            )
            if not self.module.check_mode:
                aws_call(
                    "promote %s" % p["identifier"],
                    self.rds.promote_read_replica,
                    DBInstanceIdentifier=p["identifier"],
                    BackupRetentionPeriod=p["backup_retention"],
                )
                instance = self.wait_available(promoted=True)
            error = None
        elif error and p["role"] == "replica" and p["rebuild"]:
            # A former writer keeps a final snapshot (unless skipped); RDS takes none of a read replica.
            final_snapshot = self.delete(
                before,
                final_snapshot=not before.get("ReadReplicaSourceDBInstanceIdentifier") and not p["skip_final_snapshot"],
            )
            instance = None
            error = None
        if error:
            self.module.fail_json(msg=error)

        password = None
        if p["master_password_mode"] == "ssm":
            if not p["master_password_parameter"]:
                self.module.fail_json(msg="master_password_parameter is required with master_password_mode=ssm")
            password = self.master_password(p["source_region"] if p["role"] == "replica" else None, "writer's region")
        if instance is None:
            instance = self.create(source_arn, password)
        else:
            wanted = self.wanted_settings()
            changes = differences(wanted, effective(instance), p["role"])
            if "EngineVersion" in changes and p["role"] == "replica":
                changes.pop("EngineVersion")  # a replica follows its source's upgrade
            if changes:
                self.changed = True
                self.events.append("%s modified: %s" % (p["identifier"], ", ".join(sorted(changes))))
                if not self.module.check_mode:
                    major = str(instance.get("EngineVersion", "")).split(".", maxsplit=1)[0]
                    if "EngineVersion" in changes and changes["EngineVersion"].split(".", maxsplit=1)[0] != major:
                        changes["AllowMajorVersionUpgrade"] = True
                    aws_call(
                        "modify %s" % p["identifier"],
                        self.rds.modify_db_instance,
                        DBInstanceIdentifier=p["identifier"],
                        ApplyImmediately=p["apply_immediately"],
                        **changes,
                    )
                    instance = self.describe()
            self._tags(instance)
        if p["master_password_mode"] == "secrets_manager":
            password = self.managed_password(instance)
        writer = instance if p["role"] == "primary" else source
        self.write_urls(password, _endpoint(writer), _endpoint(instance))
        result: dict[str, Any] = dict(
            changed=self.changed,
            instance=_view(instance, p["role"], writer),
            parameters=self.parameter_arns(),
            events=self.events,
            diff=dict(
                before=_settings(before),
                after=_settings(instance)
                if instance
                else {"identifier": p["identifier"], "role": p["role"], "created": True},
            ),
        )
        if final_snapshot:
            result["final_snapshot"] = final_snapshot
        return result

    def _tags(self, instance: dict[str, Any] | None) -> None:
        wanted = self.params["tags"] or {}
        if not instance or not wanted:
            return
        have = {tag["Key"]: tag["Value"] for tag in instance.get("TagList") or []}
        missing = {k: str(v) for k, v in wanted.items() if have.get(k) != str(v)}
        if not missing:
            return
        self.changed = True
        self.events.append("%s tagged: %s" % (self.params["identifier"], ", ".join(sorted(missing))))
        if self.module.check_mode:
            return
        aws_call(
            "tag %s" % self.params["identifier"],
            self.rds.add_tags_to_resource,
            ResourceName=instance["DBInstanceArn"],
            Tags=[{"Key": k, "Value": v} for k, v in missing.items()],
        )

    # ------------------------------------------------------------------ absent
    def absent(self) -> dict[str, Any]:
        p = self.params
        before = self.describe()
        snapshot = None
        if before is not None:
            self.refuse_if_protected(before)
            is_replica = bool(before.get("ReadReplicaSourceDBInstanceIdentifier"))
            # RDS takes no final snapshot of a read replica (DeleteDBInstance FinalDBSnapshotIdentifier).
            snapshot = self.delete(before, final_snapshot=not is_replica and not p["skip_final_snapshot"])
        if p["delete_parameters"]:
            self.delete_parameters()
        result: dict[str, Any] = dict(
            changed=self.changed,
            instance={},
            parameters={},
            events=self.events,
            diff=dict(before=_settings(before), after={}),
        )
        if snapshot:
            result["final_snapshot"] = snapshot
        return result


def _endpoint(instance: dict[str, Any] | None) -> tuple | None:
    """``(address, port)`` of an instance's endpoint, None while it has none."""
    endpoint = (instance or {}).get("Endpoint") or {}
    return (endpoint["Address"], endpoint.get("Port")) if endpoint.get("Address") else None


def _settings(instance: dict[str, Any] | None) -> dict[str, Any]:
    if not instance:
        return {}
    return dict(
        identifier=instance.get("DBInstanceIdentifier"),
        role="replica" if instance.get("ReadReplicaSourceDBInstanceIdentifier") else "primary",
        source=instance.get("ReadReplicaSourceDBInstanceIdentifier"),
        instance_class=instance.get("DBInstanceClass"),
        engine_version=instance.get("EngineVersion"),
        allocated_storage=instance.get("AllocatedStorage"),
        multi_az=instance.get("MultiAZ"),
        backup_retention=instance.get("BackupRetentionPeriod"),
        deletion_protection=instance.get("DeletionProtection"),
        storage_encrypted=instance.get("StorageEncrypted"),
        publicly_accessible=instance.get("PubliclyAccessible"),
    )


def _view(instance: dict[str, Any] | None, role: str, writer: dict[str, Any] | None) -> dict[str, Any]:
    if not instance:
        return {}
    endpoint = instance.get("Endpoint") or {}
    return dict(
        identifier=instance["DBInstanceIdentifier"],
        arn=instance.get("DBInstanceArn"),
        status=instance.get("DBInstanceStatus"),
        endpoint=endpoint.get("Address"),
        port=endpoint.get("Port"),
        role=role,
        source_arn=instance.get("ReadReplicaSourceDBInstanceIdentifier"),
        writer_endpoint=((writer or {}).get("Endpoint") or {}).get("Address"),
        master_secret_arn=(instance.get("MasterUserSecret") or {}).get("SecretArn"),
    )


def _validate(module: MegapoolAWSModule) -> None:
    p = module.params
    if p["state"] == "present":
        if not p["subnet_group"]:
            module.fail_json(msg="subnet_group is required with state=present")
        if p["role"] == "replica" and not p["source_region"]:
            module.fail_json(msg="source_region is required with role=replica")
        if p["role"] == "replica" and p["master_password_mode"] == "secrets_manager":
            module.fail_json(
                msg="master_password_mode=secrets_manager does not allow read replicas "
                "(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html#rds-secrets-manager-limitations): use ssm"
            )
    if p["wait_timeout"] < 1 or p["poll_interval"] <= 0:
        module.fail_json(msg="wait_timeout must be at least 1 and poll_interval positive")


def main() -> None:
    module = MegapoolAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    _validate(module)
    database = _Database(module)
    module.run(
        database.present if module.params["state"] == "present" else database.absent,
        failure_result=database.failure_result,
    )


if __name__ == "__main__":
    main()
