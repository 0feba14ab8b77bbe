# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the edge roles (alb, dns) use; the logic lives in module_utils (elbv2_attributes, alb_target_group)."""

from __future__ import annotations

# module_utils are imported in the filters: ansible-core loads every filter file of the collection in each worker
# process that resolves one of them (docs/benchmarks.md, "Warm workers").


def _alb_idle_timeout_errors(alb_idle_timeout, app_idle_timeout):
    from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import idle_timeout_errors

    return idle_timeout_errors(alb_idle_timeout, app_idle_timeout)


def _target_group_drift(found, wanted):
    from ansible_collections.megapool.aws.plugins.module_utils.alb_target_group import target_group_drift

    return target_group_drift(found or None, dict(wanted))


class FilterModule:
    """megapool.aws edge filters."""

    def filters(self):
        return {"alb_idle_timeout_errors": _alb_idle_timeout_errors, "target_group_drift": _target_group_drift}
