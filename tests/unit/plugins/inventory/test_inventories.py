# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventories the project ships: each environment's ec2_cluster.yml matches its hosts.yml and group_vars, and
``-i inventories/local`` brings region hosts and instances together, quietly, from the emulator on
$MEGAPOOL_EMULATOR_PORT (a moto server in a thread here)."""

from __future__ import annotations

import configparser
import socket
import urllib.request
from pathlib import Path

import boto3
import pytest
import yaml
from moto.server import ThreadedMotoServer

from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader
from ansible.utils.display import Display

from ansible_collections.megapool.aws.plugins.module_utils.regions import regions_error

ROOT = Path(__file__).resolve().parents[4]
ENVIRONMENTS = ("local", "staging", "prod")


def _yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_plugin_config_matches_the_environment(env):
    inventory = ROOT / "inventories" / env
    plugin_config = _yaml(inventory / "ec2_cluster.yml")
    hosts = _yaml(inventory / "hosts.yml")
    settings = _yaml(inventory / "group_vars" / "all" / "megapool.yml")

    assert plugin_config["plugin"] == "megapool.aws.ec2_cluster"
    assert plugin_config["regions"] == list(hosts["regions"]["hosts"])
    assert regions_error(plugin_config["regions"]) is None
    assert plugin_config["env"] == settings["megapool_env"] == env
    assert plugin_config["cluster"] == settings["megapool_cluster"]
    assert inventory_loader.get("megapool.aws.ec2_cluster").verify_file(str(inventory / "ec2_cluster.yml"))


def test_ansible_cfg_lets_auto_pick_the_plugin_config_up():
    parser = configparser.ConfigParser()
    parser.read(ROOT / "ansible.cfg")
    enabled = [name.strip() for name in parser.get("inventory", "enable_plugins").split(",")]
    assert "ansible.builtin.auto" in enabled or "megapool.aws.ec2_cluster" in enabled


def test_the_yaml_inventory_plugin_declines_the_plugin_config():
    yaml_plugin = inventory_loader.get("ansible.builtin.yaml")
    path = str(ROOT / "inventories" / "local" / "ec2_cluster.yml")
    assert yaml_plugin.verify_file(path)  # a .yml file: it tries ...
    with pytest.raises(AnsibleParserError, match="Plugin configuration YAML file, not YAML inventory"):
        yaml_plugin.parse(InventoryData(), DataLoader(), path)  # ... and steps aside for the plugin (auto)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def emulator(aws_env, monkeypatch):
    """A moto server on a free port, as $MEGAPOOL_EMULATOR_PORT."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    monkeypatch.setenv("MEGAPOOL_EMULATOR_PORT", str(port))
    try:
        yield "http://127.0.0.1:%d" % port
    finally:
        urllib.request.urlopen(
            urllib.request.Request("http://127.0.0.1:%d/moto-api/reset" % port, method="POST")
        ).close()
        server.stop()


@pytest.fixture
def warnings(monkeypatch):
    seen: list[str] = []
    monkeypatch.setattr(Display, "warning", lambda self, msg, *args, **kwargs: seen.append(str(msg)))
    monkeypatch.setattr(
        Display, "error_as_warning", lambda self, msg, exception, **kwargs: seen.append("%s %s" % (msg, exception))
    )
    return seen


def test_the_local_inventory_brings_region_hosts_and_instances_together(emulator, warnings):
    ec2 = boto3.client("ec2", region_name="ap-southeast-1", endpoint_url=emulator)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.128.0/24")["Subnet"]["SubnetId"]
    private = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.0.0/24")["Subnet"]["SubnetId"]
    tags = {"megapool:env": "local", "megapool:cluster": "megapool"}

    def run(subnet, role, public_ip):
        spec = [
            {
                "ResourceType": "instance",
                "Tags": [{"Key": k, "Value": v} for k, v in dict(tags, **{"megapool:role": role}).items()],
            }
        ]
        network = [{"DeviceIndex": 0, "SubnetId": subnet, "AssociatePublicIpAddress": public_ip}]
        return ec2.run_instances(
            ImageId="ami-03cf127a", MinCount=1, MaxCount=1, NetworkInterfaces=network, TagSpecifications=spec
        )["Instances"][0]

    bastion = run(public, "bastion", True)
    app = run(private, "app", False)

    manager = InventoryManager(loader=DataLoader(), sources=[str(ROOT / "inventories" / "local")])

    assert sorted(host.name for host in manager.groups["regions"].get_hosts()) == ["ap-southeast-1", "eu-north-1"]
    assert [host.name for host in manager.groups["app"].get_hosts()] == ["app-" + app["InstanceId"]]
    assert [host.name for host in manager.groups["bastion"].get_hosts()] == ["bastion-" + bastion["InstanceId"]]
    assert (
        "ec2-user@" + bastion["PublicIpAddress"]
        in manager.get_host("app-" + app["InstanceId"]).vars["ansible_ssh_common_args"]
    )
    assert warnings == []  # the yaml plugin steps aside quietly, nothing else to say


def test_the_local_inventory_without_emulator_names_the_endpoint(aws_env, monkeypatch, warnings):
    import botocore.retries.standard  # pylint: disable=import-outside-toplevel

    # All 10 attempts of the retry policy (botocore standard mode), without its pauses.
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    port = _free_port()
    monkeypatch.setenv("MEGAPOOL_EMULATOR_PORT", str(port))

    manager = InventoryManager(loader=DataLoader(), sources=[str(ROOT / "inventories" / "local")])

    assert sorted(host.name for host in manager.get_hosts()) == [
        "ap-southeast-1",
        "eu-north-1",
    ]  # hosts.yml still there
    ours = [w for w in warnings if "megapool.aws.ec2_cluster:" in w]
    assert ours and all(
        "(endpoint http://127.0.0.1:%d): Could not connect to the endpoint URL" % port in w for w in ours
    )
