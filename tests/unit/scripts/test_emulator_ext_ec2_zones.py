# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/ec2_zones.py: the emulator's account maps us-east-1a to use1-az3, both offering location types
agree, and RunInstances refuses a type the zone does not offer, as on AWS.

The first test pins down plain moto (the reason for the patch); the others apply it and restore moto afterwards.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator_ext import ec2_zones as ext

REGION = "us-east-1"


def _zones(ec2) -> dict[str, str]:
    return {zone["ZoneName"]: zone["ZoneId"] for zone in ec2.describe_availability_zones()["AvailabilityZones"]}


def _offered(ec2, location_type: str, instance_type: str) -> list[str]:
    answer = ec2.describe_instance_type_offerings(
        LocationType=location_type, Filters=[{"Name": "instance-type", "Values": [instance_type]}]
    )
    return sorted(item["Location"] for item in answer["InstanceTypeOfferings"])


def test_plain_moto_puts_use1_az3_last(aws_env):  # pylint: disable=unused-argument
    assert not ext.applied()
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        assert _zones(ec2)["us-east-1a"] == "use1-az6" and _zones(ec2)["us-east-1e"] == "use1-az3"


def test_the_account_maps_us_east_1a_to_use1_az3_and_offerings_agree(aws_env, patched):  # pylint: disable=unused-argument
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        zones = _zones(ec2)
        assert zones == ext.ACCOUNT_ZONE_IDS[REGION]
        by_id = _offered(ec2, "availability-zone-id", "t3.small")
        assert "use1-az3" not in by_id and len(by_id) == 5
        assert _offered(ec2, "availability-zone", "t3.small") == sorted(
            name for name, zone_id in zones.items() if zone_id in by_id
        )
        assert "us-east-1a" not in _offered(ec2, "availability-zone", "t3.small")
        subnet = ec2.create_subnet(
            VpcId=ec2.describe_vpcs()["Vpcs"][0]["VpcId"], CidrBlock="172.31.200.0/24", AvailabilityZone="us-east-1a"
        )["Subnet"]
        assert subnet["AvailabilityZoneId"] == "use1-az3"


def test_run_instances_refuses_a_type_the_zone_does_not_offer(aws_env, patched):  # pylint: disable=unused-argument
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc_id = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
        bad = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.42.0.0/24", AvailabilityZone="us-east-1a")["Subnet"][
            "SubnetId"
        ]
        good = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.42.1.0/24", AvailabilityZone="us-east-1b")["Subnet"][
            "SubnetId"
        ]
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        with pytest.raises(ClientError) as excinfo:
            ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.small", SubnetId=bad)
        assert excinfo.value.response["Error"]["Code"] == "Unsupported"
        assert "(t3.small) is not supported in your requested Availability Zone (us-east-1a)" in str(excinfo.value)
        with pytest.raises(ClientError, match="Unsupported"):
            ec2.run_instances(
                ImageId=image,
                MinCount=1,
                MaxCount=1,
                InstanceType="t3.small",
                NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": bad}],
            )
        assert ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.small", SubnetId=good)[
            "Instances"
        ]
        # moto's default type (not named) is not checked
        assert ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=bad)["Instances"]


def test_restore_puts_moto_back(aws_env):  # pylint: disable=unused-argument
    ext.apply()
    ext.apply()
    assert ext.applied()
    ext.restore()
    assert not ext.applied()
    with mock_aws():
        assert _zones(boto3.client("ec2", region_name=REGION))["us-east-1a"] == "use1-az6"
