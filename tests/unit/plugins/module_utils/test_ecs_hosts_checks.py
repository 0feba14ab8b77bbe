# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ecs_hosts role's input planner: one case per message (each names the variable and the fix)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.megapool.aws.plugins.module_utils.ecs_hosts_checks import architecture_by_type
from ansible_collections.megapool.aws.plugins.module_utils.ecs_hosts_checks import ecs_hosts_input_errors
from ansible_collections.megapool.aws.plugins.module_utils.ecs_hosts_checks import ecs_hosts_type_errors
from ansible_collections.megapool.aws.plugins.module_utils.ecs_hosts_checks import ROLE_AGENT_SETTINGS

ROLE = Path(__file__).resolve().parents[4] / "roles" / "ecs_hosts"
# The role's defaults (all literal) with a cluster and an env.
DEFAULTS = dict(
    yaml.safe_load((ROLE / "defaults" / "main.yml").read_text()), megapool_cluster="shop", megapool_env="prod"
)

CASES = {
    # case: (overrides, texts of the one message expected)
    "env_with_space": ({"megapool_env": "my env"}, ["megapool_env='my env' is not usable in AWS names"]),
    "iam_role_too_long": (
        {"megapool_cluster": "c" * 30, "megapool_env": "e" * 25},
        [
            "makes the IAM role name (instance role, global)",
            "69 characters; AWS allows 64",
            "Shorten megapool_cluster or megapool_env by 5 characters",
        ],
    ),
    "types_a_string": (
        {"ecs_hosts_instance_types": "t4g.small"},
        ["ecs_hosts_instance_types='t4g.small' is a string, but a list is expected"],
    ),
    "types_empty": ({"ecs_hosts_instance_types": []}, ["ecs_hosts_instance_types is empty"]),
    "types_twice": (
        {"ecs_hosts_instance_types": ["t3.small", "t3.small"]},
        ["lists a type more than once (t3.small, t3.small)"],
    ),
    "types_malformed": (
        {"ecs_hosts_instance_types": ["t3.small", "T3.*"]},
        ["ecs_hosts_instance_types: T3.* is not an instance type name", "(no wildcards)"],
    ),
    "spot_above_100": ({"ecs_hosts_spot_percentage": 150}, ["ecs_hosts_spot_percentage=150 is outside 0-100"]),
    "max_zero": (
        {
            "ecs_hosts_max_size": 0,
            "ecs_hosts_min_size": 0,
            "ecs_hosts_desired_capacity": 0,
            "ecs_hosts_on_demand_base_capacity": 0,
        },
        ["ecs_hosts_min_size=0 / ecs_hosts_max_size=0: the minimum must be 0 or more and the maximum 1 or more"],
    ),
    "min_above_max": (
        {"ecs_hosts_min_size": 5, "ecs_hosts_max_size": 4, "ecs_hosts_desired_capacity": 4},
        ["ecs_hosts_min_size=5 is greater than ecs_hosts_max_size=4"],
    ),
    "desired_outside": (
        {"ecs_hosts_desired_capacity": 9},
        ["ecs_hosts_desired_capacity=9 is outside ecs_hosts_min_size..ecs_hosts_max_size (1..4)"],
    ),
    "base_above_max": (
        {"ecs_hosts_on_demand_base_capacity": 5},
        ["ecs_hosts_on_demand_base_capacity=5 must be between 0 and ecs_hosts_max_size (4)"],
    ),
    "target_capacity": ({"ecs_hosts_target_capacity": 0}, ["ecs_hosts_target_capacity=0 is outside 1-100"]),
    "scaling_steps": (
        {"ecs_hosts_scaling_step_min": 5, "ecs_hosts_scaling_step_max": 2},
        ["need 1 <= min <= max <= 10000"],
    ),
    "warmup": (
        {"ecs_hosts_instance_warmup_period": 10001},
        ["ecs_hosts_instance_warmup_period=10001 must be 0-10000 seconds"],
    ),
    "protection_without_scaling": (
        {"ecs_hosts_managed_scaling": False},
        ["ecs_hosts_managed_termination_protection needs ecs_hosts_managed_scaling: true"],
    ),
    "reserve_negative": ({"ecs_hosts_memory_reserve_mib": -1}, ["ecs_hosts_memory_reserve_mib=-1 must be 0 or more"]),
    "task_memory_zero": (
        {"ecs_hosts_task_memory_mib": 0},
        ["ecs_hosts_task_memory_mib=0 must be a positive number of MiB"],
    ),
    "stop_timeout": (
        {"ecs_hosts_container_stop_timeout": "2 minutes"},
        ["ecs_hosts_container_stop_timeout=2 minutes is not a duration"],
    ),
    "agent_key": (
        {"ecs_hosts_agent_config": {"LOGLEVEL": "info"}},
        ["ecs_hosts_agent_config has keys that are not ECS agent settings (LOGLEVEL)"],
    ),
    "agent_owned": (
        {"ecs_hosts_agent_config": {"ECS_RESERVED_MEMORY": 64}},
        ["ecs_hosts_agent_config sets ECS_RESERVED_MEMORY, which the role sets itself"],
    ),
    "agent_a_list": (
        {"ecs_hosts_agent_config": ["ECS_LOGLEVEL=info"]},
        ["ecs_hosts_agent_config=['ECS_LOGLEVEL=info'] is not a mapping"],
    ),
    "measured_not_numbers": (
        {"ecs_hosts_registered_memory_mib": {"t4g.small": "lots"}},
        ["ecs_hosts_registered_memory_mib must map instance types to MiB"],
    ),
    "root_volume": (
        {"ecs_hosts_root_volume_size": 20},
        ["ecs_hosts_root_volume_size=20 is smaller than the ECS-optimised AMI's 30 GiB"],
    ),
    "hop_limit": ({"ecs_hosts_imds_hop_limit": 65}, ["ecs_hosts_imds_hop_limit=65 must be 1-64"]),
    "hook_timeout": (
        {"ecs_hosts_lifecycle_hook_timeout": 10},
        ["ecs_hosts_lifecycle_hook_timeout=10 must be 30-7200 seconds"],
    ),
    "alarm_threshold": (
        {"ecs_hosts_alarm_cpu_threshold": 120},
        ["ecs_hosts_alarm_cpu_threshold / ecs_hosts_alarm_memory_threshold are percentages"],
    ),
    "obsolete_alarm": (
        {"ecs_hosts_alarm_memory_reservation_threshold": 90},
        ["ecs_hosts_alarm_memory_reservation_threshold is gone"],
    ),
    "capacity_periods": (
        {"ecs_hosts_alarm_capacity_evaluation_periods": 2000},
        ["ecs_hosts_alarm_capacity_evaluation_periods=2000 must be 1 or more, and periods x ecs_hosts_alarm_period"],
    ),
    "alarm_period": (
        {"ecs_hosts_alarm_period": 5},
        ["ecs_hosts_alarm_period=5 / ecs_hosts_alarm_evaluation_periods=3"],
    ),
    "alarm_actions": (
        {"ecs_hosts_alarm_actions": ["mailto:ops@example.com"]},
        ["must be SNS topic ARNs", "not mailto:ops@example.com"],
    ),
    "alarm_actions_a_string": (
        {"ecs_hosts_alarm_ok_actions": "arn:aws:sns:eu-north-1:123456789012:ops"},
        ["ecs_hosts_alarm_ok_actions='arn:aws:sns:eu-north-1:123456789012:ops' is a string"],
    ),
    "not_a_number": ({"ecs_hosts_max_size": "four"}, ["ecs_hosts_max_size='four' is not a whole number"]),
}


def test_the_defaults_are_valid():
    assert ecs_hosts_input_errors(DEFAULTS) == []
    assert (
        ecs_hosts_input_errors(
            dict(DEFAULTS, ecs_hosts_max_size="4", ecs_hosts_alarm_actions=["arn:aws:sns:eu-north-1:1:a"])
        )
        == []
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_message(case):
    overrides, texts = CASES[case]
    errors = ecs_hosts_input_errors(dict(DEFAULTS, **overrides))
    assert len(errors) == 1, errors
    for text in texts:
        assert text in errors[0], errors[0]


def test_every_problem_at_once():
    overrides = {}
    for case in ("spot_above_100", "hop_limit", "stop_timeout", "types_empty"):
        overrides.update(CASES[case][0])
    assert len(ecs_hosts_input_errors(dict(DEFAULTS, **overrides))) == 4


def test_the_agent_settings_the_role_owns_are_the_ones_it_writes():
    written = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["_ecs_hosts_agent_settings"]
    assert sorted(ROLE_AGENT_SETTINGS) == sorted(written)


ARM = {"instance_type": "t4g.small", "architectures": ["arm64"]}
X86 = {"instance_type": "t3.small", "architectures": ["i386", "x86_64"]}
MAC = {"instance_type": "mac1.metal", "architectures": ["x86_64_mac"]}


@pytest.mark.parametrize(
    "types, missing, expected",
    [
        ([ARM], [], []),
        ([X86], [], []),
        (
            [ARM],
            ["t9.nope"],
            ["ecs_hosts_instance_types: t9.nope is not an instance type eu-north-1 offers", "--region eu-north-1"],
        ),
        ([MAC], [], ["ecs_hosts_instance_types: mac1.metal runs neither arm64 nor x86_64 Linux"]),
        (
            [X86, ARM],
            [],
            [
                "ecs_hosts_instance_types mixes architectures (t3.small: x86_64, t4g.small: arm64)",
                "list only arm64 (Graviton",
            ],
        ),
    ],
)
def test_type_errors(types, missing, expected):
    errors = ecs_hosts_type_errors(types, missing, "eu-north-1")
    assert len(errors) == (1 if expected else 0), errors
    for text in expected:
        assert text in errors[0]


def test_architecture_by_type():
    assert architecture_by_type([ARM, X86, MAC]) == {"t4g.small": "arm64", "t3.small": "x86_64", "mac1.metal": ""}
