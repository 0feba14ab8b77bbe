# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The capacity change of playbooks/capacity.yml in one region (filter ``megapool.aws.ecs_hosts_capacity_plan``).

Adding capacity raises the Auto Scaling group's desired capacity. Removing it never goes below what the services
need (one BEAM task per instance: the sum of their desired counts) and chooses the instances that go so that the
Availability Zones stay balanced: each removal takes from the zone with the most instances left (ties: the zone
that sorts first), and within a zone the instance whose ID sorts last. This is what Auto Scaling's own default
termination policy aims at ("select the Availability Zone with the most instances",
https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-termination-policies.html), decided here
because the role drains the chosen instances before it terminates exactly those.
"""

from __future__ import annotations

from typing import Any
from typing import Iterable
from typing import Mapping


def removal_order(instances: Iterable[Mapping[str, Any]]) -> list[str]:
    """The instance IDs in the order they should go: every prefix leaves the zones as balanced as possible."""
    by_zone: dict[str, list[str]] = {}
    for instance in instances:
        by_zone.setdefault(str(instance["availability_zone"]), []).append(str(instance["instance_id"]))
    for members in by_zone.values():
        members.sort()  # the last ID goes first (pop from the end)
    order = []
    while any(by_zone.values()):
        zone = max(sorted(by_zone), key=lambda name: len(by_zone[name]))  # most left; first name on a tie
        order.append(by_zone[zone].pop())
    return order


def capacity_plan(
    desired: int,
    region: str,
    group: Mapping[str, Any],
    services: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """What changing the region's capacity to ``desired`` instances means.

    ``group``: the Auto Scaling group (an item of ``autoscaling_group_info``: ``min_size``, ``max_size``,
    ``desired_capacity``, ``instances``); ``services``: the cluster's services (``ecs_service_info`` with details).
    Returns ``errors`` (each naming ``capacity_desired`` and the fix), ``before`` (the desired capacity now),
    ``add`` (true when the group grows), ``leaving`` (the instance IDs to drain and terminate, in order) and
    ``services_minimum``."""
    active = [service for service in services if service.get("status") == "ACTIVE"]
    minimum = sum(int(service.get("desiredCount") or 0) for service in active)
    low, high, before = int(group["min_size"]), int(group["max_size"]), int(group["desired_capacity"])
    errors = []
    if not low <= desired <= high:
        errors.append(
            "capacity_desired=%d is outside the size range of the group, %d..%d in %s: choose a value in that range, or "
            "change ecs_hosts_min_size / ecs_hosts_max_size and run playbooks/site.yml" % (desired, low, high, region)
        )
    if desired < minimum:
        counts = ", ".join("%s=%s" % (service.get("serviceName"), service.get("desiredCount")) for service in active)
        errors.append(
            "capacity_desired=%d is below the minimum the services need: %d instances in %s (one BEAM task per instance; "
            "desired counts: %s): set capacity_desired to %d or more, or scale the services down first"
            % (desired, minimum, region, counts, minimum)
        )
    in_service = [item for item in group.get("instances") or [] if item.get("lifecycle_state") == "InService"]
    leaving = [] if errors else removal_order(in_service)[: max(before - desired, 0)]
    return {
        "errors": errors,
        "before": before,
        "add": not errors and desired > before,
        "leaving": leaving,
        "services_minimum": minimum,
    }
