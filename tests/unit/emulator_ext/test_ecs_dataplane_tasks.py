# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/ecs_dataplane.py: RunTask tasks of a ``megapool.local/`` image run as real processes.

Each test runs moto in-process with the ecs_tasks and ecs_dataplane patches (undone afterwards, every task process
ended). The "release" is a tiny Python HTTP server in a temporary ``MEGAPOOL_LOCAL_IMAGES``: it reads its own
address from the task metadata endpoint v4, as the release role's node script does, binds it, and answers with
what it sees (environment, working directory, metadata). Waits are bounded; no timing is asserted beyond
generous upper bounds.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from dataplane_release import release_images
from dataplane_release import wait_for
from dataplane_release import worker_address
from emulator_ext import ecs_dataplane
from emulator_ext import ecs_tasks

REGION = "eu-north-1"
OTHER_REGION = "us-east-1"
CLUSTER = "megapool-local"
GROUP = "/ecs/megapool-local"
PORT = 4000
FIXTURES = Path(__file__).resolve().parents[1] / "contract" / "data" / "task_metadata_v4"


@pytest.fixture
def images(tmp_path, monkeypatch) -> Path:
    return release_images(tmp_path, monkeypatch)


@pytest.fixture
def aws(aws_env, images, monkeypatch):  # pylint: disable=unused-argument
    monkeypatch.setattr(ecs_dataplane, "ADDRESSES", ecs_dataplane.Addresses(worker_address()))
    monkeypatch.setitem(sys.modules, "emulator_ext.dns_dataplane", None)  # no DNS part: no ERL_INETRC
    with mock_aws():
        ecs_tasks.install(monkeypatch)
        ecs_dataplane.apply()
        try:
            ec2 = boto3.client("ec2", region_name=REGION)
            vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
            ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # as the network role does
            subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.1.0/24")["Subnet"]["SubnetId"]
            group = ec2.create_security_group(VpcId=vpc, GroupName="cluster", Description="cluster")["GroupId"]
            client = boto3.client("ecs", region_name=REGION)
            client.create_cluster(clusterName=CLUSTER)
            boto3.client("logs", region_name=REGION).create_log_group(logGroupName=GROUP)
            yield {"ecs": client, "subnet": subnet, "vpc": vpc, "group": group}
        finally:
            ecs_dataplane.remove()


def register(
    client,
    family="shop",
    image="megapool.local/shop:1.0.0",
    command=None,
    entry_point=None,
    environment=None,
    secrets=None,
    stop_timeout=None,
    log_group=GROUP,
) -> str:
    container = {
        "name": "web",
        "image": image,
        "memoryReservation": 256,
        "entryPoint": entry_point if entry_point is not None else ["/bin/sh", "-c"],
        "command": command if command is not None else ["exec ./run.sh"],
        "environment": [{"name": key, "value": value} for key, value in (environment or {"PORT": str(PORT)}).items()],
        "portMappings": [{"containerPort": PORT, "hostPort": PORT, "protocol": "tcp"}],
    }
    if secrets:
        container["secrets"] = secrets
    if stop_timeout is not None:
        container["stopTimeout"] = stop_timeout
    if log_group:
        container["logConfiguration"] = {
            "logDriver": "awslogs",
            "options": {"awslogs-group": log_group, "awslogs-region": REGION, "awslogs-stream-prefix": "web"},
        }
    answer = client.register_task_definition(family=family, networkMode="awsvpc", containerDefinitions=[container])
    return answer["taskDefinition"]["taskDefinitionArn"]


def run(aws, definition: str, overrides=None) -> dict:
    answer = aws["ecs"].run_task(
        cluster=CLUSTER,
        taskDefinition=definition,
        overrides=overrides or {},
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": [aws["subnet"]],
                "securityGroups": [aws["group"]],
                "assignPublicIp": "DISABLED",
            }
        },
    )
    assert answer["failures"] == []
    return answer["tasks"][0]


def describe(aws, task: dict) -> dict:
    return aws["ecs"].describe_tasks(cluster=CLUSTER, tasks=[task["taskArn"]])["tasks"][0]


def address_of(described: dict) -> str:
    details = {item["name"]: item["value"] for item in described["attachments"][0]["details"]}
    return details["privateIPv4Address"]


def fetch(address: str, port: int = PORT) -> dict:
    with urllib.request.urlopen("http://%s:%d/" % (address, port), timeout=5) as answer:
        return json.load(answer)


def serving(aws, task: dict) -> dict:
    """What the task's server answers, once it answers."""
    address = address_of(describe(aws, task))

    def answers():
        try:
            return fetch(address)
        except OSError:
            return None

    return wait_for(answers)


def log_lines(task: dict) -> list[str]:
    stream = "web/web/%s" % task["taskArn"].rsplit("/", 1)[-1]
    events = boto3.client("logs", region_name=REGION).get_log_events(logGroupName=GROUP, logStreamName=stream)["events"]
    return [event["message"] for event in events]


def stopped(aws, task: dict, timeout: float = 60.0) -> dict:
    def done():
        described = describe(aws, task)
        return described if described["lastStatus"] == "STOPPED" else None

    return wait_for(done, timeout)


# ------------------------------------------------------------------------------------------------ pure functions


@pytest.mark.parametrize(
    "image, expected",
    [
        ("megapool.local/shop:1.0.0", True),
        ("megapool.local/team/shop:2", True),
        ("repo/shop:1.0.0", False),
        ("123456789012.dkr.ecr.eu-north-1.amazonaws.com/shop:1", False),
        ("xmegapool.local/shop:1", False),
        ("", False),
        (None, False),
    ],
)
def test_the_local_image_rule(image, expected):
    assert ecs_dataplane.is_local(image) is expected


def test_image_directory_is_name_then_tag(tmp_path):
    (tmp_path / "team" / "shop" / "2.0").mkdir(parents=True)
    assert ecs_dataplane.image_directory("megapool.local/team/shop:2.0", str(tmp_path)) == str(
        tmp_path / "team" / "shop" / "2.0"
    )


@pytest.mark.parametrize("image", ["megapool.local/shop:9.9.9", "megapool.local/../etc:1", "megapool.local/:1"])
def test_a_missing_image_names_the_directory_and_the_variable(tmp_path, image):
    with pytest.raises(ecs_dataplane.LocalImageError, match="CannotPullContainerError"):
        ecs_dataplane.image_directory(image, str(tmp_path))


def test_missing_image_error_says_where_and_which_variable(tmp_path):
    with pytest.raises(ecs_dataplane.LocalImageError) as caught:
        ecs_dataplane.image_directory("megapool.local/shop:9.9.9", str(tmp_path))
    assert str(tmp_path / "shop" / "9.9.9") in str(caught.value)
    assert ecs_dataplane.IMAGES_ENV in str(caught.value)


def test_addresses_start_at_127_1_0_2_skip_broadcast_like_octets_and_are_reused():
    addresses = ecs_dataplane.Addresses(lock_dir="")  # this process only
    first = [addresses.allocate() for _index in range(254)]
    assert first[0] == "127.1.0.2"
    assert len(set(first)) == 254
    assert "127.1.0.255" not in first and "127.1.1.0" not in first
    assert first[-1] == "127.1.1.1"
    addresses.release("127.1.0.7")
    assert addresses.allocate() == "127.1.0.7"


def test_an_address_another_emulator_holds_is_skipped(tmp_path):
    mine = ecs_dataplane.Addresses(worker_address(), lock_dir=str(tmp_path))
    other = ecs_dataplane.Addresses(worker_address(), lock_dir=str(tmp_path))  # another emulator on the same host
    first = mine.allocate()
    assert first == worker_address()
    assert other.allocate() != first
    mine.release(first)
    assert other.allocate() == first


def test_an_address_something_listens_on_is_skipped(tmp_path):
    with socket.socket() as listener:
        listener.bind((worker_address(), 0))
        listener.listen()
        assert ecs_dataplane.Addresses(worker_address(), lock_dir=str(tmp_path)).allocate() != worker_address()
    assert ecs_dataplane.Addresses(worker_address(), lock_dir=str(tmp_path)).allocate() == worker_address()


def test_addresses_never_come_from_127_0_0():
    with pytest.raises(ValueError):
        ecs_dataplane.Addresses("127.0.0.5")


@pytest.mark.parametrize(
    "desired, threshold", [(0, 3), (1, 3), (2, 3), (6, 3), (7, 4), (10, 5), (400, 200), (1000, 200)]
)
def test_circuit_breaker_threshold_is_half_the_desired_count_between_3_and_200(desired, threshold):
    assert ecs_dataplane.circuit_breaker_threshold(desired) == threshold


@pytest.mark.parametrize(
    "desired, maximum, minimum, expected",
    [
        (2, 200, 100, (4, 2)),
        (2, 150, 50, (3, 1)),
        (3, 150, 50, (4, 2)),
        (1, 100, 0, (1, 0)),
        (0, 200, 100, (0, 0)),
        (1, 50, 100, (1, 1)),
    ],
)
def test_deployment_limits_round_the_maximum_down_and_the_minimum_up(desired, maximum, minimum, expected):
    assert ecs_dataplane.deployment_limits(desired, maximum, minimum) == expected


def test_inetrc_points_erlang_at_the_dns_server_and_nowhere_else():
    assert (
        ecs_dataplane.inetrc_text("127.0.0.1", 53535)
        == '{resolv_conf, ""}.\n{nameserver, {127,0,0,1}, 53535}.\n{lookup, [dns]}.\n'
    )


def test_command_line_is_entrypoint_then_the_overridden_command():
    container = {"name": "web", "entryPoint": ["/bin/sh", "-c"], "command": ["bin/shop start"]}
    assert ecs_dataplane.command_line(container) == ["/bin/sh", "-c", "bin/shop start"]
    overrides = {"containerOverrides": [{"name": "web", "command": ["bin/migrate"]}]}
    assert ecs_dataplane.command_line(container, overrides) == ["/bin/sh", "-c", "bin/migrate"]


# ------------------------------------------------------------------------------------------------ real processes


def test_a_local_task_runs_in_its_image_with_its_own_address(aws, images):
    task = run(aws, register(aws["ecs"]))
    seen = serving(aws, task)
    described = describe(aws, task)
    address = address_of(described)
    assert described["lastStatus"] == "RUNNING"
    assert address.startswith("127.") and not address.startswith("127.0.0.")
    assert address == worker_address()
    assert seen["cwd"] == str(images / "shop" / "1.0.0")
    assert seen["container"]["Networks"][0]["IPv4Addresses"] == [address]
    assert described["containers"][0]["networkInterfaces"][0]["privateIpv4Address"] == address
    assert wait_for(lambda: "listening on %s" % address in log_lines(task))


def test_two_tasks_get_different_addresses(aws):
    definition = register(aws["ecs"])
    first, second = run(aws, definition), run(aws, definition)
    assert address_of(describe(aws, first)) != address_of(describe(aws, second))
    assert serving(aws, first) and serving(aws, second)


def test_environment_secrets_and_metadata_uri(aws):
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name="/megapool/local/SECRET_KEY_BASE", Value="s3cr3t", Type="SecureString")
    other = boto3.client("ssm", region_name=OTHER_REGION)
    other.put_parameter(Name="/megapool/local/DATABASE_URL", Value="ecto://db", Type="SecureString")
    arn = other.get_parameter(Name="/megapool/local/DATABASE_URL")["Parameter"]["ARN"]
    definition = register(
        aws["ecs"],
        environment={"PORT": str(PORT), "RELEASE_NODE_BASENAME": "shop"},
        secrets=[
            {"name": "SECRET_KEY_BASE", "valueFrom": "/megapool/local/SECRET_KEY_BASE"},
            {"name": "DATABASE_URL", "valueFrom": arn},
        ],
    )
    task = run(
        aws,
        definition,
        overrides={"containerOverrides": [{"name": "web", "environment": [{"name": "EXTRA", "value": "1"}]}]},
    )
    env = serving(aws, task)["env"]
    assert env["RELEASE_NODE_BASENAME"] == "shop"
    assert env["SECRET_KEY_BASE"] == "s3cr3t"
    assert env["DATABASE_URL"] == "ecto://db"
    assert env["EXTRA"] == "1"
    assert env["AWS_EXECUTION_ENV"] == "AWS_ECS_EC2"
    assert env["ECS_CONTAINER_METADATA_URI_V4"].startswith("http://127.0.0.1:")
    assert "ERL_INETRC" not in env  # no DNS part in this process


def test_a_missing_secret_stops_the_task_before_it_starts(aws):
    definition = register(aws["ecs"], secrets=[{"name": "SECRET_KEY_BASE", "valueFrom": "/megapool/local/NOPE"}])
    described = stopped(aws, run(aws, definition))
    assert described["stopCode"] == "TaskFailedToStart"
    assert (
        "ResourceInitializationError" in described["stoppedReason"]
        and "/megapool/local/NOPE" in described["stoppedReason"]
    )


def test_a_missing_image_stops_the_task_with_cannot_pull(aws):
    described = stopped(aws, run(aws, register(aws["ecs"], image="megapool.local/shop:9.9.9")))
    assert described["stopCode"] == "TaskFailedToStart"
    assert "CannotPullContainerError" in described["stoppedReason"]


def test_metadata_answers_have_aws_documented_shape(aws):
    task = run(aws, register(aws["ecs"]))
    seen = serving(aws, task)
    documented_container = json.loads((FIXTURES / "ec2_awsvpc_container.json").read_text())
    documented_task = json.loads((FIXTURES / "ec2_awsvpc_task.json").read_text())
    container, task_answer = seen["container"], seen["task"]
    assert set(documented_container) <= set(container)
    assert set(documented_container["Networks"][0]) <= set(container["Networks"][0])
    assert set(documented_container["Labels"]) <= set(container["Labels"])
    assert set(documented_task) - {"ServiceName"} <= set(task_answer)  # a RunTask task belongs to no service
    assert task_answer["TaskARN"] == task["taskArn"]
    assert task_answer["VPCID"] == aws["vpc"]
    assert container["Labels"]["com.amazonaws.ecs.task-arn"] == task["taskArn"]
    assert container["LogOptions"]["awslogs-stream"] == "web/web/%s" % task["taskArn"].rsplit("/", 1)[-1]
    assert task_answer["Containers"][0]["Networks"][0]["IPv4Addresses"] == container["Networks"][0]["IPv4Addresses"]


def test_erl_inetrc_points_at_the_resolver_of_the_tasks_vpc(aws, monkeypatch):
    asked = []

    class Dns:  # pylint: disable=too-few-public-methods
        @staticmethod
        def resolver(vpc_id=None):
            asked.append(vpc_id)
            return ("127.0.0.1", 53535)

    monkeypatch.setitem(sys.modules, "emulator_ext.dns_dataplane", Dns)
    task = run(aws, register(aws["ecs"]))
    path = serving(aws, task)["env"]["ERL_INETRC"]
    assert asked == [aws["vpc"]]
    assert Path(path).read_text() == ecs_dataplane.inetrc_text("127.0.0.1", 53535)
    aws["ecs"].stop_task(cluster=CLUSTER, task=task["taskArn"], reason="done")
    stopped(aws, task)
    assert not Path(path).exists()


def test_erl_inetrc_is_the_dns_parts_own_text_when_it_has_one(aws, monkeypatch):
    class Dns:  # pylint: disable=too-few-public-methods
        @staticmethod
        def inetrc(vpc_id=None):
            return "%% resolver of %s\n" % vpc_id

    monkeypatch.setitem(sys.modules, "emulator_ext.dns_dataplane", Dns)
    path = serving(aws, run(aws, register(aws["ecs"])))["env"]["ERL_INETRC"]
    assert Path(path).read_text() == "%% resolver of %s\n" % aws["vpc"]


def test_the_exit_code_is_the_processes(aws):
    task = run(aws, register(aws["ecs"], command=["echo migrating; exit 3"]))
    described = stopped(aws, task)
    assert described["stopCode"] == "EssentialContainerExited"
    assert described["stoppedReason"] == "Essential container in task exited"
    assert described["containers"][0]["exitCode"] == 3
    assert "migrating" in log_lines(task)


def test_the_last_output_is_in_the_log_stream_when_the_task_reads_stopped(aws, monkeypatch):
    # The log pump lags (a busy machine): the task still reads STOPPED only once its output is in the stream, as a
    # caller that polls DescribeTasks and then reads the stream (the migration gate) expects. Failed on CI before
    # the task waited for its pump (the exit-code test above saw STOPPED with an empty stream).
    write_log = ecs_dataplane.LocalTask.write_log

    def slow_write_log(self, message):
        time.sleep(0.5)
        write_log(self, message)

    monkeypatch.setattr(ecs_dataplane.LocalTask, "write_log", slow_write_log)
    task = run(aws, register(aws["ecs"], command=["echo first; echo last; exit 4"]))
    described = stopped(aws, task)
    assert described["containers"][0]["exitCode"] == 4
    assert log_lines(task)[-2:] == ["first", "last"]


def test_exit_code_zero_and_the_override_command(aws):
    task = run(
        aws,
        register(aws["ecs"], command=["exit 9"]),
        overrides={"containerOverrides": [{"name": "web", "command": ["echo ok"]}]},
    )
    assert stopped(aws, task)["containers"][0]["exitCode"] == 0


def test_stoptask_sends_sigterm_and_the_task_stops(aws):
    task = run(aws, register(aws["ecs"], stop_timeout=120))
    serving(aws, task)
    answer = aws["ecs"].stop_task(cluster=CLUSTER, task=task["taskArn"], reason="gate timed out")["task"]
    assert answer["desiredStatus"] == "STOPPED"
    described = stopped(aws, task, timeout=60)  # far below the stopTimeout: SIGTERM ended it
    assert described["stoppedReason"] == "gate timed out"
    assert described["stopCode"] == "UserInitiated"
    assert described["containers"][0]["exitCode"] == 143  # 128 + SIGTERM


def test_stoptask_waits_the_stop_timeout_then_kills(aws):
    task = run(aws, register(aws["ecs"], stop_timeout=3, environment={"PORT": str(PORT), "IGNORE_TERM": "1"}))
    serving(aws, task)
    aws["ecs"].stop_task(cluster=CLUSTER, task=task["taskArn"], reason="stop")
    time.sleep(1.0)
    assert describe(aws, task)["lastStatus"] != "STOPPED"  # SIGTERM ignored: still there within the stopTimeout
    described = stopped(aws, task, timeout=60)
    assert described["containers"][0]["exitCode"] == 137  # 128 + SIGKILL


def test_the_address_is_free_again_after_the_task_stopped(aws):
    definition = register(aws["ecs"], command=["exit 0"])
    first = stopped(aws, run(aws, definition))
    second = stopped(aws, run(aws, definition))
    assert address_of(first) == address_of(second) == worker_address()


def test_a_non_local_image_keeps_the_timer_behaviour(aws, monkeypatch):
    monkeypatch.setenv(ecs_tasks.SECONDS_ENV, "0")
    task = run(aws, register(aws["ecs"], image="repo/shop:1.0.0", command=["bin/migrate", "emulator-exit=4"]))
    described = describe(aws, task)
    assert described["lastStatus"] == "STOPPED"
    assert described["containers"][0]["exitCode"] == 4
    assert not ecs_dataplane.TASKS


def test_reset_ends_every_task_process(aws):
    definition = register(aws["ecs"], environment={"PORT": str(PORT), "IGNORE_TERM": "1"})
    tasks = [run(aws, definition), run(aws, definition)]
    for task in tasks:
        serving(aws, task)
    pids = [local.process.pid for local in ecs_dataplane.TASKS.values()]
    assert len(pids) == 2
    from moto.moto_api._internal.models import moto_api_backend  # pylint: disable=import-outside-toplevel

    started = time.monotonic()
    moto_api_backend.reset()
    assert time.monotonic() - started < 30
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)
    assert not ecs_dataplane.TASKS
