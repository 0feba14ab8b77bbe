# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""status.yml publishes the cluster's members for AWX workflows with ``set_stats`` (docs/awx.md).

The test runs status.yml's last play ("One cluster across the regions?") as it is, for three region hosts whose
``status_outputs`` facts are given (what the first play collects from the nodes' GET /cluster answers), with the JSON
stdout callback, and reads the printed verdict and the run's global custom stats: the artifacts AWX passes on.
No AWS call is made: the play only compares the views.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from conftest import ROOT
from conftest import run_plays_json

STATUS = yaml.safe_load((ROOT / "playbooks" / "status.yml").read_text(encoding="utf-8"))
A, B, C = "megapool@127.1.0.2", "megapool@127.1.0.3", "megapool@127.1.1.2"


def _run(tmp_path: Path, hostvars: dict, *args: str) -> tuple[list[str], dict]:
    plays = [play for play in STATUS if play["name"] == "One cluster across the regions?"]
    assert len(plays) == 1, [play["name"] for play in STATUS]
    document = run_plays_json(tmp_path, [dict(plays[0], connection="local")], {"regions": {"hosts": hostvars}}, *args)
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
