#!/usr/bin/env python
# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory and node discovery benchmark: megapool.aws.ec2_cluster against amazon.aws.aws_ec2, over a slow link.

    .venv/bin/python benchmarks/inventory.py [--repeat 5] [--latency-ms 150] [--replay] [--regions 8] [--port 5400]

It resets the emulator (started on --port if needed, reused if it runs there) and fills it straight with boto3:
in each region 50 running `app` instances and one `bastion` of env `bench`, cluster `megapool` (in the
region's default VPC), plus decoys the server-side filters must drop (another cluster, another env, stopped
members). Then it puts the counting proxy (benchmarks/awsproxy.py) with a fixed latency per request (150 ms by
default, about the eu-north-1 <-> ap-southeast-1 round trip) in front of the emulator and measures, each run
a fresh process, the repetitions interleaved, medians:

1. `ansible-inventory -i <config> --list` with this collection's plugin and with amazon.aws.aws_ec2 configured
   for the same regions and filters, next to a static one-host inventory (the cost of starting Ansible);
   then both again with a warm inventory cache (jsonfile), which must make no AWS call;
2. node discovery through Ansible: `ansible localhost -m megapool.aws.ec2_cluster_nodes_info`, and in a
   playbook against a task of amazon.aws.ec2_instance_info looped over the regions (what one would write
   without the module);
3. the shared helper in-process (plugins/module_utils/cluster_instances.py): the concurrent
   `describe_in_regions` against a sequential loop of the same per-region `describe_instances`.

Columns: wall time, CPU time (the process and its children), *AWS s* (from the first AWS request reaching the proxy
to the last answer leaving it: what the client waits for and does between its calls), the calls the proxy counted,
and what was found. With --replay, read-only calls the emulator has answered once are answered again from memory,
at once (see Replay): every region then costs the proxy latency only, in parallel, as on AWS, where the emulator
would answer concurrent calls one after the other.

It prints markdown tables (for docs/benchmarks.md) and every API action the proxy saw. It exits 1 when a warm
cache of ec2_cluster makes an AWS call or when the runs do not find the same instances, 2 when a command fails.
The raw figures go to benchmarks/results/inventory-<time>.json (not in git). The emulator is reset at the end,
and stopped if this script started it.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import http.client
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import boto3
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from awsproxy import CREDENTIAL_SCOPE, NOT_FORWARDED, Proxy, classify  # noqa: E402  pylint: disable=wrong-import-position
from benchlib import emulator, log, reset_emulator  # noqa: E402  pylint: disable=wrong-import-position

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
RESULTS = os.path.join(ROOT, "benchmarks", "results")
COLLECTIONS_ROOT = os.path.join(ROOT, ".collections")

REGIONS = [
    "eu-north-1",
    "ap-southeast-1",
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-northeast-1",
    "sa-east-1",
]
ENV, CLUSTER = "bench", "megapool"
APP_PER_REGION = 50
# (count, env, cluster, role, stopped): instances the filters on env, cluster and state must leave out.
DECOYS = [(10, ENV, "other", "app", False), (10, "prod", CLUSTER, "app", False), (5, ENV, CLUSTER, "app", True)]
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
AMI = "ami-03cf127a"  # one of moto's default images (the same id in every region); looked up again if missing


@dataclass
class Seeded:
    """What the emulator holds for the benchmark: the instance ids the inventories and discovery must find."""

    hosts: set[str] = field(default_factory=set)  # running app + bastion of env/cluster
    app_ips: set[str] = field(
        default_factory=set
    )  # private IPs of the running app members (moto may give two the same)
    app_count: int = 0
    decoys: int = 0


@dataclass
class Run:
    group: str  # inventory, inventory-warm, discovery, in-process
    name: str
    wall_s: float
    cpu_s: float
    aws_s: float  # from the first AWS request reaching the proxy to the last answer leaving it
    calls: int
    errors: int
    found: int  # hosts, or node names
    actions: list[dict] = field(default_factory=list)
    peak_mb: float = 0.0  # the command's peak resident memory (ru_maxrss of the process)


def _tags(env: str, cluster: str, role: str) -> list[dict[str, Any]]:
    tags = {
        "Name": "%s-%s-%s" % (cluster, env, role),
        "megapool:env": env,
        "megapool:cluster": cluster,
        "megapool:role": role,
    }
    return [{"ResourceType": "instance", "Tags": [{"Key": key, "Value": value} for key, value in tags.items()]}]


def _seed_region(endpoint: str, region: str) -> tuple[list[dict[str, Any]], int]:
    client = boto3.client("ec2", region_name=region, endpoint_url=endpoint, **CREDENTIALS)
    try:
        image = client.describe_images(ImageIds=[AMI])["Images"][0]["ImageId"]
    except client.exceptions.ClientError:
        image = client.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]

    def run(count: int, env: str, cluster: str, role: str) -> list[dict[str, Any]]:
        return client.run_instances(
            ImageId=image,
            InstanceType="t3.micro",
            MinCount=count,
            MaxCount=count,
            TagSpecifications=_tags(env, cluster, role),
        )["Instances"]

    members = run(APP_PER_REGION, ENV, CLUSTER, "app") + run(1, ENV, CLUSTER, "bastion")
    decoys = 0
    for count, env, cluster, role, stopped in DECOYS:
        instances = run(count, env, cluster, role)
        if stopped:
            client.stop_instances(InstanceIds=[instance["InstanceId"] for instance in instances])
        decoys += count
    return members, decoys


def seed(port: int, regions: list[str]) -> Seeded:
    """Reset the emulator and create the instances, all regions at once, straight to the emulator (no proxy)."""
    reset_emulator(port)
    endpoint = "http://127.0.0.1:%d" % port
    seeded = Seeded()
    with ThreadPoolExecutor(max_workers=len(regions)) as pool:
        for members, decoys in pool.map(lambda region: _seed_region(endpoint, region), regions):
            seeded.hosts.update(instance["InstanceId"] for instance in members)
            apps = [instance for instance in members if {"Key": "megapool:role", "Value": "app"} in instance["Tags"]]
            seeded.app_ips.update(instance["PrivateIpAddress"] for instance in apps)
            seeded.app_count += len(apps)
            seeded.decoys += decoys
    return seeded


# ------------------------------------------------------------------------------------------------ proxies


class TimingProxy(Proxy):
    """The counting proxy, also noting when the AWS part of a run started and ended (`window()`, in seconds)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._first: float | None = None
        self._last: float | None = None

    def record(self, call: Any, status: int, seconds: float) -> None:
        end = time.monotonic()
        start = end - seconds - self.latency_s  # the request arrived, was delayed, then forwarded
        with self._lock:
            self._first = start if self._first is None else min(self._first, start)
            self._last = end if self._last is None else max(self._last, end)
        super().record(call, status, seconds)

    def reset(self) -> None:
        with self._lock:
            self._first = self._last = None
        super().reset()

    def window(self) -> float:
        with self._lock:
            return 0.0 if self._first is None else self._last - self._first


class Replay:
    """Between the proxy and the emulator (`--replay`): answers a read-only request it has seen before (same region,
    method, path and body) with the emulator's earlier answer, at once; forwards everything else.

    The emulator is one Python process: it answers concurrent requests one after the other (~90 ms of CPU for a
    DescribeInstances of 75 instances here), where AWS answers each region on its own servers. Replayed, the time of a
    call is the proxy's latency only, so what the clients do (concurrently or one region after the other) shows clearly.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.answers: dict[tuple[str, str, str, bytes], tuple[int, list[tuple[str, str]], bytes]] = {}
        self.hits = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="replay", daemon=True)

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self._server.server_address[1]

    def __enter__(self) -> Replay:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                scope = CREDENTIAL_SCOPE.search(headers.get("authorization", ""))
                call = classify(self.command, self.path, headers, body)
                key = None
                if scope and not call.mutating and not self.path.startswith("/moto-api/"):
                    key = (scope.group(1), self.command, urllib.parse.urlsplit(self.path).path, body)
                with replay._lock:
                    answer = replay.answers.get(key) if key else None
                    replay.hits += answer is not None
                if answer is None:
                    answer = self._forward(body)
                    if key and answer[0] == 200:
                        with replay._lock:
                            replay.answers[key] = answer
                status, response_headers, payload = answer
                self.send_response(status)
                for name, value in response_headers:
                    if name.lower() not in NOT_FORWARDED:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
                connection = http.client.HTTPConnection(*replay.upstream, timeout=300)
                try:
                    connection.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                    for name, value in self.headers.items():
                        if name.lower() not in NOT_FORWARDED:
                            connection.putheader(name, value)
                    connection.putheader("Content-Length", str(len(body)))
                    connection.endheaders(body)
                    response = connection.getresponse()
                    return response.status, response.getheaders(), response.read()
                finally:
                    connection.close()

            def log_message(self, format: str, *args: object) -> None:  # pylint: disable=redefined-builtin
                pass

        return Handler


# ------------------------------------------------------------------------------------------------ running things


def ansible_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_EC2",
    ):
        env.pop(name, None)
    env.update(
        ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
        PATH=VENV_BIN + os.pathsep + env.get("PATH", ""),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="true",  # a source that fails is an error, not an empty inventory
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
    )
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


PEAK_MARKER = "\n__peak_rss_kb="
PEAK_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "sys.stderr.write(%r + str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(code)\n" % PEAK_MARKER
)


def timed(
    proxy: TimingProxy, group: str, name: str, command: list[str], env: dict[str, str], count: Callable[[str], int]
) -> tuple[Run, str, str]:
    """Run `command` once (a fresh process), with the proxy's counters zeroed first; `count` reads the result."""
    proxy.reset()
    started, cpu_before = time.monotonic(), _children_cpu()
    # The command runs under a small Python that reports its child's peak memory: a child forked from this (large)
    # process would count this process's memory as its own until it execs.
    result = subprocess.run(
        [sys.executable, "-c", PEAK_WRAPPER] + command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    wall, cpu = time.monotonic() - started, _children_cpu() - cpu_before
    stderr, _marker, peak = result.stderr.rpartition(PEAK_MARKER)
    result = subprocess.CompletedProcess(command, result.returncode, result.stdout, stderr)
    peak_mb = int(peak.strip() or 0) / 1024.0
    stats = proxy.stats()
    if result.returncode != 0:
        log("%s failed with exit code %d: %s" % (name, result.returncode, " ".join(command)))
        sys.stderr.write("\n".join((result.stdout + result.stderr).splitlines()[-40:]) + "\n")
        raise SystemExit(2)
    run = Run(
        group,
        name,
        round(wall, 3),
        round(cpu, 3),
        round(proxy.window(), 3),
        stats["calls"],
        stats["errors"],
        count(result.stdout),
        stats["actions"],
        round(peak_mb, 1),
    )
    return run, result.stdout, result.stderr


def _plain(value: Any) -> Any:
    """A value of `ansible-inventory --list` output: ansible-core 2.19 writes untrusted strings (all that inventory
    plugins set) as `{"__ansible_unsafe": "..."}`."""
    return value["__ansible_unsafe"] if isinstance(value, dict) and "__ansible_unsafe" in value else value


def inventory_instance_ids(output: str) -> set[str]:
    """The instance ids in `ansible-inventory --list` output (both plugins set the host variable instance_id)."""
    hostvars = json.loads(output)["_meta"]["hostvars"]
    return {_plain(variables["instance_id"]) for variables in hostvars.values() if "instance_id" in variables}


def inventory_hosts(output: str) -> int:
    return len(json.loads(output)["_meta"]["hostvars"])


def adhoc_result(output: str) -> dict[str, Any]:
    """The result of `ansible localhost -m ... -o`: `localhost | SUCCESS => {...}`."""
    for line in output.splitlines():
        if line.startswith("localhost |") and "=>" in line:
            return json.loads(line.split("=>", 1)[1])
    raise ValueError("no result line in: %s" % output[-2000:])


def playbook_results(output: str) -> list[dict[str, Any]]:
    """The results of the (only) task of a playbook run with the json stdout callback (loop items flattened)."""
    task = json.loads(output)["plays"][0]["tasks"][-1]["hosts"]["localhost"]
    return task.get("results", [task])


def discovered_ips(output: str, playbook: bool, module: str) -> set[str]:
    if module == "nodes_info":
        result = playbook_results(output)[0] if playbook else adhoc_result(output)
        return {node.split("@", 1)[1] for node in result["nodes"]}
    return {instance["private_ip_address"] for item in playbook_results(output) for instance in item["instances"]}


# ------------------------------------------------------------------------------------------------ configs


def write_configs(directory: str, regions: list[str], endpoint: str) -> dict[str, str]:
    """Inventory configs and playbooks in `directory`; returns name -> path."""
    connection = {"endpoint_url": endpoint, "access_key": "testing", "secret_key": "testing"}
    ours = dict(plugin="megapool.aws.ec2_cluster", env=ENV, cluster=CLUSTER, regions=regions, **connection)
    theirs = dict(
        plugin="amazon.aws.aws_ec2",
        regions=regions,  # given: no DescribeRegions
        filters={
            "tag:megapool:env": ENV,
            "tag:megapool:cluster": CLUSTER,
            "instance-state-name": ["running", "pending"],
        },
        hostnames=["instance-id"],
        use_ssm_inventory=False,
        **connection,
    )

    def cached(config: dict[str, Any], name: str) -> dict[str, Any]:
        return dict(
            config,
            cache=True,
            cache_plugin="ansible.builtin.jsonfile",
            cache_timeout=3600,
            cache_connection=os.path.join(directory, "cache-" + name),
        )

    files = {
        "floor": ("static.yml", {"all": {"hosts": {"localhost-static": {"ansible_connection": "local"}}}}),
        "ec2_cluster": ("bench_ec2_cluster.yml", ours),
        "aws_ec2": ("bench_aws_ec2.yml", theirs),
        "ec2_cluster warm": ("cached_ec2_cluster.yml", cached(ours, "ec2_cluster")),
        "aws_ec2 warm": ("cached_aws_ec2.yml", cached(theirs, "aws_ec2")),
    }
    module_args = dict(connection)
    nodes_task = {
        "name": "Discover",
        "megapool.aws.ec2_cluster_nodes_info": dict(regions=regions, env=ENV, cluster=CLUSTER, **module_args),
    }
    loop_task = {
        "name": "Discover, one region after the other",
        "amazon.aws.ec2_instance_info": dict(
            region="{{ item }}",
            filters={
                "tag:megapool:env": ENV,
                "tag:megapool:cluster": CLUSTER,
                "tag:megapool:role": "app",
                "instance-state-name": "running",
            },
            **module_args,
        ),
        "loop": regions,
    }
    for name, task in (("nodes_info playbook", nodes_task), ("instance_info loop", loop_task)):
        play = [{"name": name, "hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": [task]}]
        files[name] = (name.replace(" ", "_") + ".yml", play)
    paths = {}
    for name, (filename, content) in files.items():
        paths[name] = os.path.join(directory, filename)
        with open(paths[name], "w", encoding="utf-8") as handle:
            yaml.safe_dump(content, handle, sort_keys=False)
    return paths


# ------------------------------------------------------------------------------------------------ in-process


def in_process(proxy: TimingProxy, regions: list[str], repeat: int) -> list[Run]:
    """Time the shared helper without Ansible around it: concurrent `describe_in_regions` vs a sequential loop."""
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder  # pylint: disable=import-outside-toplevel

    _AnsibleCollectionFinder(paths=[COLLECTIONS_ROOT])._install()  # as tests/unit/conftest.py does
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.megapool.aws.plugins.module_utils import cluster_instances as helper

    config = helper.default_client_config()
    clients = {
        region: boto3.Session().client("ec2", region_name=region, endpoint_url=proxy.url, config=config, **CREDENTIALS)
        for region in regions
    }
    filters = helper.instance_filters(ENV, CLUSTER, states=helper.RUNNING_STATES, role="app")

    def concurrent() -> int:
        found = helper.describe_in_regions(clients, filters)
        if found.errors:
            raise SystemExit("in-process query failed: %s" % found.errors)
        return sum(len(instances) for instances in found.instances.values())

    def sequential() -> int:
        return sum(len(helper.describe_instances(clients[region], filters)) for region in regions)

    def one(name: str, function: Callable[[], int]) -> Run:
        proxy.reset()
        started, cpu_before = time.monotonic(), time.process_time()
        found = function()
        wall, cpu = time.monotonic() - started, time.process_time() - cpu_before
        stats = proxy.stats()
        return Run(
            "in-process",
            name,
            round(wall, 4),
            round(cpu, 4),
            round(proxy.window(), 4),
            stats["calls"],
            stats["errors"],
            found,
            stats["actions"],
        )

    one("concurrent", concurrent)  # warm-up: open the connections, load what botocore loads lazily
    one("sequential", sequential)
    runs = []
    for repetition in range(repeat):
        order = [("describe_in_regions (concurrent)", concurrent), ("sequential loop, same call", sequential)]
        for name, function in order if repetition % 2 == 0 else order[::-1]:
            runs.append(one(name, function))
    return runs


# ------------------------------------------------------------------------------------------------ tables


def _fmt(value: float, digits: int = 2) -> str:
    return "%.*f" % (digits, value)


def _count(values: list[int]) -> str:
    low, high = min(values), max(values)
    return str(low) if low == high else "%d-%d" % (low, high)


def table(runs: list[Run], digits: int = 2, found: str = "hosts") -> list[str]:
    by_name: dict[str, list[Run]] = collections.defaultdict(list)
    for run in runs:
        by_name[run.name].append(run)
    lines = [
        "| run | median s | min s | max s | CPU s | peak MB | AWS s | API calls | %s |" % found,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, group in by_name.items():
        walls = [run.wall_s for run in group]
        lines.append(
            "| %s | %s | %s | %s | %s | %s | %s | %s | %s |"
            % (
                name,
                _fmt(statistics.median(walls), digits),
                _fmt(min(walls), digits),
                _fmt(max(walls), digits),
                _fmt(statistics.median(run.cpu_s for run in group), digits),
                _fmt(statistics.median(run.peak_mb for run in group), 0),
                _fmt(statistics.median(run.aws_s for run in group), digits),
                _count([run.calls for run in group]),
                _count([run.found for run in group]),
            )
        )
    return lines


def median_wall(runs: list[Run], name: str, what: str = "wall_s") -> float:
    return statistics.median(getattr(run, what) for run in runs if run.name == name)


def actions_summary(runs: list[Run]) -> list[str]:
    """Per run name: each service:action with its calls per run (a range when the runs differ), regions and errors."""
    by_name: dict[str, list[Run]] = collections.defaultdict(list)
    for run in runs:
        by_name[run.name].append(run)
    lines = []
    for name, group in by_name.items():
        counts: dict[str, list[int]] = collections.defaultdict(lambda: [0] * len(group))
        regions: dict[str, set[str]] = collections.defaultdict(set)
        errors: collections.Counter[str] = collections.Counter()
        for index, run in enumerate(group):
            for row in run.actions:
                key = "%s:%s" % (row["service"], row["action"])
                counts[key][index] += row["calls"]
                regions[key].add(row["region"])
                errors[key] += row["errors"]
        described = ", ".join(
            "%s %s (%d regions%s)"
            % (key, _count(counts[key]), len(regions[key]), ", %d errors" % errors[key] if errors[key] else "")
            for key in sorted(counts)
        )
        lines.append("  %-36s %s" % (name + ":", described or "none"))
    return lines


# ------------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:  # pylint: disable=too-many-locals,too-many-statements
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="repetitions of each Ansible run; tables show medians (default %(default)s)",
    )
    parser.add_argument(
        "--inproc-repeat", type=int, default=15, help="repetitions of the in-process timing (default %(default)s)"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=150.0, help="delay the proxy adds to every AWS call (default %(default)s)"
    )
    parser.add_argument(
        "--regions", type=int, default=len(REGIONS), help="how many of the 8 regions (default %(default)s)"
    )
    parser.add_argument("--port", type=int, default=5400, help="emulator port (default %(default)s)")
    parser.add_argument(
        "--replay",
        action="store_true",
        help="answer repeated read-only calls from memory instead of the emulator (see Replay): AWS-like, every region "
        "answers in parallel in the proxy latency",
    )
    parser.add_argument("--proxy-port", type=int, default=0, help="proxy port (default: any free one)")
    parser.add_argument(
        "--inventory-only", action="store_true", help="only the inventory comparison (no node discovery, no in-process)"
    )
    args = parser.parse_args(argv)
    regions = REGIONS[: args.regions]
    if not 1 <= args.regions <= len(REGIONS):
        raise SystemExit("--regions must be 1 to %d" % len(REGIONS))
    if not os.path.isdir(os.path.join(COLLECTIONS_ROOT, "ansible_collections", "megapool", "aws")):
        raise SystemExit("the collection is not linked: run `make install` first")

    started_emulator = emulator("status", args.port) != 0
    if emulator("start", args.port) != 0:
        raise SystemExit("could not start the emulator on port %d" % args.port)
    os.makedirs(RESULTS, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    runs: list[Run] = []
    problems: list[str] = []
    inventory_bin, ansible_bin, playbook_bin = (
        os.path.join(VENV_BIN, name) for name in ("ansible-inventory", "ansible", "ansible-playbook")
    )
    try:
        started = time.monotonic()
        seeded = seed(args.port, regions)
        log(
            "emulator :%d filled in %.1f s: %d regions x (%d app + 1 bastion) = %d hosts, %d decoys"
            % (args.port, time.monotonic() - started, len(regions), APP_PER_REGION, len(seeded.hosts), seeded.decoys)
        )
        replay = Replay(args.port) if args.replay else None
        upstream = replay.url if replay else "http://127.0.0.1:%d" % args.port
        with replay or contextlib.nullcontext(), TimingProxy(
            upstream, port=args.proxy_port, latency_ms=args.latency_ms
        ) as proxy, tempfile.TemporaryDirectory(prefix="megapool-bench-inventory-") as scratch:
            log(
                "proxy %s -> %s, latency %g ms"
                % (proxy.url, "replay -> emulator" if replay else "emulator", args.latency_ms)
            )
            env = ansible_env()
            paths = write_configs(scratch, regions, proxy.url)

            def inventory(group: str, name: str, label: str | None = None) -> Run:
                run, output, _errors = timed(
                    proxy, group, label or name, [inventory_bin, "-i", paths[name], "--list"], env, inventory_hosts
                )
                if name != "floor":
                    ids = inventory_instance_ids(output)
                    if ids != seeded.hosts:
                        problems.append(
                            "%s found %d instances, %d of them expected; %d expected ones missing"
                            % (name, len(ids), len(ids & seeded.hosts), len(seeded.hosts - ids))
                        )
                return run

            # 1. ansible-inventory --list
            for name in (
                "floor",
                "ec2_cluster",
                "aws_ec2",
            ):  # warm-up (disk caches, .pyc) and the check of the host sets
                run, output, errors = timed(
                    proxy, "warm-up", name, [inventory_bin, "-i", paths[name], "--list"], env, inventory_hosts
                )
                if errors.strip():
                    log("%s said on stderr: %s" % (name, errors.strip()[:2000]))
                if name != "floor":
                    ids = inventory_instance_ids(output)
                    if ids != seeded.hosts:
                        problems.append(
                            "%s found %d instances (%d expected ones missing, %d unexpected)"
                            % (name, len(ids), len(seeded.hosts - ids), len(ids - seeded.hosts))
                        )
                log("warm-up %-12s %6.2f s  %3d calls  %3d hosts" % (name, run.wall_s, run.calls, run.found))
            for repetition in range(args.repeat):
                order = ["floor", "ec2_cluster", "aws_ec2"]
                for name in order if repetition % 2 == 0 else [order[0]] + order[:0:-1]:
                    run = inventory("inventory", name)
                    runs.append(run)
                    log(
                        "#%d %-18s %6.2f s (cpu %5.2f s, aws %5.2f s, load %.1f)  %3d calls  %3d hosts"
                        % (
                            repetition + 1,
                            name,
                            run.wall_s,
                            run.cpu_s,
                            run.aws_s,
                            os.getloadavg()[0],
                            run.calls,
                            run.found,
                        )
                    )
            for name in ("ec2_cluster warm", "aws_ec2 warm"):  # fill the caches
                run = inventory("fill", name, name + " (fill)")
                runs.append(run)
                log("cache fill %-16s %6.2f s  %3d calls  %3d hosts" % (name, run.wall_s, run.calls, run.found))
            for repetition in range(args.repeat):
                order = ["ec2_cluster warm", "aws_ec2 warm"]
                for name in order if repetition % 2 == 0 else order[::-1]:
                    run = inventory("inventory-warm", name)
                    runs.append(run)
                    log(
                        "#%d %-18s %6.2f s (cpu %5.2f s, aws %5.2f s, load %.1f)  %3d calls  %3d hosts"
                        % (
                            repetition + 1,
                            name,
                            run.wall_s,
                            run.cpu_s,
                            run.aws_s,
                            os.getloadavg()[0],
                            run.calls,
                            run.found,
                        )
                    )

            inproc: list[Run] = []
            emulator_ms = 0.0
            if not args.inventory_only:
                # 2. node discovery through Ansible
                module_args = "regions=%s env=%s cluster=%s endpoint_url=%s access_key=testing secret_key=testing" % (
                    ",".join(regions),
                    ENV,
                    CLUSTER,
                    proxy.url,
                )
                json_env = dict(env, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
                commands = {
                    "floor: ansible localhost -m ping": (
                        [ansible_bin, "localhost", "-m", "ansible.builtin.ping", "-o"],
                        env,
                        None,
                    ),
                    "ansible localhost -m ec2_cluster_nodes_info": (
                        [
                            ansible_bin,
                            "localhost",
                            "-m",
                            "megapool.aws.ec2_cluster_nodes_info",
                            "-a",
                            module_args,
                            "-o",
                        ],
                        env,
                        ("nodes_info", False),
                    ),
                    "playbook: ec2_cluster_nodes_info": (
                        [playbook_bin, paths["nodes_info playbook"]],
                        json_env,
                        ("nodes_info", True),
                    ),
                    "playbook: ec2_instance_info, loop over regions": (
                        [playbook_bin, paths["instance_info loop"]],
                        json_env,
                        ("instance_info", True),
                    ),
                }
                outputs: dict[str, str] = {}

                def discovery(name: str) -> Run:
                    command, run_env, parse = commands[name]

                    def count(output: str) -> int:
                        outputs[name] = output
                        return len(discovered_ips(output, parse[1], parse[0])) if parse else 0

                    run = timed(proxy, "discovery", name, command, run_env, count)[0]
                    if parse and discovered_ips(outputs[name], parse[1], parse[0]) != seeded.app_ips:
                        problems.append("%s found %d nodes, %d expected" % (name, run.found, len(seeded.app_ips)))
                    return run

                for name in commands:  # warm-up
                    run = discovery(name)
                    log("warm-up %-48s %6.2f s  %3d calls  %3d nodes" % (name, run.wall_s, run.calls, run.found))
                for repetition in range(args.repeat):
                    names = list(commands)
                    for name in names if repetition % 2 == 0 else [names[0]] + names[:0:-1]:
                        run = discovery(name)
                        runs.append(run)
                        log(
                            "#%d %-48s %6.2f s (cpu %5.2f s, aws %5.2f s, load %.1f)  %3d calls  %3d nodes"
                            % (
                                repetition + 1,
                                name,
                                run.wall_s,
                                run.cpu_s,
                                run.aws_s,
                                os.getloadavg()[0],
                                run.calls,
                                run.found,
                            )
                        )

                # 3. the helper in-process
                inproc = in_process(proxy, regions, args.inproc_repeat)
                for run in inproc:
                    if run.found != seeded.app_count:
                        problems.append(
                            "in-process %s found %d instances, %d expected" % (run.name, run.found, seeded.app_count)
                        )
                runs.extend(inproc)
                # The upstream's time per call when the calls come one at a time (concurrent ones queue in the emulator).
                per_call = [
                    row["upstream_s"] / row["calls"]
                    for run in inproc
                    if run.name.startswith("sequential")
                    for row in run.actions
                ]
                emulator_ms = 1000 * statistics.median(per_call) if per_call else 0.0
            replay_hits = replay.hits if replay else 0
            if inproc:
                log(
                    "in-process: %s"
                    % ", ".join(
                        "%s %.3f s" % (name, median_wall(inproc, name))
                        for name in dict.fromkeys(r.name for r in inproc)
                    )
                )
    finally:
        if started_emulator:
            emulator("stop", args.port)
        else:  # leave the emulator we reused empty, also after a failed run
            reset_emulator(args.port)

    with open(os.path.join(RESULTS, "inventory-%s.json" % stamp), "w", encoding="utf-8") as handle:
        json.dump(
            dict(
                regions=regions,
                latency_ms=args.latency_ms,
                repeat=args.repeat,
                runs=[asdict(run) for run in runs],
                problems=problems,
            ),
            handle,
            indent=1,
        )

    inventory_runs = [run for run in runs if run.group == "inventory"]
    warm_runs = [run for run in runs if run.group == "inventory-warm"]
    discovery_runs = [run for run in runs if run.group == "discovery"]
    print(
        "%d regions x %d hosts (%d app + 1 bastion), %d decoys; proxy latency %g ms per request; %s; median of %d runs\n"
        % (
            len(regions),
            APP_PER_REGION + 1,
            APP_PER_REGION,
            seeded.decoys,
            args.latency_ms,
            "repeated reads replayed (%d replayed answers)" % replay_hits
            if args.replay
            else "answers from the emulator",
            args.repeat,
        )
    )
    print("`ansible-inventory -i <config> --list`\n")
    print("\n".join(table(inventory_runs + warm_runs)))
    ours, theirs, floor = (median_wall(inventory_runs, name) for name in ("ec2_cluster", "aws_ec2", "floor"))
    ours_aws, theirs_aws = (median_wall(inventory_runs, name, "aws_s") for name in ("ec2_cluster", "aws_ec2"))
    print(
        "\nspeedup of ec2_cluster over aws_ec2: %.2fx wall; %.2fx above the floor (%.2f s vs %.2f s above %.2f s); "
        "%.2fx in the AWS part (%.2f s vs %.2f s)"
        % (
            theirs / ours,
            (theirs - floor) / max(ours - floor, 1e-9),
            ours - floor,
            theirs - floor,
            floor,
            theirs_aws / max(ours_aws, 1e-9),
            ours_aws,
            theirs_aws,
        )
    )
    ours_cpu, theirs_cpu = (median_wall(inventory_runs, name, "cpu_s") for name in ("ec2_cluster", "aws_ec2"))
    ours_mb, theirs_mb = (median_wall(inventory_runs, name, "peak_mb") for name in ("ec2_cluster", "aws_ec2"))
    print(
        "ec2_cluster / aws_ec2, cold: CPU %.2fx (%.2f s vs %.2f s; aim <= 0.6x), peak memory %.2fx (%.0f MB vs %.0f MB; aim <= 1x)"
        % (ours_cpu / theirs_cpu, ours_cpu, theirs_cpu, ours_mb / theirs_mb, ours_mb, theirs_mb)
    )
    if not args.inventory_only:
        print("\nNode discovery (%d app members, %d distinct private IPs)\n" % (seeded.app_count, len(seeded.app_ips)))
        print("\n".join(table(discovery_runs, found="nodes")))
        print(
            "\nThe shared helper in-process (clients made beforehand; median of %d; upstream time of a lone call %.0f ms)\n"
            % (args.inproc_repeat, emulator_ms)
        )
        print("\n".join(table(inproc, digits=3, found="instances")))
        print(
            "\none round trip = %g ms latency + ~%.0f ms upstream = ~%.0f ms"
            % (args.latency_ms, emulator_ms, args.latency_ms + emulator_ms)
        )
    print("\nAPI actions per run (all regions):")
    print(
        "\n".join(
            actions_summary([run for run in runs if run.group in ("inventory", "fill", "inventory-warm", "discovery")])
        )
    )
    print("\n".join(actions_summary(inproc)))

    warm_calls = [run.calls for run in warm_runs if run.name == "ec2_cluster warm"]
    if any(warm_calls):
        problems.append("the warm cache of ec2_cluster made AWS calls: %s" % warm_calls)
    if any(run.calls for run in warm_runs if run.name == "aws_ec2 warm"):
        print("\nnote: the warm cache of aws_ec2 made AWS calls too")
    if problems:
        print("\nPROBLEMS:\n" + "\n".join("- " + problem for problem in problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
