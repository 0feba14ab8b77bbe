# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: Cloud Map private DNS namespaces own their hosted zone, in-use resources are not deleted, and
a private zone's VPC associations are checked, like AWS.

What moto 5.2 does
    - ``CreatePrivateDnsNamespace`` creates a private hosted zone called ``<namespace>-hz`` that is associated with
      no VPC, and ``DeleteNamespace`` leaves that zone behind (a teardown leaves an empty private zone per namespace,
      and a reader of the zone cannot tell the namespace's VPC).
    - Route 53 ``AssociateVPCWithHostedZone`` associates any VPC id, one that exists in no region included, a VPC that
      is already associated with another private zone of the same name included, and lists a VPC twice when it is
      associated twice; ``DisassociateVPCFromHostedZone`` of a VPC that is not associated answers success.
    - ``DeleteService`` deletes a service that still has registered instances, and ``DeleteNamespace`` a namespace
      that still has services.

What AWS does
    - "When you delete a DNS namespace, AWS Cloud Map deletes the corresponding Amazon Route 53 hosted zone created
      during namespace creation" (AWS Cloud Map Developer Guide, Deleting a namespace,
      https://docs.aws.amazon.com/cloud-map/latest/dg/deleting-namespaces.html). The private hosted zone of a
      private DNS namespace is associated with the namespace's VPC (CreatePrivateDnsNamespace, ``Vpc``:
      https://docs.aws.amazon.com/cloud-map/latest/api/API_CreatePrivateDnsNamespace.html).
    - ``DeleteService``: "If the service still contains one or more registered instances, the request fails"
      (https://docs.aws.amazon.com/cloud-map/latest/api/API_DeleteService.html); ``DeleteNamespace``: "If the
      namespace still contains one or more services, the request fails"
      (https://docs.aws.amazon.com/cloud-map/latest/api/API_DeleteNamespace.html). Both fail with
      ``ResourceInUse``.

How the patch imitates it (emulator process only; ``apply()`` is idempotent, ``restore()`` undoes it)
    - After moto's ``create_private_dns_namespace``, the namespace's hosted zone is associated with its VPC.
    - ``delete_namespace`` refuses a namespace that still has services (``ResourceInUse``); after moto deleted the
      namespace, its hosted zone is deleted too.
    - ``delete_service`` refuses a service that still has instances (``ResourceInUse``).
    - The namespace's hosted zone is called like the namespace (SOA and NS records included).
    - ``associate_vpc_with_hosted_zone`` refuses a VPC that the EC2 backend of its region does not have
      (``InvalidVPCId``) and a VPC already associated with another private zone of the same name
      (``ConflictingDomainExists``); associating a VPC that is already on the zone adds no second entry.
    - ``disassociate_vpc_from_hosted_zone`` refuses a VPC that is not associated (``VPCAssociationNotFound``).
"""

from __future__ import annotations

import functools
from typing import Any
from typing import Callable

from moto.core.exceptions import JsonRESTError
from moto.ec2.models import ec2_backends
from moto.route53.exceptions import Route53ClientError
from moto.route53.models import Route53Backend
from moto.route53.models import route53_backends
from moto.servicediscovery.models import ServiceDiscoveryBackend
from moto.utilities.utils import get_partition
from .patching import MethodPatches


class ResourceInUse(JsonRESTError):
    """Cloud Map's answer to deleting a service with instances or a namespace with services."""

    def __init__(self, message: str) -> None:
        super().__init__("ResourceInUse", message)


class _Route53Error(Route53ClientError):
    """A Route 53 error answer (code and message as AWS sends them)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


def _zones(backend: ServiceDiscoveryBackend) -> Any:
    return route53_backends[backend.account_id][get_partition(backend.region_name)]


def _zone_id(namespace: Any) -> str | None:
    """The id of the namespace's hosted zone as route53's backend keys it (moto stores ``/hostedzone/<id>``)."""
    value = (namespace.dns_properties or {}).get("HostedZoneId") if namespace is not None else None
    return value.rsplit("/", 1)[-1] if value else None


def _create_private_dns_namespace(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: ServiceDiscoveryBackend, *args: Any, **kwargs: Any) -> str:
        operation_id = original(self, *args, **kwargs)
        namespace_id = self.operations[operation_id].targets.get("NAMESPACE")
        namespace = self.namespaces.get(namespace_id)
        zone = _zones(self).zones.get(_zone_id(namespace) or "")
        if zone is not None:
            moto_name = zone.name
            zone.name = namespace.name.rstrip(".") + "."  # as Route 53 spells zone names (and moto's API-made zones)
            for record_set in zone.rrsets:
                if record_set.name.rstrip(".") == moto_name.rstrip("."):
                    record_set.name = namespace.name.rstrip(".") + "."
        if zone is not None and namespace.vpc:
            zone.private_zone = True
            zone.vpcs = [{"vpc_id": namespace.vpc, "vpc_region": self.region_name}]
        return operation_id

    return method


def _delete_namespace(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: ServiceDiscoveryBackend, namespace_id: str) -> str:
        namespace = self.namespaces.get(namespace_id)
        services = [service.id for service in self.services.values() if service.namespace_id == namespace_id]
        if namespace is not None and services:
            raise ResourceInUse(
                "Namespace %s has associated services: %s" % (namespace_id, ", ".join(sorted(services)))
            )
        operation_id = original(self, namespace_id)
        zone_id = _zone_id(namespace)
        if zone_id:
            _zones(self).zones.pop(
                zone_id, None
            )  # with its SOA/NS records; Cloud Map's own records went with the services
        return operation_id

    return method


def _delete_service(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: ServiceDiscoveryBackend, service_id: str) -> None:
        service = self.services.get(service_id)
        if service is not None and service.instances:
            raise ResourceInUse(
                "Service %s has registered instances: %s"
                % (service_id, ", ".join(sorted(instance.instance_id for instance in service.instances)))
            )
        return original(self, service_id)

    return method


def _same_name(left: str, right: str) -> bool:
    return left.rstrip(".").lower() == right.rstrip(".").lower()


def _associate_vpc_with_hosted_zone(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: Route53Backend, zone_id: str, vpcid: str, vpcregion: str) -> Any:
        zone = self.get_hosted_zone(zone_id)
        region_backends = ec2_backends[self.account_id]
        if vpcregion not in region_backends.regions or vpcid not in region_backends[vpcregion].vpcs:
            raise _Route53Error(
                "InvalidVPCId",
                "The VPC ID that you specified either isn't a valid ID or the current account is not authorized to access this VPC.",
            )
        if any(vpc.get("vpc_id") == vpcid for vpc in zone.vpcs):
            return zone
        for other in self.zones.values():
            if (
                other is not zone
                and other.private_zone
                and _same_name(other.name, zone.name)
                and any(vpc.get("vpc_id") == vpcid for vpc in other.vpcs)
            ):
                raise _Route53Error(
                    "ConflictingDomainExists",
                    "The VPC %s in region %s has already been associated with the hosted zone %s with the same domain name."
                    % (vpcid, vpcregion, other.id.rsplit("/", 1)[-1]),
                )
        return original(self, zone_id, vpcid, vpcregion)

    return method


def _disassociate_vpc_from_hosted_zone(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: Route53Backend, zone_id: str, vpcid: str) -> Any:
        zone = self.get_hosted_zone(zone_id)
        if not any(vpc.get("vpc_id") == vpcid for vpc in zone.vpcs):
            raise _Route53Error(
                "VPCAssociationNotFound",
                "The specified VPC %s and hosted zone %s are not currently associated."
                % (vpcid, zone_id.rsplit("/", 1)[-1]),
            )
        return original(self, zone_id, vpcid)

    return method


_WRAPPERS = {
    "create_private_dns_namespace": _create_private_dns_namespace,
    "delete_namespace": _delete_namespace,
    "delete_service": _delete_service,
}
_ROUTE53_WRAPPERS = {
    "associate_vpc_with_hosted_zone": _associate_vpc_with_hosted_zone,
    "disassociate_vpc_from_hosted_zone": _disassociate_vpc_from_hosted_zone,
}


_INSTALLED = MethodPatches(
    [(ServiceDiscoveryBackend, name, wrap) for name, wrap in _WRAPPERS.items()]
    + [(Route53Backend, name, wrap) for name, wrap in _ROUTE53_WRAPPERS.items()]
)


def apply() -> None:
    """Install the patch (idempotent)."""
    _INSTALLED.apply()


def restore() -> None:
    """Put moto's original methods back (for tests; the emulator never calls it)."""
    _INSTALLED.restore()
