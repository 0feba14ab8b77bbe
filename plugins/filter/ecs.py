# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the ecs_hosts role uses to plan; the logic lives in module_utils (ecs_settings, ecs_task_size, ecs_hosts_capacity)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

# module_utils are imported in the filters: ansible-core loads every filter file of the collection in each worker
# process that resolves one of them (docs/benchmarks.md, "Warm workers").


def _asg_differences(group, wanted):
    from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import SettingsError
    from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import asg_differences

    if group is not None and not isinstance(group, dict):
        raise AnsibleFilterError(
            "asg_differences: the input must be an item of autoscaling_group_info's results (a dict) or none"
        )
    if not isinstance(wanted, dict):
        raise AnsibleFilterError("asg_differences: wanted must be a dict of autoscaling_group options")
    try:
        return asg_differences(group, wanted)
    except SettingsError as exc:
        raise AnsibleFilterError(str(exc)) from None


def _ecs_task_size(types, reserve_mib, task_memory_mib=None, measured=None):
    from ansible_collections.megapool.aws.plugins.module_utils.ecs_task_size import plan_task_size

    if not isinstance(types, list) or not all(isinstance(item, dict) for item in types):
        raise AnsibleFilterError(
            "ecs_task_size: the input must be the instance_types list of megapool.aws.ec2_instance_type_info"
        )
    if measured is not None and not isinstance(measured, dict):
        raise AnsibleFilterError("ecs_task_size: ecs_hosts_registered_memory_mib must be a dict of instance type: MiB")
    try:
        return plan_task_size(
            types, int(reserve_mib), None if task_memory_mib in (None, "") else int(task_memory_mib), measured
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("ecs_task_size: %s" % exc) from None


def _ecs_hosts_capacity_plan(desired, region, group, services):
    from ansible_collections.megapool.aws.plugins.module_utils.ecs_hosts_capacity import capacity_plan

    if not isinstance(group, dict):
        raise AnsibleFilterError("ecs_hosts_capacity_plan: group must be an item of autoscaling_group_info's results")
    try:
        return capacity_plan(int(desired), str(region), group, list(services or []))
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("ecs_hosts_capacity_plan: %s" % exc) from None


class FilterModule:
    """megapool.aws ECS filters."""

    def filters(self):
        return {
            "asg_differences": _asg_differences,
            "ecs_task_size": _ecs_task_size,
            "ecs_hosts_capacity_plan": _ecs_hosts_capacity_plan,
        }
