# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/site.yml hands the ECS hosts' instance types to the network play.

The network role chooses zones where every type it hosts is offered, ECS hosts' included (roles/network/vars/main.yml
reads ecs_hosts_instance_types). When the inventory leaves ecs_hosts_instance_types to the ecs_hosts role's default,
only the validation play sees it (its imported roles' defaults are visible to the whole play); the network play
must get it from there, else it validates again and picks zones for the bastion's type alone.
"""

from __future__ import annotations

from pathlib import Path

import yaml

SITE = Path(__file__).resolve().parents[3] / "playbooks" / "site.yml"


def _plays() -> list[dict]:
    return yaml.safe_load(SITE.read_text())


def test_the_validation_play_remembers_the_types_after_the_ecs_validation():
    tasks = _plays()[0]["tasks"]
    names = [(task.get("ansible.builtin.import_role") or {}).get("name") for task in tasks]
    ecs_index = names.index("megapool.aws.ecs_hosts")
    handing = [
        index
        for index, task in enumerate(tasks)
        if (task.get("ansible.builtin.set_fact") or {}).get("_site_ecs_hosts_instance_types")
        == "{{ ecs_hosts_instance_types }}"
    ]
    assert handing and handing[0] > ecs_index


def test_the_network_play_passes_them_to_the_network_role():
    network_plays = [
        play
        for play in _plays()
        if any(isinstance(role, dict) and role.get("role") == "megapool.aws.network" for role in play.get("roles", []))
    ]
    assert len(network_plays) == 1
    role = [role for role in network_plays[0]["roles"] if role.get("role") == "megapool.aws.network"][0]
    assert role.get("vars", {}).get("ecs_hosts_instance_types") == "{{ _site_ecs_hosts_instance_types }}"
