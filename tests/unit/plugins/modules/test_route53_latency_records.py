# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.route53_latency_records against moto in-process: one read per name, one change batch."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ansible_collections.megapool.aws.plugins.modules import route53_latency_records as module_under_test

NAMES = ["app.example.com", "example.com", "www.example.com"]
ALB = "megapool-prod-123.eu-north-1.elb.amazonaws.com"


@pytest.fixture
def zone(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        client = boto3.client("route53", region_name="us-east-1")
        zone_id = client.create_hosted_zone(Name="example.com", CallerReference="t")["HostedZone"]["Id"].split("/")[-1]
        yield client, zone_id


def _run(run_module, zone_id, check_mode=False, region="eu-north-1", alb=ALB, **args):
    return run_module(
        module_under_test.main,
        dict(
            {
                "region": "eu-north-1",
                "hosted_zone_id": zone_id,
                "names": NAMES,
                "identifier": region,
                "latency_region": region,
                "alias_dns_name": alb,
                "alias_hosted_zone_id": "Z23TAZ7KFE6MEJ",
            },
            **args,
        ),
        check_mode=check_mode,
        diff=True,
    )


def _records(client, zone_id):
    return sorted(
        (r["Name"], r.get("SetIdentifier"), r.get("AliasTarget", {}).get("DNSName"), r.get("HealthCheckId"))
        for r in client.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        if r["Type"] == "A"
    )


def test_one_batch_then_a_no_op_writes_nothing(zone, run_module, aws_calls):
    client, zone_id = zone
    aws_calls.clear()
    first = _run(run_module, zone_id)
    assert first["changed"] is True and first["written"] == ["app.example.com.", "example.com.", "www.example.com."]
    assert [call.operation for call in aws_calls.writes()] == ["ChangeResourceRecordSets"]
    assert [record[0] for record in _records(client, zone_id)] == [
        "app.example.com.",
        "example.com.",
        "www.example.com.",
    ]

    aws_calls.clear()
    again = _run(run_module, zone_id)
    assert again["changed"] is False and again["written"] == [] and again["change_id"] is None
    assert aws_calls.writes() == []
    assert aws_calls.operations() == ["ListResourceRecordSets"] * 3
    assert again["diff"]["before"] == again["diff"]["after"]


def test_another_regions_records_stay_and_only_what_differs_is_upserted(zone, run_module, aws_calls):
    client, zone_id = zone
    _run(run_module, zone_id)
    other = _run(run_module, zone_id, region="ap-southeast-1", alb="megapool-prod-9.ap-southeast-1.elb.amazonaws.com")
    assert other["changed"] is True and len(_records(client, zone_id)) == 6
    assert _run(run_module, zone_id)["changed"] is False

    aws_calls.clear()
    moved = _run(run_module, zone_id, alb="megapool-prod-456.eu-north-1.elb.amazonaws.com", names=NAMES[:1])
    assert moved["written"] == ["app.example.com."]
    assert [call.operation for call in aws_calls.writes()] == ["ChangeResourceRecordSets"]
    assert (
        "app.example.com.",
        "ap-southeast-1",
        "megapool-prod-9.ap-southeast-1.elb.amazonaws.com.",
        None,
    ) in _records(client, zone_id)
    assert ("app.example.com.", "eu-north-1", "megapool-prod-456.eu-north-1.elb.amazonaws.com.", None) in _records(
        client, zone_id
    )


def test_check_mode_predicts_and_writes_nothing(zone, run_module, aws_calls):
    client, zone_id = zone
    _run(run_module, zone_id, names=NAMES[:1])
    aws_calls.clear()
    checked = _run(run_module, zone_id, check_mode=True)
    assert checked["written"] == ["example.com.", "www.example.com."] and aws_calls.writes() == []
    assert len(_records(client, zone_id)) == 1
    real = _run(run_module, zone_id)
    assert (real["changed"], real["written"], real["records"]) == (
        checked["changed"],
        checked["written"],
        checked["records"],
    )


def test_bad_input_fails_before_any_call(zone, run_module, aws_calls):
    zone_id = zone[1]
    aws_calls.clear()
    result = _run(run_module, zone_id, names=["a.example.com", "A.example.com"])
    assert result["failed"] is True and "names: A.example.com is listed twice: list each name once" in result["msg"]
    assert aws_calls.operations() == []
