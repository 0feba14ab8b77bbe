# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.ec2_instance_type_info against moto in-process (moto has the real instance type data)."""

from __future__ import annotations

import pytest
from moto import mock_aws

from ansible_collections.megapool.aws.plugins.modules import ec2_instance_type_info as module_under_test

REGION = "eu-north-1"


@pytest.fixture
def aws(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        yield


def _run(run_module, names, check_mode=False):
    return run_module(module_under_test.main, {"instance_types": names, "region": REGION}, check_mode=check_mode)


def test_reads_types_in_the_order_asked_and_names_the_missing(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    result = _run(run_module, ["t4g.small", "t3.small", "t9.nope", "t3.small"])

    assert result["changed"] is False
    assert [item["instance_type"] for item in result["instance_types"]] == ["t4g.small", "t3.small"]
    graviton, intel = result["instance_types"]
    assert graviton["architectures"] == ["arm64"]
    assert "x86_64" in intel["architectures"] and "arm64" not in intel["architectures"]
    assert intel["memory_mib"] == 2048 and intel["vcpus"] == 2
    assert intel["burstable_performance_supported"] is True
    assert "spot" in intel["supported_usage_classes"]
    assert result["missing"] == ["t9.nope"]
    assert aws_calls.operations() == [
        "DescribeInstanceTypes",
        "DescribeInstanceTypeOfferings",
        "DescribeInstanceTypeOfferings",
        "DescribeAvailabilityZones",
    ]
    assert aws_calls.of("DescribeInstanceTypes")[0].params["Filters"] == [
        {"Name": "instance-type", "Values": ["t3.small", "t4g.small", "t9.nope"]}
    ]
    assert [call.params["LocationType"] for call in aws_calls.of("DescribeInstanceTypeOfferings")] == [
        "region",
        "availability-zone-id",
    ]
    assert intel["availability_zone_ids"] == ["eun1-az1", "eun1-az2", "eun1-az3"]
    assert intel["availability_zones"] == ["eu-north-1a", "eu-north-1b", "eu-north-1c"]


def test_a_type_the_region_describes_but_does_not_offer_is_missing(aws, run_module):  # pylint: disable=unused-argument
    """AWS (and moto's snapshot of it) describes t3a.small in eu-north-1, but the region does not offer it."""
    result = _run(run_module, ["t3.small", "t3a.small"])
    assert [item["instance_type"] for item in result["instance_types"]] == ["t3.small"]
    assert result["missing"] == ["t3a.small"]
    assert [zone["lacks"] for zone in result["availability_zones"]] == [["t3a.small"]] * 3


def test_zones_come_with_their_ids_and_what_they_lack(aws, run_module):  # pylint: disable=unused-argument
    """us-east-1: use1-az3 offers none of these types; the zone is named by this account's mapping."""
    result = run_module(module_under_test.main, {"instance_types": ["t3.small", "m7g.large"], "region": "us-east-1"})
    by_id = {zone["zone_id"]: zone for zone in result["availability_zones"]}
    assert by_id["use1-az3"]["lacks"] == ["t3.small", "m7g.large"]
    assert all(not zone["lacks"] for zone_id, zone in by_id.items() if zone_id != "use1-az3")
    names = [zone["zone_name"] for zone in result["availability_zones"]]
    assert names == sorted(names)
    small = result["instance_types"][0]
    assert "use1-az3" not in small["availability_zone_ids"]
    assert by_id["use1-az3"]["zone_name"] not in small["availability_zones"]


def test_check_mode_reads_the_same_and_writes_nothing(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    assert _run(run_module, ["t3.small"], check_mode=True) == _run(run_module, ["t3.small"])
    assert aws_calls.writes() == []


def test_nothing_offered(aws, run_module):  # pylint: disable=unused-argument
    result = _run(run_module, ["t9.nope", "x1.nothing"])
    assert result["instance_types"] == [] and result["missing"] == ["t9.nope", "x1.nothing"]


@pytest.mark.parametrize(
    "names, expected",
    [
        (["t3.*"], "instance_types[0]='t3.*' is not an instance type name (family.size, e.g. t3.small; no wildcards)."),
        (["t3.small", "T3.Small"], "instance_types[1]='T3.Small' is not an instance type name"),
        ([], "instance_types is empty"),
    ],
)
def test_malformed_names_fail_before_any_call(aws, run_module, aws_calls, names, expected):  # pylint: disable=unused-argument
    result = _run(run_module, names)
    assert result["failed"] is True
    assert expected in result["msg"]
    assert aws_calls == []
