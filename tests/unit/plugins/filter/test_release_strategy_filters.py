# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/filter/release_strategy.py: the role-facing wrappers (snake_case rule actions as elb_application_lb_info
answers them, bad input types named)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible.template import trust_as_template

from ansible_collections.megapool.aws.plugins.filter.release_strategy import FilterModule

FILTERS = FilterModule().filters()
TG, ALT = "arn:tg/app", "arn:tg/alt"


def test_a_flipped_rule_read_in_snake_case_is_kept_in_camel_case():
    snake = [
        {
            "type": "forward",
            "order": 1,
            "forward_config": {
                "target_groups": [{"target_group_arn": TG, "weight": 0}, {"target_group_arn": ALT, "weight": 1}],
                "target_group_stickiness_config": {"enabled": False},
            },
        }
    ]
    kept = FILTERS["blue_green_rule_actions"](snake, TG, ALT)
    assert kept == [
        {
            "Type": "forward",
            "Order": 1,
            "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": TG, "Weight": 0}, {"TargetGroupArn": ALT, "Weight": 1}],
                "TargetGroupStickinessConfig": {"Enabled": False},
            },
        }
    ]


def test_no_rule_yet_gets_the_first_form():
    first = FILTERS["blue_green_rule_actions"](None, TG, ALT)
    assert first[0]["ForwardConfig"]["TargetGroups"] == [
        {"TargetGroupArn": TG, "Weight": 1},
        {"TargetGroupArn": ALT, "Weight": 0},
    ]


@pytest.mark.parametrize(
    "name, args", [("blue_green_rule_actions", ("nope", TG, ALT)), ("release_strategy_errors", (["x"],))]
)
def test_bad_input_types_are_named(name, args):
    with pytest.raises(AnsibleFilterError, match=name):
        FILTERS[name](*args)


def test_the_rule_read_by_a_task_goes_through_ansibles_templar():
    # As the alb role calls it: the rule comes from a registered variable, which ansible-core 2.19 hands to the
    # filter as lazy containers (snake_dict_to_camel_dict alone fails on them: their type takes arguments).
    rule = {
        "actions": [
            {
                "type": "forward",
                "order": 1,
                "forward_config": {
                    "target_groups": [{"target_group_arn": TG, "weight": 0}, {"target_group_arn": ALT, "weight": 1}],
                    "target_group_stickiness_config": {"enabled": False},
                },
            }
        ]
    }
    templar = Templar(loader=DataLoader(), variables={"rule": rule, "tg": TG, "alt": ALT})
    kept = templar.template(trust_as_template("{{ rule.actions | megapool.aws.blue_green_rule_actions(tg, alt) }}"))
    assert kept == [
        {
            "Type": "forward",
            "Order": 1,
            "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": TG, "Weight": 0}, {"TargetGroupArn": ALT, "Weight": 1}],
                "TargetGroupStickinessConfig": {"Enabled": False},
            },
        }
    ]


def test_blue_green_removal_through_ansibles_templar_in_snake_case():
    # As tasks/blue_green_off_read.yml calls it, on elb_application_lb_info's snake_case rules.
    rules = [
        {
            "rule_arn": "arn:rule/default",
            "priority": "default",
            "is_default": True,
            "conditions": [],
            "actions": [{"type": "forward", "target_group_arn": TG}],
        },
        {
            "rule_arn": "arn:rule/mine",
            "priority": "10",
            "is_default": False,
            "conditions": [
                {
                    "field": "host-header",
                    "values": ["admin.example.com"],
                    "host_header_config": {"values": ["admin.example.com"]},
                }
            ],
            "actions": [{"type": "forward", "order": 1, "target_group_arn": "arn:tg/admin"}],
        },
        {
            "rule_arn": "arn:rule/production",
            "priority": "50000",
            "is_default": False,
            "conditions": [{"field": "path-pattern", "values": ["/*"]}],
            "actions": [
                {
                    "type": "forward",
                    "order": 1,
                    "forward_config": {
                        "target_groups": [{"target_group_arn": TG, "weight": 1}, {"target_group_arn": ALT, "weight": 0}]
                    },
                }
            ],
        },
    ]
    templar = Templar(loader=DataLoader(), variables={"rules": rules, "tg": TG, "alt": ALT})
    removal = templar.template(
        trust_as_template("{{ rules | megapool.aws.blue_green_removal(tg, alt, '50000', 'eu-north-1') }}")
    )
    assert removal["rule_arn"] == "arn:rule/production" and removal["error"] is None
    condition = {
        "Field": "host-header",
        "Values": ["admin.example.com"],
        "HostHeaderConfig": {"Values": ["admin.example.com"]},
    }
    assert removal["rules"] == [
        {
            "Priority": 10,
            "Conditions": [condition],
            "Actions": [{"Type": "forward", "Order": 1, "TargetGroupArn": "arn:tg/admin"}],
        }
    ]


@pytest.mark.parametrize(
    "args, fragment", [(("nope", TG, ALT, 50000), "the listener's rules"), (([], TG, ALT, "last"), "priority")]
)
def test_blue_green_removal_bad_input_types_are_named(args, fragment):
    with pytest.raises(AnsibleFilterError, match=fragment):
        FILTERS["blue_green_removal"](*args)
