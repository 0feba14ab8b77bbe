# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml publishes its outputs for AWX workflows with ``set_stats`` (docs/awx.md).

The test takes the ``set_stats`` task out of site.yml's Summary play as it is, runs it for two region hosts whose
``<role>_outputs`` facts are given (what the roles publish after a converge, and nothing at all, as in check mode
on an empty account), with the JSON stdout callback, and reads the run's global custom stats: the artifacts AWX
passes to the next workflow node.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from conftest import ROOT
from conftest import run_plays_json

SITE = yaml.safe_load((ROOT / "playbooks" / "site.yml").read_text(encoding="utf-8"))

BUILT = {
    "network_outputs": {"vpc_id": "vpc-1", "cidr": "10.40.0.0/16"},
    "ecs_hosts_outputs": {
        "cluster_name": "megapool-local",
        "capacity_provider": "megapool-local-cp",
        "auto_scaling_group_name": "megapool-local-asg",
    },
    "alb_outputs": {
        "name": "megapool-local",
        "dns_name": "megapool-local-1.eu-north-1.elb.amazonaws.com",
        "arn": "arn:alb",
        "target_group_arn": "arn:tg",
    },
    "dns_outputs": {"app_domain": "app.megapool.test", "certificate_arn": "arn:cert"},
    "release_outputs": {
        "service": "web",
        "task_definition": "megapool-local-web:3",
        "image": "example/web:1",
        "version": "1",
    },
}


def _set_stats_task() -> dict:
    summary = [play for play in SITE if play["name"] == "Summary"]
    assert len(summary) == 1, [play["name"] for play in SITE]
    tasks = [task for task in summary[0]["tasks"] if "ansible.builtin.set_stats" in task]
    assert len(tasks) == 1, "site.yml's Summary play has no (or more than one) ansible.builtin.set_stats task"
    return tasks[0]


def _run(tmp_path: Path, hostvars: dict) -> dict:
    inventory = {"regions": {"hosts": hostvars, "vars": {"megapool_env": "local", "megapool_cluster": "megapool"}}}
    play = {
        "name": "Summary",
        "hosts": "regions",
        "gather_facts": False,
        "connection": "local",
        "tasks": [_set_stats_task()],
    }
    return run_plays_json(tmp_path, [play], inventory)["global_custom_stats"]  # what AWX gets as artifacts


def test_outputs_of_every_region_merge_into_one_artifact(tmp_path):
    other = {key: dict(value) for key, value in BUILT.items()}
    other["alb_outputs"]["dns_name"] = "megapool-local-2.ap-southeast-1.elb.amazonaws.com"
    stats = _run(tmp_path, {"eu-north-1": BUILT, "ap-southeast-1": other})
    assert stats["megapool_environment"] == {
        "env": "local",
        "cluster": "megapool",
        "regions": ["ap-southeast-1", "eu-north-1"],
    }
    outputs = stats["megapool_outputs"]
    assert sorted(outputs) == ["ap-southeast-1", "eu-north-1"]
    assert outputs["eu-north-1"] == {
        "vpc_id": "vpc-1",
        "vpc_cidr": "10.40.0.0/16",
        "ecs_cluster": "megapool-local",
        "capacity_provider": "megapool-local-cp",
        "auto_scaling_group": "megapool-local-asg",
        "alb_name": "megapool-local",
        "alb_dns_name": "megapool-local-1.eu-north-1.elb.amazonaws.com",
        "alb_arn": "arn:alb",
        "target_group_arn": "arn:tg",
        "app_domain": "app.megapool.test",
        "certificate_arn": "arn:cert",
        "service": "web",
        "task_definition": "megapool-local-web:3",
        "image": "example/web:1",
        "version": "1",
    }
    assert outputs["ap-southeast-1"]["alb_dns_name"] == "megapool-local-2.ap-southeast-1.elb.amazonaws.com"


def test_nothing_built_yet_publishes_the_regions_with_empty_values(tmp_path):
    stats = _run(tmp_path, {"eu-north-1": {}, "ap-southeast-1": {}})
    assert sorted(stats["megapool_outputs"]) == ["ap-southeast-1", "eu-north-1"]
    assert set(stats["megapool_outputs"]["eu-north-1"].values()) == {None}


# ---------------------------------------------------------------------------------------------- deploy.yml, rollback.yml
# Their Summary play ends with roles/release/tasks/report.yml, whose last task publishes what each region runs. The
# task is taken out of report.yml as it is and run with the results the two reads before it register (ECS
# DescribeServices as community.aws.ecs_service_info returns it, DescribeTaskDefinition snake_cased).

REPORT = yaml.safe_load((ROOT / "roles" / "release" / "tasks" / "report.yml").read_text(encoding="utf-8"))
# The canary region is the role's (_release_waves, module_utils/release_waves.py): the task runs with the role's variables.
RELEASE_DEFAULTS = yaml.safe_load((ROOT / "roles" / "release" / "defaults" / "main.yml").read_text(encoding="utf-8"))
TD_ARN = "arn:aws:ecs:%s:123456789012:task-definition/megapool-local-web:%d"


def _report_stats_task() -> dict:
    tasks = [task for task in REPORT if "ansible.builtin.set_stats" in task]
    assert len(tasks) == 1, "roles/release/tasks/report.yml has no (or more than one) ansible.builtin.set_stats task"
    return tasks[0]


def _registered(region: str, revision: int, rollout_state: str) -> tuple[dict, dict]:
    service = {
        "item": region,
        "services": [
            {
                "serviceName": "web",
                "status": "ACTIVE",
                "runningCount": 2,
                "desiredCount": 2,
                "taskDefinition": TD_ARN % (region, revision),
                "deployments": [
                    {"status": "PRIMARY", "taskDefinition": TD_ARN % (region, revision), "rolloutState": rollout_state}
                ],
            }
        ],
    }
    td = {
        "item": service,
        "family": "megapool-local-web",
        "revision": revision,
        "container_definitions": [
            {
                "name": "web",
                "image": "megapool.local/web:1.0.%d" % revision,
                "environment": [{"name": "RELEASE_VERSION", "value": "1.0.%d" % revision}],
            }
        ],
    }
    return service, td


def _run_report(tmp_path: Path, registered: dict, extra: dict) -> dict:
    # The role's defaults under the inventory's variables (their precedence inside the role), its variables in the play.
    inventory = {
        "regions": {
            "hosts": {"eu-north-1": {}, "ap-southeast-1": {}},
            "vars": {**RELEASE_DEFAULTS, "megapool_env": "local", "megapool_cluster": "megapool", **extra},
        }
    }
    play = {
        "name": "Summary",
        "hosts": "regions",
        "gather_facts": False,
        "connection": "local",
        "vars": registered,
        "vars_files": [str(ROOT / "roles" / "release" / "vars" / "main.yml")],
        "tasks": [_report_stats_task()],
    }
    return run_plays_json(tmp_path, [play], inventory)[
        "global_custom_stats"
    ]  # eu-north-1 first (the inventory's order)


def test_deploy_publishes_what_each_region_runs_and_the_canary(tmp_path):
    eu_service, eu_td = _registered("eu-north-1", 3, "COMPLETED")
    ap_service, ap_td = _registered("ap-southeast-1", 2, "IN_PROGRESS")
    registered = {
        "_release_report_services": {"results": [eu_service, ap_service]},
        "_release_report_tds": {"results": [eu_td, ap_td]},
    }
    stats = _run_report(tmp_path, registered, {"release_canary_region": "ap-southeast-1"})
    assert stats["megapool_environment"] == {
        "env": "local",
        "cluster": "megapool",
        "regions": ["ap-southeast-1", "eu-north-1"],
    }
    release = stats["megapool_release"]
    assert release["canary_region"] == "ap-southeast-1"
    assert release["regions"]["eu-north-1"] == {
        "service": "web",
        "status": "ACTIVE",
        "task_definition": "megapool-local-web:3",
        "task_definition_arn": TD_ARN % ("eu-north-1", 3),
        "image": "megapool.local/web:1.0.3",
        "version": "1.0.3",
        "rollout_state": "COMPLETED",
        "running_count": 2,
        "desired_count": 2,
    }
    assert (release["regions"]["ap-southeast-1"]["version"], release["regions"]["ap-southeast-1"]["rollout_state"]) == (
        "1.0.2",
        "IN_PROGRESS",
    )
    assert "megapool_outputs" not in stats  # site.yml's artifact is left alone in a workflow site -> deploy


def test_deploy_without_a_service_publishes_the_regions_with_null_values_and_the_default_canary(tmp_path):
    stats = _run_report(
        tmp_path,
        {
            "_release_report_services": {"results": [{"item": "eu-north-1", "failed": True}]},
            "_release_report_tds": {"results": []},
        },
        {},
    )
    release = stats["megapool_release"]
    assert release["canary_region"] == "eu-north-1"  # deploy.yml's default: the first region of the play
    assert sorted(release["regions"]) == ["ap-southeast-1", "eu-north-1"]
    assert set(release["regions"]["eu-north-1"].values()) == {None}
