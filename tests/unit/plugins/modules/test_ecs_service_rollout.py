# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.ecs_service_rollout: botocore Stubber sequences for the deployment's progress (moto never moves an
ECS deployment forward), and moto in-process for what moto does play (the update, idempotence, check mode, errors).
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ansible_collections.megapool.aws.plugins.modules import ecs_service_rollout as module_under_test

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "scripts"))

from emulator_ext import ecs_blue_green  # noqa: E402  pylint: disable=wrong-import-position
from emulator_ext import ecs_deployments  # noqa: E402  pylint: disable=wrong-import-position

REGION = "eu-north-1"
CLUSTER = "megapool-local"
SERVICE = "web"
ACCOUNT = "123456789012"
T0 = datetime.datetime(2025, 1, 31, 12, 0, 0, tzinfo=datetime.timezone.utc)


def _td_arn(revision: int) -> str:
    return "arn:aws:ecs:%s:%s:task-definition/web-megapool-local:%d" % (REGION, ACCOUNT, revision)


class EcsStub:
    """One Stubber on the module's ECS client; responses in the order the module asks."""

    def __init__(self) -> None:
        self.client = boto3.client("ecs", region_name=REGION)
        self.stubber = Stubber(self.client)

    def service(self, service: dict) -> None:
        self.stubber.add_response(
            "describe_services", {"services": [service], "failures": []}, {"cluster": CLUSTER, "services": [SERVICE]}
        )

    def task_definition(self, revision: int, image: str) -> None:
        body = {
            "taskDefinitionArn": _td_arn(revision),
            "family": "web-megapool-local",
            "revision": revision,
            "containerDefinitions": [{"name": "web", "image": image}],
        }
        self.stubber.add_response("describe_task_definition", {"taskDefinition": body})

    def update(self, service: dict, expected: dict) -> None:
        self.stubber.add_response(
            "update_service", {"service": service}, dict(cluster=CLUSTER, service=SERVICE, **expected)
        )


@pytest.fixture
def ecs(aws_env, monkeypatch) -> EcsStub:  # pylint: disable=unused-argument
    stub = EcsStub()
    monkeypatch.setattr(module_under_test.MegapoolAWSModule, "client", lambda self, name, *a, **k: stub.client)
    stub.stubber.activate()
    yield stub
    stub.stubber.assert_no_pending_responses()


def _deployment(
    dep_id: str, revision: int, state: str, running: int, desired: int = 2, status: str = "PRIMARY", **extra: Any
) -> dict:
    return dict(
        id=dep_id,
        status=status,
        taskDefinition=_td_arn(revision),
        desiredCount=desired,
        runningCount=running,
        pendingCount=desired - running if state == "IN_PROGRESS" else 0,
        failedTasks=extra.pop("failedTasks", 0),
        rolloutState=state,
        rolloutStateReason=extra.pop("reason", "ECS deployment %s %s." % (dep_id, state.lower())),
        createdAt=T0,
        updatedAt=T0,
        **extra,
    )


def _event(seconds: int, message: str) -> dict:
    return {"id": "ev-%d" % seconds, "createdAt": T0 + datetime.timedelta(seconds=seconds), "message": message}


def _service(revision: int, deployments: list[dict], events: list[dict] | None = None, desired: int = 2) -> dict:
    return dict(
        serviceName=SERVICE,
        serviceArn="arn:aws:ecs:%s:%s:service/%s/%s" % (REGION, ACCOUNT, CLUSTER, SERVICE),
        clusterArn="arn:aws:ecs:%s:%s:cluster/%s" % (REGION, ACCOUNT, CLUSTER),
        status="ACTIVE",
        taskDefinition=_td_arn(revision),
        desiredCount=desired,
        runningCount=sum(item["runningCount"] for item in deployments),
        pendingCount=sum(item["pendingCount"] for item in deployments),
        deployments=deployments,
        # ECS lists the newest event first
        events=sorted(events or [], key=lambda event: event["createdAt"], reverse=True),
    )


OLD = _deployment("ecs-svc/old", 2, "COMPLETED", 2)
STARTED = [_event(0, "(service web) has reached a steady state.")]


def _args(**extra: Any) -> dict[str, Any]:
    base = dict(
        cluster=CLUSTER,
        service=SERVICE,
        task_definition="web-megapool-local:3",
        region=REGION,
        poll_interval=5,
        wait_timeout=60,
    )
    base.update(extra)
    return base


def _queue_start(ecs: EcsStub) -> None:
    """The reads before the change: the service on :2 (COMPLETED), the wanted :3 and the current :2."""
    ecs.service(_service(2, [OLD], STARTED))
    ecs.task_definition(3, "repo/web:1.4.2")
    ecs.task_definition(2, "repo/web:1.4.1")


def _in_progress(running: int, events: list[dict] | None = None, **extra: Any) -> dict:
    new = _deployment("ecs-svc/new", 3, "IN_PROGRESS", running, **extra)
    old = dict(OLD, status="ACTIVE", runningCount=2 - running)
    return _service(3, [new, old], STARTED + (events or []))


# ------------------------------------------------------------------------------------------ progress (Stubber)


def test_waits_from_in_progress_to_completed_and_reports_new_events(ecs, run_module, clock):
    _queue_start(ecs)
    ecs.update(_in_progress(0), {"taskDefinition": _td_arn(3)})
    ecs.service(_in_progress(1, [_event(5, "(service web) has started 2 tasks: (task a) (task b).")]))
    done = _service(
        3,
        [_deployment("ecs-svc/new", 3, "COMPLETED", 2)],
        STARTED
        + [
            _event(5, "(service web) has started 2 tasks: (task a) (task b)."),
            _event(12, "(service web) has reached a steady state."),
        ],
    )
    ecs.service(done)

    result = run_module(module_under_test.main, _args(), diff=True)

    assert not result.get("failed"), result
    assert result["changed"] is True and result["done"] is True
    assert result["progress"] == "rollout COMPLETED: running 2/2, pending 0, 1 deployment"
    assert result["deployment"]["id"] == "ecs-svc/new" and result["deployment"]["rollout_state"] == "COMPLETED"
    assert result["previous_task_definition"] == _td_arn(2)
    # only the events after the call started, oldest first
    assert result["events"] == [
        "2025-01-31T12:00:05Z (service web) has started 2 tasks: (task a) (task b).",
        "2025-01-31T12:00:12Z (service web) has reached a steady state.",
    ]
    assert result["diff"] == {
        "before": {"task_definition": "web-megapool-local:2", "images": {"web": "repo/web:1.4.1"}, "desired_count": 2},
        "after": {"task_definition": "web-megapool-local:3", "images": {"web": "repo/web:1.4.2"}, "desired_count": 2},
    }
    assert clock.sleeps == [5, 5]


def test_in_progress_then_failed_fails_with_the_events(ecs, run_module, clock):
    _queue_start(ecs)
    ecs.update(_in_progress(0), {"taskDefinition": _td_arn(3)})
    ecs.service(_in_progress(0, [_event(5, "(service web) has started 2 tasks: (task a) (task b).")]))
    failing = _event(8, "(service web) (deployment ecs-svc/new) deployment failed: tasks failed to start.")
    ecs.service(
        _in_progress(0, [_event(5, "(service web) has started 2 tasks: (task a) (task b)."), failing], failedTasks=3)
    )

    result = run_module(module_under_test.main, _args())

    assert result["failed"] is True and result["changed"] is True
    assert "Rollout of web-megapool-local:3 on ECS service web (cluster megapool-local) failed" in result["msg"]
    assert "deployment failed: tasks failed to start" in result["msg"]
    assert result["events"] == [
        "2025-01-31T12:00:05Z (service web) has started 2 tasks: (task a) (task b).",
        "2025-01-31T12:00:08Z (service web) (deployment ecs-svc/new) deployment failed: tasks failed to start.",
    ]
    assert result["progress"] == "rollout IN_PROGRESS: running 0/2, pending 2, 2 deployments, 3 failed tasks"
    assert clock.sleeps == [5, 5]


def test_rollout_state_failed_is_a_failure_even_without_events(ecs, run_module, clock):  # pylint: disable=unused-argument
    _queue_start(ecs)
    ecs.update(_in_progress(0), {"taskDefinition": _td_arn(3)})
    failed_new = _deployment(
        "ecs-svc/new", 3, "FAILED", 0, failedTasks=2, reason="ECS deployment circuit breaker: tasks failed to start."
    )
    ecs.service(_service(3, [failed_new, dict(OLD, status="ACTIVE")], STARTED))

    result = run_module(module_under_test.main, _args())

    assert result["failed"] is True
    assert "FAILED (ECS deployment circuit breaker: tasks failed to start.)" in result["msg"]
    assert result["deployment"]["failed_tasks"] == 2
    assert "2 failed tasks" in result["progress"]


def test_a_circuit_breaker_rollback_is_detected(ecs, run_module, clock):  # pylint: disable=unused-argument
    _queue_start(ecs)
    ecs.update(_in_progress(0), {"taskDefinition": _td_arn(3)})
    ecs.service(_in_progress(0))
    # ECS started a new PRIMARY deployment back on :2; the failed one is gone already
    rollback = _deployment(
        "ecs-svc/rollback",
        2,
        "IN_PROGRESS",
        1,
        reason="ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/old.",
    )
    ecs.service(_service(2, [rollback]))

    result = run_module(module_under_test.main, _args())

    assert result["failed"] is True
    assert "the service now runs web-megapool-local:2" in result["msg"]
    assert result["deployment"]["id"] == "ecs-svc/rollback"
    assert result["previous_task_definition"] == _td_arn(2)


def test_rollback_events_on_the_followed_deployment_fail_it(ecs, run_module, clock):  # pylint: disable=unused-argument
    _queue_start(ecs)
    ecs.update(_in_progress(0), {"taskDefinition": _td_arn(3)})
    event = _event(
        20,
        "(service web) (deployment ecs-svc/new) deployment circuit breaker: rolling back to deploymentId ecs-svc/old.",
    )
    ecs.service(_in_progress(0, [event], failedTasks=4))

    result = run_module(module_under_test.main, _args())

    assert result["failed"] is True
    assert "rolling back to deploymentId ecs-svc/old" in result["msg"]


def test_timeout_names_wait_timeout_and_the_last_progress(ecs, run_module, clock):
    _queue_start(ecs)
    ecs.update(_in_progress(0), {"taskDefinition": _td_arn(3)})
    for _poll in range(3):
        ecs.service(_in_progress(1))

    result = run_module(module_under_test.main, _args(wait_timeout=15))

    assert result["failed"] is True and result["changed"] is True
    assert "wait_timeout=15s" in result["msg"]
    assert "last progress: rollout IN_PROGRESS: running 1/2, pending 1, 2 deployments" in result["msg"]
    assert result["done"] is False
    assert clock.sleeps == [5, 5, 5]


def test_without_wait_returns_after_one_read(ecs, run_module, clock):
    _queue_start(ecs)
    ecs.update(_in_progress(0), {"taskDefinition": _td_arn(3), "desiredCount": 3})

    result = run_module(module_under_test.main, _args(wait=False, desired_count=3))

    assert not result.get("failed"), result
    assert result["changed"] is True and result["done"] is False
    assert result["progress"] == "rollout IN_PROGRESS: running 0/2, pending 2, 2 deployments"
    assert result["events_since"] == "2025-01-31T12:00:00+00:00"
    assert clock.sleeps == []


def test_following_a_deployment_makes_no_change(ecs, run_module, clock):  # pylint: disable=unused-argument
    # a poll of the action plugin: the service already on :3, the deployment in progress; no UpdateService queued
    ecs.service(_in_progress(1))
    ecs.task_definition(3, "repo/web:1.4.2")

    result = run_module(
        module_under_test.main,
        _args(wait=False, deployment_id="ecs-svc/new", events_since="2025-01-31T12:00:00Z", force_new_deployment=True),
    )

    assert not result.get("failed"), result
    assert result["changed"] is False and result["done"] is False
    assert result["progress"] == "rollout IN_PROGRESS: running 1/2, pending 1, 2 deployments"


def test_a_poll_after_the_rollback_finished_does_not_deploy_again(ecs, run_module, clock):  # pylint: disable=unused-argument
    rollback = _deployment("ecs-svc/rollback", 2, "COMPLETED", 2)
    ecs.service(_service(2, [rollback]))
    ecs.task_definition(3, "repo/web:1.4.2")
    ecs.task_definition(2, "repo/web:1.4.1")

    result = run_module(module_under_test.main, _args(wait=False, deployment_id="ecs-svc/new"))

    assert result["failed"] is True and result["changed"] is False
    assert "the service now runs web-megapool-local:2" in result["msg"]


def test_refuses_to_redeploy_a_revision_ecs_is_rolling_back(ecs, run_module, clock):  # pylint: disable=unused-argument
    failed_new = _deployment(
        "ecs-svc/new", 3, "FAILED", 0, status="ACTIVE", failedTasks=3, reason="tasks failed to start"
    )
    rollback = _deployment("ecs-svc/rollback", 2, "IN_PROGRESS", 1)
    ecs.service(_service(2, [rollback, failed_new]))
    ecs.task_definition(3, "repo/web:1.4.2")
    ecs.task_definition(2, "repo/web:1.4.1")

    result = run_module(module_under_test.main, _args())

    assert result["failed"] is True and result["changed"] is False
    assert (
        "Not deploying it again" in result["msg"]
        and "rolling the service back to web-megapool-local:2" in result["msg"]
    )


def test_already_deployed_and_completed_is_a_no_op(ecs, run_module, clock):
    ecs.service(_service(3, [_deployment("ecs-svc/new", 3, "COMPLETED", 2)], STARTED))
    ecs.task_definition(3, "repo/web:1.4.2")

    result = run_module(module_under_test.main, _args(task_definition=_td_arn(3)), diff=True)

    assert not result.get("failed"), result
    assert result["changed"] is False and result["done"] is True and result["events"] == []
    assert result["diff"]["before"] == result["diff"]["after"]
    assert clock.sleeps == []


def test_an_earlier_rollout_still_in_progress_is_awaited_without_a_change(ecs, run_module, clock):
    ecs.service(_in_progress(1))
    ecs.task_definition(3, "repo/web:1.4.2")
    ecs.service(_service(3, [_deployment("ecs-svc/new", 3, "COMPLETED", 2)]))

    result = run_module(module_under_test.main, _args())

    assert result["changed"] is False and result["done"] is True
    assert clock.sleeps == [5]


# ------------------------------------------------------------------------------------------ moto in-process


@pytest.fixture
def moto_service(aws_env, monkeypatch):  # pylint: disable=unused-argument
    """A cluster, revisions :1 and :2 of web-megapool-local, the service on :1 (moto: COMPLETED with 0 desired)."""
    monkeypatch.delenv("MOTO_ECS_SERVICE_RUNNING", raising=False)
    with mock_aws():
        ecs = boto3.client("ecs", region_name=REGION)
        ecs.create_cluster(clusterName=CLUSTER)
        for tag in ("1.4.1", "1.4.2"):
            ecs.register_task_definition(
                family="web-megapool-local",
                containerDefinitions=[{"name": "web", "image": "repo/web:%s" % tag, "memory": 128}],
            )
        ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition="web-megapool-local:1", desiredCount=0)
        yield ecs


def test_moto_check_mode_reports_the_change_without_writing(moto_service, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    result = run_module(
        module_under_test.main, _args(task_definition="web-megapool-local:2"), check_mode=True, diff=True
    )

    assert not result.get("failed"), result
    assert result["changed"] is True and result["done"] is False
    assert "would update service web (task_definition)" in result["progress"]
    assert result["diff"]["before"]["images"] == {"web": "repo/web:1.4.1"}
    assert result["diff"]["after"]["images"] == {"web": "repo/web:1.4.2"}
    assert aws_calls.writes() == []
    service = moto_service.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert service["taskDefinition"].endswith("web-megapool-local:1")


def test_plain_moto_never_starts_the_deployment_and_the_module_says_so(moto_service, run_module, clock):  # pylint: disable=unused-argument
    # moto keeps the old PRIMARY deployment on :1 after the update: no deployment of :2 is followed, none is faked
    result = run_module(module_under_test.main, _args(task_definition="web-megapool-local:2", wait=False))
    assert result["failed"] is True and result["changed"] is True
    assert "never started: the service now runs web-megapool-local:1" in result["msg"]


def test_with_the_emulator_extension_update_completes_then_idempotent(
    moto_service, run_module, aws_calls, clock, monkeypatch
):  # pylint: disable=unused-argument
    monkeypatch.setenv(ecs_deployments.DEPLOY_SECONDS_ENV, "0")
    with ecs_deployments.installed():
        first = run_module(module_under_test.main, _args(task_definition="web-megapool-local:2"))
        assert not first.get("failed"), first
        assert first["changed"] is True and first["done"] is True
        assert (
            aws_calls.of("UpdateService")[0].params["taskDefinition"].endswith(":task-definition/web-megapool-local:2")
        )
        assert first["previous_task_definition"].endswith("web-megapool-local:1")
        assert first["deployment"]["task_definition"].endswith("web-megapool-local:2")
        assert first["progress"] == "rollout COMPLETED: running 0/0, pending 0, 1 deployment"

        aws_calls.clear()
        second = run_module(module_under_test.main, _args(task_definition="web-megapool-local:2"))
        assert not second.get("failed"), second
        assert second["changed"] is False and second["done"] is True
        assert aws_calls.writes() == []


def test_moto_check_mode_of_a_no_op_is_no_change(moto_service, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, _args(task_definition="web-megapool-local:1"), check_mode=True)
    assert result["changed"] is False and result["done"] is True
    assert aws_calls.writes() == []


def test_moto_blue_green_without_its_load_balancer_is_refused_and_nothing_changes(
    moto_service,
    run_module,
    aws_calls,
    clock,  # pylint: disable=unused-argument
):
    # AWS refuses BLUE_GREEN on a service without an alternate target group, production rule and role; so does the
    # emulator (ecs_blue_green). The strategy goes into the deploymentConfiguration of the one UpdateService.
    ecs_blue_green.apply()
    try:
        result = run_module(
            module_under_test.main,
            _args(task_definition="web-megapool-local:1", strategy="blue_green", bake_time_minutes=5, wait=False),
        )
    finally:
        ecs_blue_green.remove()
    assert result["failed"] is True and "InvalidParameterException" in str(result), result
    sent = aws_calls.of("UpdateService")[0].params["deploymentConfiguration"]
    assert (sent["strategy"], sent["bakeTimeInMinutes"]) == ("BLUE_GREEN", 5)
    service = moto_service.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert (service.get("deploymentConfiguration") or {}).get("strategy") in (None, "ROLLING")


# ------------------------------------------------------------------------------------------ blue/green (moto + extensions)

ROLE = "arn:aws:iam::123456789012:role/megapool-local-ecs-infrastructure"


@pytest.fixture
def blue_green_world(aws_env, monkeypatch, blue_green_alb):  # pylint: disable=unused-argument
    """moto with ecs_deployments (0 s deployments) and ecs_blue_green: an ALB rule over two target groups, the service on :1."""
    monkeypatch.setenv(ecs_deployments.DEPLOY_SECONDS_ENV, "0")
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "1")
    with mock_aws(), ecs_deployments.installed():
        ecs_blue_green.apply()
        try:
            alb = blue_green_alb(REGION)
            elbv2, blue, green, rule = alb["elbv2"], alb["blue"], alb["green"], alb["rule"]
            ecs = boto3.client("ecs", region_name=REGION)
            ecs.create_cluster(clusterName=CLUSTER)
            for tag in ("1.4.1", "1.4.2", "1.4.3"):
                ecs.register_task_definition(
                    family="web-megapool-local",
                    containerDefinitions=[{"name": "web", "image": "repo/web:%s" % tag, "memory": 128}],
                )
            ecs.create_service(
                cluster=CLUSTER,
                serviceName=SERVICE,
                taskDefinition="web-megapool-local:1",
                desiredCount=1,
                loadBalancers=[{"targetGroupArn": blue, "containerName": "web", "containerPort": 4000}],
            )
            ecs.describe_services(cluster=CLUSTER, services=[SERVICE])
            yield dict(ecs=ecs, elbv2=elbv2, blue=blue, green=green, rule=rule)
        finally:
            ecs_blue_green.remove()


def _lbs(world, primary="blue", alternate="green") -> list[dict]:
    return [
        {
            "targetGroupArn": world[primary],
            "containerName": "web",
            "containerPort": 4000,
            "advancedConfiguration": {
                "alternateTargetGroupArn": world[alternate],
                "productionListenerRule": world["rule"],
                "roleArn": ROLE,
            },
        }
    ]


def _live(world) -> str:
    rule = world["elbv2"].describe_rules(RuleArns=[world["rule"]])["Rules"][0]
    groups = rule["Actions"][0]["ForwardConfig"]["TargetGroups"]
    heavy = max(groups, key=lambda group: int(group["Weight"]))["TargetGroupArn"]
    return "blue" if heavy == world["blue"] else "green"


def _bg_args(world, revision: int, **extra: Any) -> dict[str, Any]:
    base = dict(
        task_definition="web-megapool-local:%d" % revision,
        strategy="blue_green",
        bake_time_minutes=0,
        load_balancers=_lbs(world),
    )
    base.update(extra)
    return _args(**base)


def test_blue_green_deploys_flip_the_rule_and_a_rerun_changes_nothing(blue_green_world, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    world = blue_green_world
    first = run_module(module_under_test.main, _bg_args(world, 2))
    assert not first.get("failed"), first
    assert first["changed"] is True and first["done"] is True
    sent = aws_calls.of("UpdateService")[0].params
    assert sent["deploymentConfiguration"]["strategy"] == "BLUE_GREEN" and sent["loadBalancers"] == _lbs(world)
    assert _live(world) == "green"
    assert first["lifecycle_stage"] == "CLEAN_UP" and first["progress"].startswith(
        "blue/green CLEAN_UP (SUCCESSFUL) | rollout COMPLETED"
    )

    # the same inputs again: the target groups are a pair in either order, nothing is sent (ECS owns who is live)
    aws_calls.clear()
    again = run_module(module_under_test.main, _bg_args(world, 2))
    assert again["changed"] is False and aws_calls.writes() == []
    assert _live(world) == "green"

    # the next release goes the other way round; the entry sent names the live group first
    aws_calls.clear()
    third = run_module(module_under_test.main, _bg_args(world, 3, load_balancers=_lbs(world, "green", "blue")))
    assert not third.get("failed"), third
    assert "loadBalancers" not in aws_calls.of("UpdateService")[0].params
    assert _live(world) == "blue"


def test_blue_green_check_mode_writes_nothing(blue_green_world, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    world = blue_green_world
    result = run_module(module_under_test.main, _bg_args(world, 2), check_mode=True, diff=True)
    assert result["changed"] is True and result["done"] is False
    assert "strategy" in result["progress"] and "load_balancers" in result["progress"]
    assert aws_calls.writes() == []
    assert _live(world) == "blue"


def test_back_to_rolling_keeps_the_service_on_the_live_target_group(blue_green_world, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    world = blue_green_world
    assert not run_module(module_under_test.main, _bg_args(world, 2)).get("failed")
    assert _live(world) == "green"
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(task_definition="web-megapool-local:2", strategy="rolling"))
    assert not result.get("failed"), result
    sent = aws_calls.of("UpdateService")[0].params
    assert (
        sent["deploymentConfiguration"]["strategy"] == "ROLLING"
        and "bakeTimeInMinutes" not in sent["deploymentConfiguration"]
    )
    assert sent["loadBalancers"] == [{"targetGroupArn": world["green"], "containerName": "web", "containerPort": 4000}]


def test_back_to_rolling_after_the_alb_role_removed_the_rule_and_the_alternate_group(  # pylint: disable=unused-argument
    blue_green_world, run_module, aws_calls, clock
):
    # alb_blue_green false runs before the release (site.yml): the production rule and the alternate target group are
    # gone when the service goes back to rolling (the role removes them only while the primary group is live).
    world = blue_green_world
    assert not run_module(module_under_test.main, _bg_args(world, 2)).get("failed")
    assert not run_module(module_under_test.main, _bg_args(world, 3)).get("failed")
    assert _live(world) == "blue"
    world["elbv2"].delete_rule(RuleArn=world["rule"])
    world["elbv2"].delete_target_group(TargetGroupArn=world["green"])
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(task_definition="web-megapool-local:3", strategy="rolling"))
    assert not result.get("failed"), result
    sent = aws_calls.of("UpdateService")[0].params
    assert sent["deploymentConfiguration"]["strategy"] == "ROLLING"
    assert sent["loadBalancers"] == [{"targetGroupArn": world["blue"], "containerName": "web", "containerPort": 4000}]


HOOK = {
    "hook_target_arn": "arn:aws:lambda:eu-north-1:123456789012:function:smoke-test:live",
    "role_arn": "arn:aws:iam::123456789012:role/megapool-local-ecs-hooks",
    "lifecycle_stages": ["POST_TEST_TRAFFIC_SHIFT"],
}


def test_lifecycle_hooks_are_sent_once_with_the_blue_green_update(blue_green_world, run_module, aws_calls, clock):  # pylint: disable=unused-argument
    world = blue_green_world
    first = run_module(module_under_test.main, _bg_args(world, 2, lifecycle_hooks=[HOOK]))
    assert not first.get("failed"), first
    sent = aws_calls.of("UpdateService")[0].params["deploymentConfiguration"]
    assert sent["strategy"] == "BLUE_GREEN"
    assert sent["lifecycleHooks"] == [
        {
            "hookTargetArn": HOOK["hook_target_arn"],
            "roleArn": HOOK["role_arn"],
            "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
        }
    ]
    aws_calls.clear()
    again = run_module(module_under_test.main, _bg_args(world, 2, lifecycle_hooks=[HOOK]))
    assert again["changed"] is False and aws_calls.writes() == []
    # an empty list removes them
    removed = run_module(module_under_test.main, _bg_args(world, 2, lifecycle_hooks=[]), check_mode=True)
    assert removed["changed"] is True and "lifecycle_hooks" in removed["progress"]


@pytest.mark.parametrize(
    "hook, message",
    [
        (
            dict(HOOK, hook_target_arn="arn:aws:sns:eu-north-1:123456789012:topic"),
            "lifecycle_hooks[0].hook_target_arn='arn:aws:sns:",
        ),
        (
            dict(HOOK, role_arn="megapool-local-ecs-hooks"),
            "lifecycle_hooks[0].role_arn='megapool-local-ecs-hooks' is not an IAM role ARN",
        ),
        (
            dict(HOOK, lifecycle_stages=["BAKE_TIME"]),
            "lifecycle_hooks[0].lifecycle_stages has 'BAKE_TIME', which ECS does not run hooks at",
        ),
        (
            dict(HOOK, lifecycle_stages=[]),
            "lifecycle_hooks[0].lifecycle_stages must list one or more of: RECONCILE_SERVICE",
        ),
    ],
)
def test_bad_lifecycle_hooks_fail_before_any_aws_call(aws_env, run_module, aws_calls, hook, message):  # pylint: disable=unused-argument
    result = run_module(
        module_under_test.main, _args(strategy="blue_green", load_balancers=_bad_lbs(), lifecycle_hooks=[hook])
    )
    assert result["failed"] is True and message in result["msg"], result["msg"]
    assert aws_calls == []


def test_lifecycle_hooks_with_rolling_are_refused(aws_env, run_module, aws_calls):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, _args(strategy="rolling", lifecycle_hooks=[HOOK]))
    assert result["failed"] is True and "use them with strategy=blue_green" in result["msg"], result["msg"]
    assert aws_calls == []


def test_the_hook_stages_come_from_botocores_model():
    stages = module_under_test.hook_stages()
    assert (
        "POST_TEST_TRAFFIC_SHIFT" in stages and "PRE_PRODUCTION_TRAFFIC_SHIFT" in stages and "BAKE_TIME" not in stages
    )


def _bad_lbs() -> list[dict]:
    return [
        {
            "targetGroupArn": "arn:tg",
            "containerName": "web",
            "containerPort": 4000,
            "advancedConfiguration": {
                "alternateTargetGroupArn": "arn:alt",
                "productionListenerRule": "arn:rule",
                "roleArn": ROLE,
            },
        }
    ]


@pytest.mark.parametrize(
    "args, message",
    [
        (dict(bake_time_minutes=1441), "bake_time_minutes must be between 0 and 1440"),
        (dict(load_balancers=[{"containerName": "web"}]), "load_balancers[0] needs a targetGroupArn"),
        (
            dict(strategy="blue_green", load_balancers=[{"targetGroupArn": "arn:tg"}]),
            "strategy=blue_green needs advancedConfiguration",
        ),
    ],
)
def test_bad_blue_green_input_fails_before_any_aws_call(aws_env, run_module, aws_calls, args, message):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, _args(**args))
    assert result["failed"] is True and message in result["msg"], result["msg"]
    assert aws_calls == []


@pytest.mark.parametrize(
    "args, message",
    [
        (dict(service="nope"), "ECS service nope not found"),
        (dict(cluster="nope"), "ECS cluster nope not found"),
        (
            dict(task_definition="web-megapool-local:9"),
            "task_definition=web-megapool-local:9 is not a registered task definition",
        ),
    ],
)
def test_moto_missing_things_fail_before_any_change(moto_service, run_module, aws_calls, clock, args, message):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, _args(**args))
    assert result["failed"] is True and message in result["msg"], result["msg"]
    assert aws_calls.writes() == []


@pytest.mark.parametrize(
    "args, message",
    [
        (
            dict(task_definition="web-megapool-local"),
            "task_definition='web-megapool-local' is not a task-definition revision",
        ),
        (dict(task_definition="web:0"), "is not a task-definition revision"),
        (dict(desired_count=-1), "desired_count must be 0 or more"),
        (dict(wait_timeout=100000), "wait_timeout must be between 0 and 86400"),
        (dict(poll_interval=0), "poll_interval must be more than 0"),
        (dict(events_since="yesterday"), "events_since='yesterday' is not an ISO 8601 timestamp"),
        (dict(cluster=" "), "cluster is empty"),
    ],
)
def test_bad_input_fails_before_any_aws_call(aws_env, run_module, aws_calls, args, message):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, _args(**args))
    assert result["failed"] is True and message in result["msg"], result["msg"]
    assert aws_calls == []


# ------------------------------------------------------------------------------------------ docs


def test_documented_options_match_the_argument_spec(docs_match_spec):
    docs_match_spec(module_under_test)
