# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.ec2_cluster_nodes_info against moto in-process: cluster members in several regions."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError
from moto import mock_aws

from ansible_collections.megapool.aws.plugins.modules import ec2_cluster_nodes_info as module_under_test

REGIONS = ["eu-north-1", "us-east-1", "ap-southeast-1"]
IMAGE = "ami-03cf127a"  # in moto's default AMI list


@pytest.fixture
def aws(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        yield


def run(
    region: str, role: str = "app", env: str = "prod", cluster: str = "shop", count: int = 1, **tags: str
) -> list[dict[str, Any]]:
    ec2 = boto3.client("ec2", region_name=region)
    all_tags = {"megapool:env": env, "megapool:cluster": cluster, "megapool:role": role}
    all_tags.update({key.replace("__", ":"): value for key, value in tags.items()})
    return ec2.run_instances(
        ImageId=IMAGE,
        MinCount=count,
        MaxCount=count,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in all_tags.items()]}],
    )["Instances"]


def args(**extra: Any) -> dict[str, Any]:
    result = dict(regions=REGIONS, env="prod", cluster="shop")
    result.update(extra)
    return result


@pytest.fixture
def cluster(aws):
    """Two app nodes per region (release 1.4.2 in two regions, 1.5.0 in the third), plus noise."""
    members = {}
    for region in REGIONS:
        release = "1.5.0" if region == "ap-southeast-1" else "1.4.2"
        members[region] = run(region, count=2, megapool__release=release)
        run(region, role="bastion")
        run(region, env="staging")
        run(region, cluster="other")
    stopped = run("eu-north-1")[0]
    boto3.client("ec2", region_name="eu-north-1").stop_instances(InstanceIds=[stopped["InstanceId"]])
    return members


def test_node_names_across_all_regions(cluster, run_module, aws_calls):
    aws_calls.clear()
    result = run_module(module_under_test.main, args())

    assert result["changed"] is False
    expected = sorted("shop@" + i["PrivateIpAddress"] for region in REGIONS for i in cluster[region])
    assert result["nodes"] == expected
    assert len(result["members"]) == 6
    assert result["errors"] == {}
    assert result["regions"] == REGIONS
    first = next(m for m in result["members"] if m["instance_id"] == cluster["us-east-1"][0]["InstanceId"])
    assert first == {
        "node": "shop@" + cluster["us-east-1"][0]["PrivateIpAddress"],
        "instance_id": cluster["us-east-1"][0]["InstanceId"],
        "region": "us-east-1",
        "az": cluster["us-east-1"][0]["Placement"]["AvailabilityZone"],
        "private_ip": cluster["us-east-1"][0]["PrivateIpAddress"],
        "release": "1.4.2",
    }
    # one filtered DescribeInstances per region, nothing else
    assert aws_calls.operations() == ["DescribeInstances"] * 3
    assert sorted(call.region for call in aws_calls) == sorted(REGIONS)
    filters = {f["Name"]: f["Values"] for f in aws_calls[0].params["Filters"]}
    assert filters == {
        "tag:megapool:env": ["prod"],
        "tag:megapool:cluster": ["shop"],
        "instance-state-name": ["running"],
        "tag:megapool:role": ["app"],
    }


def test_basename_and_include_release(cluster, run_module):
    result = run_module(module_under_test.main, args(basename="megapool", include_release=True))

    expected = sorted(
        "megapool-%s@%s" % ("1.5.0" if region == "ap-southeast-1" else "1.4.2", i["PrivateIpAddress"])
        for region in REGIONS
        for i in cluster[region]
    )
    assert result["nodes"] == expected


def test_release_filter(cluster, run_module, aws_calls):
    aws_calls.clear()
    result = run_module(module_under_test.main, args(release="1.5.0", include_release=True))

    assert result["nodes"] == sorted("shop-1.5.0@" + i["PrivateIpAddress"] for i in cluster["ap-southeast-1"])
    filters = {f["Name"]: f["Values"] for f in aws_calls.of("DescribeInstances")[0].params["Filters"]}
    assert filters["tag:megapool:release"] == ["1.5.0"]  # server-side


def test_basename_from_a_tag(aws, run_module):
    tagged = run("eu-north-1", megapool__basename="web")[0]
    plain = run("eu-north-1")[0]

    result = run_module(module_under_test.main, args(regions=["eu-north-1"], basename_tag="megapool:basename"))

    assert result["nodes"] == sorted(["web@" + tagged["PrivateIpAddress"], "shop@" + plain["PrivateIpAddress"]])


def test_stopped_instances_and_other_roles_are_not_members(aws, run_module):
    running = run("eu-north-1")[0]
    stopped = run("eu-north-1")[0]
    boto3.client("ec2", region_name="eu-north-1").stop_instances(InstanceIds=[stopped["InstanceId"]])
    run("eu-north-1", role="bastion")

    result = run_module(module_under_test.main, args(regions=["eu-north-1"]))
    assert [m["instance_id"] for m in result["members"]] == [running["InstanceId"]]

    every_role = run_module(module_under_test.main, args(regions=["eu-north-1"], role=""))
    assert len(every_role["members"]) == 2  # app and bastion, still not the stopped one


def test_check_mode_reads_the_same(cluster, run_module, aws_calls):
    aws_calls.clear()
    assert (
        run_module(module_under_test.main, args(), check_mode=True)["nodes"]
        == run_module(module_under_test.main, args())["nodes"]
    )
    assert aws_calls.writes() == []


def test_nothing_found_is_an_empty_list(aws, run_module):
    result = run_module(module_under_test.main, args(cluster="nobody"))
    assert "failed" not in result
    assert result["nodes"] == [] and result["members"] == [] and result["errors"] == {}


def test_regions_are_queried_at_the_same_time(cluster, run_module, monkeypatch):
    lock = threading.Condition()
    state = {"in_flight": 0, "max": 0}

    def before(**_):
        with lock:
            state["in_flight"] += 1
            state["max"] = max(state["max"], state["in_flight"])
            lock.notify_all()
            lock.wait_for(lambda: state["in_flight"] >= len(REGIONS), timeout=5)

    def after(**_):
        with lock:
            state["in_flight"] -= 1

    original = boto3.session.Session.client

    def client(self, *a, **kw):
        made = original(self, *a, **kw)
        made.meta.events.register("before-call.ec2.DescribeInstances", before)
        made.meta.events.register("after-call.ec2.DescribeInstances", after)
        return made

    monkeypatch.setattr(boto3.session.Session, "client", client)

    result = run_module(module_under_test.main, args())

    assert state["max"] == 3
    assert len(result["nodes"]) == 6


def _fail_in(monkeypatch, region: str) -> None:
    original = boto3.session.Session.client

    def client(self, *a, **kw):
        made = original(self, *a, **kw)
        if made.meta.region_name == region:

            def _raise(**_):
                raise ClientError(
                    {
                        "Error": {
                            "Code": "AuthFailure",
                            "Message": "AWS was not able to validate the provided access credentials",
                        }
                    },
                    "DescribeInstances",
                )

            made.meta.events.register("before-call.ec2.DescribeInstances", _raise)
        return made

    monkeypatch.setattr(boto3.session.Session, "client", client)


def test_a_failing_region_is_a_warning_and_an_error_entry(cluster, run_module, monkeypatch):
    _fail_in(monkeypatch, "us-east-1")

    result = run_module(module_under_test.main, args())

    assert "failed" not in result
    assert len(result["nodes"]) == 4
    assert result["regions"] == ["eu-north-1", "ap-southeast-1"]
    assert result["errors"] == {
        "us-east-1": "AuthFailure: AWS was not able to validate the provided access credentials "
        "(AWS refused the credentials in this region; check them, and that the region is enabled)"
    }
    assert any("Skipped region us-east-1: AuthFailure" in w for w in result["warnings"])


def test_strict_regions_fails(cluster, run_module, monkeypatch):
    _fail_in(monkeypatch, "us-east-1")

    result = run_module(module_under_test.main, args(strict_regions=True))

    assert result["failed"] is True
    assert result["msg"].startswith("could not query us-east-1 (endpoint the AWS default endpoints): AuthFailure")
    assert result["msg"].endswith("(strict_regions is true).")


def test_unreachable_endpoint_fails_naming_it(aws_env, run_module):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = "http://127.0.0.1:%d" % port

    result = run_module(module_under_test.main, args(regions=["eu-north-1", "us-east-1"], endpoint_url=endpoint))

    assert result["failed"] is True
    assert result["msg"] == (
        'could not query eu-north-1, us-east-1 (endpoint %s): Could not connect to the endpoint URL: "%s/" (no region answered).'
        % (endpoint, endpoint)
    )
    assert set(result["errors"]) == {"eu-north-1", "us-east-1"}


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"regions": ["eu-north-1", "eu-nort-1"]}, "regions: unknown AWS region eu-nort-1"),
        ({"regions": []}, "regions is empty"),
        ({"env": " "}, "env must not be empty"),
        ({"basename": "shop@x"}, "basename='shop@x' cannot be the name part of an Erlang node name"),
        ({"max_workers": 0}, "max_workers must be 1 or more"),
    ],
)
def test_bad_input_fails_before_any_aws_call(aws, run_module, aws_calls, extra, message):
    result = run_module(module_under_test.main, args(**extra))
    assert result["failed"] is True
    assert message in result["msg"]
    assert aws_calls == []


def test_in_the_action_group():
    runtime = yaml.safe_load((Path(__file__).resolve().parents[4] / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    assert "ec2_cluster_nodes_info" in runtime["action_groups"]["aws"]
