# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What site.yml's Summary play prints and publishes per region: pure functions of the roles' published outputs (no I/O).

- ``site_summary``: the dict the play prints for a region (filter ``megapool.aws.site_summary``);
- ``site_outputs``: the region's entry of ``megapool_outputs``, the artifact the play publishes with ``set_stats`` for
  AWX workflows (filter ``megapool.aws.site_outputs``; docs/awx.md).
"""

from __future__ import annotations

import re
from typing import Any
from typing import Mapping
from typing import Optional
from typing import Sequence

NOTHING_BUILT = "nothing built yet (check mode)"
NOTHING_DEPLOYED = "nothing deployed yet (check mode)"


def _text(*parts: Any) -> str:
    """Jinja's ``a ~ ' ' ~ b``: each part as text (None as ``None``), joined by a space."""
    return " ".join(str(part) for part in parts)


def region_peerings(region: str, peerings: Optional[Sequence[Mapping[str, Any]]]) -> list[str]:
    """``<name>: <status>`` of each peering of the mesh whose name mentions ``region`` (regular-expression search, as
    Jinja's ``search`` test did), in the mesh's order."""
    pattern = re.compile(region)
    return [
        "%s: %s" % (peering.get("name"), peering.get("status"))
        for peering in peerings or []
        if pattern.search(str(peering.get("name", "")))
    ]


def site_summary(
    region: str,
    network: Optional[Mapping[str, Any]] = None,
    nat_mode: Optional[str] = None,
    peerings: Optional[Sequence[Mapping[str, Any]]] = None,
    ecs_hosts: Optional[Mapping[str, Any]] = None,
    alb: Optional[Mapping[str, Any]] = None,
    dns: Optional[Mapping[str, Any]] = None,
    certificate_arn: Optional[str] = None,
    database: Optional[Mapping[str, Any]] = None,
    release: Optional[Mapping[str, Any]] = None,
) -> Any:
    """The summary of one region: a dict of what each layer built, or a line saying nothing is built yet.

    The arguments are the roles' ``<role>_outputs`` (None where a role has published nothing, as in check mode of a
    first run), ``network_nat_mode``, the peering mesh's ``peerings`` and ``dns_certificate_arn``. A layer that is
    not built yet is the line ``nothing built yet (check mode)`` (the release: ``nothing deployed yet (check mode)``).
    """
    if network is None:
        return NOTHING_BUILT
    if ecs_hosts is not None:
        ecs: Any = {
            "cluster": ecs_hosts.get("cluster_name"),
            "capacity_provider": ecs_hosts.get("capacity_provider"),
            "auto_scaling_group": ecs_hosts.get("auto_scaling_group_name"),
            "instances": _text(
                ecs_hosts.get("architecture"), "/".join(str(name) for name in ecs_hosts.get("instance_types") or [])
            ),
            "task_memory_mib": ecs_hosts.get("task_memory_mib"),
        }
    else:
        ecs = NOTHING_BUILT
    built_alb = alb or {}
    if built_alb.get("dns_name"):
        discovery = (dns or {}).get("discovery") or {}
        edge: Any = {
            "load_balancer": built_alb["dns_name"],
            "certificate": certificate_arn,
            "names": (dns or {}).get("names") or [],
            "discovery": "%s.%s" % (discovery.get("service_name"), discovery.get("namespace_name"))
            if dns is not None
            else None,
        }
    else:
        edge = NOTHING_BUILT
    built_database = database or {}
    if built_database.get("writer_endpoint"):
        db: Any = {
            "role": built_database.get("role"),
            "writer": built_database.get("writer_endpoint"),
            "reader": built_database.get("reader_endpoint"),
            "port": built_database.get("port"),
        }
    else:
        db = NOTHING_BUILT
    deployed = release or {}
    release_line = (
        _text(deployed["task_definition"], deployed.get("image"))
        if deployed.get("task_definition")
        else NOTHING_DEPLOYED
    )
    return {
        "vpc": _text(network.get("vpc_id"), network.get("cidr")),
        "azs": network.get("azs"),
        "public_subnets": network.get("public_subnet_ids"),
        "private_subnets": network.get("private_subnet_ids"),
        "nat_mode": nat_mode,
        "security_groups": network.get("security_groups"),
        "bastion": network.get("bastion"),
        "peerings": region_peerings(region, peerings),
        "ecs": ecs,
        "edge": edge,
        "database": db,
        "release": release_line,
    }


# The keys of a region's entry in megapool_outputs: (key, role, the key in that role's <role>_outputs). A contract with
# AWX workflows (docs/awx.md): keys are added, never renamed.
OUTPUT_KEYS = (
    ("vpc_id", "network", "vpc_id"),
    ("vpc_cidr", "network", "cidr"),
    ("ecs_cluster", "ecs_hosts", "cluster_name"),
    ("capacity_provider", "ecs_hosts", "capacity_provider"),
    ("auto_scaling_group", "ecs_hosts", "auto_scaling_group_name"),
    ("alb_name", "alb", "name"),
    ("alb_dns_name", "alb", "dns_name"),
    ("alb_arn", "alb", "arn"),
    ("target_group_arn", "alb", "target_group_arn"),
    ("app_domain", "dns", "app_domain"),
    ("certificate_arn", "dns", "certificate_arn"),
    ("service", "release", "service"),
    ("task_definition", "release", "task_definition"),
    ("image", "release", "image"),
    ("version", "release", "version"),
)


def site_outputs(
    region: str,
    network: Optional[Mapping[str, Any]] = None,
    ecs_hosts: Optional[Mapping[str, Any]] = None,
    alb: Optional[Mapping[str, Any]] = None,
    dns: Optional[Mapping[str, Any]] = None,
    release: Optional[Mapping[str, Any]] = None,
) -> dict[str, dict[str, Any]]:
    """``{region: {key: value}}``, every key of ``OUTPUT_KEYS``: what the roles published in their ``<role>_outputs``,
    None where a role published nothing (yet, e.g. in check mode) or not that key. Keyed by region, so that
    ``set_stats`` with ``aggregate`` merges the regions into one dict."""
    published = {"network": network, "ecs_hosts": ecs_hosts, "alb": alb, "dns": dns, "release": release}
    return {region: {key: (published[role] or {}).get(name) for key, role, name in OUTPUT_KEYS}}
