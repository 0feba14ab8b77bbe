# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml end to end on the emulator: what the molecule verify cannot read, and the teardown."""

from __future__ import annotations

import re

from conftest import REGIONS, client, run_playbook, snapshot


def _recap_changed(output: str) -> dict[str, int]:
    return {host: int(changed) for host, changed in re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.M)}


def test_site_bastion_hardening_and_teardown(inventory, empty_emulator):
    empty = snapshot()
    result = run_playbook("site.yml", inventory.path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr

    for region in REGIONS:
        ec2 = client("ec2", region)
        bastions = [
            instance
            for reservation in ec2.describe_instances(
                Filters=[{"Name": "tag:megapool:role", "Values": ["bastion"]}, {"Name": "instance-state-name", "Values": ["running"]}]
            )["Reservations"]
            for instance in reservation["Instances"]
        ]
        assert len(bastions) == 1, region
        bastion = bastions[0]
        assert bastion["MetadataOptions"]["HttpTokens"] == "required"
        ami = client("ssm", region).get_parameter(Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")
        assert bastion["ImageId"] == ami["Parameter"]["Value"]
        volume_ids = [mapping["Ebs"]["VolumeId"] for mapping in bastion["BlockDeviceMappings"]]
        volumes = ec2.describe_volumes(VolumeIds=volume_ids)["Volumes"]
        assert volumes and all(volume["Encrypted"] and volume["VolumeType"] == "gp3" for volume in volumes), volumes

    # The summary names both regions' VPCs and the active peering.
    assert "eu-north-1-ap-southeast-1: active" in result.stdout or "ap-southeast-1-eu-north-1: active" in result.stdout, result.stdout[-3000:]

    teardown = run_playbook("teardown.yml", inventory.path)
    assert teardown.returncode == 0, teardown.stdout[-4000:] + teardown.stderr
    assert snapshot() == empty

    again = run_playbook("teardown.yml", inventory.path)
    assert again.returncode == 0, again.stdout[-4000:]
    assert set(_recap_changed(again.stdout).values()) == {0}
