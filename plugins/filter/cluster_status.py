# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What playbooks/status.yml decides (module_utils/cluster_status.py): its input checks, a region's answers, one cluster."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

# module_utils are imported in the filters: ansible-core loads every filter file of the collection in each worker
# process that resolves one of them (docs/benchmarks.md, "Warm workers").


def _input_errors(requests: Any, timeout: Any, path: Any, url: Any = None) -> list[str]:
    from ansible_collections.megapool.aws.plugins.module_utils.cluster_status import status_input_errors

    return status_input_errors(requests, timeout, path, url)


def _region_views(results: Any) -> dict[str, Any]:
    from ansible_collections.megapool.aws.plugins.module_utils.cluster_status import region_views

    if results is None:
        results = []
    if not isinstance(results, (list, tuple)) or not all(isinstance(result, Mapping) for result in results):
        raise AnsibleFilterError(
            "status_region_views expects the results of an ansible.builtin.uri loop, got %r" % (results,)
        )
    return region_views(results)


def _verdict(regions: Any) -> dict[str, Any]:
    from ansible_collections.megapool.aws.plugins.module_utils.cluster_status import cluster_verdict

    if not isinstance(regions, (list, tuple)) or not all(isinstance(region, Mapping) for region in regions):
        raise AnsibleFilterError("cluster_verdict expects a list of the regions' status_outputs, got %r" % (regions,))
    return cluster_verdict(regions)


class FilterModule:  # pylint: disable=too-few-public-methods
    """megapool.aws status filters."""

    def filters(self) -> dict[str, Any]:
        return {"status_input_errors": _input_errors, "status_region_views": _region_views, "cluster_verdict": _verdict}
