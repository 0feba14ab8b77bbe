# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release filters: revisions of a family, and the summary of health probes."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.megapool.aws.plugins.filter.release import latency_summary
from ansible_collections.megapool.aws.plugins.filter.release import percentile
from ansible_collections.megapool.aws.plugins.filter.release import release_revisions


def _ok(seconds: float) -> dict:
    return {"ok": True, "status": 200, "seconds": seconds, "error": None}


def test_release_revisions_lists_every_revision():
    assert release_revisions(["shop-web", 3]) == [["shop-web", 1], ["shop-web", 2], ["shop-web", 3]]
    assert release_revisions(["shop-web", "2"]) == [["shop-web", 1], ["shop-web", 2]]
    assert release_revisions(["shop-web", 0]) == []


def test_release_revisions_refuses_other_input():
    with pytest.raises(AnsibleFilterError, match="expects \\[family, latest revision\\]"):
        release_revisions(["shop-web"])


@pytest.mark.parametrize(
    "values, share, expected",
    [([], 50, None), ([5.0], 95, 5.0), ([1, 2, 3, 4], 50, 2), ([1, 2, 3, 4], 95, 4), (list(range(1, 101)), 95, 95), ([3, 1, 2], 100, 3)],
)
def test_percentile_is_nearest_rank(values, share, expected):
    assert percentile(values, share) == expected


def test_all_healthy_passes():
    summary = latency_summary([_ok(0.010 * i) for i in range(1, 21)])
    assert summary["requests"] == 20 and summary["succeeded"] == 20 and summary["failed"] == 0
    assert summary["success_ratio"] == 1.0
    assert summary["p50_ms"] == 100.0
    assert summary["p95_ms"] == 190.0
    assert summary["max_ms"] == 200.0
    assert summary["outcomes"] == {"ok": 20}
    assert summary["passed"] is True


def test_flaky_counts_answered_failures_in_latency_and_fails_the_threshold():
    samples = [_ok(0.01)] * 15 + [{"ok": False, "status": 503, "seconds": 0.5, "error": None}] * 5
    summary = latency_summary(samples, 0.99)
    assert summary["success_ratio"] == 0.75
    assert summary["outcomes"] == {"HTTP 503": 5, "ok": 15}
    assert summary["max_ms"] == 500.0
    assert summary["passed"] is False
    assert latency_summary(samples, 0.75)["passed"] is True


def test_down_has_no_latency():
    summary = latency_summary([{"ok": False, "status": None, "seconds": None, "error": "Connection refused"}] * 3)
    assert summary["success_ratio"] == 0.0
    assert (summary["p50_ms"], summary["p95_ms"], summary["max_ms"]) == (None, None, None)
    assert summary["outcomes"] == {"Connection refused": 3}
    assert summary["passed"] is False


def test_no_samples_is_an_error():
    with pytest.raises(AnsibleFilterError, match="no samples"):
        latency_summary([])
