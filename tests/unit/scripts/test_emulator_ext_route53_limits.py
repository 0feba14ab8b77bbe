# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/route53_limits.py: ListTagsForResources takes at most 10 ids, like AWS.

The first test pins down plain moto's behaviour (the reason for the patch); the others apply the patch.
"""

from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator_ext import route53_limits as ext


@pytest.fixture
def checks(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        route53 = boto3.client("route53", region_name="us-east-1")
        ids = [
            route53.create_health_check(
                CallerReference=str(uuid.uuid4()),
                HealthCheckConfig={
                    "Type": "HTTPS",
                    "FullyQualifiedDomainName": "a%d.example.com" % i,
                    "Port": 443,
                    "RequestInterval": 30,
                },
            )["HealthCheck"]["Id"]
            for i in range(11)
        ]
        yield route53, ids


def test_plain_moto_lists_the_tags_of_eleven(checks):
    route53, ids = checks
    assert len(route53.list_tags_for_resources(ResourceType="healthcheck", ResourceIds=ids)["ResourceTagSets"]) == 11


def test_eleven_ids_are_invalid_input(checks, patched):  # pylint: disable=unused-argument
    route53, ids = checks
    with pytest.raises(ClientError) as raised:
        route53.list_tags_for_resources(ResourceType="healthcheck", ResourceIds=ids)
    assert raised.value.response["Error"]["Code"] == "InvalidInput"
    assert "less than or equal to 10" in raised.value.response["Error"]["Message"]


def test_ten_ids_are_answered(checks, patched):  # pylint: disable=unused-argument
    route53, ids = checks
    assert (
        len(route53.list_tags_for_resources(ResourceType="healthcheck", ResourceIds=ids[:10])["ResourceTagSets"]) == 10
    )


def test_restore_puts_moto_back(checks):
    route53, ids = checks
    ext.apply()
    ext.restore()
    assert len(route53.list_tags_for_resources(ResourceType="healthcheck", ResourceIds=ids)["ResourceTagSets"]) == 11
