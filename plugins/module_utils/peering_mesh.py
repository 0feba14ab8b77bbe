# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning for a full mesh of VPC peerings between regions. No boto3, no I/O.

The module reads what exists (peerings between the listed VPCs, routes of the listed route tables),
hands it to :func:`plan_mesh` together with the desired VPCs, and applies the returned :class:`Plan`.

Rules:

- one peering per unordered pair of VPCs; the requester is the VPC whose ``(region, vpc_id)`` sorts
  first, the accepter the other one (an existing peering made the other way round is kept);
- peerings in a terminal state (:data:`IGNORED_STATUSES`) count as absent;
- every route table of VPC A gets a route to the CIDR of each peer B through the A-B peering;
  a route to that CIDR through anything else is replaced;
- DNS resolution of the remote VPC is enabled on both sides of every peering;
- ``state=absent`` removes routes in the listed route tables whose target is a mesh peering, then
  deletes the mesh peerings.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import Callable
from typing import Iterable
from typing import Mapping
from typing import Sequence

from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

# AWS peering statuses that mean "gone" (or going): such a peering is treated as if it did not exist.
IGNORED_STATUSES = frozenset({"deleted", "deleting", "rejected", "failed", "expired"})
# Statuses a peering passes through before it can be accepted.
ACCEPTABLE_STATUSES = frozenset({"initiating-request", "pending-acceptance"})
# Which live peering represents a pair when several exist (lower rank wins, then the lower id).
_STATUS_RANK = {"active": 0, "provisioning": 1, "pending-acceptance": 2, "initiating-request": 3}

DEFAULT_NAME_PREFIX = "mesh"
CLUSTER_TAG = "megapool:cluster"
OVERLAP_FIX = "give each region a non-overlapping network_vpc_cidr"


class MeshError(ValueError):
    """Input that cannot form a mesh; the message names the offending entries and the fix."""


class OverlapError(MeshError):
    """Two VPCs to be peered have overlapping CIDRs (AWS refuses such peerings)."""


@dataclass(frozen=True)
class MeshVpc:
    """A VPC of the mesh. ``known=False`` stands for a VPC that does not exist yet (check mode)."""

    region: str
    vpc_id: str
    cidr: str
    route_table_ids: tuple[str, ...] = ()
    known: bool = True

    @property
    def key(self) -> tuple[str, str]:
        return (self.region, self.vpc_id)


@dataclass(frozen=True)
class ObservedPeering:
    """A peering as read from AWS, merged over the regions that see it.

    ``tags`` maps a region to the tags of that region's view (cross-region peerings are tagged per region).
    """

    peering_id: str
    requester_region: str
    requester_vpc_id: str
    accepter_region: str
    accepter_vpc_id: str
    status: str
    requester_dns: bool = False
    accepter_dns: bool = False
    tags: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        return self.status not in IGNORED_STATUSES

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.requester_region, self.accepter_region)))


@dataclass(frozen=True)
class Observed:
    """Current state: peerings seen in the mesh regions and ``routes[route_table_id][destination] = target``."""

    peerings: tuple[ObservedPeering, ...] = ()
    routes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Pair:
    """One unordered pair of the mesh and the live peering that represents it (if any)."""

    name: str
    requester: MeshVpc
    accepter: MeshVpc
    peering: ObservedPeering | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PeeringCreate:
    name: str
    requester_region: str
    requester_vpc_id: str
    accepter_region: str
    accepter_vpc_id: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PeeringAction:
    """Accept or delete a peering in ``region``; ``peering_id`` is None for a peering the plan creates."""

    name: str
    peering_id: str | None
    region: str


@dataclass(frozen=True)
class DnsChange:
    """Enable ``AllowDnsResolutionFromRemoteVpc`` on one side (requester/accepter) of a peering, in its region."""

    name: str
    peering_id: str | None
    region: str
    side: str


@dataclass(frozen=True)
class TagChange:
    """Set/unset tags on the view of a peering in ``region``."""

    name: str
    peering_id: str | None
    region: str
    set_tags: Mapping[str, str] = field(default_factory=dict)
    unset_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouteChange:
    """A route in ``route_table_id`` to ``destination`` through the peering of pair ``name``.

    ``current_target`` is what the route points at now (for replacements and removals).
    """

    name: str
    peering_id: str | None
    region: str
    route_table_id: str
    destination: str
    current_target: str | None = None


@dataclass(frozen=True)
class Plan:
    pairs: tuple[Pair, ...] = ()
    create: tuple[PeeringCreate, ...] = ()
    accept: tuple[PeeringAction, ...] = ()
    tags: tuple[TagChange, ...] = ()
    dns: tuple[DnsChange, ...] = ()
    routes_add: tuple[RouteChange, ...] = ()
    routes_replace: tuple[RouteChange, ...] = ()
    routes_remove: tuple[RouteChange, ...] = ()
    delete: tuple[PeeringAction, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(
            self.create
            or self.accept
            or self.tags
            or self.dns
            or self.routes_add
            or self.routes_replace
            or self.routes_remove
            or self.delete
        )

    def summary(self) -> dict[str, list]:
        """The actions as plain data (names of peerings, route entries)."""
        return {
            "peerings_created": [item.name for item in self.create],
            "peerings_accepted": [item.name for item in self.accept],
            "peerings_deleted": [item.name for item in self.delete],
            "routes_added": [_route_entry(item) for item in self.routes_add],
            "routes_replaced": [_route_entry(item) for item in self.routes_replace],
            "routes_removed": [_route_entry(item) for item in self.routes_remove],
        }


# --------------------------------------------------------------------------------------------------
# validation


def normalize_cidr(value: str) -> str:
    """``10.1.0.0/16`` for any spelling of a network; unparsable values are returned unchanged."""
    try:
        return str(ipaddress.ip_network(str(value), strict=False))
    except ValueError:
        return str(value)


def find_overlaps(cidrs: Mapping[str, str]) -> list[tuple[str, str]]:
    """Pairs ``(a, b)`` of names whose CIDRs overlap (nested blocks included), in input order.

    Raises ValueError naming the entry for a value that is not a CIDR.
    """
    networks = []
    for name, cidr in cidrs.items():
        try:
            networks.append((name, ipaddress.ip_network(str(cidr), strict=False)))
        except ValueError as exc:
            raise ValueError("%s: %r is not a valid CIDR (%s)" % (name, cidr, exc)) from None
    overlaps = []
    for index, (name_a, net_a) in enumerate(networks):
        for name_b, net_b in networks[index + 1 :]:
            if net_a.version == net_b.version and net_a.overlaps(net_b):
                overlaps.append((name_a, name_b))
    return overlaps


def validate_vpcs(entries: Sequence[Mapping], allow_unknown: bool = False) -> list[MeshVpc]:
    """Turn the ``vpcs`` option into :class:`MeshVpc` objects or raise :class:`MeshError`.

    With ``allow_unknown`` (check mode, or state=absent) an empty ``vpc_id`` stands for a VPC that
    does not exist yet; otherwise it is an error.
    """
    if len(entries) < 2:
        raise MeshError("vpcs: a mesh needs at least 2 VPCs, got %d. List one VPC per region to peer." % len(entries))
    vpcs: list[MeshVpc] = []
    seen_ids: dict[str, int] = {}
    seen_tables: dict[str, int] = {}
    for index, entry in enumerate(entries):
        where = "vpcs[%d]" % index
        region = str(entry.get("region") or "").strip()
        if not region:
            raise MeshError("%s.region is empty. Give the region of the VPC, e.g. us-east-1." % where)
        vpc_id = str(entry.get("vpc_id") or "").strip()
        known = bool(vpc_id)
        if not known:
            if not allow_unknown:
                raise MeshError(
                    "%s.vpc_id is empty (region %s). Create the network of that region before peering it."
                    % (where, region)
                )
            vpc_id = "unknown-%d" % index
        elif vpc_id in seen_ids:
            raise MeshError(
                "%s: VPC %s is listed twice (also vpcs[%d]). List each VPC once." % (where, vpc_id, seen_ids[vpc_id])
            )
        seen_ids[vpc_id] = index
        cidr = str(entry.get("cidr") or "").strip()
        try:
            network = ipaddress.IPv4Network(cidr, strict=True)
        except ValueError as exc:
            raise MeshError(
                "%s.cidr=%r (region %s) is not a valid IPv4 network CIDR (%s). Use the VPC's CIDR, e.g. 10.10.0.0/16."
                % (where, cidr, region, exc)
            ) from None
        tables = []
        for table_id in entry.get("route_table_ids") or []:
            table_id = str(table_id or "").strip()
            if not table_id:
                if not allow_unknown:
                    raise MeshError("%s.route_table_ids has an empty entry (region %s)." % (where, region))
                continue
            if table_id in seen_tables:
                raise MeshError(
                    "%s.route_table_ids: %s is listed twice (also under vpcs[%d]). A route table belongs to one VPC; list it once."
                    % (where, table_id, seen_tables[table_id])
                )
            seen_tables[table_id] = index
            tables.append(table_id)
        vpcs.append(MeshVpc(region, vpc_id, str(network), tuple(tables), known))
    _check_overlaps(vpcs)
    return vpcs


def _check_overlaps(vpcs: Sequence[MeshVpc]) -> None:
    labels = _labels(vpcs)
    by_label = {labels[vpc.key]: vpc for vpc in vpcs}
    overlaps = find_overlaps({label: vpc.cidr for label, vpc in by_label.items()})
    if overlaps:
        details = "; ".join("%s (%s) and %s (%s)" % (a, by_label[a].cidr, b, by_label[b].cidr) for a, b in overlaps)
        raise OverlapError(
            "VPC CIDRs overlap: %s. Peered VPCs need disjoint address space: %s." % (details, OVERLAP_FIX)
        )


# --------------------------------------------------------------------------------------------------
# planning


def mesh_pairs(vpcs: Sequence[MeshVpc], tags: Mapping[str, str] | None = None) -> list[Pair]:
    """All unordered pairs, requester first, sorted; each with its name and desired tags (no peering yet)."""
    labels = _labels(vpcs)
    prefix = (tags or {}).get(CLUSTER_TAG) or DEFAULT_NAME_PREFIX
    ordered = sorted(vpcs, key=lambda vpc: vpc.key)
    pairs = []
    for index, requester in enumerate(ordered):
        for accepter in ordered[index + 1 :]:
            name = "%s-%s-%s" % (prefix, labels[requester.key], labels[accepter.key])
            pairs.append(Pair(name, requester, accepter, None, dict(tags or {}, Name=name)))
    return pairs


def plan_mesh(
    vpcs: Sequence[MeshVpc],
    observed: Observed,
    state: str = "present",
    tags: Mapping[str, str] | None = None,
    purge_tags: bool = True,
) -> Plan:
    """The changes that turn ``observed`` into the desired mesh (``state=present``) or remove it (``absent``).

    ``tags=None`` leaves the tags of existing peerings alone (new ones get just ``Name``); otherwise the
    peerings get ``tags`` plus ``Name``, and ``purge_tags`` removes other tags (except ``aws:*``).
    """
    if state not in ("present", "absent"):
        raise MeshError("state must be present or absent, got %r" % (state,))
    _check_overlaps(vpcs)
    pairs = [replace(pair, peering=_pick(_live_peerings_of(pair, observed))) for pair in mesh_pairs(vpcs, tags)]
    if state == "absent":
        return _plan_absent(vpcs, pairs, observed)
    create: list[PeeringCreate] = []
    accept: list[PeeringAction] = []
    tag_changes: list[TagChange] = []
    dns: list[DnsChange] = []
    routes_add: list[RouteChange] = []
    routes_replace: list[RouteChange] = []
    for pair in pairs:
        peering = pair.peering
        peering_id = peering.peering_id if peering else None
        if peering is None:
            create.append(
                PeeringCreate(
                    pair.name,
                    pair.requester.region,
                    pair.requester.vpc_id,
                    pair.accepter.region,
                    pair.accepter.vpc_id,
                    pair.tags,
                )
            )
            accept.append(PeeringAction(pair.name, None, pair.accepter.region))
            if pair.accepter.region != pair.requester.region:
                tag_changes.append(TagChange(pair.name, None, pair.accepter.region, dict(pair.tags), ()))
            dns.append(DnsChange(pair.name, None, pair.requester.region, "requester"))
            dns.append(DnsChange(pair.name, None, pair.accepter.region, "accepter"))
        else:
            if peering.status in ACCEPTABLE_STATUSES:
                accept.append(PeeringAction(pair.name, peering_id, peering.accepter_region))
            for region in peering.regions if tags is not None else ():
                to_set, to_unset = compare_aws_tags(dict(peering.tags.get(region, {})), dict(pair.tags), purge_tags)
                if to_set or to_unset:
                    tag_changes.append(TagChange(pair.name, peering_id, region, to_set, tuple(sorted(to_unset))))
            if not peering.requester_dns:
                dns.append(DnsChange(pair.name, peering_id, peering.requester_region, "requester"))
            if not peering.accepter_dns:
                dns.append(DnsChange(pair.name, peering_id, peering.accepter_region, "accepter"))
        for local, remote in ((pair.requester, pair.accepter), (pair.accepter, pair.requester)):
            for table_id in local.route_table_ids:
                current = _table(observed, table_id).get(remote.cidr)
                change = RouteChange(pair.name, peering_id, local.region, table_id, remote.cidr, current)
                if current is None:
                    routes_add.append(change)
                elif peering_id is None or current != peering_id:
                    routes_replace.append(change)
    return Plan(
        pairs=tuple(pairs),
        create=tuple(create),
        accept=tuple(accept),
        tags=tuple(tag_changes),
        dns=tuple(dns),
        routes_add=tuple(sorted(routes_add, key=_route_sort_key)),
        routes_replace=tuple(sorted(routes_replace, key=_route_sort_key)),
    )


def _plan_absent(vpcs: Sequence[MeshVpc], pairs: Sequence[Pair], observed: Observed) -> Plan:
    names = _peering_names(pairs, observed)
    removals = []
    for vpc in vpcs:
        for table_id in vpc.route_table_ids:
            for destination, target in sorted(_table(observed, table_id).items()):
                if target in names:
                    removals.append(RouteChange(names[target], target, vpc.region, table_id, destination, target))
    deletes = [
        PeeringAction(names[peering.peering_id], peering.peering_id, peering.requester_region)
        for peering in observed.peerings
        if peering.live and peering.peering_id in names
    ]
    return Plan(
        pairs=tuple(pairs),
        routes_remove=tuple(sorted(removals, key=_route_sort_key)),
        delete=tuple(sorted(deletes, key=lambda item: (item.name, item.peering_id or ""))),
    )


# --------------------------------------------------------------------------------------------------
# prediction and views (check mode, diffs)


def predict(
    vpcs: Sequence[MeshVpc],
    observed: Observed,
    plan: Plan,
    new_id: Callable[[str], str] = lambda name: "pcx-new-" + name,
) -> Observed:
    """The state ``observed`` would be in after ``plan`` is applied (for check mode and tests)."""
    peerings = {peering.peering_id: peering for peering in observed.peerings}
    routes = {table_id: dict(entries) for table_id, entries in observed.routes.items()}
    for vpc in vpcs:
        for table_id in vpc.route_table_ids:
            routes.setdefault(table_id, {})
    ids = {pair.name: pair.peering.peering_id for pair in plan.pairs if pair.peering}
    for item in plan.create:
        ids[item.name] = new_id(item.name)
        peerings[ids[item.name]] = ObservedPeering(
            ids[item.name],
            item.requester_region,
            item.requester_vpc_id,
            item.accepter_region,
            item.accepter_vpc_id,
            "pending-acceptance",
            tags={item.requester_region: dict(item.tags)},
        )

    def _resolve(name: str, peering_id: str | None) -> str:
        return peering_id or ids[name]

    for action in plan.accept:
        peering_id = _resolve(action.name, action.peering_id)
        peerings[peering_id] = replace(peerings[peering_id], status="active")
    for tag_change in plan.tags:
        peering_id = _resolve(tag_change.name, tag_change.peering_id)
        peering = peerings[peering_id]
        view = {k: v for k, v in peering.tags.get(tag_change.region, {}).items() if k not in tag_change.unset_tags}
        view.update(tag_change.set_tags)
        peerings[peering_id] = replace(peering, tags=dict(peering.tags, **{tag_change.region: view}))
    for dns_change in plan.dns:
        peering_id = _resolve(dns_change.name, dns_change.peering_id)
        peerings[peering_id] = replace(peerings[peering_id], **{dns_change.side + "_dns": True})
    for route in plan.routes_add + plan.routes_replace:
        routes[route.route_table_id][route.destination] = _resolve(route.name, route.peering_id)
    for route in plan.routes_remove:
        routes[route.route_table_id].pop(route.destination, None)
    for action in plan.delete:
        peering_id = _resolve(action.name, action.peering_id)
        peerings[peering_id] = replace(peerings[peering_id], status="deleted")
    return Observed(tuple(peerings.values()), routes)


def view(vpcs: Sequence[MeshVpc], plan: Plan, observed: Observed) -> dict:
    """A compact, id-free picture of the mesh for diffs.

    ``peerings``: live peerings by pair name (status, DNS flags, tags per region view);
    ``routes``: per listed route table, the entries to peer CIDRs or through mesh peerings,
    with mesh targets shown as ``peering:<pair name>``.
    """
    names = _peering_names(plan.pairs, observed)
    peerings = {}
    for peering in sorted(
        observed.peerings, key=lambda item: (names.get(item.peering_id, ""), _rank(item), item.peering_id)
    ):
        if not peering.live or peering.peering_id not in names:
            continue
        name = names[peering.peering_id]
        key = name if name not in peerings else "%s (%s)" % (name, peering.peering_id)
        peerings[key] = {
            "status": peering.status,
            "requester": "%s/%s" % (peering.requester_region, peering.requester_vpc_id),
            "accepter": "%s/%s" % (peering.accepter_region, peering.accepter_vpc_id),
            "dns_resolution": {"requester": peering.requester_dns, "accepter": peering.accepter_dns},
            "tags": {region: dict(sorted(peering.tags.get(region, {}).items())) for region in peering.regions},
        }
    live_ids = {peering.peering_id for peering in observed.peerings if peering.live}
    routes = {}
    for vpc in vpcs:
        peer_cidrs = {other.cidr for other in vpcs if other.key != vpc.key}
        for table_id in vpc.route_table_ids:
            entries = {}
            for destination, target in sorted(_table(observed, table_id).items()):
                if destination in peer_cidrs or target in names:
                    if target in names:
                        shown = (
                            "peering:"
                            + names[target]
                            + ("" if target in live_ids else " (%s)" % _status_of(observed, target))
                        )
                    else:
                        shown = target
                    entries[destination] = shown
            routes[table_id] = entries
    return {"peerings": peerings, "routes": routes}


def pair_states(plan: Plan, observed: Observed) -> list[Pair]:
    """The pairs of ``plan`` with the live peering ``observed`` now holds for each (None when absent)."""
    result = []
    for pair in plan.pairs:
        result.append(replace(pair, peering=_pick(_live_peerings_of(pair, observed))))
    return result


# --------------------------------------------------------------------------------------------------
# helpers


def _labels(vpcs: Iterable[MeshVpc]) -> dict[tuple[str, str], str]:
    """The region as a VPC's label, or ``region-vpc_id`` when a region holds several mesh VPCs."""
    vpcs = list(vpcs)
    counts: dict[str, int] = {}
    for vpc in vpcs:
        counts[vpc.region] = counts.get(vpc.region, 0) + 1
    return {vpc.key: vpc.region if counts[vpc.region] == 1 else "%s-%s" % (vpc.region, vpc.vpc_id) for vpc in vpcs}


def _connects(peering: ObservedPeering, a: MeshVpc, b: MeshVpc) -> bool:
    ends = {(peering.requester_region, peering.requester_vpc_id), (peering.accepter_region, peering.accepter_vpc_id)}
    return ends == {a.key, b.key}


def _live_peerings_of(pair: Pair, observed: Observed) -> list[ObservedPeering]:
    return [p for p in observed.peerings if p.live and _connects(p, pair.requester, pair.accepter)]


def _rank(peering: ObservedPeering) -> int:
    return _STATUS_RANK.get(peering.status, len(_STATUS_RANK))


def _pick(candidates: Sequence[ObservedPeering]) -> ObservedPeering | None:
    return min(candidates, key=lambda item: (_rank(item), item.peering_id), default=None)


def _peering_names(pairs: Sequence[Pair], observed: Observed) -> dict[str, str]:
    """Pair name of every observed peering (any status) that joins two mesh VPCs, by peering id."""
    names = {}
    for pair in pairs:
        for peering in observed.peerings:
            if _connects(peering, pair.requester, pair.accepter):
                names[peering.peering_id] = pair.name
    return names


def _status_of(observed: Observed, peering_id: str) -> str:
    for peering in observed.peerings:
        if peering.peering_id == peering_id:
            return peering.status
    return "unknown"


def _table(observed: Observed, table_id: str) -> dict[str, str]:
    return {normalize_cidr(destination): target for destination, target in observed.routes.get(table_id, {}).items()}


def _route_sort_key(route: RouteChange) -> tuple[str, str, str]:
    return (route.route_table_id, route.destination, route.name)


def _route_entry(route: RouteChange) -> dict[str, str | None]:
    entry = {
        "peering": route.name,
        "vpc_peering_connection_id": route.peering_id,
        "region": route.region,
        "route_table_id": route.route_table_id,
        "destination_cidr_block": route.destination,
    }
    if route.current_target is not None:
        entry["previous_target"] = route.current_target
    return entry
