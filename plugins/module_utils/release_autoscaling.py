# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service autoscaling of the release (pure, no I/O): the role's variables turned into the scalable target and the
target-tracking policies (``autoscaling_plan``, behind the ``megapool.aws.release_autoscaling_plan`` filter), and what
``megapool.aws.ecs_service_autoscaling`` must change to get there (``autoscaling_changes``).

AWS references (docs/deploy.md, "Service autoscaling"):
- the scalable target of an ECS service is ``service/<cluster>/<service>`` with dimension ``ecs:service:DesiredCount``
  (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html);
- ALBRequestCountPerTarget needs a ResourceLabel ``app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>``, the final
  portions of the load balancer's and the target group's ARNs
  (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PredefinedMetricSpecification.html);
- deregistering a scalable target deletes its policies
  (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DeregisterScalableTarget.html);
- while an ECS deployment runs, Application Auto Scaling does not scale in; scale-out goes on
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/troubleshoot-service-auto-scaling.html).
"""

from __future__ import annotations

import re
from typing import Any
from typing import Mapping
from typing import Sequence

from ansible_collections.megapool.aws.plugins.module_utils.input_checks import as_int
from ansible_collections.megapool.aws.plugins.module_utils.release_checks import AUTOSCALING_PERCENT_TARGETS
from ansible_collections.megapool.aws.plugins.module_utils.release_checks import AUTOSCALING_REQUESTS_TARGET
from ansible_collections.megapool.aws.plugins.module_utils.release_checks import autoscaling_count_range
from ansible_collections.megapool.aws.plugins.module_utils.release_checks import release_autoscaling_errors

NAMESPACE = "ecs"
DIMENSION = "ecs:service:DesiredCount"
POLICY_SUFFIXES = {
    "ECSServiceAverageCPUUtilization": "cpu",
    "ECSServiceAverageMemoryUtilization": "memory",
    "ALBRequestCountPerTarget": "requests",
}
LB_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:elasticloadbalancing:[^:]+:[0-9]{12}:loadbalancer/(?P<tail>app/[^/]+/[0-9a-f]+)$"
)
TG_ARN_RE = re.compile(r"^arn:aws[a-z-]*:elasticloadbalancing:[^:]+:[0-9]{12}:(?P<tail>targetgroup/[^/]+/[0-9a-f]+)$")
# What a target-tracking configuration holds that the module compares (DescribeScalingPolicies answers these keys).
COMPARED_KEYS = (
    "TargetValue",
    "PredefinedMetricSpecification",
    "ScaleInCooldown",
    "ScaleOutCooldown",
    "DisableScaleIn",
)


class AutoscalingError(ValueError):
    """Inputs the planner cannot plan from (validation should have refused them first)."""


def resource_id(cluster: str, service: str) -> str:
    """The Application Auto Scaling resource ID of an ECS service."""
    return "service/%s/%s" % (cluster, service)


def resource_label(load_balancer_arn: str, target_group_arn: str) -> str:
    """ALBRequestCountPerTarget's ResourceLabel: the final portion of the ALB's ARN, '/', the final portion of the target
    group's ARN (``app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>``)."""
    lb_match, tg_match = LB_ARN_RE.match(str(load_balancer_arn or "")), TG_ARN_RE.match(str(target_group_arn or ""))
    if not lb_match:
        raise AutoscalingError(
            "%r is not an Application Load Balancer ARN (arn:aws:elasticloadbalancing:<region>:<account>:"
            "loadbalancer/app/<name>/<id>): the target group must be attached to the ALB" % (load_balancer_arn,)
        )
    if not tg_match:
        raise AutoscalingError("%r is not a target group ARN (...:targetgroup/<name>/<id>)" % (target_group_arn,))
    return "%s/%s" % (lb_match.group("tail"), tg_match.group("tail"))


def _policy(
    service: str, metric: str, target: int, inputs: Mapping[str, Any], label: str | None = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {"PredefinedMetricType": metric}
    if label:
        spec["ResourceLabel"] = label
    return {
        "name": "%s-%s" % (service, POLICY_SUFFIXES[metric]),
        "configuration": {
            "TargetValue": float(target),
            "PredefinedMetricSpecification": spec,
            "ScaleInCooldown": as_int(inputs.get("release_autoscaling_scale_in_cooldown")),
            "ScaleOutCooldown": as_int(inputs.get("release_autoscaling_scale_out_cooldown")),
            "DisableScaleIn": False,
        },
    }


def autoscaling_plan(
    inputs: Mapping[str, Any], cluster: str, service: str, load_balancer_arn: str | None = None
) -> dict[str, Any]:
    """The scalable target and policies from the role's variables (the inputs of ``release_autoscaling_errors``).
    ``load_balancer_arn``: the ALB of release_target_group_arn (needed only with a requests target; None in check mode
    before the ALB exists gives a placeholder label). Returns ``errors`` (nothing else when there are any), ``enabled``,
    ``resource_id``, ``min_count``, ``max_count`` and ``policies`` (name, configuration)."""
    errors = release_autoscaling_errors(inputs)
    if errors:
        return {"errors": errors, "enabled": False, "resource_id": resource_id(cluster, service), "policies": []}
    enabled = str(inputs.get("release_autoscaling_enabled", False)).lower() in ("true", "yes", "1")
    if not enabled:
        return {
            "errors": [],
            "enabled": False,
            "resource_id": resource_id(cluster, service),
            "min_count": None,
            "max_count": None,
            "policies": [],
        }
    low, high = autoscaling_count_range(inputs)
    policies = []
    for variable, metric in AUTOSCALING_PERCENT_TARGETS.items():
        target = as_int(inputs.get(variable))
        if target is not None:
            policies.append(_policy(service, metric, target, inputs))
    requests = as_int(inputs.get(AUTOSCALING_REQUESTS_TARGET))
    if requests is not None:
        if load_balancer_arn:
            label = resource_label(load_balancer_arn, str(inputs.get("release_target_group_arn")))
        else:
            label = "app/<load balancer of %s>" % inputs.get("release_target_group_arn")
        policies.append(_policy(service, "ALBRequestCountPerTarget", requests, inputs, label))
    return {
        "errors": [],
        "enabled": True,
        "resource_id": resource_id(cluster, service),
        "min_count": low,
        "max_count": high,
        "policies": policies,
    }


def _normalised(configuration: Mapping[str, Any] | None) -> dict[str, Any]:
    """A target-tracking configuration as compared: the compared keys only, TargetValue as a float, DisableScaleIn false
    when left out (AWS's default), cooldowns left out when not set."""
    configuration = configuration or {}
    view = {key: configuration[key] for key in COMPARED_KEYS if configuration.get(key) is not None}
    if "TargetValue" in view:
        view["TargetValue"] = float(view["TargetValue"])
    view["DisableScaleIn"] = bool(view.get("DisableScaleIn", False))
    if "PredefinedMetricSpecification" in view:
        view["PredefinedMetricSpecification"] = {
            key: value for key, value in view["PredefinedMetricSpecification"].items() if value
        }
    return view


def autoscaling_changes(
    target: Mapping[str, Any] | None,
    policies: Sequence[Mapping[str, Any]],
    wanted: Mapping[str, Any],
    purge: bool = True,
) -> dict[str, Any]:
    """What to change. ``target``: DescribeScalableTargets' item (None: not registered); ``policies``:
    DescribeScalingPolicies' items for the target; ``wanted``: ``min_count``, ``max_count``, ``policies`` (name,
    configuration) or ``state: absent``. Returns ``register`` (bool), ``put`` (policy names), ``delete`` (policy names),
    ``deregister`` (bool), ``changed``, ``before`` and ``after`` (the comparable views)."""
    current = {
        str(policy["PolicyName"]): _normalised(policy.get("TargetTrackingScalingPolicyConfiguration"))
        for policy in policies
    }
    before = {
        "target": None
        if target is None
        else {"min_count": target.get("MinCapacity"), "max_count": target.get("MaxCapacity")},
        "policies": dict(sorted(current.items())),
    }
    if wanted.get("state", "present") == "absent":
        delete = sorted(current) if target is not None else []
        deregister = target is not None
        return {
            "register": False,
            "put": [],
            "delete": delete,
            "deregister": deregister,
            "changed": bool(delete or deregister),
            "before": before,
            "after": {"target": None, "policies": {}},
        }
    low, high = wanted.get("min_count"), wanted.get("max_count")
    if low is None or high is None or int(low) > int(high):
        raise AutoscalingError(
            "min_count and max_count are required, min_count <= max_count (got %r, %r)" % (low, high)
        )
    register = target is None or (target.get("MinCapacity"), target.get("MaxCapacity")) != (int(low), int(high))
    names = [str(policy["name"]) for policy in wanted.get("policies") or []]
    if len(set(names)) != len(names):
        raise AutoscalingError("policy names must be unique: %s" % ", ".join(names))
    wanted_views = {
        str(policy["name"]): _normalised(policy["configuration"]) for policy in wanted.get("policies") or []
    }
    put = [name for name in names if current.get(name) != wanted_views[name]]
    delete = sorted(name for name in current if name not in wanted_views) if purge else []
    after_policies = {name: view for name, view in current.items() if name not in delete}
    after_policies.update(wanted_views)
    return {
        "register": register,
        "put": put,
        "delete": delete,
        "deregister": False,
        "changed": bool(register or put or delete),
        "before": before,
        "after": {
            "target": {"min_count": int(low), "max_count": int(high)},
            "policies": dict(sorted(after_policies.items())),
        },
    }
