# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ACM DNS-validation planner as pure functions."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import AcmDnsError
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import ValidationRecord
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import certificate_view
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import choose_certificate
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import diff_view
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import failure_message
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import idempotency_token
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import identity_matches
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import in_use_by
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import in_use_progress
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import in_use_timeout_message
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import in_zone
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import may_share_records
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import normalize_name
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import plan_record_deletes
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import plan_upserts
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import progress
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import record_use_key
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import records_ready
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import tag_changes
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import timeout_message
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import validate_request
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import validation_events
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import validation_records

TAGS = {"megapool:env": "prod", "owner": "platform"}


def _cert(
    arn="arn:1",
    domain="app.example.com",
    sans=("app.example.com", "www.example.com"),
    status="ISSUED",
    created=1,
    **extra,
):
    certificate = {
        "CertificateArn": arn,
        "DomainName": domain,
        "SubjectAlternativeNames": list(sans),
        "Status": status,
        "Type": "AMAZON_ISSUED",
        "KeyAlgorithm": "RSA_2048",
        "CreatedAt": datetime.datetime.fromtimestamp(created, tz=datetime.timezone.utc),
    }
    certificate.update(extra)
    return certificate


def _options(*entries):
    """(domain, record name or None, value, status) -> DomainValidationOptions."""
    options = []
    for domain, name, value, status in entries:
        option = {"DomainName": domain, "ValidationMethod": "DNS", "ValidationStatus": status}
        if name:
            option["ResourceRecord"] = {"Name": name, "Type": "CNAME", "Value": value}
        options.append(option)
    return options


# ------------------------------------------------------------------------------------------ names and zones


@pytest.mark.parametrize(
    "name, zone, inside",
    [
        ("app.example.com", "example.com", True),
        ("example.com", "example.com", True),
        ("*.example.com", "example.com", True),
        ("*.app.example.com", "example.com", True),
        ("App.Example.COM.", "example.com.", True),
        ("app.example.com", "app.example.com", True),
        ("*.example.com", "app.example.com", False),
        ("notexample.com", "example.com", False),
        ("app.example.org", "example.com", False),
        ("example.com", "app.example.com", False),
        ("\\052.example.com", "example.com", True),
    ],
)
def test_in_zone(name, zone, inside):
    assert in_zone(name, zone) is inside


@pytest.mark.parametrize(
    "domain, sans, message",
    [
        (None, [], "domain_name is required"),
        ("app.example.net", [], "domain_name: app.example.net is not inside the hosted zone example.com"),
        (
            "app.example.com",
            ["www.example.org"],
            "subject_alternative_names: www.example.org is not inside the hosted zone example.com",
        ),
        (
            "app.example.com",
            ["a.example.org", "b.example.net"],
            "subject_alternative_names: a.example.org, b.example.net are not inside",
        ),
        (
            "app.example.com",
            ["*.*.example.com"],
            "subject_alternative_names: '*.*.example.com' has a wildcard that is not the whole leftmost label",
        ),
        ("app*.example.com", [], "domain_name: 'app*.example.com' has a wildcard"),
        ("com", [], "domain_name: 'com' is not a fully qualified domain name"),
        ("-app.example.com", [], "domain_name: '-app.example.com' has an invalid label '-app'"),
        ("a" * 64 + ".example.com", [], "has an invalid label"),
    ],
)
def test_validate_request_refuses(domain, sans, message):
    with pytest.raises(AcmDnsError) as error:
        validate_request(domain, sans, "example.com")
    assert message in str(error.value)


def test_validate_request_normalizes_and_dedupes_names():
    desired = validate_request(
        "App.Example.com.",
        ["www.example.com", "WWW.example.com", "app.example.com", "*.example.com"],
        "example.com",
        tags=TAGS,
    )
    assert desired.domain_name == "app.example.com"
    assert desired.subject_alternative_names == ("*.example.com", "www.example.com")
    assert desired.names == {"app.example.com", "www.example.com", "*.example.com"}
    assert desired.match_tags == ("megapool:env", "owner")
    assert desired.identity_tags() == TAGS


def test_validate_request_without_zone_checks_only_the_syntax():
    assert validate_request("app.example.org", [], None).domain_name == "app.example.org"


def test_match_tags_must_be_in_tags():
    with pytest.raises(AcmDnsError, match="match_tags: other is not in tags"):
        validate_request("app.example.com", [], "example.com", tags=TAGS, match_tags=["other"])
    desired = validate_request("app.example.com", [], "example.com", tags=TAGS, match_tags=["megapool:env"])
    assert desired.identity_tags() == {"megapool:env": "prod"}


# ------------------------------------------------------------------------------------------ matching


@pytest.mark.parametrize(
    "certificate, tags, matches",
    [
        (_cert(), TAGS, True),
        (_cert(), dict(TAGS, extra="x"), True),
        (_cert(domain="APP.example.com."), TAGS, True),
        (_cert(sans=("app.example.com",)), TAGS, False),
        (_cert(sans=("app.example.com", "www.example.com", "api.example.com")), TAGS, False),
        (_cert(domain="www.example.com"), TAGS, False),
        (_cert(), {"megapool:env": "staging", "owner": "platform"}, False),
        (_cert(), {"megapool:env": "prod"}, False),
        (_cert(KeyAlgorithm="EC_prime256v1"), TAGS, False),
        (_cert(Type="IMPORTED"), TAGS, False),
    ],
)
def test_identity_matches(certificate, tags, matches):
    desired = validate_request("app.example.com", ["www.example.com"], "example.com", tags=TAGS)
    assert identity_matches(certificate, tags, desired) is matches


@pytest.mark.parametrize(
    "certificates, live, failed",
    [
        ([], None, None),
        ([_cert("a", status="PENDING_VALIDATION", created=5), _cert("b", status="ISSUED", created=1)], "b", None),
        ([_cert("a", status="ISSUED", created=1), _cert("b", status="ISSUED", created=5)], "b", None),
        ([_cert("a", status="FAILED", created=9), _cert("b", status="PENDING_VALIDATION", created=1)], "b", None),
        ([_cert("a", status="FAILED", created=9), _cert("b", status="EXPIRED", created=1)], None, "a"),
        ([_cert("a", status="FAILED", created=1), _cert("b", status="EXPIRED", created=9)], None, None),
        (
            [_cert("a", status="REVOKED"), _cert("b", status="INACTIVE"), _cert("c", status="VALIDATION_TIMED_OUT")],
            None,
            None,
        ),
    ],
)
def test_choose_certificate(certificates, live, failed):
    choice = choose_certificate(certificates)
    assert (choice.live or {}).get("CertificateArn") == live
    assert (choice.failed or {}).get("CertificateArn") == failed


def test_idempotency_token_is_stable_within_a_run_and_changes_with_inputs_certificates_and_runs():
    desired = validate_request("app.example.com", ["www.example.com"], "example.com", tags=TAGS)
    token = idempotency_token(desired, ["arn:2", "arn:1"], "run-1")
    assert token == idempotency_token(desired, ["arn:1", "arn:2"], "run-1")
    assert len(token) == 32 and token.isalnum()
    assert token != idempotency_token(desired, ["arn:1"], "run-1")
    assert token != idempotency_token(desired, ["arn:2", "arn:1"], "run-2")
    assert token != idempotency_token(
        validate_request("app.example.com", [], "example.com", tags=TAGS), ["arn:2", "arn:1"], "run-1"
    )


# ------------------------------------------------------------------------------------------ records


def test_validation_records_dedupe_shared_records_and_skip_unpublished():
    certificate = _cert(
        DomainValidationOptions=_options(
            ("example.com", "_a.example.com.", "_v.acm.", "PENDING_VALIDATION"),
            ("*.example.com", "_A.Example.com", "_v.acm.", "PENDING_VALIDATION"),
            ("www.example.com", None, None, "PENDING_VALIDATION"),
        )
    )
    records = validation_records(certificate)
    assert records == [ValidationRecord("_a.example.com.", "CNAME", "_v.acm.")]
    assert records[0].domain_names == ("*.example.com", "example.com")
    assert records_ready(certificate) is False
    assert records_ready(_cert(DomainValidationOptions=[])) is False


RECORD = ValidationRecord("_a.app.example.com.", "CNAME", "_v.acm-validations.aws.")
OTHER = ValidationRecord("_b.www.example.com.", "CNAME", "_w.acm-validations.aws.")


def _rrset(record, value=None, ttl=300):
    return {"Name": record.name, "Type": "CNAME", "TTL": ttl, "ResourceRecords": [{"Value": value or record.value}]}


@pytest.mark.parametrize(
    "existing, upserted",
    [
        ({}, [RECORD.name, OTHER.name]),
        ({RECORD.key: _rrset(RECORD), OTHER.key: _rrset(OTHER)}, []),
        ({RECORD.key: _rrset(RECORD, ttl=60), OTHER.key: _rrset(OTHER, value="_W.ACM-validations.aws")}, []),
        ({RECORD.key: _rrset(RECORD, value="stale."), OTHER.key: None}, [RECORD.name, OTHER.name]),
        (
            {
                RECORD.key: {
                    "Name": RECORD.name,
                    "Type": "CNAME",
                    "TTL": 300,
                    "ResourceRecords": [{"Value": RECORD.value}, {"Value": "x."}],
                }
            },
            [RECORD.name, OTHER.name],
        ),
    ],
)
def test_plan_upserts(existing, upserted):
    changes = plan_upserts([RECORD, OTHER], existing)
    assert [change["ResourceRecordSet"]["Name"] for change in changes] == upserted
    assert all(change["Action"] == "UPSERT" and change["ResourceRecordSet"]["TTL"] == 300 for change in changes)


def test_plan_record_deletes():
    foreign = ValidationRecord("_c.api.example.com.", "CNAME", "_x.acm.")
    missing = ValidationRecord("_d.old.example.com.", "CNAME", "_y.acm.")
    existing = {
        RECORD.key: _rrset(RECORD, ttl=60),
        OTHER.key: _rrset(OTHER),
        foreign.key: _rrset(foreign, value="someone-else."),
        missing.key: None,
    }
    plan = plan_record_deletes(
        [RECORD, OTHER, foreign, missing], existing, {record_use_key(OTHER): "certificate arn:9 (eu-west-1)"}
    )
    assert plan.changes == ({"Action": "DELETE", "ResourceRecordSet": _rrset(RECORD, ttl=60)},)
    assert plan.kept == (
        "kept validation record _b.www.example.com.: still used by certificate arn:9 (eu-west-1)",
        "kept record _c.api.example.com.: its value someone-else. is not this certificate's",
    )


@pytest.mark.parametrize(
    "summary, shares",
    [
        ({"DomainName": "app.example.com"}, True),
        (
            {
                "DomainName": "other.example.com",
                "SubjectAlternativeNameSummaries": ["other.example.com", "www.example.com"],
            },
            True,
        ),
        ({"DomainName": "*.app.example.com"}, True),
        ({"DomainName": "other.example.com"}, False),
        ({"DomainName": "other.example.com", "HasAdditionalSubjectAlternativeNames": True}, True),
    ],
)
def test_may_share_records(summary, shares):
    assert may_share_records(summary, ["app.example.com", "www.example.com"]) is shares


# ------------------------------------------------------------------------------------------ tags and reporting


@pytest.mark.parametrize(
    "current, desired, purge, expected",
    [
        ({"a": "1"}, None, True, ({}, [])),
        ({"a": "1", "b": "2"}, {"a": "1"}, True, ({}, ["b"])),
        ({"a": "1", "b": "2"}, {"a": "1"}, False, ({}, [])),
        ({"a": "1", "aws:x": "y"}, {"a": "2"}, True, ({"a": "2"}, [])),
        ({}, {"n": 3}, True, ({"n": "3"}, [])),
    ],
)
def test_tag_changes(current, desired, purge, expected):
    assert tag_changes(current, desired, purge) == expected


def test_progress_lines():
    pending = _cert(
        status="PENDING_VALIDATION",
        DomainValidationOptions=_options(
            ("app.example.com", "_a.", "_v.", "SUCCESS"), ("www.example.com", "_b.", "_w.", "PENDING_VALIDATION")
        ),
    )
    assert progress(pending) == "certificate PENDING_VALIDATION: 1 of 2 names validated"
    unpublished = _cert(
        status="PENDING_VALIDATION",
        sans=("app.example.com",),
        DomainValidationOptions=_options(("app.example.com", None, None, "PENDING_VALIDATION")),
    )
    assert (
        progress(unpublished)
        == "certificate PENDING_VALIDATION: 0 of 1 name validated (waiting for ACM to publish the validation records)"
    )
    assert progress(None) == "certificate absent"
    failed = _cert(
        status="FAILED",
        FailureReason="CAA_ERROR",
        DomainValidationOptions=_options(("app.example.com", "_a.", "_v.", "FAILED")),
    )
    assert progress(failed) == "certificate FAILED: 0 of 1 name validated (CAA_ERROR)"
    assert "FAILED: CAA_ERROR. A CAA record of the domain does not allow amazon.com" in failure_message(failed)


def test_validation_events_report_what_moved():
    before = _cert(
        status="PENDING_VALIDATION",
        DomainValidationOptions=_options(("app.example.com", "_a.", "_v.", "PENDING_VALIDATION")),
    )
    after = _cert(status="ISSUED", DomainValidationOptions=_options(("app.example.com", "_a.", "_v.", "SUCCESS")))
    assert validation_events(before, after) == [
        "app.example.com: validation SUCCESS",
        "certificate PENDING_VALIDATION -> ISSUED",
    ]
    assert validation_events(after, after) == []
    assert validation_events(None, after) == []


def test_timeout_message_names_the_option_the_zone_and_the_delegation():
    message = timeout_message(_cert(status="PENDING_VALIDATION"), 600, "example.com.", "Z1")
    assert "not issued within wait_timeout=600s" in message
    assert "check that the zone example.com (Z1) is the domain's authoritative zone (NS delegation" in message


def test_views():
    certificate = _cert(
        InUseBy=["arn:alb"],
        DomainValidationOptions=_options(
            ("app.example.com", "_a.app.example.com.", "_v.", "SUCCESS"),
            ("www.example.com", "_b.www.example.com.", "_w.", "SUCCESS"),
        ),
    )
    view = certificate_view(certificate, {"k": "v"})
    assert view["subject_alternative_names"] == ["www.example.com"]
    assert view["in_use_by"] == ["arn:alb"]
    assert [record["name"] for record in view["validation_records"]] == ["_a.app.example.com.", "_b.www.example.com."]
    assert certificate_view(None, None) == {}
    partial = diff_view(certificate, {"k": "v"}, [("_b.www.example.com.", "CNAME")])
    assert [record["name"] for record in partial["validation_records"]] == ["_b.www.example.com."]
    assert "status" not in partial


# ------------------------------------------------------------------------------------------ properties

_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
_ZONE = st.lists(_LABEL, min_size=2, max_size=3).map(".".join)


@settings(max_examples=200, deadline=None)
@given(zone=_ZONE, prefix=st.lists(_LABEL, max_size=3), wildcard=st.booleans(), upper=st.booleans(), dot=st.booleans())
def test_names_built_inside_a_zone_are_inside_it(zone, prefix, wildcard, upper, dot):
    name = ".".join((["*"] if wildcard else []) + prefix + [zone])
    spelled = (name.upper() if upper else name) + ("." if dot else "")
    assert in_zone(spelled, zone)
    assert normalize_name(spelled) == name
    desired = validate_request(spelled, [spelled], zone)
    assert desired.subject_alternative_names == ()


@settings(max_examples=200, deadline=None)
@given(zone=_ZONE, other=_ZONE, label=_LABEL)
def test_names_of_another_zone_are_outside(zone, other, label):
    # `other` is neither the zone, nor inside it, nor one of its parents (a name under a parent can be the zone).
    assume(other != zone and not other.endswith("." + zone) and not zone.endswith("." + other))
    assert not in_zone(label + "." + other, zone)
    with pytest.raises(AcmDnsError, match="^subject_alternative_names:"):
        validate_request(zone, [label + "." + other], zone)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["x.", "y."])), max_size=6))
def test_upserts_then_nothing(pairs):
    """After applying the planned upserts, planning again gives nothing (idempotence)."""
    records = [ValidationRecord("_%s.example.com." % name, "CNAME", value) for name, value in pairs]
    zone: dict = {}
    for change in plan_upserts(records, zone):
        rrset = change["ResourceRecordSet"]
        zone[(rrset["Name"], rrset["Type"])] = rrset
    last = {record.key: record for record in records}
    assert plan_upserts(list(last.values()), zone) == []


@pytest.mark.parametrize(
    "certificates, expected",
    [
        ([], {}),
        ([{"CertificateArn": "a", "InUseBy": []}, {"CertificateArn": "b"}], {}),
        (
            [{"CertificateArn": "a", "InUseBy": ["lb-1", "lb-2"]}, {"CertificateArn": "b", "InUseBy": []}],
            {"a": ["lb-1", "lb-2"]},
        ),
    ],
)
def test_in_use_by_lists_only_certificates_in_use(certificates, expected):
    assert in_use_by(certificates) == expected


def test_in_use_lines_name_the_certificates_and_their_users():
    users = {"arn:b": ["lb-2"], "arn:a": ["lb-1", "cf-1"]}
    assert (
        in_use_progress(users, 12.7) == "waiting for arn:a, arn:b to be released (in use by lb-1, cf-1; lb-2) for 12s"
    )
    message = in_use_timeout_message(users, 600)
    assert message.startswith("Cannot delete arn:a, arn:b: still in use by lb-1, cf-1; lb-2 after wait_timeout=600s.")
    assert "remove the certificate from it first" in message and "raise wait_timeout" in message
