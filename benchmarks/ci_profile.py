#!/usr/bin/env python
# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the CPU of one test command goes: the emulator, ansible-playbook's controller, its forks, the module
processes, the test runner (docs/testing.md, "What `make test` costs").

    python benchmarks/ci_profile.py [--port 5100] [--interval 0.02] [--json out.json] -- COMMAND [ARGS...]

Runs COMMAND and samples /proc every ``--interval`` seconds: every process that descends from COMMAND and the
emulator on ``--port`` (its server process, read from .emulator/moto-<port>.pid, and the task processes it starts)
is put in a class by its command line and its ancestors, and its CPU (user + system, /proc/<pid>/stat) is the
largest value seen. A process that lives less than one interval may be missed, and the last interval of each one
is: the "not sampled" line is the difference between what the kernel counted for COMMAND's whole tree (wait4's
rusage) and the sum sampled over that tree. Linux only; no dependency beyond the standard library.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int):
    """(ppid, start time, cpu seconds, comm, state) of a live process, else None."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    comm = data[data.index(b"(") + 1 : data.rindex(b")")].decode("utf-8", "replace")
    fields = data[data.rindex(b")") + 2 :].split()
    # fields[0] is state (field 3); ppid 4, utime 14, stime 15, starttime 22
    return int(fields[1]), int(fields[19]), (int(fields[11]) + int(fields[12])) / TICK, comm, fields[0]


def _cmdline(pid: int) -> list[str]:
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return [a.decode("utf-8", "replace") for a in handle.read().split(b"\0") if a]
    except OSError:
        return []


def classify(
    argv: list[str],
    comm: str,
    ancestors: list[tuple[list[str], str]],
    emulator_pid: int | None,
    pid: int,
    ancestor_pids: list[int],
) -> str:
    """The class of a process from its command line and its ancestors' (nearest first)."""
    if pid == emulator_pid:
        return "emulator (moto server + extensions)"
    if emulator_pid in ancestor_pids:
        return "emulator task processes (data plane)"
    joined = " ".join(argv[:3])
    if "ansible-playbook" in joined or "ansible-inventory" in joined or (argv[:1] and argv[0].endswith("/ansible")):
        parent = " ".join(ancestors[0][0][:3]) if ancestors else ""
        if argv == (ancestors[0][0] if ancestors else None) and ("ansible-playbook" in parent or "ansible" in parent):
            return "ansible forks (workers)"
        return "ansible controller"
    under_ansible = any(
        "ansible-playbook" in " ".join(a[:3]) or (a[:1] and a[0].endswith("/ansible")) for a, _comm in ancestors
    )
    if under_ansible:
        if comm in ("sh", "bash", "dash", "sleep"):
            return "module wrappers (sh)"
        if "python" in comm or (argv[:1] and "python" in argv[0]):
            return "modules (AnsiballZ python)"
        return "other under ansible (ssh, ...)"
    if any("molecule" in a for a in argv[:3]):
        return "molecule"
    if any("pytest" in a for a in argv[:3]) or (
        argv[:1] and "python" in argv[0] and "-m" in argv[1:2] and "pytest" in argv[2:3]
    ):
        return "pytest (test code, boto3 asserts)"
    if comm.startswith("python") and any("pytest" in " ".join(a[:3]) for a, _comm in ancestors):
        if len(argv) > 1 and argv[1].endswith("emulator.py"):
            return "emulator.py start/reset/stop"
        return "python under pytest"
    return "other (%s)" % comm


def playbook_of(argv: list[str], ancestors: list[tuple[list[str], str]]) -> str | None:
    """The playbook file name (``site.yml``) of the nearest ``ansible-playbook`` among a process and its ancestors, so
    the CPU of a test's converges can be told from its deploys (the "by playbook" lines); None outside a playbook."""
    for command in [argv] + [a for a, _comm in ancestors]:
        if any("ansible-playbook" in part for part in command[:3]):
            return next((os.path.basename(part) for part in command[1:] if part.endswith((".yml", ".yaml"))), "?")
    return None


class Sampler:
    def __init__(self, root_pid: int, emulators: list[int], interval: float):
        self.root = root_pid
        self.emulators = set(emulators)
        self.emulator = None
        self.interval = interval
        self.seen: dict[tuple[int, int], dict] = {}
        self.emulator_start = None
        self.emulator_last = None
        self.stopped = threading.Event()
        self.samples = 0
        # how many processes of the tree (and the emulators) were runnable at each sample: 0, 1, 2 or more
        self.runnable = [0, 0, 0]

    def _scan(self) -> None:
        table = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                st = _stat(int(name))
                if st:
                    table[int(name)] = st
        runnable = 0
        for pid, (ppid, start, cpu, comm, state) in table.items():
            chain = []
            cur = ppid
            while cur in table and cur > 1 and len(chain) < 30:
                chain.append(cur)
                cur = table[cur][0]
            in_root = pid == self.root or self.root in chain
            emulator = next((e for e in self.emulators if e == pid or e in chain), None)
            if not (in_root or emulator):
                continue
            self.emulator = emulator
            runnable += state == b"R" and pid != os.getpid()
            key = (pid, start)
            entry = self.seen.get(key)
            if entry is None:
                argv = _cmdline(pid)
                ancestors = [(_cmdline(p), table[p][3]) for p in chain[:6]]
                entry = self.seen[key] = {
                    "pid": pid,
                    "class": classify(argv, comm, ancestors, self.emulator, pid, chain),
                    "playbook": playbook_of(argv, ancestors),
                    "cpu": 0.0,
                    "first": cpu,
                    "argv": argv[:4],
                    "in_root": in_root,
                }
            elif comm != entry.get("comm", comm):  # exec'd since (sh -c 'python ...'): classify again
                ancestors = [(_cmdline(p), table[p][3]) for p in chain[:6]]
                entry["class"] = classify(_cmdline(pid), comm, ancestors, self.emulator, pid, chain)
            entry["cpu"] = max(entry["cpu"], cpu)
            entry["comm"] = comm
        self.runnable[min(runnable, 2)] += 1

    def run(self) -> None:
        while not self.stopped.is_set():
            self._scan()
            self.samples += 1
            time.sleep(self.interval)


def _emulator_pid(port: int) -> int | None:
    try:
        with open(os.path.join(ROOT, ".emulator", "moto-%d.pid" % port), encoding="ascii") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def _idle() -> tuple[float, float]:
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    return (fields[3] + fields[4]) / TICK, sum(fields[:8]) / TICK


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--port",
        type=int,
        action="append",
        help="an emulator's port (repeat for several; default $MEGAPOOL_EMULATOR_PORT or 5100)",
    )
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--json", default=None)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("a command to run")
    emulators = [
        pid for pid in map(_emulator_pid, args.port or [int(os.environ.get("MEGAPOOL_EMULATOR_PORT") or 5100)]) if pid
    ]
    idle0, total0 = _idle()
    wall0 = time.monotonic()
    process = subprocess.Popen(command)  # pylint: disable=consider-using-with
    sampler = Sampler(process.pid, emulators, args.interval)
    thread = threading.Thread(target=sampler.run, daemon=True)
    thread.start()
    _pid, status, usage = os.wait4(process.pid, 0)
    sampler.stopped.set()
    thread.join()
    wall = time.monotonic() - wall0
    idle1, total1 = _idle()
    classes: dict[str, list] = defaultdict(lambda: [0.0, 0])
    sampled_root = 0.0
    for entry in sampler.seen.values():
        cpu = entry["cpu"] - (entry["first"] if not entry["in_root"] else 0.0)
        classes[entry["class"]][0] += cpu
        classes[entry["class"]][1] += 1
        if entry["in_root"]:
            sampled_root += cpu
    playbooks: dict[str, list] = defaultdict(lambda: [0.0, 0])
    for entry in sampler.seen.values():
        if entry.get("playbook"):
            playbooks[entry["playbook"]][0] += entry["cpu"] - (entry["first"] if not entry["in_root"] else 0.0)
            playbooks[entry["playbook"]][1] += 1
    counted = usage.ru_utime + usage.ru_stime
    classes["not sampled (short-lived, last interval)"] = [max(0.0, counted - sampled_root), 0]
    rows = sorted(classes.items(), key=lambda kv: -kv[1][0])
    total = sum(v[0] for v in classes.values())
    machine = (total1 - total0) - (idle1 - idle0)
    report = {
        "command": command,
        "exit": os.waitstatus_to_exitcode(status),
        "wall_s": round(wall, 1),
        "tree_cpu_s": round(counted, 1),
        "tree_user_s": round(usage.ru_utime, 1),
        "tree_sys_s": round(usage.ru_stime, 1),
        "total_cpu_s": round(total, 1),
        "machine_busy_cpu_s": round(machine, 1),
        "machine_capacity_cpu_s": round(wall * os.cpu_count(), 1),
        "samples": sampler.samples,
        "runnable_share": {"none": 0.0, "one": 0.0, "two or more": 0.0}
        if not sampler.samples
        else dict(zip(("none", "one", "two or more"), (round(n / sampler.samples, 3) for n in sampler.runnable))),
        "classes": {name: {"cpu_s": round(v[0], 2), "processes": v[1]} for name, v in rows},
        "playbooks": {
            name: {"cpu_s": round(v[0], 2), "processes": v[1]}
            for name, v in sorted(playbooks.items(), key=lambda kv: -kv[1][0])
        },
    }
    print("\n%-45s %9s %9s %7s" % ("class", "CPU s", "processes", "share"), file=sys.stderr)
    for name, (cpu, count) in rows:
        print("%-45s %9.1f %9d %6.1f%%" % (name, cpu, count, 100.0 * cpu / total if total else 0.0), file=sys.stderr)
    print("%-45s %9.1f" % ("total (command tree + emulator)", total), file=sys.stderr)
    for name, value in report["playbooks"].items():
        print("  by playbook: %-32s %9.1f %9d" % (name, value["cpu_s"], value["processes"]), file=sys.stderr)
    print(
        "wall %.1f s; the whole machine was busy %.1f of %.1f CPU s (%d cores); exit %d"
        % (wall, machine, wall * os.cpu_count(), os.cpu_count(), report["exit"]),
        file=sys.stderr,
    )
    print(
        "samples with none / one / two or more of these processes runnable: %s" % report["runnable_share"],
        file=sys.stderr,
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1)
    return report["exit"]


if __name__ == "__main__":
    sys.exit(main())
