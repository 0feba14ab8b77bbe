# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What playbooks/status.yml decides: its input checks, what one region's nodes answered, and whether the nodes of
every region form one Erlang cluster (docs/clustering.md). Pure functions, no I/O.

A node answers ``GET /cluster`` (status_path) with JSON holding at least ``node`` (its own name) and ``members`` (the
nodes it is connected to, itself included: ``[node() | Node.list()]``). The load balancer spreads the requests of one
region over its tasks, so a region's answers are several views, each node's once.
"""

from __future__ import annotations

import re
from typing import Any
from typing import Mapping
from typing import Optional
from typing import Sequence

URL = re.compile(r"^https?://[^/]")


def status_input_errors(requests: Any, timeout: Any, path: Any, url: Optional[Any] = None) -> list[str]:
    """Each bad input of status.yml, naming the variable and the fix (the argument spec has checked the types)."""
    errors = []
    try:
        count = int(requests)
    except (TypeError, ValueError):
        count = -1
    if not 0 <= count <= 200:
        errors.append("status_requests=%s must be within 0-200 (0: three per target)" % (requests,))
    try:
        seconds = float(timeout)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 < seconds <= 60:
        errors.append("status_timeout=%s must be above 0 and at most 60 (seconds)" % (timeout,))
    if not isinstance(path, str) or not path.startswith("/"):
        errors.append("status_path=%s must start with / (e.g. /cluster)" % (path,))
    if url is not None and not (isinstance(url, str) and URL.match(url)):
        errors.append(
            "status_url=%s is not an http:// or https:// URL: e.g. status_url: https://eu-north-1.shop.example.com"
            % (url,)
        )
    return errors


def region_views(answers: Optional[Sequence[Mapping[str, Any]]]) -> dict[str, Any]:
    """What one region's nodes answered, from the results of the ``ansible.builtin.uri`` loop.

    ``views``: each answering node's JSON once (the first answer of each ``node``), sorted by node; ``requests``: the
    requests that got an HTTP answer or an error (a skipped loop has none); ``failures``: the message (at most 120
    characters) of each request that did not answer 200, in order.
    """
    answered = [answer for answer in answers or [] if isinstance(answer, Mapping) and "status" in answer]
    views: dict[str, Any] = {}
    for answer in answered:
        body = answer.get("json")
        if answer.get("status") == 200 and isinstance(body, Mapping) and body.get("node") is not None:
            views.setdefault(str(body["node"]), dict(body))
    failures = []
    for answer in answered:
        if answer.get("status") != 200:
            message = str(answer.get("msg") or "no answer")
            failures.append(message if len(message) <= 120 else message[:117] + "...")
    return {
        "views": [views[node] for node in sorted(views)],
        "requests": len(answered),
        "failures": failures,
        "cluster_read": bool(answered),
    }


def cluster_verdict(regions: Optional[Sequence[Mapping[str, Any]]]) -> dict[str, Any]:
    """Whether the nodes that answered in every region form one cluster, and who is in it.

    ``regions``: each region's ``status_outputs`` (``region`` and ``views``). One cluster means every node that
    answered sees the same member list, and that list holds every node that answered. Returns ``nodes`` (every node
    that answered, sorted), ``regions`` (those with a node that answered), ``member_lists`` (the distinct sorted member
    lists), ``one_cluster``, ``members`` (the one cluster's members, else []) and ``message`` (status.yml's line).
    """
    outputs = [output for output in regions or [] if isinstance(output, Mapping)]
    views = [view for output in outputs for view in output.get("views") or [] if isinstance(view, Mapping)]
    nodes = sorted({str(view.get("node")) for view in views if view.get("node") is not None})
    member_lists: list[list[str]] = []
    for view in views:
        members = sorted(str(member) for member in view.get("members") or [])
        if members not in member_lists:
            member_lists.append(members)
    answered_regions = [str(output.get("region")) for output in outputs if output.get("views")]
    one = bool(nodes) and len(member_lists) == 1 and set(nodes) <= set(member_lists[0])
    members = member_lists[0] if one else []
    if not nodes:
        message = "cluster: no node answered in any region"
    elif one:
        message = "cluster: one cluster of %d nodes across %s: %s" % (
            len(members),
            ", ".join(answered_regions),
            ", ".join(members),
        )
    else:
        message = (
            "cluster: NOT one cluster - %d different member lists among the %d nodes that answered (each region's view is above)"
            % (len(member_lists), len(nodes))
        )
    return {
        "nodes": nodes,
        "regions": answered_regions,
        "member_lists": member_lists,
        "one_cluster": one,
        "members": members,
        "message": message,
    }
