# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.ecs_cluster_settings against moto in-process."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ansible_collections.megapool.aws.plugins.modules import ecs_cluster_settings as module_under_test

REGION = "eu-north-1"
CLUSTER = "megapool-test"
TAGS = {"megapool:env": "test", "megapool:cluster": "megapool", "megapool:role": "cluster"}


@pytest.fixture
def ecs(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        client = boto3.client("ecs", region_name=REGION)
        client.create_cluster(clusterName=CLUSTER)
        yield client


def _described(client) -> tuple[str, dict]:
    cluster = client.describe_clusters(clusters=[CLUSTER], include=["SETTINGS", "TAGS"])["clusters"][0]
    settings = {item["name"]: item["value"] for item in cluster.get("settings") or []}
    return settings.get("containerInsights", "disabled"), {
        item["key"]: item["value"] for item in cluster.get("tags") or []
    }


def _run(run_module, check_mode=False, **args):
    return run_module(
        module_under_test.main, dict({"name": CLUSTER, "region": REGION}, **args), check_mode=check_mode, diff=True
    )


def test_sets_insights_and_tags_then_is_idempotent(ecs, run_module, aws_calls):
    aws_calls.clear()
    first = _run(run_module, container_insights="enabled", tags=TAGS)

    assert first["changed"] is True
    assert [call.operation for call in aws_calls.writes()] == ["UpdateCluster", "TagResource"]
    assert _described(ecs) == ("enabled", TAGS)
    assert first["diff"] == {
        "before": {"container_insights": "disabled", "tags": {}},
        "after": {"container_insights": "enabled", "tags": dict(sorted(TAGS.items()))},
    }
    assert first["cluster"]["cluster_arn"].endswith(":cluster/" + CLUSTER)
    assert first["cluster"]["status"] == "ACTIVE"

    aws_calls.clear()
    again = _run(run_module, container_insights="enabled", tags=TAGS)
    assert again["changed"] is False
    assert aws_calls.writes() == []
    assert aws_calls.operations() == ["DescribeClusters"]
    assert again["cluster"] == first["cluster"]


def test_check_mode_predicts_the_real_run_and_writes_nothing(ecs, run_module, aws_calls):
    aws_calls.clear()
    checked = _run(run_module, check_mode=True, container_insights="enhanced", tags=TAGS)
    assert checked["changed"] is True
    assert aws_calls.writes() == []
    assert _described(ecs) == ("disabled", {})
    applied = _run(run_module, container_insights="enhanced", tags=TAGS)
    assert applied["diff"] == checked["diff"]
    assert applied["cluster"] == checked["cluster"]


@pytest.mark.parametrize(
    "tags, purge, expected, writes",
    [
        pytest.param(
            {"megapool:env": "test", "team": "core"},
            True,
            {"megapool:env": "test", "team": "core"},
            ["UntagResource", "TagResource"],
            id="purge",
        ),
        pytest.param({"team": "core"}, False, dict(TAGS, team="core"), ["TagResource"], id="no-purge"),
        pytest.param({"megapool:env": "test"}, True, {"megapool:env": "test"}, ["UntagResource"], id="remove-only"),
        pytest.param(None, True, TAGS, [], id="tags-unset-leaves-tags-alone"),
    ],
)
def test_tags(ecs, run_module, aws_calls, tags, purge, expected, writes):
    _run(run_module, tags=TAGS)
    aws_calls.clear()
    result = _run(run_module, tags=tags, purge_tags=purge)
    assert result["changed"] is bool(writes)
    assert [call.operation for call in aws_calls.writes()] == writes
    assert _described(ecs)[1] == expected
    assert result["cluster"]["tags"] == expected
    assert _run(run_module, tags=tags, purge_tags=purge)["changed"] is False


def test_insights_only_leaves_tags_alone(ecs, run_module, aws_calls):
    _run(run_module, tags=TAGS)
    aws_calls.clear()
    result = _run(run_module, container_insights="enabled")
    assert result["changed"] is True
    assert [call.operation for call in aws_calls.writes()] == ["UpdateCluster"]
    assert _described(ecs) == ("enabled", TAGS)
    assert _run(run_module, container_insights="disabled")["changed"] is True
    assert _described(ecs)[0] == "disabled"


def test_missing_cluster_fails_naming_the_fix(ecs, run_module, aws_calls):  # pylint: disable=unused-argument
    aws_calls.clear()
    result = run_module(module_under_test.main, {"name": "nope", "region": REGION, "tags": TAGS})
    assert result["failed"] is True
    assert "ECS cluster nope does not exist (or is INACTIVE) in eu-north-1: create it first" in result["msg"]
    assert aws_calls.writes() == []


def test_missing_cluster_in_check_mode_is_a_predicted_change(ecs, run_module, aws_calls):  # pylint: disable=unused-argument
    aws_calls.clear()
    result = run_module(
        module_under_test.main,
        {"name": "nope", "region": REGION, "container_insights": "enabled"},
        check_mode=True,
        diff=True,
    )
    assert result["changed"] is True and result["cluster"] == {}
    assert result["diff"] == {"before": {}, "after": {"container_insights": "enabled", "tags": {}}}
    assert aws_calls.writes() == []


def test_a_deleted_cluster_counts_as_missing(ecs, run_module):
    ecs.delete_cluster(cluster=CLUSTER)
    result = _run(run_module, tags=TAGS)
    assert result["failed"] is True and "does not exist (or is INACTIVE)" in result["msg"]
