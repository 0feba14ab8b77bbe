# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.ecs_service_autoscaling against moto in-process, and its requests against the botocore model."""

from __future__ import annotations

import boto3
import botocore.session
import pytest
from botocore.validate import ParamValidator
from moto import mock_aws

from ansible_collections.megapool.aws.plugins.modules import ecs_service_autoscaling as module_under_test

REGION = "eu-north-1"
CLUSTER = "megapool-test"
SERVICE = "megapool-test-web"
RID = "service/%s/%s" % (CLUSTER, SERVICE)
CPU = {
    "TargetValue": 60,
    "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
    "ScaleInCooldown": 300,
    "ScaleOutCooldown": 60,
    "DisableScaleIn": False,
}
MEMORY = {
    "TargetValue": 70,
    "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageMemoryUtilization"},
    "ScaleInCooldown": 300,
    "ScaleOutCooldown": 60,
}
POLICIES = [{"name": SERVICE + "-cpu", "configuration": CPU}, {"name": SERVICE + "-memory", "configuration": MEMORY}]


@pytest.fixture
def aas(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        ecs = boto3.client("ecs", region_name=REGION)
        ecs.create_cluster(clusterName=CLUSTER)
        ecs.register_task_definition(
            family="web", containerDefinitions=[{"name": "app", "image": "app:1", "memory": 128}]
        )
        ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition="web", desiredCount=2)
        yield boto3.client("application-autoscaling", region_name=REGION)


def _state(client):
    targets = client.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[RID])["ScalableTargets"]
    policies = client.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=RID)["ScalingPolicies"]
    return (
        [(item["MinCapacity"], item["MaxCapacity"]) for item in targets],
        sorted(
            (item["PolicyName"], item["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]) for item in policies
        ),
    )


def _run(run_module, check_mode=False, **args):
    base = {"cluster": CLUSTER, "service": SERVICE, "region": REGION}
    return run_module(module_under_test.main, dict(base, **args), check_mode=check_mode, diff=True)


def test_registers_puts_then_is_idempotent(aas, run_module, aws_calls):
    aws_calls.clear()
    first = _run(run_module, min_count=2, max_count=4, policies=POLICIES)
    assert first["changed"] is True
    assert [call.operation for call in aws_calls.writes()] == [
        "RegisterScalableTarget",
        "PutScalingPolicy",
        "PutScalingPolicy",
    ]
    assert _state(aas) == ([(2, 4)], [(SERVICE + "-cpu", 60.0), (SERVICE + "-memory", 70.0)])
    assert first["diff"]["before"] == {"target": None, "policies": {}}

    aws_calls.clear()
    again = _run(run_module, min_count=2, max_count=4, policies=POLICIES)
    assert again["changed"] is False
    assert aws_calls.writes() == []


def test_check_mode_writes_nothing_and_predicts_the_run(aas, run_module, aws_calls):
    aws_calls.clear()
    checked = _run(run_module, check_mode=True, min_count=2, max_count=4, policies=POLICIES)
    assert checked["changed"] is True and aws_calls.writes() == []
    assert _state(aas) == ([], [])
    applied = _run(run_module, min_count=2, max_count=4, policies=POLICIES)
    assert applied["diff"] == checked["diff"]


def test_changes_only_what_differs_and_purges_other_policies(aas, run_module, aws_calls):
    _run(run_module, min_count=2, max_count=4, policies=POLICIES)
    aws_calls.clear()
    result = _run(
        run_module,
        min_count=2,
        max_count=3,
        policies=[{"name": SERVICE + "-cpu", "configuration": dict(CPU, TargetValue=50)}],
    )
    assert result["changed"] is True
    assert [call.operation for call in aws_calls.writes()] == [
        "RegisterScalableTarget",
        "PutScalingPolicy",
        "DeleteScalingPolicy",
    ]
    assert result["put_policies"] == [SERVICE + "-cpu"] and result["deleted_policies"] == [SERVICE + "-memory"]
    assert _state(aas) == ([(2, 3)], [(SERVICE + "-cpu", 50.0)])


def test_absent_deletes_policies_then_deregisters(aas, run_module, aws_calls):
    _run(run_module, min_count=2, max_count=4, policies=POLICIES)
    checked = _run(run_module, check_mode=True, state="absent")
    assert checked["changed"] is True and _state(aas)[0] == [(2, 4)]
    aws_calls.clear()
    removed = _run(run_module, state="absent")
    assert [call.operation for call in aws_calls.writes()] == [
        "DeleteScalingPolicy",
        "DeleteScalingPolicy",
        "DeregisterScalableTarget",
    ]
    assert removed["deregistered"] is True and _state(aas) == ([], [])
    assert _run(run_module, state="absent")["changed"] is False


def test_present_without_a_range_fails_before_writing(aas, run_module, aws_calls):
    aws_calls.clear()
    result = _run(run_module, max_count=4, policies=POLICIES)
    assert result["failed"] is True and "min_count and max_count are required" in result["msg"]
    assert aws_calls.writes() == []


def test_the_requests_match_the_botocore_model(aas, run_module, aws_calls):
    """The emulator accepts anything; AWS validates against this model (contract)."""
    labelled = dict(
        CPU,
        PredefinedMetricSpecification={
            "PredefinedMetricType": "ALBRequestCountPerTarget",
            "ResourceLabel": "app/lb/778d41231b141a0f/targetgroup/tg/943f017f100becff",
        },
    )
    aws_calls.clear()
    _run(
        run_module,
        min_count=2,
        max_count=4,
        policies=POLICIES + [{"name": SERVICE + "-requests", "configuration": labelled}],
    )
    _run(run_module, state="absent")
    model = botocore.session.get_session().get_service_model("application-autoscaling")
    validator = ParamValidator()
    operations = set()
    for call in aws_calls:
        shape = model.operation_model(call.operation).input_shape
        report = validator.validate(call.params, shape)
        assert not report.has_errors(), (call.operation, report.generate_report())
        operations.add(call.operation)
    assert {
        "RegisterScalableTarget",
        "PutScalingPolicy",
        "DeleteScalingPolicy",
        "DeregisterScalableTarget",
    } <= operations
