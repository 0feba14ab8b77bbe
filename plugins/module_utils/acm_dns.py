# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning for ACM certificates validated through Route 53 DNS records. No boto3, no I/O.

Used by the module ``acm_certificate_request``:

- :func:`validate_request` turns the options into a :class:`DesiredCertificate`, or raises :class:`AcmDnsError`
  naming the option, the hosted zone and the fix (a name outside the zone, a malformed wildcard);
- :func:`in_zone` says whether a (wildcard) name is validated through records inside a zone;
- :func:`identity_matches` and :func:`choose_certificate` find, among the certificates ACM lists, the one that is
  "the same certificate" (domain, alternative names, identifying tags) and whether the newest such one failed;
- :func:`validation_records` reads the deduplicated validation CNAMEs of a described certificate,
  :func:`plan_upserts` compares them with the zone, :func:`plan_record_deletes` decides which records of deleted
  certificates may go;
- :func:`progress`, :func:`failure_message`, :func:`timeout_message` and :func:`certificate_view` describe a
  certificate for the result, the diff and the user.

Names are compared in a normal form: lower case, no trailing dot, Route 53's ``\\052`` escape read as ``*``.
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

# Statuses of a certificate that is (or will be) usable: found certificates in these are reused.
LIVE_STATUSES = ("PENDING_VALIDATION", "ISSUED")
# Final failure states of a requested certificate (reported with their reason, never reused).
FAILED_STATUSES = ("FAILED",)
# ACM's KeyAlgorithm values (ListCertificates only returns RSA_1024/RSA_2048 ones unless asked for others).
KEY_ALGORITHMS = ("RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1")
# TTL of the validation CNAMEs this module writes.
VALIDATION_RECORD_TTL = 300

_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class AcmDnsError(ValueError):
    """Input or state the module refuses; the message names the option (or certificate) and the fix."""


def normalize_name(name: str) -> str:
    """``App.Example.COM.`` -> ``app.example.com``; Route 53's ``\\052`` -> ``*``."""
    return name.replace("\\052", "*").strip().rstrip(".").lower()


def fqdn(name: str) -> str:
    """The normal form with the trailing dot Route 53 uses."""
    return normalize_name(name) + "."


def zone_id(hosted_zone_id: str) -> str:
    """``/hostedzone/Z123`` -> ``Z123``."""
    return hosted_zone_id.rsplit("/", 1)[-1]


def validated_name(name: str) -> str:
    """The name whose DNS record validates ``name``: ``*.example.com`` is validated at ``example.com``."""
    name = normalize_name(name)
    return name[2:] if name.startswith("*.") else name


def in_zone(name: str, zone_name: str) -> bool:
    """Whether the validation record of ``name`` (a host or ``*.`` wildcard name) lies inside the zone."""
    base = validated_name(name)
    zone = normalize_name(zone_name)
    return base == zone or base.endswith("." + zone)


def _name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid certificate name, or None."""
    normal = normalize_name(name)
    if not normal:
        return "is empty"
    if len(normal) > 253:
        return "is longer than 253 characters"
    labels = normal.split(".")
    if "*" in normal:
        if labels[0] != "*" or "*" in ".".join(labels[1:]):
            return "has a wildcard that is not the whole leftmost label (only *.example.com is allowed)"
        labels = labels[1:]
    if len(labels) < 2:
        return "is not a fully qualified domain name"
    for label in labels:
        if not _LABEL_RE.match(label):
            return "has an invalid label %r (letters, digits and hyphens, 1 to 63 characters)" % label
    return None


@dataclass(frozen=True)
class DesiredCertificate:
    """The certificate the options ask for, names in normal form."""

    domain_name: str
    subject_alternative_names: tuple[str, ...]
    key_algorithm: str = "RSA_2048"
    tags: Mapping[str, str] | None = None
    match_tags: tuple[str, ...] = ()

    @property
    def names(self) -> frozenset[str]:
        """Every name of the certificate (ACM lists the domain among the alternative names too)."""
        return frozenset((self.domain_name,) + self.subject_alternative_names)

    def identity_tags(self) -> dict[str, str]:
        """The tags a certificate must carry (same values) to count as this one."""
        tags = self.tags or {}
        return {key: str(tags[key]) for key in self.match_tags if key in tags}


def validate_request(
    domain_name: str | None,
    subject_alternative_names: Sequence[str] | None,
    zone_name: str | None,
    key_algorithm: str = "RSA_2048",
    tags: Mapping[str, Any] | None = None,
    match_tags: Sequence[str] | None = None,
) -> DesiredCertificate:
    """Check the names (syntax, inside the zone) and return the desired certificate.

    ``zone_name`` may be None when the zone is not known yet (only the syntax is checked then).
    ``match_tags`` None means every key of ``tags``.
    """
    if not domain_name:
        raise AcmDnsError("domain_name is required: the name the certificate is for, e.g. app.example.com.")
    problem = _name_problem(domain_name)
    if problem:
        raise AcmDnsError("domain_name: %r %s." % (domain_name, problem))
    for san in subject_alternative_names or []:
        problem = _name_problem(san)
        if problem:
            raise AcmDnsError("subject_alternative_names: %r %s." % (san, problem))
    domain = normalize_name(domain_name)
    sans = tuple(sorted({normalize_name(san) for san in subject_alternative_names or []} - {domain}))
    if zone_name is not None:
        zone = normalize_name(zone_name)
        if not in_zone(domain, zone):
            raise AcmDnsError(
                "domain_name: %s is not inside the hosted zone %s, so its validation record cannot be written there. "
                "Use a name that ends in .%s, or the hosted zone (hosted_zone_id / hosted_zone_name) that contains it."
                % (domain, zone, zone)
            )
        outside = [san for san in sans if not in_zone(san, zone)]
        if outside:
            raise AcmDnsError(
                "subject_alternative_names: %s %s not inside the hosted zone %s, so %s validation records cannot be "
                "written there. Remove %s, or request a separate certificate for %s with its own hosted zone."
                % (
                    ", ".join(outside),
                    "is" if len(outside) == 1 else "are",
                    zone,
                    "its" if len(outside) == 1 else "their",
                    "it" if len(outside) == 1 else "them",
                    "it" if len(outside) == 1 else "them",
                )
            )
    if key_algorithm not in KEY_ALGORITHMS:
        raise AcmDnsError("key_algorithm: %r is not one of %s." % (key_algorithm, ", ".join(KEY_ALGORITHMS)))
    string_tags = {str(key): str(value) for key, value in tags.items()} if tags is not None else None
    if match_tags is None:
        match = tuple(sorted(string_tags or {}))
    else:
        missing = [key for key in match_tags if key not in (string_tags or {})]
        if missing:
            raise AcmDnsError(
                "match_tags: %s %s not in tags. Every key of match_tags needs a value in tags (the certificate must "
                "carry it to count as this one)." % (", ".join(missing), "is" if len(missing) == 1 else "are")
            )
        match = tuple(sorted(set(match_tags)))
    return DesiredCertificate(domain, sans, key_algorithm, string_tags, match)


# ------------------------------------------------------------------------------------------- matching


def certificate_names(certificate: Mapping[str, Any]) -> frozenset[str]:
    """All names of a described certificate (or a list summary): domain and alternative names."""
    names = [certificate.get("DomainName") or ""]
    names += certificate.get("SubjectAlternativeNames") or certificate.get("SubjectAlternativeNameSummaries") or []
    return frozenset(normalize_name(name) for name in names if name)


def identity_matches(certificate: Mapping[str, Any], tags: Mapping[str, str], desired: DesiredCertificate) -> bool:
    """Same domain, same set of names, same key algorithm (when reported), and the identifying tags."""
    if normalize_name(certificate.get("DomainName") or "") != desired.domain_name:
        return False
    if certificate_names(certificate) != desired.names:
        return False
    if certificate.get("KeyAlgorithm") and certificate["KeyAlgorithm"] != desired.key_algorithm:
        return False
    if certificate.get("Type") not in (None, "AMAZON_ISSUED"):
        return False  # imported or private certificates are not validated by DNS
    return all(tags.get(key) == value for key, value in desired.identity_tags().items())


def _created(certificate: Mapping[str, Any]) -> float:
    created = certificate.get("CreatedAt")
    if created is None:
        return 0.0
    return created.timestamp() if hasattr(created, "timestamp") else float(created)


@dataclass(frozen=True)
class Choice:
    """What :func:`choose_certificate` found: the certificate to reuse, or a newest one that failed."""

    live: Mapping[str, Any] | None = None
    failed: Mapping[str, Any] | None = None
    others: tuple[Mapping[str, Any], ...] = ()


def choose_certificate(matching: Sequence[Mapping[str, Any]]) -> Choice:
    """Among certificates that :func:`identity_matches`, pick the one to reuse.

    ISSUED before PENDING_VALIDATION, then the newest. If no certificate is live and the newest one FAILED, report
    it (requesting again would most likely fail the same way and pile up failed certificates). Expired, revoked,
    inactive and timed-out certificates are ignored (a new one is requested).
    """
    live = [cert for cert in matching if cert.get("Status") in LIVE_STATUSES]
    if live:
        ordered = sorted(
            live,
            key=lambda cert: (cert.get("Status") == "ISSUED", _created(cert), cert.get("CertificateArn", "")),
            reverse=True,
        )
        return Choice(live=ordered[0], others=tuple(ordered[1:]))
    if matching:
        newest = max(matching, key=lambda cert: (_created(cert), cert.get("CertificateArn", "")))
        if newest.get("Status") in FAILED_STATUSES:
            return Choice(failed=newest)
    return Choice()


def idempotency_token(desired: DesiredCertificate, known_arns: Iterable[str], run_id: str) -> str:
    """RequestCertificate's IdempotencyToken: from the inputs, the certificates ACM has for the domain, and the run.

    Retries of the request within one run (``run_id`` the same) never make a second certificate. ACM remembers a token
    for an hour and answers it with the certificate it first made, even after that certificate was deleted:
    ``run_id`` keeps a later run (after ``state=absent``) from reusing
    it. Runs find an existing certificate before they request one, so they need no shared token. ACM allows up to
    32 word characters.
    """
    material = "|".join(
        [desired.domain_name, ",".join(desired.subject_alternative_names), desired.key_algorithm, run_id]
        + ["%s=%s" % (key, value) for key, value in sorted((desired.tags or {}).items())]
        + sorted(known_arns)
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


# ------------------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class ValidationRecord:
    """One validation CNAME (names in Route 53 form, with the trailing dot) and the certificate names it validates."""

    name: str
    type: str
    value: str
    domain_names: tuple[str, ...] = field(default=(), compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.type)

    def view(self) -> dict[str, Any]:
        return dict(name=self.name, type=self.type, value=self.value, domain_names=list(self.domain_names))


def records_ready(certificate: Mapping[str, Any]) -> bool:
    """Whether ACM has published the validation record of every name (it takes a few seconds after a request)."""
    options = certificate.get("DomainValidationOptions") or []
    return bool(options) and all((option.get("ResourceRecord") or {}).get("Name") for option in options)


def validation_records(certificate: Mapping[str, Any]) -> list[ValidationRecord]:
    """The certificate's validation records, deduplicated (``x.com`` and ``*.x.com`` share one), sorted by name."""
    found: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for option in certificate.get("DomainValidationOptions") or []:
        record = option.get("ResourceRecord") or {}
        if not record.get("Name"):
            continue
        key = (fqdn(record["Name"]), record.get("Type") or "CNAME")
        found.setdefault(key, (record.get("Value") or "", []))[1].append(normalize_name(option.get("DomainName") or ""))
    return [
        ValidationRecord(name, rtype, found[(name, rtype)][0], tuple(sorted(set(found[(name, rtype)][1]))))
        for name, rtype in sorted(found)
    ]


def _rrset_values(rrset: Mapping[str, Any] | None) -> list[str]:
    return [record.get("Value", "") for record in (rrset or {}).get("ResourceRecords") or []]


def _same_value(left: str, right: str) -> bool:
    return left.rstrip(".").lower() == right.rstrip(".").lower()


def record_in_place(record: ValidationRecord, rrset: Mapping[str, Any] | None) -> bool:
    """Whether the zone's record set (as ListResourceRecordSets returns it) already holds exactly this record."""
    values = _rrset_values(rrset)
    return len(values) == 1 and _same_value(values[0], record.value)


def plan_upserts(
    records: Sequence[ValidationRecord], existing: Mapping[tuple[str, str], Mapping[str, Any] | None]
) -> list[dict[str, Any]]:
    """The UPSERT changes (ChangeResourceRecordSets) for the records that are missing from the zone or differ."""
    return [
        {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": record.name,
                "Type": record.type,
                "TTL": VALIDATION_RECORD_TTL,
                "ResourceRecords": [{"Value": record.value}],
            },
        }
        for record in records
        if not record_in_place(record, existing.get(record.key))
    ]


@dataclass(frozen=True)
class RecordDeletePlan:
    """Which validation records of deleted certificates go, and which stay (and why)."""

    changes: tuple[dict[str, Any], ...] = ()
    kept: tuple[str, ...] = ()


def plan_record_deletes(
    records: Sequence[ValidationRecord],
    existing: Mapping[tuple[str, str], Mapping[str, Any] | None],
    still_used: Mapping[tuple[str, str, str], str],
) -> RecordDeletePlan:
    """DELETE changes for the records of deleted certificates that no other certificate uses.

    ``existing`` maps (name, type) to the zone's record set (None: not in the zone). ``still_used`` maps
    (name, type, value in normal form) to a description of another certificate that uses the record. A record whose
    value in the zone is not the certificate's (somebody else's) is left alone.
    """
    changes = []
    kept = []
    for record in records:
        rrset = existing.get(record.key)
        if rrset is None:
            continue
        user = still_used.get((record.name, record.type, record.value.rstrip(".").lower()))
        if user:
            kept.append("kept validation record %s: still used by %s" % (record.name, user))
            continue
        if not record_in_place(record, rrset):
            kept.append(
                "kept record %s: its value %s is not this certificate's"
                % (record.name, ", ".join(_rrset_values(rrset)) or "(alias)")
            )
            continue
        deletable = {key: rrset[key] for key in ("Name", "Type", "TTL", "ResourceRecords") if key in rrset}
        changes.append({"Action": "DELETE", "ResourceRecordSet": deletable})
    return RecordDeletePlan(tuple(changes), tuple(kept))


def record_use_key(record: ValidationRecord) -> tuple[str, str, str]:
    """The key of :func:`plan_record_deletes`'s ``still_used``."""
    return (record.name, record.type, record.value.rstrip(".").lower())


def may_share_records(summary: Mapping[str, Any], names: Iterable[str]) -> bool:
    """Whether a certificate (ListCertificates summary) could use a validation record of one of ``names``.

    ACM's validation record name derives from the validated name, so only certificates that validate one of the same
    names can share a record; a summary with truncated alternative names is always a candidate.
    """
    if summary.get("HasAdditionalSubjectAlternativeNames"):
        return True
    wanted = {validated_name(name) for name in names}
    return any(validated_name(name) in wanted for name in certificate_names(summary))


# ------------------------------------------------------------------------------------------- reporting


def tag_changes(
    current: Mapping[str, str], desired: Mapping[str, str] | None, purge: bool
) -> tuple[dict[str, str], list[str]]:
    """(tags to set, keys to remove) with amazon.aws's rule (``aws:`` tags are never purged)."""
    if desired is None:
        return {}, []
    to_set, to_unset = compare_aws_tags(dict(current), dict(desired), purge_tags=purge)
    return {key: str(value) for key, value in to_set.items()}, sorted(to_unset)


def validated_count(certificate: Mapping[str, Any]) -> tuple[int, int]:
    """(names validated, names) of a described certificate."""
    options = certificate.get("DomainValidationOptions") or []
    done = sum(1 for option in options if option.get("ValidationStatus") == "SUCCESS")
    return done, len(options) or len(certificate_names(certificate))


def progress(certificate: Mapping[str, Any] | None) -> str:
    """One line: ``certificate PENDING_VALIDATION: 1 of 2 names validated``."""
    if not certificate:
        return "certificate absent"
    status = certificate.get("Status") or "UNKNOWN"
    done, total = validated_count(certificate)
    line = "certificate %s: %d of %d name%s validated" % (status, done, total, "" if total == 1 else "s")
    if status == "PENDING_VALIDATION" and not records_ready(certificate):
        line += " (waiting for ACM to publish the validation records)"
    if certificate.get("FailureReason"):
        line += " (%s)" % certificate["FailureReason"]
    return line


def validation_events(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[str]:
    """Events for what changed between two descriptions: status and per-name validation status."""
    events = []
    old = {
        option.get("DomainName"): option.get("ValidationStatus")
        for option in (before or {}).get("DomainValidationOptions") or []
    }
    for option in after.get("DomainValidationOptions") or []:
        status = option.get("ValidationStatus")
        if before is not None and status and old.get(option.get("DomainName")) != status:
            events.append("%s: validation %s" % (option.get("DomainName"), status))
    if before is not None and before.get("Status") != after.get("Status"):
        events.append("certificate %s -> %s" % (before.get("Status"), after.get("Status")))
    return events


def failure_message(certificate: Mapping[str, Any]) -> str:
    """Why a FAILED certificate failed, and what to do."""
    reason = certificate.get("FailureReason") or "no reason given"
    hints = {
        "CAA_ERROR": "A CAA record of the domain does not allow amazon.com (or amazontrust.com) to issue; add one that does.",
        "DOMAIN_NOT_ALLOWED": "ACM does not issue for this domain (blocked or not a public domain).",
        "INVALID_PUBLIC_DOMAIN": "The name is not a valid public domain (check the spelling and the top-level domain).",
        "ADDITIONAL_VERIFICATION_REQUIRED": "AWS needs more information: open a case with AWS Support.",
        "DOMAIN_VALIDATION_DENIED": "The domain's owner denied the validation.",
    }
    return (
        "Certificate %s for %s FAILED: %s. %s Fix the cause, then delete the failed certificate (run this module with "
        "state=absent and the same names and tags) and run again."
        % (certificate.get("CertificateArn"), certificate.get("DomainName"), reason, hints.get(reason, ""))
    ).replace("  ", " ")


def timeout_message(certificate: Mapping[str, Any], wait_timeout: int, zone_name: str, zone_id_: str) -> str:
    """The message of a certificate not ISSUED within ``wait_timeout``."""
    return (
        "Certificate %s not issued within wait_timeout=%ss (%s): check that the zone %s (%s) is the domain's "
        "authoritative zone (NS delegation at the registrar / parent zone points to its name servers) and that the "
        "validation CNAMEs resolve publicly; run again with a longer wait_timeout to keep waiting (AWS gives up after "
        "72 hours)."
        % (certificate.get("CertificateArn"), wait_timeout, progress(certificate), normalize_name(zone_name), zone_id_)
    )


def in_use_by(certificates: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """ARN -> the resources ACM says use it (``InUseBy``), for the certificates that are in use."""
    return {cert["CertificateArn"]: list(cert.get("InUseBy") or []) for cert in certificates if cert.get("InUseBy")}


def in_use_progress(users: Mapping[str, Sequence[str]], waited: float) -> str:
    """One line while a certificate to delete is still in use (ACM lags minutes behind a deleted load balancer)."""
    return "waiting for %s to be released (in use by %s) for %ds" % (
        ", ".join(sorted(users)),
        "; ".join(", ".join(users[arn]) or "another resource" for arn in sorted(users)),
        int(waited),
    )


def in_use_timeout_message(users: Mapping[str, Sequence[str]], wait_timeout: float) -> str:
    """The message when a certificate is still in use after ``wait_timeout``.

    ACM keeps listing a deleted load balancer (or listener) in ``InUseBy`` for a while and refuses ``DeleteCertificate``
    with ``ResourceInUseException`` meanwhile (terraform-provider-aws#3866, aws-cdk#4179: about 10 s to minutes)."""
    return (
        "Cannot delete %s: still in use by %s after wait_timeout=%ss. If that resource still exists, remove the certificate "
        "from it first (for example the HTTPS listener of the load balancer: teardown removes the load balancers before "
        "the certificates); if it was just deleted, ACM takes a few minutes to notice - run again or raise wait_timeout."
        % (
            ", ".join(sorted(users)),
            "; ".join(", ".join(users[arn]) or "another resource" for arn in sorted(users)),
            wait_timeout,
        )
    )


def tags_dict(tag_list: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """ACM's [{Key, Value}] -> {key: value} (a missing value is an empty string)."""
    return {tag["Key"]: tag.get("Value") or "" for tag in tag_list or []}


def certificate_view(certificate: Mapping[str, Any] | None, tags: Mapping[str, str] | None) -> dict[str, Any]:
    """The snake_case certificate the module returns (also the diff view); {} for none."""
    if not certificate:
        return {}
    domain = normalize_name(certificate.get("DomainName") or "")
    view: dict[str, Any] = dict(
        arn=certificate.get("CertificateArn"),
        domain_name=domain,
        subject_alternative_names=sorted(certificate_names(certificate) - {domain}),
        status=certificate.get("Status"),
        key_algorithm=certificate.get("KeyAlgorithm"),
        validation_records=[record.view() for record in validation_records(certificate)],
        tags=dict(tags or {}),
        in_use_by=list(certificate.get("InUseBy") or []),
    )
    if certificate.get("FailureReason"):
        view["failure_reason"] = certificate["FailureReason"]
    return view


def predicted_certificate(desired: DesiredCertificate) -> dict[str, Any]:
    """What a certificate that would be requested looks like (check mode): no ARN, no records yet."""
    return {
        "CertificateArn": None,
        "DomainName": desired.domain_name,
        "SubjectAlternativeNames": sorted(desired.names),
        "Status": "PENDING_VALIDATION",
        "KeyAlgorithm": desired.key_algorithm,
        "DomainValidationOptions": [],
    }


def diff_view(
    certificate: Mapping[str, Any] | None, tags: Mapping[str, str] | None, in_zone_keys: Iterable[tuple[str, str]]
) -> dict[str, Any]:
    """The diff view: names, tags and the validation records that are in the zone; {} for no certificate.

    The status is left out on purpose: it moves on its own (PENDING_VALIDATION -> ISSUED) and is not a change.
    """
    if not certificate:
        return {}
    view = certificate_view(certificate, tags)
    present = set(in_zone_keys)
    return dict(
        arn=view["arn"],
        domain_name=view["domain_name"],
        subject_alternative_names=view["subject_alternative_names"],
        key_algorithm=view["key_algorithm"],
        tags=view["tags"],
        validation_records=[
            record for record in view["validation_records"] if (record["name"], record["type"]) in present
        ],
    )
