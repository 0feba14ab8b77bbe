# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ELBv2 attribute planning from what the stock info modules already read (issue 15: no module process when nothing
differs). The comparison is module_utils.elbv2_attributes', the one megapool.aws.elbv2_attributes uses."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

# module_utils are imported in the filters: ansible-core loads every filter file of the collection in each worker
# process that resolves one of them (docs/benchmarks.md, "Warm workers").


def elbv2_attributes_to_set(found, wanted):
    """The wanted attributes (AWS keys) whose value differs from ``found``, as megapool.aws.elbv2_attributes would write
    them; empty when nothing differs.

    ``found`` is a load balancer of ``amazon.aws.elb_application_lb_info`` (``include_attributes: true``) or a target
    group of ``community.aws.elb_target_group_info``: both list every attribute the resource has with its key's dots
    turned into underscores (``idle_timeout.timeout_seconds`` -> ``idle_timeout_timeout_seconds``), values as AWS's
    strings. A resource not found (empty, null) differs in every wanted key; so does a key it does not list (an
    endpoint may list an attribute only once it is set), as in the module.
    """
    from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import AttributesError
    from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import normalize_attributes
    from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import normalize_value
    from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import plan_attributes

    try:
        wanted = normalize_attributes(wanted)
        current = {}
        if isinstance(found, Mapping):
            for key in wanted:
                listed = key.replace(".", "_")
                if listed in found and found[listed] is not None:
                    current[key] = normalize_value(key, found[listed])
    except AttributesError as exc:
        raise AnsibleFilterError(str(exc)) from exc
    return plan_attributes(current, wanted)


class FilterModule:
    """megapool.aws ELBv2 filters."""

    def filters(self):
        return {"elbv2_attributes_to_set": elbv2_attributes_to_set}
