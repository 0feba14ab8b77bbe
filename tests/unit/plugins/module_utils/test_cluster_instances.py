# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for module_utils.cluster_instances: filters, the concurrent paginated fan-out, host records, node names."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import threading
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.exceptions import EndpointConnectionError
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from ansible_collections.megapool.aws.plugins.module_utils import cluster_instances as ci
from ansible_collections.megapool.aws.plugins.module_utils.regions import known_regions
from ansible_collections.megapool.aws.plugins.module_utils.regions import regions_error
from ansible_collections.megapool.aws.plugins.module_utils.regions import unknown_regions

# ------------------------------------------------------------------------------------------------ helpers


def facts(
    instance_id: str,
    role: str | None = "app",
    vpc: str = "vpc-a",
    private_ip: str = "10.0.0.5",
    public_ip: str | None = None,
    state: str = "running",
    az: str = "eu-north-1a",
    name: str | None = None,
    launch_time: str = "2025-01-01T00:00:00+00:00",
    **tags: str,
) -> dict[str, Any]:
    all_tags = {"megapool:env": "prod", "megapool:cluster": "shop"}
    if role:
        all_tags["megapool:role"] = role
    if name:
        all_tags["Name"] = name
    all_tags.update({key.replace("__", ":"): value for key, value in tags.items()})
    result = {
        "instance_id": instance_id,
        "vpc_id": vpc,
        "private_ip_address": private_ip,
        "state": {"name": state},
        "placement": {"availability_zone": az, "region": az[:-1]},
        "launch_time": launch_time,
        "tags": all_tags,
    }
    if public_ip:
        result["public_ip_address"] = public_ip
    return result


def by_name(hosts: list[ci.HostRecord]) -> dict[str, ci.HostRecord]:
    return {host.name: host for host in hosts}


def by_id(hosts: list[ci.HostRecord]) -> dict[str, ci.HostRecord]:
    return {host.instance_id: host for host in hosts}


# ------------------------------------------------------------------------------------------------ regions


def test_known_regions_come_from_botocore_and_include_the_usual_ones():
    regions = known_regions()
    assert {"eu-north-1", "us-east-1", "ap-southeast-1"} <= set(regions)
    assert regions == sorted(regions)


def test_unknown_regions_lists_each_unknown_once_in_order():
    assert unknown_regions(["eu-north-1", "eu-nort-1", "mars-1", "eu-nort-1"]) == ["eu-nort-1", "mars-1"]


def test_regions_error_empty_and_unknown():
    assert "is empty" in regions_error([])
    message = regions_error(["eu-north-1", "eu-nort-1"], option="regions")
    assert "eu-nort-1" in message and "eu-north-1" in message  # the hint lists known eu- regions
    assert "unknown AWS region " in message
    assert regions_error(["eu-north-1", "us-east-1"]) is None


# ------------------------------------------------------------------------------------------------ filters


def test_instance_filters_env_cluster_and_active_states():
    assert ci.instance_filters("prod", "shop") == [
        {"Name": "tag:megapool:env", "Values": ["prod"]},
        {"Name": "tag:megapool:cluster", "Values": ["shop"]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]},
    ]


def test_instance_filters_role_tags_and_extra_override():
    filters = ci.instance_filters(
        "prod",
        "shop",
        states=ci.RUNNING_STATES,
        role="app",
        tags={"megapool:release": "1.4.2"},
        extra={"instance-type": ["t3.micro", "t3.small"], "instance-state-name": "stopped"},
    )
    assert {f["Name"]: f["Values"] for f in filters} == {
        "tag:megapool:env": ["prod"],
        "tag:megapool:cluster": ["shop"],
        "instance-state-name": ["stopped"],
        "tag:megapool:role": ["app"],
        "tag:megapool:release": ["1.4.2"],
        "instance-type": ["t3.micro", "t3.small"],
    }


# ------------------------------------------------------------------------------------------------ describe (moto)


def _run(ec2, count: int, **tags: str) -> None:
    image = "ami-03cf127a"  # in moto's default AMI list
    all_tags = {"megapool:env": "prod", "megapool:cluster": "shop", **tags}
    for _number in range(count):  # one reservation each: moto pages by reservation
        ec2.run_instances(
            ImageId=image,
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in all_tags.items()]}
            ],
        )


@mock_aws
def test_describe_instances_reads_every_page(aws_env):
    ec2 = boto3.client("ec2", region_name="eu-north-1")
    _run(ec2, 12, **{"megapool:role": "app"})
    _run(ec2, 2, **{"megapool:role": "app", "megapool:env": "staging"})
    pages = []
    ec2.meta.events.register(
        "before-parameter-build.ec2.DescribeInstances", lambda params, **_: pages.append(dict(params))
    )

    found = ci.describe_instances(ec2, ci.instance_filters("prod", "shop"), page_size=5)

    assert len(found) == 12
    assert len({i["InstanceId"] for i in found}) == 12
    assert len(pages) == 3  # 5 + 5 + 2
    assert all(page["MaxResults"] == 5 for page in pages)
    assert "NextToken" not in pages[0] and pages[1]["NextToken"] and pages[2]["NextToken"]
    assert all(i["OwnerId"] for i in found)


@mock_aws
def test_describe_in_regions_collects_per_region(aws_env):
    regions = ["eu-north-1", "us-east-1", "ap-southeast-1"]
    clients = {region: boto3.client("ec2", region_name=region) for region in regions}
    for count, region in enumerate(regions, start=1):
        _run(clients[region], count)

    found = ci.describe_in_regions(clients, ci.instance_filters("prod", "shop"), page_size=5)

    assert found.errors == {}
    assert {region: len(instances) for region, instances in found.instances.items()} == {
        "eu-north-1": 1,
        "us-east-1": 2,
        "ap-southeast-1": 3,
    }
    assert list(found.instances) == regions


def test_describe_in_regions_queries_the_regions_at_the_same_time():
    """Each fake region call waits (up to 5 s) until all three are in flight: sequential calls would see only one."""
    lock = threading.Condition()
    state = {"in_flight": 0, "max": 0}

    def describe(client, filters, page_size):
        with lock:
            state["in_flight"] += 1
            state["max"] = max(state["max"], state["in_flight"])
            lock.notify_all()
            lock.wait_for(lambda: state["in_flight"] >= 3, timeout=5)
        time.sleep(0.01)
        with lock:
            state["in_flight"] -= 1
        return [{"InstanceId": "i-" + client}]

    found = ci.describe_in_regions({"a": "1", "b": "2", "c": "3"}, [], max_workers=8, describe=describe)

    assert state["max"] == 3
    assert found.instances == {"a": [{"InstanceId": "i-1"}], "b": [{"InstanceId": "i-2"}], "c": [{"InstanceId": "i-3"}]}


def test_describe_in_regions_bounds_the_workers():
    lock = threading.Lock()
    state = {"in_flight": 0, "max": 0}

    def describe(client, filters, page_size):
        with lock:
            state["in_flight"] += 1
            state["max"] = max(state["max"], state["in_flight"])
        time.sleep(0.05)
        with lock:
            state["in_flight"] -= 1
        return []

    ci.describe_in_regions({str(n): n for n in range(6)}, [], max_workers=2, describe=describe)
    assert state["max"] <= 2


def test_describe_in_regions_turns_aws_errors_into_region_errors():
    def describe(client, filters, page_size):
        if client == "optin":
            raise ClientError(
                {"Error": {"Code": "OptInRequired", "Message": "You are not subscribed to this service."}},
                "DescribeInstances",
            )
        if client == "down":
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9/")
        return [{"InstanceId": "i-1"}]

    found = ci.describe_in_regions(
        {"eu-north-1": "ok", "me-central-1": "optin", "us-east-1": "down"}, [], describe=describe
    )

    assert found.instances == {"eu-north-1": [{"InstanceId": "i-1"}]}
    assert found.errors["me-central-1"].startswith(
        "OptInRequired: You are not subscribed to this service. (the region is not enabled"
    )
    assert found.errors["us-east-1"] == 'Could not connect to the endpoint URL: "http://127.0.0.1:9/"'


def test_describe_in_regions_lets_bugs_through():
    def describe(client, filters, page_size):
        raise KeyError("bug")

    with pytest.raises(KeyError):
        ci.describe_in_regions({"eu-north-1": None}, [], describe=describe)


def test_describe_in_regions_without_regions():
    assert ci.describe_in_regions({}, []) == ci.RegionResults()


def test_failed_regions_message_names_the_endpoint_and_merges_equal_errors():
    same = {"eu-north-1": "Could not connect", "us-east-1": "Could not connect"}
    assert ci.failed_regions_message(same, "http://127.0.0.1:9") == (
        "could not query eu-north-1, us-east-1 (endpoint http://127.0.0.1:9): Could not connect"
    )
    different = {"us-east-1": "b", "eu-north-1": "a"}
    assert ci.failed_regions_message(different, None) == (
        "could not query eu-north-1, us-east-1 (endpoint the AWS default endpoints): eu-north-1: a; us-east-1: b"
    )


# ------------------------------------------------------------------------------------------------ facts


def test_instance_facts_snake_case_tags_dict_region_and_json_safe():
    import datetime  # pylint: disable=import-outside-toplevel

    raw = {
        "InstanceId": "i-1",
        "PrivateIpAddress": "10.0.0.5",
        "VpcId": "vpc-a",
        "Placement": {"AvailabilityZone": "eu-north-1a"},
        "LaunchTime": datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        "Tags": [{"Key": "megapool:role", "Value": "app"}, {"Key": "Name", "Value": "x"}],
    }
    result = ci.instance_facts(raw, "eu-north-1")
    assert result == {
        "instance_id": "i-1",
        "private_ip_address": "10.0.0.5",
        "vpc_id": "vpc-a",
        "placement": {"availability_zone": "eu-north-1a", "region": "eu-north-1"},
        "launch_time": "2025-01-02T03:04:05+00:00",
        "tags": {"megapool:role": "app", "Name": "x"},
    }


def _reference_facts(instance, region):
    """What instance_facts returned before its one-pass conversion: amazon.aws's conversion, then JSON-safe values."""
    import datetime  # pylint: disable=import-outside-toplevel

    from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict  # pylint: disable=import-outside-toplevel

    def json_safe(value):
        if isinstance(value, dict):
            return {str(key): json_safe(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [json_safe(item) for item in value]
        if isinstance(value, (datetime.datetime, datetime.date)):
            return value.isoformat()
        return value

    facts = camel_dict_to_snake_dict(dict(instance), ignore_list=["Tags"])
    facts["tags"] = {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])}
    facts.setdefault("placement", {})["region"] = region
    return json_safe(facts)


@mock_aws
def test_instance_facts_equal_amazon_aws_conversion_for_a_real_describe_instances_answer():
    """A whole DescribeInstances instance (moto's, with block devices, network interfaces, nested groups, dates)."""
    ec2 = boto3.client("ec2", region_name="eu-north-1")
    ec2.run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "a"}]}],
    )
    instance = ec2.describe_instances()["Reservations"][0]["Instances"][0]
    assert {"NetworkInterfaces", "BlockDeviceMappings", "LaunchTime", "Tags"} <= set(instance)

    assert ci.instance_facts(instance, "eu-north-1") == _reference_facts(instance, "eu-north-1")


_CAMEL = st.sampled_from(["InstanceId", "TargetGroupARNs", "HTTPEndpoint", "Ipv6Address", "Tags", "Key", "a", "ID"])
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.datetimes() | st.dates(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_CAMEL, children, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(_CAMEL, _VALUES, max_size=5))
def test_instance_facts_equal_amazon_aws_conversion_for_any_shape(instance):
    """Nested "Tags" keys are converted like any other (amazon.aws's ignore_list applies to the top level only)."""
    instance = dict(instance, Tags=[{"Key": "k", "Value": "v"}])
    assert ci.instance_facts(instance, "r") == _reference_facts(instance, "r")


# ------------------------------------------------------------------------------------------------ names


def test_default_hostname_name_else_role_else_instance():
    assert ci.default_hostname(facts("i-1", name="shop-prod-app")) == "shop-prod-app-i-1"
    assert ci.default_hostname(facts("i-1")) == "app-i-1"
    assert ci.default_hostname(facts("i-1", role=None)) == "instance-i-1"
    assert ci.default_hostname(facts("i-1", name="my app: #1")) == "my_app_1-i-1"


def test_unique_hostnames_suffixes_only_shared_names():
    names = ci.unique_hostnames(
        [
            (("eu-north-1", "i-1"), "bastion"),
            (("us-east-1", "i-2"), "bastion"),
            (("eu-north-1", "i-3"), "solo"),
        ]
    )
    assert names == {
        ("eu-north-1", "i-1"): "bastion-i-1",
        ("us-east-1", "i-2"): "bastion-i-2",
        ("eu-north-1", "i-3"): "solo",
    }


def test_unique_hostnames_same_instance_id_in_two_regions_gets_the_region():
    names = ci.unique_hostnames([(("eu-north-1", "i-1"), "app-i-1"), (("us-east-1", "i-1"), "app-i-1")])
    assert names == {("eu-north-1", "i-1"): "app-i-1-eu-north-1", ("us-east-1", "i-1"): "app-i-1-us-east-1"}


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["eu-north-1", "us-east-1"]),
            st.sampled_from(["i-1", "i-2", "i-3", "i-4"]),
            st.sampled_from(["a", "b", "a-i-1", "a-i-1-eu-north-1", "b-i-2"]),
        ),
        max_size=8,
    )
)
def test_unique_hostnames_are_always_unique(entries):
    wanted = {}
    for region, instance_id, name in entries:
        wanted[(region, instance_id)] = name  # one name per instance
    names = ci.unique_hostnames(list(wanted.items()))
    assert set(names) == set(wanted)
    assert len(set(names.values())) == len(names)


def test_safe_group_name():
    assert ci.safe_group_name("eu-north-1a") == "eu_north_1a"
    assert ci.safe_group_name("asg_shop-prod-app:blue") == "asg_shop_prod_app_blue"
    assert ci.safe_group_name("1st") == "_1st"


# ------------------------------------------------------------------------------------------------ proxy args


def test_proxy_command_args_default():
    args = ci.proxy_ssh_args("203.0.113.10", ci.ProxySettings())
    assert args == "-o 'ProxyCommand=ssh -W %h:%p -p 22 -o StrictHostKeyChecking=accept-new ec2-user@203.0.113.10'"
    # Ansible splits ansible_ssh_common_args with shlex; ssh runs the ProxyCommand through the shell.
    option, value = shlex.split(args)
    assert option == "-o"
    assert shlex.split(value.split("=", 1)[1]) == [
        "ssh",
        "-W",
        "%h:%p",
        "-p",
        "22",
        "-o",
        "StrictHostKeyChecking=accept-new",
        "ec2-user@203.0.113.10",
    ]


def test_proxy_command_args_keep_quoted_extra_args_intact():
    settings = ci.ProxySettings(
        user="admin", port=2222, ssh_args="-i '/keys/my key.pem' -o UserKnownHostsFile=/dev/null"
    )
    option, value = shlex.split(ci.proxy_ssh_args("10.0.128.4", settings))
    assert shlex.split(value[len("ProxyCommand=") :]) == [
        "ssh",
        "-W",
        "%h:%p",
        "-p",
        "2222",
        "-i",
        "/keys/my key.pem",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "admin@10.0.128.4",
    ]


def test_proxy_jump_and_none():
    assert (
        ci.proxy_ssh_args("203.0.113.10", ci.ProxySettings(mode="jump", port=2222))
        == "-o ProxyJump=ec2-user@203.0.113.10:2222"
    )
    assert ci.proxy_ssh_args("203.0.113.10", ci.ProxySettings(mode="none")) is None


@pytest.mark.skipif(shutil.which("ssh") is None, reason="OpenSSH client not installed")
@pytest.mark.parametrize("mode", ["command", "jump"])
def test_openssh_accepts_the_proxy_args(mode):
    """``ssh -G`` parses the options as ssh would and prints the result, without connecting."""
    args = ci.proxy_ssh_args(
        "203.0.113.10", ci.ProxySettings(mode=mode, port=2222, ssh_args="-o StrictHostKeyChecking=no")
    )
    out = subprocess.run(
        ["ssh", "-G", "-F", "/dev/null"] + shlex.split(args) + ["10.0.0.5"], capture_output=True, text=True, check=True
    ).stdout
    if mode == "command":
        assert "proxycommand ssh -W %h:%p -p 2222 -o StrictHostKeyChecking=no ec2-user@203.0.113.10" in out.splitlines()
    else:
        # OpenSSH >= 9 prints the host in brackets
        assert {"proxyjump ec2-user@203.0.113.10:2222", "proxyjump ec2-user@[203.0.113.10]:2222"} & set(
            out.splitlines()
        )


# ------------------------------------------------------------------------------------------------ inventory_hosts


def test_hosts_proxy_through_the_bastion_of_their_own_vpc():
    found = {
        "eu-north-1": [
            facts("i-ba", role="bastion", vpc="vpc-a", private_ip="10.0.128.4", public_ip="203.0.113.1"),
            facts("i-bb", role="bastion", vpc="vpc-b", private_ip="10.1.128.4", public_ip="203.0.113.2"),
            facts("i-a1", vpc="vpc-a", private_ip="10.0.0.5"),
            facts("i-b1", vpc="vpc-b", private_ip="10.1.0.5"),
        ],
        "us-east-1": [
            facts(
                "i-bc", role="bastion", vpc="vpc-a", private_ip="10.2.128.4", public_ip="203.0.113.3", az="us-east-1a"
            ),
            facts("i-c1", vpc="vpc-a", private_ip="10.2.0.5", az="us-east-1b"),
        ],
    }
    hosts, warnings = ci.inventory_hosts(found, ci.ProxySettings(mode="jump"))
    hosts = by_id(hosts)
    assert warnings == []
    assert hosts["i-a1"].variables["ansible_ssh_common_args"] == "-o ProxyJump=ec2-user@203.0.113.1:22"
    assert hosts["i-b1"].variables["ansible_ssh_common_args"] == "-o ProxyJump=ec2-user@203.0.113.2:22"
    # same VPC id in another region is another VPC
    assert hosts["i-c1"].variables["ansible_ssh_common_args"] == "-o ProxyJump=ec2-user@203.0.113.3:22"
    assert hosts["i-a1"].variables["ansible_host"] == "10.0.0.5"
    assert hosts["i-a1"].variables["megapool_bastion"] == {
        "name": "bastion-i-ba",
        "instance_id": "i-ba",
        "address": "203.0.113.1",
        "user": "ec2-user",
        "port": 22,
    }
    assert hosts["i-ba"].variables == {
        "aws_region": "eu-north-1",
        "megapool_role": "bastion",
        "ansible_host": "203.0.113.1",
        "ansible_user": "ec2-user",
        "ansible_port": 22,
    }


def test_bastion_private_address():
    found = {
        "eu-north-1": [facts("i-b", role="bastion", private_ip="10.0.128.4", public_ip="203.0.113.1"), facts("i-1")]
    }
    hosts = by_id(ci.inventory_hosts(found, ci.ProxySettings(address="private_ip", user="admin", port=2222))[0])
    assert hosts["i-b"].variables["ansible_host"] == "10.0.128.4"
    assert "admin@10.0.128.4" in hosts["i-1"].variables["ansible_ssh_common_args"]
    assert "-p 2222" in hosts["i-1"].variables["ansible_ssh_common_args"]


def test_bastion_without_public_ip_falls_back_with_a_warning():
    found = {"eu-north-1": [facts("i-b", role="bastion", private_ip="10.0.128.4"), facts("i-1")]}
    hosts, warnings = ci.inventory_hosts(found)
    assert by_id(hosts)["i-b"].variables["ansible_host"] == "10.0.128.4"
    assert "ec2-user@10.0.128.4" in by_id(hosts)["i-1"].variables["ansible_ssh_common_args"]
    assert len(warnings) == 1 and "has no public IP" in warnings[0] and "bastion-i-b" in warnings[0]


def test_vpc_without_bastion_warns_once_and_gets_no_proxy():
    found = {
        "eu-north-1": [facts("i-b", role="bastion", vpc="vpc-a", public_ip="203.0.113.1")]
        + [facts("i-%d" % n, vpc="vpc-z", private_ip="10.9.0.%d" % n) for n in range(1, 8)]
    }
    hosts, warnings = ci.inventory_hosts(found)
    hosts = by_id(hosts)
    assert "ansible_ssh_common_args" not in hosts["i-1"].variables
    assert "megapool_bastion" not in hosts["i-1"].variables
    assert hosts["i-1"].variables["ansible_host"] == "10.9.0.1"
    assert len(warnings) == 1
    assert "vpc-z (eu-north-1)" in warnings[0] and "7 hosts" in warnings[0] and "and 2 more" in warnings[0]


def test_no_warning_without_bastion_when_proxy_is_off():
    hosts, warnings = ci.inventory_hosts({"eu-north-1": [facts("i-1")]}, ci.ProxySettings(mode="none"))
    assert warnings == []
    assert "ansible_ssh_common_args" not in hosts[0].variables


def test_several_bastions_in_a_vpc_the_running_one_launched_first():
    found = {
        "eu-north-1": [
            facts(
                "i-b3",
                role="bastion",
                public_ip="203.0.113.3",
                state="pending",
                launch_time="2024-01-01T00:00:00+00:00",
            ),
            facts("i-b2", role="bastion", public_ip="203.0.113.2", launch_time="2025-06-01T00:00:00+00:00"),
            facts("i-b1", role="bastion", public_ip="203.0.113.1", launch_time="2025-01-01T00:00:00+00:00"),
            facts("i-1"),
        ]
    }
    hosts = by_id(ci.inventory_hosts(found)[0])
    assert hosts["i-1"].variables["megapool_bastion"]["instance_id"] == "i-b1"
    assert hosts["i-b3"].variables["ansible_host"] == "203.0.113.3"  # every bastion is reachable itself


def test_groups_and_names():
    found = {
        "eu-north-1": [
            facts("i-1", name="shop-prod-app", az="eu-north-1a", aws__autoscaling__groupName="shop-prod-app"),
            facts("i-2", name="shop-prod-app", az="eu-north-1b", aws__autoscaling__groupName="shop-prod-app"),
            facts("i-3", role="bastion", name="bastion", public_ip="203.0.113.1"),
        ],
        "us-east-1": [facts("i-4", role="bastion", name="bastion", public_ip="203.0.113.2", az="us-east-1a")],
    }
    hosts = by_name(ci.inventory_hosts(found)[0])
    assert sorted(hosts) == ["bastion-i-3", "bastion-i-4", "shop-prod-app-i-1", "shop-prod-app-i-2"]
    assert hosts["shop-prod-app-i-1"].groups == [
        "app",
        "eu_north_1",
        "eu_north_1a",
        "env_prod",
        "cluster_shop",
        "asg_shop_prod_app",
    ]
    assert hosts["bastion-i-4"].groups == ["bastion", "us_east_1", "us_east_1a", "env_prod", "cluster_shop"]


def test_given_names_are_used_sanitized_and_made_unique():
    found = {"eu-north-1": [facts("i-1"), facts("i-2"), facts("i-3")]}
    names = {
        ("eu-north-1", "i-1"): "app eu-north-1a",
        ("eu-north-1", "i-2"): "app eu-north-1a",
        ("eu-north-1", "i-3"): "",
    }
    hosts = by_id(ci.inventory_hosts(found, names=names)[0])
    assert hosts["i-1"].name == "app_eu-north-1a-i-1"
    assert hosts["i-2"].name == "app_eu-north-1a-i-2"
    assert hosts["i-3"].name == "app-i-3"  # empty: the default


# ------------------------------------------------------------------------------------------------ cluster_members


def test_cluster_members_node_names():
    found = {
        "eu-north-1": [
            facts("i-1", private_ip="10.10.0.5", megapool__release="1.4.2"),
            facts("i-2", private_ip="10.10.0.6"),
        ],
        "us-east-1": [facts("i-3", private_ip="10.30.0.5", az="us-east-1b", megapool__release="1.4.3")],
    }
    assert [m["node"] for m in ci.cluster_members(found, "shop")] == [
        "shop@10.10.0.5",
        "shop@10.10.0.6",
        "shop@10.30.0.5",
    ]
    members = ci.cluster_members(found, "shop", include_release=True)
    assert [m["node"] for m in members] == ["shop-1.4.2@10.10.0.5", "shop-1.4.3@10.30.0.5", "shop@10.10.0.6"]
    assert members[1] == {
        "node": "shop-1.4.3@10.30.0.5",
        "instance_id": "i-3",
        "region": "us-east-1",
        "az": "us-east-1b",
        "private_ip": "10.30.0.5",
        "release": "1.4.3",
    }


def test_cluster_members_basename_tag_and_skips():
    found = {
        "eu-north-1": [
            facts("i-1", private_ip="10.10.0.5", megapool__basename="web node"),
            facts("i-2", private_ip="10.10.0.6"),
            facts("i-3", private_ip="10.10.0.7", state="pending"),
            facts("i-4", private_ip=None),
        ]
    }
    members = ci.cluster_members(found, "shop", basename_tag="megapool:basename")
    assert [m["node"] for m in members] == ["shop@10.10.0.6", "web_node@10.10.0.5"]


# ------------------------------------------------------------------------------------------------ retry policy and clients


@pytest.fixture
def no_retry_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's standard-mode backoff without the pauses (the attempts stay, the test stays fast)."""
    import botocore.retries.standard  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


def test_default_client_config_is_standard_mode_with_10_attempts():
    config = ci.default_client_config()
    assert config.retries == {"mode": "standard", "total_max_attempts": 10}
    assert config.connect_timeout == 10


def _attempts(client: Any) -> list[str]:
    """Each HTTP request the client sends (every attempt of every call), answered 503 without a network."""
    from botocore.awsrequest import AWSResponse  # pylint: disable=import-outside-toplevel

    sent: list[str] = []

    class _Raw:
        def stream(self, **_kwargs: Any):
            yield b""

    def _unavailable(request: Any, **_kwargs: Any) -> Any:
        sent.append(request.url)
        return AWSResponse(request.url, 503, {}, _Raw())

    client.meta.events.register("before-send", _unavailable)
    return sent


def test_a_throttled_or_failing_region_is_tried_10_times_not_2_and_not_100(aws_env, no_retry_pause):
    client = boto3.Session().client("ec2", region_name="eu-north-1", config=ci.default_client_config())
    sent = _attempts(client)

    found = ci.describe_in_regions({"eu-north-1": client}, ci.instance_filters("prod", "shop"))

    assert len(sent) == 10  # botocore's own retries only: no second retry loop around them
    assert "eu-north-1" in found.errors


class _FakeSession:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def client(self, service: str, region_name: str, **kwargs: Any) -> tuple[str, str]:
        self.calls.append((service, region_name, kwargs))
        return (service, region_name)


def test_region_clients_one_client_per_region_from_the_one_session():
    session = _FakeSession()
    config = ci.default_client_config()

    clients = ci.region_clients(
        session,
        "ec2",
        ["eu-north-1", "us-east-1", "eu-north-1"],
        endpoint_url="http://x",
        config=config,
        aws_access_key_id="a",
        verify=False,
    )

    assert clients == {"eu-north-1": ("ec2", "eu-north-1"), "us-east-1": ("ec2", "us-east-1")}
    assert [call[:2] for call in session.calls] == [("ec2", "eu-north-1"), ("ec2", "us-east-1")]
    assert all(
        call[2] == {"endpoint_url": "http://x", "config": config, "aws_access_key_id": "a", "verify": False}
        for call in session.calls
    )


def test_region_clients_share_the_loaded_service_model(aws_env, own_botocore_loader):  # pylint: disable=unused-argument
    """The point of one session: botocore's loader reads the EC2 model once for all regions."""
    session = boto3.Session()
    loader = session._session.get_component("data_loader")  # pylint: disable=protected-access
    reads: list[str] = []
    original = loader.load_data_with_path

    def _counting(name: str, *args: Any, **kwargs: Any) -> Any:
        reads.append(name)
        return original(name, *args, **kwargs)

    loader.load_data_with_path = _counting
    ci.region_clients(session, "ec2", ["eu-north-1", "us-east-1", "ap-southeast-1"], config=ci.default_client_config())

    assert len([name for name in reads if name.startswith("ec2/") and name.endswith("/service-2")]) == 1


# ------------------------------------------------------------------------------------------------ unknown options

KNOWN = {
    "regions": [],
    "env": [],
    "cluster": [],
    "bastion_user": [],
    "access_key": ["aws_access_key_id", "aws_access_key"],
    "plugin": [],
    "filters": [],
}


@pytest.mark.parametrize(
    "given, expected",
    [
        (["plugin", "env", "cluster", "regions"], []),
        (["aws_access_key_id"], []),  # an alias is an option
        (["regoins"], ["unknown option 'regoins' (did you mean 'regions'?)"]),
        (["bastion_usr", "env"], ["unknown option 'bastion_usr' (did you mean 'bastion_user'?)"]),
        (
            ["aws_acess_key_id"],
            ["unknown option 'aws_acess_key_id' (did you mean 'access_key'?)"],
        ),  # the alias's option
        (["Regions"], ["unknown option 'Regions' (did you mean 'regions'?)"]),
        (["colour", "filter"], ["unknown option 'colour'", "unknown option 'filter' (did you mean 'filters'?)"]),
    ],
)
def test_unknown_options(given, expected):
    assert ci.unknown_options(given, KNOWN) == expected


@given(st.lists(st.sampled_from(sorted({name for option, aliases in KNOWN.items() for name in [option, *aliases]}))))
def test_known_options_and_aliases_are_never_reported(given):
    assert ci.unknown_options(given, KNOWN) == []


@given(st.text(min_size=1, max_size=20))
def test_every_unknown_key_is_reported_once_by_name(key):
    names = {name for option, aliases in KNOWN.items() for name in [option, *aliases]}
    messages = ci.unknown_options([key], KNOWN)
    assert len(messages) == (0 if key in names else 1)
    assert all(message.startswith("unknown option '%s'" % key) for message in messages)
