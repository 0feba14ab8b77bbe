# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every problem with the release role's inputs (pure, no I/O): the planner behind the
``megapool.aws.release_input_errors`` filter. Sizing (capacity, spot, timeouts) stays in ``release_plan.release_checks``
and the secrets shared between regions in ``release_plan.shared_secrets``; validate.yml joins the three lists."""

from __future__ import annotations

import re
from typing import Any
from typing import Mapping

from ansible_collections.megapool.aws.plugins.module_utils.input_checks import ECR_NAME_MAX
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import ECS_NAME_MAX
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import IAM_ROLE_NAME_MAX
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import LOG_GROUP_NAME_MAX
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import as_int
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import derived_name_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import dict_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import list_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import name_errors

# An image reference with a tag (after the last '/') or a digest.
IMAGE_REF_RE = re.compile(r"^[^\s@]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$")
PRIVATE_ECR_RE = re.compile(r"^(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/")
# ECS service names, task definition families and container names: "Up to 255 letters (uppercase and lowercase),
# numbers, underscores, and hyphens" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html,
# API_RegisterTaskDefinition.html).
ECS_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
# ECR repository names (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html).
ECR_NAME_RE = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
SECRET_NAME_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
STARTED_BY_RE = re.compile(r"^[A-Za-z0-9_/-]{1,128}$")
# CloudWatch Logs PutRetentionPolicy retentionInDays values.
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
LISTS = {
    "release_migration_command": '[bin/megapool, eval, "Megapool.Release.migrate()"]',
    "release_start_command": "[bin/megapool, start]",
    "release_required_secrets": "[DATABASE_URL]",
    "release_generated_secrets": "[RELEASE_COOKIE, SECRET_KEY_BASE]",
    "release_task_role_policy_arns": "[arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]",
    "release_health_check_command": "[CMD-SHELL, curl -f http://127.0.0.1:4000/health]",
}


def derived_names(cluster: Any, env: Any, service: Any, repository: Any) -> dict[str, tuple[str, int]]:
    """The names the role makes (vars/main.yml) with their AWS limits."""
    name = "%s-%s" % (cluster, env)
    return {
        "ECS service name": (str(service or name + "-web"), ECS_NAME_MAX),
        "task definition family": (name + "-migrate", ECS_NAME_MAX),
        "ECR repository name": (str(repository or name), ECR_NAME_MAX),
        "log group name": ("/ecs/" + name, LOG_GROUP_NAME_MAX),
        "IAM role name (execution role, global)": (name + "-ecs-execution", IAM_ROLE_NAME_MAX),
    }


def _name_rules(inputs: Mapping[str, Any]) -> list[str]:
    errors = []
    service = inputs.get("release_service_name")
    if service and not ECS_NAME_RE.match(str(service)):
        errors.append(
            "release_service_name=%r is not an ECS service name: use up to 255 letters, digits, hyphens and "
            "underscores (no spaces or dots), or leave it empty for <cluster>-<env>-web" % service
        )
    container = inputs.get("release_container_name")
    if not container or not ECS_NAME_RE.match(str(container)):
        errors.append(
            "release_container_name=%r is not an ECS container name: use up to 255 letters, digits, hyphens and "
            "underscores, e.g. app" % container
        )
    repository = inputs.get("release_repository_name")
    if repository and not (ECR_NAME_RE.match(str(repository)) and 2 <= len(str(repository)) <= ECR_NAME_MAX):
        errors.append(
            "release_repository_name=%r is not an ECR repository name: lower-case letters and digits, separated by "
            "single '.', '_', '-' or '/' (2-256 characters), e.g. shop-prod, or leave it empty" % repository
        )
    return errors


def _secrets_errors(inputs: Mapping[str, Any]) -> list[str]:
    secrets = inputs.get("release_secrets", {})
    shape = dict_errors("release_secrets", secrets, "{SMTP_PASSWORD: '{{ vault_smtp_password }}'}")
    if shape:
        return shape
    errors = []
    structured = sorted(str(name) for name, value in secrets.items() if isinstance(value, (dict, list, tuple)))
    if structured:
        errors.append(
            "release_secrets: %s %s a mapping or list, not a value: give each secret its value as a string, e.g. "
            "release_secrets: {%s: '{{ vault_%s }}'} (an SSM parameter holds one string)"
            % (", ".join(structured), "is" if len(structured) == 1 else "are", structured[0], structured[0].lower())
        )
    bad_names = [str(name) for name in secrets if not SECRET_NAME_RE.match(str(name))]
    if bad_names:
        errors.append(
            "release_secrets has names that are not environment variable names (%s): use UPPER_CASE names"
            % ", ".join(bad_names)
        )
    if any(value is None or str(value) == "" for value in secrets.values()):
        errors.append(
            "release_secrets has an empty value: give every secret a value, or leave it out to keep the one in SSM"
        )
    return errors


def _missing_secret_errors(inputs: Mapping[str, Any], facts: Mapping[str, Any]) -> list[str]:
    secrets = inputs.get("release_secrets", {})
    required = inputs.get("release_required_secrets", [])
    have = (
        set(str(name) for name in secrets)
        | set(facts.get("secrets_in_ssm") or [])
        | set(facts.get("database_secrets") or [])
    )
    missing = [str(name) for name in required if str(name) not in have]
    if not missing:
        return []
    prefix = str(facts.get("ssm_prefix", ""))
    return [
        "release_secrets has no value for %s and SSM has no parameter %s in %s: add the value(s) to release_secrets (in "
        "a vault-encrypted vars file) for the first deploy"
        % (", ".join(missing), ", ".join(prefix + name for name in missing), facts.get("region"))
    ]


def _image_errors(inputs: Mapping[str, Any], facts: Mapping[str, Any]) -> list[str]:
    image, region, account = str(facts.get("image") or ""), facts.get("region"), str(facts.get("account"))
    if not image:
        return [
            "release_image is empty and no service runs in %s yet: give the image of the first deploy, e.g. "
            "-e release_image=<repository>:<tag> (or set release_initial_image in the inventory)" % region
        ]
    if not IMAGE_REF_RE.match(image):
        return [
            "release_image=%s has no tag or digest: give <repository>:<tag> or <repository>@sha256:<digest>, so that "
            "every region and every rollback runs the same image" % image
        ]
    ecr = PRIVATE_ECR_RE.match(image)
    if ecr and ecr.group("account") != account and not inputs.get("release_image_pull_allowed"):
        return [
            "release_image=%s is in the private ECR registry of account %s, which the task execution role of account %s "
            'cannot pull from: push the image to this account\'s repository %s (docs/deploy.md, "Images"), or give '
            "that repository a policy that lets account %s pull and set release_image_pull_allowed: true"
            % (image, ecr.group("account"), account, facts.get("repository"), account)
        ]
    return []


def release_input_errors(inputs: Mapping[str, Any]) -> list[str]:
    """The inputs alone (before any AWS read: the reads use these names and shapes). ``inputs``: the role's variables
    by name (megapool_cluster, megapool_env, release_*)."""
    cluster, env = inputs.get("megapool_cluster"), inputs.get("megapool_env")
    errors = name_errors(cluster, env)
    if not errors:
        errors += derived_name_errors(
            derived_names(cluster, env, inputs.get("release_service_name"), inputs.get("release_repository_name")),
            cluster,
            env,
        )
    errors += _name_rules(inputs)
    for variable, example in LISTS.items():
        if variable in inputs:
            errors += list_errors(variable, inputs[variable], example)
    errors += dict_errors("release_environment", inputs.get("release_environment", {}), "{LOG_LEVEL: info}")
    errors += _secrets_errors(inputs)
    command = inputs.get("release_migration_command")
    if (
        inputs.get("release_migrate")
        and isinstance(command, (list, tuple))
        and not [part for part in command if str(part).strip()]
    ):
        errors.append(
            "release_migration_command is empty: give the command that migrates the database, e.g. "
            '[bin/megapool, eval, "Megapool.Release.migrate()"], or set release_migrate: false'
        )
    desired = as_int(inputs.get("release_desired_count"))
    if desired is None or desired < 0:
        errors.append("release_desired_count must be 0 or more")
    stop = as_int(inputs.get("release_stop_timeout"))
    if stop is None or not 2 <= stop <= 120:
        errors.append("release_stop_timeout=%s must be 2-120 seconds" % inputs.get("release_stop_timeout"))
    if as_int(inputs.get("release_log_retention_days")) not in LOG_RETENTION_DAYS:
        errors.append(
            "release_log_retention_days=%s is not a CloudWatch Logs retention: use 1, 3, 5, 7, 14, 30, 60, 90, 120, "
            "150, 180, 365, ..." % inputs.get("release_log_retention_days")
        )
    low, high = as_int(inputs.get("release_erlang_dist_port_min")), as_int(inputs.get("release_erlang_dist_port_max"))
    if low is None or high is None or low > high:
        errors.append("release_erlang_dist_port_min/max: the minimum is above the maximum")
    return errors


def release_deploy_errors(inputs: Mapping[str, Any], facts: Mapping[str, Any]) -> list[str]:
    """What validate.yml read from AWS against the inputs. ``facts``: ``image`` (the one to deploy), ``account``,
    ``region``, ``repository``, ``secrets_in_ssm`` (names with a parameter), ``database_secrets`` (names the database's
    parameters provide), ``ssm_prefix``, ``started_by``."""
    errors = _image_errors(inputs, facts)
    errors += _missing_secret_errors(inputs, facts)
    started_by = str(facts.get("started_by", ""))
    if not STARTED_BY_RE.match(started_by):
        errors.append("internal: startedBy " + started_by)
    return errors


# Service autoscaling (docs/deploy.md, "Service autoscaling"). Target tracking on the service's desired count with the
# predefined metrics of Application Auto Scaling
# (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PredefinedMetricSpecification.html).
AUTOSCALING_PERCENT_TARGETS = {
    "release_autoscaling_cpu_target": "ECSServiceAverageCPUUtilization",
    "release_autoscaling_memory_target": "ECSServiceAverageMemoryUtilization",
}
AUTOSCALING_REQUESTS_TARGET = "release_autoscaling_requests_per_target"


def _unset(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in ("", "None", "none", "null"))


def _autoscaling_target_errors(inputs: Mapping[str, Any]) -> list[str]:
    errors = []
    for variable in AUTOSCALING_PERCENT_TARGETS:
        value = inputs.get(variable)
        if not _unset(value) and (as_int(value) is None or not 1 <= as_int(value) <= 100):
            errors.append(
                "%s=%s must be a percentage of the tasks' reservation, 1-100 (e.g. 60), or null to leave it out"
                % (variable, value)
            )
    requests = inputs.get(AUTOSCALING_REQUESTS_TARGET)
    if not _unset(requests):
        if as_int(requests) is None or as_int(requests) < 1:
            errors.append(
                "%s=%s must be the ALB requests per task per minute to hold (1 or more, e.g. 1000), or null"
                % (AUTOSCALING_REQUESTS_TARGET, requests)
            )
        elif not inputs.get("release_target_group_arn"):
            errors.append(
                "%s=%s needs the service's ALB target group: set release_target_group_arn (or run the alb role in "
                "the play), or set %s: null" % (AUTOSCALING_REQUESTS_TARGET, requests, AUTOSCALING_REQUESTS_TARGET)
            )
    if not errors and all(
        _unset(inputs.get(variable)) for variable in (*AUTOSCALING_PERCENT_TARGETS, AUTOSCALING_REQUESTS_TARGET)
    ):
        errors.append(
            "release_autoscaling_enabled is true but no target is set: set release_autoscaling_cpu_target (e.g. 60), "
            "release_autoscaling_memory_target or release_autoscaling_requests_per_target, or set "
            "release_autoscaling_enabled: false"
        )
    return errors


def autoscaling_count_range(inputs: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """The service's minimum and maximum task count: the ones given, else the minimum is release_desired_count and the
    maximum the most tasks a rollout at that count can still place with one BEAM node per instance
    (floor(ecs_hosts_max_size * 100 / release_deployment_maximum_percent)). None where unknown or not a number."""
    low = inputs.get("release_autoscaling_min_count")
    low = as_int(inputs.get("release_desired_count")) if _unset(low) else as_int(low)
    high = inputs.get("release_autoscaling_max_count")
    if _unset(high):
        max_size, percent = (
            as_int(inputs.get("ecs_hosts_max_size")),
            as_int(inputs.get("release_deployment_maximum_percent", 200)),
        )
        high = max_size * 100 // percent if max_size is not None and percent else None
    else:
        high = as_int(high)
    return low, high


def _autoscaling_count_errors(inputs: Mapping[str, Any]) -> list[str]:
    for variable in ("release_autoscaling_min_count", "release_autoscaling_max_count"):
        value = inputs.get(variable)
        if not _unset(value) and (as_int(value) is None or as_int(value) < 0):
            return ["%s=%s must be a task count, 0 or more, or null for the default" % (variable, value)]
    low, high = autoscaling_count_range(inputs)
    if high is None:
        return [
            "release_autoscaling_max_count is not set and ecs_hosts_max_size is unknown: set release_autoscaling_max_count "
            "(at most the Auto Scaling group's maximum: one BEAM node per instance)"
        ]
    if low is None:
        return [
            "release_autoscaling_min_count: give the fewest tasks to run (1 or more), or a valid release_desired_count"
        ]
    errors = []
    desired = as_int(inputs.get("release_desired_count"))
    if low > high:
        errors.append(
            "release_autoscaling_min_count=%s is above release_autoscaling_max_count=%s: lower the minimum or raise "
            "the maximum" % (low, high)
        )
    elif desired is not None and not low <= desired <= high:
        errors.append(
            "release_desired_count=%s is outside release_autoscaling_min_count=%s .. release_autoscaling_max_count=%s: "
            "the first deploy starts that many tasks and Application Auto Scaling would move them at once; give a "
            "release_desired_count within the range" % (desired, low, high)
        )
    max_size = as_int(inputs.get("ecs_hosts_max_size"))
    percent = as_int(inputs.get("release_deployment_maximum_percent", 200)) or 200
    peak = high * percent // 100
    if max_size is not None and peak > max_size:
        errors.append(
            "release_autoscaling_max_count=%s with release_deployment_maximum_percent=%s: a rollout at the maximum runs "
            "up to %s tasks, one BEAM node per instance, but ecs_hosts_max_size=%s: lower release_autoscaling_max_count "
            "to %s or raise ecs_hosts_max_size to %s (the capacity provider adds the instances)"
            % (high, percent, peak, max_size, max_size * 100 // percent, peak)
        )
    return errors


def _autoscaling_cooldown_errors(inputs: Mapping[str, Any]) -> list[str]:
    errors = []
    for variable in ("release_autoscaling_scale_in_cooldown", "release_autoscaling_scale_out_cooldown"):
        value = as_int(inputs.get(variable))
        if value is None or value < 0:
            errors.append("%s=%s must be seconds, 0 or more" % (variable, inputs.get(variable)))
    if errors:
        return errors
    cooldown = as_int(inputs.get("release_autoscaling_scale_in_cooldown"))
    stop = as_int(inputs.get("release_stop_timeout")) or 0
    delay = as_int(inputs.get("alb_deregistration_delay")) if inputs.get("release_target_group_arn") else 0
    leave = stop + (delay or 0)
    if cooldown is not None and cooldown < leave:
        errors.append(
            "release_autoscaling_scale_in_cooldown=%s is shorter than a BEAM node takes to leave (ALB deregistration "
            "delay %s + release_stop_timeout %s = %s seconds): the next scale-in would stop another node while the "
            "last one still drains; set release_autoscaling_scale_in_cooldown to %s or more"
            % (cooldown, delay or 0, stop, leave, leave)
        )
    return errors


def release_autoscaling_errors(inputs: Mapping[str, Any]) -> list[str]:
    """The service autoscaling inputs (none when release_autoscaling_enabled is false). ``inputs``: release_autoscaling_*,
    release_desired_count, release_deployment_maximum_percent, release_stop_timeout, release_target_group_arn,
    ecs_hosts_max_size (the Auto Scaling group's maximum, an inventory variable) and alb_deregistration_delay."""
    enabled = inputs.get("release_autoscaling_enabled", False)
    if not isinstance(enabled, bool) and str(enabled).lower() not in ("true", "false", "yes", "no", "1", "0"):
        return ["release_autoscaling_enabled=%r must be true or false" % (enabled,)]
    if str(enabled).lower() not in ("true", "yes", "1"):
        return []
    return _autoscaling_target_errors(inputs) + _autoscaling_count_errors(inputs) + _autoscaling_cooldown_errors(inputs)
