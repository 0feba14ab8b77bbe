# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the network role uses to plan and validate; the logic lives in module_utils.network_layout."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

# module_utils are imported in the filters: ansible-core loads every filter file of the collection in each worker
# process that resolves one of them (docs/benchmarks.md, "Warm workers").


def _subnet_plan(vpc_cidr, azs, subnet_prefix=None):
    from ansible_collections.megapool.aws.plugins.module_utils.network_layout import LayoutError
    from ansible_collections.megapool.aws.plugins.module_utils.network_layout import subnet_plan

    try:
        return subnet_plan(vpc_cidr, list(azs), subnet_prefix)
    except LayoutError as exc:
        raise AnsibleFilterError(str(exc)) from None


def _built_subnets(results):
    """``ec2_vpc_subnet`` loop results (items from ``subnet_plan``) -> ``{"tier", "az", "id"}`` dicts."""
    return [
        {"tier": result["item"]["tier"], "az": result["item"]["az"], "id": (result.get("subnet") or {}).get("id")}
        for result in results
    ]


def _network_errors(
    region,
    vpc_cidr,
    az_count,
    admin_cidrs,
    allow_open_admin=False,
    subnet_prefix=None,
    nat_mode="single",
    private_hosts=False,
):
    from ansible_collections.megapool.aws.plugins.module_utils.network_layout import network_errors
    from ansible_collections.megapool.aws.plugins.module_utils.regions import known_regions

    return network_errors(
        region,
        known_regions(),
        vpc_cidr,
        az_count,
        list(admin_cidrs or []),
        bool(allow_open_admin),
        subnet_prefix,
        str(nat_mode),
        bool(private_hosts),
    )


def _network_azs(
    type_info,
    az_count,
    wanted_from="the instance types",
    region="the region",
    existing_subnets=None,
    vpc_cidr=None,
    subnet_prefix=None,
    report_missing=None,
):
    """``megapool.aws.ec2_instance_type_info``'s result -> ``choose_azs`` (existing subnets keep their AZ).

    ``report_missing``: the names whose absence from the whole region is this caller's error to report (the
    bastion's type); a name the region does not offer at all and that another role owns (``ecs_hosts_instance_types``)
    is left to that role's validation, which names its variable. None: every missing name counts."""
    from ansible_collections.megapool.aws.plugins.module_utils.network_layout import LayoutError
    from ansible_collections.megapool.aws.plugins.module_utils.network_layout import choose_azs
    from ansible_collections.megapool.aws.plugins.module_utils.network_layout import existing_slot_azs
    from ansible_collections.megapool.aws.plugins.module_utils.network_layout import type_info_offers

    type_info = dict(type_info or {})
    zones = [
        {"zone_name": zone["zone_name"], "zone_id": zone["zone_id"]}
        for zone in type_info.get("availability_zones") or []
    ]
    missing = list(type_info.get("missing") or [])
    if report_missing is not None:
        missing = [name for name in missing if name in set(report_missing)]
    wanted = [record["instance_type"] for record in type_info.get("instance_types") or []] + missing
    slots = None
    if existing_subnets and vpc_cidr:
        try:
            slots = existing_slot_azs(vpc_cidr, int(az_count), subnet_prefix, list(existing_subnets))
        except LayoutError as exc:
            raise AnsibleFilterError(str(exc)) from None
    return choose_azs(
        zones,
        type_info_offers(type_info.get("instance_types")),
        wanted,
        int(az_count),
        slots,
        str(region),
        str(wanted_from),
    )


def _overlap_errors(cidrs_by_region, variable="network_vpc_cidr"):
    from ansible_collections.megapool.aws.plugins.module_utils.network_layout import overlap_errors

    return overlap_errors(dict(cidrs_by_region), variable)


def _dependency_violation(result: dict) -> bool:
    from ansible_collections.megapool.aws.plugins.module_utils.network_layout import dependency_violation

    return dependency_violation(result)


def _bastion_architecture_errors(instance_type: str, ami_parameter: str, architectures: list[str]) -> list[str]:
    from ansible_collections.megapool.aws.plugins.module_utils.network_layout import bastion_architecture_errors

    return bastion_architecture_errors(instance_type, ami_parameter, architectures)


def _nat_subnet_ids(subnets: list[dict], nat_mode: str) -> list[str]:
    from ansible_collections.megapool.aws.plugins.module_utils.network_layout import nat_subnet_ids

    return nat_subnet_ids(subnets, nat_mode)


def _route_table_plan(
    subnets: list[dict], name: str, igw_id: str, nat_mode: str, nat_by_subnet: dict[str, str]
) -> list[dict]:
    from ansible_collections.megapool.aws.plugins.module_utils.network_layout import route_table_plan

    return route_table_plan(subnets, name, igw_id, nat_mode, nat_by_subnet)


def _subnets_to_converge(plan: list[dict], existing: list[dict], name: str, tags: dict) -> list[dict]:
    from ansible_collections.megapool.aws.plugins.module_utils.network_layout import subnets_to_converge

    return subnets_to_converge(plan, existing, name, tags)


def _converged_subnets(plan: list[dict], existing: list[dict], results: list[dict]) -> list[dict]:
    from ansible_collections.megapool.aws.plugins.module_utils.network_layout import converged_subnets

    return converged_subnets(plan, existing, results)


def _route_tables_to_converge(tables: list[dict], existing: list[dict], tags: dict) -> list[dict]:
    from ansible_collections.megapool.aws.plugins.module_utils.network_layout import route_tables_to_converge

    return route_tables_to_converge(tables, existing, tags)


def _converged_route_table_ids(tables: list[dict], existing: list[dict], results: list[dict]) -> list[str | None]:
    from ansible_collections.megapool.aws.plugins.module_utils.network_layout import converged_route_table_ids

    return converged_route_table_ids(tables, existing, results)


class FilterModule:
    """megapool.aws network filters."""

    def filters(self):
        return {
            "subnet_plan": _subnet_plan,
            "built_subnets": _built_subnets,
            "network_errors": _network_errors,
            "network_azs": _network_azs,
            "dependency_violation": _dependency_violation,
            "bastion_architecture_errors": _bastion_architecture_errors,
            "overlap_errors": _overlap_errors,
            "nat_subnet_ids": _nat_subnet_ids,
            "route_table_plan": _route_table_plan,
            "subnets_to_converge": _subnets_to_converge,
            "converged_subnets": _converged_subnets,
            "route_tables_to_converge": _route_tables_to_converge,
            "converged_route_table_ids": _converged_route_table_ids,
        }
