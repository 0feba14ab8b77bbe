# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: Auto Scaling as on AWS (updates keep what they do not name, launches use the whole template, ...).

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

More gaps, closed the same way
    - Instances the group launches from a launch template: moto passes the template's user data, type, key and
      security groups, but not its ``MetadataOptions`` nor ``IamInstanceProfile``, so every instance has IMDSv1
      allowed and no role. AWS launches with the template's whole configuration ("A launch template contains the
      configuration information to launch an instance", User Guide, Launch templates,
      https://docs.aws.amazon.com/autoscaling/ec2/userguide/launch-templates.html). The patched ``run_instances``
      takes both from the template when the request names a template and does not set them itself.
    - ``DeleteAutoScalingGroup`` with ``ForceDelete``: moto scales the group to 0, which keeps instances protected
      from scale-in running after the group is gone. AWS: "ForceDelete - Specifies that the group is to be deleted
      along with all instances associated with the group, without waiting for all instances to be terminated"
      (API_DeleteAutoScalingGroup). The patch terminates them all first.
    - ``CreateLaunchTemplate`` with ``TagSpecifications`` for the ``launch-template`` resource: moto tags the template
      and also copies the tags into the first version's ``LaunchTemplateData.TagSpecifications``, so a play that
      compares the data (amazon.aws.ec2_launch_template) sees a difference on the next run and adds a version. AWS
      applies those tags to the template only ("The tags to apply to the launch template on creation",
      API_CreateLaunchTemplate; ``launch-template`` is not a resource type the data's tag specifications accept).
      The patch drops them from the version's data.
    - ``DisableMetricsCollection`` does not exist in moto (an error "not yet implemented"); AWS disables the named
      metrics, or all of them when the request names none (API_DisableMetricsCollection). The patch adds it.

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
from .patching import MethodPatches

# (owner, attribute) -> moto's original function, while the patch is applied.


def _resent_policy(policy: dict[str, Any]) -> dict[str, Any]:
    """The group's stored policy in the shape of a request: the launch template by id (or name) and version."""
    again = copy.deepcopy(policy)
    template = again.get("LaunchTemplate") or {}
    spec = template.get("LaunchTemplateSpecification") or {}
    if spec.get("LaunchTemplateId") and spec.get("LaunchTemplateName"):
        template["LaunchTemplateSpecification"] = {
            key: value for key, value in spec.items() if key != "LaunchTemplateName"
        }
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

    return update


def _honour_capacity_rebalance(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def update_auto_scaling_group(self: AutoScalingResponse) -> Any:
        result = original(self)
        wanted = self._get_bool_param("CapacityRebalance", None)  # pylint: disable=protected-access
        if wanted is not None:
            self.autoscaling_backend.autoscaling_groups[
                self._get_param("AutoScalingGroupName")
            ].capacity_rebalance = wanted  # pylint: disable=protected-access
        return result

    return update_auto_scaling_group


def _template_settings(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def run_instances(
        self: Any, image_id: str, count: int, user_data: Any, security_group_names: Any, **kwargs: Any
    ) -> Any:
        profile = None
        if kwargs.get("launch_template"):
            data = self._get_template_from_args(kwargs["launch_template"]).data  # pylint: disable=protected-access
            if not kwargs.get("metadata_options") and data.get("MetadataOptions"):
                kwargs["metadata_options"] = dict(data["MetadataOptions"])
            if not kwargs.get("iam_instance_profile_name") and not kwargs.get("iam_instance_profile_arn"):
                profile = data.get("IamInstanceProfile") or None
        reservation = original(self, image_id, count, user_data, security_group_names, **kwargs)
        if profile:
            for instance in reservation.instances:
                self.associate_iam_instance_profile(
                    instance_id=instance.id,
                    iam_instance_profile_name=profile.get("Name"),
                    iam_instance_profile_arn=profile.get("Arn"),
                )
        return reservation

    return run_instances


def _force_delete(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def delete_auto_scaling_group(self: AutoScalingResponse) -> Any:
        backend = self.autoscaling_backend
        group = backend.autoscaling_groups.get(self._get_param("AutoScalingGroupName"))  # pylint: disable=protected-access
        if group is not None and self._get_bool_param("ForceDelete", False) and group.instance_states:  # pylint: disable=protected-access
            backend.ec2_backend.terminate_instances([state.instance.id for state in group.instance_states])
            group.instance_states = []
        return original(self)

    return delete_auto_scaling_group


def _disable_metrics_collection(self: AutoScalingResponse) -> Any:
    from moto.core.responses import EmptyResult  # pylint: disable=import-outside-toplevel

    group = self.autoscaling_backend.describe_auto_scaling_groups([self._get_param("AutoScalingGroupName")])[0]  # pylint: disable=protected-access
    named = self._get_param("Metrics") or []  # pylint: disable=protected-access
    group.metrics = [metric for metric in (group.metrics or []) if named and metric not in named]
    return EmptyResult()


def _added(_missing: Any) -> Callable[..., Any]:
    return _disable_metrics_collection


def _template_tags_stay_on_the_template(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def create_launch_template(
        self: Any, name: str, description: str, template_data: dict[str, Any], tag_spec: Any
    ) -> Any:
        specs = [
            spec
            for spec in template_data.get("TagSpecifications") or []
            if spec.get("ResourceType") != "launch-template"
        ]
        if specs:
            template_data["TagSpecifications"] = specs
        else:
            template_data.pop("TagSpecifications", None)
        return original(self, name, description, template_data, tag_spec)

    return create_launch_template


def _ec2_launch_template_backend() -> type:
    from moto.ec2.models.launch_templates import LaunchTemplateBackend  # pylint: disable=import-outside-toplevel

    return LaunchTemplateBackend


def _ec2_instance_backend() -> type:
    from moto.ec2.models.instances import InstanceBackend  # pylint: disable=import-outside-toplevel

    return InstanceBackend


_PATCHES: tuple[tuple[Any, str, Callable[[Callable[..., Any]], Callable[..., Any]]], ...] = (
    (FakeAutoScalingGroup, "update", _keep_mixed_policy),
    (AutoScalingResponse, "update_auto_scaling_group", _honour_capacity_rebalance),
    (AutoScalingResponse, "delete_auto_scaling_group", _force_delete),
    (AutoScalingResponse, "disable_metrics_collection", _added),
    (_ec2_instance_backend(), "run_instances", _template_settings),
    (_ec2_launch_template_backend(), "create_launch_template", _template_tags_stay_on_the_template),
)


_INSTALLED = MethodPatches(_PATCHES)


def apply() -> None:
    """Install the patch (idempotent)."""
    _INSTALLED.apply()


def restore() -> None:
    """Put moto's original methods back (for tests; the emulator never calls it)."""
    _INSTALLED.restore()


def applied() -> bool:
    """Whether the patch is installed."""
    return _INSTALLED.applied()
