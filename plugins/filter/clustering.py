# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for one Erlang cluster across regions (docs/clustering.md). Pure; the planner is module_utils.clustering."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

# module_utils are imported in the filters: ansible-core loads every filter file of the collection in each worker
# process that resolves one of them (docs/benchmarks.md, "Warm workers").


def _namespace(region: Any, cluster: Any, env: Any, name: Any = None) -> str:
    from ansible_collections.megapool.aws.plugins.module_utils.clustering import discovery_namespace

    if isinstance(region, (list, tuple)) and len(region) == 2:
        region, name = region[0], region[1]
    if not region or not cluster or not env:
        raise AnsibleFilterError(
            "discovery_namespace expects a region, a cluster and an env, got %r, %r, %r" % (region, cluster, env)
        )
    return discovery_namespace(str(region), str(cluster), str(env), name)


def _namespace_errors(namespaces: Any, variable: str = "dns_discovery_namespace") -> list[str]:
    from ansible_collections.megapool.aws.plugins.module_utils.clustering import namespace_errors

    if not isinstance(namespaces, dict):
        raise AnsibleFilterError("discovery_namespace_errors expects {region: namespace}, got %r" % (namespaces,))
    return namespace_errors(namespaces, variable)


def _query(entries: Any) -> str:
    from ansible_collections.megapool.aws.plugins.module_utils.clustering import cluster_query

    if not isinstance(entries, (list, tuple)) or not all(isinstance(entry, dict) for entry in entries):
        raise AnsibleFilterError(
            "cluster_dns_query expects a list of {region, service, namespace}, got %r" % (entries,)
        )
    return cluster_query(entries)


def _peers(results: Any) -> list[dict[str, str]]:
    from ansible_collections.megapool.aws.plugins.module_utils.clustering import peer_vpcs

    if not isinstance(results, (list, tuple)) or not all(isinstance(result, dict) for result in results):
        raise AnsibleFilterError(
            "discovery_peer_vpcs expects the results of a loop of ec2_vpc_net_info over regions, got %r" % (results,)
        )
    return peer_vpcs(results)


def _distribution(mode: Any, port_min: Any, port_max: Any, port: Any = None) -> dict[str, Any]:
    from ansible_collections.megapool.aws.plugins.module_utils.clustering import distribution

    return distribution(mode, port_min, port_max, port)


class FilterModule:  # pylint: disable=too-few-public-methods
    """megapool.aws clustering filters."""

    def filters(self) -> dict[str, Any]:
        return {
            "discovery_namespace": _namespace,
            "discovery_namespace_errors": _namespace_errors,
            "cluster_dns_query": _query,
            "erlang_distribution": _distribution,
            "discovery_peer_vpcs": _peers,
        }
