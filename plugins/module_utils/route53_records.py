# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A region's latency alias records from one read per name (module ``megapool.aws.route53_latency_records``; pure).

Each name has one latency record per region: ``SetIdentifier`` and ``Region`` are the region, an alias to the region's
load balancer (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-policy-latency.html). The module
reads the record sets of each name and type (``ListResourceRecordSets`` from ``StartRecordName``/``StartRecordType``:
Route 53 lists record sets in order of name, then type, then set identifier) and sends one ``ChangeResourceRecordSets``
batch with an ``UPSERT`` for each record that is missing or differs (a batch is applied as one transaction:
https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html).

Route 53 returns names with a trailing dot, in lower case, with characters other than ``a-z 0-9 - _ .`` escaped as
``\\ooo`` (three octal digits; https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DomainNameFormat.html), and
alias targets' DNS names with a trailing dot: names are compared in that form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Iterable
from typing import Mapping

_OCTAL = re.compile(r"\\([0-7]{3})")


def dns_name(name: str) -> str:
    """A DNS name as Route 53 compares it: ``\\ooo`` escapes decoded, lower case, one trailing dot."""
    text = _OCTAL.sub(lambda match: chr(int(match.group(1), 8)), str(name or ""))
    return text.lower().rstrip(".") + "."


def wanted_record(
    name: str,
    record_type: str,
    identifier: str,
    region: str,
    alias_dns_name: str,
    alias_hosted_zone_id: str,
    evaluate_target_health: bool,
    health_check_id: str | None = None,
) -> dict[str, Any]:
    """The ResourceRecordSet of one latency alias record (ChangeResourceRecordSets)."""
    record: dict[str, Any] = {
        "Name": dns_name(name),
        "Type": record_type,
        "SetIdentifier": identifier,
        "Region": region,
        "AliasTarget": {
            "HostedZoneId": alias_hosted_zone_id,
            "DNSName": dns_name(alias_dns_name),
            "EvaluateTargetHealth": bool(evaluate_target_health),
        },
    }
    if health_check_id:
        record["HealthCheckId"] = health_check_id
    return record


def comparable(record: Mapping[str, Any] | None) -> dict[str, Any]:
    """The settings of a record set in one comparable form (empty for none)."""
    if not record:
        return {}
    alias = record.get("AliasTarget") or {}
    return {
        "Name": dns_name(record.get("Name", "")),
        "Type": record.get("Type"),
        "SetIdentifier": record.get("SetIdentifier"),
        "Region": record.get("Region"),
        "AliasTarget": {
            "HostedZoneId": str(alias.get("HostedZoneId") or "").replace("/hostedzone/", ""),
            "DNSName": dns_name(alias.get("DNSName", "")),
            "EvaluateTargetHealth": bool(alias.get("EvaluateTargetHealth")),
        }
        if alias
        else None,
        "HealthCheckId": record.get("HealthCheckId"),
        "TTL": record.get("TTL"),
        "ResourceRecords": sorted(item.get("Value") for item in record.get("ResourceRecords") or []) or None,
    }


def find_record(
    record_sets: Iterable[Mapping[str, Any]], name: str, record_type: str, identifier: str
) -> dict[str, Any] | None:
    """The record set of ``name``, ``record_type`` and ``identifier`` among those listed (others are skipped)."""
    wanted = (dns_name(name), record_type, identifier)
    for record in record_sets:
        if (dns_name(record.get("Name", "")), record.get("Type"), record.get("SetIdentifier")) == wanted:
            return dict(record)
    return None


def more_of_the_name(page: Mapping[str, Any], name: str, record_type: str) -> bool:
    """Whether a truncated ListResourceRecordSets page may still hold record sets of ``name`` and ``record_type``."""
    return (
        bool(page.get("IsTruncated"))
        and dns_name(page.get("NextRecordName", "")) == dns_name(name)
        and page.get("NextRecordType") == record_type
    )


@dataclass(frozen=True)
class RecordsPlan:
    """``upserts``: the ResourceRecordSets to UPSERT (in the order of the names); ``before``/``after`` by name."""

    upserts: tuple[dict[str, Any], ...] = ()
    before: dict[str, dict[str, Any]] = field(default_factory=dict)
    after: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.upserts)


def plan_records(found: Mapping[str, Mapping[str, Any] | None], wanted: Iterable[Mapping[str, Any]]) -> RecordsPlan:
    """Compare each wanted record with the one found for its name (``found``: name -> record set or None)."""
    upserts, before, after = [], {}, {}
    for record in wanted:
        name = record["Name"]
        current = comparable(found.get(name))
        target = comparable(record)
        if current:
            before[name] = current
        after[name] = target
        if current != target:
            upserts.append(dict(record))
    return RecordsPlan(upserts=tuple(upserts), before=before, after=after)


def record_errors(names: Iterable[str], identifier: str, region: str) -> list[str]:
    """Inputs Route 53 would refuse or that make no latency record, naming the option."""
    errors = []
    names = list(names)
    seen = set()
    for name in names:
        key = dns_name(name)
        if key == ".":
            errors.append("names: an empty name is not a DNS name")
        elif key in seen:
            errors.append("names: %s is listed twice: list each name once" % name)
        seen.add(key)
    if not identifier:
        errors.append("identifier: a latency record needs a set identifier (e.g. the region)")
    if not region:
        errors.append("latency_region: a latency record needs the AWS region of the resource it points to")
    return errors
