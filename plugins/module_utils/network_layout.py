# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning for a region's network: subnet layout, input validation, and what differs from the plan. No I/O.

The VPC CIDR is cut into ``2 * az_count`` equal slots (rounded up to a power of two): the first half
holds the private subnets, the second half the public ones, AZ ``i`` at slot ``i`` of its half. Adding an
AZ within the same power of two therefore takes a free slot and moves no existing subnet.

"Find, then change only what differs": ``subnets_to_converge`` and ``route_tables_to_converge`` compare the
plan with what one ``*_info`` call found, by the rules of the amazon.aws modules the role calls with the
role's options, so the role runs those modules only for the items they would change.
"""

from __future__ import annotations

import ipaddress
import math

from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import find_overlaps as mesh_overlaps

# AWS limits: a VPC CIDR is /16../28, and so is a subnet.
VPC_MIN_PREFIX = 16
SUBNET_MAX_PREFIX = 28
# An Application Load Balancer's subnets need "a CIDR block with at least a /27 bitmask" and at least 8 free IP
# addresses each (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html
# #subnets-load-balancer); the public subnets hold the ALB, so they are /27 or larger.
ALB_SUBNET_MAX_PREFIX = 27
MIN_AZ_COUNT = 2
NAT_MODES = ("none", "single", "per_az")


class LayoutError(ValueError):
    """An input that cannot produce a network; the message names the variable and the fix."""


def _network(value: str, variable: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(str(value), strict=True)
    except ValueError as exc:
        raise LayoutError(
            "%s=%r is not a valid IPv4 network CIDR (%s). Use a network address such as 10.10.0.0/16."
            % (variable, value, exc)
        ) from None


def subnet_layout(vpc_cidr: str, az_count: int, subnet_prefix: int | None = None) -> dict[str, list[str]]:
    """Return ``{"private": [...], "public": [...], "prefix": N}`` for a VPC CIDR and AZ count."""
    vpc = _network(vpc_cidr, "network_vpc_cidr")
    if vpc.prefixlen < VPC_MIN_PREFIX or vpc.prefixlen > SUBNET_MAX_PREFIX:
        raise LayoutError(
            "network_vpc_cidr=%s: AWS accepts VPC CIDRs from /%d to /%d. Choose a block in that range, e.g. /16."
            % (vpc_cidr, VPC_MIN_PREFIX, SUBNET_MAX_PREFIX)
        )
    if az_count < MIN_AZ_COUNT:
        raise LayoutError(
            "network_az_count=%d: at least %d availability zones are needed (the ALB and the ECS capacity span "
            "two AZs). Set network_az_count to %d or more." % (az_count, MIN_AZ_COUNT, MIN_AZ_COUNT)
        )
    slots = 2 ** math.ceil(math.log2(2 * az_count))
    needed_prefix = vpc.prefixlen + int(math.log2(slots))
    prefix = needed_prefix if subnet_prefix is None else int(subnet_prefix)
    if prefix < needed_prefix:
        raise LayoutError(
            "network_subnet_prefix=/%d: %d subnets (%d AZs x public/private) of that size do not fit in network_vpc_cidr=%s. "
            "Use /%d or longer, or leave network_subnet_prefix unset."
            % (prefix, 2 * az_count, az_count, vpc_cidr, needed_prefix)
        )
    if subnet_prefix is not None and prefix > SUBNET_MAX_PREFIX:
        raise LayoutError(
            "network_subnet_prefix=/%d: AWS subnets are at most /%d. Use /%d or shorter (at least /%d here), "
            "or leave network_subnet_prefix unset." % (prefix, SUBNET_MAX_PREFIX, SUBNET_MAX_PREFIX, needed_prefix)
        )
    if prefix > SUBNET_MAX_PREFIX:
        raise LayoutError(
            "network_vpc_cidr=%s is too small for %d subnets (%d AZs x public/private): each would be /%d, and AWS subnets "
            "are at most /%d. Use a larger network_vpc_cidr (e.g. /%d or shorter) or fewer AZs (network_az_count)."
            % (vpc_cidr, 2 * az_count, az_count, prefix, SUBNET_MAX_PREFIX, SUBNET_MAX_PREFIX - int(math.log2(slots)))
        )
    subnets = [str(net) for net in vpc.subnets(new_prefix=prefix)]
    half = slots // 2
    return {"private": subnets[:az_count], "public": subnets[half : half + az_count], "prefix": prefix}


def subnet_plan(vpc_cidr: str, azs: list[str], subnet_prefix: int | None = None) -> list[dict[str, str]]:
    """The subnets to build: one private and one public per AZ, as ``{"tier", "az", "cidr"}`` dicts."""
    layout = subnet_layout(vpc_cidr, len(azs), subnet_prefix)
    return [
        {"tier": tier, "az": az, "cidr": cidr} for tier in ("private", "public") for az, cidr in zip(azs, layout[tier])
    ]


def nat_subnet_ids(subnets: list[dict], nat_mode: str) -> list[str]:
    """Public subnets that get a NAT gateway: none, the first one (single), or one per AZ (per_az)."""
    public = [subnet["id"] for subnet in subnets if subnet["tier"] == "public"]
    return {"none": [], "single": public[:1], "per_az": public}[nat_mode]


def route_table_plan(
    subnets: list[dict], name: str, igw_id: str, nat_mode: str, nat_by_subnet: dict[str, str]
) -> list[dict]:
    """Route tables: one public (default route to the internet gateway) and one private per AZ
    (default route to the AZ's own NAT gateway in per_az mode, to the single one otherwise, none without NAT).

    ``subnets`` are ``{"tier", "az", "id"}`` dicts in AZ order; ``nat_by_subnet`` maps public subnet id -> NAT id.
    """
    public = [subnet for subnet in subnets if subnet["tier"] == "public"]
    public_by_az = {subnet["az"]: subnet["id"] for subnet in public}
    tables = [
        {
            "name": "%s-public" % name,
            "role": "public-rt",
            "subnets": [subnet["id"] for subnet in public],
            "routes": [{"dest": "0.0.0.0/0", "gateway_id": igw_id}],
        }
    ]
    nat_subnets = nat_subnet_ids(subnets, nat_mode)
    for subnet in (s for s in subnets if s["tier"] == "private"):
        nat_subnet = (
            public_by_az.get(subnet["az"]) if nat_mode == "per_az" else (nat_subnets[0] if nat_subnets else None)
        )
        nat_id = nat_by_subnet.get(nat_subnet) if nat_subnet else None
        tables.append(
            {
                "name": "%s-private-%s" % (name, subnet["az"]),
                "role": "private-rt",
                "subnets": [subnet["id"]],
                "routes": [{"dest": "0.0.0.0/0", "gateway_id": nat_id}] if nat_id else [],
            }
        )
    return tables


def find_overlaps(cidrs: dict[str, str]) -> list[tuple[str, str]]:
    """Pairs of names whose CIDRs overlap, sorted by name; invalid CIDRs are skipped (network_errors reports them)."""
    valid = {}
    for name in sorted(cidrs):
        try:
            ipaddress.ip_network(str(cidrs[name]), strict=False)
        except ValueError:
            continue
        valid[name] = cidrs[name]
    return mesh_overlaps(valid)


def overlap_errors(cidrs: dict[str, str], variable: str = "network_vpc_cidr") -> list[str]:
    """One message per overlapping pair, naming both regions, their CIDRs and the fix."""
    return [
        "%s of %s (%s) overlaps %s of %s (%s): peered VPCs need disjoint address ranges. "
        "Give each region a non-overlapping %s." % (variable, a, cidrs[a], variable, b, cidrs[b], variable)
        for a, b in find_overlaps(cidrs)
    ]


def admin_cidr_errors(admin_cidrs: list[str], allow_open: bool) -> list[str]:
    """Reject malformed admin CIDRs, and the whole internet unless explicitly allowed."""
    errors = []
    for cidr in admin_cidrs:
        try:
            net = ipaddress.ip_network(str(cidr), strict=True)
        except ValueError as exc:
            errors.append("network_admin_cidrs: %r is not a valid CIDR (%s). Use e.g. 203.0.113.7/32." % (cidr, exc))
            continue
        if net.prefixlen == 0 and not allow_open:
            errors.append(
                "network_admin_cidrs contains %s, which opens SSH on the bastion to the whole internet. "
                "List your office/VPN ranges instead, or set network_allow_open_admin: true to accept the risk." % cidr
            )
    return errors


def region_errors(region: str, known: list[str]) -> list[str]:
    if region in known:
        return []
    prefix = str(region).split("-", maxsplit=1)[0]
    close = [name for name in known if name.split("-", maxsplit=1)[0] == prefix]
    hint = " Known regions with that prefix: %s." % ", ".join(sorted(close)) if close else ""
    return [
        "aws_region=%r is not an AWS region this botocore knows. Name the inventory host (or set aws_region) "
        "after a real region such as eu-north-1.%s" % (region, hint)
    ]


def public_subnet_errors(vpc_cidr: str, az_count: int, prefix: int, subnet_prefix: int | None = None) -> list[str]:
    """Refuse public subnets smaller than the ALB accepts (/27, 8 free addresses); ``prefix`` is the planned one."""
    if prefix <= ALB_SUBNET_MAX_PREFIX:
        return []
    slots = 2 ** math.ceil(math.log2(2 * az_count))
    if subnet_prefix is not None:
        return [
            "network_subnet_prefix=/%d: the public subnets hold the Application Load Balancer, which needs subnets of "
            "/%d or larger (at least 8 free addresses each). Use network_subnet_prefix /%d or shorter, or leave it unset."
            % (prefix, ALB_SUBNET_MAX_PREFIX, ALB_SUBNET_MAX_PREFIX)
        ]
    return [
        "network_vpc_cidr=%s with network_az_count=%d gives /%d public subnets, but the Application Load Balancer needs "
        "subnets of /%d or larger (at least 8 free addresses each). Use a larger network_vpc_cidr (/%d or shorter) "
        "or fewer AZs."
        % (vpc_cidr, az_count, prefix, ALB_SUBNET_MAX_PREFIX, ALB_SUBNET_MAX_PREFIX - int(math.log2(slots)))
    ]


def nat_mode_errors(nat_mode: str, private_hosts: bool) -> list[str]:
    """Refuse ``network_nat_mode: none`` when the private subnets host ECS container instances (``private_hosts``).

    The ECS agent, ECR image pulls, the awslogs driver and the SSM agent all call public AWS endpoints; without NAT
    (or the VPC interface endpoints for ecs, ecs-agent, ecs-telemetry, ecr.api, ecr.dkr, logs, ssm, ssmmessages,
    ec2messages and the S3 gateway endpoint, which this collection does not create) an instance in a private
    subnet never registers with its cluster (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/
    vpc-endpoints.html)."""
    if nat_mode != "none" or not private_hosts:
        return []
    return [
        "network_nat_mode=none: the ECS hosts (ecs_hosts_instance_types is set) run in the private subnets and must "
        "reach the ECS, ECR, CloudWatch Logs and SSM endpoints; without NAT their agents never register. Use "
        "network_nat_mode: single (one NAT gateway) or per_az, or leave the ECS layer (ecs_hosts_*) out of this inventory."
    ]


def network_errors(
    region: str,
    known_regions: list[str],
    vpc_cidr: str,
    az_count: int,
    admin_cidrs: list[str],
    allow_open_admin: bool = False,
    subnet_prefix: int | None = None,
    nat_mode: str = "single",
    private_hosts: bool = False,
) -> list[str]:
    """Every problem with one region's network inputs, as messages (empty when the inputs are fine)."""
    errors = region_errors(region, known_regions)
    try:
        layout = subnet_layout(vpc_cidr, int(az_count), subnet_prefix)
    except LayoutError as exc:
        errors.append(str(exc))
    else:
        errors.extend(public_subnet_errors(vpc_cidr, int(az_count), layout["prefix"], subnet_prefix))
    errors.extend(admin_cidr_errors(admin_cidrs, allow_open_admin))
    errors.extend(nat_mode_errors(nat_mode, private_hosts))
    return errors


# --------------------------------------------------------------------------------------------------
# Which availability zones (by AZ ID, not by name)
# --------------------------------------------------------------------------------------------------
#
# AZ names are mapped to physical zones independently per account in the older regions ("the us-east-1a for your
# AWS account might not be the same physical location as the us-east-1a for another AWS account";
# https://docs.aws.amazon.com/global-infrastructure/latest/regions/az-ids.html), and not every zone offers every
# instance type (us-east-1's use1-az3 offers none of the current general-purpose types). So the zones are chosen
# by what DescribeInstanceTypeOfferings says per AZ ID, then named by DescribeAvailabilityZones' mapping.


def az_qualification(zones: list[dict], offers: dict[str, list[str]], wanted: list[str]) -> list[dict]:
    """Each zone (``{"zone_name", "zone_id"}``) sorted by name, with ``lacks``: the wanted types its AZ ID does
    not offer (``offers``: type -> AZ IDs offering it; a type absent from ``offers`` is offered nowhere)."""
    wanted = list(dict.fromkeys(str(name) for name in wanted))
    table = []
    for zone in sorted(zones, key=lambda item: str(item["zone_name"])):
        lacks = [name for name in wanted if zone["zone_id"] not in set(offers.get(name) or [])]
        table.append({"zone_name": zone["zone_name"], "zone_id": zone["zone_id"], "lacks": lacks})
    return table


def existing_slot_azs(
    vpc_cidr: str, az_count: int, subnet_prefix: int | None, existing: list[dict]
) -> list[str | None]:
    """The AZ name of each planned slot that already has a subnet (private or public CIDR of the slot), else None.

    ``existing``: the VPC's subnets as ``ec2_vpc_subnet_info`` returns them (``cidr_block``, ``availability_zone``)."""
    layout = subnet_layout(vpc_cidr, az_count, subnet_prefix)
    by_cidr = {subnet.get("cidr_block"): subnet.get("availability_zone") for subnet in existing or []}
    return [by_cidr.get(private) or by_cidr.get(public) for private, public in zip(layout["private"], layout["public"])]


def choose_azs(
    zones: list[dict],
    offers: dict[str, list[str]],
    wanted: list[str],
    az_count: int,
    slot_azs: list[str | None] | None = None,
    region: str = "the region",
    wanted_from: str = "the instance types",
) -> dict:
    """The AZ names of the network, in slot order, and why.

    A slot that already has a subnet keeps its AZ (existing subnets never move, even to a zone that now qualifies
    better; ``kept_unqualified`` names those that lack a wanted type). The free slots take, in name order, the
    zones not yet used whose AZ ID offers every ``wanted`` type. Returns ``{"azs": [...], "zone_ids": [...],
    "kept_unqualified": [...], "errors": [...]}``; ``errors`` (fewer than ``az_count`` zones to use) names the
    variables and the fix, and ``azs`` is then empty."""
    table = az_qualification(zones, offers, wanted)
    by_name = {row["zone_name"]: row for row in table}
    slots = list(slot_azs or [])[:az_count]
    slots += [None] * (az_count - len(slots))
    used = {name for name in slots if name}
    free = [row["zone_name"] for row in table if not row["lacks"] and row["zone_name"] not in used]
    chosen = []
    for name in slots:
        if name is None and free:
            name = free.pop(0)
        chosen.append(name)
    kept_unqualified = [
        "%s (%s) lacks %s" % (name, by_name[name]["zone_id"], ", ".join(by_name[name]["lacks"]))
        for name in slots
        if name and name in by_name and by_name[name]["lacks"]
    ]
    if None in chosen:
        qualified = [row for row in table if not row["lacks"]]
        lacking = [row for row in table if row["lacks"]]
        return {
            "azs": [],
            "zone_ids": [],
            "kept_unqualified": kept_unqualified,
            "errors": [
                "network_az_count=%d but only %d availability zone%s of %s offer%s every instance type the network "
                "must host (%s)%s.%s Lower network_az_count, or choose instance types those zones offer "
                "(aws ec2 describe-instance-type-offerings --location-type availability-zone-id --region %s)."
                % (
                    az_count,
                    len(qualified),
                    "" if len(qualified) == 1 else "s",
                    region,
                    "s" if len(qualified) == 1 else "",
                    wanted_from,
                    (": " + ", ".join("%s (%s)" % (row["zone_name"], row["zone_id"]) for row in qualified))
                    if qualified
                    else "",
                    (
                        " "
                        + "; ".join(
                            "%s (%s) lacks %s" % (row["zone_name"], row["zone_id"], ", ".join(row["lacks"]))
                            for row in lacking
                        )
                        + "."
                    )
                    if lacking
                    else "",
                    region,
                )
            ],
        }
    zone_id = {row["zone_name"]: row["zone_id"] for row in table}
    return {
        "azs": chosen,
        "zone_ids": [zone_id.get(name) for name in chosen],
        "kept_unqualified": kept_unqualified,
        "errors": [],
    }


# --------------------------------------------------------------------------------------------------
# What differs from the plan (find, then converge only what is missing or different)
# --------------------------------------------------------------------------------------------------
#
# ``existing`` is what amazon.aws ``ec2_vpc_subnet_info`` / ``ec2_vpc_route_table_info`` return (snake_case, tags
# as a dict). Each rule mirrors what the module the role calls would change with the role's options; where in
# doubt an item counts as different (the module then runs and decides), never the other way round.


def tags_differ(desired: dict, current: dict | None) -> bool:
    """``purge_tags: true`` semantics of amazon.aws (``compare_aws_tags``): the tags must be exactly the desired
    ones, values compared as text; AWS-reserved ``aws:`` keys are never purged, so they are ignored."""
    current = {key: value for key, value in (current or {}).items() if not str(key).startswith("aws:")}
    return {str(key): str(value) for key, value in (desired or {}).items()} != current


def subnet_spec(item: dict, name: str, tags: dict) -> dict:
    """A ``subnet_plan`` item with what the role asks of it: ``map_public`` (public tier) and its tags."""
    spec = dict(item)
    spec["map_public"] = item["tier"] == "public"
    spec["tags"] = dict(
        tags, **{"Name": "%s-%s-%s" % (name, item["tier"], item["az"]), "megapool:role": "%s-subnet" % item["tier"]}
    )
    return spec


def _ipv6_associated(subnet: dict) -> bool:
    return any(
        (association.get("ipv6_cidr_block_state") or {}).get("state") in ("associated", "associating")
        for association in subnet.get("ipv6_cidr_block_association_set") or []
    )


def subnet_drift(spec: dict, current: dict | None) -> list[str]:
    """Why ``ec2_vpc_subnet`` (``map_public``, ``tags``, ``purge_tags: true``, no IPv6) would change the subnet of
    ``spec`` (from ``subnet_spec``); ``current`` is the subnet with the same CIDR, or None. Empty: nothing to do."""
    if current is None:
        return ["missing"]
    drift = []
    if current.get("availability_zone") != spec["az"]:
        drift.append("availability zone %s, planned %s" % (current.get("availability_zone"), spec["az"]))
    if bool(current.get("map_public_ip_on_launch")) != spec["map_public"]:
        drift.append("map_public_ip_on_launch")
    if current.get("assign_ipv6_address_on_creation") or _ipv6_associated(current):
        drift.append("ipv6")
    if tags_differ(spec["tags"], current.get("tags")):
        drift.append("tags")
    return drift


def subnets_to_converge(plan: list[dict], existing: list[dict], name: str, tags: dict) -> list[dict]:
    """The planned subnets that are missing or differ, each as ``subnet_spec`` plus ``drift`` (the reasons).

    ``plan`` is ``subnet_plan``'s output, ``existing`` the VPC's subnets (found by CIDR, as the module does)."""
    by_cidr = {subnet.get("cidr_block"): subnet for subnet in existing or []}
    converge = []
    for item in plan:
        spec = subnet_spec(item, name, tags)
        drift = subnet_drift(spec, by_cidr.get(item["cidr"]))
        if drift:
            converge.append(dict(spec, drift=drift))
    return converge


def converged_subnets(plan: list[dict], existing: list[dict], results: list[dict]) -> list[dict]:
    """``{"tier", "az", "id"}`` per planned subnet, in plan order: the ID from the ``ec2_vpc_subnet`` loop result
    of that CIDR when the module ran for it (None when check mode would create it), else the existing subnet's."""
    found = {subnet.get("cidr_block"): subnet.get("id") for subnet in existing or []}
    ran = {
        result["item"]["cidr"]: (result.get("subnet") or {}).get("id") for result in results or [] if "item" in result
    }
    return [
        {
            "tier": item["tier"],
            "az": item["az"],
            "id": ran[item["cidr"]] if item["cidr"] in ran else found.get(item["cidr"]),
        }
        for item in plan
    ]


def _route_key(route: dict) -> tuple[str, str, str, str]:
    """(destination key, destination, target key, target) of a planned route, as ``ec2_vpc_route_table`` sends it."""
    dest = str(route["dest"])
    dest_key = (
        "destination_ipv6_cidr_block"
        if ipaddress.ip_network(dest, strict=False).version == 6
        else "destination_cidr_block"
    )
    target = route.get("gateway_id")
    target_key = "gateway_id"
    for prefix, key in (("nat-", "nat_gateway_id"), ("cagw-", "carrier_gateway_id"), ("tgw-", "transit_gateway_id")):
        if target and str(target).startswith(prefix):
            target_key = key
    return dest_key, dest, target_key, target


def _tables_by_name(existing: list[dict]) -> dict[str, dict]:
    """The VPC's route tables by Name tag; of two with one name the last wins (the role always picked it)."""
    return {table["tags"]["Name"]: table for table in existing or [] if "Name" in (table.get("tags") or {})}


def route_table_tags(table: dict, tags: dict) -> dict:
    return dict(tags, **{"Name": table["name"], "megapool:role": table["role"]})


def route_table_drift(table: dict, current: dict | None, tags: dict) -> list[str]:
    """Why ``ec2_vpc_route_table`` (``purge_subnets: true``, ``purge_routes: false``, ``purge_tags: true``) would
    change the planned ``table`` (from ``route_table_plan``); ``current`` is the table of that name, or None.

    Subnet associations must be exactly the planned ones; every planned route must exist with the same target
    (other routes stay: the peering mesh owns the routes to the other regions); tags as ``tags_differ``."""
    if current is None:
        return ["missing"]
    drift = []
    associated = {
        association.get("subnet_id")
        for association in current.get("associations") or []
        if not association.get("main") and association.get("subnet_id")
    }
    if associated != set(table["subnets"]):
        drift.append("subnet associations")
    routes = current.get("routes") or []
    for route in table["routes"]:
        dest_key, dest, target_key, target = _route_key(route)
        if target is None or not any(have.get(dest_key) == dest and have.get(target_key) == target for have in routes):
            drift.append("route %s" % dest)
    if tags_differ(route_table_tags(table, tags), current.get("tags")):
        drift.append("tags")
    return drift


def route_tables_to_converge(tables: list[dict], existing: list[dict], tags: dict) -> list[dict]:
    """The planned route tables that are missing or differ, each with ``tags``, ``id`` (of the table found by
    name, None when missing) and ``drift`` (the reasons). ``existing``: the VPC's tables (``ec2_vpc_route_table_info``)."""
    by_name = _tables_by_name(existing)
    converge = []
    for table in tables:
        current = by_name.get(table["name"])
        drift = route_table_drift(table, current, tags)
        if drift:
            converge.append(
                dict(table, tags=route_table_tags(table, tags), id=current["id"] if current else None, drift=drift)
            )
    return converge


def converged_route_table_ids(tables: list[dict], existing: list[dict], results: list[dict]) -> list[str | None]:
    """The ID of every planned route table, in plan order: from the ``ec2_vpc_route_table`` loop result of that
    name when the module ran for it, else the existing table's (None when neither has one)."""
    found = {name: table.get("id") for name, table in _tables_by_name(existing).items()}
    ran = {
        result["item"]["name"]: (result.get("route_table") or {}).get("id")
        for result in results or []
        if "item" in result
    }
    return [ran[table["name"]] if table["name"] in ran else found.get(table["name"]) for table in tables]


def offers_by_type(offerings: list[dict]) -> dict[str, list[str]]:
    """``DescribeInstanceTypeOfferings`` items -> {instance type: sorted locations offering it}."""
    offers: dict[str, set[str]] = {}
    for offering in offerings or []:
        offers.setdefault(str(offering.get("InstanceType")), set()).add(str(offering.get("Location")))
    return {name: sorted(locations) for name, locations in offers.items()}


def zone_records(zones: list[dict]) -> list[dict]:
    """The usable zones of a ``DescribeAvailabilityZones`` answer (state available, type availability-zone: no
    Local or Wavelength Zones), as ``{"zone_name", "zone_id"}`` sorted by name."""
    usable = [
        {"zone_name": zone.get("ZoneName"), "zone_id": zone.get("ZoneId")}
        for zone in zones or []
        if zone.get("State", "available") == "available"
        and zone.get("ZoneType", "availability-zone") == "availability-zone"
    ]
    return sorted(usable, key=lambda zone: str(zone["zone_name"]))


def type_info_offers(instance_types: list[dict]) -> dict[str, list[str]]:
    """{type: AZ IDs} from the records ``megapool.aws.ec2_instance_type_info`` returns."""
    return {record["instance_type"]: list(record.get("availability_zone_ids") or []) for record in instance_types or []}


# --------------------------------------------------------------------------------------------------
# Teardown
# --------------------------------------------------------------------------------------------------


def dependency_violation(result: dict) -> bool:
    """Whether a failed module result is EC2's ``DependencyViolation`` (a dependent object, e.g. a network interface
    AWS has not released yet, still uses the resource): the one failure a teardown retries."""
    result = result or {}
    if not result.get("failed"):
        return False
    error = result.get("error") or {}
    code = error.get("code") if isinstance(error, dict) else None
    return code == "DependencyViolation" or "DependencyViolation" in str(result.get("msg") or "")


def bastion_architecture_errors(instance_type: str, ami_parameter: str, architectures: list[str]) -> list[str]:
    """Refuse a bastion type whose processor architectures do not include the AMI's (the public AL2023 parameter
    names it: ``...-x86_64`` or ``...-arm64``); RunInstances would fail with an architecture mismatch. Nothing to say
    when the parameter names no architecture or the type is unknown (``architectures`` empty)."""
    parameter = str(ami_parameter or "")
    wanted = "arm64" if parameter.endswith("arm64") else "x86_64" if parameter.endswith("x86_64") else None
    if wanted is None or not architectures or wanted in architectures:
        return []
    return [
        "network_bastion_instance_type=%s runs %s, but network_bastion_ami_parameter=%s is an %s image. Choose an %s type "
        "(e.g. %s) or the %s parameter (%s)."
        % (
            instance_type,
            ", ".join(architectures),
            parameter,
            wanted,
            wanted,
            "t3.micro" if wanted == "x86_64" else "t4g.micro",
            "/".join(architectures),
            parameter.rsplit("-", 1)[0] + "-" + ("arm64" if wanted == "x86_64" else "x86_64"),
        )
    ]
