# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs a playbook through a FaultProxy, optionally killed (SIGKILL to its whole process tree, every fork and module
included: the machine running it died) when the proxy forwards its n-th AWS call -- the kill/resume harness of
docs/reliability.md."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from fault_proxy import FaultProxy  # pylint: disable=import-error

ROOT = Path(__file__).resolve().parents[2]


def _children() -> dict[int, list[int]]:
    """Every process's children, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, encoding="utf-8") as stat:
                # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after its last ")".
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    return children


def kill_tree(root: int) -> set[int]:
    """SIGKILL ``root`` and every descendant. A process group is not enough: ansible-core's workers call setsid()
    (ansible/executor/process/worker.py, _detach), so killing ansible-playbook's group leaves its forks and their
    module processes running, still calling AWS beside the next run. Each process is stopped first (a stopped
    process forks no more), the tree read again until it holds nothing new, then all are killed."""
    stopped: set[int] = set()
    for _attempt in range(10):
        children, tree, todo = _children(), set(), [root]
        while todo:
            pid = todo.pop()
            if pid not in tree:
                tree.add(pid)
                todo.extend(children.get(pid, []))
        new = tree - stopped
        if not new:
            break
        for pid in new:
            try:
                os.kill(pid, signal.SIGSTOP)
                stopped.add(pid)
            except ProcessLookupError:
                pass
    for pid in stopped:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return stopped


@dataclass
class Run:
    returncode: int
    output: str
    killed: bool
    calls: int
    stderr: str = ""  # with json_stdout only (else merged into output)

    def changed(self) -> dict[str, int]:
        """changed= of each host in the recap."""
        return {host: int(count) for host, count in re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", self.output, re.M)}

    def changed_tasks(self) -> list[str]:
        """Every task that reported a change, with its hosts and result lines ("TASK [name]: changed: [host] ..."):
        what a failed no-op assertion prints, whole, where the tail of the output would show only the last tasks."""
        found = []
        for block in re.split(r"^(?=TASK \[)", self.output, flags=re.M):
            lines = block.splitlines()
            changed = [line for line in lines if line.startswith("changed: [")]
            if lines and changed:
                found.append("%s %s" % (lines[0].rstrip(" *"), " | ".join(line[:300] for line in changed)))
        return found


def run_playbook(
    playbook: str,
    inventory: Path,
    proxy: FaultProxy,
    *args: str,
    kill_at: Optional[int] = None,
    action: Optional[str] = None,
    timeout: float = 1800,
    json_stdout: bool = False,
) -> Run:
    """``playbooks/<playbook>`` on ``inventory`` with every AWS call through ``proxy``; killed at its ``kill_at``-th call
    or right after its first call of ``action`` (e.g. ``UpdateService``). With ``json_stdout``, the output is the JSON
    stdout callback's document with the custom stats (what AWX reads; docs/awx.md) and stderr is kept apart."""
    env = dict(
        os.environ,
        MEGAPOOL_EMULATOR_PORT=str(proxy.port),
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
    )
    if json_stdout:
        env.update(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_SHOW_CUSTOM_STATS="true")
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        str(ROOT / "playbooks" / playbook),
        "-i",
        str(inventory),
        *args,
    ]
    process = subprocess.Popen(  # pylint: disable=consider-using-with
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if json_stdout else subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    killed = []

    def kill() -> None:
        killed.append(True)
        kill_tree(process.pid)

    proxy.kill_at(kill_at, kill, action=action)
    try:
        output, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_tree(process.pid)
        output = process.communicate()[0]
        raise AssertionError("%s did not end within %d s:\n%s" % (playbook, timeout, output[-3000:]))
    finally:
        calls = proxy.ordinal
        proxy.kill_at(None)
    return Run(process.returncode, output, bool(killed), calls, stderr or "")
