# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each region runs (module_utils/release_report.py), from the results report.yml registers."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.megapool.aws.plugins.filter.release_report import FilterModule
from ansible_collections.megapool.aws.plugins.module_utils.release_report import EMPTY_REGION
from ansible_collections.megapool.aws.plugins.module_utils.release_report import release_report

release_report_filter = FilterModule().filters()["release_report"]

ARN = "arn:aws:ecs:eu-north-1:123456789012:task-definition/megapool-local-web:%d"


def _service_result(region, *services):
    return {"item": region, "services": list(services), "changed": False}


def _service(status="ACTIVE", deployments=None):
    return {
        "serviceName": "web",
        "status": status,
        "runningCount": 2,
        "desiredCount": 2,
        "taskDefinition": ARN % 3,
        "deployments": deployments
        if deployments is not None
        else [
            {"status": "PRIMARY", "taskDefinition": ARN % 3, "rolloutState": "COMPLETED"},
        ],
    }


def _td(service_result, revision=3, containers=None):
    return {
        "item": service_result,
        "family": "megapool-local-web",
        "revision": revision,
        "container_definitions": containers
        if containers is not None
        else [
            {"name": "log-router", "image": "fluent/fluent-bit:3", "environment": []},
            {
                "name": "web",
                "image": "example/web:1.0.1",
                "environment": [{"name": "RELEASE_VERSION", "value": "1.0.1"}],
            },
        ],
    }


def test_each_region_its_revision_image_version_and_rollout_state():
    eu = _service_result("eu-north-1", _service())
    ap = _service_result(
        "ap-southeast-1",
        _service(
            deployments=[
                {"status": "PRIMARY", "taskDefinition": ARN % 2, "rolloutState": "IN_PROGRESS"},
                {"status": "ACTIVE", "taskDefinition": ARN % 3, "rolloutState": "COMPLETED"},
            ]
        ),
    )
    report = release_report(["ap-southeast-1", "eu-north-1"], [eu, ap], [_td(eu), _td(ap, 2)], "eu-north-1")
    assert report["canary_region"] == "eu-north-1"
    assert report["regions"]["eu-north-1"] == {
        "service": "web",
        "status": "ACTIVE",
        "task_definition": "megapool-local-web:3",
        "task_definition_arn": ARN % 3,
        "image": "example/web:1.0.1",
        "version": "1.0.1",
        "rollout_state": "COMPLETED",
        "running_count": 2,
        "desired_count": 2,
    }
    # The PRIMARY deployment is the one reported (ECS rolls towards it), not the older ACTIVE one.
    assert report["regions"]["ap-southeast-1"]["rollout_state"] == "IN_PROGRESS"
    assert report["regions"]["ap-southeast-1"]["task_definition_arn"] == ARN % 2
    assert report["regions"]["ap-southeast-1"]["task_definition"] == "megapool-local-web:2"


@pytest.mark.parametrize(
    "services, tds",
    [
        ([], []),  # nothing read (the region's call failed: failed_when false leaves no 'services')
        ([{"item": "eu-north-1", "failed": True, "msg": "no such cluster"}], []),
        (
            [_service_result("eu-north-1", _service(status="INACTIVE"))],
            [{"item": {"item": "eu-north-1"}, "skipped": True}],
        ),
        ([_service_result("eu-north-1")], [{"item": {"item": "eu-north-1"}, "skipped": True, "changed": False}]),
    ],
)
def test_a_region_without_an_active_service_is_all_null(services, tds):
    assert release_report(["eu-north-1"], services, tds, None) == {
        "canary_region": None,
        "regions": {"eu-north-1": EMPTY_REGION},
    }


def test_first_container_without_the_version_variable():
    eu = _service_result("eu-north-1", _service())
    td = _td(
        eu, containers=[{"name": "web", "image": "example/web:7", "environment": [{"name": "OTHER", "value": "x"}]}]
    )
    region = release_report(["eu-north-1"], [eu], [td], "eu-north-1")["regions"]["eu-north-1"]
    assert (region["image"], region["version"]) == ("example/web:7", None)


def test_regions_not_asked_for_are_left_out():
    eu = _service_result("eu-north-1", _service())
    assert list(release_report(["ap-southeast-1"], [eu], [_td(eu)], None)["regions"]) == ["ap-southeast-1"]


@pytest.mark.parametrize("services, tds", [("eu-north-1", []), ([], {"a": 1}), (["x"], [])])
def test_the_filter_refuses_what_is_not_a_loop_result(services, tds):
    with pytest.raises(AnsibleFilterError, match="release_report"):
        release_report_filter(services, tds, ["eu-north-1"])
