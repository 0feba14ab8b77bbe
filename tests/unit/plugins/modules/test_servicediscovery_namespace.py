# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.servicediscovery_namespace against moto in-process (and the pure planner).

moto finishes every Cloud Map operation at once (SUCCESS); where the test needs a running or failed operation it
makes moto answer like AWS does and says so. moto does not associate the namespace's hosted zone with the VPC (AWS
does), allows one namespace per VPC, and keeps the hosted zone when the namespace is deleted (the emulator extension
servicediscovery fixes that, tests/unit/scripts/test_emulator_ext_servicediscovery.py; the module never deletes the
zone itself).
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.route53 import models as route53_models
from moto.servicediscovery import models as sd_models

from ansible_collections.megapool.aws.plugins.module_utils import base
from ansible_collections.megapool.aws.plugins.module_utils import service_discovery as planner
from ansible_collections.megapool.aws.plugins.modules import servicediscovery_namespace as module_under_test
from conftest import run_module_main

REGION = "eu-north-1"
NAME = "megapool.test.internal"
TAGS = {"megapool:env": "test", "megapool:cluster": "megapool"}


@pytest.fixture
def aws(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        yield


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch):
    monkeypatch.setattr(module_under_test, "_sleep", lambda seconds: None)


def _sd():
    return boto3.client("servicediscovery", region_name=REGION)


def _vpc(cidr: str = "10.0.0.0/16") -> str:
    return boto3.client("ec2", region_name=REGION).create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]


def _args(vpc: str | None, **extra: Any) -> dict[str, Any]:
    args: dict[str, Any] = dict(name=NAME, region=REGION, poll_interval=0.01, wait_timeout=5)
    if vpc is not None:
        args["vpc_id"] = vpc
    args.update(extra)
    return args


def _namespaces() -> list[dict]:
    return _sd().list_namespaces()["Namespaces"]


def _services() -> list[dict]:
    return [_sd().get_service(Id=summary["Id"])["Service"] for summary in _sd().list_services()["Services"]]


def _tags(arn: str) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in _sd().list_tags_for_resource(ResourceARN=arn)["Tags"]}


def _zones() -> list[str]:
    return [zone["Name"] for zone in boto3.client("route53", region_name=REGION).list_hosted_zones()["HostedZones"]]


def _backend():
    return sd_models.servicediscovery_backends["123456789012"][REGION]


# ------------------------------------------------------------------------------------------ present


def test_creates_the_namespace_and_its_service(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpc = _vpc()
    aws_calls.clear()
    result = run_module(
        module_under_test.main, _args(vpc, services=[dict(name="app", dns_ttl=10)], tags=TAGS), diff=True
    )
    module_calls = list(aws_calls)

    assert result["changed"] is True, result
    assert result["done"] is True
    [namespace] = _namespaces()
    assert namespace["Name"] == NAME and namespace["Type"] == "DNS_PRIVATE"
    assert _tags(namespace["Arn"]) == TAGS
    [service] = _services()
    assert service["Name"] == "app" and service["NamespaceId"] == namespace["Id"]
    assert service["DnsConfig"]["RoutingPolicy"] == "MULTIVALUE"
    assert service["DnsConfig"]["DnsRecords"] == [{"Type": "A", "TTL": 10}]
    assert service["HealthCheckCustomConfig"] == {"FailureThreshold": 1}
    assert _tags(service["Arn"]) == TAGS

    returned = result["namespace"]
    assert returned["id"] == namespace["Id"] and returned["arn"] == namespace["Arn"] and returned["name"] == NAME
    assert returned["vpc"] == vpc
    assert returned["hosted_zone_id"] == namespace["Properties"]["DnsProperties"]["HostedZoneId"]
    assert returned["tags"] == TAGS
    assert result["services"] == [
        {
            "name": "app",
            "id": service["Id"],
            "arn": service["Arn"],
            "description": "%s service app" % NAME,
            "dns_ttl": 10,
            "dns_record_types": ["A"],
            "routing_policy": "MULTIVALUE",
            "health_check_custom_config": True,
            "tags": TAGS,
        }
    ]
    assert result["diff"]["before"] == {"namespace": {}, "services": {}}
    assert result["diff"]["after"]["services"]["app"]["arn"] == service["Arn"]
    assert [call.operation for call in module_calls if call in aws_calls.writes()] == [
        "CreatePrivateDnsNamespace",
        "CreateService",
    ]
    create = aws_calls.of("CreatePrivateDnsNamespace")[0].params
    assert create["Vpc"] == vpc and create["Name"] == NAME
    assert any("namespace %s create SUCCESS" % NAME in event for event in result["events"]), result["events"]
    assert result["operation_id"]
    assert all("megapool.aws/%s" % base.MEGAPOOL_AWS_COLLECTION_VERSION in call.user_agent for call in module_calls)


def test_second_run_changes_nothing_and_only_reads(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpc = _vpc()
    args = _args(vpc, services=[dict(name="app")], tags=TAGS)
    first = run_module(module_under_test.main, args, diff=True)
    aws_calls.clear()

    second = run_module(module_under_test.main, args, diff=True)

    assert second["changed"] is False, second
    assert aws_calls.writes() == []
    assert second["namespace"] == first["namespace"] and second["services"] == first["services"]
    assert second["diff"]["before"] == second["diff"]["after"] == first["diff"]["after"]
    assert second["done"] is True and second["events"] == []


def test_check_mode_writes_nothing_and_predicts_the_real_run(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpc = _vpc()
    args = _args(vpc, services=[dict(name="app", dns_ttl=30)], tags=TAGS)
    aws_calls.clear()

    checked = run_module(module_under_test.main, args, check_mode=True, diff=True)

    assert checked["changed"] is True, checked
    assert aws_calls.writes() == []
    assert _namespaces() == [] and _services() == []
    assert checked["namespace"]["id"] is None and checked["services"][0]["arn"] is None

    applied = run_module(module_under_test.main, args, diff=True)
    assert checked["diff"]["before"] == applied["diff"]["before"]

    def _without_ids(side):
        namespace = dict(side["namespace"], id=None, arn=None, hosted_zone_id=None)
        return namespace, {name: dict(view, id=None, arn=None) for name, view in side["services"].items()}

    assert _without_ids(checked["diff"]["after"]) == _without_ids(applied["diff"]["after"])


def test_check_mode_on_an_existing_namespace_reports_the_differences(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpc = _vpc()
    run_module(module_under_test.main, _args(vpc, services=[dict(name="app")], tags=TAGS))
    aws_calls.clear()
    args = _args(vpc, services=[dict(name="app", dns_ttl=60), dict(name="worker")], tags={"megapool:env": "test"})

    checked = run_module(module_under_test.main, args, check_mode=True, diff=True)

    assert checked["changed"] is True
    assert aws_calls.writes() == []
    assert checked["diff"]["after"]["namespace"]["tags"] == {"megapool:env": "test"}
    assert checked["diff"]["after"]["services"]["app"]["dns_ttl"] == 60
    assert checked["diff"]["after"]["services"]["worker"]["id"] is None
    assert len(_services()) == 1 and _services()[0]["DnsConfig"]["DnsRecords"][0]["TTL"] == 10


def test_updates_ttl_description_and_tags_then_is_idempotent(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpc = _vpc()
    run_module(module_under_test.main, _args(vpc, services=[dict(name="app")], tags=TAGS))
    aws_calls.clear()
    args = _args(
        vpc,
        description="discovery",
        services=[dict(name="app", dns_ttl=60)],
        tags={"megapool:env": "test", "team": "core"},
    )

    result = run_module(module_under_test.main, args, diff=True)

    assert result["changed"] is True, result
    writes = [call.operation for call in aws_calls.writes()]
    assert sorted(writes) == sorted(
        ["UpdatePrivateDnsNamespace", "UntagResource", "TagResource", "UpdateService", "UntagResource", "TagResource"]
    )
    [service] = _services()
    assert service["DnsConfig"]["DnsRecords"] == [{"Type": "A", "TTL": 60}]
    assert _namespaces()[0]["Description"] == "discovery"
    assert _tags(_namespaces()[0]["Arn"]) == {"megapool:env": "test", "team": "core"} == _tags(service["Arn"])
    assert result["diff"]["before"]["services"]["app"]["dns_ttl"] == 10 and result["services"][0]["dns_ttl"] == 60
    aws_calls.clear()
    assert run_module(module_under_test.main, args)["changed"] is False
    assert aws_calls.writes() == []


def test_tags_unset_leaves_tags_alone_and_purge_false_keeps_others(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpc = _vpc()
    run_module(module_under_test.main, _args(vpc, tags=TAGS))
    aws_calls.clear()
    assert run_module(module_under_test.main, _args(vpc))["changed"] is False
    result = run_module(module_under_test.main, _args(vpc, tags={"team": "core"}, purge_tags=False))
    assert result["changed"] is True
    assert [call.operation for call in aws_calls.writes()] == ["TagResource"]
    assert _tags(_namespaces()[0]["Arn"]) == dict(TAGS, team="core")


def test_an_immutable_service_change_fails_naming_the_fix(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpc = _vpc()
    run_module(module_under_test.main, _args(vpc, services=[dict(name="app")]))
    aws_calls.clear()
    result = run_module(
        module_under_test.main,
        _args(vpc, services=[dict(name="app", dns_record_types=["SRV"], routing_policy="WEIGHTED")]),
    )
    assert result["failed"] is True
    assert "AWS cannot change dns_record_types A -> SRV; routing_policy MULTIVALUE -> WEIGHTED" in result["msg"]
    assert "purge_services=true" in result["msg"]
    assert aws_calls.writes() == []


def test_purge_services_deletes_unlisted_services_only_when_asked(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpc = _vpc()
    run_module(module_under_test.main, _args(vpc, services=[dict(name="app"), dict(name="old")]))
    assert run_module(module_under_test.main, _args(vpc, services=[dict(name="app")]))["changed"] is False
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(vpc, services=[dict(name="app")], purge_services=True), diff=True)
    assert result["changed"] is True
    assert [call.operation for call in aws_calls.writes()] == ["DeleteService"]
    assert [service["Name"] for service in _services()] == ["app"]
    assert "old" in result["diff"]["before"]["services"] and "old" not in result["diff"]["after"]["services"]


def test_wait_false_starts_the_creation_and_a_rerun_picks_it_up(aws, run_module, aws_calls, monkeypatch):  # pylint: disable=unused-argument
    # AWS runs CreatePrivateDnsNamespace for a while (SUBMITTED, PENDING); moto finishes at once. Make it PENDING.
    original = sd_models.Operation.__init__

    def _pending(self, operation_type, targets):
        original(self, operation_type, targets)
        self.status = "PENDING"

    monkeypatch.setattr(sd_models.Operation, "__init__", _pending)
    vpc = _vpc()
    args = _args(vpc, wait=False, services=[dict(name="app")])

    started = run_module(module_under_test.main, args)
    assert started["changed"] is True and started["done"] is False, started
    assert "create PENDING" in started["progress"]
    assert started["namespace"] == {} and started["services"] == []
    # Namespace is listed by moto already; hide it like AWS does while the creation runs.
    hidden = dict(_backend().namespaces)
    _backend().namespaces.clear()
    # moto lists only the operations of listed namespaces; AWS lists the running creation.
    monkeypatch.setattr(
        sd_models.ServiceDiscoveryBackend, "list_operations", lambda self: list(self.operations.values())
    )
    aws_calls.clear()
    monkeypatch.setattr(
        sd_models.ServiceDiscoveryBackend, "get_namespace", lambda self, namespace_id: hidden[namespace_id]
    )
    again = run_module(module_under_test.main, args)
    assert again["done"] is False and again["changed"] is False, again
    assert aws_calls.writes() == []
    assert again["operation_id"] == started["operation_id"]
    assert "already running" in again["events"][0]

    # AWS finishes: the namespace is listed, the operation SUCCESS; the rerun creates the service.
    _backend().namespaces.update(hidden)
    for operation in _backend().operations.values():
        operation.status = "SUCCESS"
    done = run_module(module_under_test.main, args)
    assert done["done"] is True and done["changed"] is True, done
    assert [call.operation for call in aws_calls.writes()] == ["CreateService"]
    assert run_module(module_under_test.main, args)["changed"] is False


def test_a_creation_that_never_ends_times_out_naming_wait_timeout(aws, run_module, monkeypatch):  # pylint: disable=unused-argument
    original = sd_models.Operation.__init__

    def _pending(self, operation_type, targets):
        original(self, operation_type, targets)
        self.status = "PENDING"

    monkeypatch.setattr(sd_models.Operation, "__init__", _pending)
    clock = iter(range(0, 1000, 2))
    monkeypatch.setattr(module_under_test, "_clock", lambda: next(clock))
    result = run_module(module_under_test.main, _args(_vpc(), wait_timeout=10))
    assert result["failed"] is True
    assert "Timed out after 10s waiting for Cloud Map to create namespace %s" % NAME in result["msg"]
    assert "raise wait_timeout" in result["msg"] and "create PENDING" in result["msg"]
    assert result["done"] is False


def test_a_failed_operation_fails_with_the_reason(aws, run_module, monkeypatch):  # pylint: disable=unused-argument
    original = sd_models.Operation.to_json

    def _failed(self, short=False):
        answer = original(self, short)
        answer.update(Status="FAIL", ErrorCode="CANNOT_CREATE_HOSTED_ZONE", ErrorMessage="The VPC is gone")
        return answer

    monkeypatch.setattr(sd_models.Operation, "to_json", _failed)
    result = run_module(module_under_test.main, _args(_vpc(), wait=False))
    assert result["failed"] is True
    assert "could not create namespace %s" % NAME in result["msg"]
    assert "CANNOT_CREATE_HOSTED_ZONE: The VPC is gone" in result["msg"]


def test_the_namespace_of_another_vpc_is_not_taken(aws, run_module, monkeypatch):  # pylint: disable=unused-argument
    # On AWS the hosted zone names the VPC; make moto's GetHostedZone do so.
    first, second = _vpc(), _vpc("10.1.0.0/16")
    run_module(module_under_test.main, _args(first))
    zone_id = _namespaces()[0]["Properties"]["DnsProperties"]["HostedZoneId"]
    route53_models.route53_backends["123456789012"]["aws"].get_hosted_zone(zone_id).vpcs = [
        {"vpc_id": first, "vpc_region": REGION}
    ]
    assert boto3.client("route53", region_name=REGION).get_hosted_zone(Id=zone_id)["VPCs"][0]["VPCId"] == first
    found = run_module(module_under_test.main, _args(first))
    assert found["changed"] is False and found["namespace"]["vpc"] == first
    other = run_module(module_under_test.main, _args(second), check_mode=True)
    assert other["changed"] is True and other["namespace"]["id"] is None


# ------------------------------------------------------------------------------------------ absent


def test_absent_deletes_services_then_the_namespace_and_is_idempotent(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpc = _vpc()
    zones_before = _zones()
    run_module(module_under_test.main, _args(vpc, services=[dict(name="app")], tags=TAGS))

    checked = run_module(module_under_test.main, _args(vpc, state="absent"), check_mode=True, diff=True)
    assert checked["changed"] is True
    assert len(_namespaces()) == 1 and len(_services()) == 1

    aws_calls.clear()
    removed = run_module(module_under_test.main, _args(vpc, state="absent"), diff=True)
    assert removed["changed"] is True and removed["done"] is True, removed
    writes = [call.operation for call in aws_calls.writes()]
    # Cloud Map deletes the namespace's hosted zone itself: the module never touches it.
    assert writes == ["DeleteService", "DeleteNamespace"]
    assert _namespaces() == [] and _services() == []
    assert len(_zones()) == len(zones_before) + 1  # plain moto keeps it (the emulator extension deletes it)
    assert removed["diff"] == checked["diff"]
    assert removed["diff"]["before"]["services"]["app"]["name"] == "app"

    aws_calls.clear()
    again = run_module(module_under_test.main, _args(vpc, state="absent"))
    assert again["changed"] is False and again["done"] is True
    assert aws_calls.writes() == []
    assert run_module(module_under_test.main, _args(None, state="absent"))["changed"] is False


def _with_instance(vpc: str) -> str:
    created = run_module_main(module_under_test.main, _args(vpc, services=[dict(name="app")]))
    service_id = created["services"][0]["id"]
    _sd().register_instance(ServiceId=service_id, InstanceId="task-1", Attributes={"AWS_INSTANCE_IPV4": "10.0.1.5"})
    return service_id


class Pauses(list):
    """The module's pauses (the clock advances by each); ``steps`` change the world after each pause."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.steps: list = []

    def sleep(self, seconds: float) -> None:
        self.append(seconds)
        self.now += seconds
        if self.steps:
            self.steps.pop(0)()


@pytest.fixture
def pauses(monkeypatch) -> Pauses:
    recorded = Pauses()
    monkeypatch.setattr(module_under_test, "_sleep", recorded.sleep)
    monkeypatch.setattr(module_under_test, "_clock", lambda: recorded.now)
    return recorded


def test_absent_waits_for_ecs_to_deregister_the_instances(aws, run_module, aws_calls, pauses):  # pylint: disable=unused-argument
    """ECS deregisters a service's tasks only as it stops them: a teardown right after the ECS service went waits."""
    vpc = _vpc()
    service_id = _with_instance(vpc)
    pauses.steps.extend(
        [lambda: None, lambda: _backend().deregister_instance(service_id, "task-1")]
    )  # ECS, not the module
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(vpc, state="absent", wait_timeout=60, poll_interval=5))

    assert result["changed"] is True and result["done"] is True, result
    assert pauses == [5, 5]
    assert [call.operation for call in aws_calls.writes()] == ["DeleteService", "DeleteNamespace"]
    assert (
        result["events"][0]
        == "waiting for the instances of service app (1 instance) of namespace %s to be deregistered for 0s" % NAME
    )
    assert _namespaces() == [] and _services() == []


def test_absent_fails_naming_the_service_when_the_instances_stay(aws, run_module, aws_calls, pauses):  # pylint: disable=unused-argument
    vpc = _vpc()
    _with_instance(vpc)
    aws_calls.clear()

    refused = run_module(module_under_test.main, _args(vpc, state="absent", wait_timeout=12, poll_interval=5))

    assert refused["failed"] is True
    assert refused["msg"].startswith(
        "Cannot delete service app (1 instance) of namespace %s: instances are still registered after wait_timeout=12s."
        % NAME
    ), refused["msg"]
    assert "deregister_instances=true" in refused["msg"] and "raise wait_timeout" in refused["msg"]
    assert pauses == [5, 5, 2]
    assert aws_calls.writes() == []
    assert len(_namespaces()) == 1


def test_absent_without_wait_is_not_done_while_instances_are_registered(aws, run_module, aws_calls, pauses):  # pylint: disable=unused-argument
    vpc = _vpc()
    _with_instance(vpc)
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(vpc, state="absent", wait=False))

    assert result.get("failed") is not True and result["done"] is False and result["changed"] is False, result
    assert result["progress"].startswith("waiting for the instances of service app (1 instance)")
    assert pauses == [] and aws_calls.writes() == []


def test_absent_check_mode_warns_about_registered_instances(aws, run_module, aws_calls, pauses):  # pylint: disable=unused-argument
    vpc = _vpc()
    _with_instance(vpc)
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(vpc, state="absent"), check_mode=True)
    assert result["changed"] is True and pauses == [] and aws_calls.writes() == []


def test_absent_deregisters_the_instances_when_asked(aws, run_module, aws_calls, pauses):  # pylint: disable=unused-argument
    vpc = _vpc()
    _with_instance(vpc)
    aws_calls.clear()

    forced = run_module(module_under_test.main, _args(vpc, state="absent", deregister_instances=True))
    assert forced["changed"] is True, forced
    assert [call.operation for call in aws_calls.writes()][:3] == [
        "DeregisterInstance",
        "DeleteService",
        "DeleteNamespace",
    ]
    assert _namespaces() == []


# ------------------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    "extra, message",
    [
        pytest.param(dict(name="not a domain"), "name='not a domain' is not a DNS domain name", id="name"),
        pytest.param(dict(vpc_id="vpc12"), "vpc_id='vpc12' is not a VPC id", id="vpc"),
        pytest.param(dict(vpc_id=None), "vpc_id is required with state=present", id="no-vpc"),
        pytest.param(
            dict(services=[dict(name="a.b")]), "services[0].name='a.b' is not a service name", id="service-name"
        ),
        pytest.param(dict(services=[dict(name="app", dns_ttl=-1)]), "services[0].dns_ttl=-1 must be 0 to", id="ttl"),
        pytest.param(
            dict(services=[dict(name="app"), dict(name="APP")]), "services lists app more than once", id="duplicate"
        ),
        pytest.param(dict(wait_timeout=-1), "wait_timeout must be 0 or more seconds", id="timeout"),
        pytest.param(dict(poll_interval=0), "poll_interval must be more than 0 seconds", id="poll"),
    ],
)
def test_invalid_input_fails_before_any_aws_call(aws, run_module, aws_calls, extra, message):  # pylint: disable=unused-argument
    args = _args("vpc-0123456789abcdef0")
    args.update(extra)
    args = {key: value for key, value in args.items() if value is not None}
    result = run_module(module_under_test.main, args)
    assert result["failed"] is True
    assert message in result["msg"]
    assert aws_calls == []


# ------------------------------------------------------------------------------------------ planner


@pytest.mark.parametrize(
    "candidates, vpc, expected",
    [
        pytest.param([], "vpc-1", None, id="none"),
        pytest.param([("ns-a", ["vpc-1"]), ("ns-b", ["vpc-2"])], "vpc-2", "ns-b", id="by-vpc"),
        pytest.param([("ns-a", ["vpc-1"])], "vpc-2", None, id="other-vpc"),
        pytest.param([("ns-a", None)], "vpc-2", "ns-a", id="unreadable-vpc-single"),
        pytest.param([("ns-a", ["vpc-1"]), ("ns-b", None)], "vpc-1", "ns-a", id="known-wins"),
        pytest.param([("ns-a", ["vpc-1"])], None, "ns-a", id="absent-without-vpc"),
    ],
)
def test_pick_namespace(candidates, vpc, expected):
    pairs = [({"Id": ident, "Name": NAME, "Type": "DNS_PRIVATE"}, vpcs) for ident, vpcs in candidates]
    pairs.append(({"Id": "ns-http", "Name": NAME, "Type": "HTTP"}, None))
    picked = planner.pick_namespace(pairs, NAME, vpc)
    assert (picked[0]["Id"] if picked else None) == expected


@pytest.mark.parametrize(
    "candidates, vpc",
    [
        pytest.param([("ns-a", None), ("ns-b", None)], "vpc-1", id="two-unreadable"),
        pytest.param([("ns-a", ["vpc-1"]), ("ns-b", ["vpc-2"])], None, id="two-without-vpc"),
    ],
)
def test_pick_namespace_refuses_ambiguity(candidates, vpc):
    pairs = [({"Id": ident, "Name": NAME, "Type": "DNS_PRIVATE"}, vpcs) for ident, vpcs in candidates]
    with pytest.raises(
        planner.DiscoveryError, match="Several private DNS namespaces are called %s \\(ns-a, ns-b\\)" % NAME
    ):
        planner.pick_namespace(pairs, NAME, vpc)


def test_plan_service_compares_ttl_description_and_tags():
    desired = planner.DesiredService("app", "d", 10, ("A",), "MULTIVALUE", True)
    live = dict(desired.create_params("ns-1"), Id="srv-1", Arn="arn:srv-1")
    assert not planner.plan_service(live, desired, {"a": "1"}, {"a": "1"}, True, NAME).changed
    assert planner.plan_service(live, desired, {}, None, True, NAME).action == "none"
    plan = planner.plan_service(
        live, planner.DesiredService("app", "e", 60, ("A",), "MULTIVALUE", True), {"a": "1"}, {"b": "2"}, True, NAME
    )
    assert (plan.action, plan.changes, plan.tags_to_set, plan.tags_to_unset) == (
        "update",
        ("dns_ttl", "description", "tags"),
        {"b": "2"},
        ("a",),
    )
    assert planner.plan_service(None, desired, {}, None, True, NAME).action == "create"
    with pytest.raises(planner.DiscoveryError, match="health_check_custom_config True -> False"):
        planner.plan_service(
            live, planner.DesiredService("app", "d", 10, ("A",), "MULTIVALUE", False), {}, None, True, NAME
        )


def test_documented_options_match_the_argument_spec(docs_match_spec):
    docs_match_spec(module_under_test)


def test_an_unset_description_leaves_the_existing_ones_alone(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpc = _vpc()
    run_module(
        module_under_test.main, _args(vpc, description="mine", services=[dict(name="app", description="the app")])
    )
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(vpc, services=[dict(name="app")]))
    assert result["changed"] is False and aws_calls.writes() == []
    assert result["namespace"]["description"] == "mine" and result["services"][0]["description"] == "the app"


@pytest.mark.parametrize(
    "instances, expected",
    [
        ({}, {}),
        ({"srv-1": [], "srv-2": []}, {}),
        ({"srv-1": [{"Id": "a"}, {"Id": "b"}], "srv-2": []}, {"app": 2}),
        ({"srv-1": [{"Id": "a"}], "srv-2": [{"Id": "b"}]}, {"app": 1, "worker": 1}),
    ],
)
def test_busy_services_counts_the_registered_instances(instances, expected):
    services = [{"Id": "srv-1", "Name": "app"}, {"Id": "srv-2", "Name": "worker"}]
    assert planner.busy_services(services, instances) == expected


def test_instance_messages_name_the_services_and_the_wait():
    busy = {"worker": 1, "app": 3}
    assert planner.instances_progress(NAME, busy, 7.9) == (
        "waiting for the instances of service app (3 instances), worker (1 instance) of namespace %s to be deregistered for 7s"
        % NAME
    )
    assert "still registered after wait_timeout=300s." in planner.in_use_message(NAME, busy, 300)
    assert "still registered. Stop" in planner.in_use_message(NAME, busy)


# ------------------------------------------------------------------------------------------ VPC associations
# Cross-region association of the namespace's private hosted zone (docs/clustering.md). Plain moto neither puts the
# zone on its VPC nor checks associations; these tests run with the emulator extension that makes it behave like AWS
# (scripts/emulator_ext/servicediscovery.py), restored afterwards.

OTHER_REGION = "ap-southeast-1"
THIRD_REGION = "us-east-1"


@pytest.fixture
def like_aws(aws):  # pylint: disable=unused-argument
    from emulator_ext import servicediscovery as ext  # pylint: disable=import-outside-toplevel

    ext.apply()
    yield
    ext.restore()


def _vpc_in(region: str, cidr: str) -> dict[str, str]:
    vpc = boto3.client("ec2", region_name=region).create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    return {"vpc_id": vpc, "vpc_region": region}


def _zone_vpcs() -> list[dict[str, str]]:
    [namespace] = _namespaces()
    zone_id = _sd().get_namespace(Id=namespace["Id"])["Namespace"]["Properties"]["DnsProperties"]["HostedZoneId"]
    return boto3.client("route53", region_name=REGION).get_hosted_zone(Id=zone_id)["VPCs"]


def test_associates_the_other_regions_vpcs_and_is_idempotent(like_aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpc = _vpc()
    others = [_vpc_in(OTHER_REGION, "10.20.0.0/16"), _vpc_in(THIRD_REGION, "10.30.0.0/16")]
    args = _args(vpc, services=[dict(name="app")], associated_vpcs=list(reversed(others)))
    aws_calls.clear()

    checked = run_module(module_under_test.main, args, check_mode=True, diff=True)
    assert aws_calls.writes() == [] and _namespaces() == []
    created = run_module(module_under_test.main, args, diff=True)

    assert created["changed"] is True, created
    assert sorted(_zone_vpcs(), key=lambda item: item["VPCId"]) == sorted(
        [{"VPCId": vpc, "VPCRegion": REGION}]
        + [{"VPCId": item["vpc_id"], "VPCRegion": item["vpc_region"]} for item in others],
        key=lambda item: item["VPCId"],
    )
    expected = sorted(others, key=lambda item: item["vpc_id"])
    assert created["namespace"]["vpc"] == vpc
    assert created["namespace"]["associated_vpcs"] == expected
    assert checked["diff"]["after"]["namespace"]["associated_vpcs"] == expected
    associated = [call.params["VPC"] for call in aws_calls.of("AssociateVPCWithHostedZone")]
    assert associated == [{"VPCId": item["vpc_id"], "VPCRegion": item["vpc_region"]} for item in expected]

    aws_calls.clear()
    again = run_module(module_under_test.main, args, diff=True)
    assert again["changed"] is False and aws_calls.writes() == []
    assert again["namespace"] == created["namespace"]


def test_an_unlisted_vpc_is_disassociated_and_check_mode_only_predicts_it(like_aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpc = _vpc()
    keep, drop = _vpc_in(OTHER_REGION, "10.20.0.0/16"), _vpc_in(THIRD_REGION, "10.30.0.0/16")
    run_module(module_under_test.main, _args(vpc, associated_vpcs=[keep, drop]))
    aws_calls.clear()

    checked = run_module(module_under_test.main, _args(vpc, associated_vpcs=[keep]), check_mode=True, diff=True)
    assert checked["changed"] is True and aws_calls.writes() == []
    assert len(_zone_vpcs()) == 3
    assert checked["diff"]["before"]["namespace"]["associated_vpcs"] == sorted(
        [keep, drop], key=lambda item: item["vpc_id"]
    )
    assert checked["diff"]["after"]["namespace"]["associated_vpcs"] == [keep]

    applied = run_module(module_under_test.main, _args(vpc, associated_vpcs=[keep]), diff=True)
    assert applied["changed"] is True
    assert [call.operation for call in aws_calls.writes()] == ["DisassociateVPCFromHostedZone"]
    assert sorted(item["VPCId"] for item in _zone_vpcs()) == sorted([vpc, keep["vpc_id"]])
    assert applied["diff"]["after"] == checked["diff"]["after"]

    aws_calls.clear()
    untouched = run_module(module_under_test.main, _args(vpc))  # associated_vpcs not given: left alone
    assert untouched["changed"] is False and aws_calls.writes() == []
    assert len(_zone_vpcs()) == 2


def test_a_vpc_on_a_same_named_zone_fails_naming_the_fix(like_aws, run_module):  # pylint: disable=unused-argument
    vpc = _vpc()
    other = _vpc_in(OTHER_REGION, "10.20.0.0/16")
    other_sd = boto3.client("servicediscovery", region_name=OTHER_REGION)
    other_sd.create_private_dns_namespace(Name=NAME, Vpc=other["vpc_id"], CreatorRequestId="other-region")

    result = run_module(module_under_test.main, _args(vpc, associated_vpcs=[other]))

    assert result["failed"] is True
    assert "already associated with another private hosted zone called %s" % NAME in result["msg"]
    assert "dns_discovery_namespace" in result["msg"]


def test_absent_disassociates_the_other_vpcs_before_the_namespace_goes(like_aws, run_module, aws_calls):  # pylint: disable=unused-argument
    vpc = _vpc()
    others = [_vpc_in(OTHER_REGION, "10.20.0.0/16"), _vpc_in(THIRD_REGION, "10.30.0.0/16")]
    run_module(module_under_test.main, _args(vpc, services=[dict(name="app")], associated_vpcs=others))
    aws_calls.clear()

    checked = run_module(module_under_test.main, _args(None, state="absent"), check_mode=True, diff=True)
    assert aws_calls.writes() == [] and len(_zone_vpcs()) == 3
    removed = run_module(module_under_test.main, _args(None, state="absent"), diff=True)

    assert removed["changed"] is True and removed["done"] is True, removed
    writes = [call.operation for call in aws_calls.writes()]
    assert writes == [
        "DeleteService",
        "DisassociateVPCFromHostedZone",
        "DisassociateVPCFromHostedZone",
        "DeleteNamespace",
    ]
    # Without vpc_id, the namespace's own VPC is the zone's VPC in the namespace's region: never disassociated.
    assert all(call.params["VPC"]["VPCId"] != vpc for call in aws_calls.of("DisassociateVPCFromHostedZone"))
    assert _namespaces() == []
    assert checked["diff"] == removed["diff"]


@pytest.mark.parametrize(
    "associated, message",
    [
        pytest.param(
            [dict(vpc_id="vpc12", vpc_region=OTHER_REGION)],
            "associated_vpcs[0].vpc_id='vpc12' is not a VPC id",
            id="vpc",
        ),
        pytest.param(
            [dict(vpc_id="vpc-0123456789abcdef1", vpc_region="Mars")],
            "associated_vpcs[0].vpc_region='Mars' is not a region",
            id="region",
        ),
        pytest.param(
            [
                dict(vpc_id="vpc-0123456789abcdef1", vpc_region=OTHER_REGION),
                dict(vpc_id="vpc-0123456789abcdef1", vpc_region=THIRD_REGION),
            ],
            "associated_vpcs lists vpc-0123456789abcdef1 with two regions",
            id="two-regions",
        ),
    ],
)
def test_bad_associated_vpcs_fail_before_any_aws_call(aws, run_module, aws_calls, associated, message):  # pylint: disable=unused-argument
    result = run_module(module_under_test.main, _args("vpc-0123456789abcdef0", associated_vpcs=associated))
    assert result["failed"] is True
    assert message in result["msg"]
    assert aws_calls == []


@pytest.mark.parametrize(
    "current, own, wanted, expected_add, expected_remove",
    [
        pytest.param([{"vpc_id": "vpc-a", "vpc_region": "r1"}], {"vpc-a"}, None, [], [], id="leave-alone"),
        pytest.param(
            [{"vpc_id": "vpc-a", "vpc_region": "r1"}],
            {"vpc-a"},
            [{"vpc_id": "vpc-b", "vpc_region": "r2"}],
            [{"vpc_id": "vpc-b", "vpc_region": "r2"}],
            [],
            id="add",
        ),
        pytest.param(
            [{"vpc_id": "vpc-a", "vpc_region": "r1"}, {"vpc_id": "vpc-b", "vpc_region": "r2"}],
            {"vpc-a"},
            [],
            [],
            [{"vpc_id": "vpc-b", "vpc_region": "r2"}],
            id="remove-all-but-own",
        ),
        pytest.param(
            [{"vpc_id": "vpc-a", "vpc_region": "r1"}],
            {"vpc-a"},
            [{"vpc_id": "vpc-a", "vpc_region": "r1"}],
            [],
            [],
            id="own-listed",
        ),
        pytest.param(
            [{"vpc_id": "vpc-a", "vpc_region": "r1"}, {"vpc_id": "vpc-c", "vpc_region": "r3"}],
            {"vpc-a"},
            [{"vpc_id": "vpc-b", "vpc_region": "r2"}],
            [{"vpc_id": "vpc-b", "vpc_region": "r2"}],
            [{"vpc_id": "vpc-c", "vpc_region": "r3"}],
            id="swap",
        ),
    ],
)
def test_association_plan(current, own, wanted, expected_add, expected_remove):
    assert planner.association_plan(current, own, wanted) == (expected_add, expected_remove)


def test_own_vpc_is_the_given_vpc_else_the_zones_vpcs_of_the_namespace_region():
    zone = [{"vpc_id": "vpc-a", "vpc_region": "eu-north-1"}, {"vpc_id": "vpc-b", "vpc_region": "us-east-1"}]
    assert planner.own_vpc_ids(zone, "vpc-b", "eu-north-1") == {"vpc-b"}
    assert planner.own_vpc_ids(zone, None, "eu-north-1") == {"vpc-a"}
    assert planner.own_vpc_ids(zone, "vpc-z", "eu-north-1") == {"vpc-a"}  # the given VPC is not on the zone
    assert planner.own_vpc_ids([], "vpc-z", "eu-north-1") == {"vpc-z"}


def test_a_vpc_that_does_not_exist_fails_naming_it(like_aws, run_module):  # pylint: disable=unused-argument
    vpc = _vpc()
    result = run_module(
        module_under_test.main,
        _args(vpc, associated_vpcs=[{"vpc_id": "vpc-0000000000000dead", "vpc_region": OTHER_REGION}]),
    )
    assert result["failed"] is True
    assert "Route 53 knows no VPC vpc-0000000000000dead in %s (InvalidVPCId)" % OTHER_REGION in result["msg"]


# ------------------------------------------------------------------------------------------ a run killed during the creation
# A run killed after sending CreatePrivateDnsNamespace: AWS creates the namespace, but for a while the next run may
# neither list it (ListNamespaces) nor its operation (ListOperations). The next run sends the same request (the same
# CreatorRequestId) and AWS answers DuplicateRequest while the creation runs, NamespaceAlreadyExists once it exists.
# moto ignores CreatorRequestId; the emulator extension servicediscovery_requests answers like AWS and is applied here.


@pytest.fixture
def repeats_like_aws():
    from emulator_ext import servicediscovery_requests  # pylint: disable=import-error,import-outside-toplevel

    servicediscovery_requests.apply()
    yield
    servicediscovery_requests.restore()


def _killed_run_request(vpc: str) -> str:
    """What the killed run sent (the module's own request id); the operation id."""
    return _sd().create_private_dns_namespace(
        Name=NAME,
        Vpc=vpc,
        CreatorRequestId=planner.creator_request_id(REGION, NAME, vpc),
        Description="x",
    )["OperationId"]


def _hide_namespaces(monkeypatch, hide_operations: bool = True) -> None:
    """ListNamespaces (and ListOperations) do not show the killed run's namespace yet."""
    monkeypatch.setattr(sd_models.ServiceDiscoveryBackend, "list_namespaces", lambda self: [])
    if hide_operations:
        monkeypatch.setattr(sd_models.ServiceDiscoveryBackend, "list_operations", lambda self: [])


def test_the_request_id_is_the_same_in_every_run_and_differs_per_vpc_region_name_and_attempt():
    first = planner.creator_request_id(REGION, NAME, "vpc-1")
    assert first == planner.creator_request_id(REGION, NAME.upper() + ".", "vpc-1") and len(first) <= 64
    others = {
        planner.creator_request_id(REGION, NAME, "vpc-2"),
        planner.creator_request_id("us-east-1", NAME, "vpc-1"),
        planner.creator_request_id(REGION, "other." + NAME, "vpc-1"),
        planner.creator_request_id(REGION, NAME, "vpc-1", "1"),
    }
    assert first not in others and len(others) == 4


@pytest.mark.usefixtures("aws", "repeats_like_aws")
def test_a_namespace_the_killed_run_created_and_this_run_cannot_list_is_adopted(run_module, aws_calls, monkeypatch):
    vpc = _vpc()
    operation = _killed_run_request(vpc)
    namespace_id = _backend().operations[operation].targets["NAMESPACE"]
    _hide_namespaces(monkeypatch)
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(vpc, services=[dict(name="app")], tags=TAGS))
    assert result.get("failed") is not True, result
    assert result["namespace"]["id"] == namespace_id
    assert "adopted" in " ".join(result["events"])
    assert len(_backend().namespaces) == 1
    assert [call.operation for call in aws_calls.writes()] == [
        "CreatePrivateDnsNamespace",
        "TagResource",
        "CreateService",
    ]
    assert [service["Name"] for service in _services()] == ["app"]


@pytest.mark.usefixtures("aws", "repeats_like_aws")
def test_a_creation_the_killed_run_started_and_this_run_cannot_list_is_followed(run_module, monkeypatch):
    original = sd_models.Operation.__init__

    def _pending(self, operation_type, targets):
        original(self, operation_type, targets)
        self.status = "PENDING"

    monkeypatch.setattr(sd_models.Operation, "__init__", _pending)
    vpc = _vpc()
    operation = _killed_run_request(vpc)
    _hide_namespaces(monkeypatch)
    started = run_module(module_under_test.main, _args(vpc, wait=False))
    assert started.get("failed") is not True, started
    assert started["operation_id"] == operation and started["done"] is False
    assert "already requested" in started["events"][0]
    assert len(_backend().namespaces) == 1


@pytest.mark.usefixtures("aws", "repeats_like_aws")
def test_a_namespace_of_the_same_name_another_request_made_is_refused_naming_the_fix(run_module, monkeypatch):
    vpc = _vpc()
    _sd().create_private_dns_namespace(Name=NAME, Vpc=vpc, CreatorRequestId="someone-else")
    original = module_under_test._create_namespace  # pylint: disable=protected-access

    def _already_exists(client, **params):
        params["CreatorRequestId"] = "someone-else"  # AWS answers NamespaceAlreadyExists with that request's id
        return original(client, **params)

    monkeypatch.setattr(module_under_test, "_create_namespace", _already_exists)
    _hide_namespaces(monkeypatch)
    result = run_module(module_under_test.main, _args(vpc))
    assert result["failed"] is True
    assert "already has a namespace %s" % NAME in result["msg"] and "dns_discovery_namespace" in result["msg"]


def test_an_answer_naming_a_namespace_deleted_since_requests_anew(aws, run_module, monkeypatch):  # pylint: disable=unused-argument
    vpc = _vpc()
    ids = []
    original = module_under_test._create_namespace  # pylint: disable=protected-access

    def _first_answer_is_stale(client, **params):
        ids.append(params["CreatorRequestId"])
        operation_id = original(client, **params)
        if len(ids) == 1:  # the namespace of that answer is gone (deleted since the same request made it)
            _backend().namespaces.pop(_backend().operations[operation_id].targets["NAMESPACE"])
        return operation_id

    monkeypatch.setattr(module_under_test, "_create_namespace", _first_answer_is_stale)
    result = run_module(module_under_test.main, _args(vpc))
    assert result.get("failed") is not True, result
    assert len(ids) == 2 and ids[0] == planner.creator_request_id(REGION, NAME, vpc) and ids[1] != ids[0]
    assert [n["Id"] for n in _namespaces()] == [result["namespace"]["id"]]
