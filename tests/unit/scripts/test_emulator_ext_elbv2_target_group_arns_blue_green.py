# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/elbv2_target_group_arns.py: LoadBalancerArns of a target group names each load balancer that
routes to it now, once (blue/green's production rule forwards to the primary group the default action uses too)."""

from __future__ import annotations

import pytest
from moto import mock_aws

from emulator_ext import elbv2_target_group_arns as ext

REGION = "eu-north-1"


@pytest.fixture
def installed(aws_env, blue_green_alb):  # pylint: disable=unused-argument
    with mock_aws():
        ext.apply()
        ext.apply()
        try:
            yield blue_green_alb(REGION)
        finally:
            ext.restore()


def _arns(elbv2) -> dict[str, list[str]]:
    return {
        group["TargetGroupName"]: group["LoadBalancerArns"] for group in elbv2.describe_target_groups()["TargetGroups"]
    }


def test_each_load_balancer_once_and_none_after_the_rule_is_gone(installed):
    elbv2 = installed["elbv2"]
    balancer = elbv2.describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
    # the default action and the production rule both forward to the primary group: listed once (moto: twice)
    assert _arns(elbv2) == {"megapool-local-app": [balancer], "megapool-local-alt": [balancer]}
    elbv2.delete_rule(RuleArn=installed["rule"])
    assert _arns(elbv2) == {"megapool-local-app": [balancer], "megapool-local-alt": []}
    # moto's own filter by load balancer sees the same
    by_balancer = elbv2.describe_target_groups(LoadBalancerArn=balancer)["TargetGroups"]
    assert [group["TargetGroupName"] for group in by_balancer] == ["megapool-local-app"]


def test_without_the_extension_moto_lists_the_load_balancer_twice(aws_env, blue_green_alb):  # pylint: disable=unused-argument
    with mock_aws():
        alb = blue_green_alb(REGION)
        assert len(_arns(alb["elbv2"])["megapool-local-app"]) == 2


@pytest.mark.parametrize(
    "action, groups",
    [
        ({"Type": "forward", "TargetGroupArn": "a"}, ["a"]),
        (
            {
                "Type": "forward",
                "ForwardConfig": {
                    "TargetGroups": [{"TargetGroupArn": "a", "Weight": 1}, {"TargetGroupArn": "b", "Weight": 0}]
                },
            },
            ["a", "b"],
        ),
        ({"Type": "forward", "ForwardConfig": {"TargetGroups": {"member": [{"TargetGroupArn": "b"}]}}}, ["b"]),
        ({"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS"}}, []),
    ],
)
def test_forwarded_groups(action, groups):
    assert ext.forwarded_groups(action) == groups


def test_routing_load_balancers_each_once_in_order():
    assert ext.routing_load_balancers(
        {
            "lb1": [[{"Type": "forward", "TargetGroupArn": "a"}], [{"Type": "forward", "TargetGroupArn": "a"}]],
            "lb2": [[{"Type": "forward", "TargetGroupArn": "a"}], [{"Type": "fixed-response"}]],
        }
    ) == {"a": ["lb1", "lb2"]}
