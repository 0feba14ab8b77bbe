# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release filters: revisions of a family.

(The summary of health probes moved to module_utils.http_probe: tests/unit/plugins/modules/test_http_probe.py.)
"""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.megapool.aws.plugins.filter.release import release_revisions


def test_release_revisions_lists_every_revision():
    assert release_revisions(["shop-web", 3]) == [["shop-web", 1], ["shop-web", 2], ["shop-web", 3]]
    assert release_revisions(["shop-web", "2"]) == [["shop-web", 1], ["shop-web", 2]]
    assert release_revisions(["shop-web", 0]) == []


def test_release_revisions_refuses_other_input():
    with pytest.raises(AnsibleFilterError, match="expects \\[family, latest revision\\]"):
        release_revisions(["shop-web"])


# The planners' filters (logic tested in tests/unit/plugins/module_utils/test_release_plan.py).
from ansible_collections.megapool.aws.plugins.filter.release import FilterModule  # noqa: E402

FILTERS = FilterModule().filters()


def test_release_checks_filter():
    assert FILTERS["release_checks"]({"desired_count": 2, "max_size": 4})["errors"] == []
    assert "ecs_hosts_max_size=4" in FILTERS["release_checks"]({"desired_count": 4, "max_size": 4})["errors"][0]
    with pytest.raises(AnsibleFilterError, match="release_checks expects a dict"):
        FILTERS["release_checks"]([1])
    with pytest.raises(AnsibleFilterError, match="release_checks: ecs_hosts_max_size must be an integer"):
        FILTERS["release_checks"]({"desired_count": 2, "max_size": "x"})


def test_release_api_token_filter():
    assert FILTERS["release_api_token"]("release 1.4.2") == "release-1-4-2"
    with pytest.raises(AnsibleFilterError, match="unknown field"):
        FILTERS["release_api_token"]("x", "bucket")


def test_release_task_definition_changes_filter():
    wanted = {"networkMode": "awsvpc", "containerDefinitions": [{"name": "app", "image": "a:1"}]}
    assert FILTERS["release_task_definition_changes"]({"failed": False, "msg": "not found"}, wanted) == [
        "no ACTIVE revision"
    ]
    with pytest.raises(AnsibleFilterError, match="wanted must be a dict"):
        FILTERS["release_task_definition_changes"](None, [])


def test_release_shared_secrets_filter():
    result = FILTERS["release_shared_secrets"]({"a": ["x"], "b": ["y"]}, ["RELEASE_COOKIE"], "/m/p/")
    assert result["errors"] and "/m/p/RELEASE_COOKIE differs between regions (a | b)" in result["errors"][0]
    with pytest.raises(AnsibleFilterError, match="expects"):
        FILTERS["release_shared_secrets"]([], ["X"])


def test_release_waves_filters():
    filters = FilterModule().filters()
    plan = filters["release_waves"](
        ["eu-north-1", "ap-southeast-1"], ["eu-north-1", "ap-southeast-1"], "ap-southeast-1"
    )
    assert plan["canary"] == "ap-southeast-1"
    assert filters["release_in_wave"](plan, "ap-southeast-1", "canary") is True
    assert filters["release_in_wave"](plan, "eu-north-1", "canary") is False
    with pytest.raises(AnsibleFilterError, match="play_hosts must be a list of inventory hosts"):
        filters["release_waves"](["eu-north-1"], "eu-north-1")
    with pytest.raises(AnsibleFilterError, match="release_wave=first: choose canary, others or all"):
        filters["release_in_wave"](plan, "eu-north-1", "first")
    with pytest.raises(AnsibleFilterError, match="the input must be what megapool.aws.release_waves returns"):
        filters["release_in_wave"]({}, "eu-north-1")
