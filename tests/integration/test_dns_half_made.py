# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Route 53 health check left half-made by a killed run is adopted, not duplicated, and a teardown removes it
(issue 16; docs/reliability.md, "Half-made resources").

amazon.aws.route53_health_check creates the check, then tags it in a second call, and finds it by its Name tag. The
tests plant what a run killed between the two calls leaves -- a check with the region's settings and no tags -- and
run the dns role's own task files (health_check.yml, absent.yml) in a small play, not a whole site converge. Each
test uses its own cluster name and load balancer name, so no reset of the emulator is needed.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
import yaml
from botocore.exceptions import ClientError

from conftest import Inventory, client, run_playbook

REGION = "eu-north-1"


CREATED: list[tuple[str, str]] = []  # (kind, id) of what a test made outside the health checks, for the clean-up


def _cluster() -> str:
    return "hc" + uuid.uuid4().hex[:8]


@pytest.fixture(autouse=True)
def _clean_up(emulator):  # pylint: disable=unused-argument
    """Leave the shared test emulator as it was: the tests' health checks (every FQDN starts with ``hc``), load
    balancers, subnets and VPCs go after each test."""
    yield
    route53 = client("route53", REGION)
    for check in route53.list_health_checks()["HealthChecks"]:
        if check["HealthCheckConfig"].get("FullyQualifiedDomainName", "").startswith("hc"):
            route53.delete_health_check(HealthCheckId=check["Id"])
    ec2, elbv2 = client("ec2", REGION), client("elbv2", REGION)
    for kind, resource_id in reversed(CREATED):
        if kind == "load_balancer":
            elbv2.delete_load_balancer(LoadBalancerArn=resource_id)
        elif kind == "subnet":
            _until_no_dependency(lambda subnet=resource_id: ec2.delete_subnet(SubnetId=subnet))
        else:
            _until_no_dependency(lambda vpc=resource_id: ec2.delete_vpc(VpcId=vpc))
    CREATED.clear()


def _until_no_dependency(delete) -> None:
    """EC2 answers DependencyViolation for a while after a subnet's users went (on AWS as on the emulator)."""
    for _attempt in range(30):
        try:
            delete()
            return
        except ClientError as error:
            if error.response["Error"]["Code"] != "DependencyViolation":
                raise
            time.sleep(1)
    delete()


def _plant_untagged(fqdn: str, interval: int = 30) -> str:
    """What CreateHealthCheck made before the run died, ahead of ChangeTagsForResource."""
    return client("route53", REGION).create_health_check(
        CallerReference=str(uuid.uuid4()),
        HealthCheckConfig={
            "Type": "HTTPS",
            "FullyQualifiedDomainName": fqdn,
            "Port": 443,
            "ResourcePath": "/health",
            "RequestInterval": interval,
            "FailureThreshold": 3,
        },
    )["HealthCheck"]["Id"]


def _checks_of(fqdn: str) -> dict[str, dict[str, str]]:
    """id -> tags of every health check on ``fqdn``."""
    route53 = client("route53", REGION)
    found = {}
    for check in route53.list_health_checks()["HealthChecks"]:
        if check["HealthCheckConfig"].get("FullyQualifiedDomainName") == fqdn:
            tags = route53.list_tags_for_resource(ResourceType="healthcheck", ResourceId=check["Id"])["ResourceTagSet"][
                "Tags"
            ]
            found[check["Id"]] = {tag["Key"]: tag["Value"] for tag in tags}
    return found


def _play(tmp_path: Path, inventory: Inventory, tasks_from: str, cluster: str, extra: dict) -> tuple[int, str]:
    play = [
        {
            "name": "dns role, " + tasks_from,
            "hosts": REGION,
            "gather_facts": False,
            "module_defaults": {"group/megapool.aws.aws": "{{ megapool_aws | megapool.aws.aws_retry_policy }}"},
            "tasks": [
                {
                    "name": "dns " + tasks_from,
                    "ansible.builtin.include_role": {"name": "megapool.aws.dns", "tasks_from": tasks_from},
                    "vars": {"megapool_cluster": cluster, "dns_health_checks": True, **extra},
                }
            ],
        }
    ]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play, sort_keys=False), encoding="utf-8")
    result = run_playbook(str(tmp_path / "play.yml"), inventory.path)
    return result.returncode, result.stdout + result.stderr


def _converge(tmp_path, inventory, cluster, fqdn):
    return _play(tmp_path, inventory, "health_check", cluster, {"alb_outputs": {"dns_name": fqdn}})


def test_a_check_left_untagged_is_adopted_not_duplicated(emulator, tmp_path, inventory):  # pylint: disable=unused-argument
    cluster = _cluster()
    fqdn = "%s-local-1.%s.elb.amazonaws.com" % (cluster, REGION)
    planted = _plant_untagged(fqdn)
    other_interval = _plant_untagged(fqdn, interval=10)  # not the wanted settings: not ours to adopt or delete

    code, output = _converge(tmp_path, inventory, cluster, fqdn)
    assert code == 0, output[-4000:]
    checks = _checks_of(fqdn)
    assert sorted(checks) == sorted([planted, other_interval]), checks
    assert checks[planted]["Name"] == "%s-local-%s" % (cluster, REGION)
    assert checks[planted]["megapool:cluster"] == cluster and checks[planted]["megapool:role"] == "health-check"
    assert checks[other_interval] == {}

    code, output = _converge(tmp_path, inventory, cluster, fqdn)
    assert code == 0, output[-4000:]
    assert "changed=0" in output, output[-4000:]
    assert sorted(_checks_of(fqdn)) == sorted([planted, other_interval])


def test_a_second_untagged_check_beside_the_named_one_is_deleted(emulator, tmp_path, inventory):  # pylint: disable=unused-argument
    cluster = _cluster()
    fqdn = "%s-local-1.%s.elb.amazonaws.com" % (cluster, REGION)
    code, output = _converge(tmp_path, inventory, cluster, fqdn)
    assert code == 0, output[-4000:]
    named = list(_checks_of(fqdn))
    assert len(named) == 1, named
    _plant_untagged(fqdn)  # a later run killed after its own CreateHealthCheck (before this fix's lookup existed)

    code, output = _converge(tmp_path, inventory, cluster, fqdn)
    assert code == 0, output[-4000:]
    assert list(_checks_of(fqdn)) == named


def _load_balancer(name: str) -> str:
    """An ALB of that name in REGION (the teardown finds the FQDN of the half-made check through it); its DNS name."""
    ec2 = client("ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    CREATED.append(("vpc", vpc))
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.99.%d.0/24" % i, AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for i, zone in enumerate(zones)
    ]
    CREATED.extend(("subnet", subnet) for subnet in subnets)
    balancer = client("elbv2", REGION).create_load_balancer(Name=name, Subnets=subnets, Type="application")[
        "LoadBalancers"
    ][0]
    CREATED.append(("load_balancer", balancer["LoadBalancerArn"]))
    return balancer["DNSName"]


def test_a_teardown_removes_the_untagged_check_of_the_region(emulator, tmp_path, inventory):  # pylint: disable=unused-argument
    cluster = _cluster()
    fqdn = _load_balancer("%s-local" % cluster)
    code, output = _converge(tmp_path, inventory, cluster, fqdn)
    assert code == 0, output[-4000:]
    planted = _plant_untagged(fqdn)
    assert len(_checks_of(fqdn)) == 2
    elsewhere = _plant_untagged("%s-other-1.%s.elb.amazonaws.com" % (cluster, REGION))

    code, output = _play(tmp_path, inventory, "absent", cluster, {"_dns_zone_id": ""})
    assert code == 0, output[-4000:]
    assert _checks_of(fqdn) == {}, "the named and the half-made (%s) check stay" % planted
    assert list(_checks_of("%s-other-1.%s.elb.amazonaws.com" % (cluster, REGION))) == [elsewhere]


def test_more_than_ten_health_checks_in_the_account_are_read_ten_at_a_time(emulator, tmp_path, inventory):  # pylint: disable=unused-argument
    """Route 53 ListTagsForResources takes at most 10 ids (the emulator extension route53_limits refuses more, as AWS
    does): with 11 other checks in the account the converge and the teardown still read every check's tags."""
    cluster = _cluster()
    for index in range(11):
        _plant_untagged("%s-elsewhere-%d.%s.elb.amazonaws.com" % (cluster, index, REGION))
    fqdn = "%s-local-1.%s.elb.amazonaws.com" % (cluster, REGION)
    planted = _plant_untagged(fqdn)
    code, output = _converge(tmp_path, inventory, cluster, fqdn)
    assert code == 0, output[-4000:]
    assert list(_checks_of(fqdn)) == [planted]
    code, output = _play(tmp_path, inventory, "absent", cluster, {"_dns_zone_id": ""})
    assert code == 0, output[-4000:]
    assert _checks_of(fqdn) == {}
