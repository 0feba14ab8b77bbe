# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/ecs_blue_green.py: UpdateService's BLUE_GREEN checks, the production rule switched when a
blue/green deployment completes (and not when it fails), the service deployments API; the pure rules table-driven.

moto in-process with ecs_deployments' timers (10 s deployments, a fake clock); the local data plane's stages (real
tasks, bake time, health-check rollback) are proven end to end by tests/integration/test_blue_green.py.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator_ext import ecs_blue_green as ext
from emulator_ext import ecs_deployments

REGION = "eu-north-1"
CLUSTER = "megapool-local"
SERVICE = "web"
ROLE = "arn:aws:iam::123456789012:role/megapool-local-ecs-infrastructure"
# A load balancer with every advancedConfiguration field blue/green needs.
FULL_LB = {
    "targetGroupArn": "b",
    "advancedConfiguration": {"alternateTargetGroupArn": "g", "productionListenerRule": "r", "roleArn": "x"},
}


# The shared fake clock (tests/unit/scripts/conftest.py) drives the deployments' timers.
clock_under_test = ecs_deployments


@pytest.fixture
def world(aws_env, monkeypatch, clock, blue_green_alb):  # pylint: disable=unused-argument
    monkeypatch.setenv(ecs_deployments.DEPLOY_SECONDS_ENV, "10")
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "1")
    with mock_aws(), ecs_deployments.installed():
        ext.apply()
        ext.apply()
        try:
            alb = blue_green_alb(REGION)
            elbv2, blue, green, rule = alb["elbv2"], alb["blue"], alb["green"], alb["rule"]
            ecs = boto3.client("ecs", region_name=REGION)
            ecs.create_cluster(clusterName=CLUSTER)
            for image in ("repo/web:1.4.1", "repo/web:1.4.2", "repo/web:1.4.3-emulator-fail", "repo/web:1.4.4"):
                ecs.register_task_definition(
                    family="web", containerDefinitions=[{"name": "web", "image": image, "memory": 128}]
                )
            ecs.create_service(
                cluster=CLUSTER,
                serviceName=SERVICE,
                taskDefinition="web:1",
                desiredCount=1,
                loadBalancers=[{"targetGroupArn": blue, "containerName": "web", "containerPort": 4000}],
            )
            clock.now += 20
            ecs.describe_services(cluster=CLUSTER, services=[SERVICE])
            yield dict(ecs=ecs, elbv2=elbv2, blue=blue, green=green, rule=rule)
        finally:
            ext.remove()


def _blue_green(world, blue=None, green=None) -> list[dict]:
    return [
        {
            "targetGroupArn": blue or world["blue"],
            "containerName": "web",
            "containerPort": 4000,
            "advancedConfiguration": {
                "alternateTargetGroupArn": green or world["green"],
                "productionListenerRule": world["rule"],
                "roleArn": ROLE,
            },
        }
    ]


def _weights(world) -> dict[str, int]:
    rule = world["elbv2"].describe_rules(RuleArns=[world["rule"]])["Rules"][0]
    groups = rule["Actions"][0]["ForwardConfig"]["TargetGroups"]
    return {("blue" if group["TargetGroupArn"] == world["blue"] else "green"): int(group["Weight"]) for group in groups}


def _newest(world) -> dict:
    listed = world["ecs"].list_service_deployments(cluster=CLUSTER, service=SERVICE)["serviceDeployments"]
    return world["ecs"].describe_service_deployments(serviceDeploymentArns=[listed[0]["serviceDeploymentArn"]])[
        "serviceDeployments"
    ][0]


def _deploy(world, clock, revision: int) -> dict:
    world["ecs"].update_service(cluster=CLUSTER, service=SERVICE, taskDefinition="web:%d" % revision)
    clock.now += 20
    return world["ecs"].describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]


def _to_blue_green(world, bake: int = 0) -> None:
    world["ecs"].update_service(
        cluster=CLUSTER,
        service=SERVICE,
        loadBalancers=_blue_green(world),
        deploymentConfiguration={
            "strategy": "BLUE_GREEN",
            "bakeTimeInMinutes": bake,
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
    )


def test_blue_green_without_advanced_configuration_is_refused_and_nothing_changes(world):
    with pytest.raises(ClientError) as caught:
        world["ecs"].update_service(
            cluster=CLUSTER, service=SERVICE, deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1}
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "advancedConfiguration" in caught.value.response["Error"]["Message"]
    service = world["ecs"].describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert service["deploymentConfiguration"].get("strategy") in (None, "ROLLING")


def test_a_rule_that_does_not_forward_to_both_groups_is_refused(world):
    world["elbv2"].modify_rule(RuleArn=world["rule"], Actions=[{"Type": "forward", "TargetGroupArn": world["blue"]}])
    with pytest.raises(ClientError) as caught:
        _to_blue_green(world)
    assert "must forward to both" in caught.value.response["Error"]["Message"]


def test_the_rule_flips_on_each_deployment_and_the_service_deployments_answer(world, clock):
    _to_blue_green(world)
    assert _weights(world) == {"blue": 1, "green": 0}
    service = _deploy(world, clock, 2)
    assert service["deployments"][0]["rolloutState"] == "COMPLETED"
    assert _weights(world) == {"blue": 0, "green": 1}
    first = _newest(world)
    assert (first["status"], first["lifecycleStage"]) == ("SUCCESSFUL", "CLEAN_UP")
    # the next deployment goes the other way round
    _deploy(world, clock, 4)
    assert _weights(world) == {"blue": 1, "green": 0}
    assert len(world["ecs"].list_service_deployments(cluster=CLUSTER, service=SERVICE)["serviceDeployments"]) == 2


def test_a_failing_deployment_rolls_back_and_the_rule_stays(world, clock):
    _to_blue_green(world)
    _deploy(world, clock, 3)
    service = world["ecs"].describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert service["taskDefinition"].endswith("web:1")
    assert _weights(world) == {"blue": 1, "green": 0}
    assert _newest(world)["status"] == "ROLLBACK_IN_PROGRESS"
    clock.now += 20  # the rollback deployment completes
    world["ecs"].describe_services(cluster=CLUSTER, services=[SERVICE])
    assert _newest(world)["status"] == "ROLLBACK_SUCCESSFUL"


def test_a_rolling_service_has_no_service_deployments_and_no_rule_change(world, clock):
    _deploy(world, clock, 2)
    assert world["ecs"].list_service_deployments(cluster=CLUSTER, service=SERVICE)["serviceDeployments"] == []
    assert _weights(world) == {"blue": 1, "green": 0}


@pytest.mark.parametrize(
    "configuration, balancers, groups, expected",
    [
        ({"strategy": "ROLLING"}, [], None, []),
        (None, [], None, []),
        ({"strategy": "BLUE_GREEN"}, [FULL_LB], ["b", "g"], ["bakeTimeInMinutes is required"]),
        ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0}, [], None, ["requires a load balancer"]),
        (
            {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0},
            [{"targetGroupArn": "b", "advancedConfiguration": {"alternateTargetGroupArn": "g"}}],
            None,
            ["missing productionListenerRule, roleArn"],
        ),
        ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5}, [FULL_LB], None, ["does not exist"]),
        ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5}, [FULL_LB], ["b", "g"], []),
    ],
)
def test_blue_green_errors(configuration, balancers, groups, expected):
    errors = ext.blue_green_errors(configuration, balancers, lambda _arn: groups)
    assert len(errors) == len(expected)
    for error, fragment in zip(errors, expected):
        assert fragment in error


@pytest.mark.parametrize(
    "actions, live",
    [
        ([{"Type": "forward", "TargetGroupArn": "b"}], "b"),
        (
            [
                {
                    "Type": "forward",
                    "ForwardConfig": {
                        "TargetGroups": [{"TargetGroupArn": "b", "Weight": 0}, {"TargetGroupArn": "g", "Weight": 1}]
                    },
                }
            ],
            "g",
        ),
        (
            [
                {
                    "Type": "forward",
                    "ForwardConfig": {
                        "TargetGroups": [
                            {"TargetGroupArn": "b", "Weight": "100"},
                            {"TargetGroupArn": "g", "Weight": "0"},
                        ]
                    },
                }
            ],
            "b",
        ),
        ([], "b"),
    ],
)
def test_live_of(actions, live):
    assert ext.live_of(actions, "b", "g") == live


def test_shifted_actions_keep_other_actions_and_stickiness():
    stickiness = {"TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 60}}
    actions = [
        {"Type": "authenticate-oidc", "Order": 1},
        {"Type": "forward", "Order": 2, "TargetGroupArn": "b", "ForwardConfig": stickiness},
    ]
    shifted = ext.shifted_actions(actions, "g", "b")
    assert shifted[0] == actions[0]
    assert "TargetGroupArn" not in shifted[1] and shifted[1]["Order"] == 2
    assert shifted[1]["ForwardConfig"] == {
        "TargetGroups": [{"TargetGroupArn": "g", "Weight": 1}, {"TargetGroupArn": "b", "Weight": 0}],
        "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 60},
    }


# ------------------------------------------------------------------------------------------ the test listener rule


def _test_rule(world, groups=None) -> str:
    """A test listener (port 8080) with one rule forwarding over both groups, as the alb role builds it."""
    balancer = world["elbv2"].describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
    listener = world["elbv2"].create_listener(
        LoadBalancerArn=balancer,
        Protocol="HTTP",
        Port=8080,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": world["blue"]}],
    )["Listeners"][0]["ListenerArn"]
    forward = {
        "TargetGroups": groups
        or [{"TargetGroupArn": world["blue"], "Weight": 1}, {"TargetGroupArn": world["green"], "Weight": 0}]
    }
    return world["elbv2"].create_rule(
        ListenerArn=listener,
        Priority=10,
        Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
        Actions=[{"Type": "forward", "ForwardConfig": forward}],
    )["Rules"][0]["RuleArn"]


def _rule_weights(world, rule: str) -> dict[str, int]:
    found = world["elbv2"].describe_rules(RuleArns=[rule])["Rules"][0]
    return {
        ("blue" if group["TargetGroupArn"] == world["blue"] else "green"): int(group["Weight"])
        for group in found["Actions"][0]["ForwardConfig"]["TargetGroups"]
    }


def _with_test_rule(world, test_rule: str) -> list[dict]:
    balancers = _blue_green(world)
    balancers[0]["advancedConfiguration"]["testListenerRule"] = test_rule
    return balancers


def test_a_test_rule_that_does_not_forward_to_both_groups_is_refused(world):
    test_rule = _test_rule(world, groups=[{"TargetGroupArn": world["blue"], "Weight": 1}])
    with pytest.raises(ClientError) as caught:
        world["ecs"].update_service(
            cluster=CLUSTER,
            service=SERVICE,
            loadBalancers=_with_test_rule(world, test_rule),
            deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0},
        )
    assert "The test listener rule %s must forward to both" % test_rule in caught.value.response["Error"]["Message"]
    service = world["ecs"].describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert "advancedConfiguration" not in service["loadBalancers"][0]


def test_the_test_rule_moves_with_each_deployment_and_stays_on_a_rollback(world, clock):
    test_rule = _test_rule(world)
    world["ecs"].update_service(
        cluster=CLUSTER,
        service=SERVICE,
        loadBalancers=_with_test_rule(world, test_rule),
        deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0},
    )
    _deploy(world, clock, 2)
    assert _rule_weights(world, test_rule) == {"blue": 0, "green": 1} == _weights(world)
    _deploy(world, clock, 3)  # emulator-fail: rolled back, neither rule moves
    assert _rule_weights(world, test_rule) == {"blue": 0, "green": 1} == _weights(world)


@pytest.mark.parametrize("missing", ["arn:aws:elasticloadbalancing:eu-north-1:123456789012:listener-rule/app/x/1/2/3"])
def test_a_test_rule_that_does_not_exist_is_refused(world, missing):
    with pytest.raises(ClientError) as caught:
        world["ecs"].update_service(
            cluster=CLUSTER,
            service=SERVICE,
            loadBalancers=_with_test_rule(world, missing),
            deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0},
        )
    assert "The test listener rule %s does not exist" % missing in caught.value.response["Error"]["Message"]


class _Task:
    """A local task of the data plane, as the blue/green scheduler sees it."""

    def __init__(self, deployment_id: str) -> None:
        import threading  # pylint: disable=import-outside-toplevel

        self.deployment_id = deployment_id
        self.finished = threading.Event()
        self.stopping = self.failed = False
        self.task = type("T", (), {"id": "t-" + deployment_id})()
        self.started = 0.0
        self.targets: list = []

    def target_states(self) -> list[str]:
        return ["healthy"]

    def healthy(self) -> bool:
        return True

    def stop(self, *_args) -> None:
        self.stopping = True
        self.finished.set()


def test_the_local_scheduler_sends_test_traffic_to_green_before_production_traffic(world, clock, monkeypatch):
    from emulator_ext import ecs_dataplane  # pylint: disable=import-outside-toplevel

    test_rule = _test_rule(world)
    world["ecs"].update_service(
        cluster=CLUSTER,
        service=SERVICE,
        loadBalancers=_with_test_rule(world, test_rule),
        deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0},
    )
    monkeypatch.setenv(ecs_deployments.DEPLOY_SECONDS_ENV, "1000")  # the timers stay out of the way: the stages decide
    world["ecs"].update_service(cluster=CLUSTER, service=SERVICE, taskDefinition="web:2")
    from moto.ecs.models import ecs_backends  # pylint: disable=import-outside-toplevel

    backend = ecs_backends["123456789012"][REGION]
    service = backend._get_service(CLUSTER, SERVICE)  # pylint: disable=protected-access
    primary = ecs_deployments._primary(service)  # pylint: disable=protected-access
    tasks = [_Task("blue-deployment")]
    monkeypatch.setattr(ecs_dataplane, "service_tasks", lambda _service: list(tasks))
    monkeypatch.setattr(ecs_dataplane, "_event", lambda *_args: None)

    def launch(_backend, _service, deployment):
        tasks.append(_Task(deployment["id"]))
        return tasks[-1]

    monkeypatch.setattr(ecs_dataplane, "_launch", launch)
    seen = []
    for _step in range(20):
        if not ext.schedule(backend, service, primary):
            break
        stage = ext._STATE[primary["id"]].stage  # pylint: disable=protected-access
        seen.append((stage, _rule_weights(world, test_rule)["green"], _weights(world)["green"]))
    stages = [stage for stage, _test, _production in seen]
    assert stages.index("POST_TEST_TRAFFIC_SHIFT") < stages.index("POST_PRODUCTION_TRAFFIC_SHIFT")
    # After the test traffic shift and before the production one: test traffic on green, production still on blue.
    assert ("PRODUCTION_TRAFFIC_SHIFT", 1, 0) in seen
    assert seen[-1][1:] == (1, 1)
    assert ext._STATE[primary["id"]].record["status"] == "SUCCESSFUL"  # pylint: disable=protected-access


# ------------------------------------------------------------------------------------------ lifecycle hooks

HOOK = "arn:aws:lambda:eu-north-1:123456789012:function:smoke-test"
HOOK_ROLE = "arn:aws:iam::123456789012:role/megapool-local-ecs-hooks"


@pytest.mark.parametrize(
    "stage, expected",
    [
        ("POST_SCALE_UP", [("POST_SCALE_UP", HOOK)]),
        (
            "PRODUCTION_TRAFFIC_SHIFT",
            [("PRE_PRODUCTION_TRAFFIC_SHIFT", HOOK + ":live"), ("PRODUCTION_TRAFFIC_SHIFT", HOOK)],
        ),
        ("BAKE_TIME", []),
    ],
)
def test_hooks_at(stage, expected):
    hooks = [
        {"hookTargetArn": HOOK, "lifecycleStages": ["POST_SCALE_UP", "PRODUCTION_TRAFFIC_SHIFT"]},
        {"hookTargetArn": HOOK + ":live", "lifecycleStages": ["PRE_PRODUCTION_TRAFFIC_SHIFT"]},
    ]
    assert [(hook_stage, hook["hookTargetArn"]) for hook_stage, hook in ext.hooks_at(hooks, stage)] == expected


def test_lifecycle_hooks_are_recorded_and_announced_never_silently_run(world, clock):
    hooks = [
        {
            "hookTargetArn": HOOK,
            "roleArn": HOOK_ROLE,
            "lifecycleStages": ["POST_SCALE_UP", "POST_PRODUCTION_TRAFFIC_SHIFT"],
        }
    ]
    world["ecs"].update_service(
        cluster=CLUSTER,
        service=SERVICE,
        loadBalancers=_blue_green(world),
        deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": hooks},
    )
    _deploy(world, clock, 2)
    events = [
        event["message"]
        for event in world["ecs"].describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["events"]
    ]
    announced = [message for message in events if "lifecycle hook" in message]
    assert len(announced) == 2, events
    assert all(
        "not invoked (the emulator runs no Lambda function), counted as SUCCEEDED" in message and HOOK in message
        for message in announced
    )
    assert {
        stage
        for stage in ("POST_SCALE_UP", "POST_PRODUCTION_TRAFFIC_SHIFT")
        if any(stage in message for message in announced)
    } == {"POST_SCALE_UP", "POST_PRODUCTION_TRAFFIC_SHIFT"}
    record = next(iter(ext._RECORDS.values()))[-1]  # pylint: disable=protected-access
    assert [run["stage"] for run in record["_hook_runs"]] == ["POST_SCALE_UP", "POST_PRODUCTION_TRAFFIC_SHIFT"]
    assert "_hook_runs" not in _newest(world)  # internal: DescribeServiceDeployments answers AWS's fields only


def test_apply_wraps_once_and_remove_gives_moto_and_the_timers_back():
    """patching.MethodPatches: moto's UpdateService and reset and ecs_deployments' timer functions wrapped once, the
    two service deployment actions moto lacks added, the data plane's hooks set; remove() undoes all of it."""
    from moto.ecs.models import EC2ContainerServiceBackend  # pylint: disable=import-outside-toplevel
    from moto.ecs.responses import EC2ContainerServiceResponse  # pylint: disable=import-outside-toplevel

    from emulator_ext import ecs_dataplane  # pylint: disable=import-outside-toplevel

    before = (EC2ContainerServiceBackend.update_service, ecs_deployments._complete, ecs_deployments._fail)  # pylint: disable=protected-access
    assert not ext.applied() and not hasattr(EC2ContainerServiceResponse, "list_service_deployments")
    ext.apply()
    ext.apply()
    try:
        assert ext.applied()
        assert EC2ContainerServiceBackend.update_service.__wrapped__ is before[0]
        assert ecs_deployments._complete.__wrapped__ is before[1]  # pylint: disable=protected-access
        assert ecs_deployments._fail.__wrapped__ is before[2]  # pylint: disable=protected-access
        assert callable(EC2ContainerServiceResponse.describe_service_deployments)
        assert ecs_dataplane.HOOKS["schedule"] is ext.schedule
    finally:
        ext.remove()
    assert (EC2ContainerServiceBackend.update_service, ecs_deployments._complete, ecs_deployments._fail) == before  # pylint: disable=protected-access
    assert not hasattr(EC2ContainerServiceResponse, "list_service_deployments")
    assert not hasattr(EC2ContainerServiceResponse, "describe_service_deployments")
    assert "schedule" not in ecs_dataplane.HOOKS and not ext.applied()
