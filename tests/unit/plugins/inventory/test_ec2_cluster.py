# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the megapool.aws.ec2_cluster inventory plugin, against moto in-process."""

from __future__ import annotations

import json
import shlex
import socket
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError
from moto import mock_aws

from ansible.errors import AnsibleError
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader
from ansible.template import Templar
from ansible.template import is_trusted_as_template
from ansible.template import trust_as_template
from ansible.utils.display import Display

from ansible_collections.megapool.aws.plugins.inventory.ec2_cluster import CACHE_FORMAT
from ansible_collections.megapool.aws.plugins.inventory.ec2_cluster import make_unsafe

PLUGIN = "megapool.aws.ec2_cluster"
ENV = "prod"
CLUSTER = "shop"
IMAGE = "ami-03cf127a"  # in moto's default AMI list (describe_images of them all is slow)


# ------------------------------------------------------------------------------------------------ fixtures and helpers


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every display warning during the test."""
    seen: list[str] = []
    original = Display.warning

    def _warning(self, msg, *args, **kwargs):
        seen.append(str(msg))
        return original(self, msg, *args, **kwargs)

    monkeypatch.setattr(Display, "warning", _warning)
    return seen


def ours(warnings: list[str]) -> list[str]:
    return [w for w in warnings if w.startswith(PLUGIN)]


class Cloud:
    """Builds VPCs and tagged instances in moto."""

    def __init__(self) -> None:
        self.clients: dict[str, Any] = {}
        self.subnets: dict[str, dict[str, str]] = {}

    def ec2(self, region: str):
        if region not in self.clients:
            self.clients[region] = boto3.client("ec2", region_name=region)
        return self.clients[region]

    def vpc(self, region: str, cidr: str = "10.0.0.0/16") -> str:
        ec2 = self.ec2(region)
        vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        base = cidr.rsplit(".", 2)[0]
        self.subnets[vpc_id] = {
            "private": ec2.create_subnet(VpcId=vpc_id, CidrBlock=base + ".0.0/24")["Subnet"]["SubnetId"],
            "public": ec2.create_subnet(VpcId=vpc_id, CidrBlock=base + ".128.0/24")["Subnet"]["SubnetId"],
        }
        return vpc_id

    def run(
        self,
        region: str,
        vpc_id: str,
        role: str | None = "app",
        count: int = 1,
        name: str | None = None,
        env: str = ENV,
        cluster: str = CLUSTER,
        **tags: str,
    ) -> list[dict[str, Any]]:
        ec2 = self.ec2(region)
        all_tags = {"megapool:env": env, "megapool:cluster": cluster}
        if role:
            all_tags["megapool:role"] = role
        if name:
            all_tags["Name"] = name
        all_tags.update({key.replace("__", ":"): value for key, value in tags.items()})
        public = role == "bastion"
        instances = []
        for _number in range(count):  # one reservation each (moto pages by reservation)
            instances += ec2.run_instances(
                ImageId=IMAGE,
                MinCount=1,
                MaxCount=1,
                NetworkInterfaces=[
                    {
                        "DeviceIndex": 0,
                        "SubnetId": self.subnets[vpc_id]["public" if public else "private"],
                        "AssociatePublicIpAddress": public,
                    }
                ],
                TagSpecifications=[
                    {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in all_tags.items()]}
                ],
            )["Instances"]
        return instances


@pytest.fixture
def cloud(aws_env):
    with mock_aws():
        yield Cloud()


def config(tmp_path: Path, name: str = "test.ec2_cluster.yml", **options: Any) -> Path:
    data = {"plugin": PLUGIN, "env": ENV, "cluster": CLUSTER, "regions": ["eu-north-1"]}
    data.update(options)
    data = {key: value for key, value in data.items() if value is not None}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def parse(path: Path, cache: bool = True) -> InventoryData:
    """What InventoryManager does with one source: parse, then write the cache."""
    plugin = inventory_loader.get(PLUGIN)
    assert plugin.verify_file(str(path))
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), str(path), cache=cache)
    try:
        plugin.update_cache_if_changed()
    except AttributeError:
        pass  # no cache configured (InventoryManager ignores this too)
    return inventory


def group(inventory: InventoryData, name: str) -> list[str]:
    return sorted(host.name for host in inventory.groups[name].get_hosts())


def host_of(inventory: InventoryData, instance_id: str):
    matches = [host for host in inventory.hosts.values() if host.vars.get("instance_id") == instance_id]
    assert len(matches) == 1, instance_id
    return matches[0]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def client_hooks(monkeypatch: pytest.MonkeyPatch):
    """``client_hooks.append(fn)``: ``fn(region, client)`` runs on every boto3 client the test creates."""
    hooks: list = []
    original = boto3.session.Session.client

    def _client(self, *args, **kwargs):
        client = original(self, *args, **kwargs)
        for hook in hooks:
            hook(client.meta.region_name, client)
        return client

    monkeypatch.setattr(boto3.session.Session, "client", _client)
    return hooks


def fail_region(region: str, code: str = "OptInRequired", message: str = "You are not subscribed to this service."):
    def hook(client_region, client):
        if client_region == region:

            def _raise(**_):
                raise ClientError({"Error": {"Code": code, "Message": message}}, "DescribeInstances")

            client.meta.events.register("before-call.ec2.DescribeInstances", _raise)

    return hook


# ------------------------------------------------------------------------------------------------ names and groups


def test_verify_file_takes_only_its_config_files(tmp_path):
    plugin = inventory_loader.get(PLUGIN)
    for name in ("ec2_cluster.yml", "prod.ec2_cluster.yaml"):
        (tmp_path / name).write_text("plugin: %s\n" % PLUGIN)
        assert plugin.verify_file(str(tmp_path / name))
    (tmp_path / "hosts.yml").write_text("all: {}\n")
    assert not plugin.verify_file(str(tmp_path / "hosts.yml"))


def test_host_names_are_unique_across_regions_and_within_an_asg(cloud, tmp_path, warnings):
    regions = ["eu-north-1", "us-east-1"]
    ids = {}
    for region in regions:
        vpc = cloud.vpc(region)
        ids[region] = [i["InstanceId"] for i in cloud.run(region, vpc, "bastion", name="bastion")]
        ids[region] += [i["InstanceId"] for i in cloud.run(region, vpc, "app", count=2, name="shop-prod-app")]

    inventory = parse(config(tmp_path, regions=regions))

    expected = sorted(
        ["bastion-" + ids[r][0] for r in regions] + ["shop-prod-app-" + i for r in regions for i in ids[r][1:]]
    )
    assert sorted(inventory.hosts) == expected
    assert ours(warnings) == []


def test_groups_role_region_az_env_cluster_asg(cloud, tmp_path):
    vpc = cloud.vpc("eu-north-1")
    bastion = cloud.run("eu-north-1", vpc, "bastion")[0]
    apps = cloud.run("eu-north-1", vpc, "app", count=2, aws__autoscaling__groupName="shop-prod-app")
    worker = cloud.run("eu-north-1", vpc, "worker-pool")[0]

    inventory = parse(config(tmp_path))

    names = {i["InstanceId"]: host_of(inventory, i["InstanceId"]).name for i in [bastion, worker] + apps}
    app_names = sorted(names[i["InstanceId"]] for i in apps)
    assert group(inventory, "app") == app_names
    assert group(inventory, "bastion") == [names[bastion["InstanceId"]]]
    assert group(inventory, "worker_pool") == [names[worker["InstanceId"]]]
    assert group(inventory, "asg_shop_prod_app") == app_names
    assert group(inventory, "eu_north_1") == sorted(names.values())
    assert group(inventory, "env_prod") == sorted(names.values())
    assert group(inventory, "cluster_shop") == sorted(names.values())
    az = bastion["Placement"]["AvailabilityZone"].replace("-", "_")
    assert names[bastion["InstanceId"]] in group(inventory, az)
    host = host_of(inventory, apps[0]["InstanceId"])
    assert host.vars["aws_region"] == "eu-north-1"
    assert host.vars["megapool_role"] == "app"
    assert host.vars["ec2_tags"]["aws:autoscaling:groupName"] == "shop-prod-app"
    assert host.vars["placement"]["region"] == "eu-north-1"
    assert "tags" not in host.vars  # a reserved name


# ------------------------------------------------------------------------------------------------ bastions and proxies


def test_private_hosts_go_through_the_bastion_of_their_own_vpc(cloud, tmp_path, warnings):
    vpc_a = cloud.vpc("eu-north-1", "10.10.0.0/16")
    vpc_b = cloud.vpc("eu-north-1", "10.11.0.0/16")
    bastion_a = cloud.run("eu-north-1", vpc_a, "bastion", name="bastion")[0]
    bastion_b = cloud.run("eu-north-1", vpc_b, "bastion", name="bastion")[0]
    app_a = cloud.run("eu-north-1", vpc_a, "app")[0]
    app_b = cloud.run("eu-north-1", vpc_b, "app")[0]

    inventory = parse(config(tmp_path))

    for app, bastion in ((app_a, bastion_a), (app_b, bastion_b)):
        host = host_of(inventory, app["InstanceId"])
        assert host.vars["ansible_host"] == app["PrivateIpAddress"]
        assert host.vars["ansible_ssh_common_args"] == (
            "-o 'ProxyCommand=ssh -W %%h:%%p -p 22 -o StrictHostKeyChecking=accept-new ec2-user@%s'"
            % bastion["PublicIpAddress"]
        )
        assert host.vars["megapool_bastion"]["instance_id"] == bastion["InstanceId"]
        bastion_host = host_of(inventory, bastion["InstanceId"])
        assert bastion_host.vars["ansible_host"] == bastion["PublicIpAddress"]
        assert bastion_host.vars["ansible_user"] == "ec2-user"
        assert "ansible_ssh_common_args" not in bastion_host.vars
    assert ours(warnings) == []


def test_bastion_private_address_jump_user_and_port(cloud, tmp_path):
    vpc = cloud.vpc("eu-north-1")
    bastion = cloud.run("eu-north-1", vpc, "bastion")[0]
    app = cloud.run("eu-north-1", vpc, "app")[0]

    inventory = parse(
        config(tmp_path, bastion_address="private_ip", bastion_proxy="jump", bastion_user="admin", bastion_port=2222)
    )

    assert host_of(inventory, bastion["InstanceId"]).vars["ansible_host"] == bastion["PrivateIpAddress"]
    assert host_of(inventory, bastion["InstanceId"]).vars["ansible_port"] == 2222
    assert (
        host_of(inventory, app["InstanceId"]).vars["ansible_ssh_common_args"]
        == "-o ProxyJump=admin@%s:2222" % bastion["PrivateIpAddress"]
    )


def test_bastion_ssh_args_reach_the_proxy_command(cloud, tmp_path):
    vpc = cloud.vpc("eu-north-1")
    bastion = cloud.run("eu-north-1", vpc, "bastion")[0]
    app = cloud.run("eu-north-1", vpc, "app")[0]

    inventory = parse(
        config(
            tmp_path, bastion_ssh_args="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -i '/tmp/my key'"
        )
    )

    option, value = shlex.split(host_of(inventory, app["InstanceId"]).vars["ansible_ssh_common_args"])
    assert option == "-o"
    assert shlex.split(value.split("=", 1)[1]) == [
        "ssh",
        "-W",
        "%h:%p",
        "-p",
        "22",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-i",
        "/tmp/my key",
        "ec2-user@" + bastion["PublicIpAddress"],
    ]


def test_a_vpc_without_bastion_is_a_warning_and_no_proxy(cloud, tmp_path, warnings):
    vpc_a = cloud.vpc("eu-north-1", "10.10.0.0/16")
    vpc_b = cloud.vpc("eu-north-1", "10.11.0.0/16")
    cloud.run("eu-north-1", vpc_a, "bastion")
    lonely = cloud.run("eu-north-1", vpc_b, "app")[0]

    inventory = parse(config(tmp_path))

    host = host_of(inventory, lonely["InstanceId"])
    assert "ansible_ssh_common_args" not in host.vars
    assert host.vars["ansible_host"] == lonely["PrivateIpAddress"]
    assert ours(warnings) == [
        "%s: no running bastion (tag megapool:role=bastion) found in VPC %s (eu-north-1): 1 host (%s) get no proxy; "
        "ansible_host is the private IP, reachable only from inside the VPC or over a VPN." % (PLUGIN, vpc_b, host.name)
    ]


def test_ssm_connection_reaches_hosts_by_instance_id_without_a_bastion(cloud, tmp_path, warnings):
    vpc_a = cloud.vpc("eu-north-1", "10.10.0.0/16")
    vpc_b = cloud.vpc("eu-north-1", "10.11.0.0/16")
    bastion = cloud.run("eu-north-1", vpc_a, "bastion")[0]
    app_a = cloud.run("eu-north-1", vpc_a, "app")[0]
    lonely = cloud.run("eu-north-1", vpc_b, "app")[0]  # no bastion in its VPC: no warning with SSM

    inventory = parse(config(tmp_path, connection="ssm", ssm_bucket_name="megapool-ssm"))

    for app in (app_a, lonely):
        host = host_of(inventory, app["InstanceId"])
        assert {key: host.vars[key] for key in host.vars if key.startswith("ansible_")} == {
            "ansible_connection": "amazon.aws.aws_ssm",
            "ansible_host": app["InstanceId"],
            "ansible_aws_ssm_instance_id": app["InstanceId"],
            "ansible_aws_ssm_region": "eu-north-1",
            "ansible_aws_ssm_bucket_name": "megapool-ssm",
        }
        assert "megapool_bastion" not in host.vars
    bastion_host = host_of(inventory, bastion["InstanceId"])  # no instance profile: stays on SSH
    assert bastion_host.vars["ansible_host"] == bastion["PublicIpAddress"]
    assert "ansible_connection" not in bastion_host.vars
    assert ours(warnings) == []


def test_ssm_bastions_and_plugin_path(cloud, tmp_path):
    vpc = cloud.vpc("ap-southeast-1")
    bastion = cloud.run("ap-southeast-1", vpc, "bastion")[0]

    inventory = parse(
        config(
            tmp_path,
            regions=["ap-southeast-1"],
            connection="ssm",
            ssm_bucket_name="b",
            ssm_bastions=True,
            ssm_plugin="/opt/ssm/session-manager-plugin",
        )
    )

    variables = host_of(inventory, bastion["InstanceId"]).vars
    assert (
        variables["ansible_connection"] == "amazon.aws.aws_ssm" and variables["ansible_host"] == bastion["InstanceId"]
    )
    assert variables["ansible_aws_ssm_region"] == "ap-southeast-1"
    assert variables["ansible_aws_ssm_plugin"] == "/opt/ssm/session-manager-plugin"
    assert "ansible_user" not in variables


# ------------------------------------------------------------------------------------------------ querying


def test_one_filtered_query_per_region_and_stopped_instances_left_out(cloud, tmp_path, aws_calls):
    vpc = cloud.vpc("eu-north-1")
    running = cloud.run("eu-north-1", vpc, "app")[0]
    stopped = cloud.run("eu-north-1", vpc, "app")[0]
    cloud.ec2("eu-north-1").stop_instances(InstanceIds=[stopped["InstanceId"]])
    cloud.run("eu-north-1", vpc, "app", env="staging")
    cloud.run("eu-north-1", vpc, "app", cluster="other")
    cloud.vpc("us-east-1")
    aws_calls.clear()

    inventory = parse(config(tmp_path, regions=["eu-north-1", "us-east-1"]))

    assert [host.vars["instance_id"] for host in inventory.hosts.values()] == [running["InstanceId"]]
    describes = aws_calls.of("DescribeInstances")
    assert sorted(call.region for call in describes) == ["eu-north-1", "us-east-1"]
    assert aws_calls.operations() == ["DescribeInstances", "DescribeInstances"]
    filters = {f["Name"]: f["Values"] for f in describes[0].params["Filters"]}
    assert filters == {
        "tag:megapool:env": [ENV],
        "tag:megapool:cluster": [CLUSTER],
        "instance-state-name": ["pending", "running"],
    }
    assert "megapool.aws/" in describes[0].user_agent


def test_pagination_reads_every_page(cloud, tmp_path, aws_calls):
    vpc = cloud.vpc("eu-north-1")
    apps = cloud.run("eu-north-1", vpc, "app", count=7)
    aws_calls.clear()

    inventory = parse(config(tmp_path, page_size=5))

    assert sorted(host.vars["instance_id"] for host in inventory.hosts.values()) == sorted(
        i["InstanceId"] for i in apps
    )
    pages = aws_calls.of("DescribeInstances")
    assert len(pages) == 2
    assert [page.params["MaxResults"] for page in pages] == [5, 5]
    assert "NextToken" in pages[1].params


def test_regions_are_queried_at_the_same_time(cloud, tmp_path, client_hooks):
    """Each DescribeInstances waits (up to 5 s) until all three regions' calls are in flight."""
    regions = ["eu-north-1", "us-east-1", "ap-southeast-1"]
    for region in regions:
        cloud.run(region, cloud.vpc(region), "app")
    lock = threading.Condition()
    state = {"in_flight": 0, "max": 0}

    def before(**_):
        with lock:
            state["in_flight"] += 1
            state["max"] = max(state["max"], state["in_flight"])
            lock.notify_all()
            lock.wait_for(lambda: state["in_flight"] >= len(regions), timeout=5)

    def after(**_):
        with lock:
            state["in_flight"] -= 1

    def hook(region, client):
        client.meta.events.register("before-call.ec2.DescribeInstances", before)
        client.meta.events.register("after-call.ec2.DescribeInstances", after)

    client_hooks.append(hook)

    inventory = parse(config(tmp_path, regions=regions))

    assert state["max"] == 3
    assert len(inventory.hosts) == 3


def test_max_workers_bounds_the_regions_in_flight(cloud, tmp_path, client_hooks):
    regions = ["eu-north-1", "us-east-1", "ap-southeast-1"]
    lock = threading.Lock()
    state = {"in_flight": 0, "max": 0}

    def before(**_):
        with lock:
            state["in_flight"] += 1
            state["max"] = max(state["max"], state["in_flight"])

    def after(**_):
        with lock:
            state["in_flight"] -= 1

    def hook(region, client):
        client.meta.events.register("before-call.ec2.DescribeInstances", before)
        client.meta.events.register("after-call.ec2.DescribeInstances", after)

    client_hooks.append(hook)
    parse(config(tmp_path, regions=regions, max_workers=1))
    assert state["max"] == 1


# ------------------------------------------------------------------------------------------------ failing regions


def test_a_failing_region_is_skipped_with_a_warning(cloud, tmp_path, client_hooks, warnings):
    app = cloud.run("eu-north-1", cloud.vpc("eu-north-1"), "app")[0]
    cloud.run("ap-southeast-1", cloud.vpc("ap-southeast-1"), "app")
    client_hooks.append(fail_region("ap-southeast-1"))

    inventory = parse(config(tmp_path, regions=["eu-north-1", "ap-southeast-1"]))

    assert [host.vars["instance_id"] for host in inventory.hosts.values()] == [app["InstanceId"]]
    assert [w for w in ours(warnings) if "skipping" in w] == [
        "%s: skipping region ap-southeast-1: OptInRequired: You are not subscribed to this service. "
        "(the region is not enabled for this account; enable it or remove it from the regions)" % PLUGIN
    ]


def test_strict_regions_fails_on_a_failing_region(cloud, tmp_path, client_hooks):
    cloud.run("eu-north-1", cloud.vpc("eu-north-1"), "app")
    client_hooks.append(
        fail_region("ap-southeast-1", "AuthFailure", "AWS was not able to validate the provided access credentials")
    )

    with pytest.raises(AnsibleParserError) as error:
        parse(config(tmp_path, regions=["eu-north-1", "ap-southeast-1"], strict_regions=True))

    message = str(error.value)
    assert "could not query ap-southeast-1 (endpoint the AWS default endpoints): AuthFailure" in message
    assert "strict_regions is true" in message


def test_a_failed_result_is_not_cached(cloud, tmp_path, client_hooks, aws_calls):
    cloud.run("eu-north-1", cloud.vpc("eu-north-1"), "app")
    hook = fail_region("ap-southeast-1")
    client_hooks.append(hook)
    path = config(
        tmp_path,
        regions=["eu-north-1", "ap-southeast-1"],
        cache=True,
        cache_plugin="ansible.builtin.jsonfile",
        cache_connection=str(tmp_path / "cache"),
    )
    parse(path)
    client_hooks.remove(hook)
    aws_calls.clear()

    parse(path)

    assert len(aws_calls.of("DescribeInstances")) == 2


@pytest.fixture
def no_retry_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's standard-mode backoff without the pauses: all 10 attempts, at once."""
    import botocore.retries.standard  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


def test_unreachable_endpoint_is_a_clear_error_naming_it(aws_env, tmp_path, no_retry_pause):
    endpoint = "http://127.0.0.1:%d" % closed_port()

    with pytest.raises(AnsibleParserError) as error:
        parse(config(tmp_path, regions=["eu-north-1", "us-east-1"], endpoint_url=endpoint))

    assert str(error.value) == (
        '%s: could not query eu-north-1, us-east-1 (endpoint %s): Could not connect to the endpoint URL: "%s/" (no region answered).'
        % (PLUGIN, endpoint, endpoint)
    )


# ------------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "options, expected",
    [
        (
            {"regions": ["eu-north-1", "eu-nort-1"]},
            "regions: unknown AWS region eu-nort-1 (known regions starting with eu-:",
        ),
        (
            {"regions": ["mars-north-1"]},
            "regions: unknown AWS region mars-north-1. Use region names such as eu-north-1",
        ),
        ({"regions": []}, "regions is empty: list the AWS regions of the environment"),
        ({"env": ""}, "env must be a non-empty string"),
        ({"page_size": 3}, "page_size must be between 5 and 1000"),
        ({"max_workers": 0}, "max_workers must be 1 or more"),
        ({"bastion_port": 0}, "bastion_port must be a TCP port"),
        ({"filters": ["tag:x"]}, "filters"),
        (
            {"bastion_ssh_args": "-i '/tmp/key"},
            "bastion_ssh_args cannot be split like a shell would (No closing quotation)",
        ),
        ({"connection": "ssm"}, "connection: ssm needs ssm_bucket_name"),
        ({"connection": "ssm", "ssm_bucket_name": " "}, "Set ssm_bucket_name: <bucket>"),
    ],
)
def test_bad_options_fail_before_any_aws_call(aws_env, tmp_path, aws_calls, options, expected):
    with pytest.raises(AnsibleError) as error:
        parse(config(tmp_path, **options))
    assert expected in str(error.value)
    assert aws_calls == []


@pytest.mark.parametrize(
    "options, expected",
    [
        ({"regoins": ["eu-north-1"]}, "unknown option 'regoins' (did you mean 'regions'?)"),
        ({"bastion_usr": "admin"}, "unknown option 'bastion_usr' (did you mean 'bastion_user'?)"),
        ({"conection": "ssm", "ssm_bucket_name": "b"}, "unknown option 'conection' (did you mean 'connection'?)"),
        ({"colour": "blue"}, "unknown option 'colour'; Ansible ignores it"),
    ],
)
def test_an_unknown_option_is_a_warning_with_a_suggestion(cloud, tmp_path, warnings, options, expected):
    path = config(tmp_path, **options)
    parse(path)
    assert [w for w in ours(warnings) if "unknown option" in w] == [
        "%s: %s: %s" % (PLUGIN, path, expected)
        + ("" if expected.endswith("ignores it") else "; Ansible ignores it")
        + ". The options are listed by `ansible-doc -t inventory %s`." % PLUGIN
    ]


def test_known_options_and_their_aliases_are_no_warning(cloud, tmp_path, warnings):
    # aws_access_key_id / aws_secret_access_key are amazon.aws's aliases of access_key / secret_key; cache options too.
    parse(
        config(
            tmp_path,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            strict=False,
            compose={},
            keyed_groups=[],
            cache=False,
            bastion_proxy="jump",
            page_size=100,
        )
    )
    assert not [w for w in warnings if "unknown option" in w]


def test_one_boto3_session_for_all_regions(cloud, tmp_path, monkeypatch):
    sessions: list[int] = []
    original = boto3.session.Session.client

    def _client(self, *args, **kwargs):
        sessions.append(id(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(boto3.session.Session, "client", _client)
    parse(config(tmp_path, regions=["eu-north-1", "us-east-1", "ap-southeast-1", "eu-west-1"]))

    # amazon.aws's client() makes a session (which loads and parses the EC2 model again) per client.
    assert len(sessions) == 4 and len(set(sessions)) == 1


def test_a_missing_profile_is_a_clear_error(aws_env, tmp_path, aws_calls, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(
        AnsibleParserError, match="could not make the EC2 clients: The config profile \\(nosuch\\) could not be found"
    ):
        parse(config(tmp_path, profile="nosuch"))
    assert aws_calls == []


def test_missing_regions_option(aws_env, tmp_path, aws_calls):
    path = tmp_path / "ec2_cluster.yml"
    path.write_text("plugin: %s\nenv: prod\ncluster: shop\n" % PLUGIN)
    with pytest.raises(AnsibleError, match="regions"):
        parse(path)
    assert aws_calls == []


def test_a_filter_on_a_tag_nobody_has_gives_an_empty_inventory(cloud, tmp_path, warnings):
    cloud.run("eu-north-1", cloud.vpc("eu-north-1"), "app")

    assert parse(config(tmp_path, filters={"tag:no-such-tag": "x"})).hosts == {}
    assert parse(config(tmp_path, env="no-such-env")).hosts == {}
    assert ours(warnings) == []


def test_filters_are_server_side_and_replace_same_name(cloud, tmp_path, aws_calls):
    vpc = cloud.vpc("eu-north-1")
    cloud.run("eu-north-1", vpc, "bastion")
    app = cloud.run("eu-north-1", vpc, "app")[0]
    aws_calls.clear()

    inventory = parse(config(tmp_path, filters={"tag:megapool:role": "app", "instance-state-name": "running"}))

    assert [host.vars["instance_id"] for host in inventory.hosts.values()] == [app["InstanceId"]]
    filters = {f["Name"]: f["Values"] for f in aws_calls.of("DescribeInstances")[0].params["Filters"]}
    assert filters["tag:megapool:role"] == ["app"] and filters["instance-state-name"] == ["running"]


# ------------------------------------------------------------------------------------------------ cache


def cached_config(tmp_path: Path, **options: Any) -> Path:
    return config(
        tmp_path,
        cache=True,
        cache_plugin="ansible.builtin.jsonfile",
        cache_connection=str(tmp_path / "cache"),
        **options,
    )


def read_entry(cache_file: Path) -> Any:
    """A cache entry as the jsonfile cache plugin stores it (ansible-core 2.19: JSON in a JSON payload)."""
    data = json.loads(cache_file.read_text(encoding="utf-8"))
    return json.loads(data["__payload__"]) if "__payload__" in data else data


def write_entry(cache_file: Path, entry: Any) -> None:
    data = json.loads(cache_file.read_text(encoding="utf-8"))
    cache_file.write_text(
        json.dumps({"__payload__": json.dumps(entry)} if "__payload__" in data else entry), encoding="utf-8"
    )


def test_a_warm_cache_makes_no_aws_call(cloud, tmp_path, aws_calls):
    vpc = cloud.vpc("eu-north-1")
    cloud.run("eu-north-1", vpc, "bastion")
    cloud.run("eu-north-1", vpc, "app", count=2)
    path = cached_config(tmp_path, assume_role_arn="arn:aws:iam::123456789012:role/inventory")
    aws_calls.clear()
    first = parse(path)
    assert aws_calls.operations() == ["AssumeRole", "DescribeInstances"]
    aws_calls.clear()

    second = parse(path)

    assert aws_calls == []
    assert sorted(second.hosts) == sorted(first.hosts)
    for name, host in first.hosts.items():
        assert second.hosts[name].vars == host.vars
    assert group(second, "app") == group(first, "app")


def test_flush_cache_queries_again(cloud, tmp_path, aws_calls):
    cloud.run("eu-north-1", cloud.vpc("eu-north-1"), "app")
    path = cached_config(tmp_path)
    parse(path)
    cloud.run("eu-north-1", cloud.vpc("eu-north-1", "10.1.0.0/16"), "app")
    aws_calls.clear()

    assert len(parse(path, cache=False).hosts) == 2  # --flush-cache / refresh_inventory
    assert aws_calls.operations() == ["DescribeInstances"]
    aws_calls.clear()
    assert len(parse(path).hosts) == 2  # and the cache holds the new result
    assert aws_calls == []


def test_a_cache_entry_of_another_query_is_not_used(cloud, tmp_path, aws_calls, warnings):
    cloud.run("eu-north-1", cloud.vpc("eu-north-1"), "app")
    cloud.run("us-east-1", cloud.vpc("us-east-1"), "app")
    parse(cached_config(tmp_path))
    aws_calls.clear()

    inventory = parse(cached_config(tmp_path, regions=["eu-north-1", "us-east-1"]))  # same file, other regions

    assert len(inventory.hosts) == 2
    assert len(aws_calls.of("DescribeInstances")) == 2
    assert [w for w in ours(warnings) if "cache" in w] == []  # stale, not malformed: no warning


def test_an_unreadable_cache_file_is_ignored_with_a_warning_and_refreshed(cloud, tmp_path, aws_calls, warnings):
    cloud.run("eu-north-1", cloud.vpc("eu-north-1"), "app")
    path = cached_config(tmp_path)
    parse(path)
    (cache_file,) = (tmp_path / "cache").iterdir()
    cache_file.write_text("{not json", encoding="utf-8")
    aws_calls.clear()

    inventory = parse(path)

    assert len(inventory.hosts) == 1
    assert aws_calls.operations() == ["DescribeInstances"]
    assert any(
        "ignoring the inventory cache, it could not be read" in w and "querying AWS again" in w for w in ours(warnings)
    )
    aws_calls.clear()
    parse(path)
    assert aws_calls == []  # refreshed: warm again
    assert read_entry(cache_file)["format"] == CACHE_FORMAT


@pytest.mark.parametrize(
    "entry",
    [
        ["a", "list"],
        {"format": "something-else"},
        {"format": CACHE_FORMAT, "query": None, "regions": {"eu-north-1": [{"no": "instance id"}]}},
        {"format": CACHE_FORMAT, "query": None, "regions": "eu-north-1"},
    ],
)
def test_a_malformed_cache_entry_is_ignored_with_a_warning(cloud, tmp_path, aws_calls, warnings, entry):
    cloud.run("eu-north-1", cloud.vpc("eu-north-1"), "app")
    path = cached_config(tmp_path)
    parse(path)
    (cache_file,) = (tmp_path / "cache").iterdir()
    stored = read_entry(cache_file)
    assert set(stored) == {"format", "query", "regions"}
    if isinstance(entry, dict) and entry.get("query", 0) is None:
        entry["query"] = stored["query"]
    write_entry(cache_file, entry)
    aws_calls.clear()

    inventory = parse(path)

    assert len(inventory.hosts) == 1
    assert aws_calls.operations() == ["DescribeInstances"]
    assert any("ignoring the inventory cache entry" in w and "malformed" in w for w in ours(warnings))


def test_a_cache_file_in_another_format_is_a_miss(cloud, tmp_path, aws_calls):
    cloud.run("eu-north-1", cloud.vpc("eu-north-1"), "app")
    path = cached_config(tmp_path)
    parse(path)
    (cache_file,) = (tmp_path / "cache").iterdir()
    cache_file.write_text(json.dumps({"some": "thing"}), encoding="utf-8")
    aws_calls.clear()

    assert len(parse(path).hosts) == 1
    assert aws_calls.operations() == ["DescribeInstances"]


def test_the_cache_holds_plain_data(cloud, tmp_path):
    cloud.run("eu-north-1", cloud.vpc("eu-north-1"), "app")
    path = cached_config(tmp_path)
    parse(path)
    (cache_file,) = (tmp_path / "cache").iterdir()
    assert "TrustedAsTemplate" not in cache_file.read_text(encoding="utf-8")
    entry = read_entry(cache_file)
    assert entry["query"] == {"env": ENV, "cluster": CLUSTER, "regions": ["eu-north-1"], "filters": {}}
    assert [i["tags"]["megapool:role"] for i in entry["regions"]["eu-north-1"]] == ["app"]


# ------------------------------------------------------------------------------------------------ unsafe data


def test_make_unsafe_removes_template_trust():
    value = make_unsafe({"a": [trust_as_template("{{ 6 * 7 }}")]})
    assert value == {"a": ["{{ 6 * 7 }}"]}
    assert not is_trusted_as_template(value["a"][0])


def test_aws_strings_are_never_templated(cloud, tmp_path):
    vpc = cloud.vpc("eu-north-1")
    cloud.run("eu-north-1", vpc, "app", name="{{ 6 * 7 }}", megapool__release="{{ lookup('pipe', 'echo pwned') }}")
    path = config(tmp_path, compose={"release_label": "ec2_tags['megapool:release']"})

    manager = InventoryManager(loader=DataLoader(), sources=[str(path)])

    (host,) = [h for h in manager.get_hosts() if h.vars.get("megapool_role") == "app"]
    assert host.name.startswith("6_7-i-")  # sanitized, never evaluated
    for value in (host.vars["ec2_tags"]["Name"], host.vars["ec2_tags"]["megapool:release"], host.vars["release_label"]):
        assert not is_trusted_as_template(value)
    templar = Templar(loader=DataLoader(), variables=host.vars)
    assert templar.template(trust_as_template("{{ ec2_tags.Name }}")) == "{{ 6 * 7 }}"
    assert templar.template(trust_as_template("{{ release_label }}")) == "{{ lookup('pipe', 'echo pwned') }}"


def test_aws_strings_from_a_warm_cache_are_never_templated(cloud, tmp_path, aws_calls):
    cloud.run("eu-north-1", cloud.vpc("eu-north-1"), "app", megapool__release="{{ 6 * 7 }}")
    path = cached_config(tmp_path)
    parse(path)
    aws_calls.clear()

    inventory = parse(path)

    assert aws_calls == []
    (host,) = [h for h in inventory.hosts.values() if h.vars.get("megapool_role") == "app"]
    assert not is_trusted_as_template(host.vars["ec2_tags"]["megapool:release"])
    templar = Templar(loader=DataLoader(), variables=host.vars)
    assert templar.template(trust_as_template("{{ ec2_tags['megapool:release'] }}")) == "{{ 6 * 7 }}"


def test_option_values_set_as_host_variables_are_never_templated(cloud, tmp_path):
    """The config file is read as trusted templates; what the plugin copies from it onto hosts must not be."""
    vpc = cloud.vpc("eu-north-1")
    cloud.run("eu-north-1", vpc, "bastion")
    cloud.run("eu-north-1", vpc, "app")
    path = config(tmp_path, bastion_user="{{ 6 * 7 }}", bastion_ssh_args="-o User={{ 6 * 7 }}")

    manager = InventoryManager(loader=DataLoader(), sources=[str(path)])

    (app,) = [h for h in manager.get_hosts() if h.vars.get("megapool_role") == "app"]
    (bastion,) = [h for h in manager.get_hosts() if h.vars.get("megapool_role") == "bastion"]
    assert not is_trusted_as_template(bastion.vars["ansible_user"])
    assert not is_trusted_as_template(app.vars["ansible_ssh_common_args"])
    templar = Templar(loader=DataLoader(), variables=bastion.vars)
    assert templar.template(trust_as_template("{{ ansible_user }}")) == "{{ 6 * 7 }}"


# ------------------------------------------------------------------------------------------------ constructed


def test_hostname_template_keyed_groups_compose_and_groups(cloud, tmp_path):
    vpc = cloud.vpc("eu-north-1")
    cloud.run("eu-north-1", vpc, "bastion")
    apps = cloud.run("eu-north-1", vpc, "app", count=2, megapool__release="1.4.2")

    inventory = parse(
        config(
            tmp_path,
            hostname_template="ec2_tags['megapool:role'] ~ '-' ~ placement.region",
            keyed_groups=[{"key": "ec2_tags['megapool:release'] | default('none')", "prefix": "release"}],
            compose={"node_ip": "private_ip_address"},
            groups={"has_proxy": "ansible_ssh_common_args is defined"},
        )
    )

    app_names = sorted("app-eu-north-1-" + i["InstanceId"] for i in apps)
    assert sorted(inventory.hosts) == sorted(app_names + ["bastion-eu-north-1"])
    assert group(inventory, "release_1_4_2") == app_names
    assert group(inventory, "release_none") == ["bastion-eu-north-1"]
    assert group(inventory, "has_proxy") == app_names
    assert host_of(inventory, apps[0]["InstanceId"]).vars["node_ip"] == apps[0]["PrivateIpAddress"]


def test_a_failing_hostname_template_keeps_the_default_unless_strict(cloud, tmp_path):
    app = cloud.run("eu-north-1", cloud.vpc("eu-north-1"), "app")[0]

    inventory = parse(config(tmp_path, hostname_template="ec2_tags['missing'] ~ 'x'"))
    assert list(inventory.hosts) == ["app-" + app["InstanceId"]]

    with pytest.raises(AnsibleParserError, match="hostname_template failed for " + app["InstanceId"]):
        parse(config(tmp_path, hostname_template="ec2_tags['missing'] ~ 'x'", strict=True))
