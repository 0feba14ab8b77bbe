# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: an Aurora global database is one global resource, and its members leave it like on AWS.

What AWS does (RDS API reference: DescribeGlobalClusters, RemoveFromGlobalCluster, DeleteDBCluster; Aurora User
Guide "Removing a cluster from an Amazon Aurora global database", "Deleting an Amazon Aurora global database"):

- ``DescribeGlobalClusters`` with ``GlobalClusterIdentifier`` answers that global cluster only, and
  ``GlobalClusterNotFoundFault`` when there is none;
- ``RemoveFromGlobalCluster`` (called in any region, the member named by its ARN) detaches the member: it becomes
  a standalone cluster of its own region (its writer endpoint becomes writable) and leaves ``GlobalClusterMembers``;
- ``DeleteDBCluster`` of the primary member while the global cluster has other members is refused:
  ``InvalidGlobalClusterStateFault`` ("Unable to delete cluster that is a primary member of global cluster while
  there are other global cluster members", https://github.com/gruntwork-io/cloud-nuke/issues/597); a deleted member
  is no longer listed in ``GlobalClusterMembers``;
- "The global database can't be deleted when deletion protection is enabled" (CreateGlobalCluster
  ``DeletionProtection``); ``ModifyGlobalCluster`` turns it off.

What moto 5 does: the global clusters live in us-east-1's backend; ``DescribeGlobalClusters`` ignores
``GlobalClusterIdentifier`` (it answers every global cluster, never NotFound); ``RemoveFromGlobalCluster`` and
``DeleteDBCluster`` look for the global cluster in the *caller's* regional backend, so outside us-east-1 the
removal silently does nothing and a deleted cluster stays a member for ever (``DeleteGlobalCluster`` then fails
"not empty"); the primary member can be deleted under its secondaries; ``DeleteGlobalCluster`` ignores deletion protection and
``ModifyGlobalCluster`` is not implemented.

How this patch imitates AWS (emulator process only): ``RDSResponse.describe_global_clusters`` filters by the
identifier; ``RDSBackend.remove_from_global_cluster`` and ``RDSBackend.delete_db_cluster`` find the global cluster
in the global backend and the member by ARN in its own region; ``delete_global_cluster`` refuses a protected
global cluster; ``RDSResponse.modify_global_cluster`` changes ``DeletionProtection``.
"""

from __future__ import annotations

import functools
from typing import Any
from typing import Callable

from moto.core.responses import ActionResult
from moto.rds.exceptions import RDSClientError
from moto.rds.models import RDSBackend
from moto.rds.models import rds_backends
from moto.rds.responses import RDSResponse
from .patching import MethodPatches

GLOBAL_REGION = "us-east-1"  # where moto keeps the global clusters (RDSResponse.global_backend)


class GlobalClusterNotFoundFault(RDSClientError):
    """AWS's ``GlobalClusterNotFoundFault``."""

    def __init__(self, identifier: str):
        super().__init__("GlobalClusterNotFoundFault", "Global cluster %s not found." % identifier)


class InvalidGlobalClusterState(RDSClientError):
    """AWS's ``InvalidGlobalClusterStateFault`` with AWS's message."""

    def __init__(self, message: str):
        super().__init__("InvalidGlobalClusterStateFault", message)


def _global_clusters(backend: RDSBackend) -> Any:
    return rds_backends[backend.account_id][GLOBAL_REGION].global_clusters


def _find_global(backend: RDSBackend, identifier: str) -> Any | None:
    identifier = str(identifier)
    for global_cluster in _global_clusters(backend).values():
        if identifier in (global_cluster.global_cluster_identifier, global_cluster.global_cluster_arn):
            return global_cluster
    return None


def _membership(backend: RDSBackend, cluster: Any) -> Any | None:
    """The global cluster ``cluster`` is a member of, or None."""
    for global_cluster in _global_clusters(backend).values():
        if any(member is cluster for member in global_cluster.members):
            return global_cluster
    return None


def _detach(global_cluster: Any, cluster: Any) -> None:
    global_cluster.members = [member for member in global_cluster.members if member is not cluster]
    cluster.global_cluster_identifier = None
    cluster.is_writer = True  # standalone: its own writer


def _cluster_by_arn_or_id(backend: RDSBackend, identifier: str) -> Any | None:
    identifier = str(identifier)
    if identifier.startswith("arn:"):
        region = identifier.split(":")[3]
        regional = rds_backends[backend.account_id][region]
        name = identifier.rsplit(":", maxsplit=1)[-1]
        return regional.clusters.get(name)
    return backend.clusters.get(identifier)


def _describe(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: RDSResponse) -> Any:
        identifier = self.params.get("GlobalClusterIdentifier")
        if not identifier:
            return original(self)
        found = _find_global(self.global_backend, identifier)
        if found is None:
            raise GlobalClusterNotFoundFault(identifier)
        return ActionResult({"GlobalClusters": [found]})

    return method


def _remove(original: Callable[..., Any]) -> Callable[..., Any]:  # pylint: disable=unused-argument
    @functools.wraps(original)
    def method(self: RDSBackend, global_cluster_identifier: str, db_cluster_identifier: str) -> Any:
        global_cluster = _find_global(self, global_cluster_identifier)
        if global_cluster is None:
            raise GlobalClusterNotFoundFault(global_cluster_identifier)
        cluster = _cluster_by_arn_or_id(self, db_cluster_identifier)
        if cluster is None or not any(member is cluster for member in global_cluster.members):
            raise RDSClientError(
                "DBClusterNotFoundFault",
                "The specified cluster %s is not a member of %s." % (db_cluster_identifier, global_cluster_identifier),
            )
        _detach(global_cluster, cluster)
        return global_cluster

    return method


def _delete(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: RDSBackend, cluster_identifier: str, snapshot_name: str | None = None) -> Any:
        cluster = self.clusters.get(cluster_identifier)
        global_cluster = (
            _membership(self, cluster)
            if cluster is not None and not cluster.deletion_protection and not cluster.members
            else None
        )
        if global_cluster is not None:
            if cluster.is_writer and len(global_cluster.members) > 1:
                raise InvalidGlobalClusterState(
                    "Unable to delete cluster that is a primary member of global cluster while there are other global cluster members"
                )
            _detach(global_cluster, cluster)
        return original(self, cluster_identifier, snapshot_name)

    return method


def _delete_global(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: RDSBackend, global_cluster_identifier: str) -> Any:
        found = _find_global(self, global_cluster_identifier)
        if found is not None and found.deletion_protection:
            raise InvalidGlobalClusterState("The global database can't be deleted when deletion protection is enabled.")
        return original(self, global_cluster_identifier)

    return method


def _modify_global(original: Callable[..., Any]) -> Callable[..., Any]:  # pylint: disable=unused-argument
    def method(self: RDSResponse) -> Any:
        identifier = self.params.get("GlobalClusterIdentifier")
        found = _find_global(self.global_backend, identifier)
        if found is None:
            raise GlobalClusterNotFoundFault(identifier)
        if self.params.get("DeletionProtection") is not None:
            found.deletion_protection = bool(self.params["DeletionProtection"])
        return ActionResult({"GlobalCluster": found})

    return method


_INSTALLED = MethodPatches(
    (
        (RDSResponse, "describe_global_clusters", _describe),
        (RDSBackend, "remove_from_global_cluster", _remove),
        (RDSBackend, "delete_db_cluster", _delete),
        (RDSBackend, "delete_global_cluster", _delete_global),
        (RDSResponse, "modify_global_cluster", _modify_global),
    )
)


def apply() -> None:
    """Install the patch (idempotent)."""
    _INSTALLED.apply()


def restore() -> None:
    """Put moto's original methods back (for tests; the emulator never calls it)."""
    _INSTALLED.restore()
