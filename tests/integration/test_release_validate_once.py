# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release role validates once per converge (issue 13), as the other roles do (test_validate_once.py): its
validate.yml remembers the digest of the inputs it checked (``_release_validated``, filter
megapool.aws.inputs_fingerprint), and its ``main`` and ``prepare`` entry points check again only when the inputs
differ. A later play with other (bad) values is refused before any AWS change."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import flat
from conftest import run_playbook
from conftest import snapshot

RETRY = {"group/megapool.aws.aws": "{{ megapool_aws | megapool.aws.aws_retry_policy }}"}
CHECK_TASK = "TASK [megapool.aws.release : Check the release inputs]"
# validate.yml's reads (validate_reads.yml): done again only when what they read differs (_release_reads_key).
READS_TASK = "TASK [megapool.aws.release : Read the account]"


def playbook(tmp_path: Path, entry: str, later_vars: dict | None = None) -> str:
    """A validation play like site.yml's and deploy.yml's, then a play that uses the role's ``entry`` point (``main``
    as site.yml's release play, ``prepare`` as deploy.yml's) with ``later_vars``, if any."""
    validation = {
        "name": "Validation play",
        "hosts": "regions",
        "gather_facts": False,
        "module_defaults": RETRY,
        "tasks": [
            {
                "name": "Check the release inputs",
                "ansible.builtin.import_role": {"name": "megapool.aws.release", "tasks_from": "validate"},
            }
        ],
    }
    role = (
        {"name": "megapool.aws.release"} if entry == "main" else {"name": "megapool.aws.release", "tasks_from": entry}
    )
    later = {
        "name": "The role's play",
        "hosts": "regions",
        "gather_facts": False,
        "module_defaults": RETRY,
        "vars": later_vars or {},
        "tasks": [{"name": "The release", "ansible.builtin.include_role": role}],
    }
    path = tmp_path / ("release-%s.yml" % entry)
    path.write_text(yaml.safe_dump([validation, later], sort_keys=False))
    return str(path)


def test_the_role_play_does_not_check_the_inputs_the_validation_play_checked(tmp_path, inventory, empty_emulator):
    """Check mode on an empty account: the role's play makes no change and starts with its inputs already checked."""
    before = snapshot()
    result = run_playbook(playbook(tmp_path, "main"), inventory.path, "--check")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "PLAY [The role's play]" in output, output[-3000:]
    # one banner per play that checks (the hosts of a play share it): the validation play's only
    assert output.count(CHECK_TASK) == 1, output[-3000:]
    assert output.count(READS_TASK) == 1, output[-3000:]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("later_vars", "reads"),
    [
        # Other values for the checks only (as the other roles' outputs in site.yml's release play): checked again
        # against what the validation play read.
        ({"release_log_retention_days": 14}, 1),
        # Another service: what validate.yml reads differs, it reads again.
        ({"release_service_name": "megapool-other-web"}, 2),
    ],
)
def test_a_later_play_reads_again_only_when_what_it_reads_differs(
    tmp_path, inventory, empty_emulator, later_vars, reads
):
    before = snapshot()
    result = run_playbook(playbook(tmp_path, "main", later_vars), inventory.path, "--check")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert output.count(CHECK_TASK) == 2, output[-3000:]
    assert output.count("TASK [megapool.aws.release : Check the service autoscaling inputs") == 2, output[-3000:]
    assert output.count(READS_TASK) == reads, output[-3000:]
    assert snapshot() == before


@pytest.mark.parametrize("entry", ["main", "prepare"])
@pytest.mark.parametrize(
    ("later_vars", "expected"),
    [
        ({"release_stop_timeout": 500}, "release_stop_timeout=500 must be 2-120 seconds"),
        ({"release_log_retention_days": 8}, "release_log_retention_days=8 is not a CloudWatch Logs retention"),
    ],
)
def test_other_values_in_a_later_play_are_checked_again_before_any_change(
    tmp_path, inventory, empty_emulator, entry, later_vars, expected
):
    before = snapshot()
    result = run_playbook(playbook(tmp_path, entry, later_vars), inventory.path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "PLAY [The role's play]" in output, output[-3000:]
    assert output.count(CHECK_TASK) == 2, output[-3000:]
    assert expected in flat(output), output[-3000:]
    assert snapshot() == before, "the failed run changed the emulator"
