# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/release_strategy.py: strategy checks, who is live in the production rule, the rule never
written back once ECS flipped it, the service's load balancers per strategy."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.module_utils import release_strategy as rs

TG = "arn:aws:elasticloadbalancing:eu-north-1:123456789012:targetgroup/megapool-prod-app/1"
ALT = "arn:aws:elasticloadbalancing:eu-north-1:123456789012:targetgroup/megapool-prod-alt/2"
RULE = "arn:aws:elasticloadbalancing:eu-north-1:123456789012:listener-rule/app/megapool-prod/3/4/5"
ROLE = "arn:aws:iam::123456789012:role/megapool-prod-ecs-infrastructure"
BG = dict(alternate_target_group_arn=ALT, production_listener_rule_arn=RULE, infrastructure_role_arn=ROLE)


def _forward(*groups: tuple[str, int]) -> list[dict]:
    return [
        {
            "Type": "forward",
            "Order": 1,
            "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": arn, "Weight": w} for arn, w in groups]},
        }
    ]


@pytest.mark.parametrize(
    "inputs, expected",
    [
        ({}, []),
        ({"release_strategy": "rolling", "release_bake_time_minutes": 0}, []),
        (dict(BG, release_strategy="blue_green", release_bake_time_minutes=1440, release_target_group_arn=TG), []),
        (dict(BG, release_strategy="blue_green", release_bake_time_minutes="5", release_target_group_arn=TG), []),
        (
            {"release_strategy": "canary"},
            ["release_strategy='canary' is not a deployment strategy: use rolling (default) or blue_green"],
        ),
        (
            {"release_bake_time_minutes": 1441},
            ["release_bake_time_minutes=1441 must be a whole number of minutes from 0 to 1440"],
        ),
        ({"release_bake_time_minutes": -1}, ["release_bake_time_minutes=-1"]),
        ({"release_bake_time_minutes": "soon"}, ["release_bake_time_minutes='soon'"]),
        ({"release_bake_time_minutes": 2.5}, ["release_bake_time_minutes=2.5"]),
        ({"release_bake_time_minutes": True}, ["release_bake_time_minutes=True"]),
        (
            {"release_strategy": "blue_green", "release_target_group_arn": None},
            ["release_strategy=blue_green needs the load balancer: release_target_group_arn is empty"],
        ),
        (
            {"release_strategy": "blue_green", "release_target_group_arn": TG, "alternate_target_group_arn": ALT},
            ["missing: production_listener_rule_arn, infrastructure_role_arn): set alb_blue_green: true"],
        ),
        ({"release_strategy": "blue_green", "alb_blue_green": True}, []),
        ({"release_strategy": "blue_green", "alb_blue_green": "True"}, []),
        ({"release_strategy": "rolling", "alb_blue_green": False}, []),
        (dict(BG, release_strategy="blue_green", alb_blue_green=False), []),
        (
            {"release_strategy": "blue_green", "alb_blue_green": False, "alternate_target_group_arn": ALT},
            ["release_strategy=blue_green but alb_blue_green is false"],
        ),
    ],
)
def test_strategy_errors(inputs, expected):
    errors = rs.strategy_errors(inputs)
    assert len(errors) == len(expected), errors
    for error, fragment in zip(errors, expected):
        assert fragment in error


@pytest.mark.parametrize(
    "actions, live",
    [
        ([{"Type": "forward", "TargetGroupArn": TG}], TG),
        (_forward((TG, 1), (ALT, 0)), TG),
        (_forward((TG, 0), (ALT, 1)), ALT),
        (_forward((TG, 0), (ALT, 100)), ALT),
        (_forward((TG, 1), (ALT, 1)), TG),  # a tie: the primary
        (_forward((TG, 0), (ALT, 0)), None),
        ([{"Type": "fixed-response"}], None),
        ([], None),
    ],
)
def test_live_target_group(actions, live):
    assert rs.live_target_group(actions, TG, ALT) == live


def test_a_new_or_foreign_rule_gets_the_first_form():
    first = rs.production_rule_actions([{"Type": "forward", "TargetGroupArn": TG}], TG, ALT)
    assert rs.forward_groups(first) == [(TG, 1), (ALT, 0)]
    assert rs.production_rule_actions(None, TG, ALT) == first


def test_a_rule_ecs_flipped_is_kept():
    flipped = _forward((TG, 0), (ALT, 1))
    assert rs.production_rule_actions(flipped, TG, ALT) == flipped


@given(st.integers(0, 999), st.integers(0, 999), st.booleans())
def test_the_rule_is_never_written_back_once_it_has_a_live_group(primary_weight, alternate_weight, swapped):
    groups = (
        [(ALT, alternate_weight), (TG, primary_weight)] if swapped else [(TG, primary_weight), (ALT, alternate_weight)]
    )
    current = _forward(*groups)
    wanted = rs.production_rule_actions(current, TG, ALT)
    if primary_weight or alternate_weight:
        assert wanted == current
        assert rs.live_target_group(wanted, TG, ALT) == rs.live_target_group(current, TG, ALT)
    else:
        assert rs.live_target_group(wanted, TG, ALT) == TG
    # idempotent: planning again on the result changes nothing
    assert rs.production_rule_actions(wanted, TG, ALT) == wanted


def test_load_balancers_per_strategy():
    assert rs.load_balancers("rolling", TG, "app", 4000) == [
        {"targetGroupArn": TG, "containerName": "app", "containerPort": 4000}
    ]
    entry = rs.load_balancers("blue_green", TG, "app", "4000", dict(BG, test_listener_rule_arn=RULE + "t"))[0]
    assert entry["advancedConfiguration"] == {
        "alternateTargetGroupArn": ALT,
        "productionListenerRule": RULE,
        "roleArn": ROLE,
        "testListenerRule": RULE + "t",
    }
    assert entry["containerPort"] == 4000


def test_the_target_groups_are_a_pair_in_either_order():
    wanted = rs.load_balancers("blue_green", TG, "app", 4000, BG)
    swapped = [
        dict(
            wanted[0],
            targetGroupArn=ALT,
            advancedConfiguration=dict(wanted[0]["advancedConfiguration"], alternateTargetGroupArn=TG),
        )
    ]
    assert rs.same_load_balancers(swapped, wanted)
    assert not rs.same_load_balancers(rs.load_balancers("rolling", TG, "app", 4000), wanted)
    assert not rs.same_load_balancers([dict(wanted[0], containerPort=4001)], wanted)
    assert not rs.same_load_balancers([], wanted)


def test_back_to_rolling_stays_on_the_live_group():
    current = rs.load_balancers("blue_green", TG, "app", 4000, BG)
    assert rs.rolling_load_balancers(current, {RULE: ALT}) == [
        {"targetGroupArn": ALT, "containerName": "app", "containerPort": 4000}
    ]
    assert rs.rolling_load_balancers(current, {})[0]["targetGroupArn"] == TG


@pytest.mark.parametrize(
    "deployment, stage, back",
    [
        (None, "", False),
        ({"lifecycleStage": "BAKE_TIME", "status": "IN_PROGRESS"}, "BAKE_TIME (IN_PROGRESS)", False),
        ({"lifecycleStage": "CLEAN_UP", "status": "SUCCESSFUL"}, "CLEAN_UP (SUCCESSFUL)", False),
        ({"lifecycleStage": "BAKE_TIME", "status": "ROLLBACK_IN_PROGRESS"}, "BAKE_TIME (ROLLBACK_IN_PROGRESS)", True),
        ({"status": "STOPPED"}, "- (STOPPED)", True),
    ],
)
def test_stage_and_rollback(deployment, stage, back):
    assert rs.stage_of(deployment) == stage
    assert rs.rolled_back(deployment) is back


def test_the_stage_names_are_botocore_s():
    import botocore.session  # pylint: disable=import-outside-toplevel

    model = botocore.session.get_session().get_service_model("ecs")
    assert tuple(model.shape_for("ServiceDeployment").members["lifecycleStage"].enum) == rs.LIFECYCLE_STAGES
    statuses = set(model.shape_for("ServiceDeployment").members["status"].enum)
    assert set(rs.ROLLBACK_STATUSES) <= statuses


# ---------------------------------------------------------------------------------------------- blue/green off

OTHER = {
    "RuleArn": "arn:rule/mine",
    "Priority": "10",
    "IsDefault": False,
    "Conditions": [
        {"Field": "host-header", "Values": ["admin.example.com"], "HostHeaderConfig": {"Values": ["admin.example.com"]}}
    ],
    "Actions": [{"Type": "forward", "Order": 1, "TargetGroupArn": "arn:tg/admin"}],
}
DEFAULT = {
    "RuleArn": "arn:rule/default",
    "Priority": "default",
    "IsDefault": True,
    "Conditions": [],
    "Actions": [{"Type": "forward", "TargetGroupArn": TG}],
}


def _rule(*groups: tuple[str, int], priority: str = "50000") -> dict:
    return {
        "RuleArn": RULE,
        "Priority": priority,
        "IsDefault": False,
        "Conditions": [{"Field": "path-pattern", "Values": ["/*"]}],
        "Actions": _forward(*groups),
    }


@pytest.mark.parametrize(
    "rules, rule_arn, kept, error",
    [
        # Nothing to remove: no rules, only the default one, or only rules of yours.
        (None, None, [], None),
        ([DEFAULT], None, [], None),
        ([DEFAULT, OTHER], None, [10], None),
        # The production rule with the traffic on the primary group goes; your rules stay as they are.
        ([DEFAULT, _rule((TG, 1), (ALT, 0))], RULE, [], None),
        ([DEFAULT, OTHER, _rule((TG, 1), (ALT, 0))], RULE, [10], None),
        ([_rule((TG, 100), (ALT, 0))], RULE, [], None),
        # A rule of yours at that priority that does not forward to the alternate group is not ours.
        ([_rule((TG, 1))], None, [50000], None),
        # Another priority: not ours either.
        ([_rule((TG, 1), (ALT, 0), priority="49999")], None, [49999], None),
        # ECS left production on the alternate group: refused.
        ([DEFAULT, _rule((TG, 0), (ALT, 1))], RULE, [], "sends the production traffic to the alternate target group"),
    ],
)
def test_blue_green_removal(rules, rule_arn, kept, error):
    removal = rs.blue_green_removal(rules, TG, ALT, 50000, "eu-north-1")
    assert removal["rule_arn"] == rule_arn
    assert [rule["Priority"] for rule in removal["rules"]] == kept
    if error is None:
        assert removal["error"] is None
    else:
        assert error in removal["error"]
        assert "alb_blue_green is false in eu-north-1" in removal["error"] and "nothing was changed" in removal["error"]
        assert "megapool-prod-alt" in removal["error"]


def test_blue_green_removal_keeps_your_rules_in_the_form_elb_application_lb_compares():
    removal = rs.blue_green_removal([DEFAULT, OTHER, _rule((TG, 1), (ALT, 0))], TG, ALT, 50000)
    assert removal["rules"] == [{"Priority": 10, "Conditions": OTHER["Conditions"], "Actions": OTHER["Actions"]}]


@given(st.integers(min_value=0, max_value=999), st.integers(min_value=0, max_value=999))
def test_blue_green_removal_is_refused_exactly_when_the_alternate_group_is_live(primary_weight, alternate_weight):
    removal = rs.blue_green_removal([_rule((TG, primary_weight), (ALT, alternate_weight))], TG, ALT, 50000)
    assert removal["rule_arn"] == RULE
    assert (removal["error"] is not None) == (
        rs.live_target_group(_forward((TG, primary_weight), (ALT, alternate_weight)), TG, ALT) == ALT
    )


@pytest.mark.parametrize(
    "port, cidrs, blue_green, expected",
    [
        (None, [], False, []),
        ("", None, True, []),
        (8443, ["203.0.113.0/24"], True, []),
        ("8443", ["203.0.113.0/24", "2001:db8::/32"], "true", []),
        (443, ["203.0.113.0/24"], True, ["other than 80 and 443"]),
        (80, ["203.0.113.0/24"], True, ["other than 80 and 443"]),
        (70000, ["203.0.113.0/24"], True, ["alb_blue_green_test_listener_port=70000 must be a port"]),
        ("soon", ["203.0.113.0/24"], True, ["alb_blue_green_test_listener_port='soon'"]),
        (8443, ["203.0.113.0/24"], False, ["needs alb_blue_green: true"]),
        (8443, [], True, ["alb_blue_green_test_cidrs is empty: nobody could reach the test listener on port 8443"]),
        (8443, ["office"], True, ["alb_blue_green_test_cidrs has 'office', which is not a CIDR block"]),
    ],
)
def test_test_listener_errors(port, cidrs, blue_green, expected):
    errors = rs.test_listener_errors(port, cidrs, blue_green)
    assert len(errors) == len(expected), errors
    for error, fragment in zip(errors, expected):
        assert fragment in error
