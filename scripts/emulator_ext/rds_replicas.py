# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: RDS cross-region read replicas behave (and refuse) like AWS.

What AWS does (RDS API reference: CreateDBInstanceReadReplica, PromoteReadReplica, DeleteDBInstance; User Guide
"Working with DB instance read replicas", "Creating a read replica in a different AWS Region", "Limitations for
Secrets Manager integration with Amazon RDS"):

- a cross-region read replica is a DB instance of its own region: its DB subnet group, security groups, ARN and
  endpoint are the destination region's; ``ReadReplicaSourceDBInstanceIdentifier`` is the source's ARN and the
  source lists the replica's ARN in ``ReadReplicaDBInstanceIdentifiers``;
- RDS refuses a read replica of an instance whose master password it manages in Secrets Manager
  (``ManageMasterUserPassword``; "not supported: creating a read replica when the source DB instance manages
  credentials with Secrets Manager", every engine but SQL Server) -- the replica never has a ``MasterUserSecret``;
- RDS refuses a read replica of a source without automated backups (``BackupRetentionPeriod`` 0):
  ``InvalidDBInstanceState``;
- an encrypted replica in another region needs ``KmsKeyId`` (a key of the destination region):
  ``InvalidParameterCombination`` without it;
- ``PromoteReadReplica`` makes the replica a standalone instance: no source any more, gone from the source's list;
- ``DeleteDBInstance`` of a read replica takes no final snapshot (``FinalDBSnapshotIdentifier`` is refused), and
  deleting a source promotes its replicas (they become standalone instances).

What moto 5 does: the replica is a shallow copy of the source that resolves its DB subnet group in the *source*
region (a cross-region replica with a subnet group of its own region fails: "Subnet Group ... not found"), shares
the source's tag and replica lists and its ``MasterUserSecret`` (deleting the replica deletes the source's
secret); it accepts replicas of a managed-password or backup-less source and an encrypted cross-region replica
without ``KmsKeyId``; ``PromoteReadReplica`` keeps the source identifier; deleting a cross-region replica raises
(HTTP 500: moto removes the replica's identifier from a list that holds its ARN); deleting a source leaves replicas
pointing at nothing; a replica's "final snapshot" is taken.

How this patch imitates AWS (emulator process only): ``create_db_instance_read_replica``,
``promote_read_replica`` and ``delete_db_instance`` of moto's RDS backend are wrapped as described above. Status
transitions stay immediate (moto's instances are ``available`` at once).
"""

from __future__ import annotations

import copy
import functools
from typing import Any
from typing import Callable

from moto.rds.exceptions import InvalidParameterCombination
from moto.rds.exceptions import RDSClientError
from moto.rds.models import RDSBackend
from .patching import MethodPatches


class InvalidDBInstanceState(RDSClientError):
    """AWS's ``InvalidDBInstanceState`` error."""

    def __init__(self, message: str):
        super().__init__("InvalidDBInstanceState", message)


def _is_arn(value: str) -> bool:
    return str(value).startswith("arn:")


def _source(backend: RDSBackend, replica: Any) -> Any | None:
    """The replica's source instance, or None when it is gone."""
    try:
        return backend.find_db_from_id(replica.source_db_instance_identifier)
    except Exception:  # pylint: disable=broad-except  # moto raises DBInstanceNotFoundError; gone is gone
        return None


def _detach(backend: RDSBackend, replica: Any) -> None:
    """Make ``replica`` standalone: no source, gone from the source's list of replicas."""
    source = _source(backend, replica)
    if source is not None:
        source.replicas = [
            r for r in source.replicas if r not in (replica.db_instance_identifier, replica.db_instance_arn)
        ]
    replica.is_replica = False
    replica.source_db_instance_identifier = None


def _create_replica(original: Callable[..., Any]) -> Callable[..., Any]:  # pylint: disable=unused-argument
    @functools.wraps(original)
    def method(self: RDSBackend, db_kwargs: dict[str, Any]) -> Any:
        kwargs = dict(db_kwargs)
        source_id = kwargs["source_db_instance_identifier"]
        primary = self.find_db_from_id(source_id)
        if getattr(primary, "manage_master_user_password", False):
            raise InvalidParameterCombination(
                "Read replicas are not supported for a source DB instance whose master user password is managed by "
                "Secrets Manager (ManageMasterUserPassword)."
            )
        if not primary.backup_retention_period:
            raise InvalidDBInstanceState(
                "Automated backups are not enabled for this database instance. To enable automated backups, use "
                "ModifyDBInstance to set the backup retention period to a non-zero value."
            )
        cross_region = _is_arn(source_id) and primary.region != self.region_name
        if cross_region and primary.storage_encrypted and not kwargs.get("kms_key_id"):
            raise InvalidParameterCombination(
                "For encrypted cross-region replica, kmsKeyId should be explicitly specified"
            )
        replica = copy.copy(primary)
        # Its own region first, so that the subnet group, the ARN and the endpoint are the destination's.
        replica.backend = self
        replica.replicas = []
        replica.tags = []
        replica.enabled_cloudwatch_logs_exports = list(primary.enabled_cloudwatch_logs_exports)
        replica.manage_master_user_password = False
        if hasattr(replica, "master_user_secret"):
            del replica.master_user_secret
        replica.db_subnet_group = None
        kwargs.pop("backend", None)
        kwargs.pop("source_region", None)
        kwargs["source_db_instance_identifier"] = (
            primary.db_instance_arn if cross_region else primary.db_instance_identifier
        )
        if kwargs.get("db_subnet_group_name") is None and cross_region:
            raise InvalidParameterCombination("A cross-region read replica needs a DBSubnetGroupName of its own region")
        replica.update(**kwargs)
        replica.set_as_replica()
        replica.status = "available"
        self.databases[kwargs["db_instance_identifier"]] = replica
        primary.replicas.append(replica.db_instance_arn if cross_region else replica.db_instance_identifier)
        return replica

    return method


def _promote(original: Callable[..., Any]) -> Callable[..., Any]:  # pylint: disable=unused-argument
    @functools.wraps(original)
    def method(self: RDSBackend, db_kwargs: dict[str, Any]) -> Any:
        database = self.describe_db_instances(db_kwargs["db_instance_identifier"])[0]
        if database.is_replica:
            _detach(self, database)
        kwargs = {k: v for k, v in db_kwargs.items() if k not in ("db_instance_identifier",)}
        database.update(**kwargs)
        return database

    return method


def _delete(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(
        self: RDSBackend,
        db_instance_identifier: str,
        final_db_snapshot_identifier: str | None = None,
        skip_final_snapshot: bool | None = False,
        delete_automated_backups: bool | None = True,
    ) -> Any:
        database = self.databases.get(str(db_instance_identifier).lower())
        if database is not None and not database.deletion_protection:
            if database.is_replica:
                if final_db_snapshot_identifier and not skip_final_snapshot:
                    raise InvalidParameterCombination(
                        "FinalDBSnapshotIdentifier can not be specified when deleting a replica instance"
                    )
                _detach(self, database)
            for replica_id in list(database.replicas):
                replica = self.find_db_from_id(replica_id) if _is_arn(replica_id) else self.databases.get(replica_id)
                if replica is not None:
                    _detach(self, replica)  # AWS promotes the replicas of a deleted source
            database.replicas = []
        return original(
            self, db_instance_identifier, final_db_snapshot_identifier, skip_final_snapshot, delete_automated_backups
        )

    return method


_WRAPPERS = {
    "create_db_instance_read_replica": _create_replica,
    "promote_read_replica": _promote,
    "delete_db_instance": _delete,
}


_INSTALLED = MethodPatches((RDSBackend, name, wrap) for name, wrap in _WRAPPERS.items())


def apply() -> None:
    """Install the patch (idempotent)."""
    _INSTALLED.apply()


def restore() -> None:
    """Put moto's original methods back (for tests; the emulator never calls it)."""
    _INSTALLED.restore()
