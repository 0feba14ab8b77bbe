# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The changelog is ready for the first release (antsibull-changelog, changelogs/).

Until a release is recorded in changelogs/changelog.yaml, no user has had any earlier behaviour: a fragment must not
announce a bugfix, a removal, a deprecation or a breaking change of it (it would appear as "Bugfixes" in the first
release's notes). Such entries go under ``trivial`` (kept, not rendered) or describe the feature as it now is.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
CHANGELOGS = ROOT / "changelogs"
FIRST_RELEASE_SECTIONS = {"release_summary", "major_changes", "minor_changes", "known_issues", "trivial"}


def _fragments() -> dict[str, dict]:
    return {
        path.name: yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for path in sorted((CHANGELOGS / "fragments").glob("*.yml"))
    }


def test_no_fixes_or_removals_of_never_released_behaviour():
    changelog = yaml.safe_load((CHANGELOGS / "changelog.yaml").read_text(encoding="utf-8"))
    if changelog.get("releases"):
        return  # after the first release every section is fair
    wrong = {
        name: sorted(set(fragment) - FIRST_RELEASE_SECTIONS)
        for name, fragment in _fragments().items()
        if set(fragment) - FIRST_RELEASE_SECTIONS
    }
    assert not wrong, (
        "nothing is released yet (changelogs/changelog.yaml has no release), so these fragments describe changes no user "
        "had: %s. Move the entries to `trivial:` or describe the feature as it is under minor_changes/major_changes."
        % wrong
    )


def test_exactly_one_release_summary():
    summaries = [name for name, fragment in _fragments().items() if "release_summary" in fragment]
    assert len(summaries) == 1, summaries


def test_fragments_link_the_projects_issues():
    for name in _fragments():
        text = (CHANGELOGS / "fragments" / name).read_text(encoding="utf-8")
        assert "example.invalid" not in text, (
            "%s links a placeholder URL; use https://github.com/megapool/megapool.aws/issues/N" % name
        )


def test_antsibull_changelog_lint_passes():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "antsibull-changelog"), "lint"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
