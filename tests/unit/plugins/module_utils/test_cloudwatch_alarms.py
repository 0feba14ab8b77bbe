# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils.cloudwatch_alarms: which alarms to write and delete, from one DescribeAlarms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.module_utils.cloudwatch_alarms import alarm_errors
from ansible_collections.megapool.aws.plugins.module_utils.cloudwatch_alarms import chunks
from ansible_collections.megapool.aws.plugins.module_utils.cloudwatch_alarms import comparable
from ansible_collections.megapool.aws.plugins.module_utils.cloudwatch_alarms import plan_alarms
from ansible_collections.megapool.aws.plugins.module_utils.cloudwatch_alarms import wanted_alarm

SPEC = {
    "name": "m-prod-ecs-cpu-high",
    "namespace": "AWS/ECS",
    "metric_name": "CPUUtilization",
    "dimensions": {"ClusterName": "m-prod"},
    "statistic": "Average",
    "comparison": "GreaterThanThreshold",
    "threshold": 80,
    "period": 300,
    "evaluation_periods": 3,
    "unit": "Percent",
    "treat_missing_data": "missing",
    "alarm_actions": [],
    "ok_actions": [],
    "description": "m-prod: CPU above 80 %",
}


def described(spec=None, **changes):
    """An alarm as DescribeAlarms returns it for ``spec`` (with state fields the planner must ignore)."""
    spec = spec or SPEC
    alarm = dict(
        wanted_alarm(spec),
        AlarmArn="arn:aws:cloudwatch:eu-north-1:1:alarm:" + spec["name"],
        StateValue="ALARM",
        ActionsEnabled=True,
        StateReason="x",
        InsufficientDataActions=[],
        AlarmConfigurationUpdatedTimestamp="t",
    )
    alarm.update(changes)
    return {key: value for key, value in alarm.items() if value is not None}


def test_wanted_alarm_is_the_put_metric_alarm_call():
    assert wanted_alarm(SPEC) == {
        "AlarmName": "m-prod-ecs-cpu-high",
        "AlarmDescription": "m-prod: CPU above 80 %",
        "Namespace": "AWS/ECS",
        "MetricName": "CPUUtilization",
        "Dimensions": [{"Name": "ClusterName", "Value": "m-prod"}],
        "Statistic": "Average",
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 80.0,
        "Period": 300,
        "EvaluationPeriods": 3,
        "Unit": "Percent",
        "TreatMissingData": "missing",
        "AlarmActions": [],
        "OKActions": [],
        "InsufficientDataActions": [],
    }


def test_nothing_to_write_when_every_alarm_matches_and_nothing_unwanted_exists():
    plan = plan_alarms([described()], [SPEC], ["m-prod-ecs-old"])
    assert not plan.changed and plan.put == () and plan.delete == ()
    assert plan.before == plan.after == {"m-prod-ecs-cpu-high": comparable(wanted_alarm(SPEC))}


@pytest.mark.parametrize(
    ("found_changes", "why"),
    [
        ({"Threshold": 90.0}, "threshold"),
        ({"EvaluationPeriods": 5}, "periods"),
        ({"Dimensions": [{"Name": "ClusterName", "Value": "other"}]}, "dimension value"),
        ({"Dimensions": []}, "no dimensions"),
        ({"AlarmActions": ["arn:aws:sns:eu-north-1:1:page"]}, "an action added by hand"),
        ({"DatapointsToAlarm": 2}, "a setting the role does not set (PutMetricAlarm would drop it)"),
        ({"TreatMissingData": "breaching"}, "missing data"),
        ({"AlarmDescription": "edited"}, "description"),
        ({"Unit": None}, "unit unset"),
    ],
)
def test_a_differing_alarm_is_written_whole(found_changes, why):
    plan = plan_alarms([described(**found_changes)], [SPEC], [])
    assert plan.changed, why
    assert plan.put == (wanted_alarm(SPEC),)
    assert plan.before["m-prod-ecs-cpu-high"] != plan.after["m-prod-ecs-cpu-high"]


@pytest.mark.parametrize(
    "found_changes",
    [
        {"Dimensions": [{"Name": "B", "Value": "2"}, {"Name": "A", "Value": "1"}]},  # AWS's order
        {"Threshold": 80},  # an int is the same threshold
        {"TreatMissingData": None},  # alarms made before TreatMissingData read as missing
        {"StateValue": "OK", "ActionsEnabled": False},  # state and enablement are not managed
    ],
)
def test_what_is_not_a_difference(found_changes):
    spec = dict(SPEC, dimensions={"A": "1", "B": "2"}) if "Dimensions" in found_changes else SPEC
    assert not plan_alarms([described(spec, **found_changes)], [spec], []).changed


def test_missing_alarms_are_written_and_unwanted_ones_found_are_deleted_in_order():
    other = dict(SPEC, name="m-prod-ecs-memory-high", metric_name="MemoryUtilization")
    found = [described(), described(dict(SPEC, name="m-prod-ecs-old"))]
    plan = plan_alarms(found, [other, SPEC], ["m-prod-ecs-old", "m-prod-ecs-never-made"])
    assert [params["AlarmName"] for params in plan.put] == ["m-prod-ecs-memory-high"]
    assert plan.delete == ("m-prod-ecs-old",)
    assert set(plan.before) == {"m-prod-ecs-cpu-high", "m-prod-ecs-old"}
    assert set(plan.after) == {"m-prod-ecs-cpu-high", "m-prod-ecs-memory-high"}


@pytest.mark.parametrize(
    ("alarms", "absent", "message"),
    [
        ([SPEC, SPEC], [], "alarms: the alarm m-prod-ecs-cpu-high is listed twice: list each alarm once"),
        (
            [SPEC],
            ["m-prod-ecs-cpu-high"],
            "the alarm m-prod-ecs-cpu-high is in both alarms and absent: keep each in one list",
        ),
        (
            [dict(SPEC, extended_statistic="p99")],
            [],
            "alarms: m-prod-ecs-cpu-high sets statistic and extended_statistic: set one",
        ),
        ([dict(SPEC, name="")], [], "alarms: every alarm needs a name"),
    ],
)
def test_alarm_errors(alarms, absent, message):
    assert message in alarm_errors(alarms, absent)


def test_no_errors_for_good_input():
    assert alarm_errors([SPEC, dict(SPEC, name="b")], ["c"]) == []


@given(st.lists(st.text(min_size=1, max_size=3), max_size=350), st.integers(min_value=1, max_value=120))
def test_chunks_keep_every_name_in_order_within_the_limit(names, size):
    batches = chunks(names, size)
    assert [name for batch in batches for name in batch] == names
    assert all(0 < len(batch) <= size for batch in batches)


@given(st.dictionaries(st.sampled_from(["ClusterName", "CapacityProviderName", "ServiceName"]), st.text(max_size=4)))
def test_a_written_alarm_reads_back_as_no_change(dimensions):
    """Property: what the plan writes, read back (dimensions in any order), is planned as no change."""
    spec = dict(SPEC, dimensions=dimensions)
    plan = plan_alarms([], [spec], [])
    written = dict(plan.put[0], Dimensions=list(reversed(plan.put[0]["Dimensions"])))
    assert not plan_alarms([written], [spec], []).changed
