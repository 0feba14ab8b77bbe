# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""target_group_drift on its own; tests/unit/contract/test_comparators.py checks it against the stock module."""

from __future__ import annotations

import pytest

from ansible_collections.megapool.aws.plugins.module_utils.alb_target_group import target_group_drift

WANTED = {
    "health_check_protocol": "HTTP",
    "health_check_path": "/health",
    "health_check_interval": "10",
    "health_check_timeout": 5,
    "healthy_threshold_count": 2,
    "unhealthy_threshold_count": 3,
    "successful_response_codes": "200",
    "deregistration_delay_timeout": "30",
    "tags": {"Name": "web"},
}
FOUND = {
    "health_check_protocol": "HTTP",
    "health_check_path": "/health",
    "health_check_interval_seconds": 10,
    "health_check_timeout_seconds": 5,
    "healthy_threshold_count": 2,
    "unhealthy_threshold_count": 3,
    "matcher": {"http_code": "200"},
    "deregistration_delay_timeout_seconds": 30,
    "tags": {"Name": "web"},
}


@pytest.mark.parametrize(
    "found, expected",
    [
        (FOUND, []),
        (dict(FOUND, health_check_protocol="http"), []),  # the module compares upper case
        (dict(FOUND, tags={"Name": "web", "aws:cloudformation:stack-name": "x"}), []),  # never purged
        (dict(FOUND, health_check_protocol="HTTPS"), ["health check protocol"]),
        (dict(FOUND, health_check_interval_seconds=30), ["health check interval"]),
        (dict(FOUND, matcher={"http_code": "200,302"}), ["success codes"]),
        (dict(FOUND, deregistration_delay_timeout_seconds="300"), ["deregistration delay"]),
        (dict(FOUND, tags={}), ["tags"]),
        (dict(FOUND, health_check_path="/", healthy_threshold_count=5), ["healthy threshold", "health check path"]),
        # A TCP health check has no path or matcher: the module compares neither.
        (dict(FOUND, health_check_protocol="TCP", health_check_path=None, matcher=None), ["health check protocol"]),
    ],
)
def test_drift(found, expected):
    assert target_group_drift(found, WANTED) == expected


def test_codes_are_a_set():
    assert (
        target_group_drift(
            dict(FOUND, matcher={"http_code": "204, 200"}), dict(WANTED, successful_response_codes="200,204")
        )
        == []
    )


def test_missing():
    assert target_group_drift(None, WANTED) == ["missing"]
