# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/role_readmes.py: every role's README.md is the one its argument specs generate (Galaxy needs one per role).

The sync test fails when someone changes a role's ``meta/argument_specs.yml`` (or ``meta/main.yml``) without
regenerating; its message names the command. The other tests pin down the rendering.
"""

from __future__ import annotations

import shutil

import pytest

import role_readmes

SPECS = {
    "argument_specs": {
        "validate": {"short_description": "Check the inputs.", "options": {}},
        "main": {
            "short_description": "Build O(demo_thing).",
            "description": [
                "First C(paragraph)   with spaces.",
                "See U(https://example.org) and L(the docs,https://example.org/d).",
            ],
            "options": {
                "demo_opt": {
                    "type": "list",
                    "elements": "str",
                    "default": ["a", "b"],
                    "description": "I(Some) | B(pipe).",
                },
                "demo_thing": {"type": "str", "required": True, "description": "The thing."},
                "demo_mode": {"type": "str", "choices": ["on", "off"], "default": "on", "description": "Mode."},
                "demo_dict": {
                    "type": "dict",
                    "options": {"inner": {"type": "int", "default": 3, "description": "M(amazon.aws.ec2_vpc_net)."}},
                },
            },
        },
    }
}


def test_every_role_readme_matches_its_argument_specs():
    out_of_date = role_readmes.stale()
    assert not out_of_date, "roles/{%s}/README.md out of date with meta/argument_specs.yml: run %s" % (
        ",".join(out_of_date),
        role_readmes.REGENERATE,
    )


def test_every_role_has_argument_specs():
    on_disk = sorted(path.name for path in (role_readmes.ROOT / "roles").iterdir() if path.is_dir())
    assert role_readmes.roles() == on_disk


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("C(a) and V(b) and O(c=d) and RV(e) and E(F)", "`a` and `b` and `c=d` and `e` and `F`"),
        ("I(it) B(bold)", "*it* **bold**"),
        ("U(https://x.test/a)", "<https://x.test/a>"),
        ("L(the text, https://x.test/b)", "[the text](https://x.test/b)"),
        ("M(amazon.aws.ec2_vpc_net)", "`amazon.aws.ec2_vpc_net`"),
        ("no markup (plain parentheses)", "no markup (plain parentheses)"),
        ("C(f(x)) stays whole", "`f(x)` stays whole"),
    ],
)
def test_markup(text, expected):
    assert role_readmes.markup(text) == expected


def test_render_entry_points_main_first_then_sorted_with_examples():
    text = role_readmes.render("demo", SPECS, {"galaxy_info": {"description": "A demo role."}}, ">=2.17.0")
    assert text.index("## Entry point `main`") < text.index("## Entry point `validate`")
    assert "# Role megapool.aws.demo\n\nA demo role." in text
    assert "ansible-core `>=2.17.0`" in text
    assert "    tasks_from: validate\n" in text
    assert "  vars:\n    demo_thing: <str>\n```" in text  # only the required options in the example
    assert "First `paragraph` with spaces.\n\nSee <https://example.org> and [the docs](https://example.org/d)." in text
    assert "Check the inputs.\n" in text and "No options." in text


def test_render_option_rows_required_first_sorted_suboptions_dotted_and_escaped():
    rows = role_readmes.option_rows(SPECS["argument_specs"]["main"]["options"])
    assert [row.split("|")[1].strip() for row in rows] == [
        "`demo_thing`",
        "`demo_dict`",
        "`demo_dict.inner`",
        "`demo_mode`",
        "`demo_opt`",
    ]
    assert rows[0] == "| `demo_thing` | str | yes |  | The thing. |"
    assert rows[2] == "| `demo_dict.inner` | int |  | `3` | `amazon.aws.ec2_vpc_net`. |"
    assert rows[3] == "| `demo_mode` | str |  | `on` | Mode. Choices: `on`, `off`. |"
    assert rows[4] == '| `demo_opt` | list of str |  | `["a", "b"]` | *Some* \\| **pipe**. |'


def test_stale_and_main_check_detect_and_fix_a_changed_spec(tmp_path, capsys):
    root = tmp_path / "repo"
    shutil.copytree(role_readmes.ROOT / "roles" / "peering", root / "roles" / "peering")
    shutil.copytree(role_readmes.ROOT / "meta", root / "meta")
    assert role_readmes.stale(root) == []
    spec = root / "roles" / "peering" / "meta" / "argument_specs.yml"
    spec.write_text(
        spec.read_text(encoding="utf-8").replace("short_description:", "short_description: Changed.", 1),
        encoding="utf-8",
    )
    assert role_readmes.stale(root) == ["peering"]
    (root / "roles" / "peering" / "README.md").unlink()
    assert role_readmes.stale(root) == ["peering"]
    monkey_root = role_readmes.ROOT
    try:
        role_readmes.ROOT = root
        assert role_readmes.main(["--check"]) == 1
        assert (
            "roles/peering/README.md is out of date: run .venv/bin/python scripts/role_readmes.py"
            in capsys.readouterr().out
        )
        assert role_readmes.main([]) == 0
        assert role_readmes.main(["--check"]) == 0
    finally:
        role_readmes.ROOT = monkey_root
