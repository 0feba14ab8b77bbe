# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the release role's image check (roles/release/tasks/image.yml). Pure; the planners live in
module_utils/release_image.py."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

# module_utils are imported in the filters: ansible-core loads every filter file of the collection in each worker
# process that resolves one of them (docs/benchmarks.md, "Warm workers").


def _source(image: Any, account: Any) -> dict[str, Any]:
    from ansible_collections.megapool.aws.plugins.module_utils.release_image import image_source

    return image_source(image, account)


def _plan(source: Any, found: Any, regions: Any, check_mode: Any = False) -> dict[str, Any]:
    from ansible_collections.megapool.aws.plugins.module_utils.release_image import image_plan

    if not isinstance(source, dict) or not isinstance(regions, (list, tuple)):
        raise AnsibleFilterError("release_image_plan expects the release_image_source result and a list of regions")
    return image_plan(
        source, found if isinstance(found, dict) else {}, [str(region) for region in regions], bool(check_mode)
    )


def _version(given: Any, image: Any, current_image: Any = "", current_version: Any = "") -> str:
    from ansible_collections.megapool.aws.plugins.module_utils.release_image import image_version

    return image_version(given, image, current_image, current_version)


class FilterModule:  # pylint: disable=too-few-public-methods
    """megapool.aws release image filters."""

    def filters(self) -> dict[str, Any]:
        return {
            "release_image_source": _source,
            "release_image_plan": _plan,
            "release_image_version": _version,
        }
