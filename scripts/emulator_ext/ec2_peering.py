# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: a VPC peering connection that does not exist (yet) answers AWS's error code.

What moto 5.2.5 does
    ``DescribeVpcPeeringConnections`` / ``AcceptVpcPeeringConnection`` / ``DeleteVpcPeeringConnection`` of an unknown
    ID raise ``InvalidVpcPeeringConnectionId.NotFound``.

What AWS does
    The error code is ``InvalidVpcPeeringConnectionID.NotFound`` ("The specified VPC peering connection ID does not
    exist", https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html); amazon.aws's
    ``module_utils/ec2.py`` matches that spelling too. A peering requested in one region is not visible in the peer
    region for a moment, so code that waits for it must retry exactly this code.

How the patch works (in the emulator process only; ``apply()`` is idempotent, ``restore()`` undoes it)
    moto's ``InvalidVPCPeeringConnectionIdError.__init__`` is replaced by one that gives AWS's code.
"""

from __future__ import annotations

import functools
from typing import Any
from typing import Callable

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.exceptions import InvalidVPCPeeringConnectionIdError
from .patching import MethodPatches

AWS_CODE = "InvalidVpcPeeringConnectionID.NotFound"


def _init(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def __init__(self: EC2ClientError, vpc_peering_connection_id: str) -> None:
        EC2ClientError.__init__(self, AWS_CODE, "VpcPeeringConnectionID %s does not exist." % vpc_peering_connection_id)

    return __init__


_INSTALLED = MethodPatches([(InvalidVPCPeeringConnectionIdError, "__init__", _init)])


def apply() -> None:
    """Install the patch (idempotent)."""
    _INSTALLED.apply()


def restore() -> None:
    """Put moto's original method back (for tests; the emulator never calls it)."""
    _INSTALLED.restore()


def applied() -> bool:
    """Whether the patch is installed."""
    return _INSTALLED.applied()
