# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/ecs_deployments.py: UpdateService starts a new PRIMARY deployment that progresses on reads.

The patch is installed for each test (``installed()``, undone after it) on moto in-process, with a fake clock:
the deployment time is 10 s, and the tests move the clock between two DescribeServices.
"""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from emulator_ext import ecs_deployments

REGION = "eu-north-1"
CLUSTER = "megapool-local"
SERVICE = "web"

clock_under_test = ecs_deployments  # the shared ``clock`` fixture (tests/unit/scripts/conftest.py) drives its timers


@pytest.fixture
def ecs(aws_env, monkeypatch, clock):  # pylint: disable=unused-argument
    monkeypatch.setenv(ecs_deployments.DEPLOY_SECONDS_ENV, "10")
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "1")  # as the emulator sets it
    with mock_aws(), ecs_deployments.installed():
        client = boto3.client("ecs", region_name=REGION)
        client.create_cluster(clusterName=CLUSTER)
        for image in ("repo/web:1.4.1", "repo/web:1.4.2", "repo/web:1.4.3-emulator-fail"):
            client.register_task_definition(
                family="web", containerDefinitions=[{"name": "web", "image": image, "memory": 128}]
            )
        yield client


def _service(client) -> dict:
    return client.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]


def _summary(service: dict) -> list[tuple]:
    return [
        (
            item["status"],
            item["taskDefinition"].rsplit("/", 1)[-1],
            item.get("rolloutState"),
            item["runningCount"],
            item["desiredCount"],
        )
        for item in service["deployments"]
    ]


def _messages(service: dict) -> list[str]:
    return [event["message"] for event in reversed(service["events"])]


def _deployed(client, clock) -> dict:
    client.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition="web:1", desiredCount=2)
    clock.now += 10
    return _service(client)


def test_create_service_starts_a_deployment_that_completes(ecs, clock):
    client = ecs
    client.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition="web:1", desiredCount=2)
    assert _summary(_service(client)) == [("PRIMARY", "web:1", "IN_PROGRESS", 0, 2)]
    clock.now += 5
    service = _service(client)
    assert _summary(service) == [("PRIMARY", "web:1", "IN_PROGRESS", 1, 2)]
    assert (service["runningCount"], service["pendingCount"]) == (1, 1)
    clock.now += 5
    service = _service(client)
    assert _summary(service) == [("PRIMARY", "web:1", "COMPLETED", 2, 2)]
    assert _messages(service)[0].startswith("(service web) has started 2 tasks: (task ")
    assert _messages(service)[-1] == "(service web) has reached a steady state."


def test_update_starts_a_new_primary_deployment_that_replaces_the_old_one(ecs, clock):
    client = ecs
    old = _deployed(client, clock)
    old_id = old["deployments"][0]["id"]

    updated = client.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition="web:2")["service"]
    assert updated["taskDefinition"].endswith(":task-definition/web:2")  # the ARN, as in AWS
    assert _summary(updated) == [("PRIMARY", "web:2", "IN_PROGRESS", 0, 2), ("ACTIVE", "web:1", "COMPLETED", 2, 2)]
    new = updated["deployments"][0]
    assert new["id"] != old_id and new["id"].startswith("ecs-svc/")
    assert new["createdAt"] and new["updatedAt"] and new["pendingCount"] == 2

    clock.now += 5
    assert _summary(_service(client)) == [
        ("PRIMARY", "web:2", "IN_PROGRESS", 1, 2),
        ("ACTIVE", "web:1", "COMPLETED", 1, 2),
    ]
    clock.now += 5
    service = _service(client)
    assert _summary(service) == [("PRIMARY", "web:2", "COMPLETED", 2, 2)]
    assert service["deployments"][0]["id"] == new["id"]
    assert _messages(service)[-2:] == [
        "(service web) (deployment %s) deployment completed." % new["id"],
        "(service web) has reached a steady state.",
    ]


def test_same_task_definition_starts_nothing_but_force_does(ecs, clock):
    client = ecs
    _deployed(client, clock)
    same = client.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition="web:1")["service"]
    assert _summary(same) == [("PRIMARY", "web:1", "COMPLETED", 2, 2)]
    forced = client.update_service(cluster=CLUSTER, service=SERVICE, forceNewDeployment=True)["service"]
    assert _summary(forced) == [("PRIMARY", "web:1", "IN_PROGRESS", 0, 2), ("ACTIVE", "web:1", "COMPLETED", 2, 2)]


def test_desired_count_alone_scales_the_primary_deployment(ecs, clock):
    client = ecs
    _deployed(client, clock)
    scaled = client.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=4)["service"]
    assert _summary(scaled) == [("PRIMARY", "web:1", "COMPLETED", 2, 4)]
    clock.now += 10
    assert _summary(_service(client)) == [("PRIMARY", "web:1", "COMPLETED", 4, 4)]


def test_failure_hook_fails_the_deployment_and_rolls_back(ecs, clock):
    client = ecs
    old = _deployed(client, clock)
    old_id = old["deployments"][0]["id"]
    failing = client.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition="web:3")["service"]["deployments"][
        0
    ]

    clock.now += 4
    assert _summary(_service(client))[0] == ("PRIMARY", "web:3", "IN_PROGRESS", 0, 2)
    clock.now += 1  # half-way: the circuit breaker trips
    service = _service(client)
    assert service["taskDefinition"].endswith("web:1")
    rollback, failed = service["deployments"]
    assert (rollback["status"], rollback["taskDefinition"].rsplit("/", 1)[-1], rollback["rolloutState"]) == (
        "PRIMARY",
        "web:1",
        "IN_PROGRESS",
    )
    assert "rolling back to deploymentId %s" % old_id in rollback["rolloutStateReason"]
    assert (failed["id"], failed["status"], failed["rolloutState"], failed["failedTasks"]) == (
        failing["id"],
        "ACTIVE",
        "FAILED",
        2,
    )
    assert "(service web) (deployment %s) deployment failed: tasks failed to start." % failing["id"] in _messages(
        service
    )

    clock.now += 10
    service = _service(client)
    assert _summary(service) == [("PRIMARY", "web:1", "COMPLETED", 2, 2)]
    assert _messages(service)[-1] == "(service web) has reached a steady state."


def test_a_failing_first_deployment_stays_failed(ecs, clock):
    client = ecs
    client.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition="web:3", desiredCount=1)
    clock.now += 5
    assert _summary(_service(client)) == [("PRIMARY", "web:3", "FAILED", 0, 1)]


def test_zero_seconds_completes_at_the_next_read(ecs, clock, monkeypatch):  # pylint: disable=unused-argument
    monkeypatch.setenv(ecs_deployments.DEPLOY_SECONDS_ENV, "0")
    client = ecs
    client.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition="web:1", desiredCount=2)
    client.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition="web:2")
    assert _summary(_service(client)) == [("PRIMARY", "web:2", "COMPLETED", 2, 2)]


def test_unknown_task_definition_changes_nothing(ecs, clock):
    client = ecs
    before = _deployed(client, clock)
    with pytest.raises(client.exceptions.ClientException):
        client.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition="web:9")
    assert _summary(_service(client)) == _summary(before)


def test_remove_restores_moto(aws_env):  # pylint: disable=unused-argument
    from moto.ecs.models import EC2ContainerServiceBackend  # pylint: disable=import-outside-toplevel

    original = EC2ContainerServiceBackend.update_service
    with ecs_deployments.installed():
        ecs_deployments.apply()  # idempotent
        assert EC2ContainerServiceBackend.update_service is not original
    assert EC2ContainerServiceBackend.update_service is original


def test_describe_services_returns_what_the_service_was_given(ecs, clock):  # pylint: disable=unused-argument
    """AWS answers the deployment configuration (defaults filled in), capacity provider and placement strategies as
    given, and no launch type for a capacity provider strategy; moto dropped all of them."""
    strategy = [{"capacityProvider": "megapool-local-app", "weight": 1, "base": 0}]
    placement = [{"type": "spread", "field": "attribute:ecs.availability-zone"}]
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition="web:1",
        desiredCount=2,
        capacityProviderStrategy=strategy,
        placementStrategy=placement,
        deploymentConfiguration={"maximumPercent": 150, "deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        healthCheckGracePeriodSeconds=60,
    )
    service = _service(ecs)
    assert service["deploymentConfiguration"] == {
        "maximumPercent": 150,
        "minimumHealthyPercent": 100,
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
    }
    assert service["capacityProviderStrategy"] == strategy
    assert service["placementStrategy"] == placement
    assert service["healthCheckGracePeriodSeconds"] == 60
    assert "launchType" not in service
    assert service["deployments"][0]["capacityProviderStrategy"] == strategy


def test_deployment_configuration_defaults_without_one(ecs, clock):
    service = _deployed(ecs, clock)
    assert service["deploymentConfiguration"] == {
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    }
    assert service["launchType"] == "EC2"


def test_remove_restores_the_create_service_handler(aws_env):  # pylint: disable=unused-argument
    from moto.ecs.responses import EC2ContainerServiceResponse  # pylint: disable=import-outside-toplevel

    original = EC2ContainerServiceResponse.create_service
    with ecs_deployments.installed():
        assert EC2ContainerServiceResponse.create_service is not original
    assert EC2ContainerServiceResponse.create_service is original
