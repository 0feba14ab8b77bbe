# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.ecs_task_gate against moto in-process, driven by moto's state manager for ECS tasks.

moto's ``ecs::task`` model walks one lifecycle step per DescribeTasks (RUNNING -> ... -> STOPPED after four polls)
with exit code 0: that is the successful migration. A failing one gets its container's exit code set in moto's
backend while it runs (what the container would report), and its log lines written to its awslogs stream; a task
that never stops is the state manager set to a transition that never comes. The module's clock and sleep are fake.
"""

from __future__ import annotations

import json
import time
from typing import Callable

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ecs.models import ecs_backends
from moto.moto_api import state_manager

from botocore.exceptions import ClientError

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.megapool.aws.plugins.modules import ecs_task_gate as module_under_test

REGION = "eu-north-1"
CLUSTER = "shop-local"
GROUP = "/ecs/shop-local"
FAMILY = "shop-local-migrate"


@pytest.fixture
def cluster(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        ecs = boto3.client("ecs", region_name=REGION)
        ec2 = boto3.client("ec2", region_name=REGION)
        ecs.create_cluster(clusterName=CLUSTER)
        image = ec2.describe_images()["Images"][0]["ImageId"]
        instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.small")["Instances"][0]
        ecs.register_container_instance(
            cluster=CLUSTER, instanceIdentityDocument=json.dumps({"instanceId": instance["InstanceId"]})
        )
        boto3.client("logs", region_name=REGION).create_log_group(logGroupName=GROUP)
        ecs.register_task_definition(
            family=FAMILY,
            containerDefinitions=[
                {
                    "name": "app",
                    "image": "repo/shop:1.0.0",
                    "memory": 256,
                    "essential": True,
                    "command": ["bin/shop", "eval", "Shop.Release.migrate()"],
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
        yield ecs
        state_manager.unset_transition("ecs::task")


def _args(**extra) -> dict:
    return dict(dict(cluster=CLUSTER, task_definition=FAMILY, region=REGION, poll_interval=5, wait_timeout=60), **extra)


def _only_task() -> object:
    tasks = ecs_backends[DEFAULT_ACCOUNT_ID][REGION].tasks[CLUSTER]
    assert len(tasks) == 1
    return next(iter(tasks.values()))


def _fail_the_task(lines: list[str]) -> Callable[[], None]:
    """What a failing migration does while it runs: logs, then its container exits with 1."""

    def step() -> None:
        task = _only_task()
        task.containers[0].exitCode = 1
        logs = boto3.client("logs", region_name=REGION)
        stream = "migrate/app/%s" % task.id
        now = int(time.time() * 1000)  # moto leaves out events older than the group's retention
        logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
        logs.put_log_events(
            logGroupName=GROUP,
            logStreamName=stream,
            logEvents=[{"timestamp": now + i, "message": line} for i, line in enumerate(lines)],
        )

    return step


def test_exit_zero_passes(cluster, clock, run_module, aws_calls):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, _args())
    assert result.get("failed") is not True, result
    assert result["changed"] is True
    assert result["done"] is True
    assert result["exit_code"] == 0
    assert result["task"]["last_status"] == "STOPPED"
    assert result["log"] == {"group": GROUP, "stream": "migrate/app/%s" % result["task"]["task_id"], "region": REGION}
    assert "exit code 0" in result["progress"]
    assert result["events"][0].startswith("0s: task %s started" % result["task"]["task_id"])
    assert any(event.endswith("-> STOPPED") for event in result["events"])
    assert len(aws_calls.of("RunTask")) == 1
    assert aws_calls.of("StopTask") == []


def test_exit_one_fails_with_exit_code_and_log_tail(cluster, clock, run_module):  # pylint: disable=unused-argument
    clock.steps.append(_fail_the_task(["== Running migrations", '** (Postgrex.Error) relation "users" already exists']))
    result = run_module(module_under_test.main, _args(log_lines=5))
    assert result["failed"] is True
    assert result["changed"] is True
    assert result["done"] is True
    assert result["exit_code"] == 1
    assert "exited with code 1" in result["msg"]
    assert 'relation "users" already exists' in result["msg"]
    assert result["log_lines"] == ["== Running migrations", '** (Postgrex.Error) relation "users" already exists']


def test_log_tail_is_bounded_by_log_lines(cluster, clock, run_module):  # pylint: disable=unused-argument
    clock.steps.append(_fail_the_task(["line %d" % i for i in range(10)]))
    result = run_module(module_under_test.main, _args(log_lines=3))
    assert result["log_lines"] == ["line 7", "line 8", "line 9"]


def test_never_stops_times_out_and_stops_the_task(cluster, clock, run_module, aws_calls):  # pylint: disable=unused-argument
    state_manager.set_transition("ecs::task", {"progression": "manual", "times": 10**9})
    result = run_module(module_under_test.main, _args(wait_timeout=30))
    assert result["failed"] is True
    assert "did not stop within wait_timeout=30s" in result["msg"]
    assert "last status RUNNING" in result["msg"]
    assert "it was stopped (StopTask)" in result["msg"]
    assert result["done"] is False
    assert len(aws_calls.of("StopTask")) == 1
    assert sum(clock.sleeps) == 30


def test_zero_timeout_on_a_followed_task_stops_it(cluster, clock, run_module, aws_calls):  # pylint: disable=unused-argument
    state_manager.set_transition("ecs::task", {"progression": "manual", "times": 10**9})
    started = run_module(module_under_test.main, _args(wait=False))
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(task_arn=started["task"]["task_arn"], wait_timeout=0))
    assert result["failed"] is True
    assert result["changed"] is False
    assert "did not stop within wait_timeout=0s" in result["msg"]
    assert len(aws_calls.of("StopTask")) == 1
    assert aws_calls.of("RunTask") == []
    assert clock.sleeps == []


def test_wait_false_starts_then_polls_by_task_arn(cluster, clock, run_module, aws_calls):  # pylint: disable=unused-argument
    state_manager.set_transition("ecs::task", {"progression": "manual", "times": 10**9})
    started = run_module(module_under_test.main, _args(wait=False))
    assert started["changed"] is True
    assert started["done"] is False
    assert "RUNNING" in started["progress"]
    state_manager.unset_transition("ecs::task")
    aws_calls.clear()
    polls = [
        run_module(module_under_test.main, _args(wait=False, task_arn=started["task"]["task_arn"]))
        for _poll in range(4)
    ]
    assert [poll["changed"] for poll in polls] == [False] * 4
    assert polls[-1]["done"] is True
    assert polls[-1]["exit_code"] == 0
    assert aws_calls.of("RunTask") == []
    assert clock.sleeps == []


def test_check_mode_runs_nothing(cluster, clock, run_module, aws_calls):  # pylint: disable=unused-argument
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(command=["bin/shop", "migrate"]), check_mode=True)
    assert result["changed"] is True
    assert result["done"] is False
    assert result["would_run"]["overrides"] == {
        "containerOverrides": [{"name": "app", "command": ["bin/shop", "migrate"]}]
    }
    assert aws_calls.writes() == []
    assert ecs_backends[DEFAULT_ACCOUNT_ID][REGION].tasks.get(CLUSTER, {}) == {}


def test_check_mode_without_the_task_definition(cluster, clock, run_module, aws_calls):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, _args(task_definition="nothing-here"), check_mode=True)
    assert result["changed"] is True
    assert "does not exist yet" in result["progress"]
    assert aws_calls.writes() == []


def test_unknown_task_definition_is_a_clear_error(cluster, clock, run_module):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, _args(task_definition="nothing-here"))
    assert result["failed"] is True
    assert "task_definition=nothing-here: no such task definition" in result["msg"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (dict(command=[]), "command is empty"),
        (dict(command=["  "]), "command is empty"),
        (dict(wait_timeout=-1), "wait_timeout=-1"),
        (dict(network_configuration=dict(security_groups=["sg-1"])), "needs network_configuration.subnets"),
        (dict(launch_type="EC2", capacity_provider_strategy=[dict(capacity_provider="x")]), "exclude each other"),
    ],
)
def test_bad_options_fail_before_any_call(cluster, clock, run_module, aws_calls, extra, message):  # pylint: disable=unused-argument
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(**extra))
    assert result["failed"] is True
    assert message in result["msg"]
    assert aws_calls == []


def test_command_override_and_network_are_sent(cluster, clock, run_module, aws_calls):  # pylint: disable=unused-argument
    aws_calls.clear()
    run_module(module_under_test.main, _args(command=["bin/shop", "migrate"], started_by="deploy"))
    params = aws_calls.of("RunTask")[0].params
    assert params["overrides"] == {"containerOverrides": [{"name": "app", "command": ["bin/shop", "migrate"]}]}
    assert params["startedBy"] == "deploy"
    assert params["count"] == 1


@pytest.mark.parametrize(
    "given,sent",
    [
        ("release 1.4.2", "release-1-4-2"),  # RunTask refuses spaces and dots (C1)
        (None, "megapool-aws-ecs_task_gate"),
        ("deploy/" + "x" * 200, "deploy/" + "x" * 121),
    ],
)
def test_started_by_is_what_run_task_accepts(cluster, clock, run_module, aws_calls, given, sent):  # pylint: disable=unused-argument
    aws_calls.clear()
    args = _args() if given is None else _args(started_by=given)
    run_module(module_under_test.main, args)
    params = aws_calls.of("RunTask")[0].params
    assert params["startedBy"] == sent


def _role_not_ready_then(real, failures: int):
    calls = {"n": 0}

    def run_task(client, params):
        calls["n"] += 1
        if calls["n"] <= failures:
            # What the module's _run_task raises for ECS's answer (AWSErrorHandler wraps the ClientError).
            raise AnsibleAWSError(
                message="Failed to run the task",
                exception=ClientError(
                    {
                        "Error": {
                            "Code": "InvalidParameterException",
                            "Message": (
                                "ECS was unable to assume the role 'arn:aws:iam::123456789012:role/shop-local-ecs-execution' that was"
                                " provided for this task. Please verify that the role being passed has the proper trust relationship and"
                                " permissions and that your IAM user has permissions to pass this role."
                            ),
                        }
                    },
                    "RunTask",
                ),
            )
        return real(client, params)

    return run_task, calls


def test_run_task_waits_for_a_new_role(cluster, clock, run_module, monkeypatch):  # pylint: disable=unused-argument
    fake, calls = _role_not_ready_then(module_under_test._run_task, 2)
    monkeypatch.setattr(module_under_test, "_run_task", fake)
    result = run_module(module_under_test.main, _args())
    assert result.get("failed") is not True, result
    assert calls["n"] == 3
    assert result["exit_code"] == 0
    assert [event for event in result["events"] if "cannot assume the role yet" in event] == [
        "RunTask: ECS cannot assume the role yet (IAM is eventually consistent), retrying in %ds" % pause
        for pause in (2, 4)
    ]
    assert clock.sleeps[:2] == [2, 4]


def test_run_task_gives_up_on_the_role_after_role_wait_timeout(cluster, clock, run_module, monkeypatch):  # pylint: disable=unused-argument
    fake, calls = _role_not_ready_then(module_under_test._run_task, 1000)
    monkeypatch.setattr(module_under_test, "_run_task", fake)
    result = run_module(module_under_test.main, _args(role_wait_timeout=10))
    assert result["failed"] is True
    assert "ECS could not assume the task's role for role_wait_timeout=10s" in result["msg"]
    assert calls["n"] == 4, "tried at 0, 2, 6 and 10 s"
    assert clock.sleeps == [2, 4, 4], "the last pause ends at role_wait_timeout"


ECR_IMAGE = "%s.dkr.ecr.%s.amazonaws.com/shop-local:1.4.2" % (DEFAULT_ACCOUNT_ID, REGION)


def _index(*architectures: str) -> str:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": "sha256:" + "%064x" % number,
                    "size": 1,
                    "platform": {"architecture": arch, "os": "linux"},
                }
                for number, arch in enumerate(architectures)
            ],
        }
    )


@pytest.fixture
def ecr_family(cluster):
    """A migrate task definition on ARM64 whose image is in this account's ECR repository (not pushed yet)."""
    boto3.client("ecr", region_name=REGION).create_repository(repositoryName="shop-local")
    cluster.register_task_definition(
        family="shop-local-ecr",
        runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        containerDefinitions=[{"name": "app", "image": ECR_IMAGE, "memory": 256, "essential": True}],
    )
    return "shop-local-ecr"


@pytest.mark.parametrize(
    "pushed,message",
    [
        (
            None,
            "is not in ECR (repository shop-local of account %s in %s): push it before deploying"
            % (DEFAULT_ACCOUNT_ID, REGION),
        ),
        (("amd64",), "is built for linux/amd64, but the task definition runs on ARM64"),
    ],
)
def test_gate_refuses_an_image_it_cannot_run_before_any_task(ecr_family, clock, run_module, aws_calls, pushed, message):  # pylint: disable=unused-argument
    if pushed:
        boto3.client("ecr", region_name=REGION).put_image(
            repositoryName="shop-local", imageTag="1.4.2", imageManifest=_index(*pushed)
        )
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(task_definition=ecr_family))
    assert result["failed"] is True
    assert message in result["msg"]
    assert aws_calls.of("RunTask") == []


def test_gate_runs_an_image_built_for_its_architecture(ecr_family, clock, run_module, aws_calls):  # pylint: disable=unused-argument
    boto3.client("ecr", region_name=REGION).put_image(
        repositoryName="shop-local", imageTag="1.4.2", imageManifest=_index("amd64", "arm64")
    )
    result = run_module(module_under_test.main, _args(task_definition=ecr_family))
    assert result.get("failed") is not True, result
    assert len(aws_calls.of("RunTask")) == 1


def test_a_cluster_the_region_does_not_have_is_an_input_error(cluster, clock, run_module, aws_calls):  # pylint: disable=unused-argument
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(cluster="nope"))
    assert result["failed"] is True
    assert result["msg"] == "ECS cluster nope not found in %s. Check the cluster option and the region." % REGION
    assert [call.operation for call in aws_calls.writes()] == ["RunTask"], "nothing after the refused RunTask"


def test_another_run_task_error_is_one_fail_json_with_the_aws_error(cluster, clock, run_module, monkeypatch):  # pylint: disable=unused-argument
    """Not a role that is not ready yet: no retry, the kernel reports it (what was done, AWS's code)."""

    def refused(client, params):  # pylint: disable=unused-argument
        raise AnsibleAWSError(
            message="Failed to run the task",
            exception=ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "RunTask"),
        )

    monkeypatch.setattr(module_under_test, "_run_task", refused)
    result = run_module(module_under_test.main, _args())
    assert result["failed"] is True
    assert result["msg"].startswith("Failed to run the task: An error occurred (AccessDeniedException)")
    assert result["error"]["code"] == "AccessDeniedException"
    assert clock.sleeps == []
