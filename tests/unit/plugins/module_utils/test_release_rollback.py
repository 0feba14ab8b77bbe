# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollback target of playbooks/rollback.yml."""

from __future__ import annotations

from ansible_collections.megapool.aws.plugins.module_utils.release_rollback import rollback_candidates
from ansible_collections.megapool.aws.plugins.module_utils.release_rollback import rollback_target

CURRENT = {"service_exists": True, "family": "shop-prod-web", "revision": 7, "task_definition": "shop-prod-web:7"}


def test_candidates_newest_first_up_to_ten_back():
    assert rollback_candidates(7) == [6, 5, 4, 3, 2, 1]
    assert rollback_candidates(20) == list(range(19, 9, -1))
    assert rollback_candidates(1) == []
    assert rollback_candidates(7, explicit=3) == [3]


def test_the_highest_active_revision_below_wins():
    described = [
        {"revision": 6, "status": "INACTIVE"},
        {},
        {"revision": 4, "status": "ACTIVE"},
        {"revision": 3, "status": "ACTIVE"},
    ]
    assert rollback_target("eu-north-1", CURRENT, described) == {"target": "shop-prod-web:4", "errors": []}


def test_nothing_active_names_the_variable():
    result = rollback_target("eu-north-1", CURRENT, [{"revision": 6, "status": "INACTIVE"}])
    assert result == {
        "target": None,
        "errors": [
            "eu-north-1: no ACTIVE revision of shop-prod-web below 7: give an existing one with -e release_rollback_revision=<n>"
        ],
    }
    result = rollback_target("eu-north-1", CURRENT, [{}], explicit=2)
    assert result["errors"] == [
        "eu-north-1: no ACTIVE revision of shop-prod-web below 7 (release_rollback_revision=2): give an "
        "existing one with -e release_rollback_revision=<n>"
    ]


def test_no_service_or_first_revision():
    result = rollback_target("eu-north-1", {"service_exists": False, "task_definition": ""}, [])
    assert result["errors"] == [
        "eu-north-1 runs no service: there is no earlier revision to roll back to (run playbooks/site.yml first)"
    ]
    result = rollback_target("eu-north-1", dict(CURRENT, revision=1, task_definition="shop-prod-web:1"), [])
    assert result["errors"] == ["eu-north-1 runs shop-prod-web:1: there is no earlier revision to roll back to"]


def test_an_explicit_revision_is_used_when_active():
    assert (
        rollback_target("r", dict(CURRENT, revision=1), [{"revision": 1, "status": "ACTIVE"}], explicit=1)["target"]
        == "shop-prod-web:1"
    )
