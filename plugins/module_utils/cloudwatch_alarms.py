# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A set of CloudWatch metric alarms from one read (module ``megapool.aws.cloudwatch_metric_alarms``; pure, no boto3).

One ``DescribeAlarms`` call with every name (AWS takes up to 100 names per call) tells which alarms to write:
``PutMetricAlarm`` for each missing or different one, one ``DeleteAlarms`` for the unwanted ones found. AWS:
"When this operation creates an alarm, the alarm state is immediately set to INSUFFICIENT_DATA ... When you update an
existing alarm, its state is left unchanged, but the update completely overwrites the previous configuration of the
alarm" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html), so an alarm is
compared over every setting PutMetricAlarm takes for a single-metric alarm, and written whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Iterable
from typing import Mapping

# AWS's limits: DescribeAlarms / DeleteAlarms take at most 100 names per call.
MAX_NAMES_PER_CALL = 100
# The settings of a single-metric alarm PutMetricAlarm writes (and DescribeAlarms returns), compared one by one.
SETTINGS = (
    "AlarmName",
    "AlarmDescription",
    "Namespace",
    "MetricName",
    "Dimensions",
    "Statistic",
    "ExtendedStatistic",
    "ComparisonOperator",
    "Threshold",
    "Period",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Unit",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "AlarmActions",
    "OKActions",
    "InsufficientDataActions",
)
# Lists AWS keeps as sets: compared sorted.
_SET_LIKE = ("AlarmActions", "OKActions", "InsufficientDataActions")
# An alarm created without TreatMissingData reads as "missing" (AWS's default; amazon.aws.cloudwatch_metric_alarm too).
DEFAULT_TREAT_MISSING_DATA = "missing"


def wanted_alarm(spec: Mapping[str, Any]) -> dict[str, Any]:
    """PutMetricAlarm parameters of a module ``alarms`` item (snake_case options, dimensions as a mapping)."""
    dimensions = spec.get("dimensions") or {}
    params = {
        "AlarmName": spec["name"],
        "AlarmDescription": spec.get("description"),
        "Namespace": spec.get("namespace"),
        "MetricName": spec.get("metric_name"),
        "Dimensions": [{"Name": str(key), "Value": str(value)} for key, value in dimensions.items()],
        "Statistic": spec.get("statistic"),
        "ExtendedStatistic": spec.get("extended_statistic"),
        "ComparisonOperator": spec.get("comparison"),
        "Threshold": None if spec.get("threshold") is None else float(spec["threshold"]),
        "Period": spec.get("period"),
        "EvaluationPeriods": spec.get("evaluation_periods"),
        "DatapointsToAlarm": spec.get("datapoints_to_alarm"),
        "Unit": spec.get("unit"),
        "TreatMissingData": spec.get("treat_missing_data"),
        "EvaluateLowSampleCountPercentile": spec.get("evaluate_low_sample_count_percentile"),
        "AlarmActions": list(spec.get("alarm_actions") or []),
        "OKActions": list(spec.get("ok_actions") or []),
        "InsufficientDataActions": list(spec.get("insufficient_data_actions") or []),
    }
    return {key: value for key, value in params.items() if value is not None}


def comparable(alarm: Mapping[str, Any] | None) -> dict[str, Any]:
    """The settings of an alarm (as DescribeAlarms returns it, or PutMetricAlarm parameters) in one comparable form:
    every setting present (None when unset), dimensions sorted by name, action lists sorted, numbers as numbers."""
    if not alarm:
        return {}
    view: dict[str, Any] = {}
    for key in SETTINGS:
        value = alarm.get(key)
        if key == "Dimensions":
            value = sorted(
                ({"Name": d["Name"], "Value": d["Value"]} for d in value or []), key=lambda d: (d["Name"], d["Value"])
            )
        elif key in _SET_LIKE:
            value = sorted(value or [])
        elif key == "Threshold" and value is not None:
            value = float(value)
        elif key == "TreatMissingData" and value is None:
            value = DEFAULT_TREAT_MISSING_DATA
        elif key == "AlarmDescription" and value == "":
            value = None
        view[key] = value
    return view


@dataclass(frozen=True)
class AlarmsPlan:
    """What to write: ``put`` the PutMetricAlarm parameters of each missing or different alarm (in the order given),
    ``delete`` the names of the unwanted alarms that exist; ``before``/``after`` by name, for the diff."""

    put: tuple[dict[str, Any], ...] = ()
    delete: tuple[str, ...] = ()
    before: dict[str, dict[str, Any]] = field(default_factory=dict)
    after: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.put or self.delete)


def alarm_errors(alarms: Iterable[Mapping[str, Any]], absent: Iterable[str]) -> list[str]:
    """Inputs AWS would refuse, or that contradict each other, as messages naming the option."""
    errors = []
    names = [str(alarm.get("name") or "") for alarm in alarms]
    seen = set()
    for name in names:
        if not name:
            errors.append("alarms: every alarm needs a name")
        elif name in seen:
            errors.append("alarms: the alarm %s is listed twice: list each alarm once" % name)
        seen.add(name)
    both = sorted(seen & set(absent))
    if both:
        errors.append(
            "the alarm%s %s %s in both alarms and absent: keep each in one list"
            % ("s" if len(both) > 1 else "", ", ".join(both), "are" if len(both) > 1 else "is")
        )
    for alarm in alarms:
        if alarm.get("statistic") and alarm.get("extended_statistic"):
            errors.append("alarms: %s sets statistic and extended_statistic: set one" % alarm.get("name"))
    return errors


def plan_alarms(
    found: Iterable[Mapping[str, Any]], alarms: Iterable[Mapping[str, Any]], absent: Iterable[str]
) -> AlarmsPlan:
    """Compare the alarms found (DescribeAlarms ``MetricAlarms``) with the wanted ``alarms`` (module items) and the
    names that must not exist (``absent``)."""
    by_name = {alarm["AlarmName"]: alarm for alarm in found}
    put, before, after = [], {}, {}
    for spec in alarms:
        params = wanted_alarm(spec)
        name = params["AlarmName"]
        current = comparable(by_name.get(name))
        wanted = comparable(params)
        if current:
            before[name] = current
        after[name] = wanted
        if current != wanted:
            put.append(params)
    delete = []
    for name in absent:
        if name in by_name:
            before[name] = comparable(by_name[name])
            delete.append(name)
    return AlarmsPlan(put=tuple(put), delete=tuple(delete), before=before, after=after)


def chunks(names: Iterable[str], size: int = MAX_NAMES_PER_CALL) -> list[list[str]]:
    """The names in calls of at most ``size`` (AWS's limit for DescribeAlarms and DeleteAlarms)."""
    names = list(names)
    return [names[start : start + size] for start in range(0, len(names), size)]
