# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad ECS input fails with a message that names the variable and the fix, before any AWS change; and the capacity
and drain playbooks on a built region (the same built region proves the capacity refusal changes nothing)."""

from __future__ import annotations

import json
import re

import pytest

from conftest import REGIONS, Inventory, _emulator, assert_site_refuses_early, client, flat, run_playbook, snapshot

NAME = "megapool-local"  # <cluster>-<env> of inventories/local
REGION = "eu-north-1"


def ecs_snapshot() -> dict:
    """conftest.snapshot() plus everything the ECS layer creates: per region the Auto Scaling groups (sizes,
    instances and their states, hooks), launch templates, clusters, capacity providers, container instances, services
    and alarms; IAM roles and instance profiles (global)."""
    state = snapshot()
    for region in REGIONS:
        autoscaling, ecs = client("autoscaling", region), client("ecs", region)
        groups = autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
        described = ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"] or ["none"])["clusters"]
        clusters = [c for c in described if c["status"] == "ACTIVE"]
        state[region].update(
            {
                "asgs": sorted(
                    (
                        g["AutoScalingGroupName"],
                        g["MinSize"],
                        g["MaxSize"],
                        g["DesiredCapacity"],
                        bool(g.get("NewInstancesProtectedFromScaleIn")),
                        bool(g.get("CapacityRebalance")),
                        sorted(
                            o["InstanceType"]
                            for o in (g.get("MixedInstancesPolicy") or {})
                            .get("LaunchTemplate", {})
                            .get("Overrides", [])
                        ),
                        sorted("%s:%s" % (i["InstanceId"], i["LifecycleState"]) for i in g["Instances"]),
                        sorted(
                            h["LifecycleHookName"]
                            for h in autoscaling.describe_lifecycle_hooks(
                                AutoScalingGroupName=g["AutoScalingGroupName"]
                            )["LifecycleHooks"]
                        ),
                    )
                    for g in groups
                ),
                "launch_templates": sorted(
                    "%s:%s" % (t["LaunchTemplateName"], t["LatestVersionNumber"])
                    for t in client("ec2", region).describe_launch_templates()["LaunchTemplates"]
                ),
                "clusters": sorted((c["clusterName"], tuple(c.get("capacityProviders", []))) for c in clusters),
                # The emulator fails DescribeCapacityProviders without names: ask for the one the role makes.
                "capacity_providers": sorted(
                    p["name"]
                    for p in ecs.describe_capacity_providers(capacityProviders=[NAME + "-app"])["capacityProviders"]
                    if p["status"] == "ACTIVE"
                ),
                "container_instances": sorted(
                    "%s:%s" % (i["ec2InstanceId"], i["status"])
                    for c in clusters
                    for i in _container_instances(ecs, c["clusterName"])
                ),
                "services": sorted(
                    "%s:%s" % (s["serviceName"], s["desiredCount"])
                    for c in clusters
                    for s in _services(ecs, c["clusterName"])
                ),
                "alarms": sorted(
                    "%s:%s" % (a["AlarmName"], a["Threshold"])
                    for a in client("cloudwatch", region).describe_alarms()["MetricAlarms"]
                ),
            }
        )
    iam = client("iam", REGION)
    state["global"]["instance_profiles"] = sorted(
        p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]
    )
    return state


def _container_instances(ecs, cluster: str) -> list[dict]:
    arns = ecs.list_container_instances(cluster=cluster)["containerInstanceArns"]
    return (
        ecs.describe_container_instances(cluster=cluster, containerInstances=arns)["containerInstances"] if arns else []
    )


def _services(ecs, cluster: str) -> list[dict]:
    arns = ecs.list_services(cluster=cluster)["serviceArns"]
    return ecs.describe_services(cluster=cluster, services=arns)["services"] if arns else []


# --------------------------------------------------------------------------------------- bad input to site.yml

CASES = {
    # case: (ECS settings, strings the failure message must contain: the variable and the fix)
    "spot_share_above_100": (
        {"ecs_hosts_spot_percentage": 150},
        ["ecs_hosts_spot_percentage=150 is outside 0-100", "set it between 0 (all on-demand) and 100 (all spot)"],
    ),
    "spot_share_negative": ({"ecs_hosts_spot_percentage": -5}, ["ecs_hosts_spot_percentage=-5 is outside 0-100"]),
    "min_above_max": (
        {"ecs_hosts_min_size": 5, "ecs_hosts_max_size": 2, "ecs_hosts_desired_capacity": 2},
        ["ecs_hosts_min_size=5 is greater than ecs_hosts_max_size=2", "set ecs_hosts_min_size <= ecs_hosts_max_size"],
    ),
    "desired_above_max": (
        {"ecs_hosts_desired_capacity": 9},
        [
            "ecs_hosts_desired_capacity=9 is outside ecs_hosts_min_size..ecs_hosts_max_size (1..4)",
            "set it within that range",
        ],
    ),
    "desired_below_min": (
        {"ecs_hosts_min_size": 2, "ecs_hosts_desired_capacity": 1},
        ["ecs_hosts_desired_capacity=1 is outside ecs_hosts_min_size..ecs_hosts_max_size (2..4)"],
    ),
    "mixed_architectures": (
        {"ecs_hosts_instance_types": ["t3.small", "t4g.small"]},
        [
            "ecs_hosts_instance_types mixes architectures (t3.small: x86_64, t4g.small: arm64)",
            "list only arm64 (Graviton",
        ],
    ),
    "unknown_instance_type": (
        {"ecs_hosts_instance_types": ["t3.small", "t9.nope"]},
        [
            "ecs_hosts_instance_types: t9.nope is not an instance type eu-north-1 offers",
            "fix the name or choose types the region has",
        ],
    ),
    # A string where a list is expected is refused as such, not checked letter by letter (issue 16).
    "instance_types_a_string": (
        {"ecs_hosts_instance_types": "t4g.small"},
        [
            "ecs_hosts_instance_types='t4g.small' is a string, but a list is expected",
            "ecs_hosts_instance_types: [t4g.small, c7g.medium",
        ],
    ),
    "malformed_instance_type": (
        {"ecs_hosts_instance_types": ["t3.small", "T3.*"]},
        ["ecs_hosts_instance_types: T3.* is not an instance type name", "e.g. t3.small (no wildcards)"],
    ),
    # Sized from the memory ECS registers (a lower bound: 0.96 x 2048 - 128 = 1838 MiB, minus ECS_RESERVED_MEMORY 256).
    "room_for_two_tasks": (
        {"ecs_hosts_instance_types": ["t3.small", "t3.large"]},
        [
            "ecs_hosts_instance_types: t3.large may have room for two BEAM tasks of 1582 MiB",
            "use types of similar memory",
        ],
    ),
    "task_memory_above_registered": (
        {"ecs_hosts_task_memory_mib": 1700},
        [
            "ecs_hosts_task_memory_mib=1700 does not fit c6g.medium, which registers at least 1582 MiB with ECS",
            "lower it to 1582 or less",
        ],
    ),
    "reserve_leaves_nothing": (
        {"ecs_hosts_memory_reserve_mib": 4000},
        [
            "ecs_hosts_memory_reserve_mib=4000 leaves no memory for the BEAM task",
            "lower the reserve or choose larger types",
        ],
    ),
    "agent_setting_the_role_owns": (
        {"ecs_hosts_agent_config": {"ECS_RESERVED_MEMORY": 64}},
        ["ecs_hosts_agent_config sets ECS_RESERVED_MEMORY, which the role sets itself", "ecs_hosts_memory_reserve_mib"],
    ),
    "registered_memory_not_numbers": (
        {"ecs_hosts_registered_memory_mib": {"t4g.small": "lots"}},
        ["ecs_hosts_registered_memory_mib must map instance types to MiB"],
    ),
    "obsolete_reservation_alarm": (
        {"ecs_hosts_alarm_memory_reservation_threshold": 90},
        ["ecs_hosts_alarm_memory_reservation_threshold is gone", "CapacityProviderReservation", "Remove the variable"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_ecs_input_fails_early_and_changes_nothing(case, inventory, empty_emulator):
    settings, expected = CASES[case]
    inventory.set_vars("ecs", **settings)
    assert_site_refuses_early(inventory, expected, ecs_snapshot)


# ------------------------------------------------------------------- a built region: capacity and drain playbooks


@pytest.fixture(scope="module")
def built(tmp_path_factory, emulator):
    """One region (eu-north-1) built by site.yml on a fresh emulator, its app instances registered in the cluster as
    the ECS agent would (the emulator runs no agent), and the inventory copy (with the ec2_cluster plugin config)."""
    _emulator("reset")
    inventory = Inventory(tmp_path_factory.mktemp("ecs") / "inventory")
    result = run_playbook("site.yml", inventory.path, "--limit", REGION)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    register_app_instances()
    yield inventory
    _emulator("reset")  # the last test tears down one region of two: the global IAM role stays by design


def app_instances() -> list[dict]:
    group = client("autoscaling", REGION).describe_auto_scaling_groups(AutoScalingGroupNames=[NAME + "-app"])[
        "AutoScalingGroups"
    ][0]
    return group["Instances"]


def register_app_instances() -> None:
    ecs = client("ecs", REGION)
    registered = (
        {i["ec2InstanceId"] for i in container_instances().values()}
        if ecs.list_container_instances(cluster=NAME)["containerInstanceArns"]
        else set()
    )
    for instance in app_instances():
        if instance["InstanceId"] not in registered:
            ecs.register_container_instance(
                cluster=NAME, instanceIdentityDocument=json.dumps({"instanceId": instance["InstanceId"]})
            )


def container_instances() -> dict[str, dict]:
    ecs = client("ecs", REGION)
    arns = ecs.list_container_instances(cluster=NAME)["containerInstanceArns"]
    if not arns:
        return {}
    return {
        i["ec2InstanceId"]: i
        for i in ecs.describe_container_instances(cluster=NAME, containerInstances=arns)["containerInstances"]
    }


def desired_capacity() -> int:
    return client("autoscaling", REGION).describe_auto_scaling_groups(AutoScalingGroupNames=[NAME + "-app"])[
        "AutoScalingGroups"
    ][0]["DesiredCapacity"]


@pytest.fixture
def service(built):
    """The app's service, deployed by site.yml's release layer: it wants two tasks (two BEAM nodes, so two instances)."""
    name = NAME + "-web"
    found = client("ecs", REGION).describe_services(cluster=NAME, services=[name])["services"]
    assert [s["desiredCount"] for s in found if s["status"] == "ACTIVE"] == [2], found
    return name


def test_capacity_removal_below_the_services_minimum_is_refused(built, service):
    before = ecs_snapshot()
    assert desired_capacity() == 2
    result = run_playbook("capacity.yml", built.path, "-e", "capacity_region=" + REGION, "-e", "capacity_desired=1")
    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0, output[-3000:]
    assert "capacity_desired=1 is below the minimum the services need: 2 instances in eu-north-1" in output, output[
        -3000:
    ]
    assert (
        "desired counts: %s=2" % service in output
        and "set capacity_desired to 2 or more, or scale the services down first" in output
    )
    assert ecs_snapshot() == before, "the refused removal changed the emulator"


def test_capacity_outside_the_group_size_is_refused(built):
    before = ecs_snapshot()
    result = run_playbook("capacity.yml", built.path, "-e", "capacity_region=" + REGION, "-e", "capacity_desired=9")
    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0, output[-3000:]
    assert "capacity_desired=9 is outside the size range of the group, 1..4 in eu-north-1" in output, output[-3000:]
    assert ecs_snapshot() == before


def test_capacity_without_a_region_is_refused(built):
    before = ecs_snapshot()
    result = run_playbook("capacity.yml", built.path, "-e", "capacity_desired=3")
    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0
    assert "Set capacity_region to one of eu-north-1, ap-southeast-1" in output, output[-3000:]
    assert ecs_snapshot() == before


def test_capacity_add_then_remove_drains_the_instances_that_go(built):
    # Add: 2 -> 3 instances, all in service.
    result = run_playbook("capacity.yml", built.path, "-e", "capacity_region=" + REGION, "-e", "capacity_desired=3")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    assert desired_capacity() == 3
    assert [i["LifecycleState"] for i in app_instances()] == ["InService"] * 3
    assert "desired_capacity: 2 -> 3" in result.stdout, result.stdout[-3000:]
    register_app_instances()
    before = {i["InstanceId"] for i in app_instances()}

    # Remove: 3 -> 2 (the release's service needs 2). The one that goes is drained, then terminated; no replacement.
    result = run_playbook("capacity.yml", built.path, "-e", "capacity_region=" + REGION, "-e", "capacity_desired=2")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    assert desired_capacity() == 2
    after = {i["InstanceId"] for i in app_instances()}
    removed = before - after
    assert len(after) == 2 and len(removed) == 1 and after < before
    states = container_instances()
    # ECS deregisters the container instance of a terminated instance (the emulator's agent does it too,
    # scripts/emulator_ext/ecs_instances.py); one still listed (terminating) is DRAINING. That it was drained before it
    # went is in the report below.
    assert {states[i]["status"] for i in removed if i in states} <= {"DRAINING"}
    assert {states[i]["status"] for i in after} == {"ACTIVE"}
    ec2 = client("ec2", REGION)
    terminated = ec2.describe_instances(InstanceIds=sorted(removed))["Reservations"]
    assert {i["State"]["Name"] for r in terminated for i in r["Instances"]} <= {"shutting-down", "terminated"}
    # The report names what happened.
    report = result.stdout
    assert "desired_capacity: 3 -> 2" in report and all(i in report for i in removed), report[-3000:]
    assert re.search(r"drained:.*DRAINING", report, re.S), report[-3000:]


def test_drain_playbook_drains_the_limited_app_hosts_and_reactivates_them(built):
    register_app_instances()
    instance = app_instances()[0]["InstanceId"]
    assert container_instances()[instance]["status"] == "ACTIVE"
    # The inventory plugin (inventories/local/ec2_cluster.yml) makes the instances hosts of groups `app` and `eu_north_1`.
    result = run_playbook("drain.yml", built.path, "--limit", "eu_north_1:&app")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    assert container_instances()[instance]["status"] == "DRAINING"
    assert instance in result.stdout and "DRAINING (0 running tasks)" in result.stdout, result.stdout[-3000:]

    result = run_playbook("drain.yml", built.path, "--limit", "eu_north_1:&app", "-e", "drain_state=active")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    assert container_instances()[instance]["status"] == "ACTIVE"


def test_teardown_leaves_nothing(built):
    result = run_playbook("teardown.yml", built.path, "--limit", REGION)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    state = ecs_snapshot()[REGION]
    assert state["asgs"] == [] and state["launch_templates"] == [] and state["clusters"] == []
    assert state["capacity_providers"] == [] and state["alarms"] == [] and state["instances"] == []
    # --limit to one region of two: the global instance role stays, and the run says why.
    assert NAME + "-ecs-instance" in ecs_snapshot()["global"]["iam_roles"]
    assert "are global and stay" in flat(result.stdout)
