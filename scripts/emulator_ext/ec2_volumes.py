# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: every EBS volume has a ``SnapshotId``, the empty string for a volume made from no snapshot,
like AWS.

What moto 5.2.5 does
    ``DescribeVolumes`` leaves ``SnapshotId`` out of a volume that was not created from a snapshot (``Volume`` keeps
    ``snapshot_id=None``, and moto's serializer drops None), e.g. the root volume of every instance it launches.
    amazon.aws.ec2_vol_info reads ``volume["snapshot_id"]`` of every volume and fails with a KeyError on them.

What AWS does
    ``SnapshotId`` is "the snapshot from which the volume was created, if applicable"; a volume made from none answers
    ``"SnapshotId": ""`` (the second volume of the DescribeVolumes example of the AWS CLI reference,
    https://docs.aws.amazon.com/cli/latest/reference/ec2/describe-volumes.html; the same example in the SDK code
    library: https://docs.aws.amazon.com/code-library/latest/ug/ec2_example_ec2_DescribeVolumes_section.html). The
    root volume of an instance launched from an EBS-backed AMI is made from the AMI's snapshot and names it.

How the patch works (in the emulator process only; ``apply()`` is idempotent, ``restore()`` undoes it)
    ``moto.ec2.models.elastic_block_store.Volume.__init__`` stores ``""`` where it was given no snapshot. Moto's
    instances get a root volume from no snapshot (its AMIs carry no EBS snapshot to name), so those answer ``""`` where
    AWS would name the AMI's snapshot: nothing of the collection reads it; the key is there, as on AWS.
"""

from __future__ import annotations

import functools
from typing import Any
from typing import Callable

from .patching import MethodPatches


def _blank_snapshot(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self.snapshot_id is None:
            self.snapshot_id = ""

    return init


_INSTALLED = MethodPatches((("moto.ec2.models.elastic_block_store:Volume", "__init__", _blank_snapshot),))


def apply() -> None:
    """Install the patch (idempotent)."""
    _INSTALLED.apply()


def restore() -> None:
    """Put moto's method back (for tests; the emulator never calls it)."""
    _INSTALLED.restore()


def applied() -> bool:
    return _INSTALLED.applied()
