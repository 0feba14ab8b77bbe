# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service autoscaling: the checks (release_checks.release_autoscaling_errors) and the plan (release_autoscaling)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.module_utils.release_autoscaling import AutoscalingError
from ansible_collections.megapool.aws.plugins.module_utils.release_autoscaling import autoscaling_changes
from ansible_collections.megapool.aws.plugins.module_utils.release_autoscaling import autoscaling_plan
from ansible_collections.megapool.aws.plugins.module_utils.release_autoscaling import resource_label
from ansible_collections.megapool.aws.plugins.module_utils.release_checks import release_autoscaling_errors

TG = "arn:aws:elasticloadbalancing:eu-north-1:123456789012:targetgroup/megapool-prod/943f017f100becff"
LB = "arn:aws:elasticloadbalancing:eu-north-1:123456789012:loadbalancer/app/megapool-prod/778d41231b141a0f"
BASE = {
    "release_autoscaling_enabled": True,
    "release_autoscaling_min_count": None,
    "release_autoscaling_max_count": None,
    "release_autoscaling_cpu_target": 60,
    "release_autoscaling_memory_target": None,
    "release_autoscaling_requests_per_target": None,
    "release_autoscaling_scale_in_cooldown": 300,
    "release_autoscaling_scale_out_cooldown": 60,
    "release_desired_count": 2,
    "release_deployment_maximum_percent": 200,
    "release_stop_timeout": 60,
    "release_target_group_arn": TG,
    "ecs_hosts_max_size": 8,
    "alb_deregistration_delay": 30,
}


def _inputs(**changes):
    return dict(BASE, **changes)


@pytest.mark.parametrize(
    "changes, expected",
    [
        pytest.param({}, [], id="defaults-fit"),
        pytest.param(
            {"release_autoscaling_enabled": False, "release_autoscaling_cpu_target": 500}, [], id="off-is-not-checked"
        ),
        pytest.param(
            {"release_autoscaling_enabled": "maybe"},
            ["release_autoscaling_enabled='maybe' must be true or false"],
            id="enabled-not-bool",
        ),
        pytest.param(
            {"release_autoscaling_cpu_target": 0}, ["release_autoscaling_cpu_target=0 must be a percentage"], id="cpu-0"
        ),
        pytest.param(
            {"release_autoscaling_memory_target": 101},
            ["release_autoscaling_memory_target=101 must be a percentage"],
            id="memory-101",
        ),
        pytest.param(
            {"release_autoscaling_cpu_target": "high"}, ["release_autoscaling_cpu_target=high must be"], id="cpu-word"
        ),
        pytest.param(
            {"release_autoscaling_requests_per_target": 0},
            ["release_autoscaling_requests_per_target=0 must be the ALB requests"],
            id="requests-0",
        ),
        pytest.param(
            {"release_autoscaling_requests_per_target": 1000, "release_target_group_arn": None},
            ["needs the service's ALB target group: set release_target_group_arn"],
            id="requests-without-target-group",
        ),
        pytest.param(
            {"release_autoscaling_cpu_target": None},
            ["no target is set: set release_autoscaling_cpu_target"],
            id="no-target",
        ),
        pytest.param(
            {"release_autoscaling_min_count": 5, "release_autoscaling_max_count": 3},
            ["release_autoscaling_min_count=5 is above release_autoscaling_max_count=3"],
            id="min-above-max",
        ),
        pytest.param(
            {"release_autoscaling_min_count": 3},
            ["release_desired_count=2 is outside release_autoscaling_min_count=3"],
            id="desired-below-min",
        ),
        pytest.param(
            {"release_autoscaling_max_count": 1, "release_autoscaling_min_count": 1},
            ["release_desired_count=2 is outside"],
            id="desired-above-max",
        ),
        pytest.param(
            {"release_autoscaling_max_count": 6},
            [
                (
                    "release_autoscaling_max_count=6 with release_deployment_maximum_percent=200: a rollout at the maximum runs up to 12 "
                    "tasks",
                    "lower release_autoscaling_max_count to 4 or raise ecs_hosts_max_size to 12",
                )
            ],
            id="max-beyond-instances",
        ),
        pytest.param(
            {"release_autoscaling_max_count": 8, "release_deployment_maximum_percent": 100},
            [],
            id="max-equal-instances-no-surge",
        ),
        pytest.param(
            {"release_autoscaling_max_count": 9, "release_deployment_maximum_percent": 100},
            ["raise ecs_hosts_max_size to 9"],
            id="max-above-instances-no-surge",
        ),
        pytest.param(
            {"ecs_hosts_max_size": None},
            ["release_autoscaling_max_count is not set and ecs_hosts_max_size is unknown"],
            id="max-unknown",
        ),
        pytest.param(
            {"release_autoscaling_max_count": -1},
            ["release_autoscaling_max_count=-1 must be a task count"],
            id="max-negative",
        ),
        pytest.param(
            {"release_autoscaling_scale_in_cooldown": 60},
            [
                (
                    "release_autoscaling_scale_in_cooldown=60 is shorter than a BEAM node takes to leave (ALB deregistration delay 30 + "
                    "release_stop_timeout 60 = 90 seconds)",
                    "set release_autoscaling_scale_in_cooldown to 90 or more",
                )
            ],
            id="cooldown-short",
        ),
        pytest.param({"release_autoscaling_scale_in_cooldown": 90}, [], id="cooldown-exact"),
        pytest.param(
            {"release_autoscaling_scale_in_cooldown": 60, "release_target_group_arn": None}, [], id="no-alb-no-delay"
        ),
        pytest.param(
            {"release_autoscaling_scale_out_cooldown": "soon"},
            ["release_autoscaling_scale_out_cooldown=soon must be seconds"],
            id="cooldown-word",
        ),
    ],
)
def test_errors(changes, expected):
    errors = release_autoscaling_errors(_inputs(**changes))
    assert len(errors) == len(expected), errors
    for error, fragments in zip(errors, expected):
        for fragment in fragments if isinstance(fragments, tuple) else (fragments,):
            assert fragment in error


def test_errors_name_a_variable_and_a_fix():
    for changes in (
        {"release_autoscaling_cpu_target": 0},
        {"release_autoscaling_max_count": 6},
        {"release_autoscaling_scale_in_cooldown": 1},
    ):
        (error,) = release_autoscaling_errors(_inputs(**changes))
        assert error.startswith("release_autoscaling_") and (
            " set " in error or "lower " in error or "must be" in error
        )


def test_plan_cpu_and_requests():
    plan = autoscaling_plan(
        _inputs(release_autoscaling_requests_per_target=1000, release_autoscaling_max_count=4),
        "megapool-prod",
        "megapool-prod-web",
        LB,
    )
    assert plan["errors"] == [] and plan["enabled"] is True
    assert plan["resource_id"] == "service/megapool-prod/megapool-prod-web"
    assert (plan["min_count"], plan["max_count"]) == (2, 4)
    assert [policy["name"] for policy in plan["policies"]] == ["megapool-prod-web-cpu", "megapool-prod-web-requests"]
    assert plan["policies"][0]["configuration"] == {
        "TargetValue": 60.0,
        "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
        "ScaleInCooldown": 300,
        "ScaleOutCooldown": 60,
        "DisableScaleIn": False,
    }
    assert plan["policies"][1]["configuration"]["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "ALBRequestCountPerTarget",
        "ResourceLabel": "app/megapool-prod/778d41231b141a0f/targetgroup/megapool-prod/943f017f100becff",
    }


def test_plan_default_max_is_what_a_rollout_can_place():
    plan = autoscaling_plan(_inputs(ecs_hosts_max_size=7), "c", "s")
    assert (plan["min_count"], plan["max_count"]) == (2, 3)


def test_plan_off_and_plan_with_errors_have_no_policies():
    assert autoscaling_plan(_inputs(release_autoscaling_enabled=False), "c", "s")["policies"] == []
    refused = autoscaling_plan(_inputs(release_autoscaling_cpu_target=0), "c", "s")
    assert refused["errors"] and refused["policies"] == [] and refused["enabled"] is False


@pytest.mark.parametrize(
    "lb, tg",
    [
        pytest.param(
            "arn:aws:elasticloadbalancing:eu-north-1:123456789012:loadbalancer/net/nlb/778d41231b141a0f", TG, id="nlb"
        ),
        pytest.param(LB, "arn:aws:elasticloadbalancing:eu-north-1:123456789012:loadbalancer/app/x/1", id="lb-as-tg"),
        pytest.param("", TG, id="empty"),
    ],
)
def test_resource_label_refuses_what_is_not_an_alb_and_a_target_group(lb, tg):
    with pytest.raises(AutoscalingError):
        resource_label(lb, tg)


@given(
    lb_name=st.from_regex(r"[a-zA-Z0-9-]{1,32}", fullmatch=True),
    lb_id=st.from_regex(r"[0-9a-f]{16}", fullmatch=True),
    tg_name=st.from_regex(r"[a-zA-Z0-9-]{1,32}", fullmatch=True),
    tg_id=st.from_regex(r"[0-9a-f]{16}", fullmatch=True),
)
def test_resource_label_is_the_two_arn_tails(lb_name, lb_id, tg_name, tg_id):
    label = resource_label(
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/%s/%s" % (lb_name, lb_id),
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/%s/%s" % (tg_name, tg_id),
    )
    assert label == "app/%s/%s/targetgroup/%s/%s" % (lb_name, lb_id, tg_name, tg_id)


CPU = {
    "TargetValue": 60.0,
    "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
    "ScaleInCooldown": 300,
    "ScaleOutCooldown": 60,
    "DisableScaleIn": False,
}
WANTED = {"min_count": 2, "max_count": 4, "policies": [{"name": "web-cpu", "configuration": CPU}]}
TARGET = {"MinCapacity": 2, "MaxCapacity": 4}


def _described(name, configuration):
    return {"PolicyName": name, "TargetTrackingScalingPolicyConfiguration": configuration}


@pytest.mark.parametrize(
    "target, policies, wanted, expected",
    [
        pytest.param(None, [], WANTED, (True, ["web-cpu"], [], False), id="nothing-yet"),
        pytest.param(TARGET, [_described("web-cpu", CPU)], WANTED, (False, [], [], False), id="converged"),
        # AWS answers TargetValue as a double and leaves DisableScaleIn out when false.
        pytest.param(
            TARGET,
            [_described("web-cpu", dict({k: v for k, v in CPU.items() if k != "DisableScaleIn"}, TargetValue=60))],
            WANTED,
            (False, [], [], False),
            id="converged-as-aws-answers",
        ),
        pytest.param(
            {"MinCapacity": 2, "MaxCapacity": 6},
            [_described("web-cpu", CPU)],
            WANTED,
            (True, [], [], False),
            id="max-differs",
        ),
        pytest.param(
            TARGET,
            [_described("web-cpu", dict(CPU, ScaleInCooldown=120))],
            WANTED,
            (False, ["web-cpu"], [], False),
            id="cooldown-differs",
        ),
        pytest.param(
            TARGET,
            [_described("web-cpu", CPU), _described("web-memory", CPU)],
            WANTED,
            (False, [], ["web-memory"], False),
            id="purge-other",
        ),
        pytest.param(
            TARGET, [_described("web-cpu", CPU)], {"state": "absent"}, (False, [], ["web-cpu"], True), id="absent"
        ),
        pytest.param(None, [], {"state": "absent"}, (False, [], [], False), id="absent-already"),
    ],
)
def test_changes(target, policies, wanted, expected):
    changes = autoscaling_changes(target, policies, wanted)
    assert (changes["register"], changes["put"], changes["delete"], changes["deregister"]) == expected
    assert changes["changed"] is any(expected)


def test_changes_keep_others_without_purge():
    changes = autoscaling_changes(TARGET, [_described("web-cpu", CPU), _described("manual", CPU)], WANTED, purge=False)
    assert changes["delete"] == [] and sorted(changes["after"]["policies"]) == ["manual", "web-cpu"]


def test_changes_refuse_a_range_upside_down():
    with pytest.raises(AutoscalingError):
        autoscaling_changes(None, [], {"min_count": 5, "max_count": 2, "policies": []})


@given(st.integers(0, 20), st.integers(0, 20), st.sampled_from([30, 60.0, 75]))
def test_after_applying_the_changes_nothing_is_left_to_change(low, extra, value):
    wanted = {
        "min_count": low,
        "max_count": low + extra,
        "policies": [{"name": "web-cpu", "configuration": dict(CPU, TargetValue=value)}],
    }
    first = autoscaling_changes(None, [], wanted)
    target = {
        "MinCapacity": first["after"]["target"]["min_count"],
        "MaxCapacity": first["after"]["target"]["max_count"],
    }
    described = [_described(name, configuration) for name, configuration in first["after"]["policies"].items()]
    assert autoscaling_changes(target, described, wanted)["changed"] is False
