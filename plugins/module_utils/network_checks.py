# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every problem with the network role's inputs for one region (pure, no I/O): the planner behind the
``megapool.aws.network_input_errors`` filter. The layout rules live in ``network_layout``; this adds the names, the
shape of the list inputs and the Erlang distribution port range."""

from __future__ import annotations

from typing import Any
from typing import Mapping

from ansible_collections.megapool.aws.plugins.module_utils.input_checks import as_int
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import list_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import name_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import number_errors
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import network_errors

# The first port a non-root process may bind; inet_dist_listen_max is a TCP port.
ERLANG_PORT_MIN = 1024
ERLANG_PORT_MAX = 65535


def erlang_port_errors(port_min: Any, port_max: Any) -> list[str]:
    low, high = as_int(port_min), as_int(port_max)
    if low is not None and high is not None and ERLANG_PORT_MIN <= low <= high <= ERLANG_PORT_MAX:
        return []
    return [
        "network_erlang_dist_port_min=%s / network_erlang_dist_port_max=%s: the range must lie within %d-%d with "
        "min <= max (e.g. 9100-9155)." % (port_min, port_max, ERLANG_PORT_MIN, ERLANG_PORT_MAX)
    ]


def network_input_errors(inputs: Mapping[str, Any], region: str, known_regions: list[str]) -> list[str]:
    """``inputs``: the role's variables by name (megapool_cluster, megapool_env, network_*) plus ``private_hosts``
    (the ECS layer's hosts live in the private subnets)."""
    errors = name_errors(inputs.get("megapool_cluster"), inputs.get("megapool_env"))
    errors += number_errors(inputs, ["network_az_count"])
    admin = inputs.get("network_admin_cidrs")
    shape = list_errors("network_admin_cidrs", admin, "[203.0.113.0/24]")
    errors += shape
    az_count = as_int(inputs.get("network_az_count"))
    subnet_prefix = inputs.get("network_subnet_prefix")
    errors += network_errors(
        region,
        known_regions,
        str(inputs.get("network_vpc_cidr")),
        az_count if az_count is not None else 2,
        [] if shape else list(admin or []),
        bool(inputs.get("network_allow_open_admin")),
        None if subnet_prefix in (None, "") else as_int(subnet_prefix),
        str(inputs.get("network_nat_mode", "single")),
        bool(inputs.get("private_hosts")),
    )
    errors += erlang_port_errors(inputs.get("network_erlang_dist_port_min"), inputs.get("network_erlang_dist_port_max"))
    return errors
