# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Regions are hosts: which inventory host stands for which AWS region, and the day-2 playbooks' per-region plans
(filters ``megapool.aws.region_hosts``, ``drain_plan`` and ``drain_report``).

A region host's region is its ``aws_region`` variable, else its name (docs/usage.md, "Regions are hosts"). The hosts
of the environment are ``megapool_regions``, else the inventory group ``regions``, else the play's hosts (the
playbooks pass that list).
"""

from __future__ import annotations

from typing import Any
from typing import Iterable
from typing import Mapping


def host_region(host: str, hostvars: Mapping[str, Any]) -> str:
    """The AWS region of an inventory host: its ``aws_region``, else its name."""
    variables = hostvars.get(host) if hasattr(hostvars, "get") else hostvars[host]
    region = (variables or {}).get("aws_region") if variables is not None else None
    return str(region or host)


def region_hosts(hosts: Iterable[str], hostvars: Mapping[str, Any]) -> dict[str, str]:
    """{region: the host that stands for it}, in the order of ``hosts``; two hosts of one region is an error."""
    found: dict[str, str] = {}
    for host in hosts:
        region = host_region(host, hostvars)
        if region in found:
            raise ValueError(
                "the hosts %s and %s both stand for the region %s: keep one (aws_region, or the host name)"
                % (found[region], host, region)
            )
        found[region] = host
    return found


def drain_plan(
    instance_hosts: Iterable[str], hostvars: Mapping[str, Any], regions: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The selected app hosts (inventory plugin hosts with ``aws_region`` and ``instance_id``) grouped by region:
    ``[{"region", "region_host", "instance_ids"}]`` sorted by region; ``region_host`` is the region's host from
    ``regions`` (``region_hosts``), else ``localhost``."""
    by_region: dict[str, list[str]] = {}
    for host in instance_hosts:
        variables = hostvars[host]
        by_region.setdefault(str(variables["aws_region"]), []).append(str(variables["instance_id"]))
    return [
        {"region": region, "region_host": regions.get(region, "localhost"), "instance_ids": sorted(ids)}
        for region, ids in sorted(by_region.items())
    ]


def drain_report(results: Iterable[Mapping[str, Any]], state: str) -> dict[str, dict[str, Any]]:
    """{region: what ``ecs_container_instance_drain`` did there} from the loop results over ``drain_plan``."""
    report = {}
    for result in results:
        instances = result.get("instances") or []
        report[result["item"]["region"]] = {
            "state": state,
            "changed": bool(result.get("changed")),
            "instances": [
                "%s %s (%s running tasks)"
                % (item.get("ec2_instance_id"), item.get("status"), item.get("running_tasks_count"))
                for item in instances
            ],
            "lifecycle_actions_completed": list(result.get("lifecycle_actions_completed") or []),
            "progress": result.get("progress") or "",
        }
    return report
