# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/compat/documented.py: the compat stage's check that ansible-doc --json documented every listed name."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "documented", Path(__file__).resolve().parents[2] / "compat" / "documented.py"
)
documented = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(documented)

DOCS = {
    "megapool.aws.subnet_plan": {"doc": {"name": "subnet_plan"}},
    "megapool.aws.network": {"collection": "megapool.aws", "entry_points": {"main": {}}},
    "megapool.aws.release_checks": {},  # what 2.17 answers for a filter without DOCUMENTATION
    "megapool.aws.broken": {"doc": None},
}


@pytest.mark.parametrize(
    ("names", "missing"),
    [
        (["megapool.aws.subnet_plan", "megapool.aws.network"], []),
        (["megapool.aws.release_checks", "megapool.aws.subnet_plan"], ["megapool.aws.release_checks"]),
        (["megapool.aws.broken", "megapool.aws.absent"], ["megapool.aws.broken", "megapool.aws.absent"]),
    ],
)
def test_undocumented(names, missing):
    assert documented.undocumented(DOCS, names) == missing


def test_main_exit_status_and_message(tmp_path, capsys):
    doc = tmp_path / "doc.json"
    doc.write_text('{"a": {"doc": {"x": 1}}, "b": {}}', encoding="utf-8")
    assert documented.main([str(doc), "a"]) == 0
    assert documented.main([str(doc), "a", "b"]) == 1
    assert capsys.readouterr().out == "no documentation: b\n"
