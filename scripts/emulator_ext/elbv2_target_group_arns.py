# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: a target group's ``LoadBalancerArns`` names each load balancer that routes to it, once, like AWS.

What moto 5.2 does
    ``CreateListener`` and ``CreateRule`` append the load balancer's ARN to ``LoadBalancerArns`` of every target group
    their forward action names, and nothing ever takes it out: a target group forwarded to by a listener's default
    action and by a rule lists the load balancer twice, and one whose rule or listener was deleted still lists it.
    ECS blue/green's production listener rule forwards to both target groups, so the primary group of every blue/green
    load balancer answered ``[lb, lb]`` (the alb molecule scenario's verify caught it).

What AWS does
    ``LoadBalancerArns``: "The Amazon Resource Name (ARN) of the load balancer that routes traffic to this target
    group. You can use each target group with only one load balancer." (Elastic Load Balancing API reference,
    TargetGroup, https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroup.html): the load
    balancers whose listeners or rules forward to the group now, each once; none once the last rule or listener that
    used it is gone (then the group may be deleted).

How the patch imitates it (emulator process only; ``apply()`` is idempotent, ``restore()`` undoes it)
    ``describe_target_groups`` of the elbv2 backend first sets every target group's ``load_balancer_arns`` to the load
    balancers whose listeners' default actions or rules forward to it now (plain or weighted ``ForwardConfig``), in
    the order of the load balancers, each once; then moto answers (also its filter by load balancer ARN).
"""

from __future__ import annotations

import functools
from typing import Any
from typing import Callable

from moto.elbv2.models import ELBv2Backend

from .patching import MethodPatches


def forwarded_groups(action: dict[str, Any]) -> list[str]:
    """The target group ARNs a forward action (as moto stores its data, CamelCase) sends to."""
    if str(action.get("Type", "")).lower() != "forward":
        return []
    groups = [action["TargetGroupArn"]] if action.get("TargetGroupArn") else []
    config = action.get("ForwardConfig") or {}
    members = config.get("TargetGroups") or []
    if isinstance(members, dict):  # moto keeps some query-string shapes as {"member": [...]}
        members = members.get("member") or []
    return groups + [member["TargetGroupArn"] for member in members if member.get("TargetGroupArn")]


def routing_load_balancers(load_balancers: dict[str, list[list[dict[str, Any]]]]) -> dict[str, list[str]]:
    """target group ARN -> the load balancers routing to it, each once (``load_balancers``: ARN -> the action lists of
    its listeners' default actions and rules)."""
    result: dict[str, list[str]] = {}
    for arn, action_lists in load_balancers.items():
        for actions in action_lists:
            for action in actions:
                for group in forwarded_groups(action):
                    if arn not in result.setdefault(group, []):
                        result[group].append(arn)
    return result


def _actions_of(backend: ELBv2Backend) -> dict[str, list[list[dict[str, Any]]]]:
    found: dict[str, list[list[dict[str, Any]]]] = {}
    for arn, balancer in backend.load_balancers.items():
        lists = found.setdefault(arn, [])
        for listener in balancer.listeners.values():
            lists.append([dict(action.data) for action in listener.default_actions])
            for rule in listener.rules.values():
                lists.append([dict(action.data) for action in rule.actions])
    return found


def _describe_target_groups(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: ELBv2Backend, *args: Any, **kwargs: Any) -> Any:
        routing = routing_load_balancers(_actions_of(self))
        for arn, group in self.target_groups.items():
            group.load_balancer_arns = list(routing.get(arn, []))
        return original(self, *args, **kwargs)

    return method


_INSTALLED = MethodPatches([(ELBv2Backend, "describe_target_groups", _describe_target_groups)])


def apply() -> None:
    """Install the patch (idempotent)."""
    _INSTALLED.apply()


def restore() -> None:
    """Put moto's original method back (for tests; the emulator never calls it)."""
    _INSTALLED.restore()
