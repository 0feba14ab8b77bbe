# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input to site.yml fails with a message that names the variable and the fix, before any AWS change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import PORT, ROOT, assert_site_refuses_early, flat, run_playbook, snapshot


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
    elif case == "env_with_spaces":
        # Used to fail at IAM after about 70 changes (issue 16).
        inventory.set_all(megapool_env="my env")
    elif case == "env_upper_case":
        inventory.set_all(megapool_env="Local")
    elif case == "env_empty":
        inventory.set_all(megapool_env="")
    elif case == "cluster_too_long_for_the_target_group":
        inventory.set_all(megapool_cluster="megapool-cluster-of-the-shop")
    elif case == "admin_cidrs_a_string":
        inventory.set_all(network_admin_cidrs="192.0.2.0/24")
    elif case == "typo_with_strict_vars":
        inventory.set_all(network_nat_mdoe="none", megapool_strict_vars=True)
    else:
        raise AssertionError(case)
    return []


CASES = {
    # case: strings the failure message must contain (the variable, and the fix)
    "overlapping_cidrs": [
        "network_vpc_cidr of ap-southeast-1 (10.10.128.0/17) overlaps network_vpc_cidr of eu-north-1",
        "non-overlapping",
    ],
    "vpc_too_small": ["network_vpc_cidr=10.10.0.0/27 is too small", "Use a larger network_vpc_cidr"],
    "unknown_region": ["aws_region='eu-nowhere-1'", "real region"],
    "one_az": ["network_az_count=1", "Set network_az_count to 2 or more"],
    "open_admin": ["network_admin_cidrs contains 0.0.0.0/0", "network_allow_open_admin: true"],
    "bad_nat_mode": ["network_nat_mode", "none, single, per_az"],
    "nat_none_with_ecs_hosts": ["network_nat_mode=none", "ECS hosts", "network_nat_mode: single"],
    "public_subnets_too_small_for_the_alb": [
        "network_vpc_cidr=10.10.0.0/26 with network_az_count=2 gives /28 public subnets",
        "/27 or larger",
    ],
    "too_few_zones_offer_the_types": [
        "network_az_count=6 but only 5 availability zones of us-east-1 offer every instance type",
        "us-east-1a (use1-az3) lacks",
        "Lower network_az_count",
    ],
    "missing_env": ["megapool_env"],
    "env_with_spaces": ["megapool_env='my env' is not usable in AWS names", "IAM refuses spaces"],
    "env_upper_case": ["megapool_env='Local' is not usable in AWS names", "lower-case letters and digits"],
    "env_empty": ["megapool_env='': give the env name as a non-empty string, e.g. prod"],
    "cluster_too_long_for_the_target_group": [
        "megapool_cluster='megapool-cluster-of-the-shop' with megapool_env='local' makes the target group name "
        "megapool-cluster-of-the-shop-local-app, 38 characters; AWS allows 32",
        "Shorten megapool_cluster or megapool_env by 6 characters",
    ],
    "admin_cidrs_a_string": [
        "network_admin_cidrs='192.0.2.0/24' is a string, but a list is expected",
        "network_admin_cidrs: [203.0.113.0/24]",
    ],
    "typo_with_strict_vars": [
        "network_nat_mdoe is set but role megapool.aws.network has no such variable: did you mean network_nat_mode?"
    ],
    "missing_cluster": ["megapool_cluster"],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_fails_early_and_changes_nothing(case, inventory, empty_emulator):
    _override(inventory, case)
    # us-east-1 too: the case that adds the region must leave it untouched as well.
    assert_site_refuses_early(
        inventory, CASES[case], take_snapshot=lambda: snapshot(("eu-north-1", "ap-southeast-1", "us-east-1"))
    )


def test_open_admin_is_accepted_with_the_opt_in(inventory, empty_emulator):
    """The opt-in really lifts the refusal (checked in check mode: nothing is built)."""
    inventory.set_all(network_admin_cidrs=["0.0.0.0/0"], network_allow_open_admin=True)
    before = snapshot()
    result = run_playbook("site.yml", inventory.path, "--check")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert snapshot() == before


def test_a_typo_is_a_warning_with_the_closest_name(inventory, empty_emulator):
    """network_nat_mdoe (meant: network_nat_mode) is reported with a suggestion; without megapool_strict_vars the run
    goes on (check mode: nothing is built)."""
    inventory.set_all(network_nat_mdoe="none", ecs_hosts_instance_type=["t4g.small"])
    before = snapshot()
    result = run_playbook("site.yml", inventory.path, "--check")
    output = flat(result.stdout + result.stderr)
    assert result.returncode == 0, output[-3000:]
    assert (
        "[WARNING]: network_nat_mdoe is set but role megapool.aws.network has no such variable: did you mean "
        "network_nat_mode?"
    ) in output, output[-3000:]
    assert (
        "ecs_hosts_instance_type is set but role megapool.aws.ecs_hosts has no such variable: did you mean ecs_hosts_instance_types?"
        in output
    )
    assert "megapool_strict_vars: true makes this an error" in output
    assert snapshot() == before


# Outside this repository's layout (issue 14): no group named `regions`; the hosts are in a group of the user's own,
# each with its aws_region, and megapool_regions lists them.
OWN_LAYOUT_PLAYBOOK = """
- name: Validate every layer on the user's own group
  hosts: aws_regions
  gather_facts: false
  module_defaults:
    group/megapool.aws.aws: "{{ megapool_aws }}"
  tasks:
    - name: Network
      ansible.builtin.import_role:
        name: megapool.aws.network
        tasks_from: validate
    - name: ECS
      ansible.builtin.import_role:
        name: megapool.aws.ecs_hosts
        tasks_from: validate
    - name: DNS
      ansible.builtin.import_role:
        name: megapool.aws.dns
        tasks_from: validate
    - name: Load balancer
      ansible.builtin.import_role:
        name: megapool.aws.alb
        tasks_from: validate
"""


def _own_layout(tmp_path, inventory, **extra) -> subprocess.CompletedProcess:
    hosts = inventory.path / "hosts.yml"
    data = yaml.safe_load(hosts.read_text())
    regions = data.pop("regions")
    renamed = {
        "stockholm": dict(regions["hosts"]["eu-north-1"], aws_region="eu-north-1"),
        "singapore": dict(regions["hosts"]["ap-southeast-1"], aws_region="ap-southeast-1"),
    }
    data["aws_regions"] = {
        "vars": dict(regions["vars"], megapool_regions=["stockholm", "singapore"], **extra),
        "hosts": renamed,
    }
    hosts.write_text(yaml.safe_dump(data, sort_keys=False))
    (inventory.path / "ec2_cluster.yml").unlink()
    playbook = tmp_path / "own.yml"
    playbook.write_text(OWN_LAYOUT_PLAYBOOK)
    env = dict(
        os.environ, MEGAPOOL_EMULATOR_PORT=str(PORT), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1"
    )
    command = [str(Path(sys.executable).parent / "ansible-playbook"), str(playbook), "-i", str(inventory.path)]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def test_validation_needs_no_regions_group(tmp_path, inventory, empty_emulator):
    before = snapshot()
    result = _own_layout(tmp_path, inventory)
    output = flat(result.stdout + result.stderr)
    assert result.returncode == 0, output[-3000:]
    assert "ok=" in output and "failed=0" in output
    assert snapshot() == before


def test_overlapping_cidrs_are_found_without_a_regions_group(tmp_path, inventory, empty_emulator):
    inventory.set_region("ap-southeast-1", network_vpc_cidr="10.10.128.0/17")
    before = snapshot()
    result = _own_layout(tmp_path, inventory)
    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0, output[-3000:]
    assert (
        "network_vpc_cidr of singapore (10.10.128.0/17) overlaps network_vpc_cidr of stockholm (10.10.0.0/16)" in output
    ), output[-3000:]
    assert snapshot() == before


def test_check_mode_on_an_empty_emulator_runs_through_and_changes_nothing(inventory, empty_emulator):
    before = snapshot()
    result = run_playbook("site.yml", inventory.path, "--check", "--diff")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "would all be created" in " ".join(result.stdout.split())
    assert snapshot() == before
    assert json.dumps(before).count("vpc-") == 2  # only the emulator's default VPCs
