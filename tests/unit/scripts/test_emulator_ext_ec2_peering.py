# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/ec2_peering.py: an unknown VPC peering connection answers AWS's error code."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator_ext import ec2_peering as ext


def _code() -> str:
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="eu-north-1")
        with pytest.raises(ClientError) as caught:
            ec2.accept_vpc_peering_connection(VpcPeeringConnectionId="pcx-0123456789abcdef0")
    return caught.value.response["Error"]["Code"]


def test_plain_moto_uses_its_own_spelling():
    assert not ext.applied()
    assert _code() == "InvalidVpcPeeringConnectionId.NotFound"


def test_the_patch_answers_aws_code_and_restores():
    ext.apply()
    ext.apply()  # idempotent
    try:
        assert ext.applied()
        assert _code() == "InvalidVpcPeeringConnectionID.NotFound"
    finally:
        ext.restore()
    assert not ext.applied() and _code() == "InvalidVpcPeeringConnectionId.NotFound"
