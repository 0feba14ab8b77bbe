# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.elbv2_attributes against moto in-process (a load balancer and a target group)."""

from __future__ import annotations

from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from ansible_collections.megapool.aws.plugins.modules import elbv2_attributes as module_under_test

REGION = "eu-north-1"
LB = "megapool-test"
TG = "megapool-test-app"
LB_WANTED = {
    "idle_timeout.timeout_seconds": 240,
    "routing.http.drop_invalid_header_fields.enabled": True,
    "deletion_protection.enabled": False,
}
LB_WANTED_AWS = {
    "deletion_protection.enabled": "false",
    "idle_timeout.timeout_seconds": "240",
    "routing.http.drop_invalid_header_fields.enabled": "true",
}
STICKY = {"stickiness.enabled": True, "stickiness.type": "lb_cookie", "stickiness.lb_cookie.duration_seconds": 3600}


@pytest.fixture
def elb(aws_env):  # pylint: disable=unused-argument
    """A load balancer and a target group: SimpleNamespace(client, lb_arn, tg_arn)."""
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % index, AvailabilityZone=REGION + zone)["Subnet"][
                "SubnetId"
            ]
            for index, zone in enumerate("ab")
        ]
        client = boto3.client("elbv2", region_name=REGION)
        lb_arn = client.create_load_balancer(Name=LB, Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        tg_arn = client.create_target_group(Name=TG, Protocol="HTTP", Port=4000, VpcId=vpc, TargetType="ip")[
            "TargetGroups"
        ][0]["TargetGroupArn"]
        yield SimpleNamespace(client=client, lb_arn=lb_arn, tg_arn=tg_arn)


def _lb_attributes(elb) -> dict[str, str]:
    return {
        item["Key"]: item["Value"]
        for item in elb.client.describe_load_balancer_attributes(LoadBalancerArn=elb.lb_arn)["Attributes"]
    }


def _tg_attributes(elb) -> dict[str, str]:
    return {
        item["Key"]: item["Value"]
        for item in elb.client.describe_target_group_attributes(TargetGroupArn=elb.tg_arn)["Attributes"]
    }


def _run(run_module, check_mode=False, **args):
    return run_module(module_under_test.main, dict({"region": REGION}, **args), check_mode=check_mode, diff=True)


def test_load_balancer_attributes_are_set_once_then_idempotent(elb, run_module, aws_calls):
    aws_calls.clear()
    first = _run(run_module, load_balancer_name=LB, attributes=LB_WANTED)

    assert first["changed"] is True
    modify = aws_calls.of("ModifyLoadBalancerAttributes")
    assert [call.operation for call in aws_calls.writes()] == ["ModifyLoadBalancerAttributes"]
    # Only what differs: deletion protection is already off.
    assert modify[0].params["Attributes"] == [
        {"Key": "idle_timeout.timeout_seconds", "Value": "240"},
        {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
    ]
    assert first["changed_attributes"] == {
        "idle_timeout.timeout_seconds": "240",
        "routing.http.drop_invalid_header_fields.enabled": "true",
    }
    assert first["arn"] == elb.lb_arn
    actual = _lb_attributes(elb)
    assert {key: actual[key] for key in LB_WANTED_AWS} == LB_WANTED_AWS
    assert first["attributes"] == actual
    assert first["diff"]["after"] == LB_WANTED_AWS
    assert first["diff"]["before"]["deletion_protection.enabled"] == "false"
    assert first["diff"]["before"].get("idle_timeout.timeout_seconds") != "240"

    aws_calls.clear()
    again = _run(run_module, load_balancer_name=LB, attributes=LB_WANTED)
    assert again["changed"] is False and again["changed_attributes"] == {}
    assert aws_calls.operations() == ["DescribeLoadBalancers", "DescribeLoadBalancerAttributes"]
    assert again["attributes"] == first["attributes"]
    assert again["diff"] == {"before": LB_WANTED_AWS, "after": LB_WANTED_AWS}


def test_by_arn_reads_the_attributes_once(elb, run_module, aws_calls):
    aws_calls.clear()
    result = _run(run_module, load_balancer_arn=elb.lb_arn, attributes={"deletion_protection.enabled": True})
    assert result["changed"] is True
    assert aws_calls.operations() == ["DescribeLoadBalancerAttributes", "ModifyLoadBalancerAttributes"]
    assert _lb_attributes(elb)["deletion_protection.enabled"] == "true"
    aws_calls.clear()
    result = _run(run_module, load_balancer_arn=elb.lb_arn, attributes={"deletion_protection.enabled": False})
    assert result["changed"] is True and result["diff"] == {
        "before": {"deletion_protection.enabled": "true"},
        "after": {"deletion_protection.enabled": "false"},
    }
    assert _lb_attributes(elb)["deletion_protection.enabled"] == "false"


def test_check_mode_predicts_the_real_run_and_writes_nothing(elb, run_module, aws_calls):
    before = _lb_attributes(elb)
    aws_calls.clear()
    checked = _run(run_module, check_mode=True, load_balancer_name=LB, attributes=LB_WANTED)
    assert checked["changed"] is True
    assert aws_calls.writes() == []
    assert _lb_attributes(elb) == before
    applied = _run(run_module, load_balancer_name=LB, attributes=LB_WANTED)
    assert applied["diff"] == checked["diff"]
    assert applied["attributes"] == checked["attributes"]
    assert applied["changed_attributes"] == checked["changed_attributes"]


def test_target_group_stickiness_on_then_off_again(elb, run_module, aws_calls):
    aws_calls.clear()
    on = _run(run_module, target_group_name=TG, attributes=STICKY)
    assert on["changed"] is True and on["arn"] == elb.tg_arn
    assert [call.operation for call in aws_calls.writes()] == ["ModifyTargetGroupAttributes"]
    assert _tg_attributes(elb)["stickiness.enabled"] == "true"
    assert _tg_attributes(elb)["stickiness.lb_cookie.duration_seconds"] == "3600"

    aws_calls.clear()
    off = _run(run_module, target_group_name=TG, attributes=dict(STICKY, **{"stickiness.enabled": False}))
    assert off["changed"] is True
    assert aws_calls.of("ModifyTargetGroupAttributes")[0].params["Attributes"] == [
        {"Key": "stickiness.enabled", "Value": "false"}
    ]
    assert _tg_attributes(elb)["stickiness.enabled"] == "false"
    assert (
        off["diff"]["before"]["stickiness.enabled"] == "true" and off["diff"]["after"]["stickiness.enabled"] == "false"
    )
    # The answer of the write holds only the written attribute here (moto): the result still has them all.
    assert off["attributes"] == _tg_attributes(elb)

    aws_calls.clear()
    assert (
        _run(run_module, target_group_arn=elb.tg_arn, attributes=dict(STICKY, **{"stickiness.enabled": False}))[
            "changed"
        ]
        is False
    )
    assert aws_calls.writes() == [] and aws_calls.operations() == ["DescribeTargetGroupAttributes"]


def test_target_group_check_mode_writes_nothing(elb, run_module, aws_calls):
    before = _tg_attributes(elb)
    aws_calls.clear()
    checked = _run(
        run_module, check_mode=True, target_group_name=TG, attributes={"deregistration_delay.timeout_seconds": 30}
    )
    assert checked["changed"] is True and checked["changed_attributes"] == {
        "deregistration_delay.timeout_seconds": "30"
    }
    assert checked["diff"]["after"] == {"deregistration_delay.timeout_seconds": "30"}
    assert aws_calls.writes() == []
    assert _tg_attributes(elb) == before


@pytest.mark.parametrize(
    "option, value, label, creator",
    [
        ("load_balancer_name", "nope", "load balancer nope (load_balancer_name)", "amazon.aws.elb_application_lb"),
        ("target_group_name", "nope", "target group nope (target_group_name)", "community.aws.elb_target_group"),
        (
            "load_balancer_arn",
            "arn:aws:elasticloadbalancing:eu-north-1:123456789012:loadbalancer/app/nope/0123456789abcdef",
            "load balancer arn:aws:elasticloadbalancing:eu-north-1:123456789012:loadbalancer/app/nope/0123456789abcdef (load_balancer_arn)",
            "amazon.aws.elb_application_lb",
        ),
        (
            "target_group_arn",
            "arn:aws:elasticloadbalancing:eu-north-1:123456789012:targetgroup/nope/0123456789abcdef",
            "target group arn:aws:elasticloadbalancing:eu-north-1:123456789012:targetgroup/nope/0123456789abcdef (target_group_arn)",
            "community.aws.elb_target_group",
        ),
    ],
)
def test_a_missing_resource_fails_naming_the_option_and_warns_in_check_mode(  # pylint: disable=unused-argument
    elb, run_module, aws_calls, option, value, label, creator
):
    aws_calls.clear()
    failed = _run(run_module, **{option: value, "attributes": {"deletion_protection.enabled": True}})
    assert failed["failed"] is True
    assert failed["msg"] == "%s does not exist in eu-north-1: create it first (%s), then set its attributes." % (
        label,
        creator,
    )
    assert aws_calls.writes() == []

    checked = _run(run_module, check_mode=True, **{option: value, "attributes": {"deletion_protection.enabled": True}})
    assert checked["changed"] is True and checked["arn"] is None and checked["attributes"] == {}
    assert checked["diff"] == {"before": {}, "after": {"deletion_protection.enabled": "true"}}
    assert checked["warnings"] == [
        "%s does not exist in eu-north-1: check mode assumes an earlier task creates it; its attributes would be set."
        % label
    ]
    assert aws_calls.writes() == []


def test_an_unknown_key_fails_with_the_aws_error(elb, run_module):
    before = _lb_attributes(elb)
    result = _run(
        run_module, load_balancer_name=LB, attributes={"no.such.key": "1", "idle_timeout.timeout_seconds": 120}
    )
    assert result["failed"] is True
    assert result["msg"].startswith("Failed to modify the load balancer attributes")
    assert "no.such.key" in result["msg"]
    assert _lb_attributes(elb) == before


def test_a_null_value_fails_before_any_call(elb, run_module, aws_calls):  # pylint: disable=unused-argument
    aws_calls.clear()
    result = _run(run_module, load_balancer_name=LB, attributes={"idle_timeout.timeout_seconds": None})
    assert result["failed"] is True
    assert result["msg"].startswith("attributes.idle_timeout.timeout_seconds is null")
    assert aws_calls == []


@pytest.mark.parametrize(
    "args, text",
    [
        ({"load_balancer_name": LB, "target_group_name": TG}, "mutually exclusive"),
        ({}, "one of the following is required"),
        ({"load_balancer_name": ""}, "load_balancer_name is empty: name the load balancer or target group"),
    ],
)
def test_exactly_one_resource_option(elb, run_module, aws_calls, args, text):  # pylint: disable=unused-argument
    aws_calls.clear()
    result = _run(run_module, attributes={"deletion_protection.enabled": True}, **args)
    assert result["failed"] is True and text in result["msg"]
    assert aws_calls == []
