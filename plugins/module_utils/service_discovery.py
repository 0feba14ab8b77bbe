# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning for AWS Cloud Map private DNS namespaces and their services. No boto3, no I/O.

Module ``servicediscovery_namespace``:

- :func:`validate_namespace` turns the module options into a :class:`DesiredNamespace` (None for
  ``state=absent``), or raises :class:`DiscoveryError` naming the option and the fix;
- :func:`pick_namespace` chooses, among the namespaces of that name, the one on the wanted VPC (the VPCs come
  from the namespace's Route 53 hosted zone);
- :func:`plan_service` compares a live service (as AWS describes it) with the wanted one: create, update (TTL,
  description) or nothing; what AWS cannot change on a service (record types, routing policy, custom health
  check) raises :class:`DiscoveryError` naming the fix;
- :func:`namespace_view` / :func:`service_view` give the snake_case result and diff pictures;
  :func:`operation_progress`, :func:`timeout_message` describe Cloud Map's asynchronous operations.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Iterable
from typing import Mapping
from typing import Sequence

from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.megapool.aws.plugins.module_utils.text import seconds

RECORD_TYPES = ("A", "AAAA", "SRV")
ROUTING_POLICIES = ("MULTIVALUE", "WEIGHTED")
# Cloud Map operation states: SUBMITTED and PENDING are still running, SUCCESS and FAIL are final.
OPERATION_RUNNING = frozenset({"SUBMITTED", "PENDING"})
OPERATION_FINAL = frozenset({"SUCCESS", "FAIL"})
MAX_TTL = 2147483647
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# A Cloud Map service name of a DNS namespace is one DNS label (ECS service discovery: the app's short name).
_SERVICE_NAME_RE = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_VPC_RE = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")


class DiscoveryError(ValueError):
    """Input or state the module refuses; the message names the option (or resource) and the fix."""


@dataclass(frozen=True)
class DesiredService:
    """A Cloud Map service of the namespace as the options describe it (AWS spelling)."""

    name: str
    description: str | None  # None: "<namespace> service <name>" on create, left alone afterwards
    dns_ttl: int
    record_types: tuple[str, ...]
    routing_policy: str
    custom_health_check: bool

    def dns_records(self) -> list[dict[str, Any]]:
        return [{"Type": kind, "TTL": self.dns_ttl} for kind in self.record_types]

    def create_params(self, namespace_id: str, namespace: str = "") -> dict[str, Any]:
        params: dict[str, Any] = {
            "Name": self.name,
            "NamespaceId": namespace_id,
            "Description": self.description
            if self.description is not None
            else ("%s service %s" % (namespace, self.name)).strip(),
            "DnsConfig": {"RoutingPolicy": self.routing_policy, "DnsRecords": self.dns_records()},
        }
        if self.custom_health_check:
            # FailureThreshold is deprecated: AWS always uses 1. ECS reports the health of its tasks.
            params["HealthCheckCustomConfig"] = {"FailureThreshold": 1}
        return params

    def update_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"DnsConfig": {"DnsRecords": self.dns_records()}}
        if self.description is not None:
            params["Description"] = self.description
        return params


@dataclass(frozen=True)
class DesiredNamespace:
    """A private DNS namespace on a VPC, with its services."""

    name: str
    vpc: str | None
    description: str | None  # None: "Private DNS namespace <name>" on create, left alone afterwards
    services: tuple[DesiredService, ...]
    # More VPCs (any region of the account) the namespace's hosted zone answers in: ({"vpc_id", "vpc_region"}, ...);
    # None: the zone's associations are left alone.
    associated_vpcs: tuple[Mapping[str, str], ...] | None = None


@dataclass(frozen=True)
class ServicePlan:
    """What to do to one service: ``create``, ``update`` (TTL, description), ``delete`` or ``none``; tags apart."""

    name: str
    action: str = "none"
    changes: tuple[str, ...] = ()
    tags_to_set: Mapping[str, str] = field(default_factory=dict)
    tags_to_unset: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.action != "none" or bool(self.tags_to_set) or bool(self.tags_to_unset)


def _is_domain(name: str) -> bool:
    labels = name.rstrip(".").split(".")
    return 0 < len(name.rstrip(".")) <= 253 and all(_LABEL_RE.match(label) for label in labels)


def normalize_name(name: str) -> str:
    """A DNS name as Cloud Map lists it: lower case, no trailing dot."""
    return str(name or "").strip().rstrip(".").lower()


def _service(index: int, raw: Mapping[str, Any], errors: list[str]) -> DesiredService | None:
    where = "services[%d]" % index
    name = str(raw.get("name") or "").strip()
    if not _SERVICE_NAME_RE.match(name):
        errors.append(
            "%s.name=%r is not a service name: use one DNS label (letters, digits, hyphens, underscores, up to 63 "
            "characters), e.g. app; it becomes <name>.<namespace>." % (where, raw.get("name"))
        )
    ttl = raw.get("dns_ttl")
    ttl = 10 if ttl is None else ttl
    if not 0 <= int(ttl) <= MAX_TTL:
        errors.append("%s.dns_ttl=%s must be 0 to %d seconds." % (where, ttl, MAX_TTL))
    types = tuple(dict.fromkeys(str(kind).upper() for kind in (raw.get("dns_record_types") or ["A"])))
    unknown = [kind for kind in types if kind not in RECORD_TYPES]
    if unknown:
        errors.append(
            "%s.dns_record_types has %s: use A (awsvpc tasks), AAAA or SRV (bridge or host network mode, which need the "
            "port)." % (where, ", ".join(unknown))
        )
    policy = str(raw.get("routing_policy") or "MULTIVALUE").upper()
    if policy not in ROUTING_POLICIES:
        errors.append("%s.routing_policy=%s must be MULTIVALUE or WEIGHTED." % (where, raw.get("routing_policy")))
    if errors:
        return None
    return DesiredService(
        name=name,
        description=None if raw.get("description") is None else str(raw["description"]),
        dns_ttl=int(ttl),
        record_types=types,
        routing_policy=policy,
        custom_health_check=bool(raw.get("health_check_custom_config", True)),
    )


def validate_namespace(params: Mapping[str, Any]) -> DesiredNamespace | None:
    """The options as a :class:`DesiredNamespace` (None with ``state=absent``), or :class:`DiscoveryError`."""
    errors: list[str] = []
    name = normalize_name(params.get("name"))
    if not _is_domain(name):
        errors.append(
            "name=%r is not a DNS domain name: use labels of letters, digits and hyphens separated by dots, e.g. "
            "megapool.local.internal." % params.get("name")
        )
    vpc = str(params.get("vpc_id") or "").strip() or None
    if vpc is not None and not _VPC_RE.match(vpc):
        errors.append("vpc_id=%r is not a VPC id (vpc-0123456789abcdef0)." % params.get("vpc_id"))
    if params.get("wait_timeout", 0) < 0:
        errors.append("wait_timeout must be 0 or more seconds, got %s." % params.get("wait_timeout"))
    if not params.get("poll_interval", 1) > 0:
        errors.append("poll_interval must be more than 0 seconds, got %s." % params.get("poll_interval"))
    state = params.get("state", "present")
    if state == "present" and vpc is None:
        errors.append("vpc_id is required with state=present: give the VPC the namespace's private hosted zone serves.")
    services: list[DesiredService] = []
    description = params.get("description")
    for index, raw in enumerate(params.get("services") or []):
        service_errors: list[str] = []
        service = _service(index, raw, service_errors)
        errors.extend(service_errors)
        if service is not None:
            services.append(service)
    names = [service.name.lower() for service in services]
    duplicates = sorted({item for item in names if names.count(item) > 1})
    if duplicates:
        errors.append("services lists %s more than once: give each service once." % ", ".join(duplicates))
    associated = _associated_vpcs(params.get("associated_vpcs"), vpc, errors)
    if errors:
        raise DiscoveryError(" ".join(errors))
    if state == "absent":
        return None
    return DesiredNamespace(
        name=name,
        vpc=vpc,
        description=None if description is None else str(description),
        services=tuple(services),
        associated_vpcs=associated,
    )


def _associated_vpcs(raw: Any, own_vpc: str | None, errors: list[str]) -> tuple[Mapping[str, str], ...] | None:
    """The ``associated_vpcs`` option as ({"vpc_id", "vpc_region"}, ...) in VPC order, or None (leave alone)."""
    if raw is None:
        return None
    wanted: dict[str, dict[str, str]] = {}
    for index, item in enumerate(raw):
        vpc_id = str((item or {}).get("vpc_id") or "").strip()
        region = str((item or {}).get("vpc_region") or "").strip()
        if not _VPC_RE.match(vpc_id):
            errors.append(
                "associated_vpcs[%d].vpc_id=%r is not a VPC id (vpc-0123456789abcdef0)."
                % (index, (item or {}).get("vpc_id"))
            )
            continue
        if not _REGION_RE.match(region):
            errors.append(
                "associated_vpcs[%d].vpc_region=%r is not a region name (e.g. eu-north-1): give the VPC's region."
                % (index, region)
            )
            continue
        if vpc_id == own_vpc:
            continue  # the namespace's own VPC is always associated
        if vpc_id in wanted and wanted[vpc_id]["vpc_region"] != region:
            errors.append(
                "associated_vpcs lists %s with two regions (%s, %s): a VPC is in one region."
                % (vpc_id, wanted[vpc_id]["vpc_region"], region)
            )
            continue
        wanted[vpc_id] = {"vpc_id": vpc_id, "vpc_region": region}
    return tuple(wanted[key] for key in sorted(wanted))


# ------------------------------------------------------------------------------------------- namespaces


def hosted_zone_id(namespace: Mapping[str, Any] | None) -> str | None:
    if not namespace:
        return None
    return ((namespace.get("Properties") or {}).get("DnsProperties") or {}).get("HostedZoneId")


def zone_vpcs(zone: Mapping[str, Any] | None) -> list[str] | None:
    """The VPC ids of a Route 53 GetHostedZone answer; None when it names none (the VPC cannot be read)."""
    vpcs = [vpc.get("VPCId") for vpc in (zone or {}).get("VPCs") or [] if vpc.get("VPCId")]
    return sorted(vpcs) or None


def zone_associations(zone: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """The VPCs of a Route 53 GetHostedZone answer as [{"vpc_id", "vpc_region"}], sorted by VPC id."""
    found = {
        vpc["VPCId"]: {"vpc_id": vpc["VPCId"], "vpc_region": str(vpc.get("VPCRegion") or "")}
        for vpc in (zone or {}).get("VPCs") or []
        if vpc.get("VPCId")
    }
    return [found[key] for key in sorted(found)]


def own_vpc_ids(associations: Sequence[Mapping[str, str]], vpc: str | None, region: str | None) -> set[str]:
    """The VPCs of the zone that are the namespace's own and never disassociated.

    The namespace's VPC (``vpc_id``) when the zone lists it; else (teardown without ``vpc_id``) the zone's VPCs in the
    namespace's own region: Cloud Map creates the zone on a VPC of the namespace's region, and Route 53 refuses to
    disassociate a zone's last VPC (``LastVPCAssociation``,
    https://docs.aws.amazon.com/Route53/latest/APIReference/API_DisassociateVPCFromHostedZone.html).
    """
    ids = {item["vpc_id"] for item in associations}
    if vpc is not None and vpc in ids:
        return {vpc}
    return {item["vpc_id"] for item in associations if region and item.get("vpc_region") == region} or (
        {vpc} if vpc else set()
    )


def association_plan(
    current: Sequence[Mapping[str, str]], own: set[str], wanted: Sequence[Mapping[str, str]] | None
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(to associate, to disassociate) so that the zone is on its own VPC(s) and exactly ``wanted``.

    ``wanted`` None leaves the associations alone; an empty list removes every association but the own VPC(s)
    (what a teardown does before the namespace, and with it its zone, is deleted).
    """
    if wanted is None:
        return [], []
    have = {item["vpc_id"] for item in current}
    want = {item["vpc_id"] for item in wanted}
    to_add = [
        dict(item)
        for item in sorted(wanted, key=lambda item: item["vpc_id"])
        if item["vpc_id"] not in have and item["vpc_id"] not in own
    ]
    to_remove = [
        dict(item)
        for item in sorted(current, key=lambda item: item["vpc_id"])
        if item["vpc_id"] not in want and item["vpc_id"] not in own
    ]
    return to_add, to_remove


def associations_after(
    current: Sequence[Mapping[str, str]], to_add: Sequence[Mapping[str, str]], to_remove: Sequence[Mapping[str, str]]
) -> list[dict[str, str]]:
    """The zone's VPCs after the plan, sorted by VPC id."""
    gone = {item["vpc_id"] for item in to_remove}
    merged = {item["vpc_id"]: dict(item) for item in current if item["vpc_id"] not in gone}
    merged.update({item["vpc_id"]: dict(item) for item in to_add})
    return [merged[key] for key in sorted(merged)]


def pick_namespace(
    candidates: Sequence[tuple[Mapping[str, Any], list[str] | None]], name: str, vpc: str | None
) -> tuple[Mapping[str, Any], list[str] | None] | None:
    """The private DNS namespace called ``name`` on ``vpc`` among ``(namespace, vpcs)`` pairs, or None.

    ``vpcs`` None means the namespace's VPC could not be read (its hosted zone names no VPC, or cannot be read):
    such a namespace counts as the one on ``vpc`` when it is the only one of that name.
    ``vpc`` None (``state=absent`` without a VPC) takes the only namespace of that name.
    Raises :class:`DiscoveryError` when several match and the VPC cannot tell them apart.
    """
    named = [
        pair
        for pair in candidates
        if normalize_name(pair[0].get("Name")) == name and pair[0].get("Type") == "DNS_PRIVATE"
    ]
    if vpc is not None:
        on_vpc = [pair for pair in named if pair[1] is not None and vpc in pair[1]]
        if len(on_vpc) == 1:
            return on_vpc[0]
        unknown = [pair for pair in named if pair[1] is None]
        if not on_vpc and len(unknown) <= 1:
            return unknown[0] if unknown else None
        matching = on_vpc or unknown
    else:
        if len(named) <= 1:
            return named[0] if named else None
        matching = named
    raise DiscoveryError(
        "Several private DNS namespaces are called %s (%s) and their VPCs do not tell which one is meant%s: delete the "
        "extra ones, or give vpc_id."
        % (
            name,
            ", ".join(sorted(pair[0].get("Id", "?") for pair in matching)),
            "" if vpc is None else " (vpc_id=%s)" % vpc,
        )
    )


def namespace_view(
    namespace: Mapping[str, Any] | None,
    vpcs: Sequence[str] | None,
    tags: Mapping[str, str] | None,
    associations: Sequence[Mapping[str, str]] | None = None,
    own_vpc: str | None = None,
) -> dict[str, Any]:
    """The snake_case ``namespace`` result and diff picture ({} when there is none).

    ``vpc`` is the namespace's own VPC (``own_vpc`` when the zone lists it); ``associated_vpcs`` the zone's other VPCs.
    """
    if not namespace:
        return {}
    own = own_vpc if own_vpc and (not vpcs or own_vpc in vpcs) else (vpcs[0] if vpcs else None)
    return {
        "id": namespace.get("Id"),
        "arn": namespace.get("Arn"),
        "name": normalize_name(namespace.get("Name")),
        "type": namespace.get("Type", "DNS_PRIVATE"),
        "description": namespace.get("Description") or "",
        "hosted_zone_id": hosted_zone_id(namespace),
        "vpc": own,
        "associated_vpcs": [dict(item) for item in associations or [] if item.get("vpc_id") != own],
        "tags": dict(sorted((tags or {}).items())),
    }


def wanted_tags(tags: Mapping[str, Any] | None) -> dict[str, str] | None:
    """The ``tags`` option as strings (None: leave tags alone)."""
    if tags is None:
        return None
    return {str(key): str(value) for key, value in tags.items()}


def tag_changes(
    current: Mapping[str, str], tags: Mapping[str, str] | None, purge: bool
) -> tuple[dict[str, str], tuple[str, ...]]:
    """Tags to set and tag keys to remove (nothing when ``tags`` is None)."""
    if tags is None:
        return {}, ()
    to_set, to_unset = compare_aws_tags(dict(current), dict(tags), purge_tags=purge)
    return dict(sorted(to_set.items())), tuple(sorted(to_unset))


def apply_tags(current: Mapping[str, str], to_set: Mapping[str, str], to_unset: Iterable[str]) -> dict[str, str]:
    merged = {key: value for key, value in current.items() if key not in set(to_unset)}
    merged.update(to_set)
    return dict(sorted(merged.items()))


# ------------------------------------------------------------------------------------------- services


def _service_shape(service: Mapping[str, Any]) -> dict[str, Any]:
    dns = service.get("DnsConfig") or {}
    records = dns.get("DnsRecords") or []
    ttls = sorted({int(record.get("TTL", 0)) for record in records})
    return {
        "record_types": tuple(record.get("Type") for record in records),
        "ttl": ttls[0] if len(ttls) == 1 else ttls,
        "routing_policy": dns.get("RoutingPolicy") or "MULTIVALUE",
        "custom_health_check": bool(service.get("HealthCheckCustomConfig")),
        "description": service.get("Description") or "",
    }


def plan_service(
    current: Mapping[str, Any] | None,
    desired: DesiredService,
    current_tags: Mapping[str, str],
    tags: Mapping[str, str] | None,
    purge_tags: bool,
    namespace: str,
) -> ServicePlan:
    """What turns the live service ``current`` (or None) into ``desired``.

    Raises :class:`DiscoveryError` for what AWS cannot change on an existing service (its ARN is in the ECS service's
    service registries, so the module never replaces it on its own).
    """
    if current is None:
        return ServicePlan(name=desired.name, action="create", changes=("state",), tags_to_set={})
    shape = _service_shape(current)
    fixed = []
    if set(shape["record_types"]) != set(desired.record_types):
        fixed.append("dns_record_types %s -> %s" % ("/".join(shape["record_types"]), "/".join(desired.record_types)))
    if shape["routing_policy"] != desired.routing_policy:
        fixed.append("routing_policy %s -> %s" % (shape["routing_policy"], desired.routing_policy))
    if shape["custom_health_check"] != desired.custom_health_check:
        fixed.append(
            "health_check_custom_config %s -> %s" % (shape["custom_health_check"], desired.custom_health_check)
        )
    if fixed:
        raise DiscoveryError(
            "Service %s of namespace %s: AWS cannot change %s on an existing service. Keep the current settings, or "
            "delete the service (remove it from the ECS service's service registries, then from services with "
            "purge_services=true) and create it again." % (desired.name, namespace, "; ".join(fixed))
        )
    changes = []
    if shape["ttl"] != desired.dns_ttl:
        changes.append("dns_ttl")
    if desired.description is not None and shape["description"] != desired.description:
        changes.append("description")
    to_set, to_unset = tag_changes(current_tags, tags, purge_tags)
    if to_set or to_unset:
        changes.append("tags")
    return ServicePlan(
        name=desired.name,
        action="update" if set(changes) - {"tags"} else "none",
        changes=tuple(changes),
        tags_to_set=to_set,
        tags_to_unset=to_unset,
    )


def service_view(service: Mapping[str, Any] | None, tags: Mapping[str, str] | None) -> dict[str, Any]:
    """The snake_case picture of a service for the result and the diff ({} when there is none)."""
    if not service:
        return {}
    shape = _service_shape(service)
    return {
        "name": service.get("Name"),
        "id": service.get("Id"),
        "arn": service.get("Arn"),
        "description": shape["description"],
        "dns_ttl": shape["ttl"],
        "dns_record_types": list(shape["record_types"]),
        "routing_policy": shape["routing_policy"],
        "health_check_custom_config": shape["custom_health_check"],
        "tags": dict(sorted((tags or {}).items())),
    }


def predict_service(
    current: Mapping[str, Any] | None, desired: DesiredService, namespace_id: str | None, namespace: str = ""
) -> dict[str, Any]:
    """The service (AWS spelling) after its plan, for check mode; a new one has no id or ARN yet."""
    if current is None:
        params = desired.create_params(namespace_id or "", namespace)
        return dict(params, Id=None, Arn=None, NamespaceId=namespace_id)
    after = dict(current)
    if desired.description is not None:
        after["Description"] = desired.description
    after["DnsConfig"] = dict(current.get("DnsConfig") or {}, DnsRecords=desired.dns_records())
    return after


def services_to_purge(live: Iterable[Mapping[str, Any]], desired: Iterable[DesiredService]) -> list[Mapping[str, Any]]:
    """Live services that the options do not list (deleted with ``purge_services=true``)."""
    wanted = {service.name.lower() for service in desired}
    return sorted(
        (service for service in live if str(service.get("Name", "")).lower() not in wanted),
        key=lambda s: s.get("Name", ""),
    )


def busy_services(services: Iterable[Mapping[str, Any]], instances: Mapping[str, Sequence[Any]]) -> dict[str, int]:
    """Service name -> how many instances are still registered in it (``instances``: service id -> its instances),
    for the services that have any."""
    return {
        service["Name"]: len(instances.get(service["Id"]) or []) for service in services if instances.get(service["Id"])
    }


def _listed(busy: Mapping[str, int]) -> str:
    return ", ".join(
        "%s (%d instance%s)" % (name, count, "" if count == 1 else "s") for name, count in sorted(busy.items())
    )


def instances_progress(namespace: str, busy: Mapping[str, int], waited: float) -> str:
    """One line while the services to delete still have instances (ECS deregisters its tasks as it drains them)."""
    return "waiting for the instances of service %s of namespace %s to be deregistered for %ds" % (
        _listed(busy),
        namespace,
        int(waited),
    )


def in_use_message(namespace: str, busy: Mapping[str, int], wait_timeout: float | None = None) -> str:
    """The message when services to delete still have instances (after ``wait_timeout``, when the module waited).

    Cloud Map refuses DeleteService while instances are registered (ResourceInUse) and DeleteNamespace while services
    exist; ECS deregisters a service's tasks only as it stops them (after the load balancer's deregistration delay)."""
    waited = " after wait_timeout=%ss" % wait_timeout if wait_timeout is not None else ""
    return (
        "Cannot delete service %s of namespace %s: instances are still registered%s. Stop what registers them first "
        "(delete or scale down the ECS service whose service registries use it; ECS deregisters its tasks as it stops "
        "them), raise wait_timeout, or set deregister_instances=true to deregister them. Nothing was deleted."
        % (_listed(busy), namespace, waited)
    )


# ------------------------------------------------------------------------------------------- operations


def operation_progress(action: str, name: str, operation: Mapping[str, Any] | None) -> str:
    """One line: what is happening to the namespace, e.g. ``namespace a.internal create SUBMITTED (operation x)``."""
    if not operation:
        return "namespace %s %s: no operation" % (name, action)
    text = "namespace %s %s %s (operation %s)" % (name, action, operation.get("Status"), operation.get("Id"))
    if operation.get("ErrorMessage"):
        text += ": %s" % operation["ErrorMessage"]
    return text


def operation_failed_message(action: str, name: str, operation: Mapping[str, Any]) -> str:
    return "Cloud Map could not %s namespace %s: operation %s ended %s (%s: %s)." % (
        action,
        name,
        operation.get("Id"),
        operation.get("Status"),
        operation.get("ErrorCode", "no code"),
        operation.get("ErrorMessage", "no message"),
    )


def timeout_message(action: str, name: str, timeout: float, progress: str) -> str:
    return (
        "Timed out after %ss waiting for Cloud Map to %s namespace %s; last progress: %s. AWS goes on in the background: "
        "run the task again (it picks the operation up), or raise wait_timeout."
        % (seconds(timeout), action, name, progress)
    )


def default_namespace_description(name: str) -> str:
    return "Private DNS namespace %s" % name


def creator_request_id(region: str, name: str, vpc: str, attempt: str = "") -> str:
    """The ``CreatorRequestId`` of CreatePrivateDnsNamespace for namespace ``name`` on ``vpc`` in ``region``.

    The same for every run, so that a run killed after sending the request, whose namespace the next run cannot see
    yet (the creation runs for a while and its operation may not be listed at once), sends the *same* request again
    and AWS makes no second namespace: CreatorRequestId "allows failed CreatePrivateDnsNamespace requests to be
    retried without the risk of running the operation twice"
    (https://docs.aws.amazon.com/cloud-map/latest/api/API_CreatePrivateDnsNamespace.html). ``attempt`` makes another
    one, for a namespace of the same name created again after a deletion. At most 64 characters (AWS's limit)."""
    digest = hashlib.sha256(
        "\0".join((region or "", normalize_name(name), vpc or "", attempt)).encode("utf-8")
    ).hexdigest()
    return "megapool-" + digest[:48]
