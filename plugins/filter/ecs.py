# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the ecs_hosts role uses to plan; the logic lives in module_utils.ecs_settings."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import SettingsError
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import asg_differences


def _asg_differences(group, wanted):
    if group is not None and not isinstance(group, dict):
        raise AnsibleFilterError("asg_differences: the input must be an item of autoscaling_group_info's results (a dict) or none")
    if not isinstance(wanted, dict):
        raise AnsibleFilterError("asg_differences: wanted must be a dict of autoscaling_group options")
    try:
        return asg_differences(group, wanted)
    except SettingsError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    """megapool.aws ECS filters."""

    def filters(self):
        return {"asg_differences": _asg_differences}
