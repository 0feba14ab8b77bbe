# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for end-to-end tests: the project's emulator, playbook runs, and snapshots of what it holds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
from botocore.config import Config
import pytest
import yaml

from xdist_groups import FileGroupScheduling, check_groups

ROOT = Path(__file__).resolve().parents[2]
# In parallel (pytest-xdist, `-n 3 --dist loadgroup`, as tests/run-all.sh runs this stage) each worker has an emulator
# of its own on $MEGAPOOL_EMULATOR_PORT + 10 + its number, which every program a test starts inherits; the tests of a
# file stay together on one worker, in order (module fixtures share a converge), and the files of one SHARED_WORKER
# group share a worker (xdist_groups.py: xdist's own loadgroup loses its groups under pytest 9).
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
PORT = int(os.environ.get("MEGAPOOL_EMULATOR_PORT") or 5100) + (
    10 + int(_WORKER[2:]) if _WORKER.startswith("gw") else 0
)
os.environ["MEGAPOOL_EMULATOR_PORT"] = str(PORT)
ENDPOINT = "http://127.0.0.1:%d" % PORT
REGIONS = ("eu-north-1", "ap-southeast-1")

# Files that must run on one worker, by group (each also carries pytest.mark.xdist_group(<group>)): the
# network-namespace lab (one set of namespaces and veth names), the demo releases (one image store, failures measured
# under the same load).
SHARED_WORKER = {
    "test_erlang_discovery.py": "netns",
    "test_ssh_bastion.py": "netns",
    "test_demo_e2e.py": "demo",
    "test_drain_e2e.py": "demo",
    "test_blue_green.py": "demo",
}
# Seconds a unit (file or group) takes on one worker (the stage's --durations and the call log's first and last request
# of each file, docs/testing.md): the scheduler hands out the longest first, so the workers end at about the same time.
# From the fresh clone of 2026-12-04 under mitogen (ansible.cfg's strategy): the demo group 1551 s (blue/green 945,
# demo e2e 512 + its converge, drain 85), reliability 1285 s, release bad input 859 s, database 776 s.
WEIGHTS = {
    "demo": 1600,
    "test_reliability.py": 1300,
    "test_release_bad_input.py": 870,
    "test_database.py": 780,
    "test_ecs_bad_input.py": 610,
    "test_bad_input.py": 380,
    "test_validate_once.py": 320,
    "test_alb_bad_input.py": 230,
    "test_release_autoscaling.py": 200,
    "test_dns_bad_input.py": 100,
    "test_network_zones.py": 70,
    "test_release_validate_once.py": 60,
    "test_dns_half_made.py": 60,
    "test_network_type_cache.py": 20,
    "netns": 40,
}


def _emulator(command: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "emulator.py"), command, "--port", str(PORT)], check=True)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadgroup`: one unit of work per file or SHARED_WORKER group, the longest first (xdist_groups.py)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    return FileGroupScheduling(config, log, SHARED_WORKER, WEIGHTS)


_WRONG_GROUP = pytest.StashKey[str]()


def pytest_collection_modifyitems(items) -> None:
    """Each file's xdist_group mark and SHARED_WORKER agree (the scheduler reads only SHARED_WORKER); a test of a file
    where they do not fails at its setup with the fix (an error raised here, on a worker, would lose its message)."""
    wrong = check_groups(items, SHARED_WORKER)
    for item in items:
        if item.nodeid in wrong:
            item.stash[_WRONG_GROUP] = wrong[item.nodeid]


def pytest_runtest_setup(item) -> None:
    if _WRONG_GROUP in item.stash:
        pytest.fail(item.stash[_WRONG_GROUP], pytrace=False)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem) -> None:
    """After the last test in a row that uses the shared demo stack (demo_helpers.demo_stack; the demo group runs its
    files one after another on one worker), the emulator is wiped: the stack's task processes end before the next
    file's tests run."""
    if "demo_stack" in getattr(item, "fixturenames", ()):
        from demo_helpers import end_demo_stack, uses_demo_stack  # pylint: disable=import-outside-toplevel

        if not uses_demo_stack(nextitem):
            end_demo_stack()


@pytest.fixture(scope="session")
def emulator():
    """The test emulator (started if needed), its URL; a parallel worker's own emulator is stopped at the end."""
    _emulator("start")
    yield ENDPOINT
    if _WORKER:
        _emulator("stop")


@pytest.fixture
def empty_emulator(emulator: str) -> str:
    """The test emulator, wiped before the test."""
    _emulator("reset")
    return emulator


def client(service: str, region: str, **kwargs):
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=ENDPOINT,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        **kwargs,
    )


def snapshot(regions=REGIONS) -> dict:
    """Ids of every resource kind the collection creates, per region (terminated/deleted ones excluded)."""
    state = {}
    for region in regions:
        ec2 = client("ec2", region)
        state[region] = {
            "vpcs": sorted(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]),
            "subnets": sorted(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]),
            "route_tables": sorted(r["RouteTableId"] for r in ec2.describe_route_tables()["RouteTables"]),
            "igws": sorted(i["InternetGatewayId"] for i in ec2.describe_internet_gateways()["InternetGateways"]),
            "nats": sorted(
                n["NatGatewayId"] for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] != "deleted"
            ),
            "eips": sorted(a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]),
            "sgs": sorted(g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]),
            "instances": sorted(
                i["InstanceId"]
                for r in ec2.describe_instances()["Reservations"]
                for i in r["Instances"]
                if i["State"]["Name"] != "terminated"
            ),
            "peerings": sorted(
                p["VpcPeeringConnectionId"]
                for p in ec2.describe_vpc_peering_connections()["VpcPeeringConnections"]
                if p["Status"]["Code"] not in ("deleted", "rejected", "failed", "expired")
            ),
            "key_pairs": sorted(k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]),
            **_edge_and_release(region),
        }
    state["global"] = _global()
    return state


def _edge_and_release(region: str) -> dict:
    """What the edge (ALB, certificates, Cloud Map) and release (ECR, logs, SSM, ECS services) layers create."""
    elbv2 = client("elbv2", region)
    ecs = client("ecs", region)
    discovery = client("servicediscovery", region, config=Config(inject_host_prefix=False))
    listed = ecs.list_clusters()["clusterArns"]
    # The emulator keeps listing deleted (INACTIVE) clusters.
    clusters = (
        [c["clusterArn"] for c in ecs.describe_clusters(clusters=listed)["clusters"] if c["status"] == "ACTIVE"]
        if listed
        else []
    )
    return {
        "load_balancers": sorted(lb["LoadBalancerArn"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]),
        "target_groups": sorted(tg["TargetGroupArn"] for tg in elbv2.describe_target_groups()["TargetGroups"]),
        "certificates": sorted(
            c["CertificateArn"] for c in client("acm", region).list_certificates()["CertificateSummaryList"]
        ),
        "namespaces": sorted(n["Id"] for n in discovery.list_namespaces()["Namespaces"]),
        "discovery_services": sorted(s["Id"] for s in discovery.list_services()["Services"]),
        "repositories": sorted(
            r["repositoryName"] for r in client("ecr", region).describe_repositories()["repositories"]
        ),
        "log_groups": sorted(g["logGroupName"] for g in client("logs", region).describe_log_groups()["logGroups"]),
        "parameters": sorted(
            p["Name"]
            for p in client("ssm", region).describe_parameters()["Parameters"]
            if not p["Name"].startswith("/aws/")
        ),
        "ecs_clusters": sorted(clusters),
        "ecs_services": sorted(
            arn for cluster in clusters for arn in ecs.list_services(cluster=cluster)["serviceArns"]
        ),
        "task_definitions": sorted(ecs.list_task_definitions()["taskDefinitionArns"]),
    }


def _global() -> dict:
    """Account-wide resources: Route 53 zones with their record sets, health checks, IAM roles."""
    route53 = client("route53", REGIONS[0])
    zones = route53.list_hosted_zones()["HostedZones"]
    return {
        "zones": {
            zone["Name"]: sorted(
                (r["Name"], r["Type"], r.get("SetIdentifier", ""))
                for r in route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
            )
            for zone in zones
        },
        "health_checks": sorted(h["Id"] for h in route53.list_health_checks()["HealthChecks"]),
        # Service-linked roles (path /aws-service-role/, e.g. AWSServiceRoleForECS that CreateCluster makes) belong to the
        # account and stay after a teardown, on AWS as here: they are not the collection's to delete.
        "iam_roles": sorted(
            r["RoleName"]
            for r in client("iam", REGIONS[0]).list_roles()["Roles"]
            if not r.get("Path", "/").startswith("/aws-service-role/")
        ),
    }


class Inventory:
    """A writable copy of inventories/local in a temporary directory."""

    def __init__(self, path: Path):
        self.path = path
        shutil.copytree(ROOT / "inventories" / "local", path)

    def _edit(self, relative: str, change) -> None:
        file = self.path / relative
        data = yaml.safe_load(file.read_text()) or {}
        change(data)
        file.write_text(yaml.safe_dump(data, sort_keys=False))

    def set_region(self, region: str, **host_vars) -> None:
        self._edit("hosts.yml", lambda data: data["regions"]["hosts"].setdefault(region, {}).update(host_vars))

    def set_all(self, **group_vars) -> None:
        self._edit("group_vars/all/megapool.yml", lambda data: data.update(group_vars))

    def set_vars(self, layer: str, **group_vars) -> None:
        """Override variables in group_vars/all/<layer>.yml (ecs, dns, release, ...)."""
        self._edit("group_vars/all/%s.yml" % layer, lambda data: data.update(group_vars))

    def unset_all(self, name: str) -> None:
        self._edit("group_vars/all/megapool.yml", lambda data: data.pop(name))


@pytest.fixture
def inventory(tmp_path: Path) -> Inventory:
    return Inventory(tmp_path / "inventory")


def flat(output: str) -> str:
    """Ansible's output on one line (messages are folded), for substring asserts."""
    return " ".join(output.split())


def run_playbook(playbook: str, inventory, *args: str) -> subprocess.CompletedProcess:
    env = dict(
        os.environ, MEGAPOOL_EMULATOR_PORT=str(PORT), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1"
    )
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        str(ROOT / "playbooks" / playbook),
        "-i",
        str(inventory),
        *args,
    ]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def run_plays_json(tmp_path: Path, plays: list[dict], inventory: dict, *args: str) -> dict:
    """``plays`` on ``inventory`` (both written under ``tmp_path``, in their order) with the JSON stdout callback and the
    custom stats shown, as AWX runs a job: the run must pass; its stdout, one JSON document, is returned parsed (the
    artifacts are its ``global_custom_stats``). For plays that make no AWS call (connection local)."""
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory, sort_keys=False), encoding="utf-8")
    (tmp_path / "plays.yml").write_text(yaml.safe_dump(plays, sort_keys=False), encoding="utf-8")
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_SHOW_CUSTOM_STATS="true",
    )
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        str(tmp_path / "plays.yml"),
        "-i",
        str(tmp_path / "hosts.yml"),
        "-e",
        "ansible_python_interpreter=%s" % sys.executable,
        *args,
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout)


def assert_site_refuses_early(inventory: Inventory, expected: list[str], take_snapshot=snapshot) -> None:
    """site.yml fails in its validation play, before the network play, with every ``expected`` text in its output
    (the variable and the fix), and the emulator (``take_snapshot()``) is the same afterwards."""
    before = take_snapshot()
    result = run_playbook("site.yml", inventory.path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    for text in expected:
        assert text in flat(output), "%r not in output:\n%s" % (text, output[-3000:])
    assert "PLAY [Validate the inputs of every region" in output and "PLAY [Network" not in output, output[-3000:]
    assert take_snapshot() == before, "the failed run changed the emulator"
