# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""status.yml's decisions: input checks, one region's answers, one cluster across the regions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
import pytest

from ansible_collections.megapool.aws.plugins.module_utils.cluster_status import cluster_verdict
from ansible_collections.megapool.aws.plugins.module_utils.cluster_status import region_views
from ansible_collections.megapool.aws.plugins.module_utils.cluster_status import status_input_errors

A, B, C, D = "web@10.40.1.5", "web@10.40.2.6", "web@10.41.1.7", "web@10.41.2.8"


def ok(node, members, **extra):
    return {"status": 200, "json": dict({"node": node, "members": members}, **extra)}


def region(name, *views):
    return {"region": name, "views": list(views)}


@pytest.mark.parametrize(
    "args,bad",
    [
        ((0, 5, "/cluster", None), []),
        ((200, 60, "/cluster", "https://eu-north-1.shop.example.com"), []),
        ((201, 5, "/cluster", None), ["status_requests=201 must be within 0-200"]),
        ((-1, 5, "/cluster", None), ["status_requests=-1"]),
        (("many", 5, "/cluster", None), ["status_requests=many"]),
        ((3, 0, "/cluster", None), ["status_timeout=0 must be above 0 and at most 60"]),
        ((3, 61, "/cluster", None), ["status_timeout=61"]),
        ((3, 5, "cluster", None), ["status_path=cluster must start with /"]),
        (
            (3, 5, "/cluster", "eu-north-1.shop.example.com"),
            ["status_url=eu-north-1.shop.example.com is not an http:// or https:// URL"],
        ),
        ((300, 99, "x", "ftp://x"), ["status_requests", "status_timeout", "status_path", "status_url"]),
    ],
)
def test_status_input_errors_name_the_variable_and_the_fix(args, bad):
    errors = status_input_errors(*args)
    assert len(errors) == len(bad), errors
    for error, text in zip(errors, bad):
        assert error.startswith(text), (error, text)


def test_region_views_keeps_each_nodes_first_answer_sorted_and_counts_the_failures():
    answers = [
        ok(B, [A, B], version="1.0.1"),
        {
            "status": -1,
            "msg": "Status code was -1 and not [200]: Request failed: <urlopen error [Errno 111] Connection refused>"
            + "x" * 100,
        },
        ok(A, [A, B]),
        ok(B, [A, B], version="1.0.2"),  # the same node again: its first view stays
        {"status": 502, "msg": "Status code was 502 and not [200]: HTTP Error 502: Bad Gateway"},
        {"status": 200, "json": {"error": "no node"}},  # an answer without a node is no view
        {"skipped": True},  # a skipped loop item sent nothing
    ]
    result = region_views(answers)
    assert [view["node"] for view in result["views"]] == [A, B]
    assert result["views"][1]["version"] == "1.0.1"
    assert result["requests"] == 6 and result["cluster_read"] is True
    assert len(result["failures"]) == 2 and len(result["failures"][0]) == 120 and result["failures"][0].endswith("...")
    assert result["failures"][1].startswith("Status code was 502")


def test_region_views_of_a_skipped_loop():
    assert region_views(None) == {"views": [], "requests": 0, "failures": [], "cluster_read": False}


def test_one_cluster_across_two_regions():
    verdict = cluster_verdict(
        [
            region("eu-north-1", {"node": A, "members": [B, A, C, D]}, {"node": B, "members": [A, B, C, D]}),
            region("ap-southeast-1", {"node": C, "members": [D, C, B, A]}),
            region("us-east-1"),
        ]
    )
    assert verdict["one_cluster"] is True
    assert verdict["members"] == [A, B, C, D] and verdict["nodes"] == [A, B, C]
    assert verdict["regions"] == ["eu-north-1", "ap-southeast-1"]
    assert verdict["message"] == "cluster: one cluster of 4 nodes across eu-north-1, ap-southeast-1: %s" % ", ".join(
        [A, B, C, D]
    )


@pytest.mark.parametrize(
    "regions,lists",
    [
        # each region its own cluster: what one Cloud Map name in every region gives (docs/clustering.md)
        (
            [
                region("eu-north-1", {"node": A, "members": [A, B]}, {"node": B, "members": [A, B]}),
                region("us-east-1", {"node": C, "members": [C, D]}),
            ],
            2,
        ),
        # the same list everywhere, but a node that answered is not in it
        ([region("eu-north-1", {"node": A, "members": [B, C]}, {"node": B, "members": [B, C]})], 1),
    ],
)
def test_not_one_cluster(regions, lists):
    verdict = cluster_verdict(regions)
    assert verdict["one_cluster"] is False and verdict["members"] == []
    assert len(verdict["member_lists"]) == lists
    assert verdict["message"].startswith("cluster: NOT one cluster - %d different member lists" % lists)


def test_no_node_answered():
    verdict = cluster_verdict([region("eu-north-1"), {"region": "us-east-1"}])
    assert verdict == {
        "nodes": [],
        "regions": [],
        "member_lists": [],
        "one_cluster": False,
        "members": [],
        "message": "cluster: no node answered in any region",
    }


NODES = st.sampled_from([A, B, C, D])


@given(st.lists(st.tuples(NODES, st.lists(NODES, max_size=4)), max_size=8))
def test_one_cluster_means_every_view_the_same_and_complete(views):
    verdict = cluster_verdict([region("r", *({"node": node, "members": members} for node, members in views))])
    nodes = {node for node, _members in views}
    lists = {tuple(sorted(members)) for _node, members in views}
    expected = bool(nodes) and len(lists) == 1 and nodes <= set(next(iter(lists)))
    assert verdict["one_cluster"] is expected
    if expected:
        assert verdict["members"] == sorted(next(iter(lists)))
