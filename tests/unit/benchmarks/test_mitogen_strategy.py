# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The project's strategy, ``mitogen_linear`` (ansible.cfg, ansible_plugins/strategy/mitogen_linear.py; issue 15): a
small playbook of this repository's kinds of tasks gives the same per-task results under it as under ansible-core's
linear strategy - check mode, a module of this collection, a failing module in a block with its rescue, a failed host
with ``ignore_errors``, ``ansible_python_interpreter`` from ``ansible_playbook_python``, loops, a filter of this
collection and ``ansible_facts`` set by a module - and runs the tasks of a host in one interpreter (that is what saves
the CPU), each host in its own, with one botocore loader for the sessions of a host. Without mitogen the same file runs
the play with ``linear`` after a warning. And what the strategy does before each play: the warm-ups of the workers and
``gc.freeze``; and for the run: compiled templates kept for every process. docs/benchmarks.md, "mitogen as the
default", "Warm workers", "One interpreter per region, one botocore loader per interpreter" and "Compiled templates
kept for the run"."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
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

    - name: The CPUs a task's worker and its module process may use
      ansible.builtin.shell: >-
        echo worker {{{{ lookup('ansible.builtin.pipe', "awk '/^Cpus_allowed_list/ {{print $2}}' /proc/$PPID/status") }}}}
        module $(awk '/^Cpus_allowed_list/ {{print $2}}' /proc/$PPID/status)
      changed_when: false

    - name: A filter of this collection (the strategy loads them in the controller before the workers fork)
      ansible.builtin.set_fact:
        fingerprint: "{{{{ {{'region': inventory_hostname}} | megapool.aws.inputs_fingerprint }}}}"

    - name: The botocore loaders of two sessions (a task)
      megapool_loaders:
      register: first_loaders

    - name: The botocore loaders of two sessions (the next task)
      megapool_loaders:
      register: next_loaders

    - name: Facts in a loop
      ansible.builtin.set_fact:
        regions_seen: "{{{{ regions_seen | default([]) + [item] }}}}"
      loop: "{{{{ groups['regions'] }}}}"

    - name: A check that fails on one host, ignored
      ansible.builtin.assert:
        that: inventory_hostname == 'eu-north-1'
        quiet: true
      ignore_errors: true

    - name: A failure in a block, rescued
      block:
        - name: Fail with a message
          ansible.builtin.fail:
            msg: "refused {{{{ inventory_hostname }}}}"
          when: inventory_hostname == 'us-east-1'
      rescue:
        - name: The message reached the rescue
          ansible.builtin.set_fact:
            refused: "{{{{ ansible_failed_result.msg }}}}"

    - name: A module skipped by its condition on one host
      ansible.builtin.command: /bin/true
      when: inventory_hostname != 'us-east-1'
      changed_when: false

    - name: A module over an empty list
      ansible.builtin.command: /bin/false
      loop: "{{{{ groups['nowhere'] | default([]) }}}}"

    - name: A condition only the connection's variables make true (checked here without them, true in the task)
      ansible.builtin.command: /bin/true
      when: ansible_host is defined
      changed_when: false

    - name: An include in a loop
      ansible.builtin.include_tasks: "{scratch}/included.yml"
      loop: [1, 2]
      loop_control:
        loop_var: round

    - name: A variable shown
      ansible.builtin.debug:
        var: regions_seen

    - name: Facts set by a module
      ansible.builtin.set_fact:
        result_summary: >-
          {{{{ stats.results | map(attribute='stat.exists') | list }}}} {{{{ probe_failed }}}} {{{{ fingerprint | length }}}}
          {{{{ regions_seen }}}} {{{{ refused | default('') }}}} {{{{ rounds }}}}
"""


# The file the play includes in a loop.
INCLUDED = """
- name: A fact of the included file
  ansible.builtin.set_fact:
    rounds: "{{ rounds | default(0) + round }}"
"""


# A module of the play's library/: two boto3 sessions, alive together, and the ids of their botocore data loaders.
LOADERS_MODULE = """#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={})
    import boto3

    sessions = [boto3.session.Session(region_name="eu-north-1") for _ in range(2)]
    loaders = [id(session._session.get_component("data_loader")) for session in sessions]
    client = sessions[0].client("sts", endpoint_url="http://127.0.0.1:9")
    module.exit_json(changed=False, loaders=loaders, client=id(client))


main()
"""


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PROCESS_TASKS = ("The module process of a task (the parent of its shell)", "The module process of the next task")
CPUS_TASK = "The CPUs a task's worker and its module process may use"
LOADER_TASKS = ("The botocore loaders of two sessions (a task)", "The botocore loaders of two sessions (the next task)")


def _run(tmp_path: Path, label: str, **extra_env: str) -> tuple[list[dict], dict[str, set], str, dict[str, list]]:
    """The play with the checkout's ansible.cfg and ``extra_env``: per-task results, the stats, the files written; the
    interpreters (process ids) that ran each host's two process tasks; stderr; the ids of the botocore loaders of each
    host's two loader tasks."""
    scratch = tmp_path / label
    scratch.mkdir()
    (scratch / "library").mkdir()
    (scratch / "library" / "megapool_loaders.py").write_text(LOADERS_MODULE, encoding="utf-8")
    (scratch / "hosts.yml").write_text("regions:\n  hosts:\n    eu-north-1:\n    us-east-1:\n", encoding="utf-8")
    (scratch / "play.yml").write_text(PLAYBOOK.format(scratch=scratch, closed=_closed_port()), encoding="utf-8")
    (scratch / "included.yml").write_text(INCLUDED, encoding="utf-8")
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
    loaders = {}
    for task in output["plays"][0]["tasks"]:
        for host, outcome in sorted(task["hosts"].items()):
            if task["task"]["name"] in PROCESS_TASKS:
                processes.setdefault(host, set()).add(outcome["stdout"])
                continue
            if task["task"]["name"] in LOADER_TASKS:
                loaders.setdefault(host, []).extend(outcome["loaders"])
                loaders.setdefault(host + " clients", []).append(outcome["client"])
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
                    if task["task"]["name"] in ("The interpreter is the one given", CPUS_TASK)
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
    return [{"rows": rows, "stats": stats, "written": written}], processes, result.stderr, loaders


@pytest.fixture(scope="module")
def linear_run(tmp_path_factory):
    """The play under ansible-core's own linear strategy: what both tests compare with."""
    return _run(tmp_path_factory.mktemp("strategies"), "linear", ANSIBLE_STRATEGY="linear")


def test_the_default_strategy_is_mitogen_and_gives_the_same_results_as_linear(tmp_path, linear_run):
    """mitogen is in requirements.txt: without it this test fails (the default falls back to linear, one process per
    task), it is never skipped."""
    linear, linear_interpreters = linear_run[:2]
    default, default_interpreters, stderr, _loaders = _run(tmp_path, "default")

    assert default == linear
    # mitogen ran the play: each host's tasks in one interpreter, the hosts in two (the strategy's one interpreter
    # per host: mitogen's own key would have both in one, which runs one call at a time); linear starts one per task.
    assert [len(pids) for pids in default_interpreters.values()] == [1, 1]
    assert default_interpreters["eu-north-1"] != default_interpreters["us-east-1"]
    assert [len(pids) for pids in linear_interpreters.values()] == [2, 2]
    assert "mitogen is unavailable" not in stderr
    rows = linear[0]["rows"]
    # What the playbook is for: each kind happened (so equal results are not two empty runs).
    assert [r["changed"] for r in rows if r["task"].startswith("A file in check mode")] == [True, True]
    assert linear[0]["written"] == ["eu-north-1.txt", "us-east-1.txt"]
    assert [r["failed"] for r in rows if r["task"] == "Probe a closed port"] == [True, True]
    assert {r["stdout"] for r in rows if r["task"] == "The interpreter is the one given"} == {sys.prefix}
    # Workers and module processes may use every CPU this test may use (mitogen's CPU pinning is off: on fewer than
    # four CPUs it put the controller, the workers and every interpreter on one).
    with open("/proc/self/status", encoding="utf-8") as status:
        cpus = next(line.split()[1] for line in status if line.startswith("Cpus_allowed_list"))
    assert {r["stdout"] for r in rows if r["task"] == CPUS_TASK} == {"worker %s module %s" % (cpus, cpus)}
    assert linear[0]["stats"]["us-east-1"]["ignored"] == 2 and linear[0]["stats"]["eu-north-1"]["ignored"] == 0
    assert linear[0]["stats"]["us-east-1"]["rescued"] == 2 and linear[0]["stats"]["eu-north-1"]["rescued"] == 1
    summaries = {r["host"]: r["facts"].split() for r in rows if r["task"] == "Facts set by a module"}
    assert summaries["us-east-1"][-3:] == ["refused", "us-east-1", "3"], summaries
    assert summaries["eu-north-1"][-1] == "3" and "refused" not in summaries["eu-north-1"], summaries
    assert [r["skipped"] for r in rows if r["task"].startswith("A module skipped")] == [False, True]
    assert [r["skipped"] for r in rows if r["task"].startswith("A condition only")] == [False, False]
    assert [r["skipped"] for r in rows if r["task"] == "A module over an empty list"] == [True, True]


WHERE_FILTER = """
import os


def where(value, path):
    with open(path, "a", encoding="utf-8") as log:
        log.write("%s %d\\n" % (value, os.getpid()))
    return value


class FilterModule:
    def filters(self):
        return {"where": where}
"""

WHERE_PLAYBOOK = """
- name: Where each task is templated
  hosts: regions
  gather_facts: false
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    log: "{{ playbook_dir }}/where.log"
  tasks:
    - name: A fact
      ansible.builtin.set_fact:
        fact: "{{ 'set_fact' | where(log) }}"
    - name: A check
      ansible.builtin.assert:
        that: ('assert' | where(log)) == 'assert'
    - name: A message
      ansible.builtin.debug:
        msg: "{{ 'debug' | where(log) }}"
    - name: A module whose condition is false
      ansible.builtin.command: /bin/false
      when: ('skipped' | where(log)) == 'never'
    - name: A module whose condition is true
      ansible.builtin.command: /bin/true
      when: ('module' | where(log)) == 'module'
      changed_when: false
    - name: A fact that reads (a lookup)
      ansible.builtin.set_fact:
        home: "{{ ('lookup' ~ lookup('ansible.builtin.env', 'HOME')[:0]) | where(log) }}"
    - name: A module over an empty list
      ansible.builtin.command: /bin/true
      loop: "{{ [] if ('empty_loop' | where(log)) else [1] }}"
    - name: A module over a list
      ansible.builtin.command: /bin/true
      loop: "{{ [1] if ('loop_items' | where(log)) else [] }}"
      changed_when: false
    - name: A module with retries whose condition is false (it never gets to its retries)
      ansible.builtin.command: /bin/false
      when: ('skipped_until' | where(log)) == 'never'
      register: retried
      until: retried is succeeded
      retries: 2
      delay: 0
    - name: A fact with retries (they would wait in the controller)
      ansible.builtin.set_fact:
        retried_fact: "{{ 'compute_until' | where(log) }}"
      register: retried_fact_result
      until: retried_fact_result is succeeded
      retries: 2
      delay: 0
    - name: A delegated fact (the delegated host's variables)
      ansible.builtin.set_fact:
        delegated: "{{ 'delegated' | where(log) }}"
      delegate_to: "{{ inventory_hostname }}"
"""


@pytest.mark.parametrize("strategy", ["mitogen_linear", "mitogen_linear without mitogen", "linear"])
def test_tasks_that_only_compute_run_in_the_controller(tmp_path, strategy):
    """``set_fact``, ``assert``, ``debug``, a module task whose condition is false (also with retries) and one over an
    empty list are templated in the controller only (the pid of ansible-playbook), with mitogen or without it; a
    module that runs, a fact that names a lookup, a fact with retries and a delegated fact in a worker. ansible-core's
    linear forks a worker for every one (what makes this test able to fail)."""
    (tmp_path / "filter_plugins").mkdir()
    (tmp_path / "filter_plugins" / "where.py").write_text(WHERE_FILTER, encoding="utf-8")
    (tmp_path / "hosts.yml").write_text("regions:\n  hosts:\n    eu-north-1:\n    us-east-1:\n", encoding="utf-8")
    (tmp_path / "play.yml").write_text(WHERE_PLAYBOOK, encoding="utf-8")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_STRATEGY", None)
    if strategy == "linear":
        env["ANSIBLE_STRATEGY"] = "linear"
    elif strategy.endswith("without mitogen"):
        broken = tmp_path / "no-mitogen" / "ansible_mitogen"
        broken.mkdir(parents=True)
        (broken / "__init__.py").write_text('raise ImportError("no mitogen here")\n', encoding="utf-8")
        env["PYTHONPATH"] = str(broken.parent)
    with subprocess.Popen(
        [str(VENV_BIN / "ansible-playbook"), "-i", "hosts.yml", "play.yml"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as run:
        output = run.communicate(timeout=300)[0]
    assert run.returncode == 0, output[-3000:]
    pids: dict[str, set] = {}
    for line in (tmp_path / "where.log").read_text(encoding="utf-8").splitlines():
        label, pid = line.split()
        pids.setdefault(label, set()).add(int(pid))
    assert set(pids) == {
        "set_fact",
        "assert",
        "debug",
        "skipped",
        "module",
        "lookup",
        "empty_loop",
        "loop_items",
        "skipped_until",
        "compute_until",
        "delegated",
    }, pids
    in_controller = {label for label, seen in pids.items() if seen == {run.pid}}
    if strategy == "linear":
        assert in_controller == set(), pids
        assert len(pids["set_fact"]) == 2, pids  # one worker per host
    else:
        assert in_controller == {"set_fact", "assert", "debug", "skipped", "empty_loop", "skipped_until"}, pids
        assert run.pid not in pids["compute_until"] | pids["delegated"], pids
        # the module's condition and list: in the controller (false, empty?) and again in each host's worker
        assert run.pid in pids["module"] and len(pids["module"]) == 3, pids
        assert run.pid in pids["loop_items"] and len(pids["loop_items"]) == 3, pids
        assert run.pid not in pids["lookup"] and len(pids["lookup"]) == 2, pids


def test_without_mitogen_the_play_runs_with_linear_after_a_warning(tmp_path, linear_run):
    """An ``ansible_mitogen`` that cannot be imported (first on the controller's path) stands for a venv without
    mitogen or a mitogen that refuses the installed ansible-core: the same results as linear, one process per task,
    and a warning that says what to do."""
    broken = tmp_path / "no-mitogen" / "ansible_mitogen"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text('raise ImportError("no mitogen here")\n', encoding="utf-8")
    linear = linear_run[0]
    fallback, interpreters, stderr, _loaders = _run(tmp_path, "fallback", PYTHONPATH=str(broken.parent))

    assert fallback == linear
    assert [len(pids) for pids in interpreters.values()] == [2, 2]
    assert "strategy mitogen_linear: mitogen is unavailable (no mitogen here)" in " ".join(stderr.split())


@pytest.fixture(autouse=True)
def _ansible_environment_compile_put_back(monkeypatch):
    """Executing the strategy file keeps compiled templates in this process (``cache_compiled_templates``): put
    ansible-core's ``AnsibleEnvironment.compile`` back after each test."""
    from ansible._internal._templating._jinja_bits import AnsibleEnvironment
    from ansible.plugins.loader import filter_loader
    from ansible.plugins.loader import test_loader

    monkeypatch.setattr(AnsibleEnvironment, "compile", AnsibleEnvironment.compile)
    # and the loaders' get_with_context (resolve_collection_plugins_once)
    monkeypatch.setattr(filter_loader, "get_with_context", filter_loader.get_with_context)
    monkeypatch.setattr(test_loader, "get_with_context", test_loader.get_with_context)


def _strategy_python(script: str, *args: str, cache_home: Path | None = None) -> subprocess.CompletedProcess:
    """``script`` in a new interpreter (what it changes stays there), the strategy file's path as its first argument;
    ``cache_home`` as its ``XDG_CACHE_HOME`` (the user's directory of compiled templates is under it)."""
    strategy = str(ROOT / "ansible_plugins" / "strategy" / "mitogen_linear.py")
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_home)) if cache_home else None
    return subprocess.run(
        [sys.executable, "-c", script, strategy, *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    )


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
    # and every filter of the collection resolved once, kept for the workers (resolve_collection_plugins_once)
    from ansible.plugins.loader import filter_loader

    filters = {
        "megapool.aws." + name for file in files for name in sys.modules[package + file].FilterModule().filters()
    }
    assert len(filters) > 50
    assert filters <= set(filter_loader.get_with_context.megapool_resolved)
    assert planner._load_collections is not mitogens  # pylint: disable=protected-access
    ours, theirs = SimpleNamespace(_extra_sys_paths=set()), SimpleNamespace(_extra_sys_paths=set())
    planner._load_collections(ours)  # pylint: disable=protected-access
    mitogens(theirs)
    assert ours._extra_sys_paths == theirs._extra_sys_paths
    assert any(path.endswith("/ansible_collections/amazon/aws") for path in theirs._extra_sys_paths)


RESOLVE_CHECK = """
import importlib.util, json, sys
from ansible.plugins.loader import filter_loader, init_plugin_loader
init_plugin_loader()
before = [filter_loader.get("megapool.aws.inputs_fingerprint") for _ in range(2)]
spec = importlib.util.spec_from_file_location("megapool_strategy", sys.argv[1])
strategy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(strategy)
after = [filter_loader.get("megapool.aws.inputs_fingerprint") for _ in range(2)]
legacy = filter_loader.get_with_context("ansible.legacy.combine").object
print(json.dumps({
    "same_before": before[0] is before[1],
    "same_after": after[0] is after[1],
    "results": [before[0].j2_function({"a": 1}), after[0].j2_function({"a": 1})],
    "kept": sorted(filter_loader.get_with_context.megapool_resolved),
    "legacy": legacy is not None,
    "again": strategy.resolve_collection_plugins_once(),
}))
"""


def test_a_filter_with_a_collection_is_resolved_once_per_process():
    """ansible-core resolves ``megapool.aws.x`` again each time (new plugin objects, the package listed again);
    with the strategy loaded once per process, with the same result. ``ansible.legacy`` names go to ansible-core (they
    depend on the play's plugin paths), and loading the file again does not wrap the loader twice."""
    seen = json.loads(_strategy_python(RESOLVE_CHECK).stdout)

    assert seen["same_before"] is False
    assert seen["same_after"] is True
    assert seen["results"][0] == seen["results"][1] and len(seen["results"][0]) > 10
    assert seen["kept"] == ["megapool.aws.inputs_fingerprint"]
    assert seen["legacy"] is True
    assert seen["again"] is False


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


def test_the_sessions_of_a_hosts_modules_share_one_botocore_loader(tmp_path, linear_run):
    """``share_botocore_loaders`` ran in each host's interpreter: the four sessions of a host's two module runs got
    one data loader (its parsed JSON is kept for the play); under ``linear`` every session made its own."""
    linear_loaders = {host: ids for host, ids in linear_run[3].items() if not host.endswith(" clients")}
    default = _run(tmp_path, "loaders")[3]
    default_loaders = {host: ids for host, ids in default.items() if not host.endswith(" clients")}

    assert [len(set(ids)) for ids in default_loaders.values()] == [1, 1]
    assert [len(ids) for ids in default_loaders.values()] == [4, 4]
    assert [len(set(ids[:2])) for ids in linear_loaders.values()] == [2, 2]
    # keep_boto3_clients ran there too: the two tasks of a host got one client (ids of one process: comparable).
    assert [len(set(default[host + " clients"])) for host in ("eu-north-1", "us-east-1")] == [1, 1]


SHARE_CHECK = """
import importlib.util, json, os, sys
spec = importlib.util.spec_from_file_location("strategy", sys.argv[1])
strategy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(strategy)
import boto3, botocore.session
shared = strategy.share_botocore_loaders()
again = strategy.share_botocore_loaders()
sessions = [boto3.session.Session(region_name="eu-north-1") for _ in range(2)]
loaders = [session._session.get_component("data_loader") for session in sessions]
os.environ["AWS_DATA_PATH"] = sys.argv[2]
other = boto3.session.Session(region_name="eu-north-1")._session.get_component("data_loader")
models = [session.client("sts", endpoint_url="http://127.0.0.1:9").meta.service_model for session in sessions]
print(json.dumps({
    "shared": shared, "again": again,
    "one_loader": loaders[0] is loaders[1], "other_path": other is not loaders[0],
    "other_search_paths": sys.argv[2] in other.search_paths,
    "one_model": models[0]._service_description is models[1]._service_description,
    "operations": "GetCallerIdentity" in models[1].operation_names,
}))
"""


def test_share_botocore_loaders_gives_the_sessions_of_one_data_path_one_loader(tmp_path):
    """In a new interpreter (botocore's module is changed for good): two sessions, one loader, one parsed model, and
    the clients still work; another ``AWS_DATA_PATH`` gets its own loader; a second call changes nothing."""
    result = _strategy_python(SHARE_CHECK, str(tmp_path))
    assert json.loads(result.stdout.splitlines()[-1]) == {
        "shared": True,
        "again": False,
        "one_loader": True,
        "other_path": True,
        "other_search_paths": True,
        "one_model": True,
        "operations": True,
    }


KEEP_CHECK = """
import importlib.util, json, os, sys
spec = importlib.util.spec_from_file_location("strategy", sys.argv[1])
strategy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(strategy)
import boto3, botocore.config, botocore.session
os.environ.pop("AWS_MAX_ATTEMPTS", None)
kept, again = strategy.keep_boto3_clients(), strategy.keep_boto3_clients()
Session = boto3.session.Session
one, two, other_region = Session(region_name="eu-north-1"), Session(region_name="eu-north-1"), Session(region_name="us-east-1")
def sts(session, **extra):
    config = botocore.config.Config(user_agent_extra="x", retries={"mode": "standard", "max_attempts": 3})
    return session.client("sts", endpoint_url="http://127.0.0.1:9", config=config, aws_access_key_id="a",
                          aws_secret_access_key="b", **extra)
first, second = sts(one), sts(two)
other_key = sts(one, aws_session_token="t")
own_botocore = Session(botocore_session=botocore.session.Session(), region_name="eu-north-1")
read, write = os.pipe()
child = os.fork()
if child == 0:  # a forked process: none kept from its parent
    os.write(write, b"new" if Session(region_name="eu-north-1") is not one and sts(Session()) is not first else b"old")
    os._exit(0)
os.waitpid(child, 0)
forked = os.read(read, 3).decode()
os.environ["AWS_MAX_ATTEMPTS"] = "7"
after_environment = Session(region_name="eu-north-1")
print(json.dumps({
    "kept": kept, "again": again,
    "one_session": one is two, "other_region": other_region is not one, "region": other_region.region_name,
    "one_client": first is second, "other_arguments": other_key is not first,
    "other_environment": after_environment is not one and sts(after_environment) is not first,
    "not_plain": own_botocore is not Session(botocore_session=own_botocore._session, region_name="eu-north-1"),
    "works": first.meta.region_name == "eu-north-1" and "GetCallerIdentity" in first.meta.service_model.operation_names,
    "subclass": type("Own", (Session,), {})(region_name="eu-north-1") is not one,
    "forked": forked, "kept_in_parent": Session(region_name="eu-north-1") is Session(region_name="eu-north-1"),
}))
"""


def test_keep_boto3_clients_gives_the_same_settings_the_same_session_and_client():
    """In a new interpreter (boto3's class is changed for good): the same session arguments give one session, the same
    client arguments one client (a config of plain options too); another region, another credential, another
    ``AWS_*`` variable, a ``botocore_session`` object or a subclass give new ones; a forked process starts with none
    kept; a second call changes nothing."""
    result = _strategy_python(KEEP_CHECK)
    assert json.loads(result.stdout.splitlines()[-1]) == {
        "kept": True,
        "again": False,
        "one_session": True,
        "other_region": True,
        "region": "us-east-1",
        "one_client": True,
        "other_arguments": True,
        "other_environment": True,
        "not_plain": True,
        "works": True,
        "subclass": True,
        "forked": "new",
        "kept_in_parent": True,
    }


OTHER_BOTOCORE_CHECK = """
import importlib.util, sys
import botocore.session

del botocore.session.create_loader  # stands for a botocore that makes its loaders elsewhere
spec = importlib.util.spec_from_file_location("strategy", sys.argv[1])
strategy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(strategy)
print(strategy.share_botocore_loaders(), hasattr(botocore.session, "create_loader"))
"""


def test_with_another_botocore_the_loaders_are_left_alone():
    """``share_botocore_loaders`` runs in every local interpreter as it connects: with a botocore whose session does
    not make its loader through ``create_loader`` it changes nothing and raises nothing (the connection goes on)."""
    result = _strategy_python(OTHER_BOTOCORE_CHECK)
    assert result.stdout.split() == ["False", "False"]


def test_a_local_connection_gets_the_hosts_name_so_each_host_has_its_interpreter(monkeypatch):
    """mitogen keys its interpreters by the connection's parameters (``ContextService``): the strategy adds the
    host's name to a local connection's, as mitogen's ``remote_name`` (which refuses slashes)."""
    from ansible_mitogen import connection, services

    monkeypatch.setitem(connection.CONNECTION_METHOD, "local", connection.CONNECTION_METHOD["local"])
    monkeypatch.setattr(services.ContextService, "_connect", services.ContextService._connect)
    strategy = _strategy_module()
    strategy = _strategy_module()  # executed again (as ansible may): still one wrapper around mitogen's own

    spec = SimpleNamespace(python_path=lambda: ["/venv/bin/python"], inventory_name=lambda: "eu-north-1")
    per_host = connection.CONNECTION_METHOD["local"]
    assert per_host(spec) == {
        "method": "local",
        "kwargs": {"python_path": ["/venv/bin/python"], "remote_name": "megapool:eu-north-1"},
    }
    assert per_host.megapool_wraps is connection._connect_local  # pylint: disable=protected-access
    assert services.ContextService._connect.megapool_wraps.__name__ == "_connect"
    odd = SimpleNamespace(python_path=lambda: ["/venv/bin/python"], inventory_name=lambda: "a/b\\c")
    assert per_host(odd)["kwargs"]["remote_name"] == "megapool:a_b_c"
    assert [c.__name__ for c in strategy.StrategyModule.__mro__[1:3]] == ["ComputeTasksInController", "StrategyMixin"]
    assert strategy.StrategyModule.__mro__[2].__module__ == "ansible_mitogen.strategy"


TEMPLATES_CHECK = r"""
import importlib.util, json, sys
import jinja2
from ansible._internal._templating._jinja_bits import AnsibleEnvironment

spec = importlib.util.spec_from_file_location("strategy", sys.argv[1])
strategy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(strategy)  # the user's directory ($XDG_CACHE_HOME), else its own
if sys.argv[2] != "default":
    AnsibleEnvironment.compile = AnsibleEnvironment.compile.megapool_wraps
if sys.argv[2] not in ("off", "default"):
    assert strategy.cache_compiled_templates(sys.argv[2]) == sys.argv[2]
    assert strategy.cache_compiled_templates(sys.argv[2]) is None  # once per process

from ansible.template import Templar, trust_as_template

compiled = []
python_compile = jinja2.Environment._compile
jinja2.Environment._compile = lambda self, source, filename: compiled.append(1) or python_compile(self, source, filename)
templar = Templar(variables={"a": 1, "items": [1, 2, 3]})
cases = [
    ("sum", "{{ a + 1 }}", True),
    ("sum again", "{{ a + 1 }}", True),
    ("backslashes escaped", "{{ 'x\\ty' }}", True),
    ("backslashes as written", "{{ 'x\\ty' }}", False),
    ("header", "#jinja2:variable_start_string:'[[', variable_end_string:']]'\n[[ a ]] {{ a }}", True),
    ("no header", "[[ a ]] {{ a }}", True),
    ("block", "{% for i in items %}{{ i * a }},{% endfor %}", True),
    ("filter", "{{ items | map('string') | join('-') }}", True),
    ("syntax error", "{{ a + }}", True),
]
results = {}
for label, text, escape in cases:
    try:
        results[label] = repr(templar.template(trust_as_template(text), escape_backslashes=escape))
    except Exception as error:
        results[label] = type(error).__name__ + ": " + str(error).splitlines()[0]
print(json.dumps({"results": results, "compiled": len(compiled)}))
"""


def _templates(cache: str, cache_home: Path | None = None) -> dict:
    result = _strategy_python(TEMPLATES_CHECK, cache, cache_home=cache_home)
    return json.loads(result.stdout.splitlines()[-1])


def test_compiled_templates_are_kept_for_every_process_of_the_run_with_the_same_results(tmp_path):
    """Three processes render the same templates: without the cache; with it and an empty directory (each distinct
    template compiled once, and kept); with the directory the first one filled (none compiled). The results are the
    same, including the templates that differ only in compile settings (backslash escaping, a ``#jinja2:`` header)
    and a template that does not compile (raises each time, never kept)."""
    directory = tmp_path / "templates"
    directory.mkdir()

    without = _templates("off")
    first = _templates(str(directory))
    files = sorted(path.name for path in directory.iterdir())
    second = _templates(str(directory))

    assert first["results"] == without["results"] == second["results"]
    results = without["results"]
    assert results["sum"] == results["sum again"] == "2"
    assert results["backslashes escaped"] != results["backslashes as written"]
    assert results["header"] == "'1 {{ a }}'" and results["no header"] == "'[[ a ]] 1'"
    assert results["block"] == "'1,2,3,'" and results["filter"] == "'1-2-3'"
    assert results["syntax error"].startswith("AnsibleTemplateSyntaxError")
    assert without["compiled"] >= 8
    assert first["compiled"] == len(files) == 7  # the sum once, the syntax error never
    assert not [name for name in files if name.endswith(".partial")]
    assert second["compiled"] == 0
    assert sorted(path.name for path in directory.iterdir()) == files


def _kept(cache_home: Path) -> list[Path]:
    """The version directories under ``cache_home`` and their files."""
    parent = cache_home / "megapool-aws" / "templates"
    return sorted(parent.glob("*/*")) if parent.is_dir() else []


def test_compiled_templates_are_kept_between_runs_in_the_users_directory(tmp_path):
    """The strategy as loaded (no directory given) keeps them in the user's directory for this Python, Jinja and
    ansible-core: the next run (process) compiles none, with the same results as without the cache."""
    without = _templates("off", cache_home=tmp_path / "unused")
    first = _templates("default", cache_home=tmp_path)
    kept = _kept(tmp_path)
    second = _templates("default", cache_home=tmp_path)

    assert first["results"] == second["results"] == without["results"]
    assert first["compiled"] == len(kept) == 7 and second["compiled"] == 0
    assert len({path.parent for path in kept}) == 1
    assert oct(kept[0].parent.stat().st_mode & 0o777) == "0o700"
    assert _kept(tmp_path) == kept


def test_a_templates_directory_others_may_write_to_is_not_used(tmp_path):
    """Marshalled code is executed when read: a directory someone else may write to (here: everyone), or that is not
    a directory (a link), is refused, and the run keeps its templates in a directory of its own instead."""
    strategy = _strategy_module()
    directory = Path(strategy.kept_templates_directory(str(tmp_path)))
    directory.chmod(0o777)
    with pytest.raises(OSError, match="not a directory only this user may write to"):
        strategy.kept_templates_directory(str(tmp_path))

    run = _templates("default", cache_home=tmp_path)
    assert run["compiled"] == 7 and list(directory.iterdir()) == []

    directory.rmdir()
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    directory.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OSError, match="not a directory only this user may write to"):
        strategy.kept_templates_directory(str(tmp_path))


def test_the_directories_of_other_versions_go_when_unused_for_a_month(tmp_path):
    strategy = _strategy_module()
    parent = tmp_path / "megapool-aws" / "templates"
    old, recent = parent / "0123456789abcdef", parent / "fedcba9876543210"
    for directory in (old, recent):
        directory.mkdir(parents=True)
        (directory / "code").write_bytes(b"x")
    month_ago = time.time() - 31 * 86400
    os.utime(old, (month_ago, month_ago))

    ours = Path(strategy.kept_templates_directory(str(tmp_path)))
    os.utime(ours, (month_ago, month_ago))
    strategy.kept_templates_directory(str(tmp_path))

    assert sorted(path.name for path in parent.iterdir()) == sorted([ours.name, recent.name])


def test_the_template_directory_is_removed_by_the_process_that_made_it_only(tmp_path):
    """``atexit`` handlers may run in forked children too: only the process that made the directory removes it."""
    strategy = _strategy_module()
    directory = tmp_path / "templates"
    directory.mkdir()
    (directory / "code").write_bytes(b"x")

    strategy._remove_directory(os.getpid() + 1, str(directory))  # pylint: disable=protected-access
    assert (directory / "code").exists()
    strategy._remove_directory(os.getpid(), str(directory))  # pylint: disable=protected-access
    assert not directory.exists()


OTHER_CORE_CHECK = """
import importlib.util, sys
import ansible.playbook.base, ansible_mitogen.strategy  # what imports the name below, before it goes
from ansible._internal._templating import _jinja_bits

del _jinja_bits._TemplateCompileContext  # stands for an ansible-core whose templating module changed
spec = importlib.util.spec_from_file_location("strategy", sys.argv[1])
strategy = importlib.util.module_from_spec(spec)
spec.loader.exec_module(strategy)
print(hasattr(_jinja_bits.AnsibleEnvironment.compile, "megapool_wraps"))
"""


def test_with_another_ansible_core_templates_are_compiled_as_it_does_after_a_warning():
    """The template cache reads private names of ansible-core 2.19: when one is missing the strategy still loads,
    warns, and leaves ansible-core's compile alone (an optimisation never fails a run)."""
    result = _strategy_python(OTHER_CORE_CHECK)
    assert result.stdout.split() == ["False"]
    assert "compiled templates are not kept for the run" in " ".join(result.stderr.split())
