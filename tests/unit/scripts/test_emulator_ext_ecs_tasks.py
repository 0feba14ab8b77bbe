# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/ecs_tasks.py: RunTask tasks run, then stop with an exit code, and log to CloudWatch Logs.

The patch is installed with pytest's monkeypatch (undone after each test) on moto in-process; the task runtime is
0 seconds (``MEGAPOOL_EMULATOR_ECS_TASK_SECONDS``), or an hour where a test needs a task that is still running.
"""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from emulator_ext import ecs_tasks

REGION = "eu-north-1"
CLUSTER = "shop-local"
GROUP = "/ecs/shop-local"


@pytest.fixture
def ecs(aws_env, monkeypatch):  # pylint: disable=unused-argument
    monkeypatch.setenv(ecs_tasks.SECONDS_ENV, "0")
    with mock_aws():
        ecs_tasks.install(monkeypatch)
        client = boto3.client("ecs", region_name=REGION)
        client.create_cluster(clusterName=CLUSTER)
        boto3.client("logs", region_name=REGION).create_log_group(logGroupName=GROUP)
        client.register_task_definition(
            family="shop-migrate",
            containerDefinitions=[
                {
                    "name": "app",
                    "image": "repo/shop:1.0.0",
                    "memory": 256,
                    "command": ["bin/migrate"],
                    "logConfiguration": {
                        "logDriver": "awslogs",
                        "options": {
                            "awslogs-group": GROUP,
                            "awslogs-region": REGION,
                            "awslogs-stream-prefix": "migrate",
                        },
                    },
                }
            ],
        )
        yield client


def _run(client, command=None) -> dict:
    overrides = {"containerOverrides": [{"name": "app", "command": command}]} if command else {}
    answer = client.run_task(cluster=CLUSTER, taskDefinition="shop-migrate", overrides=overrides)
    assert answer["failures"] == []
    return answer["tasks"][0]


def _describe(client, task: dict) -> dict:
    return client.describe_tasks(cluster=CLUSTER, tasks=[task["taskArn"]])["tasks"][0]


def _log_lines(task: dict) -> list[str]:
    stream = "migrate/app/%s" % task["taskArn"].rsplit("/", 1)[-1]
    events = boto3.client("logs", region_name=REGION).get_log_events(logGroupName=GROUP, logStreamName=stream)["events"]
    return [event["message"] for event in events]


@pytest.mark.parametrize(
    "command, expected",
    [
        (None, 0),
        (["bin/migrate"], 0),
        (["sh", "-c", "emulator-exit=3"], 3),
        (["emulator-exit=3"], 3),
        (["bin/migrate", "emulator-exit=17"], 17),
        (["emulator-hang"], None),
        (["x-emulator-hang"], 0),
    ],
)
def test_outcome_reads_the_hook_words(command, expected):
    assert ecs_tasks.outcome(command) == expected


def test_runtask_without_container_instances_places_the_task(ecs, monkeypatch):
    monkeypatch.setenv(ecs_tasks.SECONDS_ENV, "3600")
    task = _run(ecs)
    assert task["lastStatus"] == "RUNNING"
    assert "containerInstanceArn" not in task
    assert task["launchType"] == "EC2"


def test_task_stops_with_exit_code_zero_and_logs(ecs):
    task = _run(ecs)
    described = _describe(ecs, task)
    assert described["lastStatus"] == "STOPPED"
    assert described["desiredStatus"] == "STOPPED"
    assert described["stopCode"] == "EssentialContainerExited"
    assert described["stoppedReason"] == "Essential container in task exited"
    assert described["containers"][0]["exitCode"] == 0
    assert described["containers"][0]["lastStatus"] == "STOPPED"
    lines = _log_lines(task)
    assert lines[0].endswith("started: bin/migrate")
    assert lines[-1].endswith("exited with code 0")


def test_exit_hook_sets_the_exit_code(ecs):
    task = _run(ecs, ["bin/migrate", "emulator-exit=2"])
    described = _describe(ecs, task)
    assert described["lastStatus"] == "STOPPED"
    assert described["containers"][0]["exitCode"] == 2
    assert _log_lines(task)[-1].endswith("exited with code 2")


def test_task_keeps_running_until_its_time(ecs, monkeypatch):
    monkeypatch.setenv(ecs_tasks.SECONDS_ENV, "3600")
    task = _run(ecs)
    for _read in range(6):  # plain moto would be STOPPED after four describes
        described = _describe(ecs, task)
        assert described["lastStatus"] == "RUNNING"
        assert "exitCode" not in described["containers"][0]


def test_hang_hook_runs_until_stoptask(ecs):
    task = _run(ecs, ["emulator-hang"])
    for _read in range(6):
        assert _describe(ecs, task)["lastStatus"] == "RUNNING"
    ecs.stop_task(cluster=CLUSTER, task=task["taskArn"], reason="gate timed out")
    described = _describe(ecs, task)
    assert described["lastStatus"] == "STOPPED"
    assert described["stoppedReason"] == "gate timed out"


def test_install_is_idempotent(ecs, monkeypatch):  # pylint: disable=unused-argument
    from moto.ecs.models import EC2ContainerServiceBackend  # pylint: disable=import-outside-toplevel

    patched = EC2ContainerServiceBackend.run_task
    ecs_tasks.install(monkeypatch)
    assert EC2ContainerServiceBackend.run_task is patched
