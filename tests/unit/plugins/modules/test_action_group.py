# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module that talks to AWS is in the action group megapool.aws.aws (meta/runtime.yml), so the plays'
``module_defaults: group/megapool.aws.aws`` (connection settings, retry policy) reach it: a module left out would
connect with the boto3 defaults (another region or account, no endpoint) while the play looks configured."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[4]


def test_every_aws_module_is_in_the_action_group():
    group = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))["action_groups"]["aws"]
    aws_modules = sorted(
        path.stem
        for path in (ROOT / "plugins" / "modules").glob("*.py")
        if "MegapoolAWSModule(" in path.read_text(encoding="utf-8")
    )
    assert len(aws_modules) >= 17
    assert [name for name in aws_modules if name not in group] == []
