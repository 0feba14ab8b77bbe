# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.acm_certificate_request against moto in-process, and botocore Stubber sequences.

What moto 5.2.5 does (moto/acm/models.py): RequestCertificate makes an AMAZON_ISSUED certificate in
PENDING_VALIDATION whose DescribeCertificate lists a DNS ResourceRecord for every name at once (name
``_d930b28be6c5927595552b219965053e.<name>.``, one value for all), and turns it ISSUED on the first read more than
``settings.ACM_VALIDATION_WAIT`` seconds (env ``MOTO_ACM_VALIDATION_WAIT``, read at import) after the request,
whatever the DNS. The tests set that wait high and let a fake clock's ``sleep`` age the certificate, so the module
really polls. moto never fails a certificate, never hides the records for a while and deletes certificates that are in
use: those are played with a Stubber sequence or by setting moto's state (and said so).
"""

from __future__ import annotations

import datetime
from typing import Any
from typing import Callable

import boto3
import pytest
from botocore.stub import ANY
from botocore.stub import Stubber
from moto import mock_aws
from moto import settings as moto_settings
from moto.acm import models as acm_models

from ansible_collections.megapool.aws.plugins.module_utils import base
from ansible_collections.megapool.aws.plugins.modules import acm_certificate_request as module_under_test

REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
ACCOUNT = "123456789012"
ZONE = "example.com"
TAGS = {"megapool:env": "test", "megapool:cluster": "shop"}
MOTO_RECORD_PREFIX = "_d930b28be6c5927595552b219965053e."
MOTO_RECORD_VALUE = "_c9edd76ee4a0e2a74388032f3861cc50.ykybfrwcxw.acm-validations.aws."


@pytest.fixture
def aws(aws_env, monkeypatch, clock):  # pylint: disable=unused-argument
    monkeypatch.setattr(moto_settings, "ACM_VALIDATION_WAIT", 3600)  # issued only when a test ages the certificate
    with mock_aws():
        yield


def _zone(name: str = ZONE, private: bool = False) -> str:
    client = boto3.client("route53", region_name=REGION)
    params: dict[str, Any] = dict(Name=name, CallerReference="ref-" + name + str(private))
    if private:
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        params.update(
            VPC={"VPCRegion": REGION, "VPCId": vpc}, HostedZoneConfig={"PrivateZone": True, "Comment": "private"}
        )
    return client.create_hosted_zone(**params)["HostedZone"]["Id"].rsplit("/", 1)[-1]


def _records(zone_id: str) -> dict[str, list[str]]:
    """The CNAMEs of the zone: name -> values."""
    client = boto3.client("route53", region_name=REGION)
    rrsets = client.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {
        rrset["Name"]: [record["Value"] for record in rrset["ResourceRecords"]]
        for rrset in rrsets
        if rrset["Type"] == "CNAME"
    }


def _record(name: str) -> str:
    return MOTO_RECORD_PREFIX + name + "."


def _acm(region: str = REGION):
    return boto3.client("acm", region_name=region)


def _certificates(region: str = REGION) -> list[dict]:
    client = _acm(region)
    return [
        client.describe_certificate(CertificateArn=summary["CertificateArn"])["Certificate"]
        for summary in client.list_certificates()["CertificateSummaryList"]
    ]


def _tags(arn: str, region: str = REGION) -> dict[str, str]:
    return {
        tag["Key"]: tag.get("Value", "") for tag in _acm(region).list_tags_for_certificate(CertificateArn=arn)["Tags"]
    }


def _bundle(arn: str, region: str = REGION):
    return acm_models.acm_backends[ACCOUNT][region]._certificates[arn]  # pylint: disable=protected-access


def _age(arn: str, region: str = REGION) -> Callable[[], None]:
    """A clock step that makes moto consider the certificate validated (older than ACM_VALIDATION_WAIT)."""

    def _step() -> None:
        _bundle(arn, region).created_at -= datetime.timedelta(hours=2)

    return _step


def _age_newest(region: str = REGION) -> None:
    backend = acm_models.acm_backends[ACCOUNT][region]
    newest = max(backend._certificates.values(), key=lambda bundle: bundle.created_at)  # pylint: disable=protected-access
    newest.created_at -= datetime.timedelta(hours=2)


def _request(
    domain: str, sans: list[str] | None = None, tags: dict[str, str] | None = None, region: str = REGION
) -> str:
    """A certificate made directly (not by the module)."""
    params: dict[str, Any] = dict(DomainName=domain, ValidationMethod="DNS")
    if sans:
        params["SubjectAlternativeNames"] = sans
    if tags:
        params["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
    return _acm(region).request_certificate(**params)["CertificateArn"]


def _args(zone_id: str | None = None, **extra: Any) -> dict[str, Any]:
    args: dict[str, Any] = dict(
        domain_name="app.example.com",
        subject_alternative_names=["www.example.com"],
        tags=TAGS,
        region=REGION,
        wait_timeout=600,
        poll_interval=10,
    )
    if zone_id is not None:
        args["hosted_zone_id"] = zone_id
    else:
        args["hosted_zone_name"] = ZONE
    args.update(extra)
    return args


# ------------------------------------------------------------------------------------------ present


def test_requests_writes_the_validation_records_and_waits_until_issued(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    zone_id = _zone()
    clock.steps = [lambda: None, _age_newest]  # issued after the second poll
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(zone_id), diff=True)
    module_calls = list(aws_calls)

    assert result["changed"] is True, result
    assert result["done"] is True
    certificates = _certificates()
    assert len(certificates) == 1
    cert = certificates[0]
    assert cert["Status"] == "ISSUED"
    assert _tags(cert["CertificateArn"]) == TAGS
    assert _records(zone_id) == {
        _record("app.example.com"): [MOTO_RECORD_VALUE],
        _record("www.example.com"): [MOTO_RECORD_VALUE],
    }
    returned = result["certificate"]
    assert returned["arn"] == cert["CertificateArn"]
    assert returned["domain_name"] == "app.example.com"
    assert returned["subject_alternative_names"] == ["www.example.com"]
    assert returned["status"] == "ISSUED"
    assert returned["tags"] == TAGS
    assert returned["in_use_by"] == []
    assert [record["name"] for record in returned["validation_records"]] == [
        _record("app.example.com"),
        _record("www.example.com"),
    ]
    assert result["progress"] == "certificate ISSUED: 2 of 2 names validated"
    assert result["events"][0].startswith("requested certificate %s" % cert["CertificateArn"])
    assert (
        "upserted validation record %s CNAME %s" % (_record("www.example.com"), MOTO_RECORD_VALUE) in result["events"]
    )
    assert "certificate PENDING_VALIDATION -> ISSUED" in result["events"]
    assert result["events"][-1] == "certificate %s ISSUED" % cert["CertificateArn"]
    assert clock.sleeps == [10, 10]
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["subject_alternative_names"] == ["www.example.com"]
    assert len(result["diff"]["after"]["validation_records"]) == 2

    assert [call.operation for call in aws_calls.writes()] == ["RequestCertificate", "ChangeResourceRecordSets"]
    request = aws_calls.of("RequestCertificate")[0].params
    assert request["ValidationMethod"] == "DNS"
    assert request["DomainName"] == "app.example.com"
    assert sorted(request["SubjectAlternativeNames"]) == ["app.example.com", "www.example.com"]
    assert len(request["IdempotencyToken"]) == 32
    assert {tag["Key"]: tag["Value"] for tag in request["Tags"]} == TAGS
    changes = aws_calls.of("ChangeResourceRecordSets")[0].params["ChangeBatch"]["Changes"]
    assert {change["Action"] for change in changes} == {"UPSERT"}
    assert all("megapool.aws/%s" % base.MEGAPOOL_AWS_COLLECTION_VERSION in call.user_agent for call in module_calls)


def test_second_run_changes_nothing_and_only_reads(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    zone_id = _zone()
    clock.steps = [_age_newest]
    first = run_module(module_under_test.main, _args(zone_id), diff=True)
    assert first["changed"] and first["done"], first
    aws_calls.clear()

    second = run_module(module_under_test.main, _args(zone_id), diff=True)

    assert second["changed"] is False, second
    assert second["done"] is True
    assert aws_calls.writes() == []
    assert aws_calls.operations() == [
        "GetHostedZone",
        "ListCertificates",
        "DescribeCertificate",
        "ListTagsForCertificate",
        "ListResourceRecordSets",
        "ListResourceRecordSets",
    ]
    assert second["certificate"] == first["certificate"]
    assert second["diff"]["before"] == second["diff"]["after"] == first["diff"]["after"]
    assert second["events"] == []
    assert len(_certificates()) == 1


def test_wait_false_returns_at_once_and_polling_again_is_idempotent(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    zone_id = _zone()
    args = _args(zone_id, wait=False)

    first = run_module(module_under_test.main, args)
    assert first["changed"] is True, first
    assert first["done"] is False
    assert first["certificate"]["status"] == "PENDING_VALIDATION"
    assert first["progress"] == "certificate PENDING_VALIDATION: 0 of 2 names validated"
    assert clock.sleeps == []
    assert len(_records(zone_id)) == 2

    aws_calls.clear()
    again = run_module(module_under_test.main, args)
    assert again["changed"] is False and again["done"] is False, again
    assert aws_calls.writes() == []

    _age(first["certificate"]["arn"])()
    issued = run_module(module_under_test.main, args)
    assert issued["changed"] is False and issued["done"] is True, issued
    assert issued["progress"] == "certificate ISSUED: 2 of 2 names validated"
    assert aws_calls.writes() == []


def test_check_mode_requests_nothing_and_reports_what_it_would_do(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    _zone()
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(), check_mode=True, diff=True)

    assert result["changed"] is True, result
    assert result["done"] is False
    assert aws_calls.writes() == []
    assert _certificates() == []
    assert result["certificate"]["arn"] is None
    assert result["certificate"]["subject_alternative_names"] == ["www.example.com"]
    assert result["events"] == ["would request a certificate for app.example.com, www.example.com"]
    assert result["progress"].startswith("check mode: would request")
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["tags"] == TAGS


def test_check_mode_on_a_certificate_with_a_missing_record_only_reports_the_upsert(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    zone_id = _zone()
    clock.steps = [_age_newest]
    run_module(module_under_test.main, _args(zone_id))
    route53 = boto3.client("route53", region_name=REGION)
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "DELETE",
                    "ResourceRecordSet": {
                        "Name": _record("www.example.com"),
                        "Type": "CNAME",
                        "TTL": 300,
                        "ResourceRecords": [{"Value": MOTO_RECORD_VALUE}],
                    },
                }
            ]
        },
    )
    aws_calls.clear()

    checked = run_module(module_under_test.main, _args(zone_id), check_mode=True, diff=True)

    assert checked["changed"] is True, checked
    assert aws_calls.writes() == []
    assert _record("www.example.com") not in _records(zone_id)
    assert checked["events"] == [
        "would upsert validation record %s CNAME %s" % (_record("www.example.com"), MOTO_RECORD_VALUE)
    ]
    assert [record["name"] for record in checked["diff"]["before"]["validation_records"]] == [
        _record("app.example.com")
    ]
    assert len(checked["diff"]["after"]["validation_records"]) == 2

    fixed = run_module(module_under_test.main, _args(zone_id), diff=True)
    assert fixed["changed"] is True
    assert [call.operation for call in aws_calls.writes()] == ["ChangeResourceRecordSets"]
    assert fixed["diff"] == checked["diff"]
    assert _record("www.example.com") in _records(zone_id)


def test_a_differing_record_value_is_upserted(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    zone_id = _zone()
    boto3.client("route53", region_name=REGION).change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": _record("app.example.com"),
                        "Type": "CNAME",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": "stale.example.net."}],
                    },
                }
            ]
        },
    )
    clock.steps = [_age_newest]
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(zone_id, subject_alternative_names=[]))

    assert result["done"] is True, result
    assert _records(zone_id) == {_record("app.example.com"): [MOTO_RECORD_VALUE]}
    assert len(aws_calls.of("ChangeResourceRecordSets")) == 1


def test_wildcard_and_apex_share_one_record_and_the_zone_is_found_by_name(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    zone_id = _zone()
    clock.steps = [_age_newest]

    result = run_module(
        module_under_test.main,
        _args(None, domain_name="example.com", subject_alternative_names=["*.example.com", "EXAMPLE.com."]),
    )

    assert result["done"] is True, result
    assert _records(zone_id) == {_record("example.com"): [MOTO_RECORD_VALUE]}
    changes = aws_calls.of("ChangeResourceRecordSets")[0].params["ChangeBatch"]["Changes"]
    assert len(changes) == 1
    assert result["certificate"]["subject_alternative_names"] == ["*.example.com"]
    assert result["certificate"]["validation_records"][0]["domain_names"] == ["*.example.com", "example.com"]
    request = aws_calls.of("RequestCertificate")[0].params
    assert sorted(request["SubjectAlternativeNames"]) == ["*.example.com", "example.com"]


def test_tags_converge_on_the_found_certificate(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    zone_id = _zone()
    arn = _request("app.example.com", ["www.example.com"], {"megapool:env": "test", "owner": "alice", "extra": "x"})
    clock.steps = [_age(arn)]
    aws_calls.clear()

    result = run_module(
        module_under_test.main,
        _args(zone_id, tags={"megapool:env": "test", "owner": "bob"}, match_tags=["megapool:env"]),
        diff=True,
    )

    assert result["changed"] is True, result
    assert result["certificate"]["arn"] == arn
    assert _tags(arn) == {"megapool:env": "test", "owner": "bob"}
    assert aws_calls.of("RequestCertificate") == []
    assert aws_calls.of("RemoveTagsFromCertificate")[0].params["Tags"] == [{"Key": "extra"}]
    assert aws_calls.of("AddTagsToCertificate")[0].params["Tags"] == [{"Key": "owner", "Value": "bob"}]
    assert result["diff"]["before"]["tags"] == {"megapool:env": "test", "owner": "alice", "extra": "x"}
    assert result["diff"]["after"]["tags"] == {"megapool:env": "test", "owner": "bob"}
    assert "removed tags extra" in result["events"]
    assert "set tags owner=bob" in result["events"]

    aws_calls.clear()
    again = run_module(
        module_under_test.main,
        _args(zone_id, tags={"megapool:env": "test", "owner": "bob"}, match_tags=["megapool:env"]),
    )
    assert again["changed"] is False, again
    assert aws_calls.writes() == []


def test_a_certificate_of_another_env_or_other_names_is_not_reused(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    zone_id = _zone()
    staging = _request("app.example.com", ["www.example.com"], {"megapool:env": "staging", "megapool:cluster": "shop"})
    fewer_names = _request("app.example.com", None, TAGS)
    clock.steps = [_age_newest]
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(zone_id))

    assert result["certificate"]["arn"] not in (staging, fewer_names)
    assert len(aws_calls.of("RequestCertificate")) == 1
    assert _tags(staging) == {"megapool:env": "staging", "megapool:cluster": "shop"}
    assert len(_certificates()) == 3


def test_an_expired_certificate_is_ignored_and_a_new_one_requested(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    zone_id = _zone()
    old = _request("app.example.com", ["www.example.com"], TAGS)
    _bundle(old).status = "EXPIRED"
    clock.steps = [_age_newest]
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(zone_id))

    assert result["certificate"]["arn"] != old
    assert result["done"] is True
    assert len(aws_calls.of("RequestCertificate")) == 1


def test_the_newest_failed_certificate_is_reported_not_requested_again(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    """moto never fails a certificate: its status is set by hand."""
    zone_id = _zone()
    failed = _request("app.example.com", ["www.example.com"], TAGS)
    _bundle(failed).status = "FAILED"
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(zone_id))

    assert result["failed"] is True
    assert "Certificate %s for app.example.com FAILED" % failed in result["msg"]
    assert "state=absent" in result["msg"]
    assert result["done"] is True
    assert aws_calls.writes() == []


# ------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "change, option, named",
    [
        pytest.param(
            dict(subject_alternative_names=["www.example.org"]),
            "subject_alternative_names",
            "www.example.org",
            id="san-outside",
        ),
        pytest.param(dict(domain_name="app.example.net"), "domain_name", "app.example.net", id="domain-outside"),
        pytest.param(dict(domain_name="notexample.com"), "domain_name", "notexample.com", id="suffix-is-not-inside"),
        pytest.param(
            dict(subject_alternative_names=["*.com"]), "subject_alternative_names", "*.com", id="wildcard-above-zone"
        ),
        pytest.param(
            dict(subject_alternative_names=["www.*.example.com"]),
            "subject_alternative_names",
            "www.*.example.com",
            id="wildcard-inside",
        ),
        pytest.param(
            dict(domain_name="bad_name.example.com"), "domain_name", "bad_name.example.com", id="invalid-label"
        ),
    ],
)
def test_names_outside_the_zone_fail_before_any_call(aws, run_module, aws_calls, change, option, named):  # pylint: disable=unused-argument
    _zone()
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(None, **change))

    assert result["failed"] is True
    assert result["msg"].startswith(option + ":"), result["msg"]
    assert named in result["msg"]
    assert aws_calls == []


def test_a_san_outside_the_zone_given_by_id_fails_after_reading_the_zone_only(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    zone_id = _zone()
    aws_calls.clear()

    result = run_module(
        module_under_test.main, _args(zone_id, subject_alternative_names=["www.example.com", "api.example.org"])
    )

    assert result["failed"] is True
    assert result["msg"].startswith(
        "subject_alternative_names: api.example.org is not inside the hosted zone example.com"
    )
    assert aws_calls.operations() == ["GetHostedZone"]
    assert _certificates() == []


def test_a_private_zone_is_refused(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    zone_id = _zone(private=True)
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(zone_id))
    assert result["failed"] is True
    assert "private hosted zone" in result["msg"]
    assert aws_calls.writes() == []


def test_a_missing_zone_fails_but_only_warns_in_check_mode(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, _args())
    assert result["failed"] is True
    assert result["msg"].startswith("hosted_zone_name: no public hosted zone example.com")

    checked = run_module(module_under_test.main, _args(), check_mode=True)
    assert checked["changed"] is True, checked
    assert checked["warnings"][0].startswith("hosted_zone_name: no public hosted zone example.com")
    assert aws_calls.writes() == []


@pytest.mark.parametrize(
    "zone_args", [dict(hosted_zone_id="Z0000000000000000NONE"), dict(hosted_zone_id="")], ids=["unknown-id", "empty-id"]
)
def test_a_zone_id_that_does_not_exist_fails_but_only_warns_in_check_mode(aws, run_module, aws_calls, zone_args):  # pylint: disable=unused-argument
    args = dict(_args(), **zone_args)
    del args["hosted_zone_name"]
    result = run_module(module_under_test.main, args)
    assert result["failed"] is True
    assert result["msg"].startswith("hosted_zone_id:"), result["msg"]

    checked = run_module(module_under_test.main, args, check_mode=True)
    assert checked["changed"] is True, checked
    assert checked["certificate"]["arn"] is None
    assert "in check mode the zone may be created by an earlier task" in checked["warnings"][0]
    assert aws_calls.writes() == []


def test_match_tags_must_be_keys_of_tags(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, _args(match_tags=["owner"]))
    assert result["failed"] is True
    assert result["msg"].startswith("match_tags: owner is not in tags")
    assert aws_calls == []


# ------------------------------------------------------------------------------------------ absent


def test_absent_deletes_the_certificate_and_its_records(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    zone_id = _zone()
    clock.steps = [_age_newest]
    created = run_module(module_under_test.main, _args(zone_id))
    assert len(_records(zone_id)) == 2

    checked = run_module(module_under_test.main, _args(zone_id, state="absent"), check_mode=True, diff=True)
    assert checked["changed"] is True
    assert len(_certificates()) == 1 and len(_records(zone_id)) == 2
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(zone_id, state="absent"), diff=True)

    assert result["changed"] is True, result
    assert result["done"] is True
    assert result["certificate"] == {}
    assert _certificates() == []
    assert _records(zone_id) == {}
    assert [call.operation for call in aws_calls.writes()] == ["DeleteCertificate", "ChangeResourceRecordSets"]
    assert result["diff"]["before"]["arn"] == created["certificate"]["arn"]
    assert result["diff"] == checked["diff"]
    assert result["events"] == [event.replace("would delete", "deleted") for event in checked["events"]]

    aws_calls.clear()
    again = run_module(module_under_test.main, _args(zone_id, state="absent"))
    assert again["changed"] is False and again["done"] is True, again
    assert aws_calls.writes() == []


def test_absent_after_the_zone_is_gone_still_deletes_the_certificate(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    """A second teardown, or one after the zone went: no zone is no error for state=absent (its records went with it)."""
    zone_id = _zone()
    clock.steps = [_age_newest]
    run_module(module_under_test.main, _args(zone_id))
    route53 = boto3.client("route53", region_name=REGION)
    rrsets = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    changes = [{"Action": "DELETE", "ResourceRecordSet": rrset} for rrset in rrsets if rrset["Type"] == "CNAME"]
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    route53.delete_hosted_zone(Id=zone_id)
    aws_calls.clear()

    by_name = run_module(module_under_test.main, _args(state="absent"))
    assert by_name["changed"] is True and by_name["done"] is True, by_name
    assert _certificates() == []
    assert [call.operation for call in aws_calls.writes()] == ["DeleteCertificate"]

    again = run_module(module_under_test.main, _args(zone_id, state="absent"))
    assert again["changed"] is False and again.get("failed") is not True, again


def test_present_after_absent_requests_a_new_certificate(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    """ACM (and moto) remember an IdempotencyToken for an hour, also after the certificate is deleted."""
    zone_id = _zone()
    clock.steps = [_age_newest, _age_newest]
    first = run_module(module_under_test.main, _args(zone_id))
    run_module(module_under_test.main, _args(zone_id, state="absent"))
    aws_calls.clear()

    again = run_module(module_under_test.main, _args(zone_id))

    assert again["changed"] is True and again["done"] is True, again
    assert again["certificate"]["arn"] != first["certificate"]["arn"]
    assert [cert["CertificateArn"] for cert in _certificates()] == [again["certificate"]["arn"]]
    assert len(_records(zone_id)) == 2


@pytest.mark.parametrize("other_region", [REGION, OTHER_REGION])
def test_absent_keeps_a_record_another_certificate_still_uses(aws, run_module, aws_calls, clock, other_region):  # pylint: disable=unused-argument
    zone_id = _zone()
    clock.steps = [_age_newest]
    run_module(module_under_test.main, _args(zone_id))
    other = _request("app.example.com", None, {"megapool:env": "other"}, region=other_region)

    result = run_module(
        module_under_test.main, _args(zone_id, state="absent", validation_record_regions=[REGION, OTHER_REGION])
    )

    assert result["changed"] is True, result
    assert _records(zone_id) == {_record("app.example.com"): [MOTO_RECORD_VALUE]}
    assert (
        "kept validation record %s: still used by certificate %s (%s)"
        % (_record("app.example.com"), other, other_region)
        in result["events"]
    )
    assert [cert["CertificateArn"] for cert in _certificates(other_region)] == [other]


def test_absent_without_the_other_region_listed_removes_the_shared_record(aws, run_module, clock):  # pylint: disable=unused-argument
    zone_id = _zone()
    clock.steps = [_age_newest]
    run_module(module_under_test.main, _args(zone_id))
    _request("app.example.com", None, {"megapool:env": "other"}, region=OTHER_REGION)

    result = run_module(module_under_test.main, _args(zone_id, state="absent"))

    assert result["changed"] is True, result
    assert _records(zone_id) == {}


def _in_use(arn: str, user: str) -> None:
    acm_models.acm_backends[ACCOUNT][REGION].set_certificate_in_use_by(arn, user)


def _released(arn: str) -> Callable[[], None]:
    def _step() -> None:
        _bundle(arn).in_use_by = []

    return _step


ALB = "arn:aws:elasticloadbalancing:%s:%s:loadbalancer/app/shop/0123456789abcdef" % (REGION, ACCOUNT)


def test_absent_waits_for_a_certificate_in_use_to_be_released(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    """ACM lists a deleted load balancer in InUseBy for a while (set in moto's backend here, released by a clock step)."""
    zone_id = _zone()
    clock.steps = [_age_newest]
    arn = run_module(module_under_test.main, _args(zone_id))["certificate"]["arn"]
    _in_use(arn, ALB)
    clock.sleeps.clear()
    clock.steps = [lambda: None, _released(arn)]  # still in use after the first pause, released after the second
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(zone_id, state="absent", wait_timeout=60, poll_interval=10))

    assert result["changed"] is True and result["done"] is True, result
    assert clock.sleeps == [10, 10]
    assert _certificates() == [] and _records(zone_id) == {}
    assert result["events"][0] == "waiting for %s to be released (in use by %s) for 0s" % (arn, ALB)
    assert "deleted certificate %s" % arn in result["events"]
    writes = [call.operation for call in aws_calls.writes()]
    assert writes == ["DeleteCertificate", "ChangeResourceRecordSets"]


def test_absent_fails_naming_the_user_when_it_is_not_released_in_time(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    zone_id = _zone()
    clock.steps = [_age_newest]
    arn = run_module(module_under_test.main, _args(zone_id))["certificate"]["arn"]
    _in_use(arn, ALB)
    clock.sleeps.clear()
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(zone_id, state="absent", wait_timeout=30, poll_interval=10))

    assert result["failed"] is True
    assert result["msg"].startswith("Cannot delete %s: still in use by %s after wait_timeout=30s." % (arn, ALB)), (
        result["msg"]
    )
    assert clock.sleeps == [10, 10, 10]
    assert aws_calls.writes() == []
    assert len(_certificates()) == 1 and len(_records(zone_id)) == 2


def test_absent_without_wait_reports_the_certificate_in_use_and_is_not_done(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    """What the live-progress action plugin polls: done=false and the users, nothing changed."""
    zone_id = _zone()
    clock.steps = [_age_newest]
    arn = run_module(module_under_test.main, _args(zone_id))["certificate"]["arn"]
    _in_use(arn, ALB)
    clock.sleeps.clear()
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(zone_id, state="absent", wait=False))

    assert result.get("failed") is not True and result["done"] is False and result["changed"] is False, result
    assert result["progress"] == "waiting for %s to be released (in use by %s) for 0s" % (arn, ALB)
    assert clock.sleeps == [] and aws_calls.writes() == []

    _bundle(arn).in_use_by = []
    again = run_module(module_under_test.main, _args(zone_id, state="absent", wait=False))
    assert again["done"] is True and again["changed"] is True and _certificates() == []


def test_absent_in_check_mode_warns_about_a_certificate_in_use(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    zone_id = _zone()
    clock.steps = [_age_newest]
    arn = run_module(module_under_test.main, _args(zone_id))["certificate"]["arn"]
    _in_use(arn, ALB)
    clock.sleeps.clear()
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(zone_id, state="absent"), check_mode=True)

    assert result["changed"] is True and clock.sleeps == [] and aws_calls.writes() == []
    assert "would delete certificate %s" % arn in result["events"]


# ------------------------------------------------------------------------------------------ Stubber sequences


ARN = "arn:aws:acm:%s:%s:certificate/0b1c2d3e-aaaa-bbbb-cccc-0123456789ab" % (REGION, ACCOUNT)
STUB_ZONE = "Z0123456789ABCDEFGHIJ"


class Stubs:
    """One Stubber per service, attached to the first client of that service the module creates."""

    def __init__(self) -> None:
        self.queued: dict[str, list[tuple[str, dict, dict | None, str | None]]] = {}
        self.stubbers: list[Stubber] = []

    def add(self, service: str, method: str, response: dict, expected: dict | None = None) -> None:
        self.queued.setdefault(service, []).append((method, response, expected, None))

    def add_error(self, service: str, method: str, code: str, expected: dict | None = None) -> None:
        self.queued.setdefault(service, []).append((method, {}, expected, code))

    def attach(self, service: str, client: Any) -> None:
        items = self.queued.pop(service, None)
        if items is None:
            return
        stubber = Stubber(client)
        for method, response, expected, code in items:
            if code:
                stubber.add_client_error(
                    method,
                    service_error_code=code,
                    service_message=code,
                    http_status_code=400,
                    expected_params=expected,
                )
            else:
                stubber.add_response(method, response, expected)
        stubber.activate()
        self.stubbers.append(stubber)

    def assert_done(self) -> None:
        assert not self.queued, "no client of %s was created" % sorted(self.queued)
        for stubber in self.stubbers:
            stubber.assert_no_pending_responses()


@pytest.fixture
def stubs(aws_env, monkeypatch) -> Stubs:  # pylint: disable=unused-argument
    queued = Stubs()
    original = boto3.session.Session.client

    def _client(self: boto3.session.Session, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        queued.attach(client.meta.service_model.service_name, client)
        return client

    monkeypatch.setattr(boto3.session.Session, "client", _client)
    return queued


def _described(status: str, validated: int = 0, **extra: Any) -> dict:
    names = ["app.example.com", "www.example.com"]
    options = []
    for index, name in enumerate(names):
        options.append(
            {
                "DomainName": name,
                "ValidationDomain": name,
                "ValidationMethod": "DNS",
                "ValidationStatus": "SUCCESS"
                if index < validated
                else ("FAILED" if status == "FAILED" else "PENDING_VALIDATION"),
                "ResourceRecord": {
                    "Name": "_%d.%s." % (index, name),
                    "Type": "CNAME",
                    "Value": "_v%d.acm-validations.aws." % index,
                },
            }
        )
    certificate = {
        "CertificateArn": ARN,
        "DomainName": "app.example.com",
        "SubjectAlternativeNames": names,
        "Status": status,
        "Type": "AMAZON_ISSUED",
        "KeyAlgorithm": "RSA_2048",
        "DomainValidationOptions": options,
        "InUseBy": [],
    }
    certificate.update(extra)
    return {"Certificate": certificate}


def _queue_request_sequence(stubs: Stubs) -> None:
    """Zone by id, nothing found, request, records published, records written."""
    stubs.add(
        "route53",
        "get_hosted_zone",
        {
            "HostedZone": {
                "Id": "/hostedzone/" + STUB_ZONE,
                "Name": "example.com.",
                "CallerReference": "ref",
                "Config": {"PrivateZone": False},
            },
            "DelegationSet": {"NameServers": ["ns-1.awsdns-01.org"]},
        },
        {"Id": STUB_ZONE},
    )
    stubs.add("acm", "list_certificates", {"CertificateSummaryList": []}, {"Includes": {"keyTypes": ["RSA_2048"]}})
    stubs.add(
        "acm",
        "request_certificate",
        {"CertificateArn": ARN},
        {
            "DomainName": "app.example.com",
            "ValidationMethod": "DNS",
            "IdempotencyToken": ANY,
            "KeyAlgorithm": "RSA_2048",
            "SubjectAlternativeNames": ["app.example.com", "www.example.com"],
            "Tags": ANY,
        },
    )
    # ACM publishes the records a moment after the request: the first read has none.
    stubs.add(
        "acm",
        "describe_certificate",
        {
            "Certificate": dict(
                _described("PENDING_VALIDATION")["Certificate"],
                DomainValidationOptions=[
                    {
                        "DomainName": "app.example.com",
                        "ValidationStatus": "PENDING_VALIDATION",
                        "ValidationMethod": "DNS",
                    },
                    {
                        "DomainName": "www.example.com",
                        "ValidationStatus": "PENDING_VALIDATION",
                        "ValidationMethod": "DNS",
                    },
                ],
            )
        },
        {"CertificateArn": ARN},
    )
    stubs.add("acm", "describe_certificate", _described("PENDING_VALIDATION"), {"CertificateArn": ARN})
    for index, name in enumerate(["app.example.com", "www.example.com"]):
        record = "_%d.%s." % (index, name)
        stubs.add(
            "route53",
            "list_resource_record_sets",
            {"ResourceRecordSets": [], "IsTruncated": False, "MaxItems": "1"},
            {
                "HostedZoneId": STUB_ZONE,
                "StartRecordName": record,
                "StartRecordType": "CNAME",
                "MaxItems": "1",
            },
        )
    stubs.add(
        "route53",
        "change_resource_record_sets",
        {
            "ChangeInfo": {"Id": "/change/C1", "Status": "PENDING", "SubmittedAt": datetime.datetime(2026, 1, 1)},
        },
        {"HostedZoneId": STUB_ZONE, "ChangeBatch": ANY},
    )


def test_a_certificate_that_never_validates_times_out_with_a_clear_message(stubs, run_module, clock):
    _queue_request_sequence(stubs)
    # wait_timeout=30, poll_interval=10: the records poll took 2 s, then 3 polls (at 12, 22, 30 s)
    stubs.add("acm", "describe_certificate", _described("PENDING_VALIDATION", validated=1), {"CertificateArn": ARN})
    stubs.add("acm", "describe_certificate", _described("PENDING_VALIDATION", validated=1), {"CertificateArn": ARN})
    stubs.add("acm", "describe_certificate", _described("PENDING_VALIDATION", validated=1), {"CertificateArn": ARN})

    result = run_module(module_under_test.main, _args(STUB_ZONE, wait_timeout=30))

    stubs.assert_done()
    assert result["failed"] is True
    assert result["msg"].startswith(
        "Certificate %s not issued within wait_timeout=30s (certificate PENDING_VALIDATION: 1 of 2 names validated): "
        "check that the zone example.com (%s) is the domain's authoritative zone (NS delegation" % (ARN, STUB_ZONE)
    ), result["msg"]
    assert result["done"] is False
    assert result["changed"] is True
    assert result["progress"] == "certificate PENDING_VALIDATION: 1 of 2 names validated"
    assert "app.example.com: validation SUCCESS" in result["events"]
    assert clock.sleeps == [2.0, 10, 10, 8.0]


def test_a_certificate_that_fails_while_waiting_reports_the_reason(stubs, run_module, clock):  # pylint: disable=unused-argument
    _queue_request_sequence(stubs)
    stubs.add("acm", "describe_certificate", _described("FAILED", FailureReason="CAA_ERROR"), {"CertificateArn": ARN})

    result = run_module(module_under_test.main, _args(STUB_ZONE))

    stubs.assert_done()
    assert result["failed"] is True
    assert result["msg"].startswith("Certificate %s for app.example.com FAILED: CAA_ERROR. A CAA record" % ARN), result[
        "msg"
    ]
    assert result["done"] is True
    assert result["certificate"]["failure_reason"] == "CAA_ERROR"
    assert result["progress"] == "certificate FAILED: 0 of 2 names validated (CAA_ERROR)"


def _queue_absent_reads(stubs: Stubs) -> None:
    """Zone by id, the certificate found (not in use), no other certificate shares its records, both records in the zone."""
    stubs.add(
        "route53",
        "get_hosted_zone",
        {
            "HostedZone": {
                "Id": "/hostedzone/" + STUB_ZONE,
                "Name": "example.com.",
                "CallerReference": "ref",
                "Config": {"PrivateZone": False},
            },
            "DelegationSet": {"NameServers": ["ns-1.awsdns-01.org"]},
        },
        {"Id": STUB_ZONE},
    )
    summary = {"CertificateSummaryList": [{"CertificateArn": ARN, "DomainName": "app.example.com"}]}
    stubs.add("acm", "list_certificates", summary, {"Includes": {"keyTypes": ["RSA_2048"]}})
    stubs.add("acm", "describe_certificate", _described("ISSUED", validated=2), {"CertificateArn": ARN})
    stubs.add(
        "acm",
        "list_tags_for_certificate",
        {"Tags": [{"Key": key, "Value": value} for key, value in TAGS.items()]},
        {"CertificateArn": ARN},
    )
    stubs.add("acm", "list_certificates", summary, {"Includes": {"keyTypes": ANY}})
    for index, name in enumerate(["app.example.com", "www.example.com"]):
        record = "_%d.%s." % (index, name)
        stubs.add(
            "route53",
            "list_resource_record_sets",
            {
                "ResourceRecordSets": [
                    {
                        "Name": record,
                        "Type": "CNAME",
                        "TTL": 300,
                        "ResourceRecords": [{"Value": "_v%d.acm-validations.aws." % index}],
                    },
                ],
                "IsTruncated": False,
                "MaxItems": "1",
            },
            {
                "HostedZoneId": STUB_ZONE,
                "StartRecordName": record,
                "StartRecordType": "CNAME",
                "MaxItems": "1",
            },
        )


def test_absent_retries_a_delete_acm_refuses_as_in_use(stubs, run_module, clock):
    """InUseBy can be empty while DeleteCertificate still answers ResourceInUseException (ACM's association lags): the
    module waits and retries instead of crashing on an unhandled botocore error."""
    _queue_absent_reads(stubs)
    stubs.add_error("acm", "delete_certificate", "ResourceInUseException", {"CertificateArn": ARN})
    stubs.add("acm", "describe_certificate", _described("ISSUED", validated=2, InUseBy=[ALB]), {"CertificateArn": ARN})
    stubs.add_error("acm", "delete_certificate", "ResourceInUseException", {"CertificateArn": ARN})
    stubs.add("acm", "describe_certificate", _described("ISSUED", validated=2, InUseBy=[ALB]), {"CertificateArn": ARN})
    stubs.add("acm", "delete_certificate", {}, {"CertificateArn": ARN})
    stubs.add(
        "route53",
        "change_resource_record_sets",
        {
            "ChangeInfo": {"Id": "/change/C2", "Status": "PENDING", "SubmittedAt": datetime.datetime(2026, 1, 1)},
        },
        {"HostedZoneId": STUB_ZONE, "ChangeBatch": ANY},
    )

    result = run_module(module_under_test.main, _args(STUB_ZONE, state="absent", wait_timeout=60, poll_interval=5))

    stubs.assert_done()
    assert result.get("failed") is not True, result
    assert result["done"] is True and result["changed"] is True
    assert clock.sleeps == [5, 5]
    assert "waiting for %s to be released (in use by %s) for 0s" % (ARN, ALB) in result["events"]
    assert "deleted certificate %s" % ARN in result["events"]


def test_absent_names_the_user_when_acm_refuses_the_delete_until_the_timeout(stubs, run_module, clock):
    _queue_absent_reads(stubs)
    for _attempt in range(3):  # at 0, 10 and 20 s; the timeout (20 s) is reached after the third
        stubs.add_error("acm", "delete_certificate", "ResourceInUseException", {"CertificateArn": ARN})
        stubs.add(
            "acm", "describe_certificate", _described("ISSUED", validated=2, InUseBy=[ALB]), {"CertificateArn": ARN}
        )

    result = run_module(module_under_test.main, _args(STUB_ZONE, state="absent", wait_timeout=20, poll_interval=10))

    stubs.assert_done()
    assert result["failed"] is True
    assert result["msg"].startswith("Cannot delete %s: still in use by %s after wait_timeout=20s." % (ARN, ALB)), (
        result["msg"]
    )
    assert clock.sleeps == [10, 10]
