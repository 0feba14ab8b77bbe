# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The call-order rules on hand-made logs: the order of today's roles fails, the fixed order passes."""

from __future__ import annotations

import itertools

from megapool_contract import call_order

EMULATOR = "http://127.0.0.1:5100"
_clock = itertools.count(1)


def call(service, operation, params=None, region="eu-north-1", endpoint=EMULATOR, error=None, result=None):
    return {
        "service": service,
        "operation": operation,
        "params": params or {},
        "region": region,
        "endpoint": endpoint,
        "error": error,
        "result": result,
        "time": next(_clock),
    }


def template(cluster="megapool-local", region="eu-north-1", template_id="lt-1"):
    return call(
        "ec2",
        "CreateLaunchTemplate",
        {
            "LaunchTemplateName": "megapool-local-app",
            "LaunchTemplateData": {"UserData": {"__redacted__": True, "length": 90, "ecs_cluster": cluster}},
        },
        region=region,
        result={"LaunchTemplate.LaunchTemplateId": template_id},
    )


def asg(region="eu-north-1", template_id="lt-1"):
    spec = {"LaunchTemplateSpecification": {"LaunchTemplateId": template_id, "Version": "1"}}
    return call(
        "autoscaling",
        "CreateAutoScalingGroup",
        {
            "AutoScalingGroupName": "megapool-local-app",
            "MinSize": 1,
            "MaxSize": 4,
            "MixedInstancesPolicy": {"LaunchTemplate": spec},
        },
        region=region,
    )


def cluster(name="megapool-local", region="eu-north-1", **kwargs):
    return call("ecs", "CreateCluster", {"clusterName": name}, region=region, **kwargs)


def capacity_provider(region="eu-north-1"):
    return call("ecs", "CreateCapacityProvider", {"name": "megapool-local-app"}, region=region)


def service_linked_role(**kwargs):
    return call("iam", "CreateServiceLinkedRole", {"AWSServiceName": "ecs.amazonaws.com"}, region="us-east-1", **kwargs)


def test_todays_order_breaks_both_rules():
    """What roles/ecs_hosts sends today: ASG, capacity provider, then the cluster (with the provider)."""
    report = call_order.check([template(), asg(), capacity_provider(), cluster()])
    assert len(report.violations) == 2
    assert "CreateAutoScalingGroup megapool-local-app" in report.violations[0]
    assert "cluster not found" in report.violations[0]
    assert "CreateCapacityProvider megapool-local-app" in report.violations[1]


def test_cluster_first_satisfies_both_rules():
    report = call_order.check([cluster(), template(), asg(), capacity_provider()])
    assert report.violations == []
    assert report.checked == {"asg_cluster": 1, "capacity_provider_role": 1}


def test_explicit_service_linked_role_satisfies_the_capacity_provider_rule():
    report = call_order.check([service_linked_role(), template(), capacity_provider(), cluster(), asg()])
    assert report.violations == []


def test_an_existing_service_linked_role_counts():
    taken = {
        "code": "InvalidInput",
        "message": "Service role name AWSServiceRoleForECS has been taken in this account, please try a different suffix.",
    }
    assert call_order.check([service_linked_role(error=taken), capacity_provider()]).violations == []


def test_a_failed_create_cluster_does_not_count():
    failed = {"code": "InvalidParameterException", "message": "no"}
    report = call_order.check([cluster(error=failed), template(), asg()])
    assert len(report.violations) == 1


def test_a_cluster_in_another_region_does_not_count():
    report = call_order.check([cluster(region="ap-southeast-1"), template(), asg(), capacity_provider()])
    assert len(report.violations) == 1
    assert report.violations[0].startswith("eu-north-1: CreateAutoScalingGroup")


def test_a_cluster_of_another_name_does_not_count():
    report = call_order.check([cluster(name="other"), template(), asg()])
    assert len(report.violations) == 1


def test_a_deleted_cluster_ends_the_epoch():
    delete = call("ecs", "DeleteCluster", {"cluster": "arn:aws:ecs:eu-north-1:123456789012:cluster/megapool-local"})
    report = call_order.check([cluster(), delete, template(), asg()])
    assert len(report.violations) == 1


def test_an_emulator_reset_ends_every_epoch_of_that_endpoint():
    reset = {"event": "reset", "endpoint": EMULATOR, "time": next(_clock)}
    report = call_order.check([cluster(), reset, template(), asg(), capacity_provider()])
    assert len(report.violations) == 2


def test_a_reset_of_another_emulator_changes_nothing():
    reset = {"event": "reset", "endpoint": "http://127.0.0.1:5999", "time": next(_clock)}
    assert call_order.check([cluster(), reset, template(), asg(), capacity_provider()]).violations == []


def test_the_launch_template_by_name_is_linked_too():
    by_name = asg()
    by_name["params"]["MixedInstancesPolicy"]["LaunchTemplate"]["LaunchTemplateSpecification"] = {
        "LaunchTemplateName": "megapool-local-app"
    }
    report = call_order.check([template(), by_name])
    assert report.checked["asg_cluster"] == 1 and len(report.violations) == 1


def test_an_asg_of_an_unknown_template_is_not_judged():
    report = call_order.check([asg(template_id="lt-unknown")])
    assert report.violations == [] and report.checked["asg_cluster"] == 0


def test_the_recorded_first_converge_of_2026_12_02_breaks_both_rules_in_both_regions():
    """A real log (trimmed to the ECS and IAM calls): playbooks/site.yml on inventories/local at commit 559c66b."""
    from pathlib import Path  # pylint: disable=import-outside-toplevel

    from megapool_contract import calllog  # pylint: disable=import-outside-toplevel

    report = call_order.check(calllog.read(Path(__file__).parent / "data" / "site-first-converge-2026-12-02.jsonl"))
    assert report.checked == {"asg_cluster": 2, "capacity_provider_role": 2}
    assert sorted(v.split(" (")[0].split(" before")[0] for v in report.violations) == [
        "ap-southeast-1: CreateAutoScalingGroup megapool-local-app",
        "ap-southeast-1: CreateCapacityProvider megapool-local-app",
        "eu-north-1: CreateAutoScalingGroup megapool-local-app",
        "eu-north-1: CreateCapacityProvider megapool-local-app",
    ]
