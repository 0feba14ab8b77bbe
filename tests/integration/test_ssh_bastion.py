# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory plugin reaches private hosts through their own VPC's bastion: real OpenSSH, real sshd.

The test builds two "regions" of network namespaces (netns.py), runs an sshd with a throw-away key in every
bastion and app namespace, creates the matching instances in the emulator, builds the inventory with
megapool.aws.ec2_cluster and runs `ansible -m ping` and a command through it. It proves that the private hosts
answer through their bastion (their sshd logs the bastion as the client, the command ran in the app namespace)
and that a direct connection to them fails.

Both ways the plugin proxies are proven:
- bastion_proxy=command (the default): `ProxyCommand=ssh -W %h:%p ... <bastion_ssh_args> user@bastion`; the plugin's
  bastion_ssh_args carry the throw-away key and known-hosts settings to the bastion hop, Ansible's own -o options to
  the private host;
- bastion_proxy=jump: `ProxyJump=user@bastion:port`. OpenSSH runs the jump hop as
  `ssh -l user -p port [-F file] [-v] -W '[%h]:%p' bastion`: it gets none of the outer command's `-o` options or `-i`
  (not ConnectTimeout either), so the settings reach both hops through an ssh config file given with -F in
  ANSIBLE_SSH_ARGS.
Either way the client never reads or writes ~/.ssh/known_hosts.
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import sys

import pytest
import yaml
from conftest import client
from netns import CLUSTER, ENV, PLAN, Lab, adhoc_results, ansible, require_lab_prerequisites

# The bastion lab routes fixed prefixes in the root namespace: one lab at a time (one xdist worker for both files).
pytestmark = pytest.mark.xdist_group("netns")

IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")
CONNECTION_VARS = ("ansible_host", "ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_ssh_args")


@pytest.fixture
def lab(tmp_path):
    require_lab_prerequisites()
    with Lab(tmp_path) as built:
        yield built


def _keypair(tmp_path):
    key = tmp_path / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "megapool-itest", "-f", str(key)], check=True, timeout=20
    )
    authorized = tmp_path / "authorized_keys"
    authorized.write_text((tmp_path / "id_ed25519.pub").read_text())
    return key, authorized


def _ssh_config(tmp_path, key):
    """Client settings for every hop (the jump hop reads only this file, not the command line's -o options)."""
    config = tmp_path / "ssh_config"
    config.write_text(
        "Host *\n"
        "    IdentityFile %s\n"
        "    IdentitiesOnly yes\n"
        "    UserKnownHostsFile /dev/null\n"
        "    GlobalKnownHostsFile /dev/null\n"
        "    StrictHostKeyChecking no\n"
        "    BatchMode yes\n"
        "    ConnectTimeout 5\n"
        "    LogLevel ERROR\n" % key
    )
    return config


NO_KNOWN_HOSTS = (
    "-o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o BatchMode=yes"
)


def _inventory_config(tmp_path, emulator, key, proxy):
    config = {
        "plugin": "megapool.aws.ec2_cluster",
        "endpoint_url": emulator,
        "access_key": "testing",
        "secret_key": "testing",
        "regions": [region.region for region in PLAN],
        "env": ENV,
        "cluster": CLUSTER,
        "strict_regions": True,
        # The emulator gives bastions random public addresses; the test's bastions answer on their private one.
        "bastion_address": "private_ip",
        "bastion_user": "root",
        "bastion_proxy": proxy,
        "compose": {"ansible_user": "'root'", "ansible_ssh_private_key_file": "'%s'" % key},
    }
    if proxy == "command":
        config["bastion_ssh_args"] = "-o StrictHostKeyChecking=no %s -i %s" % (NO_KNOWN_HOSTS, key)
    path = tmp_path / "itest.ec2_cluster.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _plain(mapping: dict):
    """ansible-inventory (ansible-core 2.19) writes values from an inventory plugin, never trusted as templates,
    as {"__ansible_unsafe": value}; the test compares the values."""
    return mapping["__ansible_unsafe"] if set(mapping) == {"__ansible_unsafe"} else mapping


def _connection_addresses(hostvars: dict) -> set[str]:
    """Every IPv4 literal ssh would be pointed at for this host (its address and any jump/proxy target)."""
    found = set()
    for name in CONNECTION_VARS:
        found.update(IPV4.findall(str(hostvars.get(name) or "")))
    return found


@pytest.mark.parametrize("proxy", ["command", "jump"])
def test_private_hosts_answer_through_their_bastion_only(proxy, lab, empty_emulator, tmp_path):
    key, authorized = _keypair(tmp_path)
    sshd_logs = {}
    for region in PLAN:
        sshd_logs[region.bastion_ip] = lab.start_sshd(lab.bastion_ns[region.region], region.bastion_ip, authorized)
        for address in region.app_ips:
            sshd_logs[address] = lab.start_sshd(lab.app_ns[address], address, authorized)
    lab.create_instances(client)
    bastion_of = {address: region.bastion_ip for region in PLAN for address in region.app_ips}
    ssh_config = _ssh_config(tmp_path, key)
    inventory = _inventory_config(tmp_path, empty_emulator, key, proxy)

    # The inventory the plugin builds: every app host by its private address, every bastion by its private
    # address, nothing else (the other cluster's, the other env's and the stopped instance are left out).
    listing = ansible("ansible-inventory", "-i", str(inventory), "--list")
    assert listing.returncode == 0, listing.stdout[-3000:] + listing.stderr[-3000:]
    data = json.loads(listing.stdout, object_hook=_plain)
    hostvars = data["_meta"]["hostvars"]
    app_hosts = {hostvars[host].get("ansible_host", host): host for host in data.get("app", {}).get("hosts", [])}
    bastion_hosts = {
        hostvars[host].get("ansible_host", host): host for host in data.get("bastion", {}).get("hosts", [])
    }
    assert sorted(app_hosts) == sorted(bastion_of), data
    assert sorted(bastion_hosts) == sorted(region.bastion_ip for region in PLAN), data

    # Before anything connects: ssh may only ever be pointed at addresses of the test's own namespaces.
    for host, variables in hostvars.items():
        assert variables.get("ansible_host") in lab.ns_of_ip, (
            "%s: ansible_host is not an address of the test network: %s" % (host, variables)
        )
        stray = _connection_addresses(variables) - set(lab.ns_of_ip)
        assert not stray, "%s would connect to %s, outside the test network: %s" % (host, stray, variables)
    # Each private host jumps through the bastion of its own VPC, bastions are reached directly.
    for address, host in app_hosts.items():
        args = hostvars[host].get("ansible_ssh_common_args", "")
        assert ("ProxyCommand=" if proxy == "command" else "ProxyJump=") in args, (host, args)
        assert bastion_of[address] in IPV4.findall(args), (host, args)
        others = {region.bastion_ip for region in PLAN} - {bastion_of[address]}
        assert not others & set(IPV4.findall(args)), (host, args)
    for host in bastion_hosts.values():
        args = str(hostvars[host].get("ansible_ssh_common_args") or "")
        assert "proxy" not in args.lower() and "-J" not in args.split(), (host, args)

    # ANSIBLE_SSH_ARGS replaces Ansible's default (no ControlPersist: no ssh master outlives the test). The app hosts
    # share this machine's file system, so the controller's Python is theirs too (interpreter discovery would take
    # whatever `python3` a login shell finds first, e.g. a pyenv shim).
    ssh_args = NO_KNOWN_HOSTS if proxy == "command" else "-F %s" % ssh_config
    env = {"ANSIBLE_SSH_ARGS": ssh_args, "ANSIBLE_TIMEOUT": "10", "ANSIBLE_PYTHON_INTERPRETER": sys.executable}
    ping, results = adhoc_results("-i", str(inventory), "app:bastion", "-m", "ansible.builtin.ping", env=env)
    assert ping.returncode == 0, ping.stdout[-4000:] + ping.stderr[-3000:]
    assert {host: result.get("ping") for host, result in results.items()} == {
        host: "pong" for host in [*app_hosts.values(), *bastion_hosts.values()]
    }

    # The command ran inside each app host's own namespace: the only global address it sees is the host's.
    command, results = adhoc_results(
        "-i", str(inventory), "app", "-m", "ansible.builtin.command", "-a", "ip -4 -o addr show scope global", env=env
    )
    assert command.returncode == 0, command.stdout[-4000:] + command.stderr[-3000:]
    for address, host in app_hosts.items():
        seen = [
            str(ipaddress.ip_interface(word).ip)
            for word in results[host]["stdout"].split()
            if re.fullmatch(r"[\d.]+/\d+", word)
        ]
        assert seen == [address], (host, results[host]["stdout"])

    # Each app host's sshd saw the connections come from its VPC's bastion, each bastion's from the controller.
    for address in app_hosts:
        log = sshd_logs[address].read_text()
        accepted = re.findall(r"Accepted publickey for root from (\S+) port", log)
        assert accepted and set(accepted) == {bastion_of[address]}, log
    for index, region in enumerate(PLAN):
        log = sshd_logs[region.bastion_ip].read_text()
        accepted = re.findall(r"Accepted publickey for root from (\S+) port", log)
        assert accepted and set(accepted) == {lab.controller_address(index)}, log

    # Directly, a private host is out of reach (no route from the controller), with the very same client settings;
    # the same direct connection to a bastion works, so it is the route that fails, not the key.
    for address in app_hosts:
        direct = subprocess.run(
            ["ssh", "-F", str(ssh_config), "-o", "ConnectTimeout=3", "root@" + address, "true"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        assert direct.returncode == 255, direct
        assert "No route to host" in direct.stderr or "Network is unreachable" in direct.stderr, direct.stderr
    for region in PLAN:
        direct = subprocess.run(
            ["ssh", "-F", str(ssh_config), "root@" + region.bastion_ip, "ip -4 -o addr show dev vpc"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        assert direct.returncode == 0 and " %s/" % region.bastion_ip in direct.stdout, direct
