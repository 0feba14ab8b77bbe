# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that let one read of a VPC's security groups decide which to write (module_utils.security_groups)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

# module_utils are imported in the filters: ansible-core loads every filter file of the collection in each worker
# process that resolves one of them (docs/benchmarks.md, "Warm workers").


def _to_converge(wanted, existing, vpc_id=None):
    from ansible_collections.megapool.aws.plugins.module_utils.security_groups import SecurityGroupSpecError
    from ansible_collections.megapool.aws.plugins.module_utils.security_groups import security_groups_to_converge

    try:
        return security_groups_to_converge(list(wanted or []), list(existing or []), vpc_id)
    except SecurityGroupSpecError as exc:
        raise AnsibleFilterError(str(exc)) from None


def _converged_ids(wanted, existing, results, vpc_id=None):
    from ansible_collections.megapool.aws.plugins.module_utils.security_groups import converged_security_group_ids

    return converged_security_group_ids(list(wanted or []), list(existing or []), list(results or []), vpc_id)


class FilterModule:
    def filters(self):
        return {
            "security_groups_to_converge": _to_converge,
            "converged_security_group_ids": _converged_ids,
        }
