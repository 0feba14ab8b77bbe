# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.cloudwatch_metric_alarms against moto in-process: one read, writes only for what differs."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ansible_collections.megapool.aws.plugins.modules import cloudwatch_metric_alarms as module_under_test

REGION = "eu-north-1"


def alarm(name, **changes):
    return dict(
        {
            "name": name,
            "namespace": "AWS/ECS",
            "metric_name": "CPUUtilization",
            "dimensions": {"ClusterName": "m-prod"},
            "statistic": "Average",
            "comparison": "GreaterThanThreshold",
            "threshold": 80,
            "period": 300,
            "evaluation_periods": 3,
            "unit": "Percent",
            "description": name + " above 80 %",
        },
        **changes,
    )


ALARMS = [
    alarm("m-prod-ecs-cpu-high"),
    alarm("m-prod-ecs-memory-high", metric_name="MemoryUtilization"),
    alarm(
        "m-prod-ecs-capacity-short",
        namespace="AWS/ECS/ManagedScaling",
        metric_name="CapacityProviderReservation",
        dimensions={"ClusterName": "m-prod", "CapacityProviderName": "m-prod-app"},
        threshold=100,
    ),
]


@pytest.fixture
def cloudwatch(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        yield boto3.client("cloudwatch", region_name=REGION)


def _names(client):
    return sorted(a["AlarmName"] for a in client.describe_alarms()["MetricAlarms"])


def _run(run_module, check_mode=False, **args):
    return run_module(module_under_test.main, dict({"region": REGION}, **args), check_mode=check_mode, diff=True)


def test_creates_the_set_then_a_no_op_is_one_read(cloudwatch, run_module, aws_calls):
    cloudwatch.put_metric_alarm(
        AlarmName="m-prod-ecs-memory-reservation-full",
        Namespace="AWS/ECS",
        MetricName="x",
        Statistic="Average",
        ComparisonOperator="GreaterThanThreshold",
        Threshold=1.0,
        Period=60,
        EvaluationPeriods=1,
    )
    aws_calls.clear()
    first = _run(run_module, alarms=ALARMS, absent=["m-prod-ecs-memory-reservation-full", "never-made"])
    assert first["changed"] is True
    assert first["written"] == ["m-prod-ecs-cpu-high", "m-prod-ecs-memory-high", "m-prod-ecs-capacity-short"]
    assert first["deleted"] == ["m-prod-ecs-memory-reservation-full"]
    assert [call.operation for call in aws_calls.writes()] == ["PutMetricAlarm"] * 3 + ["DeleteAlarms"]
    assert _names(cloudwatch) == sorted(a["name"] for a in ALARMS)
    assert set(first["diff"]["before"]) == {"m-prod-ecs-memory-reservation-full"}

    aws_calls.clear()
    again = _run(run_module, alarms=ALARMS, absent=["m-prod-ecs-memory-reservation-full", "never-made"])
    assert again["changed"] is False and again["written"] == [] and again["deleted"] == []
    assert aws_calls.operations() == ["DescribeAlarms"]
    assert again["diff"]["before"] == again["diff"]["after"] == first["alarms"]


def test_only_the_alarm_that_differs_is_written(cloudwatch, run_module, aws_calls):
    _run(run_module, alarms=ALARMS)
    aws_calls.clear()
    result = _run(run_module, alarms=[ALARMS[0], dict(ALARMS[1], threshold=90), ALARMS[2]])
    assert result["written"] == ["m-prod-ecs-memory-high"]
    assert [call.operation for call in aws_calls.writes()] == ["PutMetricAlarm"]
    found = cloudwatch.describe_alarms(AlarmNames=["m-prod-ecs-memory-high"])["MetricAlarms"][0]
    assert found["Threshold"] == 90.0


def test_check_mode_predicts_and_writes_nothing(cloudwatch, run_module, aws_calls):
    _run(run_module, alarms=ALARMS[:1])
    aws_calls.clear()
    checked = _run(run_module, check_mode=True, alarms=ALARMS, absent=["m-prod-ecs-cpu-high-old"])
    assert checked["changed"] is True and aws_calls.writes() == []
    assert checked["written"] == ["m-prod-ecs-memory-high", "m-prod-ecs-capacity-short"]
    assert _names(cloudwatch) == ["m-prod-ecs-cpu-high"]
    real = _run(run_module, alarms=ALARMS, absent=["m-prod-ecs-cpu-high-old"])
    assert (real["changed"], real["written"], real["alarms"]) == (
        checked["changed"],
        checked["written"],
        checked["alarms"],
    )


def test_absent_only_deletes_what_exists_in_one_call(cloudwatch, run_module, aws_calls):
    _run(run_module, alarms=ALARMS)
    aws_calls.clear()
    result = _run(run_module, absent=[a["name"] for a in ALARMS] + ["never-made"])
    assert result["changed"] is True and result["deleted"] == [a["name"] for a in ALARMS]
    assert [call.operation for call in aws_calls.writes()] == ["DeleteAlarms"]
    assert _names(cloudwatch) == []
    assert _run(run_module, absent=[a["name"] for a in ALARMS])["changed"] is False


def test_bad_input_fails_before_any_call(cloudwatch, run_module, aws_calls):  # pylint: disable=unused-argument
    aws_calls.clear()
    result = _run(run_module, alarms=[ALARMS[0]], absent=[ALARMS[0]["name"]])
    assert result["failed"] is True
    assert "the alarm m-prod-ecs-cpu-high is in both alarms and absent: keep each in one list" in result["msg"]
    assert aws_calls.operations() == []
