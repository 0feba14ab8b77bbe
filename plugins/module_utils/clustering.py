# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning for ONE Erlang cluster across regions (docs/clustering.md). No boto3, no I/O.

- :func:`discovery_namespace` - the Cloud Map private DNS namespace of a region: ``<region>.<domain>``, the domain
  ``dns_discovery_namespace`` (default ``<cluster>.<env>.internal``). Every region's namespace needs its own name:
  its private hosted zone is associated with every other region's VPC, and Route 53 associates a VPC with only one
  private hosted zone of a name (``ConflictingDomainExists``,
  https://docs.aws.amazon.com/Route53/latest/APIReference/API_AssociateVPCWithHostedZone.html).
- :func:`peer_vpcs` - the other regions' VPCs (read by tags per region) for the namespace's ``associated_vpcs``.
- :func:`namespace_errors` - the namespaces of all regions, checked (distinct, valid DNS names).
- :func:`cluster_query` - ``DNS_CLUSTER_QUERY``: every region's ``<service>.<namespace>``, comma-separated, in region
  order (the same value in every region).
- :func:`distribution` - Erlang distribution settings for ``epmd`` (a fixed listen range plus epmd on 4369) or
  ``epmdless`` (one fixed port, no epmd): the ``ERL_AFLAGS`` of the tasks and the TCP ports the cluster security
  group opens between the regions' VPCs.
"""

from __future__ import annotations

import re
from typing import Any
from typing import Iterable
from typing import Mapping

DISTRIBUTIONS = ("epmd", "epmdless")
EPMD_PORT = 4369
# A DNS name: labels of letters, digits and hyphens (lower case), at most 253 characters.
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class ClusteringError(ValueError):
    """Input the planner refuses; the message names the variable and the fix."""


def _domain(name: str) -> bool:
    labels = name.split(".")
    return 0 < len(name) <= 253 and len(labels) >= 2 and all(_LABEL_RE.match(label) for label in labels)


def normalize(name: Any) -> str:
    return str(name or "").strip().rstrip(".").lower()


def discovery_domain(cluster: str, env: str, domain: Any = None) -> str:
    """The cluster's discovery domain: ``domain`` when given, else ``<cluster>.<env>.internal``."""
    return normalize(domain) or normalize("%s.%s.internal" % (cluster, env))


def discovery_namespace(region: str, cluster: str, env: str, domain: Any = None) -> str:
    """The region's Cloud Map namespace: ``<region>.<domain>`` (domain: :func:`discovery_domain`).

    The region prefix gives every region's namespace its own name, whatever the inventory sets at group level.
    """
    return "%s.%s" % (normalize(region), discovery_domain(cluster, env, domain))


def namespace_errors(namespaces: Mapping[str, Any], variable: str = "dns_discovery_namespace") -> list[str]:
    """Errors (naming ``variable`` and the fix) for the namespaces of every region ({region: name})."""
    errors: list[str] = []
    by_name: dict[str, list[str]] = {}
    for region in sorted(namespaces):
        name = normalize(namespaces[region])
        if not _domain(name):
            errors.append(
                "%s=%r (region %s) is not a DNS name: use labels of letters, digits and hyphens separated by dots, e.g. "
                "%s.megapool.prod.internal." % (variable, namespaces[region], region, region)
            )
            continue
        by_name.setdefault(name, []).append(region)
    for name, regions in sorted(by_name.items()):
        if len(regions) > 1:
            errors.append(
                "%s: the regions %s all use the Cloud Map namespace %s. Each region's namespace hosted zone is associated "
                "with every other region's VPC, and Route 53 associates a VPC with only one private hosted zone of a "
                "name (ConflictingDomainExists): give each region its own namespace (%s is the domain under which "
                "each region's namespace <region>.<domain> is made; do not repeat the region)."
                % (variable, ", ".join(regions), name, variable)
            )
    return errors


def peer_vpcs(found: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The other regions' VPCs as ``associated_vpcs`` wants them, from per-region VPC reads.

    ``found``: ``{"item": <region>, "vpcs": [{"id": ...}, ...]}`` (the results of a loop of ``ec2_vpc_net_info`` over
    the regions); a region without a VPC (not built yet, or torn down) contributes nothing. Sorted by region, then id.
    """
    pairs = set()
    for result in found:
        region = str(result.get("item") or "").strip()
        for vpc in result.get("vpcs") or []:
            vpc_id = str(vpc.get("id") or vpc.get("vpc_id") or "").strip()
            if region and vpc_id:
                pairs.add((region, vpc_id))
    return [{"vpc_id": vpc_id, "vpc_region": region} for region, vpc_id in sorted(pairs)]


def cluster_query(entries: Iterable[Mapping[str, Any]]) -> str:
    """``DNS_CLUSTER_QUERY``: ``<service>.<namespace>`` of every region, comma-separated, sorted by region.

    ``entries``: ``{"region", "service", "namespace"}``; one without a service or namespace (a region without
    discovery) is left out; a name listed twice is kept once.
    """
    names: list[str] = []
    for entry in sorted(entries, key=lambda item: str(item.get("region") or "")):
        service, namespace = normalize(entry.get("service")), normalize(entry.get("namespace"))
        if service and namespace:
            name = "%s.%s" % (service, namespace)
            if name not in names:
                names.append(name)
    return ",".join(names)


def _port(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def distribution(mode: Any, port_min: Any, port_max: Any, port: Any = None) -> dict[str, Any]:
    """The Erlang distribution settings of the tasks and of the cluster security group.

    ``epmd``: nodes register with epmd (4369) and listen on a port of ``port_min``-``port_max``
    (``-kernel inet_dist_listen_min/max``); the security group opens both.
    ``epmdless``: no epmd (``-start_epmd false``); every node listens on, and connects to, the one port ``port``
    (``-erl_epmd_port``; default ``port_min``); the security group opens only that port
    (https://www.erlang.org/doc/apps/erts/erl_cmd.html, ``-erl_epmd_port``, ``-start_epmd``).

    Returns ``{"mode", "erl_aflags", "ports" (security group port specs), "listen_ports" ([first, last]),
    "errors"}``; with errors the other fields are empty.
    """
    errors: list[str] = []
    low, high = _port(port_min), _port(port_max)
    single = _port(port if port not in (None, "") else port_min)
    if mode not in DISTRIBUTIONS:
        errors.append(
            "release_distribution=%r: choose epmd (epmd on 4369 and a port range) or epmdless (one fixed port, no epmd)."
            % (mode,)
        )
    if low is None or high is None or not 1024 <= low <= high <= 65535:
        errors.append(
            "release_erlang_dist_port_min/max=%s/%s: the range must lie within 1024-65535 with min <= max (e.g. 9100-9155)."
            % (port_min, port_max)
        )
    elif low <= EPMD_PORT <= high:
        errors.append(
            "release_erlang_dist_port_min/max=%s/%s includes epmd's port 4369: choose a range above it (e.g. 9100-9155)."
            % (low, high)
        )
    if mode == "epmdless":
        if single is None or not 1024 <= single <= 65535 or single == EPMD_PORT:
            errors.append(
                "release_erlang_dist_port=%s: one port within 1024-65535 other than 4369 (e.g. 9100)." % (port,)
            )
        elif low is not None and high is not None and not low <= single <= high:
            errors.append(
                "release_erlang_dist_port=%s is outside the distribution range %s-%s the network opens: choose a port in it "
                "(the cluster security group opens network_erlang_dist_port_min in epmdless mode)."
                % (single, low, high)
            )
    if errors:
        return {"mode": mode, "erl_aflags": "", "ports": [], "listen_ports": [], "errors": errors}
    if mode == "epmdless":
        return {
            "mode": mode,
            "erl_aflags": "-start_epmd false -erl_epmd_port %d" % single,
            "ports": [str(single)],
            "listen_ports": [single, single],
            "errors": [],
        }
    return {
        "mode": mode,
        "erl_aflags": "-kernel inet_dist_listen_min %d inet_dist_listen_max %d" % (low, high),
        "ports": ["%d-%d" % (low, high), str(EPMD_PORT)],
        "listen_ports": [low, high],
        "errors": [],
    }
