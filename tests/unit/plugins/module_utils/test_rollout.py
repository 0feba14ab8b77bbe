# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure rollout planner (plugins/module_utils/rollout.py), table-driven."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.megapool.aws.plugins.module_utils import rollout

ARN = "arn:aws:ecs:eu-north-1:123456789012:task-definition/web:%d"
T0 = datetime.datetime(2025, 1, 31, 12, 0, tzinfo=datetime.timezone.utc)


def _request(**extra) -> rollout.RolloutRequest:
    return rollout.validate_rollout(dict(dict(cluster="c", service="web", task_definition="web:3"), **extra))


def _dep(dep_id, revision, state, running, desired=2, status="PRIMARY", **extra):
    return dict(
        id=dep_id,
        status=status,
        taskDefinition=ARN % revision,
        rolloutState=state,
        runningCount=running,
        desiredCount=desired,
        pendingCount=desired - running,
        **extra,
    )


def _svc(revision, deployments, events=(), desired=2):
    return dict(taskDefinition=ARN % revision, desiredCount=desired, deployments=list(deployments), events=list(events))


def _ev(seconds, message):
    return dict(id="e%d" % seconds, createdAt=T0 + datetime.timedelta(seconds=seconds), message=message)


@pytest.mark.parametrize(
    "left, right, same",
    [
        ("web:3", ARN % 3, True),
        (ARN % 3, ARN % 3, True),
        ("web:3", "web:4", False),
        ("web:3", "api:3", False),
        (None, "web:3", False),
        ("arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/web:3", "web:3", True),
    ],
)
def test_same_task_definition(left, right, same):
    assert rollout.same_task_definition(left, right) is same


@pytest.mark.parametrize(
    "params, error",
    [
        (dict(task_definition="web"), "is not a task-definition revision"),
        (dict(task_definition="web:01x"), "is not a task-definition revision"),
        (dict(task_definition="arn:aws:ecs:eu-north-1:1:task-definition/web:3"), "is not a task-definition revision"),
        (dict(service=""), "service is empty"),
        (dict(desired_count=-2), "desired_count must be 0 or more"),
        (dict(wait_timeout=-1), "wait_timeout must be between 0 and 86400"),
        (dict(poll_interval=0), "poll_interval must be more than 0"),
        (dict(events_since="soon"), "events_since='soon' is not an ISO 8601"),
    ],
)
def test_validate_rollout_names_the_option(params, error):
    with pytest.raises(rollout.RolloutError, match=error):
        _request(**params)


def test_validate_rollout_parses_strategy_and_events_since():
    request = _request(strategy="blue_green", events_since="2025-01-31T12:00:00Z")
    assert request.strategy == "BLUE_GREEN"
    assert request.events_since == T0


@pytest.mark.parametrize(
    "service, extra, changes, params",
    [
        (_svc(3, []), {}, (), {}),
        (dict(_svc(3, []), taskDefinition="web:3"), {}, (), {}),
        (_svc(2, []), {}, ("task_definition",), {"taskDefinition": ARN % 3}),
        (_svc(3, []), dict(desired_count=2), (), {}),
        (_svc(3, []), dict(desired_count=4), ("desired_count",), {"desiredCount": 4}),
        (_svc(3, []), dict(force_new_deployment=True), ("force_new_deployment",), {"forceNewDeployment": True}),
        (_svc(3, []), dict(strategy="rolling"), (), {}),
        (
            dict(_svc(3, []), deploymentConfiguration={"maximumPercent": 200}),
            dict(strategy="blue_green"),
            ("strategy",),
            {"deploymentConfiguration": {"maximumPercent": 200, "strategy": "BLUE_GREEN"}},
        ),
    ],
)
def test_plan_rollout(service, extra, changes, params):
    plan = rollout.plan_rollout(service, ARN % 3, _request(**extra))
    assert plan.changes == changes
    assert plan.params == params
    assert plan.update is bool(changes)


@pytest.mark.parametrize(
    "service, deployment_id, done, failed, reason",
    [
        # in progress, then completed
        (
            _svc(3, [_dep("n", 3, "IN_PROGRESS", 1), _dep("o", 2, "COMPLETED", 1, status="ACTIVE")]),
            "n",
            False,
            False,
            "",
        ),
        (_svc(3, [_dep("n", 3, "COMPLETED", 2)]), "n", True, False, ""),
        # COMPLETED but not all running yet (a scale-up after the rollout)
        (_svc(3, [_dep("n", 3, "COMPLETED", 1)]), "n", False, False, ""),
        # no rollout state: steady when alone and running everything
        (_svc(3, [dict(_dep("n", 3, None, 2))]), "n", True, False, ""),
        (_svc(3, [dict(_dep("n", 3, None, 2)), _dep("o", 2, None, 0, status="ACTIVE")]), "n", False, False, ""),
        # the followed deployment FAILED
        (
            _svc(3, [_dep("n", 3, "FAILED", 0, rolloutStateReason="tasks failed")]),
            "n",
            True,
            True,
            "FAILED (tasks failed)",
        ),
        # a rollback deployment replaced it (circuit breaker), with or without the failed one still listed
        (_svc(2, [_dep("r", 2, "IN_PROGRESS", 0)]), "n", True, True, "the service now runs web:2"),
        (
            _svc(2, [_dep("r", 2, "IN_PROGRESS", 0), _dep("n", 3, "FAILED", 0, status="ACTIVE")]),
            "n",
            True,
            True,
            "rolling the service back to web:2",
        ),
        # followed deployment gone but the primary is on the wanted revision (someone forced a new deployment)
        (_svc(3, [_dep("x", 3, "IN_PROGRESS", 0)]), "n", True, True, "the deployment n of web:3 is gone"),
        # no deployment id: the primary
        (_svc(3, [_dep("n", 3, "COMPLETED", 2)]), None, True, False, ""),
        (_svc(2, [_dep("o", 2, "COMPLETED", 2)]), None, True, True, "the service now runs web:2"),
    ],
)
def test_assess(service, deployment_id, done, failed, reason):
    result = rollout.assess(service, ARN % 3, deployment_id, None)
    assert (result.done, result.failed) == (done, failed)
    assert reason in result.reason


@pytest.mark.parametrize(
    "message, failed",
    [
        ("(service web) (deployment n) deployment failed: tasks failed to start.", True),
        (
            "(service web) deployment ecs-svc/n deployment circuit breaker: rolling back to deploymentId ecs-svc/o.",
            True,
        ),
        ("(service web) (deployment ecs-svc/other) deployment failed: tasks failed to start.", False),
        ("(service web) has started 2 tasks: (task a).", False),
    ],
)
def test_failure_events_of_the_followed_deployment(message, failed):
    service = _svc(3, [_dep("ecs-svc/n", 3, "IN_PROGRESS", 0)], [_ev(5, message)])
    assert rollout.assess(service, ARN % 3, "ecs-svc/n", T0).failed is failed


def test_new_events_are_after_the_cursor_oldest_first():
    service = _svc(3, [], [_ev(9, "c"), _ev(5, "b"), _ev(0, "a")])
    assert rollout.new_events(service, T0) == ["2025-01-31T12:00:05Z b", "2025-01-31T12:00:09Z c"]
    assert rollout.new_events(service, None)[0] == "2025-01-31T12:00:00Z a"
    assert rollout.newest_event_time(service) == T0 + datetime.timedelta(seconds=9)
    assert rollout.newest_event_time(_svc(3, [])) is None


@pytest.mark.parametrize(
    "deployment, count, line",
    [
        (_dep("n", 3, "IN_PROGRESS", 1), 2, "rollout IN_PROGRESS: running 1/2, pending 1, 2 deployments"),
        (_dep("n", 3, "COMPLETED", 2), 1, "rollout COMPLETED: running 2/2, pending 0, 1 deployment"),
        (
            dict(_dep("n", 3, "IN_PROGRESS", 0), failedTasks=1),
            2,
            "rollout IN_PROGRESS: running 0/2, pending 2, 2 deployments, 1 failed task",
        ),
    ],
)
def test_progress_line(deployment, count, line):
    service = dict(deployments=[deployment] * count)
    assert rollout.progress_line(service, deployment) == line


def test_diff_view_and_results():
    td = dict(
        taskDefinitionArn=ARN % 3,
        containerDefinitions=[dict(name="web", image="repo/web:1.4.2"), dict(name="side", image="x:1")],
    )
    assert rollout.diff_view(_svc(2, []), td, 4) == {
        "task_definition": "web:3",
        "images": {"web": "repo/web:1.4.2", "side": "x:1"},
        "desired_count": 4,
    }
    service = dict(_svc(3, [_dep("n", 3, "COMPLETED", 2)], [_ev(0, "a")]), serviceName="web")
    result = rollout.service_result(service)
    assert "events" not in result and result["service_name"] == "web"
    assert result["deployments"][0]["rollout_state"] == "COMPLETED"
