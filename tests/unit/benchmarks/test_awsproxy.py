# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""benchmarks/awsproxy.py: which calls count as mutating (a no-op converge must make none)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
import awsproxy  # noqa: E402  pylint: disable=wrong-import-position,import-error

AUTH = {
    "authorization": "AWS4-HMAC-SHA256 Credential=testing/20261203/us-east-1/route53/aws4_request, SignedHeaders=host"
}


@pytest.mark.parametrize(
    ("method", "path", "action", "mutating"),
    [
        # Route 53's ListTagsForResources is a POST without a resource id: a read
        ("POST", "/2013-04-01/tags/healthcheck", "ListTagsForResources", False),
        ("POST", "/2013-04-01/tags/hostedzone", "ListTagsForResources", False),
        # ChangeTagsForResource names the resource: a write
        ("POST", "/2013-04-01/tags/healthcheck/abc-123", "POST /2013-04-01/tags/healthcheck/abc-123", True),
        ("POST", "/2013-04-01/hostedzone/Z1/rrset/", "POST /2013-04-01/hostedzone/Z1/rrset/", True),
        ("GET", "/2013-04-01/hostedzone/Z1/rrset", "GET /2013-04-01/hostedzone/Z1/rrset", False),
    ],
)
def test_route53_rest_calls(method, path, action, mutating):
    call = awsproxy.classify(method, path, AUTH, b"")
    assert (call.service, call.region, call.action, call.mutating) == ("route53", "us-east-1", action, mutating)
