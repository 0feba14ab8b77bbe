# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mitogen strategy (PyPI mitogen, ``ANSIBLE_STRATEGY=mitogen_linear``) as a documented option (issue 15): a small
playbook of this repository's kinds of tasks gives the same per-task results under it as under ansible-core's linear
strategy - check mode, a module of this collection, a failing module in a block with its rescue, a failed host with
``ignore_errors``, ``ansible_python_interpreter`` from ``ansible_playbook_python``, loops, and
``ansible_facts`` set by a module. docs/benchmarks.md says how to turn it on and what it saves."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent

mitogen = pytest.importorskip("ansible_mitogen", reason="mitogen is in requirements-dev.txt")

PLAYBOOK = """
- name: The kinds of tasks of this repository
  hosts: regions
  gather_facts: false
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
  tasks:
    - name: A file in check mode (changed, not written)
      ansible.builtin.copy:
        dest: "{scratch}/{{{{ inventory_hostname }}}}.check"
        content: x
        mode: "0600"
      check_mode: true

    - name: A file (changed once)
      ansible.builtin.copy:
        dest: "{scratch}/{{{{ inventory_hostname }}}}.txt"
        content: "{{{{ inventory_hostname }}}}"
        mode: "0600"

    - name: A loop of a module with a result per item
      ansible.builtin.stat:
        path: "{scratch}/{{{{ item }}}}.txt"
      loop: [eu-north-1, us-east-1]
      register: stats

    - name: A module of this collection that fails (nothing listens), rescued
      block:
        - name: Probe a closed port
          megapool.aws.http_probe:
            url: "http://127.0.0.1:{closed}/health"
            requests: 2
            timeout: 1
          register: probe
          failed_when: not probe.passed
      rescue:
        - name: The failure reached the rescue
          ansible.builtin.set_fact:
            probe_failed: "{{{{ ansible_failed_result.failed }}}}"

    - name: A failure that is ignored on one host
      ansible.builtin.command: /bin/false
      when: inventory_hostname == 'us-east-1'
      ignore_errors: true
      changed_when: false

    - name: The interpreter is the one given
      ansible.builtin.command: "{{{{ ansible_python_interpreter }}}} -c 'import sys; print(sys.prefix)'"
      changed_when: false
      register: prefix

    - name: Facts set by a module
      ansible.builtin.set_fact:
        result_summary: "{{{{ stats.results | map(attribute='stat.exists') | list }}}} {{{{ probe_failed }}}}"
"""


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(tmp_path: Path, strategy: str | None) -> list[dict]:
    scratch = tmp_path / (strategy or "linear")
    scratch.mkdir()
    (scratch / "hosts.yml").write_text("regions:\n  hosts:\n    eu-north-1:\n    us-east-1:\n", encoding="utf-8")
    (scratch / "play.yml").write_text(PLAYBOOK.format(scratch=scratch, closed=_closed_port()), encoding="utf-8")
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
        PATH=str(VENV_BIN) + os.pathsep + os.environ.get("PATH", ""),
        ANSIBLE_NOCOLOR="1",
    )
    if strategy:
        env.update(
            ANSIBLE_STRATEGY=strategy,
            ANSIBLE_STRATEGY_PLUGINS=str(Path(mitogen.__file__).parent / "plugins" / "strategy"),
        )
    result = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", str(scratch / "hosts.yml"), str(scratch / "play.yml")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    output = json.loads(result.stdout)
    rows = []
    for task in output["plays"][0]["tasks"]:
        for host, outcome in sorted(task["hosts"].items()):
            rows.append(
                {
                    "task": task["task"]["name"],
                    "host": host,
                    "changed": bool(outcome.get("changed")),
                    "failed": bool(outcome.get("failed")),
                    "skipped": bool(outcome.get("skipped")),
                    "items": len(outcome.get("results", [])),
                    "facts": outcome.get("ansible_facts", {}).get("result_summary"),
                    "stdout": outcome.get("stdout")
                    if task["task"]["name"] == "The interpreter is the one given"
                    else None,
                }
            )
    stats = {
        host: {
            key: value
            for key, value in counts.items()
            if key in ("changed", "failures", "ignored", "ok", "rescued", "skipped")
        }
        for host, counts in output["stats"].items()
    }
    written = sorted(path.name for path in scratch.iterdir() if path.suffix in (".txt", ".check"))
    return [{"rows": rows, "stats": stats, "written": written}]


def test_mitogen_linear_gives_the_same_results_as_linear(tmp_path):
    linear = _run(tmp_path, None)
    under_mitogen = _run(tmp_path, "mitogen_linear")

    assert under_mitogen == linear
    rows = linear[0]["rows"]
    # What the playbook is for: each kind happened (so equal results are not two empty runs).
    assert [r["changed"] for r in rows if r["task"].startswith("A file in check mode")] == [True, True]
    assert linear[0]["written"] == ["eu-north-1.txt", "us-east-1.txt"]
    assert [r["failed"] for r in rows if r["task"] == "Probe a closed port"] == [True, True]
    assert {r["stdout"] for r in rows if r["stdout"]} == {sys.prefix}
    assert linear[0]["stats"]["us-east-1"]["ignored"] == 1 and linear[0]["stats"]["eu-north-1"]["rescued"] == 1
