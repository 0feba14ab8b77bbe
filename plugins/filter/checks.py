# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters each role's validate.yml calls: one list of messages per role (the planners in module_utils
``<role>_checks``), and the check for variables with a role's prefix that its argument spec does not know."""

from __future__ import annotations

from typing import Any
from typing import Mapping

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

# module_utils are imported in the filters: ansible-core loads every filter file of the collection in each worker
# process that resolves one of them (docs/benchmarks.md, "Warm workers").


def _mapping(name: str, value: Any, what: str) -> dict:
    if not isinstance(value, Mapping):
        raise AnsibleFilterError("%s: %s must be a dict, got %r" % (name, what, type(value).__name__))
    return dict(value)


def _network(inputs, region):
    from ansible_collections.megapool.aws.plugins.module_utils.network_checks import network_input_errors
    from ansible_collections.megapool.aws.plugins.module_utils.regions import known_regions

    return network_input_errors(_mapping("network_input_errors", inputs, "the input"), str(region), known_regions())


def _peering(inputs, inventory_hosts):
    from ansible_collections.megapool.aws.plugins.module_utils.peering_checks import peering_input_errors

    return peering_input_errors(
        _mapping("peering_input_errors", inputs, "the input"), [str(host) for host in inventory_hosts or []]
    )


def _ecs_hosts(inputs):
    from ansible_collections.megapool.aws.plugins.module_utils.ecs_hosts_checks import ecs_hosts_input_errors

    return ecs_hosts_input_errors(_mapping("ecs_hosts_input_errors", inputs, "the input"))


def _ecs_hosts_types(type_info, missing=None, region="the region"):
    from ansible_collections.megapool.aws.plugins.module_utils.ecs_hosts_checks import ecs_hosts_type_errors

    if not isinstance(type_info, list) or not all(
        isinstance(item, Mapping) and "instance_type" in item for item in type_info
    ):
        raise AnsibleFilterError(
            "ecs_hosts_type_errors: the input must be the instance_types of megapool.aws.ec2_instance_type_info"
        )
    return ecs_hosts_type_errors(type_info, [str(name) for name in missing or []], str(region))


def _alb(inputs, region):
    from ansible_collections.megapool.aws.plugins.module_utils.alb_checks import alb_input_errors

    return alb_input_errors(_mapping("alb_input_errors", inputs, "the input"), str(region))


def _alb_subnets(subnet_ids, found, region="the region"):
    from ansible_collections.megapool.aws.plugins.module_utils.alb_checks import alb_subnet_errors

    if not isinstance(found, list):
        raise AnsibleFilterError("alb_subnet_errors: found must be the subnets of amazon.aws.ec2_vpc_subnet_info")
    return alb_subnet_errors([str(item) for item in subnet_ids or []], found, str(region))


def _dns(inputs):
    from ansible_collections.megapool.aws.plugins.module_utils.dns_checks import dns_input_errors

    return dns_input_errors(_mapping("dns_input_errors", inputs, "the input"))


def _release(inputs):
    from ansible_collections.megapool.aws.plugins.module_utils.release_checks import release_input_errors

    return release_input_errors(_mapping("release_input_errors", inputs, "the input"))


def _release_deploy(inputs, facts):
    from ansible_collections.megapool.aws.plugins.module_utils.release_checks import release_deploy_errors

    return release_deploy_errors(
        _mapping("release_deploy_errors", inputs, "the input"), _mapping("release_deploy_errors", facts, "facts")
    )


def _unknown_variables(defined, argument_specs, prefix, role, allowed=None, strict=False):
    """Messages for the unknown variables. Not strict: each is shown as a warning and the list returned is empty."""
    from ansible_collections.megapool.aws.plugins.module_utils.input_checks import spec_options
    from ansible_collections.megapool.aws.plugins.module_utils.input_checks import unknown_variable_messages
    from ansible_collections.megapool.aws.plugins.module_utils.input_checks import unknown_variables

    if isinstance(defined, str):
        defined = [name for name in defined.split(",") if name]
    found = unknown_variables(defined or [], spec_options(argument_specs or {}), str(prefix), allowed or [])
    messages = unknown_variable_messages(found, str(role), bool(strict))
    if strict:
        return messages
    for message in messages:
        Display().warning(message)
    return []


class FilterModule:
    """megapool.aws input checks."""

    def filters(self):
        return {
            "network_input_errors": _network,
            "peering_input_errors": _peering,
            "ecs_hosts_input_errors": _ecs_hosts,
            "ecs_hosts_type_errors": _ecs_hosts_types,
            "alb_input_errors": _alb,
            "alb_subnet_errors": _alb_subnets,
            "dns_input_errors": _dns,
            "release_input_errors": _release,
            "release_deploy_errors": _release_deploy,
            "unknown_variables": _unknown_variables,
        }
