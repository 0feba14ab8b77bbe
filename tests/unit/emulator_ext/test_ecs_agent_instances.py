# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/ecs_instances.py: the ECS agent of EC2 instances, placement, managed scaling, spot notices.

The pure parts as tables (and a property of the placement); then moto in-process with the ecs_agent and
ecs_instances patches (undone afterwards): an Auto Scaling group whose launch template's user data says
``ECS_CLUSTER=<name>`` registers its instances, with their type's resources, only when the cluster exists; a
terminated instance is deregistered; a spot interruption notice drains the instance and then terminates it, and the
group replaces it.
"""

from __future__ import annotations

import base64
import json
import threading
import time

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from emulator_ext import ecs_agent
from emulator_ext import ecs_instances

REGION = "eu-north-1"
CLUSTER = "megapool-local"

ROLE_USER_DATA = """#cloud-config
# ECS agent settings for the megapool-local cluster (eu-north-1).
write_files:
  - path: /etc/ecs/ecs.config
    append: true
    content: |
      ECS_AWSVPC_BLOCK_IMDS=true
      ECS_CLUSTER=megapool-local
      ECS_CONTAINER_STOP_TIMEOUT=30s
      ECS_ENABLE_SPOT_INSTANCE_DRAINING=true
      ECS_RESERVED_MEMORY=128
"""


# ---------------------------------------------------------------------------------------------- pure parts


@pytest.mark.parametrize(
    "user_data, expected",
    [
        (
            ROLE_USER_DATA,
            {
                "ECS_CLUSTER": "megapool-local",
                "ECS_ENABLE_SPOT_INSTANCE_DRAINING": "true",
                "ECS_RESERVED_MEMORY": "128",
                "ECS_AWSVPC_BLOCK_IMDS": "true",
                "ECS_CONTAINER_STOP_TIMEOUT": "30s",
            },
        ),
        (
            base64.b64encode(ROLE_USER_DATA.encode()).decode(),
            {
                "ECS_CLUSTER": "megapool-local",
                "ECS_ENABLE_SPOT_INSTANCE_DRAINING": "true",
                "ECS_RESERVED_MEMORY": "128",
                "ECS_AWSVPC_BLOCK_IMDS": "true",
                "ECS_CONTAINER_STOP_TIMEOUT": "30s",
            },
        ),
        (
            [base64.b64encode(b"#!/bin/bash\necho ECS_CLUSTER=peer >> /etc/ecs/ecs.config\n").decode()],
            {"ECS_CLUSTER": "peer"},
        ),
        (
            "#!/bin/bash\necho 'ECS_CLUSTER=quoted' >> /etc/ecs/ecs.config\necho \"ECS_RESERVED_MEMORY=256\" >> /etc/ecs/ecs.config\n",
            {"ECS_CLUSTER": "quoted", "ECS_RESERVED_MEMORY": "256"},
        ),
        ("#!/bin/bash\nyum update -y\n# mentions ECS but sets nothing\n", {}),
        (None, {}),
        ("", {}),
    ],
)
def test_agent_config_reads_what_the_user_data_writes_into_ecs_config(user_data, expected):
    assert ecs_instances.agent_config(user_data) == expected


@pytest.mark.parametrize(
    "vcpus, memory, reserved, expected",
    [
        (2, 8192, 0, (2048, 7985)),  # m4.large: the MemTotal AWS documents
        (2, 2048, 128, (2048, 1996 - 128)),  # t4g.small with the role's reserve
        (1, 2048, 0, (1024, 1996)),  # c7g.medium
        (1, 512, 1024, (1024, 0)),  # a reserve above the memory registers nothing
    ],
)
def test_registered_resources_are_1024_units_per_vcpu_and_memtotal_minus_the_reserve(vcpus, memory, reserved, expected):
    assert ecs_instances.registered_resources(vcpus, memory, reserved) == expected


def _candidate(arn, status="ACTIVE", cpu=2048, memory=1800, zone="a", service_tasks=0, ports=()):
    return {
        "arn": arn,
        "status": status,
        "cpu": cpu,
        "memory": memory,
        "zone": zone,
        "service_tasks": service_tasks,
        "ports": list(ports),
    }


@pytest.mark.parametrize(
    "candidates, kwargs, expected",
    [
        ([_candidate("i1")], {}, "i1"),
        ([_candidate("i1", status="DRAINING"), _candidate("i2")], {}, "i2"),  # never on a DRAINING instance
        ([_candidate("i1", status="DRAINING")], {}, None),
        ([_candidate("i1", memory=100), _candidate("i2", cpu=0)], {}, None),  # no room: not placed
        ([_candidate("i1", memory=1000), _candidate("i2")], {}, "i2"),
        ([_candidate("i1", service_tasks=1, memory=5000), _candidate("i2", zone="b")], {"distinct": True}, "i2"),
        ([_candidate("i1", service_tasks=1, memory=5000)], {"distinct": True}, None),  # distinctInstance
        ([_candidate("i1", service_tasks=1, memory=5000)], {}, "i1"),  # without it a roomy instance takes a second task
        ([_candidate("i1", ports=[4000]), _candidate("i2", ports=[9100])], {"ports": [4000]}, "i2"),  # host port in use
        # spread over zones: zone a has a task of the service, zone b none
        (
            [
                _candidate("i1", zone="a", service_tasks=1, memory=5000),
                _candidate("i2", zone="a"),
                _candidate("i3", zone="b"),
            ],
            {},
            "i3",
        ),
    ],
)
def test_choose_instance(candidates, kwargs, expected):
    assert ecs_instances.choose_instance(candidates, 1024, 1700, **kwargs) == expected


_CANDIDATES = st.lists(
    st.fixed_dictionaries(
        {
            "arn": st.sampled_from(["i1", "i2", "i3", "i4", "i5"]),
            "status": st.sampled_from(["ACTIVE", "DRAINING", "INACTIVE"]),
            "cpu": st.integers(0, 4096),
            "memory": st.integers(0, 4096),
            "zone": st.sampled_from(["a", "b", "c"]),
            "service_tasks": st.integers(0, 3),
            "ports": st.lists(st.sampled_from([80, 4000, 9100]), max_size=2),
        }
    ),
    max_size=6,
)


@given(
    _CANDIDATES,
    st.integers(0, 4096),
    st.integers(0, 4096),
    st.booleans(),
    st.lists(st.sampled_from([80, 4000]), max_size=1),
)
def test_placement_only_on_an_active_instance_with_room_and_none_only_when_none_has_room(
    candidates, cpu, memory, distinct, ports
):
    chosen = ecs_instances.choose_instance(candidates, cpu, memory, distinct, ports)

    def fits(item):
        return (
            item["status"] == "ACTIVE"
            and item["cpu"] >= cpu
            and item["memory"] >= memory
            and not (distinct and item["service_tasks"])
            and not set(ports) & set(item["ports"])
        )

    if chosen is None:
        assert not any(fits(item) for item in candidates)
    else:
        assert any(item["arn"] == chosen and fits(item) for item in candidates)


@pytest.mark.parametrize(
    "desired, maximum, in_service, wanted, expected",
    [
        (2, 4, 2, 1, 3),
        (3, 4, 3, 2, 4),  # at most the maximum
        (4, 4, 4, 1, None),  # at the maximum: nothing to do
        (2, 4, 3, 1, 4),  # counts the instances in service when above the desired capacity
        (2, 4, 2, 0, None),
    ],
)
def test_scale_out_target(desired, maximum, in_service, wanted, expected):
    assert ecs_instances.scale_out_target(desired, maximum, in_service, wanted) == expected


@pytest.mark.parametrize(
    "holding, expected",
    [
        ([], {"CPU": 2048, "MEMORY": 1868, "PORTS": [], "running": 0}),
        ([{"cpu": 1024, "memory": 1700, "ports": []}], {"CPU": 1024, "MEMORY": 168, "PORTS": [], "running": 1}),
        (
            [{"cpu": 512, "memory": 256, "ports": [80]}, {"cpu": 512, "memory": 256, "ports": [8080]}],
            {"CPU": 1024, "MEMORY": 1356, "PORTS": ["80", "8080"], "running": 2},
        ),
    ],
)
def test_remaining_is_the_registered_resources_minus_the_tasks_that_hold_them(holding, expected):
    assert ecs_instances.remaining({"CPU": 2048, "MEMORY": 1868}, holding) == expected


def test_the_unable_to_place_event_is_aws_wording():
    assert ecs_instances.unable_to_place("web").startswith(
        "service web was unable to place a task because no container instance met all of its requirements."
    )


# ---------------------------------------------------------------------------------------------- moto in-process


@pytest.fixture
def aws(aws_env, monkeypatch):  # pylint: disable=unused-argument
    with mock_aws():
        ecs_agent.install(monkeypatch)
        ecs_instances.apply()
        try:
            ec2 = boto3.client("ec2", region_name=REGION)
            vpc = ec2.create_vpc(CidrBlock="10.41.0.0/16")["Vpc"]["VpcId"]
            subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.41.1.0/24", AvailabilityZone=REGION + "a")["Subnet"][
                "SubnetId"
            ]
            yield {
                "ec2": ec2,
                "ecs": boto3.client("ecs", region_name=REGION),
                "asg": boto3.client("autoscaling", region_name=REGION),
                "subnet": subnet,
            }
        finally:
            ecs_instances.restore()


def _group(aws, name="app", desired=2, user_data=ROLE_USER_DATA, instance_type="t4g.small", maximum=4):
    template = aws["ec2"].create_launch_template(
        LaunchTemplateName=name,
        LaunchTemplateData={
            "ImageId": "ami-12c6146b",
            "InstanceType": instance_type,
            "UserData": base64.b64encode(user_data.encode()).decode(),
        },
    )
    aws["asg"].create_auto_scaling_group(
        AutoScalingGroupName=name,
        MinSize=0,
        MaxSize=maximum,
        DesiredCapacity=desired,
        VPCZoneIdentifier=aws["subnet"],
        LaunchTemplate={"LaunchTemplateId": template["LaunchTemplate"]["LaunchTemplateId"], "Version": "$Latest"},
    )
    return [
        item["InstanceId"]
        for item in aws["asg"].describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0][
            "Instances"
        ]
    ]


def _registered(aws, cluster=CLUSTER):
    arns = aws["ecs"].list_container_instances(cluster=cluster)["containerInstanceArns"]
    found = (
        aws["ecs"].describe_container_instances(cluster=cluster, containerInstances=arns)["containerInstances"]
        if arns
        else []
    )
    return {item["ec2InstanceId"]: item for item in found}


def _resources(item, kind="registeredResources"):
    return {
        resource["name"]: resource["integerValue"] for resource in item[kind] if resource["name"] in ("CPU", "MEMORY")
    }


def test_instances_of_a_group_whose_user_data_names_the_cluster_register_with_their_types_resources(aws):
    aws["ecs"].create_cluster(clusterName=CLUSTER)
    instances = _group(aws)
    registered = _registered(aws)
    assert sorted(registered) == sorted(instances) and len(instances) == 2
    for item in registered.values():
        assert item["status"] == "ACTIVE" and item["runningTasksCount"] == 0
        assert _resources(item) == {
            "CPU": 2048,
            "MEMORY": 1996 - 128,
        }  # t4g.small: 2 vCPUs, 2 GiB, ECS_RESERVED_MEMORY 128
        assert _resources(item, "remainingResources") == {"CPU": 2048, "MEMORY": 1996 - 128}


def test_no_cluster_no_registration_and_other_user_data_registers_nothing(aws):
    _group(aws, "early")  # the cluster does not exist yet: the agent exits for good (ecs_agent)
    aws["ecs"].create_cluster(clusterName=CLUSTER)
    assert _registered(aws) == {}
    _group(aws, "plain", user_data="#!/bin/bash\necho hello\n")
    assert _registered(aws) == {}
    assert sorted(_registered(aws)) == []


def test_a_terminated_instance_is_deregistered(aws):
    aws["ecs"].create_cluster(clusterName=CLUSTER)
    first, second = _group(aws)
    aws["ec2"].terminate_instances(InstanceIds=[first])
    registered = _registered(aws)
    assert first not in registered and second in registered  # (the group launches a replacement, which joins too)


def test_a_spot_interruption_drains_the_instance_then_it_terminates_and_the_group_replaces_it(aws):
    aws["ecs"].create_cluster(clusterName=CLUSTER)
    first, second = _group(aws)
    answer = ecs_instances.spot_interruption(REGION, first, notice_seconds=1.0)
    assert answer["draining"] is True
    assert _registered(aws)[first]["status"] == "DRAINING" and _registered(aws)[second]["status"] == "ACTIVE"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and first in _registered(aws):
        time.sleep(0.2)
    state = aws["ec2"].describe_instances(InstanceIds=[first])["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state == "terminated"
    registered = _registered(aws)
    assert first not in registered and second in registered and len(registered) == 2  # the group's replacement joined
    assert all(item["status"] == "ACTIVE" for item in registered.values())


def test_without_spot_draining_in_the_agent_config_the_notice_does_not_drain(aws):
    aws["ecs"].create_cluster(clusterName=CLUSTER)
    (only,) = _group(aws, desired=1, user_data="#!/bin/bash\necho ECS_CLUSTER=%s >> /etc/ecs/ecs.config\n" % CLUSTER)
    answer = ecs_instances.spot_interruption(REGION, only, notice_seconds=60)
    assert answer["draining"] is False and _registered(aws)[only]["status"] == "ACTIVE"


def test_a_spot_interruption_of_an_unknown_instance_is_refused(aws):
    with pytest.raises(ecs_instances.SpotInterruptionError, match="i-00000000000000000"):
        ecs_instances.spot_interruption(REGION, "i-00000000000000000", notice_seconds=0)


def test_the_spot_interruption_route_answers_json(aws):
    aws["ecs"].create_cluster(clusterName=CLUSTER)
    first, _second = _group(aws)
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication  # pylint: disable=import-outside-toplevel

    calls = []

    def start_response(status, headers):
        calls.append((status, dict(headers)))

    body = json.dumps({"region": REGION, "instance_id": first, "notice_seconds": 30}).encode()

    class Body:  # pylint: disable=too-few-public-methods
        @staticmethod
        def read(length):
            return body[:length]

    environ = {
        "PATH_INFO": ecs_instances.ROUTE,
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": Body(),
    }
    answer = json.loads(b"".join(DomainDispatcherApplication.__call__(None, environ, start_response)))
    assert calls[0][0] == "200 OK" and answer["draining"] is True and answer["instance_id"] == first
    environ = {"PATH_INFO": ecs_instances.ROUTE, "REQUEST_METHOD": "GET", "CONTENT_LENGTH": "0", "wsgi.input": Body()}
    answer = json.loads(b"".join(DomainDispatcherApplication.__call__(None, environ, start_response)))
    assert calls[1][0] == "400 Bad Request" and "POST" in answer["error"]
    assert threading.active_count() >= 1
