# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's retry policy for AWS clients, without importing botocore: the filter ``aws_retry_policy`` runs
in nearly every task's worker process (module_defaults), and base.py (which re-exports these) imports botocore and
amazon.aws's module_utils, some 90 ms of CPU per worker (docs/benchmarks.md, "Warm workers")."""

from __future__ import annotations

import os
from typing import Any
from typing import Mapping
from typing import Optional

# The one retry policy of every AWS client the collection makes (docs/reliability.md). botocore's "standard" mode
# (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html) retries, with exponential backoff and
# jitter (at most 20 s between attempts) and a per-client retry quota, every throttling code AWS answers with --
# ECS/ACM/Cloud Map ``ThrottlingException``, EC2 ``RequestLimitExceeded``, IAM/RDS/Auto Scaling/ELB ``Throttling``,
# Route 53 ``Throttling`` and ``PriorRequestNotComplete`` -- plus every HTTP 500/502/503/504 (EC2 ``InternalError``
# and ``Unavailable``, ``ServiceUnavailable``), HTTP 429 and connection errors (botocore/retries/standard.py; a unit
# test checks each of those codes). botocore's default ("legacy", 5 attempts) is what the user gets without it.
# 10 attempts: a converge makes about 700 calls, and an account shared with other tools is throttled as a
# whole; at a 15 % failure rate per attempt, 10 attempts fail a call with a probability of 0.15 ** 10 (about 6e-9),
# and the backoff of 10 attempts (0 to 1, 2, 4, 8, 16, then 20 s capped) rides out about a minute of throttling.
# ``total_max_attempts`` counts the first request (botocore's Config ``max_attempts`` counts only the retries: 10
# there would make 11 requests; AWS_MAX_ATTEMPTS and the shared config file's max_attempts count the first one too).
RETRY_POLICY: dict[str, Any] = {"mode": "standard", "total_max_attempts": 10}


def with_retry_policy(
    aws_config: Optional[Mapping[str, Any]], environ: Optional[Mapping[str, str]] = None
) -> dict[str, Any]:
    """The botocore ``Config`` options ``aws_config`` plus the collection's retry policy (a new dict).

    What the user chose wins: the keys of ``aws_config.retries`` first, then the ``AWS_RETRY_MODE`` and
    ``AWS_MAX_ATTEMPTS`` environment variables botocore reads (``environ``, default ``os.environ``), then
    ``RETRY_POLICY``. Every other option of ``aws_config`` is kept as it is.
    """
    environ = os.environ if environ is None else environ
    config = dict(aws_config or {})
    given = config.get("retries") or {}
    if not isinstance(given, Mapping):
        raise TypeError("aws_config.retries must be a dictionary (botocore Config retries), got %r" % (given,))
    retries = dict(RETRY_POLICY)
    if environ.get("AWS_RETRY_MODE"):
        retries["mode"] = environ["AWS_RETRY_MODE"]
    if environ.get("AWS_MAX_ATTEMPTS"):
        retries["total_max_attempts"] = int(environ["AWS_MAX_ATTEMPTS"])
    if "max_attempts" in given:  # the user's count of retries wins over the policy's count of attempts
        del retries["total_max_attempts"]
    retries.update(given)
    config["retries"] = retries
    return config
