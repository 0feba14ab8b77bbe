# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network's zones are chosen by AZ ID, where every instance type it hosts is offered.

The emulator's account maps us-east-1a to use1-az3, which offers none of the configured types, and refuses to launch a
type in a zone that does not offer it, as AWS does (scripts/emulator_ext/ec2_zones.py). Choosing "the first two names"
put the bastion into us-east-1a and failed there; the role now skips that zone. Teardown then removes everything,
retrying the deletes the emulator answers with DependencyViolation (scripts/emulator_ext/ec2_dependencies.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import PORT, ROOT, client, snapshot

PLAYBOOK = """
- name: The network role on the given regions
  hosts: regions
  gather_facts: false
  any_errors_fatal: true
  module_defaults:
    group/megapool.aws.aws: "{{ megapool_aws }}"
  roles:
    - role: megapool.aws.network
"""


def _run(inventory, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    playbook = tmp_path / "network.yml"
    playbook.write_text(PLAYBOOK)
    env = dict(
        os.environ, MEGAPOOL_EMULATOR_PORT=str(PORT), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1"
    )
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        str(playbook),
        "-i",
        str(inventory.path),
        "--limit",
        "us-east-1",
        *args,
    ]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def test_us_east_1_network_avoids_the_zone_without_the_types_and_tears_down(inventory, empty_emulator, tmp_path):  # pylint: disable=unused-argument
    inventory.set_region("us-east-1", network_vpc_cidr="10.42.0.0/16")
    before = snapshot(("us-east-1",))
    ec2 = client("ec2", "us-east-1")
    zone_ids = {zone["ZoneName"]: zone["ZoneId"] for zone in ec2.describe_availability_zones()["AvailabilityZones"]}
    assert zone_ids["us-east-1a"] == "use1-az3"  # the account the emulator plays

    built = _run(inventory, tmp_path)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-2000:]

    vpc = ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.42.0.0/16"]}])["Vpcs"][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    assert sorted({subnet["AvailabilityZone"] for subnet in subnets}) == ["us-east-1b", "us-east-1c"]
    assert "use1-az3" not in {subnet["AvailabilityZoneId"] for subnet in subnets}
    running = [{"Name": "vpc-id", "Values": [vpc]}, {"Name": "instance-state-name", "Values": ["running"]}]
    bastions = [
        instance
        for reservation in ec2.describe_instances(Filters=running)["Reservations"]
        for instance in reservation["Instances"]
    ]
    assert [instance["Placement"]["AvailabilityZone"] for instance in bastions] == ["us-east-1b"]

    torn = _run(inventory, tmp_path, "-e", "network_state=absent")
    output = torn.stdout + torn.stderr
    assert torn.returncode == 0, output[-4000:]
    assert "FAILED - RETRYING" in output and "Delete the subnets" in output  # AWS's lingering interfaces, retried
    assert snapshot(("us-east-1",)) == before


def test_teardown_removes_a_detached_internet_gateway_left_by_an_interrupted_run(inventory, empty_emulator, tmp_path):  # pylint: disable=unused-argument
    """ec2_vpc_igw creates the gateway, then attaches it: a run stopped in between leaves a tagged, detached gateway."""
    inventory.set_region("us-east-1", network_vpc_cidr="10.42.0.0/16")
    ec2 = client("ec2", "us-east-1")
    tags = [
        {"Key": "megapool:env", "Value": "local"},
        {"Key": "megapool:cluster", "Value": "megapool"},
        {"Key": "megapool:role", "Value": "igw"},
    ]
    left = ec2.create_internet_gateway(TagSpecifications=[{"ResourceType": "internet-gateway", "Tags": tags}])[
        "InternetGateway"
    ]["InternetGatewayId"]
    other = ec2.create_internet_gateway(TagSpecifications=[{"ResourceType": "internet-gateway", "Tags": tags[1:]}])[
        "InternetGateway"
    ]["InternetGatewayId"]

    # network_nat_mode=none with the ECS layer configured is refused for building, never for a teardown.
    torn = _run(inventory, tmp_path, "-e", "network_state=absent", "-e", "network_nat_mode=none")
    assert torn.returncode == 0, (torn.stdout + torn.stderr)[-4000:]

    remaining = {gateway["InternetGatewayId"] for gateway in ec2.describe_internet_gateways()["InternetGateways"]}
    assert left not in remaining
    assert other in remaining  # not the environment's (no env tag): left alone
