# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The canary and the waves of playbooks/deploy.yml and rollback.yml: one definition (module_utils/release_waves.py)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
import pytest
import yaml

from ansible_collections.megapool.aws.plugins.module_utils.release_waves import in_wave
from ansible_collections.megapool.aws.plugins.module_utils.release_waves import release_waves

ENV = ["eu-north-1", "ap-southeast-1"]


@pytest.mark.parametrize(
    ("play", "canary", "rollout", "image", "required", "expected"),
    [
        # the default canary: the first host of the play (deploy.yml's validation and canary plays, the report)
        (
            ENV,
            None,
            None,
            "repo/app:1",
            True,
            {"canary": "eu-north-1", "others": ["ap-southeast-1"], "rollout": "serial", "errors": []},
        ),
        (
            ENV,
            "",
            "parallel",
            "",
            False,
            {"canary": "eu-north-1", "others": ["ap-southeast-1"], "rollout": "parallel", "errors": []},
        ),
        (
            ENV,
            "ap-southeast-1",
            "serial",
            "repo/app:1",
            True,
            {"canary": "ap-southeast-1", "others": ["eu-north-1"], "rollout": "serial", "errors": []},
        ),
        # --limit ap-southeast-1: the play's first host is the canary, not the group's first (the other regions' play of
        # deploy.yml and rollback.yml took groups['regions'] | first and rolled the canary out a second time)
        (
            ["ap-southeast-1"],
            None,
            None,
            "repo/app:1",
            True,
            {"canary": "ap-southeast-1", "others": [], "rollout": "serial", "errors": []},
        ),
        (
            ENV,
            "us-west-2",
            None,
            "repo/app:1",
            True,
            {
                "canary": "us-west-2",
                "others": ENV,
                "rollout": "serial",
                "errors": [
                    "release_canary_region=us-west-2 is not a region of this inventory (eu-north-1, ap-southeast-1): choose one of them"
                ],
            },
        ),
        # a canary left out of the run: the canary play would roll out nothing and every other region would go first
        (
            ["eu-north-1"],
            "ap-southeast-1",
            None,
            "repo/app:1",
            True,
            {
                "canary": "ap-southeast-1",
                "others": ["eu-north-1"],
                "rollout": "serial",
                "errors": [
                    "release_canary_region=ap-southeast-1 is not in this run (its regions: eu-north-1; --limit?): choose one of them, "
                    "or run without the --limit that leaves it out"
                ],
            },
        ),
        (
            ENV,
            None,
            "sideways",
            "repo/app:1",
            True,
            {
                "canary": "eu-north-1",
                "others": ["ap-southeast-1"],
                "rollout": "sideways",
                "errors": ["release_rollout=sideways: choose serial (one region after the other) or parallel"],
            },
        ),
        (
            ENV,
            None,
            None,
            "  ",
            True,
            {
                "canary": "eu-north-1",
                "others": ["ap-southeast-1"],
                "rollout": "serial",
                "errors": ["release_image is not set: give the image to deploy, -e release_image=<repository>:<tag>"],
            },
        ),
        ([], None, None, None, False, {"canary": None, "others": [], "rollout": "serial", "errors": []}),
    ],
)
def test_waves(play, canary, rollout, image, required, expected):
    assert release_waves(ENV, play, canary, rollout, image, required) == expected


def test_every_error_at_once():
    errors = release_waves(ENV, ENV, "us-west-2", "both", None, True)["errors"]
    assert [error.split(" ")[0] for error in errors] == [
        "release_image",
        "release_canary_region=us-west-2",
        "release_rollout=both:",
    ]


@pytest.mark.parametrize(
    ("host", "wave", "expected"),
    [
        ("eu-north-1", "canary", True),
        ("eu-north-1", "others", False),
        ("eu-north-1", "all", True),
        ("ap-southeast-1", "canary", False),
        ("ap-southeast-1", "others", True),
        ("ap-southeast-1", "all", True),
    ],
)
def test_in_wave(host, wave, expected):
    assert in_wave(release_waves(ENV, ENV), host, wave) is expected


def test_an_unknown_wave_is_refused():
    with pytest.raises(ValueError, match="release_wave=first: choose canary, others or all"):
        in_wave(release_waves(ENV, ENV), "eu-north-1", "first")


hosts = st.lists(
    st.sampled_from(["eu-north-1", "ap-southeast-1", "us-east-1", "sa-east-1", "eu-west-1"]), unique=True, max_size=5
)


@given(play=hosts, pick=st.integers(min_value=0, max_value=10))
def test_every_host_of_the_play_rolls_out_exactly_once(play, pick):
    """Canary wave, then the others: each host of the run exactly once, the canary first (when the plan is valid)."""
    environment = sorted(set(play) | {"eu-west-1"})
    canary = play[pick % len(play)] if play and pick < 5 else None
    plan = release_waves(environment, play, canary)
    assert plan["errors"] == []
    rolled = [host for host in play if in_wave(plan, host, "canary")] + [
        host for host in play if in_wave(plan, host, "others")
    ]
    assert sorted(rolled) == sorted(play)
    assert rolled[:1] == ([plan["canary"]] if play else [])
    assert plan["others"] == [host for host in play if host != plan["canary"]]


# ------------------------------------------------------------------ the release role's API as the playbooks use it
ROOT = Path(__file__).resolve().parents[4]
PLAYBOOKS = sorted((ROOT / "playbooks").glob("*.yml"))
SPECS = yaml.safe_load((ROOT / "roles" / "release" / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))[
    "argument_specs"
]


def _walk(node, path=()):
    """Every (path, key, value) of a parsed YAML document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from _walk(value, path + (key,))
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, path)


def _release_includes():
    for playbook in PLAYBOOKS:
        for _path, key, value in _walk(yaml.safe_load(playbook.read_text(encoding="utf-8"))):
            if (
                key in ("ansible.builtin.include_role", "ansible.builtin.import_role")
                and value.get("name") == "megapool.aws.release"
            ):
                yield playbook.name, value.get("tasks_from", "main")


def test_every_entry_point_the_playbooks_call_has_an_argument_spec():
    called = set(_release_includes())
    assert {entry for _name, entry in called} >= {
        "plan_deploy",
        "prepare",
        "gate",
        "rollout",
        "report",
        "plan_rollback",
        "validate",
    }
    assert [(name, entry) for name, entry in sorted(called) if entry not in SPECS] == []


@pytest.mark.parametrize("playbook", PLAYBOOKS, ids=[path.name for path in PLAYBOOKS])
def test_no_playbook_sets_the_roles_private_variables_nor_decides_the_canary(playbook):
    """The canary, the rollback target and the revision to roll out are the role's (module_utils/release_waves.py,
    release_rollback.py); a playbook passes public variables only."""
    for path, key, value in _walk(yaml.safe_load(playbook.read_text(encoding="utf-8"))):
        if path and path[-1] in ("vars", "ansible.builtin.set_fact"):
            assert not str(key).startswith("_release_"), (playbook.name, path, key)
        if isinstance(value, str) and "{{" in value:
            assert "release_canary_region" not in value and "rollback_target" not in value, (
                playbook.name,
                path,
                key,
                value,
            )


def test_deploy_and_rollback_share_their_waves():
    for name in ("deploy.yml", "rollback.yml"):
        plays = yaml.safe_load((ROOT / "playbooks" / name).read_text(encoding="utf-8"))
        assert [play.get("ansible.builtin.import_playbook") for play in plays][-1] == "rollout_waves.yml", name
