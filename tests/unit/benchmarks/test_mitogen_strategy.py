# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The project's strategy, ``mitogen_linear`` (ansible.cfg, ansible_plugins/strategy/mitogen_linear.py; issue 15): a
small playbook of this repository's kinds of tasks gives the same per-task results under it as under ansible-core's
linear strategy - check mode, a module of this collection, a failing module in a block with its rescue, a failed host
with ``ignore_errors``, ``ansible_python_interpreter`` from ``ansible_playbook_python``, loops, a filter of this
collection and ``ansible_facts`` set by a module - and runs the tasks of a host in one interpreter (that is what saves
the CPU). Without mitogen the same file runs the play with ``linear`` after a warning. And what the strategy does before
each play: the warm-ups of the workers and ``gc.freeze``. docs/benchmarks.md, "mitogen as the default" and "Warm
workers"."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent


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

    - name: The module process of a task (the parent of its shell)
      ansible.builtin.shell: echo $PPID
      changed_when: false
      register: first_process

    - name: The module process of the next task
      ansible.builtin.shell: echo $PPID
      changed_when: false
      register: next_process

    - name: A filter of this collection (the strategy loads them in the controller before the workers fork)
      ansible.builtin.set_fact:
        fingerprint: "{{{{ {{'region': inventory_hostname}} | megapool.aws.inputs_fingerprint }}}}"

    - name: Facts set by a module
      ansible.builtin.set_fact:
        result_summary: >-
          {{{{ stats.results | map(attribute='stat.exists') | list }}}} {{{{ probe_failed }}}} {{{{ fingerprint | length }}}}
"""


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PROCESS_TASKS = ("The module process of a task (the parent of its shell)", "The module process of the next task")


def _run(tmp_path: Path, label: str, **extra_env: str) -> tuple[list[dict], dict[str, bool], str]:
    """The play with the checkout's ansible.cfg and ``extra_env``: per-task results, the stats, the files written, and
    whether each host ran its two process tasks in one interpreter."""
    scratch = tmp_path / label
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
    env.pop("ANSIBLE_STRATEGY", None)
    env.update(extra_env)
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
    processes = {}
    for task in output["plays"][0]["tasks"]:
        for host, outcome in sorted(task["hosts"].items()):
            if task["task"]["name"] in PROCESS_TASKS:
                processes.setdefault(host, []).append(outcome["stdout"])
                continue
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
    one_interpreter = {host: len(set(pids)) == 1 for host, pids in processes.items()}
    return [{"rows": rows, "stats": stats, "written": written}], one_interpreter, result.stderr


@pytest.fixture(scope="module")
def linear_run(tmp_path_factory):
    """The play under ansible-core's own linear strategy: what both tests compare with."""
    return _run(tmp_path_factory.mktemp("strategies"), "linear", ANSIBLE_STRATEGY="linear")


def test_the_default_strategy_is_mitogen_and_gives_the_same_results_as_linear(tmp_path, linear_run):
    """mitogen is in requirements.txt: without it this test fails (the default falls back to linear, one process per
    task), it is never skipped."""
    linear, linear_interpreters = linear_run[:2]
    default, default_interpreters, stderr = _run(tmp_path, "default")

    assert default == linear
    # mitogen ran the play: each host's tasks in one interpreter; linear starts one per task.
    assert default_interpreters == {"eu-north-1": True, "us-east-1": True}
    assert linear_interpreters == {"eu-north-1": False, "us-east-1": False}
    assert "mitogen is unavailable" not in stderr
    rows = linear[0]["rows"]
    # What the playbook is for: each kind happened (so equal results are not two empty runs).
    assert [r["changed"] for r in rows if r["task"].startswith("A file in check mode")] == [True, True]
    assert linear[0]["written"] == ["eu-north-1.txt", "us-east-1.txt"]
    assert [r["failed"] for r in rows if r["task"] == "Probe a closed port"] == [True, True]
    assert {r["stdout"] for r in rows if r["stdout"]} == {sys.prefix}
    assert linear[0]["stats"]["us-east-1"]["ignored"] == 1 and linear[0]["stats"]["eu-north-1"]["rescued"] == 1


def test_without_mitogen_the_play_runs_with_linear_after_a_warning(tmp_path, linear_run):
    """An ``ansible_mitogen`` that cannot be imported (first on the controller's path) stands for a venv without
    mitogen or a mitogen that refuses the installed ansible-core: the same results as linear, one process per task,
    and a warning that says what to do."""
    broken = tmp_path / "no-mitogen" / "ansible_mitogen"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text('raise ImportError("no mitogen here")\n', encoding="utf-8")
    linear = linear_run[0]
    fallback, interpreters, stderr = _run(tmp_path, "fallback", PYTHONPATH=str(broken.parent))

    assert fallback == linear
    assert interpreters == {"eu-north-1": False, "us-east-1": False}
    assert "strategy mitogen_linear: mitogen is unavailable (no mitogen here)" in " ".join(stderr.split())


def _strategy_module():
    spec = importlib.util.spec_from_file_location(
        "megapool_strategy_under_test", ROOT / "ansible_plugins" / "strategy" / "mitogen_linear.py"
    )
    strategy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(strategy)
    return strategy


def test_before_each_play_the_controller_loads_what_every_worker_would_load_again(monkeypatch):
    """The two warm-ups of the strategy (its docstring): this collection's filter files are in ``sys.modules`` (so a
    forked worker that resolves a ``megapool.aws`` filter does not execute them again), and mitogen's planner gets
    the same collection directories as from its own ``_load_collections``, without listing them in the worker."""
    from ansible_mitogen import planner

    mitogens = planner._load_collections  # pylint: disable=protected-access
    monkeypatch.setattr(planner, "_load_collections", mitogens)  # put back after the test
    package = "ansible_collections.megapool.aws.plugins.filter."
    for name in [name for name in sys.modules if name.startswith(package)]:
        monkeypatch.delitem(sys.modules, name)
    strategy = _strategy_module()

    strategy.warm_worker_caches()

    files = sorted(path.stem for path in (ROOT / "plugins" / "filter").glob("*.py") if path.stem != "__init__")
    assert len(files) > 10
    assert [name for name in files if package + name not in sys.modules] == []
    assert planner._load_collections is not mitogens  # pylint: disable=protected-access
    ours, theirs = SimpleNamespace(_extra_sys_paths=set()), SimpleNamespace(_extra_sys_paths=set())
    planner._load_collections(ours)  # pylint: disable=protected-access
    mitogens(theirs)
    assert ours._extra_sys_paths == theirs._extra_sys_paths
    assert any(path.endswith("/ansible_collections/amazon/aws") for path in theirs._extra_sys_paths)


def test_a_play_runs_with_the_controllers_objects_frozen_and_unfrozen_after(monkeypatch):
    """``gc.freeze`` for the play (the strategy's ``run``), ``gc.unfreeze`` after it, also when the play raises."""
    import gc

    import ansible_mitogen.strategy

    strategy = _strategy_module()
    seen = []

    def play(self, iterator, play_context, result=0):
        seen.append(gc.get_freeze_count())
        if iterator == "raise":
            raise RuntimeError("the play failed")
        return 4

    monkeypatch.setattr(ansible_mitogen.strategy.StrategyMixin, "run", play)
    monkeypatch.setattr(strategy, "warm_worker_caches", lambda: None)
    module = object.__new__(strategy.StrategyModule)
    assert gc.get_freeze_count() == 0

    assert module.run("iterator", "play context") == 4
    with pytest.raises(RuntimeError):
        module.run("raise", "play context")

    assert len(seen) == 2 and min(seen) > 1000
    assert gc.get_freeze_count() == 0
