# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network role keeps the instance-type offerings it read for the run only for the region and types it read them
for (issue 15 note).

The zones are chosen from ``_network_type_info`` (``network_azs`` takes the wanted types from that read), so a later
play that hosts other types must read again: with the offerings of an earlier play it would plan zones for the
earlier play's types and build a bastion of a type the region does not offer (eu-north-1 offers no t3a type at all,
as on AWS). A play with the same inputs reuses the read (one DescribeInstanceTypeOfferings round per region and run).
"""

from __future__ import annotations

import yaml

from conftest import flat, run_playbook, snapshot

REGION = "eu-north-1"
READ = "megapool.aws.network : Read where the region offers the instance types the network hosts]"
RETRY = {"group/megapool.aws.aws": "{{ megapool_aws }}"}


def _validation_play(name: str) -> dict:
    """Like site.yml's first play: the network role's checks only."""
    return {
        "name": name,
        "hosts": "regions",
        "gather_facts": False,
        "module_defaults": RETRY,
        "tasks": [
            {
                "name": "Check the network inputs",
                "ansible.builtin.import_role": {"name": "megapool.aws.network", "tasks_from": "validate"},
            }
        ],
    }


def _read_results(output: str) -> list[str]:
    """The result of each run of the read task, in order (ok, skipping, ...)."""
    results = []
    for section in output.split("TASK [")[1:]:
        if section.startswith(READ):
            lines = [
                line
                for line in section.splitlines()[1:]
                if line.split(":", 1)[0] in ("ok", "changed", "skipping", "failed", "fatal")
            ]
            results.append(lines[0].split(":", 1)[0] if lines else "none")
    return results


def test_a_later_play_with_another_type_reads_the_offerings_again(tmp_path, inventory, empty_emulator):  # pylint: disable=unused-argument
    plays = [
        _validation_play("Validation play"),
        _validation_play("The same inputs again"),
        {
            "name": "The network play with another bastion type",
            "hosts": "regions",
            "gather_facts": False,
            "module_defaults": RETRY,
            "vars": {"network_bastion_instance_type": "t3a.micro"},
            "roles": [{"role": "megapool.aws.network"}],
        },
    ]
    playbook = tmp_path / "network-types.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    before = snapshot((REGION,))

    result = run_playbook(str(playbook), inventory.path, "--limit", REGION, "--check")
    output = result.stdout + result.stderr

    assert result.returncode != 0, output[-3000:]
    assert _read_results(output) == ["ok", "skipping", "ok"], output[-4000:]
    assert (
        "network_az_count=2 but only 0 availability zones of eu-north-1 offer every instance type the network must host "
        "(network_bastion_instance_type=t3a.micro;"
    ) in flat(output), output[-3000:]
    assert "PLAY [The network play with another bastion type]" in output
    assert snapshot((REGION,)) == before
