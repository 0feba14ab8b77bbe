# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One read decides which security groups to write (issue 15: one module process per group and run was most of the
network role's no-op).

``security_groups_to_converge`` is a shadow comparator of ``amazon.aws.ec2_security_group`` 10.x called the way the
network role calls it (``rules``, ``purge_rules: true``, ``tags``, ``purge_tags: true``, no ``rules_egress``): it
returns the wanted groups that module would change, from the groups ``amazon.aws.ec2_security_group_info`` read, so a
loop over its result runs the module only for them. tests/unit/contract/test_comparators.py checks it against the
module itself.

What the module compares (amazon.aws 10.x ``ensure_present``): the group by name in the VPC; its tags (the
AWS-reserved ``aws:`` ones never purged); the ingress rules as a set of (protocol, port range, target, description)
with every ``cidr_ip`` normalised to its network address; egress not at all when ``rules_egress`` is not given (the
default allow-all rule is neither added nor purged). The group description cannot change (the module only warns), so
it is not a difference. AWS's rule model: one IpPermission per protocol and port range, with ``IpRanges`` /
``Ipv6Ranges`` / ``PrefixListIds`` / ``UserIdGroupPairs`` each with its own ``Description``
(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpPermission.html).
"""

from __future__ import annotations

import ipaddress


class SecurityGroupSpecError(ValueError):
    """A wanted rule uses a form the comparator does not model (so it cannot promise to agree with the module)."""


_TARGET_KEYS = ("cidr_ip", "cidr_ipv6", "group_id", "ip_prefix")
_UNMODELLED = ("group_name", "group_desc", "icmp_type", "icmp_code", "rules_egress")


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            out.extend(_as_list(item))
        return out
    return [value]


def _port_ranges(rule: dict) -> list[tuple]:
    """The (from, to) ranges of a wanted rule, as the module expands ``ports`` (``"80"``, ``80``, ``"8000-8100"``)."""
    proto = str(rule.get("proto", "tcp"))
    if proto in ("all", "-1") or proto.lstrip("-").isdigit():
        return [(None, None)]
    if rule.get("ports") is not None:
        ranges = []
        for port in _as_list(rule["ports"]):
            text = str(port)
            if "-" in text:
                low, high = text.split("-", 1)
                ranges.append((int(low), int(high)))
            else:
                ranges.append((int(text), int(text)))
        return ranges
    if rule.get("from_port") is not None or rule.get("to_port") is not None:
        return [(int(rule["from_port"]), int(rule["to_port"]))]
    return [(None, None)]


def _proto(value) -> str:
    text = str(value if value is not None else "tcp")
    return "-1" if text in ("all", "-1") else text


def _cidr(value: str) -> str:
    return str(ipaddress.ip_network(str(value), strict=False))


def wanted_permissions(rules: list[dict] | None) -> set[tuple]:
    """The wanted ingress rules as a set of (protocol, from, to, target kind, target, description)."""
    perms: set[tuple] = set()
    for rule in rules or []:
        unmodelled = [key for key in _UNMODELLED if rule.get(key) is not None]
        if unmodelled:
            raise SecurityGroupSpecError(f"security group rule {rule!r}: {', '.join(unmodelled)} not modelled")
        proto = _proto(rule.get("proto"))
        desc = rule.get("rule_desc")
        for from_port, to_port in _port_ranges(rule):
            for key in _TARGET_KEYS:
                for target in _as_list(rule.get(key)):
                    value = _cidr(target) if key in ("cidr_ip", "cidr_ipv6") else str(target)
                    perms.add((proto, from_port, to_port, key, value, desc))
    return perms


def current_permissions(group: dict) -> set[tuple]:
    """A group's ingress rules (``ip_permissions`` of ``ec2_security_group_info``) in ``wanted_permissions``' form."""
    perms: set[tuple] = set()
    for perm in group.get("ip_permissions") or []:
        proto = _proto(perm.get("ip_protocol"))
        if "from_port" in perm or "to_port" in perm:
            from_port, to_port = int(perm["from_port"]), int(perm["to_port"])
        else:
            from_port, to_port = None, None
        if proto == "-1":
            from_port, to_port = None, None
        for list_key, item_key, kind in (
            ("ip_ranges", "cidr_ip", "cidr_ip"),
            ("ipv6_ranges", "cidr_ipv6", "cidr_ipv6"),
            ("prefix_list_ids", "prefix_list_id", "ip_prefix"),
            ("user_id_group_pairs", "group_id", "group_id"),
        ):
            for entry in perm.get(list_key) or []:
                perms.add((proto, from_port, to_port, kind, entry.get(item_key), entry.get("description")))
    return perms


def _tag_drift(wanted: dict, current: dict) -> bool:
    current = {key: value for key, value in (current or {}).items() if not key.startswith("aws:")}
    return {str(k): str(v) for k, v in (wanted or {}).items()} != {str(k): str(v) for k, v in current.items()}


def security_group_drift(spec: dict, group: dict | None) -> list[str]:
    """Why ``ec2_security_group`` would change the group ``spec`` (``name``, ``rules``, ``tags``); ``group`` is the
    group of that name in the VPC as ``ec2_security_group_info`` returns it, or None."""
    if group is None:
        return ["missing"]
    drift = []
    wanted = wanted_permissions(spec.get("rules"))
    current = current_permissions(group)
    if {perm[:5] for perm in wanted} != {perm[:5] for perm in current}:
        drift.append("rules")
    elif wanted != current:
        drift.append("rule descriptions")
    if _tag_drift(spec.get("tags") or {}, group.get("tags") or {}):
        drift.append("tags")
    return drift


def _by_name(existing: list[dict] | None, vpc_id: str | None) -> dict[str, dict]:
    return {
        group.get("group_name"): group
        for group in existing or []
        if vpc_id is None or group.get("vpc_id") in (None, vpc_id)
    }


def security_groups_to_converge(wanted: list[dict], existing: list[dict] | None, vpc_id: str | None = None) -> list:
    """The wanted groups (dicts with ``name``, ``description``, ``rules``, ``tags``; other keys kept) that are
    missing or differ, each with ``drift``, in the given order; ``existing`` is ``ec2_security_group_info``'s
    ``security_groups`` (of the VPC ``vpc_id`` when given)."""
    found = _by_name(existing, vpc_id)
    converge = []
    for spec in wanted or []:
        drift = security_group_drift(spec, found.get(spec["name"]))
        if drift:
            converge.append(dict(spec, drift=drift))
    return converge


def converged_security_group_ids(
    wanted: list[dict], existing: list[dict] | None, results: list[dict] | None, vpc_id: str | None = None
) -> dict:
    """``{name: group ID}`` for the wanted groups: from the module's loop result where it ran (None when check mode
    would create the group), else the existing group's."""
    found = _by_name(existing, vpc_id)
    ran = {
        result["item"]["name"]: result.get("group_id")
        for result in results or []
        if isinstance(result.get("item"), dict) and not result.get("skipped")
    }
    return {
        spec["name"]: ran[spec["name"]] if spec["name"] in ran else (found.get(spec["name"]) or {}).get("group_id")
        for spec in wanted or []
    }
