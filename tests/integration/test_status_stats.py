# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""status.yml publishes the cluster's members for AWX workflows with ``set_stats`` (docs/awx.md).

The test runs status.yml's last play ("One cluster across the regions?") as it is, for three region hosts whose
``status_outputs`` facts are given (what the first play collects from the nodes' GET /cluster answers), with the JSON
stdout callback, and reads the printed verdict and the run's global custom stats: the artifacts AWX passes on.
No AWS call is made: the play only compares the views.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ROOT

STATUS = yaml.safe_load((ROOT / "playbooks" / "status.yml").read_text(encoding="utf-8"))
A, B, C = "megapool@127.1.0.2", "megapool@127.1.0.3", "megapool@127.1.1.2"


def _run(tmp_path: Path, hostvars: dict, *args: str) -> tuple[list[str], dict]:
    inventory = {"regions": {"hosts": hostvars}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory, sort_keys=False), encoding="utf-8")
    plays = [play for play in STATUS if play["name"] == "One cluster across the regions?"]
    assert len(plays) == 1, [play["name"] for play in STATUS]
    play = dict(plays[0], connection="local")
    (tmp_path / "verdict.yml").write_text(yaml.safe_dump([play], sort_keys=False), encoding="utf-8")
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_SHOW_CUSTOM_STATS="true",
    )
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            str(tmp_path / "verdict.yml"),
            "-i",
            str(tmp_path / "hosts.yml"),
            "-e",
            "ansible_python_interpreter=%s" % sys.executable,
            *args,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    document = json.loads(result.stdout)  # the whole of stdout is one JSON document
    messages = [
        host["msg"]
        for play_ in document["plays"]
        for task in play_["tasks"]
        for host in task["hosts"].values()
        if "msg" in host
    ]
    return messages, document.get("global_custom_stats", {})


def _outputs(region: str, *views: tuple[str, list[str]]) -> dict:
    return {
        "status_outputs": {
            "region": region,
            "views": [{"node": node, "members": members, "version": "1.0.1"} for node, members in views],
        }
    }


def test_one_cluster_publishes_its_members(tmp_path):
    messages, stats = _run(
        tmp_path,
        {
            "eu-north-1": _outputs("eu-north-1", (A, [A, B, C]), (B, [C, B, A])),
            "ap-southeast-1": _outputs("ap-southeast-1", (C, [A, B, C])),
        },
    )
    assert messages == ["cluster: one cluster of 3 nodes across eu-north-1, ap-southeast-1: %s, %s, %s" % (A, B, C)]
    assert stats["megapool_cluster"] == {
        "one_cluster": True,
        "members": [A, B, C],
        "nodes": [A, B, C],
        "regions": ["eu-north-1", "ap-southeast-1"],
    }


def test_a_split_cluster_publishes_no_members(tmp_path):
    messages, stats = _run(
        tmp_path,
        {
            "eu-north-1": _outputs("eu-north-1", (A, [A, B]), (B, [A, B])),
            "ap-southeast-1": _outputs("ap-southeast-1", (C, [C])),
            "us-east-1": {},  # nothing read there (no status_outputs): left out
        },
    )
    assert messages == [
        "cluster: NOT one cluster - 2 different member lists among the 3 nodes that answered (each region's view is above)"
    ]
    assert stats["megapool_cluster"] == {
        "one_cluster": False,
        "members": [],
        "nodes": [A, B, C],
        "regions": ["eu-north-1", "ap-southeast-1"],
    }


def test_status_cluster_false_publishes_nothing(tmp_path):
    messages, stats = _run(tmp_path, {"eu-north-1": _outputs("eu-north-1", (A, [A]))}, "-e", "status_cluster=false")
    assert messages == [] and "megapool_cluster" not in stats
