# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release role's service autoscaling plan; the logic lives in module_utils/release_autoscaling.py."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

# module_utils are imported in the filters: ansible-core loads every filter file of the collection in each worker
# process that resolves one of them (docs/benchmarks.md, "Warm workers").


def _release_autoscaling_plan(inputs: Any, cluster: Any, service: Any, load_balancer_arn: Any = None) -> dict[str, Any]:
    from ansible_collections.megapool.aws.plugins.module_utils.release_autoscaling import AutoscalingError
    from ansible_collections.megapool.aws.plugins.module_utils.release_autoscaling import autoscaling_plan

    if not isinstance(inputs, dict):
        raise AnsibleFilterError("release_autoscaling_plan expects a dict of the role's variables, got %r" % (inputs,))
    try:
        return autoscaling_plan(inputs, str(cluster), str(service), load_balancer_arn or None)
    except AutoscalingError as exc:
        raise AnsibleFilterError("release_autoscaling_plan: %s" % exc) from None


class FilterModule:
    """megapool.aws service autoscaling filters."""

    def filters(self) -> dict[str, Any]:
        return {"release_autoscaling_plan": _release_autoscaling_plan}
