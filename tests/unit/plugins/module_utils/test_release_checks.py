# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release role's input planner: one case per message (each names the variable and the fix)."""

from __future__ import annotations

import pytest

from ansible_collections.megapool.aws.plugins.module_utils.release_checks import release_deploy_errors
from ansible_collections.megapool.aws.plugins.module_utils.release_checks import release_input_errors

DEFAULTS = {
    "megapool_cluster": "shop",
    "megapool_env": "prod",
    "release_service_name": "",
    "release_repository_name": "",
    "release_container_name": "app",
    "release_migrate": True,
    "release_migration_command": ["bin/megapool", "eval", "Megapool.Release.migrate()"],
    "release_start_command": ["bin/megapool", "start"],
    "release_required_secrets": ["DATABASE_URL"],
    "release_generated_secrets": ["RELEASE_COOKIE", "SECRET_KEY_BASE"],
    "release_task_role_policy_arns": [],
    "release_health_check_command": [],
    "release_environment": {},
    "release_secrets": {"SMTP_PASSWORD": "s3cret"},
    "release_desired_count": 2,
    "release_stop_timeout": 60,
    "release_log_retention_days": 30,
    "release_erlang_dist_port_min": 9100,
    "release_erlang_dist_port_max": 9155,
}

CASES = {
    "env_empty": ({"megapool_env": ""}, ["megapool_env='': give the env name"]),
    "execution_role_too_long": (
        {"megapool_cluster": "c" * 30, "megapool_env": "e" * 20},
        ["makes the IAM role name (execution role, global)", "65 characters; AWS allows 64", "by 1 character "],
    ),
    "service_name": (
        {"release_service_name": "my service"},
        ["release_service_name='my service' is not an ECS service name"],
    ),
    "container_name": (
        {"release_container_name": "app.web"},
        ["release_container_name='app.web' is not an ECS container name"],
    ),
    "repository_name": (
        {"release_repository_name": "Shop/App"},
        ["release_repository_name='Shop/App' is not an ECR repository name"],
    ),
    "secret_as_dict": (
        {"release_secrets": {"DATABASE_URL": {"value": "ecto://x"}}},
        ["release_secrets: DATABASE_URL is a mapping or list, not a value", "give each secret its value as a string"],
    ),
    "secrets_not_a_dict": (
        {"release_secrets": ["DATABASE_URL=x"]},
        ["release_secrets=['DATABASE_URL=x'] is not a mapping"],
    ),
    "secret_name": (
        {"release_secrets": {"smtp_password": "x"}},
        ["release_secrets has names that are not environment variable names (smtp_password)"],
    ),
    "secret_empty": ({"release_secrets": {"SMTP_PASSWORD": ""}}, ["release_secrets has an empty value"]),
    "required_a_string": (
        {"release_required_secrets": "DATABASE_URL"},
        ["release_required_secrets='DATABASE_URL' is a string"],
    ),
    "command_a_string": (
        {"release_migration_command": "bin/megapool eval migrate"},
        ["release_migration_command='bin/megapool eval migrate' is a string"],
    ),
    "command_empty": ({"release_migration_command": ["", " "]}, ["release_migration_command is empty"]),
    "environment_a_list": ({"release_environment": ["A=b"]}, ["release_environment=['A=b'] is not a mapping"]),
    "desired_negative": ({"release_desired_count": -1}, ["release_desired_count must be 0 or more"]),
    "stop_timeout": ({"release_stop_timeout": 121}, ["release_stop_timeout=121 must be 2-120 seconds"]),
    "retention": (
        {"release_log_retention_days": 31},
        ["release_log_retention_days=31 is not a CloudWatch Logs retention"],
    ),
    "ports": (
        {"release_erlang_dist_port_min": 9200, "release_erlang_dist_port_max": 9100},
        ["release_erlang_dist_port_min/max"],
    ),
}


def test_the_defaults_are_valid():
    assert release_input_errors(DEFAULTS) == []
    assert release_input_errors(dict(DEFAULTS, release_migrate=False, release_migration_command=[])) == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_message(case):
    overrides, texts = CASES[case]
    errors = release_input_errors(dict(DEFAULTS, **overrides))
    assert len(errors) == 1, errors
    for text in texts:
        assert text in errors[0], errors[0]


def test_no_message_shows_a_secret_value():
    errors = release_input_errors(dict(DEFAULTS, release_secrets={"A": {"value": "hunter2"}, "b": "hunter3", "C": ""}))
    assert errors and not any("hunter" in error for error in errors)


FACTS = {
    "image": "repo/app:1.0",
    "account": "123456789012",
    "region": "eu-north-1",
    "repository": "shop-prod",
    "secrets_in_ssm": [],
    "database_secrets": ["DATABASE_URL"],
    "ssm_prefix": "/shop/prod/",
    "started_by": "release-1-0",
}
DEPLOY = {"release_secrets": {}, "release_required_secrets": ["DATABASE_URL"], "release_image_pull_allowed": False}

DEPLOY_CASES = {
    "no_image": ({}, {"image": ""}, ["release_image is empty and no service runs in eu-north-1 yet"]),
    "no_tag": (
        {},
        {"image": "registry.example.com/app"},
        ["release_image=registry.example.com/app has no tag or digest"],
    ),
    "other_account": (
        {},
        {"image": "999999999999.dkr.ecr.eu-north-1.amazonaws.com/app:1"},
        [
            "is in the private ECR registry of account 999999999999, which the task execution role of account 123456789012",
            "set release_image_pull_allowed: true",
        ],
    ),
    "missing_secret": (
        {"release_required_secrets": ["DATABASE_URL", "SMTP_PASSWORD"]},
        {},
        [
            "release_secrets has no value for SMTP_PASSWORD and SSM has no parameter /shop/prod/SMTP_PASSWORD in eu-north-1"
        ],
    ),
    "started_by": ({}, {"started_by": "release 1"}, ["internal: startedBy release 1"]),
}


def test_a_deploy_with_everything_in_place():
    assert release_deploy_errors(DEPLOY, FACTS) == []
    assert (
        release_deploy_errors(
            dict(DEPLOY, release_image_pull_allowed=True),
            dict(FACTS, image="999999999999.dkr.ecr.eu-north-1.amazonaws.com/app:1"),
        )
        == []
    )
    assert release_deploy_errors(dict(DEPLOY, release_required_secrets=["X"]), dict(FACTS, secrets_in_ssm=["X"])) == []


@pytest.mark.parametrize("case", sorted(DEPLOY_CASES))
def test_each_deploy_message(case):
    inputs, facts, texts = DEPLOY_CASES[case]
    errors = release_deploy_errors(dict(DEPLOY, **inputs), dict(FACTS, **facts))
    assert len(errors) == 1, errors
    for text in texts:
        assert text in errors[0], errors[0]
