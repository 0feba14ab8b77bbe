# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.aws_retry_policy: the play's connection settings get the kernel's retry policy."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.megapool.aws.plugins.filter.aws_retry import FilterModule

aws_retry_policy = FilterModule().filters()["aws_retry_policy"]


@pytest.fixture(autouse=True)
def no_retry_environment(monkeypatch):
    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)


@pytest.mark.parametrize(
    "given, expected",
    [
        (
            {"region": "eu-north-1"},
            {"region": "eu-north-1", "aws_config": {"retries": {"mode": "standard", "total_max_attempts": 10}}},
        ),
        (None, {"aws_config": {"retries": {"mode": "standard", "total_max_attempts": 10}}}),
        (
            {"profile": "prod", "aws_config": {"connect_timeout": 5, "retries": {"mode": "adaptive"}}},
            {
                "profile": "prod",
                "aws_config": {"connect_timeout": 5, "retries": {"mode": "adaptive", "total_max_attempts": 10}},
            },
        ),
    ],
)
def test_aws_retry_policy(given, expected):
    assert aws_retry_policy(given) == expected


@pytest.mark.parametrize(
    "given, message",
    [("eu-north-1", "must be a dictionary"), ({"aws_config": {"retries": 3}}, "megapool_aws.aws_config")],
)
def test_aws_retry_policy_refuses(given, message):
    with pytest.raises(AnsibleFilterError, match=message):
        aws_retry_policy(given)
