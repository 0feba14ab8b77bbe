# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One xdist worker per test file (or per named group of files), longest first: `pytest -n 2 --dist loadgroup`.

pytest-xdist's own ``loadgroup`` keeps tests together by writing ``@<group>`` into each item's nodeid on the worker.
pytest 9 keeps the nodeid elsewhere (``Node._id``), so that write is lost and every test becomes a unit of its own
(pytest-xdist issue #1386, open; fix proposed in PR #1388): the tests of one file ran on both workers, a module
fixture's converge was built again on each worker and after every switch between files (60-160 s of *setup* for
several cases of one file), and order-dependent tests ran against another file's emulator state.

This scheduler does not depend on the nodeid: the unit of work is the test file, or the group ``shared`` names for
it (files that must share one worker: the network-namespace lab, the demo image store). Each file still says so
with its ``pytest.mark.xdist_group``; ``check_groups`` (called on the workers at collection) fails the run when a
mark and ``shared`` disagree, so the two cannot drift apart. Units go out longest first (``weights``: seconds a file
takes, from the stage's ``--durations`` list; unknown files count 10 s per test), which keeps the two workers' ends
close together (longest-processing-time-first).
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from xdist.scheduler import LoadScopeScheduling


def group_of(nodeid: str, shared: Mapping[str, str]) -> str:
    """The unit of work of a test: its file's group in ``shared`` (keyed by file name), else the file's path."""
    path = nodeid.split("::", 1)[0]
    return shared.get(path.rsplit("/", 1)[-1], path)


class FileGroupScheduling(LoadScopeScheduling):
    """xdist's load-scope scheduling with the scope of :func:`group_of`, the largest ``weights`` first."""

    def __init__(self, config: pytest.Config, log, shared: Mapping[str, str], weights: Mapping[str, float]) -> None:
        super().__init__(config, log)
        self.shared = dict(shared)
        self.weights = dict(weights)

    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid, self.shared)

    def _weight(self, scope: str, nodeids) -> float:
        return self.weights.get(scope.rsplit("/", 1)[-1], 10.0 * len(nodeids))

    def _assign_work_unit(self, node) -> None:
        # LoadScopeScheduling hands out the first unit of its queue (ordered by tests per unit): hand out the heaviest.
        heaviest = max(self.workqueue, key=lambda scope: self._weight(scope, self.workqueue[scope]))
        self.workqueue.move_to_end(heaviest, last=False)
        super()._assign_work_unit(node)


def check_groups(items, shared: Mapping[str, str]) -> dict[str, str]:
    """For each test whose ``xdist_group`` mark is not the group ``shared`` gives its file (a marked file missing from
    ``shared``, or a file in ``shared`` without the mark): what is wrong and the fix, by nodeid."""
    wrong = {}
    for item in items:
        marks = {
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        }
        name = item.path.name
        expected = {shared[name]} if name in shared else set()
        if marks != expected:
            wrong[item.nodeid] = (
                "%s: xdist_group %s, conftest's SHARED_WORKER %s; the scheduler reads only SHARED_WORKER in"
                " tests/integration/conftest.py: give the file its group there, or remove the mark"
                % (item.nodeid, sorted(marks) or "none", sorted(expected) or "none")
            )
    return wrong
