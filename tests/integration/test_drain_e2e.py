# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A drain without failures (issue 11; docs/demo.md, "Draining and spot interruptions").

The shared demo stack (demo_helpers.demo_stack): the one test_demo_e2e.py leaves when it ran just before on this
worker (the service on 1.0.1 after the circuit breaker rolled 1.0.2-unhealthy back), else a converge of site.yml with
the demo 1.0.0 of its own (the ECS agent of the emulator registers the Auto Scaling group's instances; every task is
placed on one of them). The test waits until the service is steady (two tasks on registered instances, four nodes in
one cluster), then, under load through both regions' fronts with benchmarks/loadgen.py:

1. ``playbooks/drain.yml -l <the app host of one task>``: ECS starts a replacement on another instance (the capacity
   provider scales the group out: one node per instance), deregisters the old task, waits for its target to drain,
   stops it; the playbook returns when the instance has no task left.
2. A spot interruption notice for the app host of another task (the emulator's ``/megapool-api/spot-interruption``):
   ECS_ENABLE_SPOT_INSTANCE_DRAINING drains it the same way, then the instance terminates.

Every request succeeds, the drained instance ends with 0 tasks, the replacements run on other instances and the
Erlang cluster still has all four nodes. Counts, not timings.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ENDPOINT, PORT, REGIONS, ROOT, client, run_playbook
from demo_helpers import _cluster_views
from demo_helpers import _wait
from demo_helpers import demo_images  # noqa: F401  # pylint: disable=unused-import  # fixture
from demo_helpers import demo_stack  # noqa: F401  # pylint: disable=unused-import  # fixture
from demo_helpers import loadgen

# The demo's images are built into one shared store (.cache/images) and the tests measure failed requests under load:
# one demo at a time (one xdist worker for both files).
pytestmark = pytest.mark.xdist_group("demo")

REGION = REGIONS[0]
CLUSTER = "megapool-local"
# Shorter than EC2's two minutes (the notice's length is a parameter of the emulator's endpoint), long enough for the
# replacement to get healthy and the old target to drain.
SPOT_NOTICE_SECONDS = 60


def _app_hosts(inventory) -> dict[str, str]:
    """EC2 instance id -> inventory host name of the app hosts of REGION (inventory plugin megapool.aws.ec2_cluster)."""
    env = dict(__import__("os").environ, MEGAPOOL_EMULATOR_PORT=str(PORT), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    command = [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(inventory), "--list"]
    listed = json.loads(subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout)
    hostvars = listed["_meta"]["hostvars"]
    region_group = set(listed.get(REGION.replace("-", "_"), {}).get("hosts", []))
    ids = {name: hostvars[name]["instance_id"] for name in listed["app"]["hosts"] if name in region_group}
    # ansible-inventory --list marks the plugin's values unsafe: {"__ansible_unsafe": "i-..."}
    return {(value.get("__ansible_unsafe") if isinstance(value, dict) else value): name for name, value in ids.items()}


def _container_instances() -> dict[str, dict]:
    """EC2 instance id -> its container instance in REGION's cluster (registered ones: ACTIVE or DRAINING)."""
    ecs = client("ecs", REGION)
    arns = ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
    found = (
        ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns)["containerInstances"] if arns else []
    )
    return {item["ec2InstanceId"]: item for item in found}


def _service_tasks() -> list[dict]:
    """The service's RUNNING tasks in REGION."""
    ecs = client("ecs", REGION)
    arns = ecs.list_tasks(cluster=CLUSTER, desiredStatus="RUNNING")["taskArns"]
    found = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []
    return [task for task in found if task["lastStatus"] == "RUNNING" and task["group"].startswith("service:")]


def _instance_of(task: dict, instances: dict[str, dict]) -> str:
    return next(
        instance_id
        for instance_id, item in instances.items()
        if item["containerInstanceArn"] == task["containerInstanceArn"]
    )


def _one_cluster(fronts):
    views = _cluster_views(fronts)
    members = {tuple(sorted(view)) for view in views.values()}
    if len(views) == 4 and len(members) == 1 and set(next(iter(members))) == set(views):
        return views
    return None


def _spot_interruption(instance_id: str) -> dict:
    request = urllib.request.Request(
        ENDPOINT + "/megapool-api/spot-interruption",
        method="POST",
        headers={"Content-Type": "application/json"},
        data=json.dumps({"region": REGION, "instance_id": instance_id, "notice_seconds": SPOT_NOTICE_SECONDS}).encode(),
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _healthy_tasks_elsewhere(excluded: set[str]):
    """Two RUNNING service tasks, none on the excluded instances, both answering through the front (by their node).

    The tasks are read before the instances: a task still RUNNING on an instance that was terminated and
    deregistered between the two reads (ECS deregisters a terminated instance; its tasks stop after) is on no
    registered instance, so it counts as not yet replaced instead of failing the lookup.
    """
    tasks = _service_tasks()
    by_arn = {item["containerInstanceArn"]: instance_id for instance_id, item in _container_instances().items()}
    placed = [by_arn.get(task.get("containerInstanceArn")) for task in tasks]
    if len(tasks) == 2 and None not in placed and not set(placed) & excluded:
        return tasks
    return None


def _steady():
    """The service's two tasks RUNNING on registered container instances, of one task definition, nothing else
    running on the cluster (after test_demo_e2e.py's rollback the failed release's tasks are stopped by then)."""
    tasks = _service_tasks()
    instances = _container_instances()
    registered = {item["containerInstanceArn"] for item in instances.values()}
    running = sum(item["runningTasksCount"] for item in instances.values())
    if (
        len(tasks) == 2
        and running == 2
        and {task.get("containerInstanceArn") for task in tasks} <= registered
        and len({task["taskDefinitionArn"] for task in tasks}) == 1
    ):
        return tasks
    return None


def test_a_drain_and_a_spot_interruption_under_load_drop_no_request(demo_stack):  # pylint: disable=redefined-outer-name
    # site.yml with the demo (demo_helpers.converge_demo), or the stack test_demo_e2e.py left: steady first.
    inventory, fronts = demo_stack.inventory, demo_stack.fronts
    _wait(_steady, 180, "two service tasks of one revision on registered instances, nothing else running")
    _wait(lambda: _one_cluster(fronts), 180, "4 nodes in one cluster")

    # Every task runs on a container instance of the group (the emulator's agent registered them).
    instances = _container_instances()
    hosts = _app_hosts(inventory.path)
    tasks = _service_tasks()
    assert len(tasks) == 2 and all(task.get("containerInstanceArn") for task in tasks), tasks
    busy = [_instance_of(task, instances) for task in tasks]
    assert len(set(busy)) == 2 and set(busy) <= set(hosts), (busy, hosts)
    drained, interrupted = busy

    load = loadgen.LoadGenerator(
        [url + "/" for url in fronts.values()], count=1_000_000, duration=1800, concurrency=2, interval=0.05
    ).start()
    started = time.monotonic()
    print("fronts: %s; drain %s (%s), spot %s" % (fronts, drained, hosts[drained], interrupted))
    try:
        # 1. drain.yml on the app host of one task: it returns when the instance has no task left.
        drain = run_playbook("drain.yml", inventory.path, "-l", hosts[drained])
        assert drain.returncode == 0, drain.stdout[-4000:] + drain.stderr[-2000:]
        after_drain = _container_instances()
        assert after_drain[drained]["status"] == "DRAINING" and after_drain[drained]["runningTasksCount"] == 0, (
            after_drain[drained]
        )
        _wait(lambda: _healthy_tasks_elsewhere({drained}), 120, "two tasks, none on the drained instance")

        # 2. A spot interruption of the app host of the other first task: drained by ECS, then terminated.
        print("%.1f s: drained" % (time.monotonic() - started))
        notice = _spot_interruption(interrupted)
        assert notice["draining"] is True, notice
        _wait(
            lambda: _healthy_tasks_elsewhere({drained, interrupted}), 120, "two tasks, none on the interrupted instance"
        )

        def terminated():
            found = client("ec2", REGION).describe_instances(InstanceIds=[interrupted])["Reservations"][0]["Instances"][
                0
            ]
            return found["State"]["Name"] == "terminated" and interrupted not in _container_instances()

        print("%.1f s: replaced after the spot notice" % (time.monotonic() - started))
        _wait(terminated, SPOT_NOTICE_SECONDS + 60, "the interrupted instance terminated and deregistered")
        _wait(lambda: _one_cluster(fronts), 120, "4 nodes in one cluster again")
    finally:
        report = load.stop()
    print("drain and spot interruption under load: %s" % loadgen.format_report(report))
    if report["failures"]:
        for region in REGIONS:
            found = client("ecs", region).describe_services(
                cluster=CLUSTER, services=client("ecs", region).list_services(cluster=CLUSTER)["serviceArns"]
            )
            for event in reversed(found["services"][0]["events"][:25]):
                print(region, event["createdAt"], event["message"])
    assert report["requests"] > 100, report
    assert report["failures"] == 0, loadgen.format_report(report)

    # The replacements run elsewhere; the drained instance stays registered (DRAINING) without a task.
    final = _container_instances()
    tasks = _service_tasks()
    assert len(tasks) == 2 and not {_instance_of(task, final) for task in tasks} & {drained, interrupted}
    assert final[drained]["status"] == "DRAINING" and final[drained]["runningTasksCount"] == 0
    assert sum(item["runningTasksCount"] for item in final.values()) == 2
