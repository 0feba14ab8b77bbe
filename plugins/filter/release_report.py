# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each region runs after a deploy or rollback (module_utils/release_report.py decides it)."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

# module_utils are imported in the filters: ansible-core loads every filter file of the collection in each worker
# process that resolves one of them (docs/benchmarks.md, "Warm workers").


def _release_report(services, task_definitions=None, regions=None, canary=None):
    from ansible_collections.megapool.aws.plugins.module_utils.release_report import release_report

    for name, value in (
        ("services", services),
        ("task_definitions", task_definitions or []),
        ("regions", regions or []),
    ):
        if not isinstance(value, (list, tuple)):
            raise AnsibleFilterError(
                "release_report: %s must be a list (the results of a loop), got %r" % (name, value)
            )
    for result in list(services) + list(task_definitions or []):
        if not isinstance(result, Mapping):
            raise AnsibleFilterError("release_report: every result must be a dictionary, got %r" % (result,))
    return release_report(list(regions or []), list(services), list(task_definitions or []), canary)


class FilterModule:
    """megapool.aws release report filters."""

    def filters(self):
        return {"release_report": _release_report}
