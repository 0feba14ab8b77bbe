# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A two-region private network made of Linux network namespaces, and the matching instances in the emulator.

Topology (per region r = 1, 2; addresses from PLAN):

    root namespace (the controller: ansible, ssh)
      |  veth <token>r<r>, link net 198.18.<r>.0/30 (.1 root side, .2 bastion side)
      |  the ONLY routes into the lab: <bastion ip>/32 via 198.18.<r>.2;
      |  every VPC CIDR is an `unreachable` route, so a private address never follows the host's default route
    <token>-b<r>   bastion namespace ("the public subnet"): ip_forward=1 (in this namespace only),
      |            bridge `vpc` holding the bastion's private IP with the VPC prefix (the VPC's local route),
      |            veth `peer` to the other region's bastion namespace, link net 198.18.100.0/30,
      |            route to the other VPC's CIDR over it (the VPC peering)
      +- <token>-a<r><n>  app namespace ("the private subnet"): eth0 (on the bridge) with the app's private IP,
                          the VPC route and a route to the peer VPC via the bastion address; nothing else

No namespace has a default route, app namespaces have no route to the root namespace, and the root namespace
reaches nothing but the bastions' /32s: all traffic stays between the namespaces this module creates.
Lab is a context manager; leaving it kills every process inside its namespaces (found with `ip netns pids`, so
also the ones sshd or erl forked), deletes the namespaces, links and routes, also when the test failed.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

IP = shutil.which("ip") or "/usr/sbin/ip"
SSHD = "/usr/sbin/sshd"
ENV = "itest"
CLUSTER = "netns"


@dataclass(frozen=True)
class RegionPlan:
    region: str
    vpc_cidr: str
    private_subnet: str
    public_subnet: str
    bastion_ip: str
    app_ips: tuple[str, ...]


PLAN = (
    RegionPlan(
        "eu-north-1", "10.10.0.0/16", "10.10.0.0/19", "10.10.128.0/20", "10.10.128.4", ("10.10.0.10", "10.10.0.11")
    ),
    RegionPlan(
        "ap-southeast-1", "10.20.0.0/16", "10.20.0.0/19", "10.20.128.0/20", "10.20.128.4", ("10.20.0.10", "10.20.0.11")
    ),
)
# Emulator-only instances that must never be found: no namespace holds their addresses.
DECOYS = (
    # (region index, private ip, env, cluster, role, stopped)
    (0, "10.10.0.20", ENV, "other", "app", False),
    (0, "10.10.0.21", "staging", CLUSTER, "app", False),
    (1, "10.20.0.22", ENV, CLUSTER, "app", True),
)
PEERING_NET = ipaddress.ip_network("198.18.100.0/30")
# Reachability without ICMP tools: a connect to the discard port, where nothing listens, is refused by a live host.
_PROBE = """
import socket, sys
sock = socket.socket()
sock.settimeout(2)
try:
    sock.connect((sys.argv[1], 9))
except ConnectionRefusedError:
    pass
except OSError as error:
    sys.exit("%s: %s" % (sys.argv[1], error))
"""


def _link_net(index: int) -> ipaddress.IPv4Network:
    return ipaddress.ip_network("198.18.%d.0/30" % (index + 1))


def require_lab_prerequisites() -> None:
    """Fail (never skip) when the machine cannot run the lab; CI runs as root after tests/setup-system.sh."""
    problems = []
    if os.geteuid() != 0:
        problems.append("these tests must run as root (network namespaces, veth links, sshd)")
    probe = subprocess.run([IP, "netns", "list"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        problems.append("`ip netns` is unavailable: %s" % probe.stderr.strip())
    for program in (SSHD, "ssh", "ssh-keygen", "erl", "epmd"):
        if not shutil.which(program):
            problems.append("%s not found" % program)
    if problems:
        pytest.fail(
            "cannot build the test network: %s. Run `bash tests/setup-system.sh` as root first." % "; ".join(problems),
            pytrace=False,
        )


def wait_for(what: str, check, timeout: float, interval: float = 0.05):
    """Poll check() until it returns something truthy; fail naming `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)


class Lab:
    """The namespaces, links and routes of one test run; everything it creates is undone by close()."""

    def __init__(self, workdir: Path, plan=PLAN):
        self.plan = plan
        self.workdir = workdir
        self.token = "mpt%s" % secrets.token_hex(3)
        self.namespaces: list[str] = []
        self.bastion_ns: dict[str, str] = {}  # region -> namespace
        self.app_ns: dict[str, str] = {}  # private ip -> namespace
        self.ns_of_ip: dict[str, str] = {}  # every address the lab configures -> its namespace
        self._undo: list[list[str]] = []
        self._processes: list[subprocess.Popen] = []

    # -- building -------------------------------------------------------------------------------------------

    def __enter__(self) -> Lab:
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def ip(self, *args: str, ns: str | None = None) -> str:
        command = [IP] + (["-n", ns] if ns else []) + list(args)
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=20)
        if result.returncode != 0:
            raise RuntimeError("%s failed: %s" % (" ".join(command), result.stderr.strip()))
        return result.stdout

    def _root_route_conflicts(self) -> list[str]:
        """Prefixes the lab would route in the root namespace that the host already uses."""
        wanted = [p.vpc_cidr for p in self.plan] + [str(_link_net(i)) for i in range(len(self.plan))]
        conflicts = []
        for prefix in wanted:
            inside = self.ip("-4", "route", "show", "table", "all", "root", prefix).strip()
            covering_addresses = [
                line
                for line in self.ip("-4", "-o", "addr", "show").splitlines()
                if any(
                    ipaddress.ip_interface(word).ip in ipaddress.ip_network(prefix)
                    for word in line.split()
                    if "/" in word and word[0].isdigit()
                )
            ]
            if inside or covering_addresses:
                conflicts.append("%s (%s)" % (prefix, (inside or covering_addresses[0]).splitlines()[0]))
        return conflicts

    def _add_ns(self, name: str) -> str:
        self.ip("netns", "add", name)
        self._undo.append(["netns", "delete", name])
        self.namespaces.append(name)
        self.ip("link", "set", "lo", "up", ns=name)
        return name

    def _build(self) -> None:
        conflicts = self._root_route_conflicts()
        if conflicts:
            stale = [line.split()[0] for line in self.ip("netns", "list").splitlines() if line.startswith("mpt")]
            hint = (
                " Namespaces of an earlier run that was killed are left: %s; remove them with `ip netns delete NAME`,"
                " their links with `ip link delete mpt...r1`, the routes with `ip route delete unreachable CIDR`."
                % ", ".join(stale)
                if stale
                else ""
            )
            raise RuntimeError(
                "the host already routes addresses the test network needs: %s.%s" % (", ".join(conflicts), hint)
            )
        for index, region in enumerate(self.plan):
            vpc = ipaddress.ip_network(region.vpc_cidr)
            bastion = self._add_ns("%s-b%d" % (self.token, index + 1))
            self.bastion_ns[region.region] = bastion
            self.ns_of_ip[region.bastion_ip] = bastion
            subprocess.run(
                [IP, "netns", "exec", bastion, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"],
                check=True,
                timeout=20,
            )

            # root <-> bastion: a /30 link net, and a /32 host route to the bastion's private address only.
            link = _link_net(index)
            root_end, bastion_end = (str(host) for host in link.hosts())
            root_dev = "%sr%d" % (self.token, index + 1)
            self.ip("link", "add", "name", root_dev, "type", "veth", "peer", "name", "uplink", "netns", bastion)
            self._undo.append(["link", "delete", root_dev])
            self.ip("addr", "add", "%s/30" % root_end, "dev", root_dev)
            self.ip("link", "set", root_dev, "up")
            self.ip("addr", "add", "%s/30" % bastion_end, "dev", "uplink", ns=bastion)
            self.ip("link", "set", "uplink", "up", ns=bastion)
            self.ip("route", "add", "%s/32" % region.bastion_ip, "via", bastion_end, "dev", root_dev)
            # The VPC is unreachable from the root namespace (instead of following the host's default route).
            self.ip("route", "add", "unreachable", region.vpc_cidr)
            self._undo.append(["route", "delete", "unreachable", region.vpc_cidr])

            # The VPC: a bridge in the bastion namespace carrying the bastion address, app hosts plugged into it.
            self.ip("link", "add", "vpc", "type", "bridge", ns=bastion)
            self.ip("addr", "add", "%s/%d" % (region.bastion_ip, vpc.prefixlen), "dev", "vpc", ns=bastion)
            self.ip("link", "set", "vpc", "up", ns=bastion)
            for number, app_ip in enumerate(region.app_ips, start=1):
                app = self._add_ns("%s-a%d%d" % (self.token, index + 1, number))
                self.app_ns[app_ip] = app
                self.ns_of_ip[app_ip] = app
                port = "a%d" % number
                self.ip(
                    "link", "add", "name", port, "netns", bastion, "type", "veth", "peer", "name", "eth0", "netns", app
                )
                self.ip("link", "set", port, "master", "vpc", ns=bastion)
                self.ip("link", "set", port, "up", ns=bastion)
                self.ip("addr", "add", "%s/%d" % (app_ip, vpc.prefixlen), "dev", "eth0", ns=app)
                self.ip("link", "set", "eth0", "up", ns=app)
                for other in self.plan:
                    if other is not region:
                        self.ip("route", "add", other.vpc_cidr, "via", region.bastion_ip, "dev", "eth0", ns=app)

        # The peering: bastion namespaces linked pairwise (two regions: one link), routes only inside them.
        if len(self.plan) == 2:
            first, second = (self.bastion_ns[p.region] for p in self.plan)
            one, two = (str(host) for host in PEERING_NET.hosts())
            self.ip(
                "link", "add", "name", "peer", "netns", first, "type", "veth", "peer", "name", "peer", "netns", second
            )
            self.ip("addr", "add", "%s/30" % one, "dev", "peer", ns=first)
            self.ip("addr", "add", "%s/30" % two, "dev", "peer", ns=second)
            self.ip("link", "set", "peer", "up", ns=first)
            self.ip("link", "set", "peer", "up", ns=second)
            self.ip("route", "add", self.plan[1].vpc_cidr, "via", two, ns=first)
            self.ip("route", "add", self.plan[0].vpc_cidr, "via", one, ns=second)

        # Every address answers inside the lab before a test relies on it.
        for region in self.plan:
            for app_ip in region.app_ips:
                self.assert_reachable(self.app_ns[app_ip], region.bastion_ip)
                for other in self.plan:
                    self.assert_reachable(self.app_ns[app_ip], other.app_ips[0])

    @staticmethod
    def controller_address(index: int) -> str:
        """The root namespace's end of the link to the bastion of region PLAN[index]."""
        return str(next(_link_net(index).hosts()))

    def assert_reachable(self, ns: str, address: str) -> None:
        """Fail unless namespace ns reaches address: a TCP connect to a closed port must be refused (an answer)."""
        result = self.run(ns, [sys.executable, "-c", _PROBE, address], timeout=10)
        if result.returncode != 0:
            raise RuntimeError(
                "lab self-check: %s cannot reach %s: %s" % (ns, address, (result.stdout + result.stderr).strip())
            )

    # -- processes ------------------------------------------------------------------------------------------

    def popen(self, ns: str, command: list[str], log: Path, **kwargs) -> subprocess.Popen:
        """Start command inside namespace ns (stdout and stderr to log); stopped by close()."""
        with open(log, "wb") as handle:
            process = subprocess.Popen(
                [IP, "netns", "exec", ns] + command,
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                **kwargs,
            )
        self._processes.append(process)
        return process

    def run(self, ns: str, command: list[str], timeout: float = 20) -> subprocess.CompletedProcess:
        return subprocess.run(
            [IP, "netns", "exec", ns] + command, capture_output=True, text=True, check=False, timeout=timeout
        )

    def start_sshd(self, ns: str, address: str, authorized_keys: Path) -> Path:
        """A real sshd listening on address:22 inside ns, with its own host key; returns its log file."""
        home = self.workdir / ("sshd-" + address)
        home.mkdir()
        host_key = home / "ssh_host_ed25519_key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True, timeout=20)
        config = home / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    "ListenAddress %s:22" % address,
                    "HostKey %s" % host_key,
                    "PidFile %s" % (home / "sshd.pid"),
                    "AuthorizedKeysFile %s" % authorized_keys,
                    "PermitRootLogin prohibit-password",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",
                    "AllowTcpForwarding yes",
                    "X11Forwarding no",
                    "PrintMotd no",
                    "LogLevel VERBOSE",
                    "Subsystem sftp internal-sftp",
                    "",
                ]
            )
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
        check = subprocess.run([SSHD, "-t", "-f", str(config)], capture_output=True, text=True, check=False, timeout=20)
        if check.returncode != 0:
            raise RuntimeError("sshd -t: %s" % check.stderr)
        log = home / "sshd.log"
        process = self.popen(ns, [SSHD, "-D", "-e", "-f", str(config)], log)
        wait_for(
            "sshd on %s:22 in %s" % (address, ns),
            lambda: process.poll() is not None or self._listening(ns, address, 22),
            timeout=10,
        )
        if process.poll() is not None:
            raise RuntimeError("sshd in %s exited: %s" % (ns, log.read_text()))
        return log

    def _listening(self, ns: str, address: str, port: int) -> bool:
        result = self.run(ns, ["ss", "-Htln", "src", "%s:%d" % (address, port)])
        return bool(result.stdout.strip())

    def _kill_namespace_processes(self) -> None:
        """Every process in the lab's namespaces (all started by the test, or forked by what it started): TERM, then KILL."""

        def pids() -> list[int]:
            found = []
            for ns in self.namespaces:
                result = subprocess.run(
                    [IP, "netns", "pids", ns], capture_output=True, text=True, check=False, timeout=20
                )
                found.extend(int(pid) for pid in result.stdout.split())
            return found

        for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 3.0)):
            alive = pids()
            if not alive:
                return
            for pid in alive:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + grace
            while pids() and time.monotonic() < deadline:
                time.sleep(0.05)
        left = pids()
        if left:
            raise RuntimeError("processes %s outlived SIGKILL" % left)

    # -- tear-down ------------------------------------------------------------------------------------------

    def close(self) -> None:
        errors = []
        try:
            self._kill_namespace_processes()
        except (OSError, RuntimeError, subprocess.SubprocessError) as error:
            errors.append(str(error))
        for process in self._processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        while self._undo:
            step = self._undo.pop()
            result = subprocess.run([IP] + step, capture_output=True, text=True, check=False, timeout=20)
            if result.returncode != 0 and "Cannot find" not in result.stderr and "No such" not in result.stderr:
                errors.append("ip %s: %s" % (" ".join(step), result.stderr.strip()))
        self.namespaces.clear()
        if errors:
            raise RuntimeError("test network clean-up: " + "; ".join(errors))

    # -- the emulator side ----------------------------------------------------------------------------------

    def create_instances(self, client) -> dict[str, list[str]]:
        """VPCs, subnets and instances in the emulator whose private IPs are the lab's; returns ids per role."""
        ids: dict[str, list[str]] = {"bastion": [], "app": [], "decoy": []}
        for index, region in enumerate(self.plan):
            ec2 = client("ec2", region.region)
            image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
            vpc = ec2.create_vpc(CidrBlock=region.vpc_cidr)["Vpc"]["VpcId"]
            zone = region.region + "a"
            private = ec2.create_subnet(VpcId=vpc, CidrBlock=region.private_subnet, AvailabilityZone=zone)["Subnet"][
                "SubnetId"
            ]
            public = ec2.create_subnet(VpcId=vpc, CidrBlock=region.public_subnet, AvailabilityZone=zone)["Subnet"][
                "SubnetId"
            ]

            def launch(subnet, address, env, cluster, role, _ec2=ec2, _image=image):
                tags = [
                    {"Key": "megapool:env", "Value": env},
                    {"Key": "megapool:cluster", "Value": cluster},
                    {"Key": "megapool:role", "Value": role},
                    {"Key": "Name", "Value": "%s-%s-%s" % (cluster, role, address)},
                ]
                reservation = _ec2.run_instances(
                    ImageId=_image,
                    InstanceType="t3.micro",
                    MinCount=1,
                    MaxCount=1,
                    SubnetId=subnet,
                    PrivateIpAddress=address,
                    TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
                )
                return reservation["Instances"][0]["InstanceId"]

            ids["bastion"].append(launch(public, region.bastion_ip, ENV, CLUSTER, "bastion"))
            ids["app"].extend(launch(private, address, ENV, CLUSTER, "app") for address in region.app_ips)
            for decoy_region, address, env, cluster, role, stopped in DECOYS:
                if decoy_region == index:
                    instance = launch(private, address, env, cluster, role)
                    if stopped:
                        ec2.stop_instances(InstanceIds=[instance])
                    ids["decoy"].append(instance)
        return ids


# -- ansible, run the way a user runs it ----------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def ansible(program: str, *args: str, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run an ansible CLI (ansible, ansible-inventory) from the venv with the project's ansible.cfg."""
    environment = dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_INVENTORY_UNPARSED_FAILED="1",
        ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    environment.update(env or {})
    return subprocess.run(
        [str(BIN / program), *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def adhoc_results(
    *args: str, env: dict | None = None, timeout: float = 180
) -> tuple[subprocess.CompletedProcess, dict]:
    """`ansible ARGS` with the JSON callback; returns the run and {host: result} of its one task.

    ansible.posix.json writes one entry per task for the strategies it knows to run hosts in lockstep (``linear``,
    ``debug``: its LOCKSTEP_CALLBACKS) and one entry per host and task for any other, ``mitogen_linear`` (the
    checkout's, ansible.cfg) included: the hosts of every entry of the one task are its results."""
    result = ansible(
        "ansible",
        *args,
        env=dict(env or {}, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json"),
        timeout=timeout,
    )
    hosts: dict = {}
    try:
        document = json.loads(result.stdout[result.stdout.index("{") :])
        entries = document["plays"][0]["tasks"]
    except (ValueError, KeyError, IndexError):
        return result, hosts
    assert len({entry["task"]["id"] for entry in entries}) == 1, "not one task: %s" % [e["task"] for e in entries]
    for entry in entries:
        hosts.update(entry["hosts"])
    return result, hosts
