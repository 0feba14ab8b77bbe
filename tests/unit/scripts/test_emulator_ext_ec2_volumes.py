# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/ec2_volumes.py: a volume made from no snapshot answers ``SnapshotId: ""`` as on AWS, so
amazon.aws.ec2_vol_info can read the volumes of an instance.

The first test pins down plain moto (the reason for the patch); the others apply it and restore moto afterwards.
"""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from emulator_ext import ec2_volumes as ext

REGION = "eu-north-1"


@pytest.fixture()
def patched():
    ext.apply()
    ext.apply()  # twice: the emulator and a test in one interpreter wrap once
    yield
    ext.restore()


def _volumes(ec2) -> list[dict]:
    return ec2.describe_volumes()["Volumes"]


def _launch(ec2) -> None:
    ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.micro")


def test_plain_moto_leaves_snapshot_id_out(aws_env):  # pylint: disable=unused-argument
    assert not ext.applied()
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        _launch(ec2)
        assert [("SnapshotId" in volume) for volume in _volumes(ec2)] == [False]


def test_a_volume_from_no_snapshot_answers_the_empty_string(aws_env, patched):  # pylint: disable=unused-argument
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        _launch(ec2)  # the root volume
        ec2.create_volume(AvailabilityZone=REGION + "a", Size=10, VolumeType="gp3", Encrypted=True)
        assert [volume["SnapshotId"] for volume in _volumes(ec2)] == ["", ""]


def test_a_volume_from_a_snapshot_names_it(aws_env, patched):  # pylint: disable=unused-argument
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        blank = ec2.create_volume(AvailabilityZone=REGION + "a", Size=10)["VolumeId"]
        snapshot = ec2.create_snapshot(VolumeId=blank)["SnapshotId"]
        made = ec2.create_volume(AvailabilityZone=REGION + "a", SnapshotId=snapshot)["VolumeId"]
        by_id = {volume["VolumeId"]: volume["SnapshotId"] for volume in _volumes(ec2)}
        assert by_id == {blank: "", made: snapshot}


def test_restore_gives_moto_back(aws_env):  # pylint: disable=unused-argument
    ext.apply()
    ext.restore()
    assert not ext.applied()
