# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils.route53_records: one region's latency alias records, compared as Route 53 lists them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.module_utils.route53_records import comparable
from ansible_collections.megapool.aws.plugins.module_utils.route53_records import dns_name
from ansible_collections.megapool.aws.plugins.module_utils.route53_records import find_record
from ansible_collections.megapool.aws.plugins.module_utils.route53_records import more_of_the_name
from ansible_collections.megapool.aws.plugins.module_utils.route53_records import plan_records
from ansible_collections.megapool.aws.plugins.module_utils.route53_records import record_errors
from ansible_collections.megapool.aws.plugins.module_utils.route53_records import wanted_record

ALB = "megapool-prod-123.eu-north-1.elb.amazonaws.com"


def record(name="app.example.com", region="eu-north-1", health_check=None, **alias):
    return wanted_record(
        name,
        "A",
        region,
        region,
        alias.get("dns", ALB),
        alias.get("zone", "Z23TAZ7KFE6MEJ"),
        alias.get("evaluate", True),
        health_check,
    )


def listed(name="app.example.com", **changes):
    """The record as ListResourceRecordSets returns it (trailing dots, maybe upper-case alias name)."""
    found = record(name)
    found["AliasTarget"] = dict(found["AliasTarget"], DNSName=ALB.upper() + ".")
    found.update(changes)
    return found


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("App.Example.com", "app.example.com."),
        ("app.example.com.", "app.example.com."),
        ("\\052.example.com.", "*.example.com."),
        ("", "."),
    ],
)
def test_dns_name(given, expected):
    assert dns_name(given) == expected


def test_the_wanted_record():
    assert record(health_check="hc-1") == {
        "Name": "app.example.com.",
        "Type": "A",
        "SetIdentifier": "eu-north-1",
        "Region": "eu-north-1",
        "AliasTarget": {"HostedZoneId": "Z23TAZ7KFE6MEJ", "DNSName": ALB + ".", "EvaluateTargetHealth": True},
        "HealthCheckId": "hc-1",
    }


def test_a_matching_record_is_not_written():
    plan = plan_records({"app.example.com.": listed()}, [record()])
    assert not plan.changed and plan.before == plan.after


@pytest.mark.parametrize(
    ("found", "why"),
    [
        (None, "missing"),
        (
            listed(
                AliasTarget={
                    "HostedZoneId": "Z23TAZ7KFE6MEJ",
                    "DNSName": "other-lb.eu-north-1.elb.amazonaws.com.",
                    "EvaluateTargetHealth": True,
                }
            ),
            "another load balancer",
        ),
        (
            listed(AliasTarget={"HostedZoneId": "Z23TAZ7KFE6MEJ", "DNSName": ALB + ".", "EvaluateTargetHealth": False}),
            "target health not evaluated",
        ),
        (listed(HealthCheckId="hc-old"), "a health check the role does not want"),
        (listed(Region="us-east-1"), "another latency region"),
        (dict(listed(), AliasTarget=None, TTL=60, ResourceRecords=[{"Value": "192.0.2.1"}]), "a plain A record"),
    ],
)
def test_a_missing_or_different_record_is_upserted(found, why):
    plan = plan_records({"app.example.com.": found}, [record()])
    assert plan.upserts == (record(),), why


def test_only_the_names_that_differ_are_upserted_in_order():
    wanted = [record("example.com"), record("app.example.com"), record("www.example.com")]
    plan = plan_records({"example.com.": None, "app.example.com.": listed(), "www.example.com.": None}, wanted)
    assert [r["Name"] for r in plan.upserts] == ["example.com.", "www.example.com."]
    assert set(plan.before) == {"app.example.com."}
    assert set(plan.after) == {"example.com.", "app.example.com.", "www.example.com."}


def test_find_record_takes_this_regions_record_of_the_name_and_type_only():
    page = [
        listed("app.example.com", SetIdentifier="ap-southeast-1", Region="ap-southeast-1"),
        dict(listed(), Type="AAAA"),
        listed("app.example.com"),
        listed("www.example.com"),
    ]
    assert find_record(page, "APP.example.com", "A", "eu-north-1") == page[2]
    assert find_record(page, "other.example.com", "A", "eu-north-1") is None


@pytest.mark.parametrize(
    ("page", "more"),
    [
        (
            {
                "IsTruncated": True,
                "NextRecordName": "app.example.com.",
                "NextRecordType": "A",
                "NextRecordIdentifier": "x",
            },
            True,
        ),
        ({"IsTruncated": True, "NextRecordName": "b.example.com.", "NextRecordType": "A"}, False),
        ({"IsTruncated": True, "NextRecordName": "app.example.com.", "NextRecordType": "TXT"}, False),
        ({"IsTruncated": False}, False),
    ],
)
def test_more_of_the_name(page, more):
    assert more_of_the_name(page, "app.example.com", "A") is more


def test_record_errors():
    assert record_errors(["a.example.com", "A.example.com."], "", "") == [
        "names: A.example.com. is listed twice: list each name once",
        "identifier: a latency record needs a set identifier (e.g. the region)",
        "latency_region: a latency record needs the AWS region of the resource it points to",
    ]
    assert record_errors(["a.example.com", "b.example.com"], "eu-north-1", "eu-north-1") == []


@given(st.lists(st.sampled_from(["a", "b", "www", "api"]), unique=True, min_size=1), st.booleans())
def test_what_is_upserted_reads_back_as_no_change(labels, evaluate):
    """Property: the records a plan writes, listed back the way Route 53 lists them, plan no change."""
    wanted = [record(label + ".example.com", evaluate=evaluate) for label in labels]
    plan = plan_records({}, wanted)
    read_back = {r["Name"]: dict(r, Name=r["Name"].upper()) for r in plan.upserts}
    assert not plan_records(read_back, wanted).changed
    assert comparable(None) == {}
