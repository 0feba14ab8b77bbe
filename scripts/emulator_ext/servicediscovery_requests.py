# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: a repeated ``CreatePrivateDnsNamespace`` (same ``CreatorRequestId``) makes no second namespace.

What moto 5.2 does
    ``CreatePrivateDnsNamespace`` stores the ``CreatorRequestId`` and never looks at it again: a request sent again
    with the same id creates a second namespace (or, on the same VPC, answers ``ConflictingDomainExists``, moto's
    rule of one namespace per VPC, which is not AWS's answer to a retried request).

What AWS does
    ``CreatorRequestId`` is "a unique string that identifies the request and that allows failed
    CreatePrivateDnsNamespace requests to be retried without the risk of running the operation twice"
    (https://docs.aws.amazon.com/cloud-map/latest/api/API_CreatePrivateDnsNamespace.html). The errors of the call
    say how a repeated request is answered: ``DuplicateRequest`` ("The operation is already in progress", with
    ``DuplicateOperationId``) while the first one runs, and ``NamespaceAlreadyExists`` ("The namespace that you're
    trying to create already exists", with ``CreatorRequestId`` -- "the CreatorRequestId that was used to create
    the namespace" -- and ``NamespaceId``) once it exists.

How the patch imitates it (emulator process only; ``apply()`` is idempotent, ``restore()`` undoes it)
    Before moto's request handler runs: a namespace created with the request's ``CreatorRequestId`` whose
    ``CREATE_NAMESPACE`` operation is still ``SUBMITTED``/``PENDING`` -> ``DuplicateRequest``; one whose creation has
    ended -> ``NamespaceAlreadyExists`` with its ``NamespaceId`` and ``CreatorRequestId``. What AWS answers for the id
    of a namespace deleted since is not documented; moto forgets deleted namespaces, and so does the patch (the
    module megapool.aws.servicediscovery_namespace copes with either answer).
    The response handler is patched (not the backend method, which the servicediscovery extension wraps).
"""

from __future__ import annotations

import functools
import json
from typing import Any
from typing import Callable

from moto.core.exceptions import JsonRESTError
from moto.servicediscovery.responses import ServiceDiscoveryResponse
from .patching import MethodPatches

RUNNING = ("SUBMITTED", "PENDING")


class _CloudMapError(JsonRESTError):
    """A Cloud Map error answer with the error's own members (as botocore reads them next to Code and Message)."""

    def __init__(self, code: str, message: str, **members: str) -> None:
        super().__init__(code, message)
        self.description = json.dumps({"__type": code, "message": message, "Message": message, **members})


def duplicate_request(operation_id: str) -> _CloudMapError:
    return _CloudMapError(
        "DuplicateRequest", "The operation is already in progress.", DuplicateOperationId=operation_id
    )


def namespace_already_exists(namespace_id: str, creator_request_id: str) -> _CloudMapError:
    return _CloudMapError(
        "NamespaceAlreadyExists",
        "The namespace that you're trying to create already exists.",
        CreatorRequestId=creator_request_id,
        NamespaceId=namespace_id,
    )


def repeated_request_error(backend: Any, creator_request_id: str | None) -> _CloudMapError | None:
    """AWS's answer to a CreatePrivateDnsNamespace whose CreatorRequestId made a namespace already, else None."""
    if not creator_request_id:
        return None
    for namespace in backend.namespaces.values():
        if getattr(namespace, "creator_request_id", None) != creator_request_id:
            continue
        for operation in backend.operations.values():
            if (
                operation.operation_type == "CREATE_NAMESPACE"
                and operation.targets.get("NAMESPACE") == namespace.id
                and operation.status in RUNNING
            ):
                return duplicate_request(operation.id)
        return namespace_already_exists(namespace.id, creator_request_id)
    return None


def _create_private_dns_namespace(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: ServiceDiscoveryResponse) -> str:
        error = repeated_request_error(
            self.servicediscovery_backend, (json.loads(self.body or "{}") or {}).get("CreatorRequestId")
        )
        if error is not None:
            raise error
        return original(self)

    return method


_INSTALLED = MethodPatches([(ServiceDiscoveryResponse, "create_private_dns_namespace", _create_private_dns_namespace)])


def apply() -> None:
    """Install the patch (idempotent)."""
    _INSTALLED.apply()


def restore() -> None:
    """Put moto's original handler back (for tests; the emulator never calls it)."""
    _INSTALLED.restore()
