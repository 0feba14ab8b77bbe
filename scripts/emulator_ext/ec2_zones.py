# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: an account whose us-east-1 zone names map to other AZ IDs, and instance types refused in a
zone that does not offer them, like AWS.

What moto 5.2.5 does
    ``DescribeAvailabilityZones`` in us-east-1 maps us-east-1a..f to use1-az6, az1, az2, az4, az3, az5, so the zone
    that offers none of the current general-purpose types (use1-az3) is us-east-1e, the last name a planner that takes
    "the first N names" would reach; and ``RunInstances`` launches any type into any zone.

What AWS does
    "the us-east-1a for your AWS account might not be the same physical location as the us-east-1a for another AWS
    account" (https://docs.aws.amazon.com/global-infrastructure/latest/regions/az-ids.html): in us-east-1 and the other
    older regions every account has its own name -> AZ ID mapping, and an account may well have use1-az3 at
    us-east-1a. ``DescribeInstanceTypeOfferings`` answers per AZ ID (location type ``availability-zone-id``) or per
    this account's names (``availability-zone``). ``RunInstances`` of a type into a zone that does not offer it fails
    with ``Unsupported`` "Your requested instance type (t3.small) is not supported in your requested Availability
    Zone (us-east-1a). Please retry your request by not specifying an Availability Zone or choosing us-east-1b, ...".

How the patch works (in the emulator process only; ``apply()`` is idempotent, ``restore()`` undoes it)
    - The emulator's account maps us-east-1a..f to use1-az3, az6, az1, az2, az4, az5 (``ACCOUNT_ZONE_IDS``; moto's
      mapping rotated so that use1-az3 comes first). Offerings by AZ ID stay moto's snapshot of AWS; the offerings by
      zone name are derived from them through the new mapping, so both location types agree.
    - ``RunInstances`` (moto's ``InstanceBackend.run_instances``) into a subnet or placement whose AZ ID does not
      offer the instance type answers ``Unsupported`` with AWS's message. Only types the region offers somewhere are
      checked (moto's default ``m1.small``, which many tests launch without naming a type, is left alone).
"""

from __future__ import annotations

import functools
from typing import Any
from typing import Callable

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend
from moto.ec2.models.availability_zones_and_regions import Zone
from moto.ec2.models.instance_types import INSTANCE_TYPE_OFFERINGS
from moto.ec2.models.instances import InstanceBackend
from .patching import MethodPatches

# This account's zone names -> AZ IDs, per region (only the regions listed change).
ACCOUNT_ZONE_IDS: dict[str, dict[str, str]] = {
    "us-east-1": {
        "us-east-1a": "use1-az3",
        "us-east-1b": "use1-az6",
        "us-east-1c": "use1-az1",
        "us-east-1d": "use1-az2",
        "us-east-1e": "use1-az4",
        "us-east-1f": "use1-az5",
    },
}

_ORIGINAL_ZONES: dict[str, list[Zone]] = {}
_ORIGINAL_NAME_OFFERINGS: dict[str, list[dict[str, Any]]] = {}


def _remap_zones() -> None:
    for region, mapping in ACCOUNT_ZONE_IDS.items():
        if region in _ORIGINAL_ZONES:
            continue
        _ORIGINAL_ZONES[region] = RegionsAndZonesBackend.zones[region]
        RegionsAndZonesBackend.zones[region] = [
            Zone(region_name=region, name=name, zone_id=zone_id) for name, zone_id in sorted(mapping.items())
        ]
        name_of = {zone_id: name for name, zone_id in mapping.items()}
        _ORIGINAL_NAME_OFFERINGS[region] = INSTANCE_TYPE_OFFERINGS["availability-zone"].get(region, [])
        INSTANCE_TYPE_OFFERINGS["availability-zone"][region] = [
            {
                "InstanceType": item["InstanceType"],
                "Location": name_of[item["Location"]],
                "LocationType": "availability-zone",
            }
            for item in INSTANCE_TYPE_OFFERINGS["availability-zone-id"].get(region, [])
            if item["Location"] in name_of
        ]


def _restore_zones() -> None:
    for region, zones in list(_ORIGINAL_ZONES.items()):
        RegionsAndZonesBackend.zones[region] = zones
        INSTANCE_TYPE_OFFERINGS["availability-zone"][region] = _ORIGINAL_NAME_OFFERINGS.pop(region)
        del _ORIGINAL_ZONES[region]


def unsupported_message(region: str, zone_name: str, instance_type: str, zone_ids: dict[str, str]) -> str | None:
    """AWS's ``Unsupported`` message when ``zone_name`` (AZ ID from ``zone_ids``: name -> ID) does not offer
    ``instance_type`` while the region offers it somewhere; None when the launch is fine (or not checked)."""
    offered = {
        item["Location"]
        for item in INSTANCE_TYPE_OFFERINGS["availability-zone-id"].get(region, [])
        if item["InstanceType"] == instance_type
    }
    if not offered or zone_ids.get(zone_name) in offered:
        return None
    others = sorted(name for name, zone_id in zone_ids.items() if zone_id in offered)
    return (
        "Your requested instance type (%s) is not supported in your requested Availability Zone (%s). Please retry your "
        "request by not specifying an Availability Zone or choosing %s." % (instance_type, zone_name, ", ".join(others))
    )


def _check_offering(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def run_instances(
        self: InstanceBackend, image_id: str, count: int, user_data: Any, security_group_names: list[str], **kwargs: Any
    ) -> Any:
        instance_type = kwargs.get("instance_type")
        subnet_id = kwargs.get("subnet_id") or next(
            (nic.get("SubnetId") for nic in kwargs.get("nics") or [] if nic.get("SubnetId")), None
        )
        zone_name = kwargs.get("placement")
        if subnet_id and not zone_name:
            try:
                zone_name = self.get_subnet(subnet_id).availability_zone  # type: ignore[attr-defined]
            except Exception:  # pylint: disable=broad-except
                zone_name = None  # moto's own handler reports the unknown subnet
        if instance_type and zone_name and not kwargs.get("is_instance_type_default"):
            region = self.region_name  # type: ignore[attr-defined]
            zone_ids = {zone.name: zone.zone_id for zone in self.describe_availability_zones()}  # type: ignore[attr-defined]
            message = unsupported_message(region, zone_name, instance_type, zone_ids)
            if message:
                raise EC2ClientError("Unsupported", message)
        return original(self, image_id, count, user_data, security_group_names, **kwargs)

    return run_instances


_PATCHES: tuple[tuple[type, str, Callable[[Callable[..., Any]], Callable[..., Any]]], ...] = (
    (InstanceBackend, "run_instances", _check_offering),
)


_INSTALLED = MethodPatches(_PATCHES)


def apply() -> None:
    """Install the patch (idempotent)."""
    _remap_zones()
    _INSTALLED.apply()


def restore() -> None:
    """Put moto's mapping and methods back (for tests; the emulator never calls it)."""
    _INSTALLED.restore()
    _restore_zones()


def applied() -> bool:
    """Whether the patch is installed."""
    return bool(_ORIGINAL_ZONES) and _INSTALLED.applied()
