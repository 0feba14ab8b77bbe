# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/ecs_dataplane.py with ecs_instances: service tasks on container instances, draining, scale-out.

The services test's moto in-process set-up (real task processes, a real HTTP health check) plus the ECS agent of
ecs_instances: an Auto Scaling group whose user data names the cluster gives the container instances. A task of
1800 MiB fits an instance (t4g.small registers 1996 - 128 MiB) once, never twice: one node per instance, as the
ecs_hosts role sizes it. Waits are bounded.
"""

from __future__ import annotations

import base64
import time

import boto3
import pytest

from dataplane_release import wait_for
from emulator_ext import ecs_agent
from emulator_ext import ecs_instances
from test_ecs_dataplane_services import CLUSTER
from test_ecs_dataplane_services import GROUP
from test_ecs_dataplane_services import PORT
from test_ecs_dataplane_services import REGION
from test_ecs_dataplane_services import SERVICE
from test_ecs_dataplane_services import aws  # noqa: F401  # pylint: disable=unused-import  # the fixture
from test_ecs_dataplane_services import describe
from test_ecs_dataplane_services import images  # noqa: F401  # pylint: disable=unused-import
from test_ecs_dataplane_services import real_health  # noqa: F401  # pylint: disable=unused-import
from test_ecs_dataplane_services import running_tasks
from test_ecs_dataplane_services import service

USER_DATA = (
    "#!/bin/bash\necho ECS_CLUSTER=%s >> /etc/ecs/ecs.config\necho ECS_RESERVED_MEMORY=128 >> /etc/ecs/ecs.config\n"
    % CLUSTER
)
TASK_MEMORY = 1800
GROUP_NAME = "app"
PROVIDER = "app"


@pytest.fixture
def hosts(aws, monkeypatch):  # noqa: F811  # pylint: disable=redefined-outer-name
    """The agent on the group's instances (ecs_agent, ecs_instances installed inside the services test's moto)."""
    ecs_agent.install(monkeypatch)
    ecs_instances.apply()
    try:
        yield aws
    finally:
        ecs_instances.restore()


def group(aws, desired: int, maximum: int = 4) -> None:  # pylint: disable=redefined-outer-name
    ec2 = boto3.client("ec2", region_name=REGION)
    template = ec2.create_launch_template(
        LaunchTemplateName=GROUP_NAME,
        LaunchTemplateData={
            "ImageId": "ami-12c6146b",
            "InstanceType": "t4g.small",
            "UserData": base64.b64encode(USER_DATA.encode()).decode(),
        },
    )
    boto3.client("autoscaling", region_name=REGION).create_auto_scaling_group(
        AutoScalingGroupName=GROUP_NAME,
        MinSize=0,
        MaxSize=maximum,
        DesiredCapacity=desired,
        VPCZoneIdentifier=aws["subnet"],
        LaunchTemplate={"LaunchTemplateId": template["LaunchTemplate"]["LaunchTemplateId"], "Version": "$Latest"},
    )


def capacity_provider(aws) -> None:  # pylint: disable=redefined-outer-name
    arn = boto3.client("autoscaling", region_name=REGION).describe_auto_scaling_groups(
        AutoScalingGroupNames=[GROUP_NAME]
    )["AutoScalingGroups"][0]["AutoScalingGroupARN"]
    # the cluster was made before ecs_agent was installed: the service-linked role CreateCluster makes on AWS
    boto3.client("iam", region_name=REGION).create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    aws["ecs"].create_capacity_provider(
        name=PROVIDER,
        autoScalingGroupProvider={
            "autoScalingGroupArn": arn,
            "managedScaling": {"status": "ENABLED", "targetCapacity": 100},
            "managedTerminationProtection": "DISABLED",
        },
    )
    aws["ecs"].put_cluster_capacity_providers(
        cluster=CLUSTER, capacityProviders=[PROVIDER], defaultCapacityProviderStrategy=[]
    )


def definition(aws) -> str:  # pylint: disable=redefined-outer-name
    container = {
        "name": "web",
        "image": "megapool.local/shop:1.0.0",
        "memoryReservation": TASK_MEMORY,
        "cpu": 1024,
        "entryPoint": ["/bin/sh", "-c"],
        "command": ["exec ./run.sh"],
        "stopTimeout": 5,
        "environment": [{"name": "PORT", "value": str(PORT)}, {"name": "RELEASE", "value": "1.0.0"}],
        "portMappings": [{"containerPort": PORT, "hostPort": PORT, "protocol": "tcp"}],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": GROUP, "awslogs-region": REGION, "awslogs-stream-prefix": "web"},
        },
    }
    return aws["ecs"].register_task_definition(family="web", networkMode="awsvpc", containerDefinitions=[container])[
        "taskDefinition"
    ]["taskDefinitionArn"]


def create(aws, desired: int = 2, provider: bool = False) -> None:  # pylint: disable=redefined-outer-name
    placement = (
        {"capacityProviderStrategy": [{"capacityProvider": PROVIDER, "weight": 1}]}
        if provider
        else {"launchType": "EC2"}
    )
    aws["ecs"].create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition=definition(aws),
        desiredCount=desired,
        loadBalancers=[{"targetGroupArn": aws["target_group"], "containerName": "web", "containerPort": PORT}],
        networkConfiguration={"awsvpcConfiguration": {"subnets": [aws["subnet"]], "securityGroups": [aws["group"]]}},
        deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 100},
        **placement,
    )


def container_instances(aws) -> dict[str, dict]:  # pylint: disable=redefined-outer-name
    arns = aws["ecs"].list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
    found = (
        aws["ecs"].describe_container_instances(cluster=CLUSTER, containerInstances=arns)["containerInstances"]
        if arns
        else []
    )
    return {item["containerInstanceArn"]: item for item in found}


def two_running(aws):  # pylint: disable=redefined-outer-name
    tasks = running_tasks(aws)
    return tasks if len(tasks) == 2 else None


def test_service_tasks_are_placed_one_per_instance_and_hold_its_resources(hosts):
    group(hosts, 3)
    create(hosts)
    tasks = wait_for(lambda: two_running(hosts))
    placed = [task.get("containerInstanceArn") for task in tasks]
    instances = container_instances(hosts)
    assert all(placed) and len(set(placed)) == 2 and set(placed) <= set(instances)
    for arn, item in instances.items():
        memory = {resource["name"]: resource["integerValue"] for resource in item["remainingResources"]}["MEMORY"]
        busy = arn in placed
        assert item["runningTasksCount"] == (1 if busy else 0)
        assert memory == 1996 - 128 - (TASK_MEMORY if busy else 0)


def test_without_room_the_service_says_it_cannot_place_a_task(hosts):
    group(hosts, 1)
    create(hosts)
    wait_for(lambda: len(running_tasks(hosts)) == 1)

    def unplaced():
        return [
            event["message"] for event in service(hosts)["events"] if "was unable to place a task" in event["message"]
        ]

    messages = wait_for(unplaced, 30)
    assert messages[0].startswith(
        "(service %s) was unable to place a task because no container instance met all of its requirements." % SERVICE
    )
    time.sleep(1)
    assert len(running_tasks(hosts)) == 1  # one node per instance: the second task has nowhere to go


def test_a_capacity_provider_with_managed_scaling_scales_the_group_out_for_a_task_without_room(hosts):
    group(hosts, 1)
    capacity_provider(hosts)
    create(hosts, provider=True)
    tasks = wait_for(lambda: two_running(hosts))
    assert len({task["containerInstanceArn"] for task in tasks}) == 2
    found = boto3.client("autoscaling", region_name=REGION).describe_auto_scaling_groups(
        AutoScalingGroupNames=[GROUP_NAME]
    )["AutoScalingGroups"][0]
    assert found["DesiredCapacity"] == 2 and len(found["Instances"]) == 2


def test_draining_an_instance_replaces_its_task_elsewhere_before_stopping_it(hosts):
    group(hosts, 3)
    create(hosts)
    tasks = wait_for(lambda: two_running(hosts))
    wait_for(lambda: service(hosts)["deployments"][0]["rolloutState"] == "COMPLETED", 60)
    victim = tasks[0]
    drained = victim["containerInstanceArn"]
    hosts["ecs"].update_container_instances_state(cluster=CLUSTER, containerInstances=[drained], status="DRAINING")

    stopped = wait_for(
        lambda: (
            describe(hosts, victim["taskArn"])
            if describe(hosts, victim["taskArn"])["lastStatus"] == "STOPPED"
            else None
        ),
        90,
    )
    now = running_tasks(hosts)
    assert len(now) == 2 and victim["taskArn"] not in {task["taskArn"] for task in now}
    replacement = next(task for task in now if task["taskArn"] != tasks[1]["taskArn"])
    assert replacement["containerInstanceArn"] not in (drained, tasks[1]["containerInstanceArn"])
    # minimumHealthyPercent 100: the old task stopped only after its replacement ran
    assert replacement["startedAt"] < stopped["stoppingAt"] <= stopped["stoppedAt"]
    assert stopped["stopCode"] == "ServiceSchedulerInitiated" and stopped["containers"][0]["exitCode"] == 143
    wait_for(lambda: container_instances(hosts)[drained]["runningTasksCount"] == 0, 30)
    assert container_instances(hosts)[drained]["status"] == "DRAINING"


def test_a_run_task_that_ends_by_itself_gives_its_instance_back(hosts):
    """moto places a RunTask task and counts its resources down, but counts them up again only in its own StopTask:
    a migration task that exits would hold its instance for ever, and the service would find no room."""
    group(hosts, 1)
    task_definition = definition(hosts)
    started = hosts["ecs"].run_task(
        cluster=CLUSTER,
        taskDefinition=task_definition,
        launchType="EC2",
        overrides={"containerOverrides": [{"name": "web", "command": ["exit 0"]}]},
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": [hosts["subnet"]], "securityGroups": [hosts["group"]]}
        },
    )["tasks"][0]
    (arn,) = container_instances(hosts)
    assert started["containerInstanceArn"] == arn
    wait_for(lambda: describe(hosts, started["taskArn"])["lastStatus"] == "STOPPED", 60)
    item = container_instances(hosts)[arn]
    assert item["runningTasksCount"] == 0
    assert {resource["name"]: resource["integerValue"] for resource in item["remainingResources"]}[
        "MEMORY"
    ] == 1996 - 128
    create(hosts, desired=1)
    tasks = wait_for(lambda: running_tasks(hosts) if len(running_tasks(hosts)) == 1 else None)
    assert tasks[0]["containerInstanceArn"] == arn


def test_a_run_task_on_the_capacity_provider_without_room_gets_an_instance_from_managed_scaling(hosts):
    """The migration gate's RunTask while every instance runs its one node: on AWS the task waits in PROVISIONING
    while managed scaling adds an instance (cluster-auto-scaling.html); moto alone places nothing and says nothing."""
    group(hosts, 1)
    capacity_provider(hosts)
    create(hosts, desired=1, provider=True)
    (busy,) = [
        task["containerInstanceArn"]
        for task in wait_for(lambda: running_tasks(hosts) if len(running_tasks(hosts)) == 1 else None)
    ]
    started = hosts["ecs"].run_task(
        cluster=CLUSTER,
        taskDefinition=definition(hosts),
        capacityProviderStrategy=[{"capacityProvider": PROVIDER, "weight": 1}],
        overrides={"containerOverrides": [{"name": "web", "command": ["exit 0"]}]},
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": [hosts["subnet"]], "securityGroups": [hosts["group"]]}
        },
    )["tasks"]
    assert len(started) == 1 and started[0]["containerInstanceArn"] not in (None, busy)
    found = boto3.client("autoscaling", region_name=REGION).describe_auto_scaling_groups(
        AutoScalingGroupNames=[GROUP_NAME]
    )["AutoScalingGroups"][0]
    assert found["DesiredCapacity"] == 2
