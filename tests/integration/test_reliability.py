# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml and deploy.yml through AWS as it is (docs/reliability.md; issue 16): every AWS call goes through
tests/reliability/fault_proxy.py, which throttles 10 % of the calls and fails 5 % with a 5xx in each service's own
error shape, and kills ansible-playbook (its whole process tree) at fixed call counts.

One chain shares its state, so the whole module costs about one converge more than the suite had (the suite's one
extra site converge):

1. site.yml killed early (in the network layer), then teardown.yml: nothing is left, of any type, IAM included;
2. site.yml killed at a first call count, re-run killed at a second, re-run to the end: it completes, and no
   resource exists twice;
3. a second run through the faults changes nothing;
4. deploy.yml of a new release killed right after its first UpdateService, then re-run: every region ends on the new
   release, one deployment, nothing stuck.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import ENDPOINT, REGIONS, Inventory, client, flat, snapshot

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))
from fault_proxy import FaultProxy  # noqa: E402  pylint: disable=wrong-import-position,import-error
from harness import run_playbook  # noqa: E402  pylint: disable=wrong-import-position,import-error

THROTTLE, SERVER_ERROR, SEED = 0.10, 0.05, 16
# Kill points, counted in AWS calls (faulted ones included) from the start of each run. A first converge of the two
# local regions makes about 700 calls (docs/benchmarks.md) before retries; these land in the network layer, in the
# layers after the peering mesh, and in the edge/release layers.
KILL_PARTIAL = 140
KILL_CHAIN = (260, 560)
NEW_IMAGE = "repo/megapool:2.0.0"
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def faulty(emulator):  # pylint: disable=unused-argument
    with FaultProxy(ENDPOINT, throttle=THROTTLE, server_error=SERVER_ERROR, seed=SEED) as proxy:
        yield proxy
    print("\nreliability timings (s): %s; faults injected: %d" % (TIMINGS, len(proxy.injected)))


@pytest.fixture(scope="module")
def site_inventory(tmp_path_factory) -> Inventory:
    return Inventory(tmp_path_factory.mktemp("reliability") / "inventory")


def _run(name: str, playbook: str, inventory: Inventory, proxy: FaultProxy, *args: str, **kwargs):
    started = time.monotonic()
    run = run_playbook(playbook, inventory.path, proxy, *args, **kwargs)
    TIMINGS[name] = round(time.monotonic() - started, 1)
    return run


def full_snapshot() -> dict:
    """conftest's snapshot plus what it does not list: IAM instance profiles, launch templates, Auto Scaling groups."""
    state = snapshot()
    iam = client("iam", REGIONS[0])
    state["global"]["instance_profiles"] = sorted(
        p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]
    )
    for region in REGIONS:
        state[region]["launch_templates"] = sorted(
            t["LaunchTemplateName"] for t in client("ec2", region).describe_launch_templates()["LaunchTemplates"]
        )
        state[region]["autoscaling_groups"] = sorted(
            g["AutoScalingGroupName"]
            for g in client("autoscaling", region).describe_auto_scaling_groups()["AutoScalingGroups"]
        )
    return state


def _tags(resource: dict) -> dict:
    return {tag["Key"]: tag["Value"] for tag in resource.get("Tags", [])}


def duplicates() -> list[str]:
    """Every resource the environment has more of than a clean build makes, where AWS itself does not refuse a second
    one of the same name (names of load balancers, roles, clusters, parameters ... are unique by AWS's rules)."""
    problems = []
    owned = [
        {"Name": "tag:megapool:env", "Values": ["local"]},
        {"Name": "tag:megapool:cluster", "Values": ["megapool"]},
    ]
    for region in REGIONS:
        ec2 = client("ec2", region)
        vpcs = ec2.describe_vpcs(Filters=owned)["Vpcs"]
        igws = ec2.describe_internet_gateways(Filters=owned)["InternetGateways"]
        vpc_ids = [vpc["VpcId"] for vpc in vpcs]
        nats = [
            n for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] not in ("deleted", "deleting", "failed")
        ]
        addresses = ec2.describe_addresses()["Addresses"]
        tables = ec2.describe_route_tables(Filters=owned)["RouteTables"]
        bastions = [
            i
            for r in ec2.describe_instances(Filters=owned + [{"Name": "tag:megapool:role", "Values": ["bastion"]}])[
                "Reservations"
            ]
            for i in r["Instances"]
            if i["State"]["Name"] != "terminated"
        ]
        certificates = client("acm", region).list_certificates()["CertificateSummaryList"]
        counts = {
            "VPCs": (len(vpcs), 1),
            "internet gateways": (len(igws), 1),
            "internet gateways attached to the VPC": (
                sum(a["VpcId"] in vpc_ids for g in igws for a in g["Attachments"]),
                1,
            ),
            "NAT gateways (network_nat_mode single)": (len(nats), 1),
            "Elastic IPs (one per NAT gateway)": (len(addresses), len(nats)),
            "bastions": (len(bastions), 1),
        }
        problems += [
            "%s: %d %s, a clean build has %d" % (region, got, what, want)
            for what, (got, want) in counts.items()
            if got != want
        ]
        problems += [
            "%s: route table %s twice" % (region, name)
            for name, n in Counter(_tags(t).get("Name") for t in tables).items()
            if n > 1
        ]
        problems += [
            "%s: NAT gateways share subnet %s" % (region, s)
            for s, n in Counter(nat["SubnetId"] for nat in nats).items()
            if n > 1
        ]
        problems += [
            "%s: certificate for %s twice" % (region, d)
            for d, n in Counter(c["DomainName"] for c in certificates).items()
            if n > 1
        ]
        namespaces = client("servicediscovery", region).list_namespaces()["Namespaces"]
        problems += [
            "%s: namespace %s twice" % (region, name)
            for name, n in Counter(ns["Name"] for ns in namespaces).items()
            if n > 1
        ]
    peerings = [
        p
        for p in client("ec2", REGIONS[0]).describe_vpc_peering_connections()["VpcPeeringConnections"]
        if p["Status"]["Code"] not in ("deleted", "rejected", "failed", "expired")
    ]
    if len(peerings) != 1:
        problems.append("%d VPC peerings between the 2 regions, a clean build has 1" % len(peerings))
    route53 = client("route53", REGIONS[0])
    checks = route53.list_health_checks()["HealthChecks"]
    names = [
        _tags(
            {
                "Tags": route53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=c["Id"])[
                    "ResourceTagSet"
                ]["Tags"]
            }
        ).get("Name")
        for c in checks
    ]
    problems += ["health check %s twice" % name for name, n in Counter(names).items() if n > 1]
    iam = client("iam", REGIONS[0])
    profiles = sorted(p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"])
    if profiles != ["megapool-local-ecs-instance"]:
        problems.append(
            "instance profiles %s: a clean build has only the ECS hosts' (megapool-local-ecs-instance)" % profiles
        )
    return problems


OWNED_TAGS = [{"Key": "megapool:env", "Value": "local"}, {"Key": "megapool:cluster", "Value": "megapool"}]


def plant_detached_internet_gateway(region: str) -> str:
    """What a run killed between CreateInternetGateway and AttachInternetGateway leaves (ec2_vpc_igw tags at creation)."""
    tags = OWNED_TAGS + [{"Key": "Name", "Value": "megapool-local"}, {"Key": "megapool:role", "Value": "igw"}]
    return client("ec2", region).create_internet_gateway(
        TagSpecifications=[{"ResourceType": "internet-gateway", "Tags": tags}]
    )["InternetGateway"]["InternetGatewayId"]


def plant_unused_nat_address(region: str) -> str:
    """What a run killed between the NAT gateway's AllocateAddress and CreateNatGateway leaves (network vpc.yml)."""
    tags = OWNED_TAGS + [
        {"Key": "megapool:role", "Value": "nat-eip"},
        {"Key": "megapool:nat-subnet", "Value": "subnet-0"},
    ]
    return client("ec2", region).allocate_address(
        Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": tags}]
    )["AllocationId"]


def test_a_teardown_after_a_partial_run_leaves_nothing(empty_emulator, faulty, site_inventory):  # pylint: disable=unused-argument
    empty = full_snapshot()
    partial = _run("site killed at %d" % KILL_PARTIAL, "site.yml", site_inventory, faulty, kill_at=KILL_PARTIAL)
    assert partial.killed, partial.output[-3000:]
    assert full_snapshot() != empty, "the killed run made nothing: move KILL_PARTIAL later"
    # Half-made resources of other kill points, as those runs leave them.
    for region in REGIONS:
        plant_detached_internet_gateway(region)
        plant_unused_nat_address(region)

    teardown = _run("teardown after it", "teardown.yml", site_inventory, faulty)
    assert teardown.returncode == 0, teardown.output[-4000:]
    assert full_snapshot() == empty

    # Once more with nothing left: a teardown of nothing finds nothing to change (and fails on nothing missing).
    again = _run("teardown again", "teardown.yml", site_inventory, faulty)
    assert again.returncode == 0, again.output[-4000:]
    assert set(again.changed().values()) == {0}, again.changed_tasks()


def test_a_run_killed_twice_then_completed_converges_without_duplicates(faulty, site_inventory):
    # A gateway a killed run created but never attached: adopted (attached), never a second one made.
    planted = {region: plant_detached_internet_gateway(region) for region in REGIONS}
    for kill_at in KILL_CHAIN:
        run = _run("site killed at %d" % kill_at, "site.yml", site_inventory, faulty, kill_at=kill_at)
        assert run.killed, "site.yml ended after %d calls, before the kill point %d:\n%s" % (
            run.calls,
            kill_at,
            run.output[-3000:],
        )

    final = _run("site to the end", "site.yml", site_inventory, faulty)
    assert final.returncode == 0, final.output[-5000:]
    assert faulty.injected, "the proxy injected no fault"
    assert duplicates() == []
    for region, gateway in planted.items():
        attachments = client("ec2", region).describe_internet_gateways(InternetGatewayIds=[gateway])[
            "InternetGateways"
        ][0]["Attachments"]
        assert [a["State"] for a in attachments] == ["available"], (region, attachments)


def test_a_second_run_through_the_faults_changes_nothing(faulty, site_inventory):
    again = _run("site again (no-op)", "site.yml", site_inventory, faulty)
    assert again.returncode == 0, again.output[-5000:]
    assert set(again.changed()) == set(REGIONS) and set(again.changed().values()) == {0}, "changed tasks:\n%s\n\n%s" % (
        "\n".join(again.changed_tasks()),
        flat(again.output)[-3000:],
    )


def _services() -> dict:
    found = {}
    for region in REGIONS:
        ecs = client("ecs", region)
        service = ecs.describe_services(cluster="megapool-local", services=["megapool-local-web"])["services"][0]
        definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        found[region] = (service, definition["containerDefinitions"][0]["image"])
    return found


def test_a_deploy_killed_during_the_rollout_ends_on_the_new_release_when_re_run(faulty, site_inventory):
    killed = _run(
        "deploy killed at UpdateService",
        "deploy.yml",
        site_inventory,
        faulty,
        "-e",
        "release_image=" + NEW_IMAGE,
        action="UpdateService",
    )
    assert killed.killed, killed.output[-3000:]

    # Re-run with the JSON stdout callback, as AWX runs it: the output is one JSON document holding the artifacts.
    deploy = _run(
        "deploy again", "deploy.yml", site_inventory, faulty, "-e", "release_image=" + NEW_IMAGE, json_stdout=True
    )
    assert deploy.returncode == 0, deploy.output[-5000:] + deploy.stderr[-3000:]
    stats = json.loads(deploy.output)["global_custom_stats"]
    assert stats["megapool_environment"]["regions"] == sorted(REGIONS), stats
    assert stats["megapool_release"]["canary_region"] == REGIONS[0], stats
    for region, (service, image) in _services().items():
        assert image == NEW_IMAGE, region
        assert [(d["status"], d.get("rolloutState")) for d in service["deployments"]] == [("PRIMARY", "COMPLETED")], (
            region,
            service["deployments"],
        )
        assert service["runningCount"] == service["desiredCount"], region
        published = stats["megapool_release"]["regions"][region]
        assert (published["image"], published["version"], published["rollout_state"]) == (
            NEW_IMAGE,
            "2.0.0",
            "COMPLETED",
        ), published
        assert published["task_definition_arn"] == service["taskDefinition"], published
