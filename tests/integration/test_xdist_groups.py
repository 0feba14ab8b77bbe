# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The integration stage's scheduling (conftest.py, xdist_groups.py) in a pytest run of its own, `-n 2 --dist loadgroup`
as tests/run-all.sh runs it: each file's tests run on one worker, in order, its module fixture built once; the files
of a SHARED_WORKER group share a worker; a test whose mark disagrees with SHARED_WORKER fails at its setup, with the fix.

Under pytest 9 xdist's own loadgroup lost every group (pytest-xdist issue #1386): the fixtures here were built on
both workers, and again after each switch between files."""

from __future__ import annotations

import collections
import os
import subprocess
import sys
from pathlib import Path

from xdist_groups import group_of

HERE = Path(__file__).resolve().parent

# The tree's conftest loads tests/integration/conftest.py under another name and keeps its two hooks.
CONFTEST = """
import importlib.util, sys
sys.path.insert(0, %r)
spec = importlib.util.spec_from_file_location("integration_conftest", %r)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
pytest_xdist_make_scheduler = module.pytest_xdist_make_scheduler
pytest_collection_modifyitems = module.pytest_collection_modifyitems
pytest_runtest_setup = module.pytest_runtest_setup
""" % (str(HERE), str(HERE / "conftest.py"))

TEST_FILE = """
import os
import pytest
%s
LOG = %r

def _log(what):
    with open(LOG, "a") as log:
        log.write("%%s %%s %%s\\n" %% (what, __name__, os.environ.get("PYTEST_XDIST_WORKER", "main")))

@pytest.fixture(scope="module")
def built():
    _log("build")

@pytest.mark.parametrize("case", range(6))
def test_case(case, built):
    _log("test%%d" %% case)

def test_last(built):
    _log("last")
"""


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    log = tmp_path / "log"
    for name, mark in files.items():
        (tmp_path / name).write_text(TEST_FILE % (mark, str(log)))
    return log


def _pytest(tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["MEGAPOOL_EMULATOR_PORT"] = "1"  # never reached: these tests start no emulator
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            "2",
            "--dist",
            "loadgroup",
            "-rf",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_each_file_runs_on_one_worker_in_order_and_a_shared_group_on_one(tmp_path):
    log = _tree(
        tmp_path,
        {
            "test_alpha.py": "",
            "test_beta.py": "",
            "test_gamma.py": "",
            "test_erlang_discovery.py": 'pytestmark = pytest.mark.xdist_group("netns")',
            "test_ssh_bastion.py": 'pytestmark = pytest.mark.xdist_group("netns")',
        },
    )
    result = _pytest(tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = [line.split() for line in log.read_text().splitlines()]
    builds = collections.Counter(module for what, module, _worker in lines if what == "build")
    assert builds == {
        m: 1 for m in ("test_alpha", "test_beta", "test_gamma", "test_erlang_discovery", "test_ssh_bastion")
    }, builds
    workers = collections.defaultdict(set)
    order = collections.defaultdict(list)
    for what, module, worker in lines:
        workers[module].add(worker)
        order[module].append(what)
    assert all(len(found) == 1 for found in workers.values()), dict(workers)
    assert workers["test_erlang_discovery"] == workers["test_ssh_bastion"], dict(workers)
    assert len(set().union(*workers.values())) == 2, "one worker ran everything: %s" % dict(workers)
    expected = ["build"] + ["test%d" % case for case in range(6)] + ["last"]
    assert all(found == expected for found in order.values()), dict(order)


def test_a_mark_that_disagrees_with_shared_worker_fails_its_tests_with_the_fix(tmp_path):
    log = _tree(
        tmp_path, {"test_alpha.py": 'pytestmark = pytest.mark.xdist_group("elsewhere")', "test_ssh_bastion.py": ""}
    )
    result = _pytest(tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "test_alpha.py::test_last: xdist_group ['elsewhere'], conftest's SHARED_WORKER none" in output, output[
        -3000:
    ]
    assert "test_ssh_bastion.py::test_last: xdist_group none, conftest's SHARED_WORKER ['netns']" in output, output[
        -3000:
    ]
    assert "give the file its group there, or remove the mark" in output, output[-3000:]
    assert "14 errors" in output, output[-3000:]  # each test of both files, at its setup
    assert not log.exists(), "a test whose group is wrong ran"


def test_group_of():
    shared = {"test_ssh_bastion.py": "netns"}
    assert group_of("tests/integration/test_ssh_bastion.py::test_x[command]", shared) == "netns"
    assert group_of("tests/integration/test_site.py::test_y", shared) == "tests/integration/test_site.py"
    assert group_of("tests/integration/test_site.py::Class::test_y[a::b]", shared) == "tests/integration/test_site.py"
