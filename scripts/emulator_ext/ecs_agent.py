# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: what ECS does around the container agent and capacity providers, like AWS.

1. ``RegisterContainerInstance`` into a cluster that does not exist
    moto 5.2.5 raises a bare ``Exception`` (HTTP 500, which botocore retries). AWS answers
    ``ClientException: Cluster not found.`` (ECS API Reference, RegisterContainerInstance, Errors), and the ECS agent
    treats that answer as terminal: ``agent/app/agent.go`` exits with ``ExitTerminal`` (5) and the ECS-optimised AMI's
    ``ecs.service`` has ``RestartPreventExitStatus=5``, so an instance booted before its cluster exists never joins it.
    The patch answers with AWS's ``ClientException``.

2. The ECS service-linked role (``AWSServiceRoleForECS``)
    moto creates capacity providers in any account. AWS refuses ``CreateCapacityProvider`` in an account that has no
    ECS service-linked role yet: ``ClientException: ECS Service Linked Role does not exist. Please create a Service
    linked role for ECS and try again.`` (terraform-aws-modules/terraform-aws-ecs#26,
    hashicorp/terraform-provider-aws#19977). ``CreateCluster`` creates the role when it is missing ("Amazon ECS
    creates the service-linked role for you when you create a cluster",
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html). The patch does both.
    moto names the role ``AWSServiceRoleForecs``; the patch uses AWS's name. IAM ``CreateServiceLinkedRole`` for a
    role that exists answers, as AWS does, ``InvalidInput: Service role name
    AWSServiceRoleForECS has been taken in this account, please try a different suffix.`` (moto: ``EntityAlreadyExists``).

3. The ``AmazonECSManaged`` tag
    "Associating an ECS Capacity Provider to an Auto Scaling Group will automatically add the AmazonECSManaged tag to
    the Auto Scaling Group" (Terraform / Pulumi ``aws.ecs.CapacityProvider`` documentation; the ECS console shows the
    same). moto adds nothing. The patch adds the tag (empty value, propagated at launch) to the group of a new capacity
    provider when the group does not carry it yet, so a play that purges the group's tags sees it as on AWS.

4. A cluster without capacity providers
    moto leaves ``capacityProviders`` and ``defaultCapacityProviderStrategy`` out of ``DescribeClusters`` for a cluster
    created without them; AWS answers empty lists (API_Cluster: both are part of every cluster description), and
    community.aws.ecs_cluster reads ``capacityProviders`` of an existing cluster. The patch stores empty lists.

The wrappers are installed with ``patching.MethodPatches`` (once, restorably): ``install(monkeypatch)`` patches moto
in-process through a test's monkeypatch (its teardown undoes it); ``apply()`` installs it for the emulator,
``restore()`` takes it out again.
"""

from __future__ import annotations

import functools
import json
from typing import Any
from typing import Callable

from .patching import MethodPatches

ECS_SERVICE = "ecs.amazonaws.com"
ECS_ROLE_NAME = "AWSServiceRoleForECS"
MANAGED_TAG = "AmazonECSManaged"
SLR_MISSING = "ECS Service Linked Role does not exist. Please create a Service linked role for ECS and try again."
CLUSTER_NOT_FOUND = "Cluster not found."


def _iam(account_id: str) -> Any:
    from moto.iam.models import iam_backends  # pylint: disable=import-outside-toplevel

    return iam_backends[account_id]["aws"]


def ecs_role_exists(account_id: str) -> bool:
    """Whether the account has the ECS service-linked role."""
    return any(role.name == ECS_ROLE_NAME for role in _iam(account_id).roles.values())


def _create_ecs_role(backend: Any, description: str = "") -> Any:
    """AWSServiceRoleForECS as AWS names it (moto would call it AWSServiceRoleForecs)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Action": ["sts:AssumeRole"], "Effect": "Allow", "Principal": {"Service": [ECS_SERVICE]}}],
    }
    return backend.create_role(
        ECS_ROLE_NAME,
        json.dumps(policy),
        "/aws-service-role/%s/" % ECS_SERVICE,
        permissions_boundary=None,
        description=description or "Role to enable Amazon ECS to manage your cluster.",
        tags=[],
        max_session_duration="3600",
        linked_service=ECS_SERVICE,
    )


def ensure_ecs_role(account_id: str) -> None:
    """Create the ECS service-linked role when it is missing (what CreateCluster does on AWS)."""
    if not ecs_role_exists(account_id):
        _create_ecs_role(_iam(account_id))


def _asg_name(arn_or_name: str) -> str:
    return arn_or_name.split("autoScalingGroupName/", 1)[-1]


def tag_group(account_id: str, region: str, asg_arn_or_name: str) -> None:
    """Add AmazonECSManaged to the capacity provider's Auto Scaling group unless it carries it already."""
    from moto.autoscaling.models import autoscaling_backends  # pylint: disable=import-outside-toplevel

    backend = autoscaling_backends[account_id][region]
    name = _asg_name(asg_arn_or_name or "")
    group = backend.autoscaling_groups.get(name)
    if group is None or any(tag.get("Key") == MANAGED_TAG for tag in group.tags):
        return
    backend.create_or_update_tags(
        [
            {
                "ResourceId": name,
                "ResourceType": "auto-scaling-group",
                "Key": MANAGED_TAG,
                "Value": "",
                "PropagateAtLaunch": True,
            }
        ]
    )


def _register_container_instance(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def register_container_instance(self: Any, cluster_str: str, *args: Any, **kwargs: Any) -> Any:
        from moto.ecs.exceptions import EcsClientException  # pylint: disable=import-outside-toplevel

        if cluster_str.split("/")[-1] not in self.clusters:
            raise EcsClientException(CLUSTER_NOT_FOUND)
        return original(self, cluster_str, *args, **kwargs)

    return register_container_instance


def _create_cluster(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def create_cluster(self: Any, *args: Any, **kwargs: Any) -> Any:
        ensure_ecs_role(self.account_id)
        cluster = original(self, *args, **kwargs)
        if cluster.capacity_providers is None:
            cluster.capacity_providers = []
        if cluster.default_capacity_provider_strategy is None:
            cluster.default_capacity_provider_strategy = []
        return cluster

    return create_cluster


def _create_capacity_provider(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def create_capacity_provider(self: Any, name: str, asg_details: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        from moto.ecs.exceptions import EcsClientException  # pylint: disable=import-outside-toplevel

        if not ecs_role_exists(self.account_id):
            raise EcsClientException(SLR_MISSING)
        provider = original(self, name, asg_details, *args, **kwargs)
        tag_group(self.account_id, self.region_name, (asg_details or {}).get("autoScalingGroupArn", ""))
        return provider

    return create_capacity_provider


def _create_service_linked_role(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def create_service_linked_role(self: Any, service_name: str, description: str, suffix: str) -> Any:
        from moto.iam.exceptions import InvalidInput  # pylint: disable=import-outside-toplevel

        if service_name == ECS_SERVICE and not suffix:
            if ecs_role_exists(self.account_id):
                raise InvalidInput(
                    "Service role name %s has been taken in this account, please try a different suffix."
                    % ECS_ROLE_NAME
                )
            return _create_ecs_role(self, description)
        return original(self, service_name, description, suffix)

    return create_service_linked_role


_ECS_BACKEND = "moto.ecs.models:EC2ContainerServiceBackend"
_INSTALLED = MethodPatches(
    (
        (_ECS_BACKEND, "register_container_instance", _register_container_instance),
        (_ECS_BACKEND, "create_cluster", _create_cluster),
        (_ECS_BACKEND, "create_capacity_provider", _create_capacity_provider),
        ("moto.iam.models:IAMBackend", "create_service_linked_role", _create_service_linked_role),
    )
)


def install(monkeypatch: Any = None) -> None:
    """Patch moto's ECS and IAM backends (idempotent; ``monkeypatch``: a pytest MonkeyPatch, so a test can undo it)."""
    _INSTALLED.apply(monkeypatch)


def apply() -> None:
    """Install the patch (idempotent)."""
    install()


def restore() -> None:
    """Put moto's original methods back (for tests; the emulator never calls it)."""
    _INSTALLED.restore()


def applied() -> bool:
    """Whether the patch is installed."""
    return _INSTALLED.applied()
