# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning for a region's network: subnet layout and input validation. No I/O.

The VPC CIDR is cut into ``2 * az_count`` equal slots (rounded up to a power of two): the first half
holds the private subnets, the second half the public ones, AZ ``i`` at slot ``i`` of its half. Adding an
AZ within the same power of two therefore takes a free slot and moves no existing subnet.
"""

from __future__ import annotations

import ipaddress
import math

from ansible_collections.megapool.aws.plugins.module_utils.peering_mesh import find_overlaps as mesh_overlaps

# AWS limits: a VPC CIDR is /16../28, and so is a subnet.
VPC_MIN_PREFIX = 16
SUBNET_MAX_PREFIX = 28
MIN_AZ_COUNT = 2
NAT_MODES = ("none", "single", "per_az")


class LayoutError(ValueError):
    """An input that cannot produce a network; the message names the variable and the fix."""


def _network(value: str, variable: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(str(value), strict=True)
    except ValueError as exc:
        raise LayoutError(
            "%s=%r is not a valid IPv4 network CIDR (%s). Use a network address such as 10.10.0.0/16." % (variable, value, exc)
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
            "Use /%d or longer, or leave network_subnet_prefix unset." % (prefix, 2 * az_count, az_count, vpc_cidr, needed_prefix)
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
    return {"private": subnets[:az_count], "public": subnets[half:half + az_count], "prefix": prefix}


def subnet_plan(vpc_cidr: str, azs: list[str], subnet_prefix: int | None = None) -> list[dict[str, str]]:
    """The subnets to build: one private and one public per AZ, as ``{"tier", "az", "cidr"}`` dicts."""
    layout = subnet_layout(vpc_cidr, len(azs), subnet_prefix)
    return [
        {"tier": tier, "az": az, "cidr": cidr}
        for tier in ("private", "public")
        for az, cidr in zip(azs, layout[tier])
    ]


def nat_subnet_ids(subnets: list[dict], nat_mode: str) -> list[str]:
    """Public subnets that get a NAT gateway: none, the first one (single), or one per AZ (per_az)."""
    public = [subnet["id"] for subnet in subnets if subnet["tier"] == "public"]
    return {"none": [], "single": public[:1], "per_az": public}[nat_mode]


def route_table_plan(subnets: list[dict], name: str, igw_id: str, nat_mode: str, nat_by_subnet: dict[str, str]) -> list[dict]:
    """Route tables: one public (default route to the internet gateway) and one private per AZ
    (default route to the AZ's own NAT gateway in per_az mode, to the single one otherwise, none without NAT).

    ``subnets`` are ``{"tier", "az", "id"}`` dicts in AZ order; ``nat_by_subnet`` maps public subnet id -> NAT id.
    """
    public = [subnet for subnet in subnets if subnet["tier"] == "public"]
    public_by_az = {subnet["az"]: subnet["id"] for subnet in public}
    tables = [{
        "name": "%s-public" % name,
        "role": "public-rt",
        "subnets": [subnet["id"] for subnet in public],
        "routes": [{"dest": "0.0.0.0/0", "gateway_id": igw_id}],
    }]
    nat_subnets = nat_subnet_ids(subnets, nat_mode)
    for subnet in (s for s in subnets if s["tier"] == "private"):
        nat_subnet = public_by_az.get(subnet["az"]) if nat_mode == "per_az" else (nat_subnets[0] if nat_subnets else None)
        nat_id = nat_by_subnet.get(nat_subnet) if nat_subnet else None
        tables.append({
            "name": "%s-private-%s" % (name, subnet["az"]),
            "role": "private-rt",
            "subnets": [subnet["id"]],
            "routes": [{"dest": "0.0.0.0/0", "gateway_id": nat_id}] if nat_id else [],
        })
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


def network_errors(
    region: str,
    known_regions: list[str],
    vpc_cidr: str,
    az_count: int,
    admin_cidrs: list[str],
    allow_open_admin: bool = False,
    subnet_prefix: int | None = None,
) -> list[str]:
    """Every problem with one region's network inputs, as messages (empty when the inputs are fine)."""
    errors = region_errors(region, known_regions)
    try:
        subnet_layout(vpc_cidr, int(az_count), subnet_prefix)
    except LayoutError as exc:
        errors.append(str(exc))
    errors.extend(admin_cidr_errors(admin_cidrs, allow_open_admin))
    return errors
