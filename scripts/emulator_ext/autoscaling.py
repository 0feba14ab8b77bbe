# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: ``UpdateAutoScalingGroup`` keeps what the request does not change, like AWS.

What moto 5.2.5 does
    ``AutoScalingResponse.update_auto_scaling_group`` never reads ``CapacityRebalance`` (only
    ``CreateAutoScalingGroup`` does), so a group's capacity rebalance can be set at creation and never changed.
    ``FakeAutoScalingGroup.update`` assigns ``self.mixed_instances_policy = mixed_instances_policy`` whatever the
    request holds, so any update that does not repeat the group's ``MixedInstancesPolicy`` (for example one that only
    sets ``NewInstancesProtectedFromScaleIn`` or ``CapacityRebalance``) silently turns a mixed on-demand/spot group
    into a plain launch-template group.

What AWS does (Amazon EC2 Auto Scaling API Reference, UpdateAutoScalingGroup,
https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_UpdateAutoScalingGroup.html)
    "To update an Auto Scaling group, specify the name of the group and the property that you want to change. Any
    properties that you don't specify are not changed by this update request." ``CapacityRebalance`` is one of the
    request parameters ("Enables or disables Capacity Rebalancing"), and a group's ``MixedInstancesPolicy`` stays
    unless the request carries a new one (or replaces the launch configuration/template).

How the patch works (in the emulator process only; ``apply()`` is idempotent, ``restore()`` undoes it)
    - ``AutoScalingResponse.update_auto_scaling_group`` is wrapped: after moto's own handler succeeded, a
      ``CapacityRebalance`` present in the request is set on the group (absent: unchanged).
    - ``FakeAutoScalingGroup.update`` is wrapped: when the request carries none of ``MixedInstancesPolicy``,
      ``LaunchTemplate`` and ``LaunchConfigurationName``, the group's current policy is passed on as if the request
      had repeated it (its launch template by id and version only, as a request names it), so moto re-applies the
      policy instead of dropping it. A request that names a new policy, template or configuration is unchanged.
    Both wrappers call moto's original methods, so validation and everything else stay moto's.
"""

from __future__ import annotations

import copy
import functools
import inspect
from typing import Any
from typing import Callable

from moto.autoscaling.models import FakeAutoScalingGroup
from moto.autoscaling.responses import AutoScalingResponse

_PATCHED_FLAG = "_megapool_emulator_ext"
# (owner, attribute) -> moto's original function, while the patch is applied.
_ORIGINALS: dict[tuple[type, str], Callable[..., Any]] = {}


def _resent_policy(policy: dict[str, Any]) -> dict[str, Any]:
    """The group's stored policy in the shape of a request: the launch template by id (or name) and version."""
    again = copy.deepcopy(policy)
    template = again.get("LaunchTemplate") or {}
    spec = template.get("LaunchTemplateSpecification") or {}
    if spec.get("LaunchTemplateId") and spec.get("LaunchTemplateName"):
        template["LaunchTemplateSpecification"] = {key: value for key, value in spec.items() if key != "LaunchTemplateName"}
    return again


def _keep_mixed_policy(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)

    @functools.wraps(original)
    def update(self: FakeAutoScalingGroup, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        given = bound.arguments
        if (
            self.mixed_instances_policy
            and not given.get("mixed_instances_policy")
            and not given.get("launch_template")
            and not given.get("launch_config_name")
        ):
            given["mixed_instances_policy"] = _resent_policy(self.mixed_instances_policy)
        return original(*bound.args, **bound.kwargs)

    setattr(update, _PATCHED_FLAG, True)
    return update


def _honour_capacity_rebalance(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def update_auto_scaling_group(self: AutoScalingResponse) -> Any:
        result = original(self)
        wanted = self._get_bool_param("CapacityRebalance", None)  # pylint: disable=protected-access
        if wanted is not None:
            self.autoscaling_backend.autoscaling_groups[self._get_param("AutoScalingGroupName")].capacity_rebalance = wanted  # pylint: disable=protected-access
        return result

    setattr(update_auto_scaling_group, _PATCHED_FLAG, True)
    return update_auto_scaling_group


_PATCHES: tuple[tuple[type, str, Callable[[Callable[..., Any]], Callable[..., Any]]], ...] = (
    (FakeAutoScalingGroup, "update", _keep_mixed_policy),
    (AutoScalingResponse, "update_auto_scaling_group", _honour_capacity_rebalance),
)


def apply() -> None:
    """Install the patch (idempotent)."""
    for owner, attribute, wrap in _PATCHES:
        current = getattr(owner, attribute)
        if getattr(current, _PATCHED_FLAG, False):
            continue
        _ORIGINALS[owner, attribute] = current
        setattr(owner, attribute, wrap(current))


def restore() -> None:
    """Put moto's original methods back (for tests; the emulator never calls it)."""
    for (owner, attribute), original in list(_ORIGINALS.items()):
        setattr(owner, attribute, original)
        del _ORIGINALS[owner, attribute]


def applied() -> bool:
    """Whether the patch is installed."""
    return all(getattr(getattr(patch[0], patch[1]), _PATCHED_FLAG, False) for patch in _PATCHES)
