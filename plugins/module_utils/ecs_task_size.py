# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure sizing of the BEAM task from the memory ECS registers per instance type (filter ``megapool.aws.ecs_task_size``,
role ecs_hosts). No boto3, no I/O."""

from __future__ import annotations

from typing import Any
from typing import Mapping
from typing import Sequence


# ---------------------------------------------------------------------------------------------- task sizing
#
# ECS places a task by the memory the container agent REGISTERS, not by the instance type's nominal memory: the agent
# reads the memory the operating system reports (MemTotal, what the kernel leaves after its own reservations and the
# platform's) and registers it minus ECS_RESERVED_MEMORY. "An m4.large instance has 8 GiB of installed memory.
# However, this does not always translate to exactly 8192 MiB of memory available for tasks" - its MemTotal is
# 8373026816 bytes, 7985 MiB (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/memory-management.html,
# https://docs.aws.amazon.com/batch/latest/userguide/memory-management.html). A task sized from the nominal memory
# (8192 - 384 = 7808 MiB on an m6i.large, which was reported to place 7820 but not 7908 MiB) is close to the edge or
# never placed.
#
# The planner therefore sizes from a LOWER BOUND of the registered memory: a measured figure where one is known
# (REGISTERED_MEMORY_MIB, or the user's own from DescribeContainerInstances registeredResources MEMORY, plus the
# reserve they registered with), else MEMTOTAL_FACTOR x nominal - MEMTOTAL_FIXED_MIB (kernel memory grows with the
# memory size - page tables, struct page ~1.6 % - plus a fixed part for the kernel image and firmware), minus the
# reserve. The model stays below every published figure (tests/unit/plugins/module_utils/test_ecs_task_size.py
# checks it against MEMTOTAL_OBSERVATIONS). The "two tasks never fit" rule is checked against an UPPER bound, the
# nominal memory minus the reserve, so it holds whatever the real MemTotal is.

MEMTOTAL_FACTOR = 0.96
MEMTOTAL_FIXED_MIB = 128
# MemTotal (MiB) observed on ECS-optimised AMIs, with where it comes from: the model must stay at or below them.
MEMTOTAL_OBSERVATIONS: dict[str, tuple[int, int, str]] = {
    # type: (nominal MiB, MemTotal MiB, source)
    "m4.large": (8192, 7985, "AWS ECS/Batch developer guide, memory management: free -b 8373026816 bytes"),
    "m6i.large": (8192, 7820, "field report: a 7820 MiB task is placed, 7908 MiB is not (registered in 7820..7907)"),
}
# Measured MemTotal (MiB) per instance type the planner uses instead of the model (empty: no measurement shipped;
# ecs_hosts_registered_memory_mib adds the user's own).
REGISTERED_MEMORY_MIB: dict[str, int] = {}


def memtotal_lower_bound(nominal_mib: int) -> int:
    """A lower bound of the memory the OS reports (MemTotal) on an instance of ``nominal_mib`` installed memory."""
    return max(int(nominal_mib * MEMTOTAL_FACTOR) - MEMTOTAL_FIXED_MIB, 0)


def plan_task_size(
    types: Sequence[Mapping[str, Any]],
    reserve_mib: int,
    task_memory_mib: int | None = None,
    measured: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The task size that fits every type of the group once and never twice.

    ``types``: records of ``ec2_instance_type_info`` (``instance_type``, ``memory_mib``, ``vcpus``). ``reserve_mib``
    is ECS_RESERVED_MEMORY. ``measured``: MemTotal in MiB per type the user measured (registered memory + the reserve
    it was registered with). Returns ``task_memory_mib``, ``task_cpu_units``, ``registered_memory_mib`` (the lower
    bound per type) and ``errors`` (messages naming the variable to change; empty when the plan holds).
    """
    errors: list[str] = []
    if not types:
        return dict(task_memory_mib=0, task_cpu_units=0, registered_memory_mib={}, errors=[])
    known = dict(REGISTERED_MEMORY_MIB)
    known.update({str(k): int(v) for k, v in (measured or {}).items()})
    registered = {}
    for record in types:
        name = record["instance_type"]
        memtotal = known.get(name, memtotal_lower_bound(int(record["memory_mib"])))
        registered[name] = memtotal - int(reserve_mib)
    smallest = min(registered, key=lambda name: (registered[name], name))
    largest_nominal = max(int(record["memory_mib"]) for record in types)
    task_cpu = min(int(record["vcpus"]) for record in types) * 1024
    if reserve_mib < 0:
        errors.append("ecs_hosts_memory_reserve_mib=%s must be 0 or more" % reserve_mib)
    if registered[smallest] <= 0:
        errors.append(
            "ecs_hosts_memory_reserve_mib=%s leaves no memory for the BEAM task on %s (it registers about %s MiB before the "
            "reserve): lower the reserve or choose larger types"
            % (reserve_mib, smallest, registered[smallest] + reserve_mib)
        )
        return dict(task_memory_mib=0, task_cpu_units=task_cpu, registered_memory_mib=registered, errors=errors)
    task = registered[smallest] if task_memory_mib is None else int(task_memory_mib)
    if task_memory_mib is not None and task > registered[smallest]:
        errors.append(
            "ecs_hosts_task_memory_mib=%s does not fit %s, which registers at least %s MiB with ECS (its MemTotal minus "
            "ecs_hosts_memory_reserve_mib=%s; ECS places by registered memory): lower it to %s or less, or leave it null "
            "to compute it" % (task, smallest, registered[smallest], reserve_mib, registered[smallest])
        )
    if task > 0 and 2 * task <= largest_nominal - int(reserve_mib):
        roomy = sorted(
            record["instance_type"] for record in types if 2 * task <= int(record["memory_mib"]) - int(reserve_mib)
        )
        errors.append(
            "ecs_hosts_instance_types: %s may have room for two BEAM tasks of %s MiB (one node per instance is the rule): "
            "use types of similar memory (the largest under twice the task memory), or raise ecs_hosts_task_memory_mib"
            % (", ".join(roomy), task)
        )
    return dict(task_memory_mib=task, task_cpu_units=task_cpu, registered_memory_mib=registered, errors=errors)
