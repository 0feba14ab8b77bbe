# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""benchmarks/ci_profile.py: the playbook a sampled process belongs to (its "by playbook" lines)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[3] / "benchmarks" / "ci_profile.py"
_spec = importlib.util.spec_from_file_location("megapool_ci_profile", _PATH)
ci_profile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ci_profile)

PLAYBOOK = ["/v/bin/python", "/v/bin/ansible-playbook", "/r/playbooks/site.yml", "-i", "inv"]
FORK = (PLAYBOOK, "ansible-playbook")
SH = (["/bin/sh", "-c", "/v/bin/python && sleep 0"], "sh")


@pytest.mark.parametrize(
    ("argv", "ancestors", "expected"),
    [
        (PLAYBOOK, [], "site.yml"),  # the controller itself
        (PLAYBOOK, [FORK], "site.yml"),  # a fork: the same command line as its parent
        (["/v/bin/python"], [SH, FORK, FORK], "site.yml"),  # a module process under its sh and the fork
        (["/v/bin/python", "/v/bin/ansible-playbook", "/r/playbooks/deploy.yaml"], [], "deploy.yaml"),
        (["/v/bin/python", "/v/bin/ansible-playbook", "--version"], [], "?"),  # no playbook named
        (["/v/bin/python", "/v/bin/pytest", "tests/x.yml"], [], None),  # not under ansible-playbook
        (["/v/bin/python", "-m", "moto.server"], [(["/v/bin/python", "scripts/emulator.py"], "python")], None),
        # the nearest ansible-playbook wins (a playbook a test's playbook starts)
        (
            ["/v/bin/python"],
            [(["/v/bin/python", "/v/bin/ansible-playbook", "inner.yml"], "python"), FORK],
            "inner.yml",
        ),
    ],
)
def test_playbook_of(argv, ancestors, expected):
    assert ci_profile.playbook_of(argv, ancestors) == expected
