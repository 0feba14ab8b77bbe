# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live-progress action plugin base (plugins/plugin_utils/progress.py), driven through the ecs_service_rollout
action plugin with a fake ``_execute_module`` that returns a scripted sequence of module results."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from ansible.playbook.task import Task

from ansible_collections.megapool.aws.plugins.action import acm_certificate_request as acm_action
from ansible_collections.megapool.aws.plugins.action import ecs_service_rollout as rollout_action
from ansible_collections.megapool.aws.plugins.action import ecs_task_gate as gate_action
from ansible_collections.megapool.aws.plugins.plugin_utils import progress

ARGS = dict(cluster="megapool-local", service="web", task_definition="web:3", poll_interval=5, wait_timeout=60)


def _step(
    done: bool, progress_line: str, events: list[str] | None = None, changed: bool = False, **extra: Any
) -> dict[str, Any]:
    return dict(
        changed=changed,
        done=done,
        progress=progress_line,
        events=events or [],
        deployment={"id": "ecs-svc/new"},
        events_since="2025-01-31T12:00:00+00:00",
        **extra,
    )


class Harness:
    """An ActionModule with a fake task, connection, clock, sleep and module; records the calls and the screen."""

    def __init__(
        self,
        results: list[dict[str, Any]],
        args: dict[str, Any] | None = None,
        check_mode: bool = False,
        async_val: int = 0,
        plugin: Any = rollout_action,
        name: str = "ecs_service_rollout",
        delegate_to: str | None = None,
        no_log: bool = False,
        play_no_log: bool = False,
    ) -> None:
        task = mock.MagicMock(spec=Task)
        task.args = dict(ARGS if args is None else args)
        task.action = "megapool.aws." + name
        task.resolved_action = "megapool.aws." + name
        self.name = task.action
        task.check_mode = check_mode
        task.async_val = async_val
        task.delegate_to = delegate_to
        task.no_log = no_log
        play_context = mock.MagicMock()
        play_context.no_log = play_no_log
        connection = mock.MagicMock()
        connection._shell.tmpdir = None
        connection.has_native_async = False
        self.action = plugin.ActionModule(task, connection, play_context, mock.MagicMock(), mock.MagicMock(), None)
        self.results = list(results)
        self.calls: list[dict[str, Any]] = []
        self.sleeps: list[float] = []
        self.now = 0.0
        self.action._execute_module = self._execute_module
        self.action._clock = lambda: self.now
        self.action._sleep = self._sleep
        self.action._remove_tmp_path = lambda path: None

    def _execute_module(self, module_name=None, module_args=None, task_vars=None, wrap_async=False):  # pylint: disable=unused-argument
        assert module_name == self.name
        self.calls.append(dict(module_args))
        return dict(self.results.pop(0))

    def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def run(self) -> dict[str, Any]:
        return self.action.run(task_vars={"inventory_hostname": "eu-north-1"})


@pytest.fixture
def screen(monkeypatch) -> list[str]:
    """The lines shown through the display; a line sent to stdout (the stdout callback's stream) is marked."""
    lines: list[str] = []
    monkeypatch.setattr(
        progress.display, "display", lambda msg, *a, **k: lines.append(msg if k.get("stderr") else "STDOUT: " + msg)
    )
    return lines


@pytest.mark.parametrize(("no_log", "play_no_log"), [(True, False), (False, True), ("yes", False)])
def test_no_log_shows_nothing_but_the_result_keeps_the_events(screen, no_log, play_no_log):
    harness = Harness(
        [
            _step(False, "rollout IN_PROGRESS: running 0/2", events=["secret-ish event"], changed=True),
            _step(True, "rollout COMPLETED: running 2/2"),
        ],
        no_log=no_log,
        play_no_log=play_no_log,
    )
    result = harness.run()
    assert screen == []
    assert result["done"] is True and result["changed"] is True and result["events"] == ["secret-ish event"]


def test_lines_go_to_stderr_never_to_the_stdout_callbacks_stream(monkeypatch):
    calls: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(progress.display, "display", lambda msg, *a, **k: calls.append((msg, k)))
    Harness([_step(True, "rollout COMPLETED: running 2/2")]).run()
    assert calls == [("eu-north-1 | rollout COMPLETED: running 2/2", {"stderr": True})]


def test_prints_progress_changes_and_new_events_until_done(screen):
    started = "2025-01-31T12:00:01Z (service web) has started 2 tasks: (task a) (task b)."
    steady = "2025-01-31T12:00:09Z (service web) has reached a steady state."
    harness = Harness(
        [
            _step(
                False,
                "rollout IN_PROGRESS: running 0/2, pending 2, 2 deployments",
                changed=True,
                diff={"before": {"task_definition": "web:2"}, "after": {"task_definition": "web:3"}},
                previous_task_definition="arn:td/web:2",
            ),
            _step(
                False,
                "rollout IN_PROGRESS: running 0/2, pending 2, 2 deployments",
                [started],
                previous_task_definition="arn:td/web:3",
            ),
            _step(False, "rollout IN_PROGRESS: running 1/2, pending 1, 2 deployments", [started]),
            _step(
                True,
                "rollout COMPLETED: running 2/2, pending 0, 1 deployment",
                [started, steady],
                diff={"before": {}, "after": {}},
            ),
        ]
    )

    result = harness.run()

    assert screen == [
        "eu-north-1 | rollout IN_PROGRESS: running 0/2, pending 2, 2 deployments",
        "eu-north-1 | " + started,
        "eu-north-1 | rollout IN_PROGRESS: running 1/2, pending 1, 2 deployments",
        "eu-north-1 | " + steady,
        "eu-north-1 | rollout COMPLETED: running 2/2, pending 0, 1 deployment",
    ]
    # the change once, then polls that follow the deployment and never force a redeploy
    assert harness.calls[0] == dict(ARGS, wait=False)
    for call in harness.calls[1:]:
        assert call == dict(
            ARGS,
            wait=False,
            force_new_deployment=False,
            deployment_id="ecs-svc/new",
            events_since="2025-01-31T12:00:00+00:00",
        )
    assert harness.sleeps == [5, 5, 5]
    assert result["changed"] is True and result["done"] is True and not result.get("failed")
    assert result["diff"] == {"before": {"task_definition": "web:2"}, "after": {"task_definition": "web:3"}}
    assert result["previous_task_definition"] == "arn:td/web:2"
    assert result["events"] == [started, steady]
    assert result["progress"] == "rollout COMPLETED: running 2/2, pending 0, 1 deployment"


def test_a_delegated_task_reports_as_the_host_it_runs_for(screen):
    harness = Harness(
        [_step(True, "rollout COMPLETED: running 2/2, pending 0, 1 deployment")], delegate_to="ap-southeast-1"
    )
    harness.run()
    assert screen == ["ap-southeast-1 | rollout COMPLETED: running 2/2, pending 0, 1 deployment"]


def test_a_failed_poll_is_returned_as_it_is(screen):
    failing = "2025-01-31T12:00:05Z (service web) (deployment ecs-svc/new) deployment failed: tasks failed to start."
    harness = Harness(
        [
            _step(False, "rollout IN_PROGRESS: running 0/2, pending 2, 2 deployments", changed=True),
            _step(
                True,
                "rollout FAILED: running 0/2, pending 0, 2 deployments",
                [failing],
                failed=True,
                msg="Rollout of web:3 failed: ...",
            ),
        ]
    )

    result = harness.run()

    assert result["failed"] is True and result["msg"] == "Rollout of web:3 failed: ..."
    assert result["changed"] is True
    assert "eu-north-1 | " + failing in screen
    assert len(harness.calls) == 2


def test_a_failed_first_call_is_not_polled(screen):  # pylint: disable=unused-argument
    harness = Harness([dict(failed=True, msg="ECS service web not found", changed=False)])
    result = harness.run()
    assert result["failed"] is True and len(harness.calls) == 1 and harness.sleeps == []


def test_timeout_names_wait_timeout_and_the_last_progress(screen):
    line = "rollout IN_PROGRESS: running 1/2, pending 1, 2 deployments"
    harness = Harness([_step(False, line, changed=True)] + [_step(False, line)] * 5, args=dict(ARGS, wait_timeout=12))

    result = harness.run()

    assert result["failed"] is True and result["changed"] is True
    assert result["msg"].startswith(
        "Timed out after wait_timeout=12s waiting for megapool.aws.ecs_service_rollout; last progress: " + line
    )
    assert harness.sleeps == [5, 5, 2]
    assert screen == ["eu-north-1 | " + line]  # printed once: it never changed


@pytest.mark.parametrize(
    "args, check_mode, async_val",
    [
        (dict(ARGS, wait=False), False, 0),
        (ARGS, True, 0),
        (ARGS, False, 600),
        (dict(ARGS, wait_timeout="soon"), False, 0),
    ],
)
def test_runs_the_module_once_without_wait_in_check_mode_async_or_bad_values(screen, args, check_mode, async_val):
    once = _step(False, "check mode: would update service web (task_definition)", changed=True)
    harness = Harness([once], args=args, check_mode=check_mode, async_val=async_val)

    result = harness.run()

    assert harness.calls == [args]  # as given: the module waits itself (async) or reports the bad value
    assert result["changed"] is True and harness.sleeps == [] and screen == []


def test_default_timeout_and_interval_are_the_modules(screen):  # pylint: disable=unused-argument
    args = dict(cluster="c", service="web", task_definition="web:3")
    harness = Harness([_step(False, "p", changed=True)] + [_step(False, "p")] * 200, args=args)
    result = harness.run()
    assert result["failed"] is True and "wait_timeout=900s" in result["msg"]
    assert set(harness.sleeps) == {10}


# ------------------------------------------------------------------------------------------ the other waiting modules

GATE_ARGS = dict(cluster="c", task_definition="web-migrate:3", poll_interval=5, wait_timeout=10)
TASK = {"task_arn": "arn:aws:ecs:eu-north-1:123456789012:task/c/0f1e", "last_status": "RUNNING"}


def test_gate_polls_follow_the_started_task(screen):
    harness = Harness(
        [
            dict(
                changed=True,
                done=False,
                progress="task 0f1e PROVISIONING",
                events=["0s: task 0f1e started (PROVISIONING)"],
                task=TASK,
            ),
            dict(
                changed=False,
                done=True,
                progress="task 0f1e STOPPED, exit code 0",
                events=["4s: task 0f1e RUNNING -> STOPPED"],
                task=TASK,
                exit_code=0,
            ),
        ],
        args=GATE_ARGS,
        plugin=gate_action,
        name="ecs_task_gate",
    )

    result = harness.run()

    assert harness.calls == [dict(GATE_ARGS, wait=False), dict(GATE_ARGS, wait=False, task_arn=TASK["task_arn"])]
    assert result["changed"] is True and result["exit_code"] == 0
    assert screen[-1] == "eu-north-1 | task 0f1e STOPPED, exit code 0"


def test_gate_timeout_stops_the_task_and_shows_its_log(screen):  # pylint: disable=unused-argument
    running = dict(changed=False, done=False, progress="task 0f1e RUNNING", events=[], task=TASK)
    stopped = dict(running, failed=True, msg="Timed out after 0s ...", log_lines=["migrating...", "still migrating"])
    harness = Harness(
        [dict(running, changed=True), running, running, stopped],
        args=GATE_ARGS,
        plugin=gate_action,
        name="ecs_task_gate",
    )

    result = harness.run()

    assert harness.calls[-1] == dict(GATE_ARGS, wait=True, wait_timeout=0, task_arn=TASK["task_arn"])
    assert result["failed"] is True and result["changed"] is True
    assert result["msg"] == (
        "Timed out after wait_timeout=10s waiting for megapool.aws.ecs_task_gate; last progress: task 0f1e RUNNING. "
        "The task was stopped (stop_on_timeout). Last log lines: migrating... | still migrating"
    )


def test_gate_timeout_without_stop_on_timeout_leaves_the_task(screen):  # pylint: disable=unused-argument
    running = dict(changed=False, done=False, progress="task 0f1e RUNNING", events=[], task=TASK)
    args = dict(GATE_ARGS, stop_on_timeout=False)
    harness = Harness(
        [dict(running, changed=True), running, running], args=args, plugin=gate_action, name="ecs_task_gate"
    )
    result = harness.run()
    assert len(harness.calls) == 3 and result["failed"] is True and "stopped" not in result["msg"]


def test_certificate_polls_repeat_the_arguments(screen):  # pylint: disable=unused-argument
    args = dict(domain_name="app.example.com", hosted_zone_name="example.com")
    harness = Harness(
        [
            dict(
                changed=True,
                done=False,
                progress="certificate PENDING_VALIDATION: 0 of 1 names validated",
                events=["requested certificate arn:1"],
            ),
            dict(changed=False, done=True, progress="certificate ISSUED", events=[]),
        ],
        args=args,
        plugin=acm_action,
        name="acm_certificate_request",
    )
    result = harness.run()
    assert harness.calls == [dict(args, wait=False), dict(args, wait=False)]
    assert harness.sleeps == [10]
    assert result["changed"] is True and result["events"] == ["requested certificate arn:1"]
