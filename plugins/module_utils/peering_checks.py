# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every problem with the peering role's inputs (pure, no I/O): the planner behind the
``megapool.aws.peering_input_errors`` filter. Overlapping VPC CIDRs are the network role's check (and the mesh
module refuses them again)."""

from __future__ import annotations

from typing import Any
from typing import Mapping
from typing import Sequence

from ansible_collections.megapool.aws.plugins.module_utils.input_checks import as_int
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import dict_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import list_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import name_errors


def peering_input_errors(inputs: Mapping[str, Any], inventory_hosts: Sequence[str]) -> list[str]:
    """``inputs``: the role's variables by name (megapool_cluster, megapool_env, peering_*); ``inventory_hosts``: the
    hosts of the inventory (``peering_regions`` names some of them)."""
    errors = name_errors(inputs.get("megapool_cluster"), inputs.get("megapool_env"))
    regions = inputs.get("peering_regions", [])
    shape = list_errors("peering_regions", regions, "[eu-north-1, us-east-1]")
    errors += shape
    if not shape:
        unknown = [str(host) for host in regions if str(host) not in set(inventory_hosts)]
        if unknown:
            errors.append(
                "peering_regions has %s, not a host of this inventory: list region hosts (%s)"
                % (", ".join(unknown), ", ".join(inventory_hosts))
            )
    errors += dict_errors("peering_tags", inputs.get("peering_tags", {}), "{team: platform}")
    timeout = as_int(inputs.get("peering_wait_timeout"))
    if timeout is None or timeout < 1:
        errors.append(
            "peering_wait_timeout=%s must be a positive number of seconds, e.g. 300"
            % inputs.get("peering_wait_timeout")
        )
    return errors
