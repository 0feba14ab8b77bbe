# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure planner of the release's deployment strategy (rolling or ECS-native blue/green): no I/O.

What AWS does (Amazon ECS developer guide and API reference):

- ``deploymentConfiguration.strategy`` is ``ROLLING`` (default) or ``BLUE_GREEN``; with ``BLUE_GREEN``
  ``bakeTimeInMinutes`` (0-1440) is how long blue and green both run after the production traffic moved
  (API_DeploymentConfiguration, https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html).
  The strategy is a parameter of UpdateService: an existing service may switch both ways.
- Each load balancer of a blue/green service carries ``advancedConfiguration``: ``alternateTargetGroupArn``,
  ``productionListenerRule`` (for an Application Load Balancer a listener RULE, not a listener's default action),
  optional ``testListenerRule``, and ``roleArn``, the infrastructure role ECS assumes to change the rules
  (API_AdvancedConfiguration, https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_AdvancedConfiguration.html;
  Application Load Balancer resources for blue/green deployments,
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb-resources-for-blue-green.html: both target groups
  with the same settings, both in the production rule's forward action).
- ECS shifts production traffic by rewriting the production rule's forward action into a weighted ``ForwardConfig``
  over both target groups (green 100 / blue 0 after a deployment) and swings the weights again on the next
  deployment: the target group that is live alternates between the two. Whatever builds the rule must therefore read
  who is live and never write the rule back to its first form (:func:`production_rule_actions`).
- Lifecycle stages of a service deployment (DescribeServiceDeployments ``lifecycleStage``): RECONCILE_SERVICE,
  PRE_SCALE_UP, SCALE_UP, POST_SCALE_UP, TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT,
  POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME, CLEAN_UP (API_ServiceDeployment,
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html).
"""

from __future__ import annotations

import re
from typing import Any
from typing import Mapping
from typing import Sequence

STRATEGIES = {"rolling": "ROLLING", "blue_green": "BLUE_GREEN"}
MAX_BAKE_TIME_MINUTES = 1440
LIFECYCLE_STAGES = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
)
# Service deployment statuses that end in (or are on the way to) the previous revision (API_ServiceDeployment).
ROLLBACK_STATUSES = (
    "ROLLBACK_REQUESTED",
    "ROLLBACK_IN_PROGRESS",
    "ROLLBACK_SUCCESSFUL",
    "ROLLBACK_FAILED",
    "STOPPED",
    "STOP_REQUESTED",
)
# The AWS managed policy ECS's infrastructure role needs for blue/green with Elastic Load Balancing
# (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AmazonECSInfrastructureRolePolicyForLoadBalancers.html).
INFRASTRUCTURE_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonECS-InfrastructureRolePolicyForLoadBalancers"
# Who may assume it: ECS (the trust policy of the infrastructure IAM role for load balancers).
INFRASTRUCTURE_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowAccessToECSForInfrastructureManagement",
            "Effect": "Allow",
            "Principal": {"Service": "ecs.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
_BLUE_GREEN_KEYS = ("alternate_target_group_arn", "production_listener_rule_arn", "infrastructure_role_arn")


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def strategy_errors(inputs: Mapping[str, Any]) -> list[str]:
    """Errors of the release's strategy inputs (before any AWS change), each naming the variable and the fix.

    ``inputs``: release_strategy, release_bake_time_minutes, and either ``alb_blue_green`` (the inputs alone, before
    anything is built: blue/green needs the alb role to build its pieces, or all three given) or
    ``release_target_group_arn`` with the blue/green resources (alternate_target_group_arn,
    production_listener_rule_arn, infrastructure_role_arn; from alb_outputs or given) just before the service changes.
    """
    errors: list[str] = []
    strategy = str(inputs.get("release_strategy") if inputs.get("release_strategy") is not None else "rolling").strip()
    if strategy not in STRATEGIES:
        errors.append(
            "release_strategy=%r is not a deployment strategy: use rolling (default) or blue_green." % strategy
        )
    bake = _int(inputs.get("release_bake_time_minutes", 0))
    if bake is None or not 0 <= bake <= MAX_BAKE_TIME_MINUTES:
        errors.append(
            "release_bake_time_minutes=%r must be a whole number of minutes from 0 to %d (ECS's bakeTimeInMinutes: how long "
            "blue and green both run after the production traffic moved)."
            % (inputs.get("release_bake_time_minutes"), MAX_BAKE_TIME_MINUTES)
        )
    if strategy != "blue_green":
        return errors
    if "alb_blue_green" in inputs:
        # Before anything is built (site.yml's validation play): the inputs only.
        given = [key for key in _BLUE_GREEN_KEYS if inputs.get(key)]
        if not _truthy(inputs.get("alb_blue_green")) and len(given) < len(_BLUE_GREEN_KEYS):
            errors.append(
                "release_strategy=blue_green but alb_blue_green is false: the alb role would build no alternate target group, "
                "production listener rule or ECS infrastructure role. Leave alb_blue_green unset (it follows "
                "release_strategy) or set it true, or give release_alternate_target_group_arn, "
                "release_production_listener_rule_arn and release_infrastructure_role_arn."
            )
        return errors
    if not inputs.get("release_target_group_arn"):
        errors.append(
            "release_strategy=blue_green needs the load balancer: release_target_group_arn is empty. Run role "
            "megapool.aws.alb before the release (playbooks/site.yml does), or use release_strategy: rolling."
        )
        return errors
    missing = [key for key in _BLUE_GREEN_KEYS if not inputs.get(key)]
    if missing:
        errors.append(
            "release_strategy=blue_green needs the alternate target group, the production listener rule and the ECS "
            "infrastructure role (missing: %s): set alb_blue_green: true so that role megapool.aws.alb builds them "
            '(docs/deploy.md, "Blue/green"), or use release_strategy: rolling.' % ", ".join(missing)
        )
    return errors


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("true", "yes", "on", "1")


# ---------------------------------------------------------------------------------------------- the rule


def forward_groups(actions: Sequence[Mapping[str, Any]] | None) -> list[tuple[str, int]]:
    """``[(target group ARN, weight)]`` of a rule's forward action (a single TargetGroupArn weighs 1)."""
    for action in actions or []:
        if action.get("Type") != "forward":
            continue
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
        if groups:
            return [
                (str(group["TargetGroupArn"]), int(group.get("Weight", 1) if group.get("Weight") is not None else 1))
                for group in groups
            ]
        if action.get("TargetGroupArn"):
            return [(str(action["TargetGroupArn"]), 1)]
    return []


def live_target_group(actions: Sequence[Mapping[str, Any]] | None, primary: str, alternate: str) -> str | None:
    """The target group of the pair that takes the production traffic of a rule (the heavier one; None: neither)."""
    weights = {arn: weight for arn, weight in forward_groups(actions) if arn in (primary, alternate)}
    if not weights or max(weights.values()) <= 0:
        return None
    return max(weights, key=lambda arn: (weights[arn], arn == primary))


def production_rule_actions(
    current: Sequence[Mapping[str, Any]] | None, primary: str, alternate: str
) -> list[dict[str, Any]]:
    """The forward action the production rule should have.

    A rule that already forwards over exactly the pair, one of them weighted, is kept as it is (ECS owns the weights:
    writing them back would send production traffic to the idle target group). Anything else becomes the first form:
    all traffic to ``primary``, ``alternate`` at weight 0.
    """
    groups = forward_groups(current)
    if (
        {arn for arn, _weight in groups} == {primary, alternate}
        and len(groups) == 2
        and live_target_group(current, primary, alternate)
    ):
        return [dict(action) for action in current or []]
    return [
        {
            "Type": "forward",
            "Order": 1,
            "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": primary, "Weight": 1}, {"TargetGroupArn": alternate, "Weight": 0}],
                "TargetGroupStickinessConfig": {"Enabled": False},
            },
        }
    ]


# ---------------------------------------------------------------------------------------------- the service


def load_balancers(
    strategy: str,
    target_group_arn: str,
    container_name: str,
    container_port: int,
    blue_green: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The service's ``loadBalancers`` for a strategy (``rolling``/``blue_green``); blue/green adds advancedConfiguration."""
    entry: dict[str, Any] = {
        "targetGroupArn": target_group_arn,
        "containerName": container_name,
        "containerPort": int(container_port),
    }
    if strategy == "blue_green":
        resources = dict(blue_green or {})
        advanced = {
            "alternateTargetGroupArn": resources["alternate_target_group_arn"],
            "productionListenerRule": resources["production_listener_rule_arn"],
            "roleArn": resources["infrastructure_role_arn"],
        }
        if resources.get("test_listener_rule_arn"):
            advanced["testListenerRule"] = resources["test_listener_rule_arn"]
        entry["advancedConfiguration"] = advanced
    return [entry]


def _pair(entry: Mapping[str, Any]) -> tuple[Any, ...]:
    advanced = dict(entry.get("advancedConfiguration") or {})
    groups = tuple(
        sorted(str(arn) for arn in (entry.get("targetGroupArn"), advanced.pop("alternateTargetGroupArn", None)) if arn)
    )
    return (groups, entry.get("containerName"), int(entry.get("containerPort") or 0), tuple(sorted(advanced.items())))


def same_load_balancers(
    current: Sequence[Mapping[str, Any]] | None, wanted: Sequence[Mapping[str, Any]] | None
) -> bool:
    """Whether a service's loadBalancers already are the wanted ones. The target group and the alternate one count as a
    pair in either order: ECS alternates which of them is live, and an UpdateService that swaps them back is what
    breaks the alternation."""
    return sorted(map(repr, map(_pair, current or []))) == sorted(map(repr, map(_pair, wanted or [])))


def rolling_load_balancers(
    current: Sequence[Mapping[str, Any]] | None, live: Mapping[str, str | None]
) -> list[dict[str, Any]]:
    """The loadBalancers of a blue/green service going back to rolling: each on the target group that is live now
    (``live``: production rule ARN -> live target group ARN), without advancedConfiguration."""
    result = []
    for entry in current or []:
        advanced = entry.get("advancedConfiguration") or {}
        target = live.get(advanced.get("productionListenerRule") or "") or entry.get("targetGroupArn")
        plain = {key: value for key, value in entry.items() if key != "advancedConfiguration"}
        plain["targetGroupArn"] = target
        result.append(plain)
    return result


def stage_of(service_deployment: Mapping[str, Any] | None) -> str:
    """``<lifecycleStage> (<status>)`` of a service deployment, or "" when there is none."""
    if not service_deployment:
        return ""
    stage = service_deployment.get("lifecycleStage") or "-"
    return "%s (%s)" % (stage, service_deployment.get("status") or "UNKNOWN")


def rolled_back(service_deployment: Mapping[str, Any] | None) -> bool:
    """Whether a service deployment is being (or was) rolled back or stopped."""
    return bool(service_deployment) and (service_deployment or {}).get("status") in ROLLBACK_STATUSES


# ---------------------------------------------------------------------------------------------- switching it off


def blue_green_removal(
    rules: Sequence[Mapping[str, Any]] | None,
    primary: str,
    alternate: str,
    priority: int,
    region: str = "",
) -> dict[str, Any]:
    """What removing the blue/green pieces of a listener does (alb_blue_green false on a load balancer that has them).

    ``rules``: the listener's rules as DescribeRules answers them (CamelCase). The production rule is the rule at
    ``priority`` that forwards to ``alternate`` (a rule of yours at that priority is never ours). Answers
    ``rule_arn`` (None: no production rule), ``rules``: the listener's other rules in the form
    amazon.aws.elb_application_lb takes (kept as they are while the production rule is purged), and ``error``: why
    removing is refused. Deleting the rule sends every request it took to the listener's default action, the primary
    target group: when ECS's last blue/green deployment left the production traffic on the alternate group, the
    primary one has no task, so removal is refused (before any change) instead of leaving production without targets.
    """
    ours = None
    others: list[dict[str, Any]] = []
    for rule in rules or []:
        if rule.get("IsDefault") in (True, "true", "True"):
            continue
        groups = {arn for arn, _weight in forward_groups(rule.get("Actions"))}
        if ours is None and str(rule.get("Priority")) == str(priority) and alternate and alternate in groups:
            ours = rule
            continue
        others.append(
            {
                "Priority": int(rule["Priority"]),
                "Conditions": [dict(c) for c in rule.get("Conditions") or []],
                "Actions": [dict(a) for a in rule.get("Actions") or []],
            }
        )
    result: dict[str, Any] = {"rule_arn": None, "rules": others, "error": None}
    if ours is None:
        return result
    result["rule_arn"] = ours.get("RuleArn")
    if live_target_group(ours.get("Actions"), primary, alternate) == alternate:
        result["error"] = (
            "alb_blue_green is false%s but the production listener rule %s sends the production traffic to the alternate "
            "target group %s (ECS's last blue/green deployment moved it there): removing the rule and that group would "
            "send every request to the primary target group, which runs no task. Keep alb_blue_green: true (the release "
            "may use release_strategy: rolling meanwhile), or deploy once more with release_strategy: blue_green (ECS "
            "moves the traffic back to the primary target group) and then set alb_blue_green: false; nothing was changed."
            % (" in %s" % region if region else "", ours.get("RuleArn"), alternate.rsplit(":", 1)[-1])
        )
    return result


# ---------------------------------------------------------------------------------------------- the test listener


def test_listener_errors(port: Any, cidrs: Any, blue_green: Any) -> list[str]:
    """Errors of the optional blue/green test listener (alb_blue_green_test_listener_port, alb_blue_green_test_cidrs).

    The test listener carries the test listener rule ECS sends to green in TEST_TRAFFIC_SHIFT, before any production
    traffic moves (API_AdvancedConfiguration ``testListenerRule``): a port of its own on the load balancer, HTTPS with the
    production certificate, reachable only from the given networks (nobody outside should reach a release that is not
    live yet).
    """
    import ipaddress  # pylint: disable=import-outside-toplevel

    if port is None or str(port).strip() in ("", "None", "none", "null"):
        return []
    errors = []
    number = _int(port)
    if number is None or not 1 <= number <= 65535 or number in (80, 443):
        errors.append(
            "alb_blue_green_test_listener_port=%r must be a port from 1 to 65535 other than 80 and 443 (the production "
            "listeners), e.g. 8443; leave it unset for no test listener." % (port,)
        )
    if not _truthy(blue_green):
        errors.append(
            "alb_blue_green_test_listener_port=%r needs alb_blue_green: true (the test listener rule is part of ECS "
            "blue/green); unset it, or use release_strategy: blue_green." % (port,)
        )
    if not isinstance(cidrs, (list, tuple)) or not cidrs:
        errors.append(
            "alb_blue_green_test_cidrs is empty: nobody could reach the test listener on port %s. Give the networks "
            "that test a green release (e.g. your office or VPN, network_admin_cidrs is the default)." % port
        )
    else:
        for cidr in cidrs:
            try:
                ipaddress.ip_network(str(cidr), strict=False)
            except ValueError:
                errors.append(
                    "alb_blue_green_test_cidrs has %r, which is not a CIDR block (e.g. 203.0.113.0/24)." % (cidr,)
                )
    return errors


# ---------------------------------------------------------------------------------------------- lifecycle hooks

# A Lambda function ARN, optionally with a version or alias (API_DeploymentLifecycleHook hookTargetArn: "the Amazon
# Resource Name (ARN) of the hook target. Currently, only Lambda function ARNs are supported").
_LAMBDA_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?$"
)
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


def lifecycle_hook_errors(hooks: Any, stages: Sequence[str]) -> list[str]:
    """Errors of ecs_service_rollout's ``lifecycle_hooks`` (before any AWS call), each naming the entry and the fix.

    ``stages``: the stages a hook may run at (botocore's ECS model, enum DeploymentLifecycleHookStage).
    """
    if hooks is None:
        return []
    if not isinstance(hooks, (list, tuple)):
        return [
            "lifecycle_hooks must be a list of hooks (hook_target_arn, role_arn, lifecycle_stages), got %r." % (hooks,)
        ]
    errors = []
    for index, hook in enumerate(hooks):
        where = "lifecycle_hooks[%d]" % index
        if not isinstance(hook, Mapping):
            errors.append(
                "%s must be a dict with hook_target_arn, role_arn and lifecycle_stages, got %r." % (where, hook)
            )
            continue
        target = str(hook.get("hook_target_arn") or "")
        if not _LAMBDA_ARN.match(target):
            errors.append(
                "%s.hook_target_arn=%r is not a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>[:alias]): "
                "ECS runs only Lambda functions as lifecycle hooks." % (where, target)
            )
        role = str(hook.get("role_arn") or "")
        if not _ROLE_ARN.match(role):
            errors.append(
                "%s.role_arn=%r is not an IAM role ARN (arn:aws:iam::<account>:role/<name>): the role ECS assumes to "
                "invoke the function (lambda:InvokeFunction)." % (where, role)
            )
        given = hook.get("lifecycle_stages")
        if not isinstance(given, (list, tuple)) or not given:
            errors.append("%s.lifecycle_stages must list one or more of: %s." % (where, ", ".join(stages)))
            continue
        unknown = [stage for stage in given if stage not in stages]
        if unknown:
            errors.append(
                "%s.lifecycle_stages has %s, which ECS does not run hooks at: use %s."
                % (where, ", ".join(map(repr, unknown)), ", ".join(stages))
            )
    return errors


def lifecycle_hooks_wanted(hooks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``deploymentConfiguration.lifecycleHooks`` in the ECS API's form."""
    return [
        {
            "hookTargetArn": hook["hook_target_arn"],
            "roleArn": hook["role_arn"],
            "lifecycleStages": list(hook["lifecycle_stages"]),
        }
        for hook in hooks
    ]


def same_lifecycle_hooks(
    current: Sequence[Mapping[str, Any]] | None, wanted: Sequence[Mapping[str, Any]] | None
) -> bool:
    """Whether the service's hooks are the wanted ones (in order; the stages of a hook as a set)."""

    def key(hook: Mapping[str, Any]) -> tuple[Any, ...]:
        return (hook.get("hookTargetArn"), hook.get("roleArn"), tuple(sorted(hook.get("lifecycleStages") or [])))

    return [key(hook) for hook in current or []] == [key(hook) for hook in wanted or []]
