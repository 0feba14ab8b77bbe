#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: acm_certificate_request
short_description: Request an ACM certificate validated through Route 53 DNS records, and wait until it is issued
version_added: 0.1.0
description:
  - Requests a public AWS Certificate Manager (ACM) certificate for a domain name and its alternative names with DNS
    validation, writes the validation CNAME records into a public Route 53 hosted zone and waits until ACM has issued
    the certificate. M(community.aws.acm_certificate) can only import certificates.
  - ACM is regional (the certificate lives in O(region), where the load balancer that uses it is); Route 53 is global.
  - "Finds before it requests: a certificate counts as the same one when it has the same domain name, the same set of
    alternative names, the same O(key_algorithm) and the tags of O(match_tags) with the same values. A live one
    (C(ISSUED) or C(PENDING_VALIDATION)) is reused; expired, revoked, inactive and timed-out ones are ignored."
  - If no certificate is live and the newest matching one C(FAILED), the module fails with ACM's C(FailureReason)
    instead of requesting yet another one (fix the cause, delete it with O(state=absent), run again).
  - The validation records are written with C(UPSERT), only those that are missing from the zone or differ. Names
    that share a record (V(example.com) and V(*.example.com)) share one change.
  - The tags of a reused certificate are converged (C(AddTagsToCertificate), C(RemoveTagsFromCertificate)).
  - "Bad input fails before any change: a O(domain_name) or a O(subject_alternative_names) entry outside the hosted
    zone (V(*.example.com) is inside V(example.com)), a malformed name, a private hosted zone."
  - "O(state=absent) deletes the matching certificates (in any status) and then their validation records, except
    records another certificate (in O(validation_record_regions)) still uses."
  - "A certificate in use (by a load balancer, CloudFront, ...) cannot be deleted. ACM goes on listing a load balancer
    in C(InUseBy), and refusing C(DeleteCertificate) with C(ResourceInUseException), for some seconds to minutes after
    the load balancer or its listener is deleted. So O(state=absent) waits (bounded by O(wait_timeout), polling every
    O(poll_interval), reporting RV(progress) and RV(events)) until the certificate is released, and fails naming what
    still uses it when O(wait_timeout) elapses. With O(wait=false) it returns RV(done=false) at once instead."
options:
  state:
    description:
      - V(present) finds or requests the certificate, writes its validation records and (with O(wait)) waits until it
        is issued. V(absent) deletes it and its validation records.
    type: str
    choices: ['present', 'absent']
    default: present
  domain_name:
    description:
      - The fully qualified domain name of the certificate, for example V(app.example.com) or V(*.example.com).
      - It must be inside the hosted zone.
    type: str
    required: true
  subject_alternative_names:
    description:
      - Other names the certificate is valid for, each inside the hosted zone. Order and duplicates do not matter; the
        O(domain_name) itself need not be repeated.
    type: list
    elements: str
    default: []
  hosted_zone_id:
    description:
      - The id of the public Route 53 hosted zone the validation records go into (V(Z123...) or V(/hostedzone/Z123...)).
      - Exactly one of O(hosted_zone_id) and O(hosted_zone_name) is required.
    type: str
  hosted_zone_name:
    description:
      - The name of the public Route 53 hosted zone the validation records go into, for example V(example.com).
      - In check mode a zone that does not exist yet (created by an earlier task) is a warning, not an error.
    type: str
  key_algorithm:
    description:
      - The algorithm of the certificate's key pair. Part of the certificate's identity.
    type: str
    choices: ['RSA_1024', 'RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_prime256v1', 'EC_secp384r1', 'EC_secp521r1']
    default: RSA_2048
  tags:
    description:
      - Tags of the certificate, set on request and converged on a reused certificate. If not set, the tags of an
        existing certificate are left alone.
  match_tags:
    description:
      - The keys of O(tags) a certificate must carry, with the same values, to count as the certificate of this task
        (so that, for example, staging and prod get their own certificate for the same name).
      - Tags not listed here are converged on the found certificate instead.
      - Default is every key of O(tags).
    type: list
    elements: str
  validation_record_regions:
    description:
      - With O(state=absent), the regions whose certificates are checked before a validation record is removed; a
        record still used by a certificate there stays.
      - Default is O(region) only. List every region you request certificates for the same names in.
    type: list
    elements: str
  wait:
    description:
      - Wait until the certificate is C(ISSUED); with O(state=absent), until it is released by what used it and
        deleted.
      - With V(false) the module makes its changes, reads the certificate once and returns (RV(done) tells whether
        it is issued); calling it again with the same options changes nothing and reports the state again.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait at most, for the validation records to appear after the request and for the
        certificate to be issued, or (O(state=absent)) for a certificate in use to be released. On timeout the module
        fails with the last progress.
      - Without O(wait), the module still waits up to 30 seconds (at most O(wait_timeout)) for ACM to publish the
        validation records of a new certificate.
    type: int
    default: 600
  poll_interval:
    description:
      - Seconds between two reads of the certificate while waiting.
    type: float
    default: 10
notes:
  - DNS validation only works when the hosted zone is authoritative for the domain (the registrar or the parent zone
    delegates to the zone's name servers). Otherwise the certificate stays C(PENDING_VALIDATION) until the module
    times out (and ACM gives up after 72 hours).
  - The request uses an C(IdempotencyToken) derived from the options, the certificates ACM already has for the domain
    and the run, so a retried request never makes a second certificate, and a run after O(state=absent) does not get
    the deleted certificate back (ACM remembers a token for an hour).
author:
  - megapool.aws maintainers (@megapool)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - In check mode the module makes no change and does not wait; it reports the certificate it would request
        (without ARN or validation records), the records it would write or delete and the tags it would change.
extends_documentation_fragment:
  - megapool.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Certificate for the app and www in the ALB's region, validated in the example.com zone
  megapool.aws.acm_certificate_request:
    region: eu-north-1
    domain_name: app.example.com
    subject_alternative_names: [www.example.com]
    hosted_zone_id: Z0123456789ABCDEFGHIJ
    tags:
      "megapool:env": prod
      "megapool:cluster": shop
    wait_timeout: 900
  register: cert

- name: Use it on the HTTPS listener
  ansible.builtin.debug:
    msg: "{{ cert.certificate.arn }}"

- name: Wildcard and apex (they share one validation record), zone by name; keep other tags converged
  megapool.aws.acm_certificate_request:
    domain_name: example.com
    subject_alternative_names: ["*.example.com"]
    hosted_zone_name: example.com
    tags:
      "megapool:env": prod
      owner: platform
    match_tags: ["megapool:env"]

- name: Request without waiting (poll later with the same options)
  megapool.aws.acm_certificate_request:
    domain_name: app.example.com
    hosted_zone_name: example.com
    wait: false
  register: cert
- name: Poll until issued
  megapool.aws.acm_certificate_request:
    domain_name: app.example.com
    hosted_zone_name: example.com
    wait: false
  register: cert
  until: cert.done
  retries: 60
  delay: 10

- name: Delete the certificate and its validation records (kept where a certificate in another region uses them)
  megapool.aws.acm_certificate_request:
    state: absent
    domain_name: app.example.com
    subject_alternative_names: [www.example.com]
    hosted_zone_id: Z0123456789ABCDEFGHIJ
    tags:
      "megapool:env": prod
      "megapool:cluster": shop
    validation_record_regions: [eu-north-1, us-east-1, ap-southeast-1]
"""

RETURN = r"""
certificate:
  description:
    - The certificate after the run, in snake_case; empty after O(state=absent).
    - In check mode, a certificate that would be requested has a null RV(certificate.arn) and no validation records.
  returned: always
  type: dict
  contains:
    arn:
      description: The certificate's ARN.
      type: str
      returned: when a certificate exists
      sample: arn:aws:acm:eu-north-1:123456789012:certificate/0b1c2d3e-aaaa-bbbb-cccc-0123456789ab
    domain_name:
      description: The domain name.
      type: str
      returned: when a certificate exists
      sample: app.example.com
    subject_alternative_names:
      description: The other names (without RV(certificate.domain_name)), sorted.
      type: list
      elements: str
      returned: when a certificate exists
      sample: [www.example.com]
    status:
      description: C(PENDING_VALIDATION), C(ISSUED), C(FAILED), ...
      type: str
      returned: when a certificate exists
      sample: ISSUED
    key_algorithm:
      description: The algorithm of the key pair.
      type: str
      returned: when a certificate exists
      sample: RSA_2048
    validation_records:
      description: The validation records ACM asks for, deduplicated.
      type: list
      elements: dict
      returned: when a certificate exists
      contains:
        name:
          description: The record name.
          type: str
          sample: _3a1b2c.app.example.com.
        type:
          description: The record type.
          type: str
          sample: CNAME
        value:
          description: The record value.
          type: str
          sample: _9f8e7d.xlfgrmvvlj.acm-validations.aws.
        domain_names:
          description: The certificate names this record validates.
          type: list
          elements: str
          sample: [app.example.com]
    tags:
      description: The certificate's tags.
      type: dict
      returned: when a certificate exists
      sample: {"megapool:env": "prod"}
    in_use_by:
      description: ARNs of the resources (load balancers, ...) that use the certificate.
      type: list
      elements: str
      returned: when a certificate exists
      sample: []
    failure_reason:
      description: Why the certificate failed.
      type: str
      returned: when ACM reports one
      sample: CAA_ERROR
done:
  description:
    - Whether the awaited end state is reached (C(ISSUED); with O(state=absent), deleted), or a final failure state.
  returned: always
  type: bool
  sample: true
progress:
  description: One line on the current state.
  returned: always
  type: str
  sample: "certificate PENDING_VALIDATION: 1 of 2 names validated"
events:
  description: What happened in this run, in order (requests, record changes, tag changes, validation progress).
  returned: always
  type: list
  elements: str
  sample:
    - requested certificate arn:aws:acm:eu-north-1:123456789012:certificate/0b1c2d3e-aaaa-bbbb-cccc-0123456789ab
    - "upserted validation record _3a1b2c.app.example.com. CNAME _9f8e7d.xlfgrmvvlj.acm-validations.aws."
    - "www.example.com: validation SUCCESS"
diff:
  description:
    - The certificate before and after the run (after = predicted in check mode), with names, key algorithm, tags and the
      validation records that are in the zone; empty dicts stand for no certificate.
    - With O(state=absent) and more than one matching certificate, RV(diff.before) is the first one and lists the
      others under C(also_matched).
  returned: always
  type: dict
  contains:
    before:
      description: The certificate before the run.
      type: dict
      returned: always
    after:
      description: The certificate after the run.
      type: dict
      returned: always
"""

import time
from typing import Any
from typing import Callable

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_code

from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import KEY_ALGORITHMS
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import AcmDnsError
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import DesiredCertificate
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import ValidationRecord
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import certificate_names
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import certificate_view
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import choose_certificate
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import diff_view
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import failure_message
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import fqdn
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import idempotency_token
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import in_use_by
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import in_use_progress
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import in_use_timeout_message
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import identity_matches
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import may_share_records
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import normalize_name
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import plan_record_deletes
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import plan_upserts
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import predicted_certificate
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import progress
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import record_in_place
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import record_use_key
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import records_ready
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import tag_changes
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import tags_dict
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import timeout_message
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import validate_request
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import validation_events
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import validation_records
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import zone_id
from ansible_collections.megapool.aws.plugins.module_utils.base import TAGS_ARGUMENT_SPEC
from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.base import WaitTimeout
from ansible_collections.megapool.aws.plugins.module_utils.base import poll_until
from ansible_collections.megapool.aws.plugins.module_utils.base import retry_while

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    state=dict(type="str", choices=["present", "absent"], default="present"),
    domain_name=dict(type="str", required=True),
    subject_alternative_names=dict(type="list", elements="str", default=[]),
    hosted_zone_id=dict(type="str"),
    hosted_zone_name=dict(type="str"),
    key_algorithm=dict(type="str", choices=list(KEY_ALGORITHMS), default="RSA_2048"),
    match_tags=dict(type="list", elements="str"),
    validation_record_regions=dict(type="list", elements="str"),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=600),
    poll_interval=dict(type="float", default=10),
    **TAGS_ARGUMENT_SPEC,
)

# The clock and the pause of the wait (tests replace them).
_clock: Callable[[], float] = time.monotonic
_sleep: Callable[[float], None] = time.sleep

# Without wait, how long to wait at most for ACM to publish the validation records of a new certificate.
_RECORDS_GRACE = 30.0
# Poll for the records at least this often (they appear within seconds).
_RECORDS_POLL = 2.0


# ---------------------------------------------------------------------------------------------- AWS calls


@AWSErrorHandler.common_error_handler("get the hosted zone")
def _get_zone(client, hosted_zone_id: str) -> dict | None:
    try:
        return client.get_hosted_zone(Id=hosted_zone_id)["HostedZone"]
    except client.exceptions.NoSuchHostedZone:
        return None


@AWSErrorHandler.common_error_handler("find the hosted zone")
def _zones_by_name(client, name: str) -> list[dict]:
    zones = client.list_hosted_zones_by_name(DNSName=name, MaxItems="100").get("HostedZones", [])
    return [zone for zone in zones if fqdn(zone["Name"]) == fqdn(name)]


@AWSErrorHandler.common_error_handler("list the certificates")
def _list_certificates(client, key_types: list[str]) -> list[dict]:
    paginator = client.get_paginator("list_certificates")
    return paginator.paginate(Includes={"keyTypes": key_types}).build_full_result().get("CertificateSummaryList", [])


@AWSErrorHandler.common_error_handler("describe the certificate")
@retry_while(["ResourceNotFoundException"])  # a certificate just requested is not visible at once
def _describe(client, arn: str) -> dict:
    return client.describe_certificate(CertificateArn=arn)["Certificate"]


@AWSErrorHandler.common_error_handler("list the tags of the certificate")
def _list_tags(client, arn: str) -> dict[str, str]:
    return tags_dict(client.list_tags_for_certificate(CertificateArn=arn).get("Tags"))


@AWSErrorHandler.common_error_handler("request the certificate")
def _request(client, **params: Any) -> str:
    return client.request_certificate(**params)["CertificateArn"]


@AWSErrorHandler.common_error_handler("tag the certificate")
def _add_tags(client, arn: str, tags: dict[str, str]) -> None:
    client.add_tags_to_certificate(
        CertificateArn=arn, Tags=[{"Key": key, "Value": value} for key, value in sorted(tags.items())]
    )


@AWSErrorHandler.common_error_handler("untag the certificate")
def _remove_tags(client, arn: str, keys: list[str]) -> None:
    client.remove_tags_from_certificate(CertificateArn=arn, Tags=[{"Key": key} for key in keys])


@AWSErrorHandler.common_error_handler("delete the certificate")
def _delete_certificate(client, arn: str) -> None:
    client.delete_certificate(CertificateArn=arn)


@AWSErrorHandler.common_error_handler("read the validation records in the hosted zone")
def _record_set(client, hosted_zone_id: str, name: str, rtype: str) -> dict | None:
    answer = client.list_resource_record_sets(
        HostedZoneId=hosted_zone_id, StartRecordName=name, StartRecordType=rtype, MaxItems="1"
    )
    for rrset in answer.get("ResourceRecordSets", []):
        if fqdn(rrset["Name"]) == fqdn(name) and rrset["Type"] == rtype:
            return rrset
    return None


@AWSErrorHandler.common_error_handler("change the validation records in the hosted zone")
def _change_records(client, hosted_zone_id: str, changes: list[dict], comment: str) -> None:
    client.change_resource_record_sets(
        HostedZoneId=hosted_zone_id, ChangeBatch={"Comment": comment, "Changes": changes}
    )


# ---------------------------------------------------------------------------------------------- the work


class _Run:
    """One run of the module: the clients, the zone, and what happened (events)."""

    def __init__(self, module: MegapoolAWSModule, desired: DesiredCertificate) -> None:
        self.module = module
        self.params = module.params
        self.desired = desired
        self.acm = module.client("acm")
        self.route53 = module.client("route53")
        self.zone_id: str | None = None
        self.zone_name: str = self.params["hosted_zone_name"] or ""
        self.events: list[str] = []
        self._zone_cache: dict[tuple[str, str], dict | None] = {}
        self.changed = False
        self.start = _clock()
        self.run_id = "%d" % time.time_ns()

    def fail(self, msg: str, certificate: dict | None = None, tags: dict | None = None, done: bool = False) -> None:
        self.module.fail_json(
            msg=msg,
            done=done,
            progress=progress(certificate),
            events=self.events,
            certificate=certificate_view(certificate, tags),
            changed=self.changed,
        )

    # ------------------------------------------------------------------ the zone

    def resolve_zone(self) -> None:
        """Find the public hosted zone (and check the names are inside it when its name came from its id)."""
        if not (self.params["hosted_zone_id"] or self.params["hosted_zone_name"]):
            self._zone_missing(
                "hosted_zone_id",
                "hosted_zone_id: empty (and no hosted_zone_name); give the id or the name of the domain's public hosted zone.",
            )
            return
        if self.params["hosted_zone_id"]:
            zone = _get_zone(self.route53, zone_id(self.params["hosted_zone_id"]))
            if zone is None:
                self._zone_missing(
                    "hosted_zone_id",
                    "hosted_zone_id: no hosted zone %s. Use the id of the domain's public hosted zone."
                    % self.params["hosted_zone_id"],
                )
                return
            self.zone_name = normalize_name(zone["Name"])
            try:
                validate_request(
                    self.params["domain_name"],
                    self.params["subject_alternative_names"],
                    self.zone_name,
                    self.desired.key_algorithm,
                )
            except AcmDnsError as e:
                self.module.fail_json(msg=str(e))
            zones = [zone]
        else:
            zones = [
                zone
                for zone in _zones_by_name(self.route53, self.zone_name)
                if not zone.get("Config", {}).get("PrivateZone")
            ]
            if not zones:
                self._zone_missing(
                    "hosted_zone_name",
                    "hosted_zone_name: no public hosted zone %s. Create it first (amazon.aws.route53_zone) or use "
                    "the zone that contains domain_name." % normalize_name(self.zone_name),
                )
                return
            if len(zones) > 1:
                self.module.fail_json(
                    msg="hosted_zone_name: %d public hosted zones are named %s (%s). Use hosted_zone_id to pick the one the "
                    "domain is delegated to."
                    % (len(zones), normalize_name(self.zone_name), ", ".join(zone_id(zone["Id"]) for zone in zones))
                )
        if zones[0].get("Config", {}).get("PrivateZone"):
            self.module.fail_json(
                msg="hosted_zone_id: %s is a private hosted zone; ACM validates through public DNS. Use the domain's public "
                "hosted zone." % self.params["hosted_zone_id"]
            )
        self.zone_id = zone_id(zones[0]["Id"])

    def _zone_missing(self, option: str, message: str) -> None:
        """Fail, or in check mode (the zone may come from an earlier task of the same play) warn and go on without it.

        With state=absent a missing zone is no error: its validation records went with it, the certificates are left to
        delete (a second teardown, or one after the zone was removed by hand)."""
        if self.params["state"] == "absent":
            return
        if not self.module.check_mode:
            self.module.fail_json(msg=message)
        self.module.warn(
            "%s (%s: in check mode the zone may be created by an earlier task; this run cannot tell which validation "
            "records a real run writes)." % (message.rstrip("."), option)
        )

    def zone_records(self, records: list[ValidationRecord]) -> dict[tuple[str, str], dict | None]:
        """The zone's record set of each record (None: not there); each one read once per run until it is changed."""
        for record in records:
            if record.key not in self._zone_cache:
                found = _record_set(self.route53, self.zone_id, record.name, record.type) if self.zone_id else None
                self._zone_cache[record.key] = found
        return {record.key: self._zone_cache[record.key] for record in records}

    def in_zone_keys(self, records: list[ValidationRecord], existing: dict) -> list[tuple[str, str]]:
        return [record.key for record in records if record_in_place(record, existing.get(record.key))]

    # ------------------------------------------------------------------ certificates

    def matching(self, client=None, any_key_type: bool = False) -> tuple[list[dict], list[str]]:
        """Described certificates that count as the desired one (with their tags under ``_tags``), and every ARN
        ACM lists for the domain."""
        client = client or self.acm
        key_types = list(KEY_ALGORITHMS) if any_key_type else [self.desired.key_algorithm]
        summaries = _list_certificates(client, key_types)
        same_domain = [
            summary
            for summary in summaries
            if normalize_name(summary.get("DomainName") or "") == self.desired.domain_name
        ]
        found = []
        for summary in same_domain:
            certificate = _describe(client, summary["CertificateArn"])
            if certificate_names(certificate) != self.desired.names:
                continue
            tags = _list_tags(client, certificate["CertificateArn"])
            if identity_matches(certificate, tags, self.desired):
                found.append(dict(certificate, _tags=tags))
        return found, [summary["CertificateArn"] for summary in same_domain]

    def describe(self, arn: str) -> dict:
        return _describe(self.acm, arn)

    def request(self, known_arns: list[str]) -> str:
        desired = self.desired
        params: dict[str, Any] = dict(
            DomainName=desired.domain_name,
            ValidationMethod="DNS",
            IdempotencyToken=idempotency_token(desired, known_arns, self.run_id),
            KeyAlgorithm=desired.key_algorithm,
        )
        if desired.subject_alternative_names:
            params["SubjectAlternativeNames"] = [desired.domain_name] + list(desired.subject_alternative_names)
        if desired.tags:
            params["Tags"] = [{"Key": key, "Value": value} for key, value in sorted(desired.tags.items())]
        arn = _request(self.acm, **params)
        self.changed = True
        self.events.append("requested certificate %s for %s" % (arn, ", ".join(sorted(desired.names))))
        return arn

    def await_records(self, certificate: dict, deadline: float) -> dict:
        """Read the certificate until ACM has published every validation record, or until ``deadline``."""
        arn = certificate["CertificateArn"]
        try:
            return poll_until(
                lambda: self.describe(arn),
                records_ready,
                what="ACM to publish the validation records of %s" % arn,
                timeout=deadline - self.start,
                started=self.start,
                interval=min(_RECORDS_POLL, self.params["poll_interval"]),
                first=certificate,
                clock=_clock,
                sleep=_sleep,
            )
        except WaitTimeout as timed_out:
            return timed_out.last  # not published yet: the records ACM has published are written, the rest next run

    def sync_records(self, certificate: dict) -> list[tuple[str, str]]:
        """UPSERT the missing or differing validation records; return the keys of the records in the zone after."""
        records = validation_records(certificate)
        existing = self.zone_records(records)
        changes = plan_upserts(records, existing)
        if changes:
            self.changed = True
            verb = "would upsert" if self.module.check_mode else "upserted"
            if not self.module.check_mode:
                _change_records(
                    self.route53,
                    self.zone_id,
                    changes,
                    "megapool.aws.acm_certificate_request: validation of %s" % certificate.get("CertificateArn"),
                )
            for change in changes:
                rrset = change["ResourceRecordSet"]
                self._zone_cache.pop((rrset["Name"], rrset["Type"]), None)
                self.events.append(
                    "%s validation record %s %s %s"
                    % (verb, rrset["Name"], rrset["Type"], rrset["ResourceRecords"][0]["Value"])
                )
        return [record.key for record in records]

    def converge_tags(self, arn: str, current: dict[str, str]) -> dict[str, str]:
        to_set, to_unset = tag_changes(current, self.desired.tags, self.params["purge_tags"])
        if not (to_set or to_unset):
            return current
        self.changed = True
        prefix = "would " if self.module.check_mode else ""
        if not self.module.check_mode:
            if to_unset:
                _remove_tags(self.acm, arn, to_unset)
            if to_set:
                _add_tags(self.acm, arn, to_set)
        if to_unset:
            self.events.append("%sremoved tags %s" % (prefix, ", ".join(to_unset)))
        if to_set:
            self.events.append("%sset tags %s" % (prefix, ", ".join("%s=%s" % item for item in sorted(to_set.items()))))
        after = {key: value for key, value in current.items() if key not in to_unset}
        after.update(to_set)
        return after

    def wait_issued(self, certificate: dict, tags: dict, deadline: float) -> dict:
        """Poll until the certificate leaves PENDING_VALIDATION; fail on timeout."""
        last = [certificate]

        def progress(after: dict, _waited: float) -> None:
            before, last[0] = last[0], after
            if after is before:
                return
            self.events.extend(validation_events(before, after))
            if records_ready(after) and not records_ready(before):
                self.sync_records(after)  # names whose records ACM published late

        arn = certificate["CertificateArn"]
        try:
            return poll_until(
                lambda: self.describe(arn),
                lambda after: after.get("Status") != "PENDING_VALIDATION",
                what="certificate %s to be issued" % arn,
                timeout=deadline - self.start,
                started=self.start,
                interval=self.params["poll_interval"],
                first=certificate,
                progress=progress,
                clock=_clock,
                sleep=_sleep,
            )
        except WaitTimeout as timed_out:
            self.fail(
                timeout_message(timed_out.last, self.params["wait_timeout"], self.zone_name, self.zone_id or ""),
                timed_out.last,
                tags,
            )
        return certificate

    def check_final(self, certificate: dict, tags: dict) -> None:
        """Fail on a final failure state (FAILED with its reason; timed out, revoked, ...)."""
        status = certificate.get("Status")
        if status == "FAILED":
            self.fail(failure_message(certificate), certificate, tags, done=True)
        if status not in ("ISSUED", "PENDING_VALIDATION"):
            self.fail(
                "Certificate %s is %s, it will not be issued. Delete it (state=absent) and run again to request a new one."
                % (certificate.get("CertificateArn"), status),
                certificate,
                tags,
                done=True,
            )


def _present(run: _Run) -> dict[str, Any]:
    params = run.params
    check_mode = run.module.check_mode
    deadline = run.start + params["wait_timeout"]
    found, known_arns = run.matching()
    choice = choose_certificate(found)
    if choice.failed:
        run.fail(failure_message(choice.failed), dict(choice.failed), choice.failed.get("_tags"), done=True)
    if choice.others:
        run.module.warn(
            "More than one certificate matches (%s); using %s. Delete the others if nothing uses them."
            % (", ".join(other["CertificateArn"] for other in choice.others), choice.live["CertificateArn"])
        )

    if choice.live is None:
        if check_mode:
            run.changed = True
            line = "would request a certificate for %s" % ", ".join(sorted(run.desired.names))
            run.events.append(line)
            predicted = predicted_certificate(run.desired)
            tags = dict(run.desired.tags or {})
            return dict(
                certificate=certificate_view(predicted, tags),
                diff=dict(before={}, after=diff_view(predicted, tags, [])),
                done=False,
                _progress="check mode: " + line,
            )
        before_view: dict[str, Any] = {}
        arn = run.request(known_arns)
        certificate = run.describe(arn)
        tags = dict(run.desired.tags or {})
    else:
        certificate = {key: value for key, value in choice.live.items() if key != "_tags"}
        tags = dict(choice.live["_tags"])
        records = validation_records(certificate)
        before_view = diff_view(certificate, tags, run.in_zone_keys(records, run.zone_records(records)))

    if not check_mode and run.zone_id is not None:
        grace = deadline if params["wait"] else min(deadline, _clock() + _RECORDS_GRACE)
        certificate = run.await_records(certificate, grace)
    in_zone = run.sync_records(certificate) if run.zone_id is not None else []
    if choice.live is not None:
        tags = run.converge_tags(certificate["CertificateArn"], tags)
    after_view = diff_view(certificate, tags, in_zone)

    run.check_final(certificate, tags)
    if params["wait"] and not check_mode:
        certificate = run.wait_issued(certificate, tags, deadline)
        run.check_final(certificate, tags)
    done = certificate.get("Status") == "ISSUED"
    if done and (choice.live is None or choice.live.get("Status") != "ISSUED"):
        run.events.append("certificate %s ISSUED" % certificate["CertificateArn"])
    return dict(
        certificate=certificate_view(certificate, tags),
        diff=dict(before=before_view, after=after_view),
        done=done,
        _progress=progress(certificate),
    )


def _records_in_use(run: _Run, deleted_arns: set[str], names: set[str]) -> dict[tuple[str, str, str], str]:
    """Validation records of other certificates (in validation_record_regions) that may share a record."""
    regions = run.params["validation_record_regions"] or [run.module.region]
    used: dict[tuple[str, str, str], str] = {}
    others = run.module.region_clients("acm", [region for region in regions if region != run.module.region])
    for region in regions:
        client = run.acm if region == run.module.region else others[region]
        for summary in _list_certificates(client, list(KEY_ALGORITHMS)):
            arn = summary["CertificateArn"]
            if arn in deleted_arns or not may_share_records(summary, names):
                continue
            for record in validation_records(_describe(client, arn)):
                used.setdefault(record_use_key(record), "certificate %s (%s)" % (arn, region))
    return used


def _await_release(run: _Run, found: list[dict], deadline: float) -> dict[str, Any] | None:
    """Wait until no certificate of ``found`` is in use (``InUseBy`` empty), bounded by ``deadline``.

    ACM lists a load balancer in ``InUseBy`` for minutes after it (or its listener) is deleted, and refuses the delete
    meanwhile. Returns None once they are free; with ``wait: false`` the not-done result to return now (the caller, or
    the live-progress action plugin, polls again); fails on timeout naming the users."""
    shown: list[dict[str, list[str]]] = [{}]
    line = [""]

    def read() -> dict[str, list[str]]:
        users = in_use_by(found)
        for cert in found:
            if cert["CertificateArn"] in users:
                cert["InUseBy"] = _describe(run.acm, cert["CertificateArn"]).get("InUseBy") or []
        return in_use_by(found)

    def progress(users: dict[str, list[str]], waited: float) -> None:
        if not users:
            return
        line[0] = in_use_progress(users, waited)
        if users != shown[0]:
            run.events.append(line[0])
            shown[0] = users

    try:
        users = poll_until(
            read,
            lambda users: not users,
            what="the certificates to be released",
            timeout=deadline - run.start,
            started=run.start,
            interval=run.params["poll_interval"],
            first=in_use_by(found),
            progress=progress,
            wait=run.params["wait"],
            clock=_clock,
            sleep=_sleep,
        )
    except WaitTimeout as timed_out:
        run.fail(in_use_timeout_message(timed_out.last, run.params["wait_timeout"]))
        return None
    if users:  # wait: false
        return dict(certificate={}, diff=dict(before={}, after={}), done=False, _progress=line[0])
    return None


def _absent(run: _Run) -> dict[str, Any]:
    found, _known = run.matching()
    if not found:
        return dict(certificate={}, diff=dict(before={}, after={}), done=True)
    check_mode = run.module.check_mode
    deadline = run.start + run.params["wait_timeout"]
    if check_mode:
        users = in_use_by(found)
        if users:
            run.module.warn(
                "%s: a real run waits up to wait_timeout=%ss for it to be released before deleting it."
                % (in_use_progress(users, 0), run.params["wait_timeout"])
            )
    else:
        pending = _await_release(run, found, deadline)
        if pending is not None:
            return pending
    records: dict[tuple[str, str], ValidationRecord] = {}
    for cert in found:
        for record in validation_records(cert):
            records.setdefault(record.key, record)
    deleted_arns = {cert["CertificateArn"] for cert in found}
    names = set().union(*(certificate_names(cert) for cert in found))
    still_used = _records_in_use(run, deleted_arns, names)
    existing = run.zone_records(list(records.values()))
    plan = plan_record_deletes(list(records.values()), existing, still_used)

    views = []
    for cert in found:
        cert_records = validation_records(cert)
        views.append(diff_view(cert, cert["_tags"], run.in_zone_keys(cert_records, existing)))
    before = dict(views[0], also_matched=views[1:]) if len(views) > 1 else views[0]

    prefix = "would delete" if check_mode else "deleted"
    for cert in found:
        if not check_mode:
            pending = _delete_one(run, cert, deadline)
            if pending is not None:
                return dict(pending, diff=dict(before=before, after={}))
        run.changed = True
        run.events.append("%s certificate %s" % (prefix, cert["CertificateArn"]))
    if plan.changes and not check_mode:
        _change_records(
            run.route53,
            run.zone_id,
            list(plan.changes),
            "megapool.aws.acm_certificate_request: certificate deleted",
        )
    for change in plan.changes:
        run.events.append("%s validation record %s" % (prefix, change["ResourceRecordSet"]["Name"]))
    run.events.extend(plan.kept)
    return dict(certificate={}, diff=dict(before=before, after={}), done=True)


def _delete_one(run: _Run, certificate: dict, deadline: float) -> dict[str, Any] | None:
    """Delete the certificate; while ACM refuses it as in use (its ``InUseBy`` can lag behind in both directions), wait
    and retry until ``deadline``. None when deleted; with ``wait: false`` the not-done result to return now."""
    arn = certificate["CertificateArn"]
    line = [""]

    def attempt() -> dict[str, list[str]] | None:
        """None once deleted, else the users ACM names."""
        try:
            _delete_certificate(run.acm, arn)
            return None
        except is_ansible_aws_error_code("ResourceInUseException"):
            return {arn: _describe(run.acm, arn).get("InUseBy") or ["another resource"]}
        except is_ansible_aws_error_code("ResourceNotFoundException"):  # pylint: disable=duplicate-except
            return None  # gone meanwhile (a parallel teardown)

    def progress(users: dict[str, list[str]] | None, waited: float) -> None:
        if users is None:
            return
        line[0] = in_use_progress(users, waited)
        if line[0] not in run.events:
            run.events.append(line[0])

    try:
        users = poll_until(
            attempt,
            lambda users: users is None,
            what="certificate %s to be deleted" % arn,
            timeout=deadline - run.start,
            started=run.start,
            interval=run.params["poll_interval"],
            progress=progress,
            wait=run.params["wait"],
            clock=_clock,
            sleep=_sleep,
        )
    except WaitTimeout as timed_out:
        run.fail(in_use_timeout_message(timed_out.last, run.params["wait_timeout"]))
        return None
    if users is not None:  # wait: false
        return dict(certificate={}, done=False, _progress=line[0])
    return None


def _desired(module: MegapoolAWSModule) -> DesiredCertificate:
    """Validate the options before any AWS call (the names against hosted_zone_name when it is given)."""
    params = module.params
    if params["wait_timeout"] < 0:
        raise AcmDnsError(
            "wait_timeout: %s is negative; give the seconds to wait at most (0 or more)." % params["wait_timeout"]
        )
    if params["poll_interval"] <= 0:
        raise AcmDnsError(
            "poll_interval: %s is not positive; give the seconds between two reads (e.g. 10)." % params["poll_interval"]
        )
    return validate_request(
        params["domain_name"],
        params["subject_alternative_names"],
        params["hosted_zone_name"],
        params["key_algorithm"],
        params["tags"],
        params["match_tags"],
    )


def _run(module: MegapoolAWSModule) -> dict[str, Any]:
    run = _Run(module, _desired(module))  # the options checked before any AWS call
    run.resolve_zone()
    result = _present(run) if module.params["state"] == "present" else _absent(run)
    line = result.pop("_progress", None) or progress(None)
    return dict(result, changed=run.changed, progress=line, events=run.events)


def main() -> None:
    module = MegapoolAWSModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
        mutually_exclusive=[("hosted_zone_id", "hosted_zone_name")],
        required_one_of=[("hosted_zone_id", "hosted_zone_name")],
    )
    module.run(_run, module, input_errors=(AcmDnsError,))


if __name__ == "__main__":
    main()
