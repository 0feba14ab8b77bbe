#!/usr/bin/env python
# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge benchmark: wall time and AWS API calls of playbooks/site.yml on the local emulator.

    .venv/bin/python benchmarks/converge.py --compare [--repeat K] [--strategy mitogen_linear]   (make bench)
    .venv/bin/python benchmarks/converge.py [--regions 2,4] [--repeat K] [--profile]

--compare: this collection's site.yml against the plain-modules peer of the same stack (benchmarks/peer/site.yml),
interleaved in one run (collection then peer, then peer then collection, ...), each from an empty emulator: a first
converge and a no-op converge, 2 regions. Per run: CPU s (ansible-playbook and every process it ran), wall s, module
processes (every Python interpreter Ansible started for a module: counted by a wrapper given as
ansible_python_interpreter), task results (ok/changed lines of the output), API calls and mutating calls (the proxy).
It prints the medians and the ratios collection / peer, and exits 1 when the collection's no-op makes a mutating call
or reports a change (the peer's no-op changes are printed, they are the stock modules').

Without --compare:

For each region count it builds a temporary copy of inventories/local (extra regions get their own
non-overlapping VPC CIDRs), points it at a counting proxy (benchmarks/awsproxy.py) in front of a fresh
emulator, and runs site.yml twice: a first converge, then a no-op re-converge. Then teardown.yml, and
the emulator is reset. It prints a markdown table (the median of K repetitions), the same figures for
the ECS layer alone (the plays named "... ECS capacity ...": the calls the proxy counted between that play's
banner and the next one, and the tasks that reported a change in it), and the API actions of the no-op run.
It exits 1 when a no-op run makes a mutating call or reports a change, 2 when a
playbook fails.

The emulator runs on its own port (default 5200, so `make up` on 5000 and the tests on 5100 are left
alone); it is started if needed and stopped at the end if this script started it. Ansible's output of
every run, and the raw counts, are kept in benchmarks/results/ (not in git).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from awsproxy import Proxy  # noqa: E402  pylint: disable=wrong-import-position
from benchlib import emulator, log, reset_emulator  # noqa: E402  pylint: disable=wrong-import-position

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
RESULTS = os.path.join(ROOT, "benchmarks", "results")
BASE_INVENTORY = os.path.join(ROOT, "inventories", "local")
# Regions added beyond those of inventories/local, in order, with CIDRs that overlap nothing there.
EXTRA_REGIONS = [
    ("us-east-1", "10.30.0.0/16"),
    ("sa-east-1", "10.40.0.0/16"),
    ("eu-west-1", "10.50.0.0/16"),
    ("us-west-2", "10.60.0.0/16"),
]
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)
PROFILE_LINE = re.compile(r"^(.+?)\s-{3,}\s+(\d+\.\d+)s$", re.MULTILINE)
RUNS = ("first converge", "no-op re-converge", "teardown")
PEER_DIR = os.path.join(ROOT, "benchmarks", "peer")
RESULT_LINE = re.compile(r"^(ok|changed): \[", re.MULTILINE)
PLAYBOOKS = {"first converge": "site.yml", "no-op re-converge": "site.yml", "teardown": "teardown.yml"}


@dataclass
class Run:
    regions: int
    run: str
    wall_s: float
    cpu_s: float  # user + system time of ansible-playbook and everything it ran
    calls: int
    mutating: int
    changed: int
    failed: int
    errors: int
    actions: list[dict] = field(default_factory=list)
    slowest_tasks: list[tuple[str, float]] = field(default_factory=list)
    processes: int = 0  # module processes (interpreters started through the counting wrapper)
    results: int = 0  # ok/changed result lines (a task on a host, or a loop item)
    side: str = "collection"
    # The ECS layer alone (plays whose name matches ECS_PLAY): wall s, calls, mutating, changed tasks, actions.
    ecs: dict = field(default_factory=dict)


# The plays of the ECS layer in site.yml ("ECS capacity (per region, ...)") and teardown.yml ("Remove the ECS capacity ...").
ECS_PLAY = re.compile(r"\bECS capacity\b")
PLAY_BANNER = re.compile(r"^PLAY \[(.*)\] \*+$")
TASK_BANNER = re.compile(r"^TASK \[(.*)\] \*+$")
CHANGED_LINE = re.compile(r"^changed: \[([^\]]+)\]")


def _delta(after: dict, before: dict) -> dict:
    """Proxy stats ``after`` minus ``before`` (both from Proxy.stats())."""

    def key(row: dict) -> tuple[str, str, str]:
        return (row["service"], row["region"], row["action"])

    earlier = {key(row): row for row in before["actions"]}
    actions = []
    for row in after["actions"]:
        calls = row["calls"] - earlier.get(key(row), {}).get("calls", 0)
        if calls:
            actions.append(dict(row, calls=calls))
    return {
        "calls": sum(row["calls"] for row in actions),
        "mutating": sum(row["calls"] for row in actions if row["mutating"]),
        "actions": actions,
    }


class _PlayTracker:
    """Follows ansible-playbook's output line by line: proxy stats and time at each play banner, changed tasks."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy
        self.plays: list[dict] = []  # {"name", "start", "stats", "changed": set of (task, host)}
        self.task = ""

    def line(self, text: str) -> None:
        banner = PLAY_BANNER.match(text)
        if banner:
            self.plays.append(
                {"name": banner.group(1), "start": time.monotonic(), "stats": self.proxy.stats(), "changed": set()}
            )
            return
        task = TASK_BANNER.match(text)
        if task:
            self.task = task.group(1)
            return
        changed = CHANGED_LINE.match(text)
        if changed and self.plays:
            self.plays[-1]["changed"].add((self.task, changed.group(1)))

    def layer(self, pattern: re.Pattern, end_stats: dict) -> dict:
        """Wall s, calls, mutating calls and changed tasks of the plays whose name matches ``pattern``."""
        total = {"wall_s": 0.0, "calls": 0, "mutating": 0, "changed": 0, "actions": []}
        end = time.monotonic()
        for index, play in enumerate(self.plays):
            if not pattern.search(play["name"]):
                continue
            following = self.plays[index + 1] if index + 1 < len(self.plays) else {"start": end, "stats": end_stats}
            delta = _delta(following["stats"], play["stats"])
            total["wall_s"] += following["start"] - play["start"]
            total["calls"] += delta["calls"]
            total["mutating"] += delta["mutating"]
            total["changed"] += len(play["changed"])
            total["actions"].extend(delta["actions"])
        total["wall_s"] = round(total["wall_s"], 2)
        return total


def make_inventory(regions: int, directory: str) -> str:
    """A copy of inventories/local with exactly `regions` region hosts."""
    path = os.path.join(directory, "inventory-%d" % regions)
    shutil.copytree(BASE_INVENTORY, path)
    with open(os.path.join(path, "hosts.yml"), encoding="utf-8") as handle:
        inventory = yaml.safe_load(handle)
    hosts = inventory["regions"]["hosts"]
    for name, cidr in EXTRA_REGIONS[: max(0, regions - len(hosts))]:
        hosts[name] = {"network_vpc_cidr": cidr}
    if regions > len(hosts):
        raise SystemExit("at most %d regions are configured (EXTRA_REGIONS)" % len(hosts))
    inventory["regions"]["hosts"] = dict(list(hosts.items())[:regions])
    with open(os.path.join(path, "hosts.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(inventory, handle, sort_keys=False)
    # Inventory plugin configs beside hosts.yml (e.g. ec2_cluster.yml) list the regions too: keep them in step.
    for name in os.listdir(path):
        config_path = os.path.join(path, name)
        if name == "hosts.yml" or not name.endswith((".yml", ".yaml")) or not os.path.isfile(config_path):
            continue
        with open(config_path, encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
        if isinstance(config, dict) and "plugin" in config and "regions" in config:
            config["regions"] = list(inventory["regions"]["hosts"])
            with open(config_path, "w", encoding="utf-8") as handle:
                yaml.safe_dump(config, handle, sort_keys=False)
    return path


def make_peer_inventory(regions: int, directory: str) -> str:
    """A copy of benchmarks/peer/inventory with the same region hosts and VPC CIDRs as make_inventory()."""
    path = os.path.join(directory, "peer-inventory-%d" % regions)
    shutil.copytree(os.path.join(PEER_DIR, "inventory"), path)
    with open(os.path.join(BASE_INVENTORY, "hosts.yml"), encoding="utf-8") as handle:
        hosts = dict(yaml.safe_load(handle)["regions"]["hosts"])
    for name, cidr in EXTRA_REGIONS[: max(0, regions - len(hosts))]:
        hosts[name] = {"network_vpc_cidr": cidr}
    with open(os.path.join(path, "hosts.yml"), encoding="utf-8") as handle:
        inventory = yaml.safe_load(handle)
    inventory["regions"]["hosts"] = {
        name: {"peer_vpc_cidr": values["network_vpc_cidr"]} for name, values in list(hosts.items())[:regions]
    }
    with open(os.path.join(path, "hosts.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(inventory, handle, sort_keys=False)
    return path


def ansible_env(proxy_port: int, profile: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
        PATH=VENV_BIN + os.pathsep + env.get("PATH", ""),
        MEGAPOOL_EMULATOR_PORT=str(proxy_port),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
    )
    if profile:
        env.update(ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks", PROFILE_TASKS_TASK_OUTPUT_LIMIT="15")
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def counting_interpreter(directory: str) -> tuple[str, str]:
    """A wrapper of .venv/bin/python that appends a line to a file each time it starts: (wrapper, count file)."""
    count_file = os.path.join(directory, "module-processes")
    wrapper = os.path.join(directory, "python-counting")
    with open(wrapper, "w", encoding="utf-8") as handle:
        handle.write(
            '#!/bin/sh\necho >> %s\nexec %s "$@"\n'
            % (shlex.quote(count_file), shlex.quote(os.path.join(VENV_BIN, "python")))
        )
    os.chmod(wrapper, 0o755)
    return wrapper, count_file


def _lines(path: str) -> int:
    try:
        with open(path, encoding="utf-8") as handle:
            return sum(1 for _line in handle)
    except FileNotFoundError:
        return 0


def play(
    proxy: Proxy,
    regions: int,
    run: str,
    inventory: str,
    env: dict[str, str],
    log_path: str,
    playbook: str | None = None,
    interpreter: tuple[str, str] | None = None,
    side: str = "collection",
) -> Run:
    proxy.reset()
    command = [
        os.path.join(VENV_BIN, "ansible-playbook"),
        playbook or os.path.join("playbooks", PLAYBOOKS[run]),
        "-i",
        inventory,
    ]
    processes_before = 0
    if interpreter:
        command += ["-e", "ansible_python_interpreter=%s" % interpreter[0]]
        processes_before = _lines(interpreter[1])
    started, cpu_before = time.monotonic(), _children_cpu()
    tracker = _PlayTracker(proxy)
    lines = []
    # One stream (stderr merged), read as it comes: the proxy's counters are read at each play banner.
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        for text in process.stdout:
            lines.append(text)
            tracker.line(text.rstrip("\n"))
        returncode = process.wait()
    wall, cpu = time.monotonic() - started, _children_cpu() - cpu_before
    stats = proxy.stats()
    output = "".join(lines)
    with open(log_path, "w", encoding="utf-8") as handle:
        handle.write(output)
    recap = [tuple(map(int, row[1:])) for row in RECAP.findall(output)]
    if returncode != 0 or not recap:
        log(
            "%s (%d regions) failed with exit code %d; the end of its output (all of it in %s):"
            % (run, regions, returncode, os.path.relpath(log_path, ROOT))
        )
        sys.stderr.write("\n".join(output.splitlines()[-40:]) + "\n")
        raise SystemExit(2)
    slowest = [(name.strip(), float(seconds)) for name, seconds in PROFILE_LINE.findall(output)]
    return Run(
        regions=regions,
        run=run,
        wall_s=round(wall, 2),
        cpu_s=round(cpu, 2),
        calls=stats["calls"],
        mutating=stats["mutating"],
        changed=sum(row[1] for row in recap),
        failed=sum(row[3] for row in recap),
        errors=stats["errors"],
        actions=stats["actions"],
        slowest_tasks=slowest,
        ecs=tracker.layer(ECS_PLAY, stats),
        processes=(_lines(interpreter[1]) - processes_before) if interpreter else 0,
        results=len(RESULT_LINE.findall(output)),
        side=side,
    )


def median_row(runs: list[Run]) -> list[str]:
    def med(values: list[float]) -> str:
        value = statistics.median(values)
        return str(int(value)) if value == int(value) else "%.1f" % value

    first = runs[0]
    return [
        str(first.regions),
        first.run,
        "%.1f" % statistics.median(r.wall_s for r in runs),
        med([r.calls for r in runs]),
        med([r.mutating for r in runs]),
        med([r.changed for r in runs]),
        "%.1f" % statistics.median(r.cpu_s for r in runs),
    ]


def ecs_row(runs: list[Run]) -> list[str]:
    """The ECS layer's figures (median over the repetitions)."""

    def med(values: list[float]) -> str:
        value = statistics.median(values)
        return str(int(value)) if value == int(value) else "%.1f" % value

    first = runs[0]
    return [
        str(first.regions),
        first.run,
        "%.1f" % statistics.median(r.ecs["wall_s"] for r in runs),
        med([r.ecs["calls"] for r in runs]),
        med([r.ecs["mutating"] for r in runs]),
        med([r.ecs["changed"] for r in runs]),
    ]


def top_actions(runs: list[Run], mutating_only: bool, limit: int = 12, ecs_only: bool = False) -> list[tuple[str, int]]:
    """The most frequent actions over the given runs, summed over regions (per run, on average)."""
    counts: collections.Counter[str] = collections.Counter()
    for run in runs:
        for row in run.ecs.get("actions", []) if ecs_only else run.actions:
            if row["mutating"] or not mutating_only:
                counts["%s:%s" % (row["service"], row["action"])] += row["calls"]
    return [(action, round(count / len(runs))) for action, count in counts.most_common(limit)]


COMPARE_RUNS = ("first converge", "no-op re-converge")


def _ratio(ours: float, theirs: float) -> str:
    return "%.2fx" % (ours / theirs) if theirs else "-"


def strategy_label(args) -> str:
    """The strategies of the two sides, for the log and the table's title."""
    return "collection %s, peer %s" % (
        args.strategy or "ansible.cfg's (mitogen_linear)",
        args.peer_strategy or "ansible.cfg's",
    )


def compare(args: argparse.Namespace) -> int:
    """This collection against the plain-modules peer, interleaved, from an empty emulator each time."""
    regions = int(args.regions.split(",")[0])
    started_emulator = emulator("status", args.port) != 0
    if emulator("start", args.port) != 0:
        raise SystemExit("could not start the emulator on port %d" % args.port)
    os.makedirs(RESULTS, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    results: dict[tuple[str, str], list[Run]] = collections.defaultdict(list)
    loads: list[float] = []
    try:
        with Proxy(
            "http://127.0.0.1:%d" % args.port, port=args.proxy_port, latency_ms=args.latency_ms
        ) as proxy, tempfile.TemporaryDirectory(prefix="megapool-bench-") as scratch:
            env = ansible_env(proxy.port, False)
            env["PEER_STATE_DIR"] = os.path.join(scratch, "peer-state")
            # The collection runs with ansible.cfg's strategy (mitogen_linear) unless --strategy says otherwise; the
            # peer with --peer-strategy, by default ansible-core's own linear: what a plain amazon.aws user runs.
            strategies = {"collection": args.strategy, "peer": args.peer_strategy}
            side_env = {side: dict(env, ANSIBLE_STRATEGY=name) if name else env for side, name in strategies.items()}
            interpreter = counting_interpreter(scratch)
            sides = {
                "collection": (make_inventory(regions, scratch), None),
                "peer": (make_peer_inventory(regions, scratch), os.path.join(PEER_DIR, "site.yml")),
            }
            log(
                "compare: emulator :%d, proxy %s, %d regions, strategy %s, results in %s"
                % (args.port, proxy.url, regions, strategy_label(args), os.path.relpath(RESULTS, ROOT))
            )
            for repetition in range(1, args.repeat + 1):
                order = ["collection", "peer"] if repetition % 2 else ["peer", "collection"]
                for side in [side for side in order if not args.only or side == args.only]:
                    inventory, playbook = sides[side]
                    reset_emulator(args.port)
                    for run in COMPARE_RUNS:
                        log_path = os.path.join(
                            RESULTS,
                            "compare-%s-%s-%s-%d-%s.log"
                            % (stamp, strategies[side] or "default", side, repetition, run.split()[0]),
                        )
                        result = play(
                            proxy,
                            regions,
                            run,
                            inventory,
                            side_env[side],
                            log_path,
                            playbook=playbook,
                            interpreter=interpreter,
                            side=side,
                        )
                        results[side, run].append(result)
                        loads.append(os.getloadavg()[0])
                        log(
                            "#%d %-10s %-18s %6.1f s wall, %6.1f s cpu, %4d processes, %4d results, %4d calls, %3d mutating, "
                            "%2d changed (load %.1f)"
                            % (
                                repetition,
                                side,
                                run,
                                result.wall_s,
                                result.cpu_s,
                                result.processes,
                                result.results,
                                result.calls,
                                result.mutating,
                                result.changed,
                                loads[-1],
                            )
                        )
                reset_emulator(args.port)
    finally:
        if started_emulator:
            emulator("stop", args.port)
        else:
            reset_emulator(args.port)

    with open(os.path.join(RESULTS, "compare-%s.json" % stamp), "w", encoding="utf-8") as handle:
        json.dump([asdict(run) for runs in results.values() for run in runs], handle, indent=1)

    print(
        "site.yml (this collection) against benchmarks/peer/site.yml (plain amazon.aws/community.aws), %d regions, "
        "interleaved, median of %d; strategy %s; 1-minute load %.1f to %.1f\n"
        % (regions, args.repeat, strategy_label(args), min(loads), max(loads))
    )
    if not args.only:
        print("| run | measure | collection | peer | collection / peer |")
        print("|---|---|---:|---:|---:|")
    for run in COMPARE_RUNS if not args.only else ():
        for label, attribute, digits in (
            ("CPU s", "cpu_s", 1),
            ("wall s", "wall_s", 1),
            ("module processes", "processes", 0),
            ("task results", "results", 0),
            ("API calls", "calls", 0),
            ("mutating calls", "mutating", 0),
            ("changed tasks", "changed", 0),
        ):
            ours = statistics.median(getattr(r, attribute) for r in results["collection", run])
            theirs = statistics.median(getattr(r, attribute) for r in results["peer", run])
            print("| %s | %s | %.*f | %.*f | %s |" % (run, label, digits, ours, digits, theirs, _ratio(ours, theirs)))
    measures = ("cpu_s", "wall_s", "processes", "results", "calls", "mutating", "changed")
    for (side, run), runs in results.items() if args.only else ():
        print(
            "| %s %s | CPU s %.1f | wall s %.1f | processes %d | results %d | calls %d | mutating %d | changed %d |"
            % (side, run, *(statistics.median(getattr(r, a) for r in runs) for a in measures))
        )
    broken = any(r.mutating or r.changed for r in results["collection", "no-op re-converge"])
    peer_noop = results["peer", "no-op re-converge"]
    if any(r.mutating for r in peer_noop):
        print(
            "\nThe peer's no-op makes mutating calls (the stock modules'): "
            + ", ".join(
                "%s:%s %d" % (action, name, count)
                for action, name, count in [
                    (a.split(":")[0], a.split(":", 1)[1], c) for a, c in top_actions(peer_noop, mutating_only=True)
                ]
            )
        )
    if broken:
        print("\nBUG: the collection's no-op converge changed something. Mutating actions:")
        for action, count in top_actions(results["collection", "no-op re-converge"], mutating_only=True):
            print("  %5d  %s" % (count, action))
    return 1 if broken else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--regions", default="2,4", help="region counts to measure (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=1, help="repetitions; the table shows the median (default 1)")
    parser.add_argument("--port", type=int, default=5200, help="emulator port (default %(default)s)")
    parser.add_argument("--proxy-port", type=int, default=0, help="counting proxy port (default: any free one)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay the proxy adds to every AWS call")
    parser.add_argument(
        "--profile", action="store_true", help="also list the slowest tasks (ansible.posix.profile_tasks)"
    )
    parser.add_argument(
        "--compare", action="store_true", help="this collection against the plain-modules peer (benchmarks/peer)"
    )
    parser.add_argument("--only", choices=["collection", "peer"], help="with --compare: run one side only")
    parser.add_argument(
        "--strategy",
        default="",
        help="ANSIBLE_STRATEGY for the collection's runs, e.g. linear (default: ansible.cfg's, mitogen_linear)",
    )
    parser.add_argument(
        "--peer-strategy",
        default="linear",
        help="ANSIBLE_STRATEGY for the peer's runs (default: %(default)s, ansible-core's own: a plain user's)",
    )
    args = parser.parse_args(argv)
    if args.compare:
        if not os.path.isdir(os.path.join(ROOT, ".collections", "ansible_collections", "megapool", "aws")):
            raise SystemExit("the collection is not linked: run `make install` first")
        return compare(args)
    counts = [int(n) for n in args.regions.split(",")]
    if not os.path.isdir(os.path.join(ROOT, ".collections", "ansible_collections", "megapool", "aws")):
        raise SystemExit("the collection is not linked: run `make install` first")

    started_emulator = emulator("status", args.port) != 0
    if emulator("start", args.port) != 0:
        raise SystemExit("could not start the emulator on port %d" % args.port)
    os.makedirs(RESULTS, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    results: dict[tuple[int, str], list[Run]] = collections.defaultdict(list)
    try:
        with Proxy(
            "http://127.0.0.1:%d" % args.port, port=args.proxy_port, latency_ms=args.latency_ms
        ) as proxy, tempfile.TemporaryDirectory(prefix="megapool-bench-") as scratch:
            log(
                "emulator :%d, proxy %s, latency %g ms, results in %s"
                % (args.port, proxy.url, args.latency_ms, os.path.relpath(RESULTS, ROOT))
            )
            env = ansible_env(proxy.port, args.profile)
            for regions in counts:
                inventory = make_inventory(regions, scratch)
                for repetition in range(1, args.repeat + 1):
                    reset_emulator(args.port)
                    for run in RUNS:
                        log_path = os.path.join(
                            RESULTS, "converge-%s-%dr-%d-%s.log" % (stamp, regions, repetition, run.split()[0])
                        )
                        result = play(proxy, regions, run, inventory, env, log_path)
                        results[regions, run].append(result)
                        log(
                            "%d regions, #%d %-18s %6.1f s (cpu %5.1f s, load %.1f)  %4d calls  %3d mutating  %2d changed"
                            % (
                                regions,
                                repetition,
                                run,
                                result.wall_s,
                                result.cpu_s,
                                os.getloadavg()[0],
                                result.calls,
                                result.mutating,
                                result.changed,
                            )
                        )
                    reset_emulator(args.port)
    finally:
        if started_emulator:
            emulator("stop", args.port)
        else:  # leave the emulator we reused empty, also after a failed run
            reset_emulator(args.port)

    with open(os.path.join(RESULTS, "converge-%s.json" % stamp), "w", encoding="utf-8") as handle:
        json.dump([asdict(run) for runs in results.values() for run in runs], handle, indent=1)

    print(
        "site.yml on the emulator (127.0.0.1), median of %d run(s); proxy latency %g ms\n"
        % (args.repeat, args.latency_ms)
    )
    # CPU s: user + system time of ansible-playbook and its workers; steadier than wall time on a shared machine.
    print("| regions | run | wall s | API calls | mutating | changed tasks | CPU s |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for runs in results.values():
        print("| " + " | ".join(median_row(runs)) + " |")

    print(
        '\nThe ECS layer alone (plays "ECS capacity ..." of site.yml, "Remove the ECS capacity ..." of teardown.yml)\n'
    )
    print("| regions | run | wall s | API calls | mutating | changed tasks |")
    print("|---:|---|---:|---:|---:|---:|")
    for runs in results.values():
        print("| " + " | ".join(ecs_row(runs)) + " |")

    broken = False
    for regions in counts:
        noop = results[regions, "no-op re-converge"]
        print("\nNo-op re-converge, %d regions: API actions per run (all regions)" % regions)
        for action, count in top_actions(noop, mutating_only=False):
            print("  %5d  %s" % (count, action))
        print("\nNo-op re-converge, %d regions: API actions of the ECS layer per run (all regions)" % regions)
        for action, count in top_actions(noop, mutating_only=False, limit=20, ecs_only=True):
            print("  %5d  %s" % (count, action))
        if any(run.mutating or run.changed for run in noop):
            broken = True
            print("\nBUG: the no-op re-converge of %d regions changed something. Mutating actions:" % regions)
            for action, count in top_actions(noop, mutating_only=True):
                print("  %5d  %s" % (count, action))
    if args.profile:
        for (regions, run), runs in results.items():
            print("\nSlowest tasks, %d regions, %s (profile_tasks, first repetition):" % (regions, run))
            for name, seconds in runs[0].slowest_tasks[:10]:
                print("  %6.2f s  %s" % (seconds, name))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
