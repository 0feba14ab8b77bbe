# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate once per converge (issue 15): playbooks/site.yml checks every role's inputs in its first play, and a
role's ``main`` entry point does not check the same inputs again (``_<role>_validated``, the digest of the inputs,
filter megapool.aws.inputs_fingerprint). A role used alone, or with other values in a later play, still checks them,
before any AWS change."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import flat
from conftest import run_playbook
from conftest import snapshot

RETRY = {"group/megapool.aws.aws": "{{ megapool_aws | megapool.aws.aws_retry_policy }}"}


# site.yml's validation play imports every role's checks: their defaults are all visible there, not in a role's play.
SITE_ROLES = ("network", "peering", "ecs_hosts", "dns", "alb", "database")


def playbook(tmp_path: Path, role: str, validate_first: bool, later_vars: dict | None = None) -> str:
    """A validation play like site.yml's (optional), then the role's own play (with ``later_vars``, if any)."""
    plays = []
    if validate_first:
        plays.append(
            {
                "name": "Validation play",
                "hosts": "regions",
                "gather_facts": False,
                "module_defaults": RETRY,
                "tasks": [
                    {
                        "name": "Check the %s inputs" % name,
                        "ansible.builtin.import_role": {"name": "megapool.aws." + name, "tasks_from": "validate"},
                    }
                    for name in SITE_ROLES
                ],
            }
        )
    plays.append(
        {
            "name": "The role's play",
            "hosts": "regions",
            "gather_facts": False,
            "module_defaults": RETRY,
            "vars": later_vars or {},
            "roles": [{"role": "megapool.aws." + role}],
        }
    )
    path = tmp_path / ("%s-%s.yml" % (role, "after-validation" if validate_first else "alone"))
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    return str(path)


def banners(output: str, role: str, task: str) -> int:
    return output.count("TASK [megapool.aws.%s : %s]" % (role, task))


def test_the_role_play_does_not_check_the_inputs_the_validation_play_checked(tmp_path, inventory, empty_emulator):
    # peering: with no network_outputs yet the mesh task is skipped, so the role makes no AWS call at all
    result = run_playbook(playbook(tmp_path, "peering", True), inventory.path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert banners(output, "peering", "Check the peering inputs") == 1, output[-3000:]
    assert "TASK [megapool.aws.peering : Check the peering inputs (no AWS call)]" in output
    assert flat(output).count("skipping: [eu-north-1]") >= 1


@pytest.mark.parametrize(
    ("role", "task"),
    [
        ("network", "Check the region's network inputs"),
        ("ecs_hosts", "Check the ECS inputs"),
        ("dns", "Check the DNS inputs"),
        ("alb", "Check the load balancer inputs"),
        ("database", "Refuse a master password in plain text"),
    ],
)
def test_after_a_site_like_validation_play_each_role_checks_once(tmp_path, inventory, empty_emulator, role, task):
    """Check mode (nothing is built): the role's play starts with its inputs already checked by the validation play."""
    before = snapshot()
    result = run_playbook(playbook(tmp_path, role, True), inventory.path, "--check")
    output = result.stdout + result.stderr
    assert "PLAY [The role's play]" in output, output[-3000:]
    assert banners(output, role, task) == 1, output[-3000:]
    assert snapshot() == before


def test_a_role_used_alone_checks_its_inputs(tmp_path, inventory, empty_emulator):
    result = run_playbook(playbook(tmp_path, "peering", False), inventory.path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert banners(output, "peering", "Check the peering inputs") == 1, output[-3000:]

    inventory.set_all(peering_wait_timeout=0)
    result = run_playbook(playbook(tmp_path, "peering", False), inventory.path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "peering_wait_timeout=0 must be a positive number of seconds, e.g. 300" in flat(output), output[-3000:]


@pytest.mark.parametrize(
    ("role", "later_vars", "expected"),
    [
        ("peering", {"peering_wait_timeout": -5}, "peering_wait_timeout=-5 must be a positive number of seconds"),
        ("network", {"network_az_count": 1}, "network_az_count=1: at least 2 availability zones are needed"),
        ("dns", {"dns_health_check_path": "health"}, 'dns_health_check_path="health" must start with a slash'),
        ("alb", {"alb_health_check_path": "health"}, "alb_health_check_path=health must be an absolute path"),
        ("database", {"database_backup_retention": 99}, "database_backup_retention=99 is outside 0-"),
    ],
)
def test_other_values_in_a_later_play_are_checked_again_before_any_change(
    tmp_path, inventory, empty_emulator, role, later_vars, expected
):
    before = snapshot()
    result = run_playbook(playbook(tmp_path, role, True, later_vars), inventory.path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "PLAY [The role's play]" in output, output[-3000:]
    assert expected in flat(output), output[-3000:]
    assert snapshot() == before, "the failed run changed the emulator"
