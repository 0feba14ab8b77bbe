# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input to site.yml fails with a message that names the variable and the fix, before any AWS change."""

from __future__ import annotations

import json

import pytest

from conftest import assert_site_refuses_early, run_playbook, snapshot


def _override(inventory, case: str) -> list[str]:
    """Apply one bad input to the inventory copy; return extra ansible-playbook arguments."""
    if case == "overlapping_cidrs":
        inventory.set_region("ap-southeast-1", network_vpc_cidr="10.10.128.0/17")
    elif case == "vpc_too_small":
        inventory.set_region("eu-north-1", network_vpc_cidr="10.10.0.0/27")
    elif case == "unknown_region":
        inventory.set_region("eu-nowhere-1", network_vpc_cidr="10.30.0.0/16")
    elif case == "one_az":
        inventory.set_all(network_az_count=1)
    elif case == "open_admin":
        inventory.set_all(network_admin_cidrs=["192.0.2.0/24", "0.0.0.0/0"])
    elif case == "bad_nat_mode":
        inventory.set_all(network_nat_mode="double")
    elif case == "nat_none_with_ecs_hosts":
        inventory.set_all(network_nat_mode="none")
    elif case == "public_subnets_too_small_for_the_alb":
        inventory.set_region("eu-north-1", network_vpc_cidr="10.10.0.0/26")
    elif case == "too_few_zones_offer_the_types":
        # The emulator's account maps us-east-1a to use1-az3, which offers none of the types (docs/emulator.md).
        inventory.set_region("us-east-1", network_vpc_cidr="10.42.0.0/16", network_az_count=6)
    elif case == "missing_env":
        inventory.unset_all("megapool_env")
    elif case == "missing_cluster":
        inventory.unset_all("megapool_cluster")
    else:
        raise AssertionError(case)
    return []


CASES = {
    # case: strings the failure message must contain (the variable, and the fix)
    "overlapping_cidrs": ["network_vpc_cidr of ap-southeast-1 (10.10.128.0/17) overlaps network_vpc_cidr of eu-north-1", "non-overlapping"],
    "vpc_too_small": ["network_vpc_cidr=10.10.0.0/27 is too small", "Use a larger network_vpc_cidr"],
    "unknown_region": ["aws_region='eu-nowhere-1'", "real region"],
    "one_az": ["network_az_count=1", "Set network_az_count to 2 or more"],
    "open_admin": ["network_admin_cidrs contains 0.0.0.0/0", "network_allow_open_admin: true"],
    "bad_nat_mode": ["network_nat_mode", "none, single, per_az"],
    "nat_none_with_ecs_hosts": ["network_nat_mode=none", "ECS hosts", "network_nat_mode: single"],
    "public_subnets_too_small_for_the_alb": ["network_vpc_cidr=10.10.0.0/26 with network_az_count=2 gives /28 public subnets",
                                             "/27 or larger"],
    "too_few_zones_offer_the_types": ["network_az_count=6 but only 5 availability zones of us-east-1 offer every instance type",
                                      "us-east-1a (use1-az3) lacks", "Lower network_az_count"],
    "missing_env": ["megapool_env"],
    "missing_cluster": ["megapool_cluster"],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_fails_early_and_changes_nothing(case, inventory, empty_emulator):
    _override(inventory, case)
    # us-east-1 too: the case that adds the region must leave it untouched as well.
    assert_site_refuses_early(inventory, CASES[case], take_snapshot=lambda: snapshot(("eu-north-1", "ap-southeast-1", "us-east-1")))


def test_open_admin_is_accepted_with_the_opt_in(inventory, empty_emulator):
    """The opt-in really lifts the refusal (checked in check mode: nothing is built)."""
    inventory.set_all(network_admin_cidrs=["0.0.0.0/0"], network_allow_open_admin=True)
    before = snapshot()
    result = run_playbook("site.yml", inventory.path, "--check")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert snapshot() == before


def test_check_mode_on_an_empty_emulator_runs_through_and_changes_nothing(inventory, empty_emulator):
    before = snapshot()
    result = run_playbook("site.yml", inventory.path, "--check", "--diff")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "would all be created" in " ".join(result.stdout.split())
    assert snapshot() == before
    assert json.dumps(before).count("vpc-") == 2  # only the emulator's default VPCs
