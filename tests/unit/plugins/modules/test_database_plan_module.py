# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.database_plan: the planner as a module (no AWS call); the rules are tested in
tests/unit/plugins/module_utils/test_database_plan.py."""

from __future__ import annotations

from ansible_collections.megapool.aws.plugins.modules import database_plan as module_under_test

INPUTS = dict(
    engine="postgres",
    engine_version="16",
    instance_class="db.t4g.micro",
    allocated_storage=20,
    max_allocated_storage=100,
    storage_type="gp3",
    backup_retention=7,
    backup_window="03:00-03:30",
    maintenance_window="sun:04:00-sun:04:30",
    name="megapool",
    username="megapool",
    port=5432,
    master_password_mode="auto",
    kms_key_ids={},
    identifier="megapool-test",
    primary_region="",
    regions=["eu-north-1", "ap-southeast-1"],
    vpc_cidrs={"eu-north-1": "10.10.0.0/16", "ap-southeast-1": "10.20.0.0/16"},
    cluster="megapool",
    env="test",
)


def test_returns_the_plan_and_changes_nothing(run_module, aws_calls):
    result = run_module(module_under_test.main, dict(inputs=INPUTS), check_mode=True)
    assert not result.get("failed") and result["changed"] is False
    assert result["plan"]["primary_region"] == "eu-north-1"
    assert result["plan"]["members"]["ap-southeast-1"]["peer_cidrs"] == ["10.10.0.0/16"]
    assert aws_calls == []


def test_fails_with_every_error(run_module):
    result = run_module(module_under_test.main, dict(inputs={**INPUTS, "engine": "mysql", "backup_retention": 99}))
    assert result["failed"]
    assert [error.split("=")[0] for error in result["errors"]] == ["database_engine", "database_backup_retention"]
    assert result["msg"] == " | ".join(result["errors"])


def test_documented_options_match_the_argument_spec(docs_match_spec):
    docs_match_spec(module_under_test)
