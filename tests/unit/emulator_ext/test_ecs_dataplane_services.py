# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/ecs_dataplane.py: the service scheduler of local releases, with real task processes.

moto in-process with the ecs_tasks, ecs_deployments and ecs_dataplane patches (undone afterwards, every task
process ended). The target group's health is moto's own (healthy once registered) unless a test replaces it with a
real HTTP check, which is what the ELB part of the data plane does. Waits are bounded.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from dataplane_release import release_images
from dataplane_release import wait_for
from dataplane_release import worker_address
from emulator_ext import ecs_dataplane
from emulator_ext import ecs_deployments
from emulator_ext import ecs_tasks

REGION = "eu-north-1"
CLUSTER = "megapool-local"
SERVICE = "web"
GROUP = "/ecs/megapool-local"
PORT = 4000
UNHEALTHY_AFTER = 8.0


@pytest.fixture
def images(tmp_path, monkeypatch) -> Path:
    root = release_images(tmp_path, monkeypatch)
    shutil.copytree(root / "shop" / "1.0.0", root / "shop" / "2.0.0")
    return root


@pytest.fixture
def real_health(monkeypatch):
    """Target health from a real HTTP GET of the target group's path, one check per read (the ELB part's job; moto
    alone calls a target healthy as soon as it is registered)."""
    from moto.elbv2.models import FakeHealthStatus  # pylint: disable=import-outside-toplevel
    from moto.elbv2.models import FakeTargetGroup  # pylint: disable=import-outside-toplevel

    original = FakeTargetGroup.health_for
    failing_since: dict[str, float] = {}

    def health_for(self, target, ec2_backend):
        answer = original(self, target, ec2_backend)
        if answer.status != "healthy":
            return answer
        key = "%s:%s" % (target["Id"], answer.port)
        try:
            with urllib.request.urlopen("http://%s%s" % (key, self.health_check_path or "/"), timeout=5) as reply:
                ok = reply.status == 200
        except (urllib.error.URLError, OSError):
            ok = False
        if ok:
            failing_since.pop(key, None)
            return answer
        # like the ALB's unhealthy threshold: "initial" until the checks have failed for a while
        since = failing_since.setdefault(key, time.monotonic())
        state = "unhealthy" if time.monotonic() - since >= UNHEALTHY_AFTER else "initial"
        return FakeHealthStatus(
            target["Id"],
            answer.port,
            self.health_check_port,
            state,
            "Target.ResponseCodeMismatch",
            "Health checks failed",
        )

    monkeypatch.setattr(FakeTargetGroup, "health_for", health_for)


@pytest.fixture
def aws(aws_env, images, real_health, monkeypatch):  # pylint: disable=unused-argument
    monkeypatch.setattr(ecs_dataplane, "ADDRESSES", ecs_dataplane.Addresses(worker_address()))
    monkeypatch.setitem(sys.modules, "emulator_ext.dns_dataplane", None)
    with mock_aws(), ecs_deployments.installed():
        ecs_tasks.install(monkeypatch)
        ecs_dataplane.apply()
        try:
            ec2 = boto3.client("ec2", region_name=REGION)
            vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
            ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
            subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.1.0/24")["Subnet"]["SubnetId"]
            group = ec2.create_security_group(VpcId=vpc, GroupName="cluster", Description="cluster")["GroupId"]
            target_group = boto3.client("elbv2", region_name=REGION).create_target_group(
                Name="web",
                Protocol="HTTP",
                Port=PORT,
                VpcId=vpc,
                TargetType="ip",
                HealthCheckPath="/health",
            )["TargetGroups"][0]["TargetGroupArn"]
            discovery = boto3.client("servicediscovery", region_name=REGION)
            discovery.create_private_dns_namespace(Name="megapool.local", Vpc=vpc)
            namespace = discovery.list_namespaces()["Namespaces"][0]["Id"]
            registry = discovery.create_service(
                Name="web",
                NamespaceId=namespace,
                DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}], "RoutingPolicy": "MULTIVALUE"},
            )["Service"]
            client = boto3.client("ecs", region_name=REGION)
            client.create_cluster(clusterName=CLUSTER)
            boto3.client("logs", region_name=REGION).create_log_group(logGroupName=GROUP)
            yield {"ecs": client, "subnet": subnet, "group": group, "target_group": target_group, "registry": registry}
        finally:
            ecs_dataplane.remove()


def register(client, tag="1.0.0", command=None, environment=None) -> str:
    env = {"PORT": str(PORT), "RELEASE": tag}
    env.update(environment or {})
    container = {
        "name": "web",
        "image": "megapool.local/shop:%s" % tag,
        "memoryReservation": 256,
        "entryPoint": ["/bin/sh", "-c"],
        "command": command or ["exec ./run.sh"],
        "stopTimeout": 5,
        "environment": [{"name": key, "value": value} for key, value in env.items()],
        "portMappings": [{"containerPort": PORT, "hostPort": PORT, "protocol": "tcp"}],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": GROUP, "awslogs-region": REGION, "awslogs-stream-prefix": "web"},
        },
    }
    return client.register_task_definition(family="web", networkMode="awsvpc", containerDefinitions=[container])[
        "taskDefinition"
    ]["taskDefinitionArn"]


def create(aws, definition: str, desired: int = 2, minimum: int = 100, maximum: int = 200) -> None:
    aws["ecs"].create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition=definition,
        desiredCount=desired,
        loadBalancers=[{"targetGroupArn": aws["target_group"], "containerName": "web", "containerPort": PORT}],
        serviceRegistries=[{"registryArn": aws["registry"]["Arn"]}],
        networkConfiguration={"awsvpcConfiguration": {"subnets": [aws["subnet"]], "securityGroups": [aws["group"]]}},
        deploymentConfiguration={
            "maximumPercent": maximum,
            "minimumHealthyPercent": minimum,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        },
    )


def service(aws) -> dict:
    return aws["ecs"].describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]


def settled(aws, definition: str, timeout: float = 60.0) -> dict:
    """The service once its PRIMARY deployment on ``definition`` is COMPLETED with its desired count running."""

    def done():
        found = service(aws)
        primary = found["deployments"][0]
        if (
            primary["taskDefinition"] == definition
            and primary["rolloutState"] == "COMPLETED"
            and len(found["deployments"]) == 1
            and primary["runningCount"] == primary["desiredCount"]
        ):
            return found
        return None

    return wait_for(done, timeout)


def running_tasks(aws) -> list[dict]:
    arns = aws["ecs"].list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"]
    found = aws["ecs"].describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []
    return [task for task in found if task["lastStatus"] == "RUNNING" and task["desiredStatus"] == "RUNNING"]


def address(task: dict) -> str:
    return {item["name"]: item["value"] for item in task["attachments"][0]["details"]}["privateIPv4Address"]


def targets(aws) -> list[str]:
    answer = boto3.client("elbv2", region_name=REGION).describe_target_health(TargetGroupArn=aws["target_group"])
    return sorted(
        "%s:%d" % (item["Target"]["Id"], item["Target"]["Port"]) for item in answer["TargetHealthDescriptions"]
    )


def instances(aws) -> list[str]:
    answer = boto3.client("servicediscovery", region_name=REGION).list_instances(ServiceId=aws["registry"]["Id"])
    return sorted(item["Attributes"]["AWS_INSTANCE_IPV4"] for item in answer["Instances"])


def release_of(task: dict) -> str:
    """The RELEASE a task's server answers with (a task just started may take a moment to listen)."""

    def answer():
        try:
            with urllib.request.urlopen("http://%s:%d/" % (address(task), PORT), timeout=5) as reply:
                return json.load(reply)["env"]["RELEASE"]
        except (urllib.error.URLError, OSError):
            return None

    return wait_for(answer, 60)


def describe(aws, arn: str) -> dict:
    return aws["ecs"].describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0]


# ------------------------------------------------------------------------------------------------------ tests


def test_create_service_runs_the_desired_tasks_registered_in_the_target_group_and_cloud_map(aws):
    definition = register(aws["ecs"])
    create(aws, definition)
    found = settled(aws, definition)
    tasks = wait_for(lambda: running_tasks(aws) if len(running_tasks(aws)) == 2 else None)
    assert found["runningCount"] == 2
    addresses = sorted(address(task) for task in tasks)
    assert targets(aws) == ["%s:%d" % (item, PORT) for item in addresses]
    assert instances(aws) == addresses
    assert [release_of(task) for task in tasks] == ["1.0.0", "1.0.0"]
    assert all(
        task["group"] == "service:%s" % SERVICE and task["startedBy"] == found["deployments"][0]["id"] for task in tasks
    )
    messages = [event["message"] for event in found["events"]]
    assert "(service web) has reached a steady state." in messages
    assert sum("has started 1 tasks" in message for message in messages) == 2


def test_a_task_that_exits_is_replaced_and_deregistered(aws):
    definition = register(aws["ecs"])
    create(aws, definition)
    settled(aws, definition)
    victim = wait_for(lambda: running_tasks(aws) if len(running_tasks(aws)) == 2 else None)[0]
    local = ecs_dataplane.TASKS[victim["taskArn"]]
    os.killpg(local.process.pid, signal.SIGKILL)
    gone = wait_for(
        lambda: (
            describe(aws, victim["taskArn"]) if describe(aws, victim["taskArn"])["lastStatus"] == "STOPPED" else None
        )
    )
    assert gone["stopCode"] == "EssentialContainerExited"
    assert gone["containers"][0]["exitCode"] == 137

    def replaced():
        tasks = running_tasks(aws)
        return tasks if len(tasks) == 2 and victim["taskArn"] not in [task["taskArn"] for task in tasks] else None

    tasks = wait_for(replaced, 60)
    wait_for(lambda: targets(aws) == sorted("%s:%d" % (address(task), PORT) for task in tasks), 60)
    wait_for(
        lambda: instances(aws) == sorted(address(task) for task in tasks), 60
    )  # registered after it runs, like ECS
    assert all(release_of(task) == "1.0.0" for task in tasks)


@pytest.mark.parametrize("minimum, maximum, fewest_targets, most_targets", [(100, 200, 2, 4), (50, 100, 1, 2)])
def test_a_rolling_update_keeps_the_minimum_healthy_and_replaces_every_task(
    aws, minimum, maximum, fewest_targets, most_targets
):
    first = register(aws["ecs"])
    create(aws, first, minimum=minimum, maximum=maximum)
    settled(aws, first)
    old = [task["taskArn"] for task in wait_for(lambda: running_tasks(aws) if len(running_tasks(aws)) == 2 else None)]
    second = register(aws["ecs"], tag="2.0.0")
    aws["ecs"].update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=second)
    fewest = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            fewest.append(len(targets(aws)))
            stop.wait(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        settled(aws, second)
    finally:
        stop.set()
        watcher.join()
    tasks = wait_for(lambda: running_tasks(aws) if len(running_tasks(aws)) == 2 else None)
    assert min(fewest) >= fewest_targets  # minimumHealthyPercent of 2 tasks
    assert max(fewest) <= most_targets  # maximumPercent of 2 tasks
    assert [release_of(task) for task in tasks] == ["2.0.0", "2.0.0"]
    for arn in old:
        stopped = wait_for(
            lambda arn=arn: describe(aws, arn) if describe(aws, arn)["lastStatus"] == "STOPPED" else None
        )
        assert stopped["stopCode"] == "ServiceSchedulerInitiated"
        assert stopped["containers"][0]["exitCode"] == 143  # SIGTERM, after deregistration
    assert targets(aws) == sorted("%s:%d" % (address(task), PORT) for task in tasks)


def test_a_release_whose_tasks_exit_trips_the_circuit_breaker_and_the_old_tasks_keep_serving(aws):
    first = register(aws["ecs"])
    create(aws, first)
    settled(aws, first)
    old = sorted(
        task["taskArn"] for task in wait_for(lambda: running_tasks(aws) if len(running_tasks(aws)) == 2 else None)
    )
    bad = register(aws["ecs"], tag="2.0.0", command=["echo crashing; exit 1"])
    aws["ecs"].update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=bad)

    def rolled_back():
        found = service(aws)
        messages = [event["message"] for event in found["events"]]
        rolled = any("deployment circuit breaker: rolling back to" in message for message in messages)
        return messages if rolled and found["taskDefinition"] == first else None

    messages = wait_for(rolled_back, 60)
    assert any("deployment failed: tasks failed to start." in message for message in messages)
    stopped = [
        describe(aws, local.task.task_arn)
        for local in list(ecs_dataplane.TASKS.values())
        if local.task.task_definition_arn == bad
    ]
    assert len(stopped) >= 3  # the threshold: max(3, half the desired count)
    assert all(task["lastStatus"] == "STOPPED" and task["containers"][0]["exitCode"] == 1 for task in stopped)
    settled(aws, first)
    assert sorted(task["taskArn"] for task in running_tasks(aws)) == old  # never stopped: min healthy 100 %
    assert all(release_of(task) == "1.0.0" for task in running_tasks(aws))


def test_a_task_whose_target_fails_health_checks_is_replaced_and_counted(aws):
    first = register(aws["ecs"])
    create(aws, first, desired=1)
    settled(aws, first)
    sick = register(aws["ecs"], tag="2.0.0", environment={"HEALTH": "500"})
    aws["ecs"].update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=sick)

    def failed():
        messages = [event["message"] for event in service(aws)["events"]]
        return messages if any("deployment failed" in message for message in messages) else None

    messages = wait_for(failed, 120)
    assert sum("failed ELB health checks" in message for message in messages) >= 3
    settled(aws, first)
    tasks = running_tasks(aws)
    assert [release_of(task) for task in tasks] == ["1.0.0"]


def test_a_stopping_task_waits_while_its_target_drains(aws, monkeypatch):
    from moto.elbv2.models import FakeHealthStatus  # pylint: disable=import-outside-toplevel
    from moto.elbv2.models import FakeTargetGroup  # pylint: disable=import-outside-toplevel

    drained = threading.Event()
    original = FakeTargetGroup.health_for

    def health_for(self, target, ec2_backend):
        if target["Id"] in self.deregistered_targets and not drained.is_set():
            return FakeHealthStatus(
                target["Id"],
                target.get("Port"),
                self.health_check_port,
                "draining",
                "Target.DeregistrationInProgress",
                "Target deregistration is in progress",
            )
        return original(self, target, ec2_backend)

    monkeypatch.setattr(FakeTargetGroup, "health_for", health_for)
    definition = register(aws["ecs"])
    create(aws, definition, desired=1)
    settled(aws, definition)
    task = wait_for(lambda: running_tasks(aws) if len(running_tasks(aws)) == 1 else None)[0]
    aws["ecs"].update_service(cluster=CLUSTER, service=SERVICE, desiredCount=0)
    wait_for(lambda: targets(aws) == [], 60)  # deregistered at once
    for _read in range(10):
        described = describe(aws, task["taskArn"])
        assert described["lastStatus"] == "DEACTIVATING"  # draining: the container still runs
        assert release_of(described) == "1.0.0"
    drained.set()
    stopped = wait_for(
        lambda: describe(aws, task["taskArn"]) if describe(aws, task["taskArn"])["lastStatus"] == "STOPPED" else None,
        60,
    )
    assert stopped["containers"][0]["exitCode"] == 143


def test_deleting_the_service_stops_its_tasks(aws):
    definition = register(aws["ecs"])
    create(aws, definition)
    settled(aws, definition)
    arns = [task["taskArn"] for task in wait_for(lambda: running_tasks(aws) if len(running_tasks(aws)) == 2 else None)]
    aws["ecs"].delete_service(cluster=CLUSTER, service=SERVICE, force=True)
    for arn in arns:
        wait_for(lambda arn=arn: describe(aws, arn)["lastStatus"] == "STOPPED", 60)
    assert instances(aws) == []
