# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What site.yml's Summary play prints and publishes per region (module_utils/site_summary.py decides it)."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

# module_utils are imported in the filters: ansible-core loads every filter file of the collection in each worker
# process that resolves one of them (docs/benchmarks.md, "Warm workers").


def _site_summary(
    region,
    network=None,
    nat_mode=None,
    peerings=None,
    ecs_hosts=None,
    alb=None,
    dns=None,
    certificate_arn=None,
    database=None,
    release=None,
):
    from ansible_collections.megapool.aws.plugins.module_utils.site_summary import site_summary

    if not isinstance(region, str) or not region:
        raise AnsibleFilterError("site_summary: the input must be the region (inventory_hostname), got %r" % (region,))
    for name, value in (
        ("network", network),
        ("ecs_hosts", ecs_hosts),
        ("alb", alb),
        ("dns", dns),
        ("database", database),
        ("release", release),
    ):
        if value is not None and not isinstance(value, Mapping):
            raise AnsibleFilterError(
                "site_summary: %s must be the role's %s_outputs (a dictionary) or null, got %r" % (name, name, value)
            )
    if peerings is not None and not isinstance(peerings, (list, tuple)):
        raise AnsibleFilterError(
            "site_summary: peerings must be a list (the peering role's peering_result.peerings), got %r" % (peerings,)
        )
    return site_summary(region, network, nat_mode, peerings, ecs_hosts, alb, dns, certificate_arn, database, release)


def _site_outputs(region, network=None, ecs_hosts=None, alb=None, dns=None, release=None):
    from ansible_collections.megapool.aws.plugins.module_utils.site_summary import site_outputs

    if not isinstance(region, str) or not region:
        raise AnsibleFilterError("site_outputs: the input must be the region (inventory_hostname), got %r" % (region,))
    for name, value in (
        ("network", network),
        ("ecs_hosts", ecs_hosts),
        ("alb", alb),
        ("dns", dns),
        ("release", release),
    ):
        if value is not None and not isinstance(value, Mapping):
            raise AnsibleFilterError(
                "site_outputs: %s must be the role's %s_outputs (a dictionary) or null, got %r" % (name, name, value)
            )
    return site_outputs(region, network, ecs_hosts, alb, dns, release)


class FilterModule:
    """megapool.aws site summary filters."""

    def filters(self):
        return {"site_summary": _site_summary, "site_outputs": _site_outputs}
