# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: Route 53 ``ListTagsForResources`` takes at most 10 resource ids, like AWS.

What moto 5.2 does
    ``ListTagsForResources`` answers for any number of ``ResourceIds`` (botocore does not check the list's length
    either), so a caller that passes every health check of the account at once works on the emulator.

What AWS does
    "Lists tags for up to 10 health checks or hosted zones"; ``ResourceIds``: "Minimum number of 1 item. Maximum
    number of 10 items" (Route 53 API reference, ListTagsForResources,
    https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListTagsForResources.html). A longer list is refused
    with ``InvalidInput`` (HTTP 400), Route 53's answer to a request that breaks a parameter's constraints.

How the patch imitates it (emulator process only; ``apply()`` is idempotent, ``restore()`` undoes it)
    The backend's ``list_tags_for_resources`` refuses more than 10 ids (and none) with ``InvalidInput``.
"""

from __future__ import annotations

import functools
from typing import Any
from typing import Callable

from moto.route53.exceptions import InvalidInput
from moto.route53.models import Route53Backend
from .patching import MethodPatches

MAX_RESOURCE_IDS = 10


def _list_tags_for_resources(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: Route53Backend, resource_type: str, resource_ids: list[str]) -> Any:
        count = len(resource_ids or [])
        if not 1 <= count <= MAX_RESOURCE_IDS:
            raise InvalidInput(
                "1 validation error detected: Value '%s' at 'resourceIds' failed to satisfy constraint: Member must have "
                "length less than or equal to %d and greater than or equal to 1" % (resource_ids, MAX_RESOURCE_IDS)
            )
        return original(self, resource_type, resource_ids)

    return method


_INSTALLED = MethodPatches([(Route53Backend, "list_tags_for_resources", _list_tags_for_resources)])


def apply() -> None:
    """Install the patch (idempotent)."""
    _INSTALLED.apply()


def restore() -> None:
    """Put moto's original method back (for tests; the emulator never calls it)."""
    _INSTALLED.restore()
