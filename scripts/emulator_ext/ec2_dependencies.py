# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: security groups and subnets stay "in use" for a while after their dependents go, like AWS.

What moto 5.2.5 does
    ``DeleteSecurityGroup`` and ``DeleteSubnet`` succeed at once after the instance, NAT gateway or load balancer that
    used them is gone (moto deletes an instance's network interfaces in ``TerminateInstances`` itself and load
    balancers and NAT gateways have none), so a teardown that deletes security groups and subnets right after their
    users never meets the error it meets on AWS.

What AWS does
    The network interfaces of terminated instances, deleted NAT gateways, load balancers and ECS tasks (awsvpc) are
    released asynchronously and linger for seconds to minutes; until they are gone, ``DeleteSecurityGroup`` answers
    ``DependencyViolation`` "resource sg-... has a dependent object" and ``DeleteSubnet`` answers
    ``DependencyViolation`` "The subnet 'subnet-...' has dependencies and cannot be deleted."
    (Amazon EC2 API Reference, error codes: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html,
    "DependencyViolation: The specified object has dependent resources. A number of resources in a VPC may have
    dependent resources, which prevent you from deleting or detaching them. Remove the dependencies first, then
    retry your request"; Elastic Load Balancing deletes a load balancer's network interfaces after the load balancer:
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-delete.html).

How the patch works (in the emulator process only; ``apply()`` is idempotent, ``restore()`` undoes it)
    Deterministic rather than timed: when an instance is terminated, a NAT gateway deleted or a load balancer deleted,
    its subnets and security groups are marked; the next ``MEGAPOOL_EMULATOR_DEPENDENCY_LINGER`` (default 2, 0 turns
    the extension off) ``DeleteSecurityGroup`` / ``DeleteSubnet`` calls for each marked resource answer AWS's
    ``DependencyViolation``, then the delete succeeds. The wrappers call moto's original methods.
"""

from __future__ import annotations

import functools
import os
from typing import Any
from typing import Callable

from moto.ec2.exceptions import DependencyViolationError
from moto.ec2.models.instances import Instance
from moto.ec2.models.nat_gateways import NatGatewayBackend
from moto.ec2.models.security_groups import SecurityGroupBackend
from moto.ec2.models.subnets import SubnetBackend
from moto.elbv2.models import ELBv2Backend
from .patching import MethodPatches

LINGER_ENV = "MEGAPOOL_EMULATOR_DEPENDENCY_LINGER"
DEFAULT_LINGER = 2

# resource id (sg-..., subnet-...) -> delete calls still refused
_LINGERING: dict[str, int] = {}


def linger_count() -> int:
    """How many deletes of a marked resource are refused (``MEGAPOOL_EMULATOR_DEPENDENCY_LINGER``, default 2)."""
    try:
        return max(0, int(os.environ.get(LINGER_ENV, DEFAULT_LINGER)))
    except ValueError:
        return DEFAULT_LINGER


def mark(*resource_ids: Any) -> None:
    """Make the next deletes of these resources answer DependencyViolation (their dependents just went)."""
    count = linger_count()
    for resource_id in resource_ids:
        if resource_id and count:
            _LINGERING[str(resource_id)] = count


def lingering() -> dict[str, int]:
    """The marked resources and their remaining refusals (a copy)."""
    return dict(_LINGERING)


def _refuse(resource_id: str | None, message: str) -> None:
    if resource_id and _LINGERING.get(resource_id, 0) > 0:
        _LINGERING[resource_id] -= 1
        if not _LINGERING[resource_id]:
            del _LINGERING[resource_id]
        raise DependencyViolationError(message)


def _instance_terminate(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def terminate(self: Instance, *args: Any, **kwargs: Any) -> Any:
        if self.state != "terminated":
            for nic in list(self.nics.values()):
                mark(
                    getattr(getattr(nic, "subnet", None), "id", None),
                    *[group.id for group in getattr(nic, "group_set", [])],
                )
        return original(self, *args, **kwargs)

    return terminate


def _nat_delete(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def delete_nat_gateway(self: NatGatewayBackend, nat_gateway_id: str) -> Any:
        gateway = original(self, nat_gateway_id)
        mark(getattr(gateway, "subnet_id", None))
        return gateway

    return delete_nat_gateway


def _load_balancer_delete(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def delete_load_balancer(self: ELBv2Backend, arn: str) -> Any:
        balancer = self.load_balancers.get(arn)
        if balancer is not None:
            mark(
                *[getattr(subnet, "id", subnet) for subnet in balancer.subnets or []], *(balancer.security_groups or [])
            )
        return original(self, arn)

    return delete_load_balancer


def _sg_delete(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def delete_security_group(self: SecurityGroupBackend, name: str | None = None, group_id: str | None = None) -> Any:
        _refuse(group_id, "resource %s has a dependent object" % group_id)
        return original(self, name=name, group_id=group_id)

    return delete_security_group


def _subnet_delete(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def delete_subnet(self: SubnetBackend, subnet_id: str) -> Any:
        _refuse(subnet_id, "The subnet '%s' has dependencies and cannot be deleted." % subnet_id)
        return original(self, subnet_id)

    return delete_subnet


_PATCHES: tuple[tuple[type, str, Callable[[Callable[..., Any]], Callable[..., Any]]], ...] = (
    (Instance, "terminate", _instance_terminate),
    (NatGatewayBackend, "delete_nat_gateway", _nat_delete),
    (ELBv2Backend, "delete_load_balancer", _load_balancer_delete),
    (SecurityGroupBackend, "delete_security_group", _sg_delete),
    (SubnetBackend, "delete_subnet", _subnet_delete),
)


_INSTALLED = MethodPatches(_PATCHES)


def apply() -> None:
    """Install the patch (idempotent)."""
    _INSTALLED.apply()


def restore() -> None:
    """Put moto's original methods back and forget the marks (for tests; the emulator never calls it)."""
    _INSTALLED.restore()
    _LINGERING.clear()


def applied() -> bool:
    """Whether the patch is installed."""
    return _INSTALLED.applied()
