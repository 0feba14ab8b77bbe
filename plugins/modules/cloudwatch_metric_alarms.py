#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudwatch_metric_alarms
short_description: A set of CloudWatch metric alarms of a region from one read
version_added: 0.1.0
description:
  - Makes the single-metric alarms in O(alarms) exist with exactly these settings and deletes the alarms named in
    O(absent) that exist - one module run for the whole set instead of one M(amazon.aws.cloudwatch_metric_alarm) run
    per alarm.
  - Reads every named alarm with one C(DescribeAlarms) call (100 names per call), then calls C(PutMetricAlarm) only
    for an alarm that is missing or differs in any setting, and one C(DeleteAlarms) for the unwanted ones found. A
    no-op makes no write.
  - C(PutMetricAlarm) overwrites the whole configuration of an existing alarm and leaves its state as it is
    (U(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html)); an alarm is
    compared over every setting the module writes, and a setting not given must be unset.
  - The alarms' C(ActionsEnabled) and state are not managed.
author:
  - megapool.aws maintainers (@megapool)
options:
  alarms:
    description: The alarms that must exist.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The alarm's name (unique in the account and region).
        type: str
        required: true
      description:
        description: The alarm's description.
        type: str
      namespace:
        description: The metric's namespace, e.g. C(AWS/ECS).
        type: str
        required: true
      metric_name:
        description: The metric, e.g. C(CPUUtilization).
        type: str
        required: true
        aliases: [metric]
      dimensions:
        description: The metric's dimensions, name to value.
        type: dict
        default: {}
      statistic:
        description: The statistic; or set O(alarms[].extended_statistic).
        type: str
        choices: ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum']
      extended_statistic:
        description: A percentile statistic, e.g. C(p99).
        type: str
      comparison:
        description: How the statistic is compared with the threshold.
        type: str
        required: true
        choices: ['GreaterThanOrEqualToThreshold', 'GreaterThanThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold']
      threshold:
        description: The threshold.
        type: float
        required: true
      period:
        description: Seconds per evaluation period.
        type: int
        required: true
      evaluation_periods:
        description: How many periods are compared with the threshold.
        type: int
        required: true
      datapoints_to_alarm:
        description: How many of those periods must breach (default all of them).
        type: int
      unit:
        description: The metric's unit, e.g. C(Percent).
        type: str
      treat_missing_data:
        description: How periods without data count.
        type: str
        default: missing
        choices: ['breaching', 'notBreaching', 'ignore', 'missing']
      evaluate_low_sample_count_percentile:
        description: For percentiles, C(evaluate) or C(ignore).
        type: str
      alarm_actions:
        description: ARNs to notify when the alarm goes to C(ALARM).
        type: list
        elements: str
        default: []
      ok_actions:
        description: ARNs to notify when the alarm goes to C(OK).
        type: list
        elements: str
        default: []
      insufficient_data_actions:
        description: ARNs to notify when the alarm goes to C(INSUFFICIENT_DATA).
        type: list
        elements: str
        default: []
  absent:
    description: Names of alarms that must not exist (deleted when found, e.g. the alarms of an earlier version).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - megapool.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The cluster's alarms, and none of an earlier version
  megapool.aws.cloudwatch_metric_alarms:
    alarms:
      - name: megapool-prod-ecs-cpu-high
        namespace: AWS/ECS
        metric_name: CPUUtilization
        dimensions: {ClusterName: megapool-prod}
        statistic: Average
        comparison: GreaterThanThreshold
        threshold: 80
        unit: Percent
        period: 300
        evaluation_periods: 3
        description: "megapool-prod: CPU utilization above 80 %"
    absent:
      - megapool-prod-ecs-memory-reservation-full
"""

RETURN = r"""
alarms:
  description: The settings of each alarm of O(alarms) after the run (predicted in check mode), by name.
  returned: always
  type: dict
  sample: {"megapool-prod-ecs-cpu-high": {"AlarmName": "megapool-prod-ecs-cpu-high", "Threshold": 80.0}}
written:
  description: The alarms written with C(PutMetricAlarm) (to be written, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["megapool-prod-ecs-cpu-high"]
deleted:
  description: The alarms deleted (to be deleted, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["megapool-prod-ecs-memory-reservation-full"]
diff:
  description: The alarms' settings before and after, by name.
  returned: always
  type: dict
  contains:
    before:
      description: Before the run (the alarms found).
      type: dict
      returned: always
    after:
      description: After the run (predicted in check mode).
      type: dict
      returned: always
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler

from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.cloudwatch_alarms import alarm_errors
from ansible_collections.megapool.aws.plugins.module_utils.cloudwatch_alarms import chunks
from ansible_collections.megapool.aws.plugins.module_utils.cloudwatch_alarms import plan_alarms

ALARM_SPEC: dict[str, dict[str, Any]] = dict(
    name=dict(type="str", required=True),
    description=dict(type="str"),
    namespace=dict(type="str", required=True),
    metric_name=dict(type="str", required=True, aliases=["metric"]),
    dimensions=dict(type="dict", default={}),
    statistic=dict(type="str", choices=["SampleCount", "Average", "Sum", "Minimum", "Maximum"]),
    extended_statistic=dict(type="str"),
    comparison=dict(
        type="str",
        required=True,
        choices=[
            "GreaterThanOrEqualToThreshold",
            "GreaterThanThreshold",
            "LessThanThreshold",
            "LessThanOrEqualToThreshold",
        ],
    ),
    threshold=dict(type="float", required=True),
    period=dict(type="int", required=True),
    evaluation_periods=dict(type="int", required=True),
    datapoints_to_alarm=dict(type="int"),
    unit=dict(type="str"),
    treat_missing_data=dict(type="str", default="missing", choices=["breaching", "notBreaching", "ignore", "missing"]),
    evaluate_low_sample_count_percentile=dict(type="str"),
    alarm_actions=dict(type="list", elements="str", default=[]),
    ok_actions=dict(type="list", elements="str", default=[]),
    insufficient_data_actions=dict(type="list", elements="str", default=[]),
)
ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    alarms=dict(type="list", elements="dict", default=[], options=ALARM_SPEC),
    absent=dict(type="list", elements="str", default=[]),
)


@AWSErrorHandler.common_error_handler("describe the alarms")
def _describe(client, names: list[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for batch in chunks(names):
        paginator = client.get_paginator("describe_alarms")
        for page in paginator.paginate(AlarmNames=batch, AlarmTypes=["MetricAlarm"]):
            found.extend(page.get("MetricAlarms", []))
    return found


@AWSErrorHandler.common_error_handler("put the alarm")
def _put(client, params: dict[str, Any]) -> None:
    client.put_metric_alarm(**params)


@AWSErrorHandler.common_error_handler("delete the alarms")
def _delete(client, names: tuple[str, ...]) -> None:
    for batch in chunks(names):
        client.delete_alarms(AlarmNames=batch)


def _run(module: MegapoolAWSModule) -> dict[str, Any]:
    alarms, absent = module.params["alarms"], module.params["absent"]
    errors = alarm_errors(alarms, absent)
    if errors:
        module.fail_json(msg=" | ".join(errors))
    client = module.client("cloudwatch")
    names = [alarm["name"] for alarm in alarms] + list(absent)
    plan = plan_alarms(_describe(client, names) if names else [], alarms, absent)
    if plan.changed and not module.check_mode:
        for params in plan.put:
            _put(client, params)
        if plan.delete:
            _delete(client, plan.delete)
    return dict(
        changed=plan.changed,
        alarms=plan.after,
        written=[params["AlarmName"] for params in plan.put],
        deleted=list(plan.delete),
        diff={"before": plan.before, "after": plan.after},
    )


def main() -> None:
    module = MegapoolAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(_run, module)


if __name__ == "__main__":
    main()
