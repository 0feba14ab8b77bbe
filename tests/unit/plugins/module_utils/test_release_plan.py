# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release role's pure planners (module_utils.release_plan): capacity, spot drain, rollout timeout, migration
memory, API names, task definition drift and the secrets every region shares."""

from __future__ import annotations

import copy
import re

import boto3
import pytest

from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.megapool.aws.plugins.module_utils.release_plan import PlanError
from ansible_collections.megapool.aws.plugins.module_utils.release_plan import api_token
from ansible_collections.megapool.aws.plugins.module_utils.release_plan import conflict_errors
from ansible_collections.megapool.aws.plugins.module_utils.release_plan import migration_memory
from ansible_collections.megapool.aws.plugins.module_utils.release_plan import release_checks
from ansible_collections.megapool.aws.plugins.module_utils.release_plan import rollout_capacity
from ansible_collections.megapool.aws.plugins.module_utils.release_plan import rollout_timeout
from ansible_collections.megapool.aws.plugins.module_utils.release_plan import shared_secrets
from ansible_collections.megapool.aws.plugins.module_utils.release_plan import spot_drain
from ansible_collections.megapool.aws.plugins.module_utils.release_plan import task_definition_changes


# --- capacity -------------------------------------------------------------------------------------------------------

CAPACITY = [
    # desired, max, max%, min%, migrate -> surge, peak, gate_peak, error fragment (None: accepted)
    (2, 4, 200, 100, True, 2, 4, 3, None),
    (2, 12, 200, 100, True, 2, 4, 3, None),
    (0, 1, 200, 100, True, 0, 0, 1, None),
    (
        4,
        4,
        200,
        100,
        True,
        4,
        8,
        5,
        "a rollout runs up to 8 tasks at once (4 new beside the 4 old, one per instance), but ecs_hosts_max_size=4",
    ),
    (3, 4, 200, 100, True, 3, 6, 4, "raise ecs_hosts_max_size to 6 or lower release_desired_count to 2"),
    (3, 4, 125, 100, True, 0, 3, 4, "ECS can neither start a new task beside the old ones nor stop an old one first"),
    (4, 5, 125, 100, True, 1, 5, 5, None),
    (4, 5, 125, 100, False, 1, 5, 4, None),
    (4, 4, 100, 50, False, 0, 4, 4, None),
    (4, 4, 100, 50, True, 0, 4, 5, "leaves no instance for the migration task"),
    (9, 4, 200, 100, True, 9, 18, 10, "release_desired_count=9 is above ecs_hosts_max_size=4"),
    (2, 4, 250, 100, True, 0, 2, 2, "release_deployment_maximum_percent=250: use 100-200"),
    (2, 4, 200, 101, True, 0, 2, 2, "release_deployment_minimum_healthy_percent=101: use 0-100"),
    (-1, 4, 200, 100, True, 0, -1, -1, "release_desired_count must be 0 or more"),
]


@pytest.mark.parametrize("desired,maximum,max_pct,min_pct,migrate,surge,peak,gate_peak,error", CAPACITY)
def test_rollout_capacity(desired, maximum, max_pct, min_pct, migrate, surge, peak, gate_peak, error):
    plan = rollout_capacity(desired, maximum, max_pct, min_pct, migrate)
    if error is None:
        assert plan["errors"] == []
        assert (plan["surge"], plan["peak"], plan["gate_peak"]) == (surge, peak, gate_peak)
    else:
        assert len(plan["errors"]) == 1 and error in plan["errors"][0], plan["errors"]


@given(
    desired=st.integers(0, 50), maximum=st.integers(1, 100), max_pct=st.integers(100, 200), min_pct=st.integers(0, 100)
)
def test_rollout_capacity_accepts_only_what_fits(desired, maximum, max_pct, min_pct):
    plan = rollout_capacity(desired, maximum, max_pct, min_pct, True)
    if not plan["errors"]:
        # Accepted: the whole surge and the gate's task fit, and the rollout can move.
        assert plan["peak"] <= maximum and plan["gate_peak"] <= maximum
        assert desired == 0 or plan["surge"] > 0 or desired * min_pct // 100 < desired
    else:
        assert plan["peak"] > maximum or plan["gate_peak"] > maximum or plan["surge"] == 0


def test_rollout_capacity_refuses_non_numbers():
    with pytest.raises(PlanError, match="ecs_hosts_max_size must be an integer"):
        rollout_capacity(2, "many")


# --- spot -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uses_spot,delay,stop,error",
    [
        (True, 30, 60, None),
        (True, 30, 70, None),
        (True, 30, 120, "alb_deregistration_delay=30 + release_stop_timeout=120 = 150 s"),
        (True, 90, 30, "lower release_stop_timeout to 10 or less"),
        (False, 300, 120, None),
    ],
)
def test_spot_drain(uses_spot, delay, stop, error):
    errors = spot_drain(uses_spot, delay, stop)["errors"]
    if error is None:
        assert errors == []
    else:
        assert len(errors) == 1 and error in errors[0] and "ecs_hosts_spot_percentage: 0" in errors[0]


@given(delay=st.integers(0, 3600), stop=st.integers(2, 120))
def test_spot_drain_accepts_exactly_the_budget(delay, stop):
    assert (spot_drain(True, delay, stop)["errors"] == []) == (delay + stop <= 100)


# --- rollout timeout ------------------------------------------------------------------------------------------------


def test_rollout_timeout_adds_the_worst_case():
    plan = rollout_timeout(900)
    assert plan["worst_case_seconds"] == 60 + 300 + 60 + 60 + 2 * 10 + 30 + 60
    assert plan["errors"] == []
    short = rollout_timeout(300)["errors"]
    assert len(short) == 1
    assert "release_rollout_timeout=300 is shorter" in short[0] and "raise release_rollout_timeout to 590" in short[0]
    assert "instance boot and warmup (ecs_hosts_instance_warmup_period) 300" in short[0]


@given(warmup=st.integers(0, 900), grace=st.integers(0, 600), timeout=st.integers(0, 3000))
def test_rollout_timeout_is_monotonic(warmup, grace, timeout):
    plan = rollout_timeout(timeout, instance_warmup=warmup, health_check_start_period=grace)
    assert plan["worst_case_seconds"] == sum(part["seconds"] for part in plan["parts"])
    assert (plan["errors"] == []) == (timeout >= plan["worst_case_seconds"])


# --- migration memory -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "wanted,web,mib,error",
    [
        (None, 1664, 1664, None),
        ("", 1664, 1664, None),
        (512, 1664, 512, None),
        ("384", 1664, 384, None),
        (64, 1664, 64, "release_migration_memory_mib=64: give 128-1664 MiB"),
        (4096, 1664, 4096, "at most the web task's 1664 MiB"),
    ],
)
def test_migration_memory(wanted, web, mib, error):
    plan = migration_memory(wanted, web)
    assert plan["mib"] == mib
    assert (plan["errors"] == []) == (error is None)
    if error:
        assert error in plan["errors"][0]


def test_release_checks_collects_every_error():
    result = release_checks(
        {
            "desired_count": 4,
            "max_size": 4,
            "uses_spot": True,
            "deregistration_delay": 30,
            "stop_timeout": 120,
            "rollout_timeout": 60,
            "migration_memory_mib": 32,
            "web_memory_mib": 1664,
        }
    )
    assert [error.split("=")[0] for error in result["errors"]] == [
        "release_desired_count",
        "alb_deregistration_delay",
        "release_rollout_timeout",
        "release_migration_memory_mib",
    ]
    assert release_checks({"desired_count": 2, "max_size": None, "web_memory_mib": 1664})["errors"] == []
    assert (
        release_checks({"desired_count": 2, "max_size": 4, "migration_memory_mib": 512, "web_memory_mib": 1664})[
            "migration_memory_mib"
        ]
        == 512
    )


# --- API names ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,field,expected",
    [
        ("release 1.4.2", "started_by", "release-1-4-2"),
        ("megapool.aws.ecs_task_gate", "started_by", "megapool-aws-ecs_task_gate"),
        ("release/1_4-2", "started_by", "release/1_4-2"),
        ("x" * 300, "started_by", "x" * 128),
        ("megapool-prod-web", "family", "megapool-prod-web"),
        ("shop.prod/web", "family", "shop-prod-web"),
        ("...", "service_name", "-"),
    ],
)
def test_api_token(value, field, expected):
    assert api_token(value, field) == expected


@given(st.text(max_size=400))
def test_api_token_always_valid_for_run_task(value):
    token = api_token(value)
    assert re.fullmatch(r"[A-Za-z0-9_/-]{1,128}", token)


def test_api_token_unknown_field():
    with pytest.raises(PlanError, match="unknown field 'nope'"):
        api_token("x", "nope")


# --- task definitions -----------------------------------------------------------------------------------------------

WANTED = {
    "family": "megapool-prod-web",
    "networkMode": "awsvpc",
    "executionRoleArn": "arn:aws:iam::123456789012:role/megapool-prod-ecs-execution",
    "taskRoleArn": "arn:aws:iam::123456789012:role/megapool-prod-ecs-task",
    "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
    "containerDefinitions": [
        {
            "name": "app",
            "image": "repo/megapool:1.4.2",
            "essential": True,
            "memoryReservation": "1664",
            "entryPoint": ["/bin/sh", "-c"],
            "command": ["exec bin/megapool start"],
            "portMappings": [{"containerPort": 4000, "hostPort": 4000, "protocol": "tcp"}],
            "environment": [{"name": "PORT", "value": "4000"}, {"name": "RELEASE_DISTRIBUTION", "value": "name"}],
            "secrets": [
                {
                    "name": "RELEASE_COOKIE",
                    "valueFrom": "arn:aws:ssm:eu-north-1:123456789012:parameter/megapool/prod/RELEASE_COOKIE",
                }
            ],
            "stopTimeout": 60,
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {"awslogs-group": "/ecs/megapool-prod", "awslogs-stream-prefix": "web"},
            },
        }
    ],
}


def _aws_answer(wanted: dict) -> dict:
    """DescribeTaskDefinition's answer for ``wanted`` as AWS gives it: defaults filled in, empties added, environment
    in another order, numbers as numbers, revision and status fields; snake_case like ecs_taskdefinition_info."""
    raw = copy.deepcopy(wanted)
    container = raw["containerDefinitions"][0]
    container.update(
        cpu=0, memoryReservation=int(container["memoryReservation"]), mountPoints=[], volumesFrom=[], systemControls=[]
    )
    container["environment"] = list(reversed(container["environment"]))
    container["portMappings"] = [{"containerPort": 4000, "hostPort": 4000, "protocol": "tcp"}]
    raw.update(
        revision=7,
        status="ACTIVE",
        taskDefinitionArn="arn:aws:ecs:eu-north-1:123456789012:task-definition/megapool-prod-web:7",
        volumes=[],
        placementConstraints=[],
        compatibilities=["EC2"],
        requiresAttributes=[{"name": "ecs.capability.task-eni"}],
    )
    return camel_dict_to_snake_dict(raw)


def test_same_definition_is_no_change():
    assert task_definition_changes(_aws_answer(WANTED), WANTED) == []
    # Given without the defaults AWS fills in: still the same.
    bare = copy.deepcopy(WANTED)
    del bare["containerDefinitions"][0]["essential"]
    bare["containerDefinitions"][0]["portMappings"] = [{"containerPort": 4000}]
    assert task_definition_changes(_aws_answer(WANTED), bare) == []


def _changed(path: str, value) -> dict:
    wanted = copy.deepcopy(WANTED)
    target = wanted
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    target[keys[-1]] = value
    return wanted


@pytest.mark.parametrize(
    "path,value,expected",
    [
        # What community.aws.ecs_taskdefinition misses (lists of the same length): D3.
        (
            "containerDefinitions.0.environment",
            [{"name": "PORT", "value": "4001"}, {"name": "RELEASE_DISTRIBUTION", "value": "name"}],
            ["container app: environment"],
        ),
        ("containerDefinitions.0.command", ["exec bin/megapool start --verbose"], ["container app: command"]),
        (
            "containerDefinitions.0.secrets",
            [{"name": "RELEASE_COOKIE", "valueFrom": "arn:aws:ssm:eu-north-1:123456789012:parameter/other"}],
            ["container app: secrets"],
        ),
        ("containerDefinitions.0.image", "repo/megapool:1.4.3", ["container app: image"]),
        ("containerDefinitions.0.memoryReservation", 512, ["container app: memory_reservation"]),
        ("containerDefinitions.0.stopTimeout", 30, ["container app: stop_timeout"]),
        (
            "runtimePlatform",
            {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
            ["task: runtime_platform"],
        ),
        ("executionRoleArn", "arn:aws:iam::123456789012:role/other", ["task: execution_role_arn"]),
        ("containerDefinitions.0.name", "web", ["container app: removed", "container web: added"]),
    ],
)
def test_a_changed_field_is_a_change(path, value, expected):
    assert task_definition_changes(_aws_answer(WANTED), _changed(path, value)) == expected


def test_no_revision_or_inactive_is_a_change():
    assert task_definition_changes(None, WANTED) == ["no ACTIVE revision"]
    assert task_definition_changes({}, WANTED) == ["no ACTIVE revision"]
    inactive = _aws_answer(WANTED)
    inactive["status"] = "INACTIVE"
    assert task_definition_changes(inactive, WANTED) == ["revision is INACTIVE"]


def test_what_the_emulator_answers_is_no_change(aws_env):  # pylint: disable=unused-argument
    """The same comparison against DescribeTaskDefinition of moto, camelCase and snake_case."""
    with mock_aws():
        ecs = boto3.client("ecs", region_name="eu-north-1")
        wanted = copy.deepcopy(WANTED)
        wanted["containerDefinitions"][0]["memoryReservation"] = 1664
        ecs.register_task_definition(**wanted)
        answer = ecs.describe_task_definition(taskDefinition="megapool-prod-web")["taskDefinition"]
    assert task_definition_changes(answer, WANTED) == []
    assert task_definition_changes(camel_dict_to_snake_dict(answer), WANTED) == []
    assert task_definition_changes(answer, _changed("containerDefinitions.0.environment", [])) == [
        "container app: environment"
    ]


# --- shared secrets -------------------------------------------------------------------------------------------------


def test_shared_secrets_one_value_everywhere():
    names = ["RELEASE_COOKIE", "SECRET_KEY_BASE"]
    plan = shared_secrets(
        names, {"eu-north-1": [None, None], "us-east-1": ["c1", None], "ap-southeast-1": ["c1", "k1"]}
    )
    assert plan["values"] == {"RELEASE_COOKIE": "c1", "SECRET_KEY_BASE": "k1"}
    assert plan["missing"] == {"RELEASE_COOKIE": ["eu-north-1"], "SECRET_KEY_BASE": ["eu-north-1", "us-east-1"]}
    assert plan["conflicts"] == []
    # Nothing anywhere: generate.
    assert shared_secrets(names, {"eu-north-1": [None, None]})["values"] == {
        "RELEASE_COOKIE": None,
        "SECRET_KEY_BASE": None,
    }


def test_shared_secrets_conflict_names_regions_never_values():
    plan = shared_secrets(
        ["RELEASE_COOKIE"],
        {"eu-north-1": ["aaa-secret"], "us-east-1": ["bbb-secret"], "ap-southeast-1": ["aaa-secret"]},
    )
    assert plan["conflicts"] == [
        {"name": "RELEASE_COOKIE", "groups": [["ap-southeast-1", "eu-north-1"], ["us-east-1"]]}
    ]
    errors = conflict_errors(plan["conflicts"], "/megapool/prod/")
    assert errors == [
        "SSM parameter /megapool/prod/RELEASE_COOKIE differs between regions (ap-southeast-1, eu-north-1 | us-east-1): every region"
        " of one BEAM cluster needs the same value; put the right value in release_secrets.RELEASE_COOKIE (vault-encrypted) to"
        " overwrite it everywhere, or delete the wrong parameters"
    ]
    assert "secret" not in repr(plan["conflicts"]) and "secret" not in errors[0].replace("secrets", "")


@given(st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from([None, "x", "y"]), min_size=1))
def test_shared_secrets_property(by_region):
    plan = shared_secrets(["S"], {region: [value] for region, value in by_region.items()})
    distinct = {value for value in by_region.values() if value is not None}
    assert bool(plan["conflicts"]) == (len(distinct) > 1)
    assert plan["values"]["S"] == (distinct.pop() if len(distinct) == 1 else None)
