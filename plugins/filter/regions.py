# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for "regions are hosts"; the logic lives in module_utils.inventory_regions."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

# module_utils are imported in the filters: ansible-core loads every filter file of the collection in each worker
# process that resolves one of them (docs/benchmarks.md, "Warm workers").


def _region_hosts(hosts, hostvars):
    from ansible_collections.megapool.aws.plugins.module_utils.inventory_regions import region_hosts

    try:
        return region_hosts(list(hosts or []), hostvars)
    except ValueError as exc:
        raise AnsibleFilterError("region_hosts: %s" % exc) from None


def _drain_plan(hosts, hostvars, regions):
    from ansible_collections.megapool.aws.plugins.module_utils.inventory_regions import drain_plan

    try:
        return drain_plan(list(hosts or []), hostvars, dict(regions or {}))
    except KeyError as exc:
        raise AnsibleFilterError(
            "drain_plan: a selected host has no %s: select app hosts of the megapool.aws.ec2_cluster inventory" % exc
        ) from None


def _drain_report(results, state):
    from ansible_collections.megapool.aws.plugins.module_utils.inventory_regions import drain_report

    return drain_report(list(results or []), str(state))


class FilterModule:
    """megapool.aws region filters."""

    def filters(self):
        return {"region_hosts": _region_hosts, "drain_plan": _drain_plan, "drain_report": _drain_report}
