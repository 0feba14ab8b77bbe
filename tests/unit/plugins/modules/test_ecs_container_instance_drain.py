# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.ecs_container_instance_drain against moto in-process, and botocore Stubber sequences.

moto registers container instances and places tasks (StartTask) on them, but never moves or stops a task by itself:
the tests drive the drain with a fake clock whose ``sleep`` stops tasks between two polls. What moto cannot play
(pending tasks, Auto Scaling lifecycle actions: moto has no CompleteLifecycleAction and never puts an instance in
Terminating:Wait) is played with botocore Stubber sequences.
"""

from __future__ import annotations

import json
from typing import Any
from typing import Callable

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ansible_collections.megapool.aws.plugins.modules import ecs_container_instance_drain as module_under_test

REGION = "us-east-1"
CLUSTER = "shop"


@pytest.fixture
def aws(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        yield


class Stubs:
    """Stubber responses queued per service, attached to the first client of that service the module creates."""

    def __init__(self) -> None:
        self.queued: dict[str, list[tuple]] = {}
        self.stubbers: list[Stubber] = []

    def add_response(self, service: str, method: str, response: dict, expected_params: dict | None = None) -> None:
        self.queued.setdefault(service, []).append(("response", method, response, expected_params))

    def add_client_error(
        self, service: str, method: str, code: str, message: str, expected_params: dict | None = None
    ) -> None:
        self.queued.setdefault(service, []).append(("error", method, (code, message), expected_params))

    def attach(self, service: str, client: Any) -> None:
        items = self.queued.pop(service, None)
        if items is None:
            return
        stubber = Stubber(client)
        for kind, method, payload, expected in items:
            if kind == "response":
                stubber.add_response(method, payload, expected)
            else:
                stubber.add_client_error(
                    method,
                    service_error_code=payload[0],
                    service_message=payload[1],
                    http_status_code=400,
                    expected_params=expected,
                )
        stubber.activate()
        self.stubbers.append(stubber)

    def assert_done(self) -> None:
        assert not self.queued, "no client of %s was created" % sorted(self.queued)
        for stubber in self.stubbers:
            stubber.assert_no_pending_responses()


@pytest.fixture
def stubs(monkeypatch) -> Stubs:
    queued = Stubs()
    original = boto3.session.Session.client

    def _client(self: boto3.session.Session, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        queued.attach(client.meta.service_model.service_name, client)
        return client

    monkeypatch.setattr(boto3.session.Session, "client", _client)
    return queued


# ------------------------------------------------------------------------------------------ moto helpers


def _ecs():
    return boto3.client("ecs", region_name=REGION)


def _cluster(count: int, name: str = CLUSTER) -> list[dict[str, str]]:
    """A cluster with ``count`` registered EC2 instances and a task definition: [{id, arn}]."""
    ecs = _ecs()
    ecs.create_cluster(clusterName=name)
    ecs.register_task_definition(
        family="app", containerDefinitions=[{"name": "app", "image": "app:1", "cpu": 128, "memory": 128}]
    )
    ec2 = boto3.client("ec2", region_name=REGION)
    ids = (
        [
            item["InstanceId"]
            for item in ec2.run_instances(ImageId="ami-12c6146b", MinCount=count, MaxCount=count)["Instances"]
        ]
        if count
        else []
    )
    instances = []
    for instance_id in ids:
        registered = ecs.register_container_instance(
            cluster=name, instanceIdentityDocument=json.dumps({"instanceId": instance_id})
        )
        instances.append(dict(id=instance_id, arn=registered["containerInstance"]["containerInstanceArn"]))
    return instances


def _start(instance: dict[str, str], count: int) -> list[str]:
    """``count`` tasks on the instance; returns their ARNs."""
    tasks = _ecs().start_task(cluster=CLUSTER, taskDefinition="app", containerInstances=[instance["arn"]] * count)[
        "tasks"
    ]
    return [task["taskArn"] for task in tasks]


def _stop(*task_arns: str) -> Callable[[], None]:
    def _step() -> None:
        for arn in task_arns:
            _ecs().stop_task(cluster=CLUSTER, task=arn, reason="test")

    return _step


def _status(instance: dict[str, str]) -> dict[str, Any]:
    found = _ecs().describe_container_instances(cluster=CLUSTER, containerInstances=[instance["arn"]])[
        "containerInstances"
    ][0]
    return found


def _args(**extra: Any) -> dict[str, Any]:
    return dict(dict(cluster=CLUSTER, region=REGION, poll_interval=10, wait_timeout=600), **extra)


def _tasks_left(result: dict) -> list[dict[str, int]]:
    return [event["tasks_left"] for event in result["history"]]


# ------------------------------------------------------------------------------------------ draining with moto


def test_drains_and_waits_until_the_tasks_are_gone(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    first, second = _cluster(2)
    tasks = _start(first, 3)
    # between the polls: 2 of the 3 tasks end, one poll sees no change, then the last one ends
    clock.steps = [_stop(*tasks[:2]), lambda: None, _stop(tasks[2])]
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(instance_ids=[first["id"], second["id"]]), diff=True)

    assert result["changed"] is True, result
    assert _tasks_left(result) == [
        {first["id"]: 3, second["id"]: 0},
        {first["id"]: 1, second["id"]: 0},
        {first["id"]: 0, second["id"]: 0},
    ]
    elapsed = [event["elapsed"] for event in result["history"]]
    assert elapsed == sorted(elapsed) and elapsed[0] == 0
    assert len(clock.sleeps) == 3
    assert result["instances"] == [
        dict(
            ec2_instance_id=first["id"],
            container_instance_arn=first["arn"],
            status="DRAINING",
            running_tasks_count=0,
            pending_tasks_count=0,
        ),
        dict(
            ec2_instance_id=second["id"],
            container_instance_arn=second["arn"],
            status="DRAINING",
            running_tasks_count=0,
            pending_tasks_count=0,
        ),
    ]
    assert result["diff"] == {
        "before": {first["id"]: "ACTIVE", second["id"]: "ACTIVE"},
        "after": {first["id"]: "DRAINING", second["id"]: "DRAINING"},
    }
    assert result["lifecycle_actions_completed"] == []
    assert result["done"] is True
    assert result["progress"] == "2 instances drained"
    assert result["events"] == [
        "after %g s: %s 1 task left, %s drained" % (result["history"][1]["elapsed"], first["id"], second["id"]),
        "after %g s: %s drained, %s drained" % (result["history"][2]["elapsed"], first["id"], second["id"]),
    ]
    assert _status(first)["status"] == _status(second)["status"] == "DRAINING"
    # one paginated list + one describe to resolve, one update, one describe per poll
    module_calls = [op for op in aws_calls.operations() if op != "StopTask"][:6]
    assert module_calls == [
        "ListContainerInstances",
        "DescribeContainerInstances",
        "UpdateContainerInstancesState",
        "DescribeContainerInstances",
        "DescribeContainerInstances",
        "DescribeContainerInstances",
    ]
    update = aws_calls.of("UpdateContainerInstancesState")[0].params
    assert update == dict(cluster=CLUSTER, containerInstances=[first["arn"], second["arn"]], status="DRAINING")


def test_timeout_lists_the_instances_with_tasks_and_reports_partial_progress(aws, run_module, clock):  # pylint: disable=unused-argument
    busy, quick, idle = _cluster(3)
    _start(busy, 2)
    quick_task = _start(quick, 1)
    clock.steps = [_stop(*quick_task)]

    result = run_module(
        module_under_test.main,
        _args(instance_ids=[busy["id"], quick["id"], idle["id"]], wait_timeout=25, poll_interval=10),
    )

    assert result["failed"] is True
    assert (
        "Timed out after 25s waiting for container instances of ECS cluster shop to drain: %s (2 tasks left)."
        % busy["id"]
        in result["msg"]
    )
    assert quick["id"] not in result["msg"]
    assert result["changed"] is True
    assert _tasks_left(result) == [
        {busy["id"]: 2, quick["id"]: 1, idle["id"]: 0},
        {busy["id"]: 2, quick["id"]: 0, idle["id"]: 0},
    ]
    assert [record["running_tasks_count"] for record in result["instances"]] == [2, 0, 0]
    assert result["done"] is False
    assert result["progress"] == "draining 3 instances: %s 2 tasks left, %s drained, %s drained" % (
        busy["id"],
        quick["id"],
        idle["id"],
    )
    assert clock.sleeps == [10, 10, 5], "the last pause ends at wait_timeout"
    assert _status(busy)["status"] == "DRAINING"


def test_already_draining_without_tasks_changes_nothing(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    instances = _cluster(2)
    _ecs().update_container_instances_state(
        cluster=CLUSTER, containerInstances=[i["arn"] for i in instances], status="DRAINING"
    )
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(instance_ids=[i["id"] for i in instances]), diff=True)

    assert result["changed"] is False, result
    assert aws_calls.writes() == []
    assert clock.sleeps == []
    assert result["diff"]["before"] == result["diff"]["after"]
    assert _tasks_left(result) == [{i["id"]: 0 for i in instances}]


def test_waits_for_an_instance_already_draining_without_a_change(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    (instance,) = _cluster(1)
    tasks = _start(instance, 1)
    _ecs().update_container_instances_state(cluster=CLUSTER, containerInstances=[instance["arn"]], status="DRAINING")
    clock.steps = [_stop(*tasks)]
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(instance_ids=[instance["id"]]))

    assert result["changed"] is False, result
    assert aws_calls.of("UpdateContainerInstancesState") == []
    assert _tasks_left(result) == [{instance["id"]: 1}, {instance["id"]: 0}]


def test_check_mode_reports_what_would_change_without_writing_or_waiting(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    active, draining = _cluster(2)
    _start(active, 2)
    _ecs().update_container_instances_state(cluster=CLUSTER, containerInstances=[draining["arn"]], status="DRAINING")
    aws_calls.clear()

    result = run_module(
        module_under_test.main, _args(instance_ids=[active["id"], draining["id"]]), check_mode=True, diff=True
    )

    assert result["changed"] is True, result
    assert aws_calls.writes() == []
    assert clock.sleeps == []
    assert result["diff"] == {
        "before": {active["id"]: "ACTIVE", draining["id"]: "DRAINING"},
        "after": {active["id"]: "DRAINING", draining["id"]: "DRAINING"},
    }
    assert [record["status"] for record in result["instances"]] == ["DRAINING", "DRAINING"]
    assert _tasks_left(result) == [{active["id"]: 2, draining["id"]: 0}]
    assert _status(active)["status"] == "ACTIVE"

    nothing = run_module(module_under_test.main, _args(instance_ids=[draining["id"]]), check_mode=True)
    assert nothing["changed"] is False


def test_unknown_instances_fail_before_any_change_naming_them_and_the_cluster(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    (known,) = _cluster(1)
    _ecs().create_cluster(clusterName="other")
    stranger = boto3.client("ec2", region_name=REGION).run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)[
        "Instances"
    ][0]["InstanceId"]
    elsewhere = _ecs().register_container_instance(
        cluster="other", instanceIdentityDocument=json.dumps({"instanceId": stranger})
    )
    missing_arn = known["arn"].rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    aws_calls.clear()

    result = run_module(
        module_under_test.main,
        _args(instance_ids=[known["id"], stranger, "i-0123456789abcdef0"], container_instance_arns=[missing_arn]),
    )

    assert result["failed"] is True
    assert "Not registered in ECS cluster shop: %s, i-0123456789abcdef0, %s." % (stranger, missing_arn) in result["msg"]
    assert known["id"] not in result["msg"]
    assert aws_calls.writes() == []
    assert _status(known)["status"] == "ACTIVE"
    assert elsewhere["containerInstance"]["status"] == "ACTIVE"


def test_a_deregistered_instance_is_not_in_the_cluster(aws, run_module):  # pylint: disable=unused-argument
    first, second = _cluster(2)
    _ecs().deregister_container_instance(cluster=CLUSTER, containerInstance=second["arn"], force=True)
    result = run_module(module_under_test.main, _args(instance_ids=[first["id"], second["id"]]))
    assert result["failed"] is True
    assert "Not registered in ECS cluster shop: %s." % second["id"] in result["msg"]


def test_container_instance_arns_need_no_listing(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    first, second = _cluster(2)
    aws_calls.clear()

    # a full ARN, and a bare container-instance id, for the same and another instance
    result = run_module(
        module_under_test.main,
        _args(container_instance_arns=[first["arn"], second["arn"].rsplit("/", 1)[1]], instance_ids=[]),
    )

    assert result["changed"] is True, result
    assert "ListContainerInstances" not in aws_calls.operations()
    assert [record["ec2_instance_id"] for record in result["instances"]] == [first["id"], second["id"]]
    assert aws_calls.of("UpdateContainerInstancesState")[0].params["containerInstances"] == [
        first["arn"],
        second["arn"],
    ]


def test_the_same_instance_by_id_and_arn_counts_once(aws, run_module):  # pylint: disable=unused-argument
    (instance,) = _cluster(1)
    result = run_module(
        module_under_test.main, _args(instance_ids=[instance["id"]], container_instance_arns=[instance["arn"]])
    )
    assert [record["ec2_instance_id"] for record in result["instances"]] == [instance["id"]]


def test_updates_go_ten_instances_per_call_and_one_describe_per_poll(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    instances = _cluster(12)
    tasks = _start(instances[11], 1)
    clock.steps = [_stop(*tasks)]
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(instance_ids=[i["id"] for i in instances]))

    assert result["changed"] is True, result
    updates = aws_calls.of("UpdateContainerInstancesState")
    assert [len(call.params["containerInstances"]) for call in updates] == [10, 2]
    assert aws_calls.operations().count("DescribeContainerInstances") == 2  # resolve, then one poll
    assert {record["status"] for record in result["instances"]} == {"DRAINING"}


def test_without_wait_it_returns_at_once(aws, run_module, clock):  # pylint: disable=unused-argument
    (instance,) = _cluster(1)
    _start(instance, 2)
    result = run_module(module_under_test.main, _args(instance_ids=[instance["id"]], wait=False))
    assert result["changed"] is True
    assert clock.sleeps == []
    assert result["instances"][0]["status"] == "DRAINING"
    assert result["instances"][0]["running_tasks_count"] == 2
    assert _tasks_left(result) == [{instance["id"]: 2}]


def test_an_instance_deregistered_during_the_wait_counts_as_drained(aws, run_module, clock):  # pylint: disable=unused-argument
    # AWS shows a deregistered instance as INACTIVE for a while; moto forgets it at once.
    (instance,) = _cluster(1)
    _start(instance, 1)
    clock.steps = [
        lambda: _ecs().deregister_container_instance(cluster=CLUSTER, containerInstance=instance["arn"], force=True)
    ]
    result = run_module(module_under_test.main, _args(instance_ids=[instance["id"]]))
    assert result["changed"] is True, result
    assert result["instances"][0]["status"] == "INACTIVE"
    assert _tasks_left(result) == [{instance["id"]: 1}, {instance["id"]: 0}]


def test_active_again_without_waiting_and_idempotent(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    first, second = _cluster(2)
    _start(first, 1)
    _ecs().update_container_instances_state(cluster=CLUSTER, containerInstances=[first["arn"]], status="DRAINING")
    aws_calls.clear()

    result = run_module(
        module_under_test.main, _args(instance_ids=[first["id"], second["id"]], state="active"), diff=True
    )

    assert result["changed"] is True, result
    assert clock.sleeps == []
    assert aws_calls.of("UpdateContainerInstancesState")[0].params == dict(
        cluster=CLUSTER, containerInstances=[first["arn"]], status="ACTIVE"
    )
    assert result["diff"] == {
        "before": {first["id"]: "DRAINING", second["id"]: "ACTIVE"},
        "after": {first["id"]: "ACTIVE", second["id"]: "ACTIVE"},
    }
    assert result["events"] == []
    assert _status(first)["status"] == "ACTIVE"
    aws_calls.clear()
    again = run_module(module_under_test.main, _args(instance_ids=[first["id"], second["id"]], state="active"))
    assert again["changed"] is False
    assert aws_calls.writes() == []


def test_a_missing_cluster_is_named(aws, run_module):  # pylint: disable=unused-argument
    (instance,) = _cluster(1)
    by_arn = run_module(module_under_test.main, _args(cluster="nope", container_instance_arns=[instance["arn"]]))
    assert by_arn["failed"] is True
    assert "ECS cluster nope not found in us-east-1" in by_arn["msg"]
    by_id = run_module(module_under_test.main, _args(cluster="nope", instance_ids=[instance["id"]]))
    assert by_id["failed"] is True
    assert "Not registered in ECS cluster nope: %s" % instance["id"] in by_id["msg"]


@pytest.mark.parametrize(
    "args, message",
    [
        pytest.param(dict(instance_ids=[], container_instance_arns=[]), "both are empty", id="nothing"),
        pytest.param(
            dict(instance_ids=["arn:aws:ecs:us-east-1:123456789012:container-instance/shop/x"]),
            "put container-instance ARNs in container_instance_arns",
            id="arn-as-id",
        ),
        pytest.param(dict(instance_ids=["i-0123"], wait_timeout=-1), "wait_timeout must be 0 or more", id="timeout"),
        pytest.param(dict(instance_ids=["i-0123"], poll_interval=0), "poll_interval must be more than 0", id="poll"),
        pytest.param(
            dict(instance_ids=["i-0123"], lifecycle_hook_name="drain"),
            "lifecycle_hook_name and auto_scaling_group_name go together",
            id="hook",
        ),
    ],
)
def test_invalid_input_fails_before_any_aws_call(aws, run_module, aws_calls, args, message):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, _args(**args))
    assert result["failed"] is True
    assert message in result["msg"]
    assert aws_calls == []


# ------------------------------------------------------------------------------------------ lifecycle actions (Stubber)

HOOK = dict(lifecycle_hook_name="shop-drain", auto_scaling_group_name="shop-prod")


def _asg_instances(*states: tuple[str, str, str]) -> dict:
    return {
        "AutoScalingInstances": [
            {
                "InstanceId": instance_id,
                "AutoScalingGroupName": group,
                "LifecycleState": state,
                "AvailabilityZone": REGION + "a",
                "HealthStatus": "HEALTHY",
                "ProtectedFromScaleIn": True,
            }
            for instance_id, group, state in states
        ]
    }


def _complete(instance_id: str) -> dict:
    return dict(
        LifecycleHookName="shop-drain",
        AutoScalingGroupName="shop-prod",
        LifecycleActionResult="CONTINUE",
        InstanceId=instance_id,
    )


def test_completes_the_lifecycle_action_once_the_instance_has_drained(aws, run_module, aws_calls, clock, stubs):  # pylint: disable=unused-argument
    terminating, staying = _cluster(2)
    tasks = _start(terminating, 2)
    clock.steps = [_stop(*tasks)]
    stubs.add_response(
        "autoscaling",
        "describe_auto_scaling_instances",
        _asg_instances(
            (terminating["id"], "shop-prod", "Terminating:Wait"),
            (staying["id"], "shop-prod", "InService"),
        ),
        {"InstanceIds": [terminating["id"], staying["id"]]},
    )
    stubs.add_response("autoscaling", "complete_lifecycle_action", {}, _complete(terminating["id"]))
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(instance_ids=[terminating["id"], staying["id"]], **HOOK))

    assert result["changed"] is True, result
    assert result["lifecycle_actions_completed"] == [terminating["id"]]
    stubs.assert_done()
    operations = aws_calls.operations()
    assert operations.index("CompleteLifecycleAction") > operations.index("StopTask"), "completed only after the drain"
    assert operations.index("DescribeAutoScalingInstances") < operations.index("UpdateContainerInstancesState"), (
        "read before any change"
    )


def test_a_lifecycle_action_that_is_gone_is_not_an_error(aws, run_module, clock, stubs):  # pylint: disable=unused-argument
    (instance,) = _cluster(1)
    _ecs().update_container_instances_state(cluster=CLUSTER, containerInstances=[instance["arn"]], status="DRAINING")
    stubs.add_response(
        "autoscaling",
        "describe_auto_scaling_instances",
        _asg_instances((instance["id"], "shop-prod", "Terminating:Wait")),
    )
    stubs.add_client_error(
        "autoscaling",
        "complete_lifecycle_action",
        "ValidationError",
        "No active Lifecycle Action found with instance ID %s" % instance["id"],
        _complete(instance["id"]),
    )

    result = run_module(module_under_test.main, _args(instance_ids=[instance["id"]], **HOOK))

    assert result["changed"] is False, result
    assert result["lifecycle_actions_completed"] == []
    stubs.assert_done()


def test_check_mode_reports_pending_lifecycle_actions(aws, run_module, aws_calls, clock, stubs):  # pylint: disable=unused-argument
    (instance,) = _cluster(1)
    _ecs().update_container_instances_state(cluster=CLUSTER, containerInstances=[instance["arn"]], status="DRAINING")
    stubs.add_response(
        "autoscaling",
        "describe_auto_scaling_instances",
        _asg_instances((instance["id"], "shop-prod", "Terminating:Wait")),
    )
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(instance_ids=[instance["id"]], **HOOK), check_mode=True)

    assert result["changed"] is True, result
    assert result["lifecycle_actions_completed"] == [instance["id"]]
    assert aws_calls.writes() == []
    stubs.assert_done()


def test_an_instance_of_another_group_fails_before_any_change(aws, run_module, aws_calls, clock, stubs):  # pylint: disable=unused-argument
    (instance,) = _cluster(1)
    stubs.add_response(
        "autoscaling",
        "describe_auto_scaling_instances",
        _asg_instances((instance["id"], "batch-prod", "Terminating:Wait")),
    )
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(instance_ids=[instance["id"]], **HOOK))

    assert result["failed"] is True
    assert "belong to another Auto Scaling group: %s (batch-prod)" % instance["id"] in result["msg"]
    assert aws_calls.writes() == []
    assert _status(instance)["status"] == "ACTIVE"


def test_lifecycle_options_are_ignored_when_making_instances_active(aws, run_module, clock, stubs):  # pylint: disable=unused-argument
    (instance,) = _cluster(1)
    result = run_module(module_under_test.main, _args(instance_ids=[instance["id"]], state="active", **HOOK))
    assert result["changed"] is False
    assert any("only used with state=draining" in warning for warning in result["warnings"])
    assert stubs.stubbers == [], "no Auto Scaling client"


# ------------------------------------------------------------------------------------------ ECS sequences (Stubber)

ARN = "arn:aws:ecs:us-east-1:123456789012:container-instance/shop/%s"


def _ci(name: str, status: str, running: int, pending: int = 0) -> dict:
    return {
        "containerInstanceArn": ARN % name,
        "ec2InstanceId": "i-%s" % name,
        "status": status,
        "runningTasksCount": running,
        "pendingTasksCount": pending,
        "agentConnected": True,
    }


def _describe(*instances: dict) -> dict:
    return {"containerInstances": list(instances), "failures": []}


def test_pending_tasks_count_as_tasks_left(aws_env, run_module, clock, stubs):  # pylint: disable=unused-argument
    # moto never has pending tasks: 2 running + 1 pending -> 1 -> 1 (no event) -> 0
    names = {"containerInstanceArns": [ARN % "0a1"]}
    stubs.add_response("ecs", "list_container_instances", names, {"cluster": CLUSTER})
    stubs.add_response(
        "ecs",
        "describe_container_instances",
        _describe(_ci("0a1", "ACTIVE", 2, 1)),
        {"cluster": CLUSTER, "containerInstances": [ARN % "0a1"]},
    )
    stubs.add_response(
        "ecs",
        "update_container_instances_state",
        {"containerInstances": [_ci("0a1", "DRAINING", 2, 1)], "failures": []},
        {"cluster": CLUSTER, "containerInstances": [ARN % "0a1"], "status": "DRAINING"},
    )
    for running in (1, 1, 0):
        stubs.add_response(
            "ecs",
            "describe_container_instances",
            _describe(_ci("0a1", "DRAINING", running)),
            {"cluster": CLUSTER, "containerInstances": [ARN % "0a1"]},
        )

    result = run_module(module_under_test.main, _args(instance_ids=["i-0a1"]))

    assert result["changed"] is True, result
    assert _tasks_left(result) == [{"i-0a1": 3}, {"i-0a1": 1}, {"i-0a1": 0}]
    assert len(clock.sleeps) == 3
    stubs.assert_done()


def test_timeout_with_partial_progress(aws_env, run_module, clock, stubs):  # pylint: disable=unused-argument
    # two instances: one drains after the first poll, the other keeps 2 tasks; 3 polls fit in 30 s at 10 s
    arns = [ARN % "0a1", ARN % "0b2"]
    stubs.add_response(
        "ecs", "describe_container_instances", _describe(_ci("0a1", "ACTIVE", 2), _ci("0b2", "ACTIVE", 1))
    )
    updated = {"containerInstances": [_ci("0a1", "DRAINING", 2), _ci("0b2", "DRAINING", 1)], "failures": []}
    stubs.add_response("ecs", "update_container_instances_state", updated)
    first_poll = _describe(_ci("0a1", "DRAINING", 2), _ci("0b2", "DRAINING", 0))
    stubs.add_response(
        "ecs", "describe_container_instances", first_poll, {"cluster": CLUSTER, "containerInstances": arns}
    )
    for _poll in range(2):
        stubs.add_response(
            "ecs", "describe_container_instances", _describe(_ci("0a1", "DRAINING", 2), _ci("0b2", "DRAINING", 0))
        )

    result = run_module(module_under_test.main, _args(container_instance_arns=arns, wait_timeout=30, poll_interval=10))

    assert result["failed"] is True
    assert "i-0a1 (2 tasks left)" in result["msg"]
    assert "i-0b2" not in result["msg"]
    assert result["changed"] is True
    assert _tasks_left(result) == [{"i-0a1": 2, "i-0b2": 1}, {"i-0a1": 2, "i-0b2": 0}]
    assert clock.sleeps == [10, 10, 10]
    stubs.assert_done()


def test_a_zero_timeout_fails_at_once_with_the_first_snapshot(aws_env, run_module, clock, stubs):  # pylint: disable=unused-argument
    stubs.add_response("ecs", "describe_container_instances", _describe(_ci("0a1", "DRAINING", 1)))
    result = run_module(module_under_test.main, _args(container_instance_arns=[ARN % "0a1"], wait_timeout=0))
    assert result["failed"] is True
    assert "Timed out after 0s" in result["msg"]
    assert result["changed"] is False
    assert _tasks_left(result) == [{"i-0a1": 1}]
    assert clock.sleeps == []
    stubs.assert_done()


def test_refused_state_changes_are_reported(aws_env, run_module, clock, stubs):  # pylint: disable=unused-argument
    stubs.add_response("ecs", "describe_container_instances", _describe(_ci("0a1", "REGISTERING", 0)))
    refused = {
        "containerInstances": [],
        "failures": [{"arn": ARN % "0a1", "reason": "INVALID_STATE", "detail": "registering"}],
    }
    stubs.add_response("ecs", "update_container_instances_state", refused)
    result = run_module(module_under_test.main, _args(container_instance_arns=[ARN % "0a1"]))
    assert result["failed"] is True
    assert (
        "Could not set %s to DRAINING in ECS cluster shop: %s: INVALID_STATE registering" % (ARN % "0a1", ARN % "0a1")
        in result["msg"]
    )
    stubs.assert_done()


# ------------------------------------------------------------------------------------------ docs


def test_documented_options_match_the_argument_spec(docs_match_spec):
    docs_match_spec(module_under_test)


def test_without_wait_reports_progress_and_a_repeat_changes_nothing(aws, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    """The steps of the live-progress action plugin: the first call drains, the polls only read (wait protocol)."""
    instance = _cluster(1)[0]
    task = _start(instance, 2)

    first = run_module(module_under_test.main, _args(instance_ids=[instance["id"]], wait=False))
    assert (first["changed"], first["done"], first["events"]) == (True, False, [])
    assert first["progress"] == "draining 1 instance: %s 2 tasks left" % instance["id"]

    aws_calls.clear()
    poll = run_module(module_under_test.main, _args(instance_ids=[instance["id"]], wait=False))
    assert (poll["changed"], poll["done"]) == (False, False)
    assert "UpdateContainerInstancesState" not in aws_calls.operations()

    _stop(*task)()
    last = run_module(module_under_test.main, _args(instance_ids=[instance["id"]], wait=False))
    assert (last["changed"], last["done"], last["progress"]) == (False, True, "1 instance drained")
    assert clock.sleeps == []
