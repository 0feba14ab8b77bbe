# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: an ACM certificate is "in use" while a listener uses it and for a while after, like AWS.

What moto 5.2 does
    ``CreateListener`` with an ACM certificate appends the listener's ARN to the certificate's ``InUseBy``, but
    nothing ever removes it: after ``DeleteListener`` or ``DeleteLoadBalancer`` (or when the listener's certificate is
    replaced or removed) the certificate still says it is used by a listener that does not exist. And
    ``DeleteCertificate`` deletes a certificate whatever its ``InUseBy`` says.

What AWS does
    ``InUseBy`` lists the AWS resources that use the certificate (ACM API Reference, CertificateDetail.InUseBy,
    https://docs.aws.amazon.com/acm/latest/APIReference/API_CertificateDetail.html), and ``DeleteCertificate`` of a
    certificate in use fails with ``ResourceInUseException`` ("You cannot delete an ACM certificate that is being used
    by another AWS service", https://docs.aws.amazon.com/acm/latest/APIReference/API_DeleteCertificate.html).
    When the load balancer or its listener is deleted, the association goes - but not at once: ACM keeps listing the
    deleted load balancer and refusing the delete for about ten seconds to minutes (eventual consistency; reported
    in hashicorp/terraform-provider-aws#3866 and aws/aws-cdk#4179, whose fix aws/aws-cdk#4191 waits for the
    certificate to become unused before deleting it).

How the patch imitates it (emulator process only; ``apply()`` is idempotent, ``restore()`` undoes it)
    - After moto's own ``delete_listener``, ``delete_load_balancer``, ``modify_listener`` and
      ``remove_listener_certificates`` of an ELBv2 backend ran, each ELBv2 listener ARN in a certificate's
      ``in_use_by`` whose listener no longer exists (or no longer carries the certificate) gets a release time:
      now + ``MEGAPOOL_EMULATOR_ACM_RELEASE_SECONDS`` (default 3; 0 releases at once). Other users (classic ELB names,
      anything else) are left alone.
    - Every ACM read of a certificate (``DescribeCertificate``, ``ListCertificates``, ...) and ``DeleteCertificate``
      first drops the users whose release time has passed.
    - ``DeleteCertificate`` of a certificate that is still in use fails with ``ResourceInUseException``.
"""

from __future__ import annotations

import functools
import os
import time
from typing import Any
from typing import Callable

from moto.acm.models import AWSCertificateManagerBackend
from moto.acm.models import acm_backends
from moto.core.exceptions import AWSError
from moto.elbv2.models import ELBv2Backend

from .patching import MethodPatches

_METHODS = ("delete_listener", "delete_load_balancer", "modify_listener", "remove_listener_certificates")
# Where a certificate bundle keeps the release time (monotonic seconds) of each user that went away.
_RELEASE_AT = "_megapool_release_at"
RELEASE_SECONDS_ENV = "MEGAPOOL_EMULATOR_ACM_RELEASE_SECONDS"
DEFAULT_RELEASE_SECONDS = 3.0

# The clock (tests replace it).
_clock: Callable[[], float] = time.monotonic


class ResourceInUseException(AWSError):
    """ACM's answer to DeleteCertificate of a certificate in use."""

    TYPE = "ResourceInUseException"


def release_seconds() -> float:
    """How long ACM goes on listing a listener that went away (``MEGAPOOL_EMULATOR_ACM_RELEASE_SECONDS``)."""
    value = os.environ.get(RELEASE_SECONDS_ENV, "")
    try:
        return max(0.0, float(value)) if value.strip() else DEFAULT_RELEASE_SECONDS
    except ValueError:
        return DEFAULT_RELEASE_SECONDS


def _is_listener(user: str) -> bool:
    return ":elasticloadbalancing:" in user and ":listener/" in user


def expire(bundle: Any) -> None:
    """Drop the users of ``bundle`` whose release time has passed."""
    pending: dict[str, float] = getattr(bundle, _RELEASE_AT, {})
    if not pending:
        return
    now = _clock()
    gone = {user for user, at in pending.items() if at <= now}
    if gone:
        bundle.in_use_by = [user for user in bundle.in_use_by if user not in gone]
        setattr(bundle, _RELEASE_AT, {user: at for user, at in pending.items() if user not in gone})


def release_certificates(backend: ELBv2Backend) -> None:
    """Give every listener ARN in a certificate's ``in_use_by`` that no longer uses it a release time (now + the
    lag), and take it back from a listener that uses it again."""
    live = {
        (listener.arn, certificate)
        for balancer in backend.load_balancers.values()
        for listener in balancer.listeners.values()
        for certificate in (listener.certificates or [])
    }
    certificates = acm_backends[backend.account_id][backend.region_name]._certificates  # pylint: disable=protected-access
    lag = release_seconds()
    for bundle in certificates.values():
        pending = dict(getattr(bundle, _RELEASE_AT, {}))
        for user in bundle.in_use_by:
            if not _is_listener(user):
                continue
            if (user, bundle.arn) in live:
                pending.pop(user, None)
            else:
                pending.setdefault(user, _clock() + lag)
        setattr(bundle, _RELEASE_AT, pending)
        expire(bundle)


def _releasing(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: ELBv2Backend, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        release_certificates(self)
        return result

    return method


def _get_certificate(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: AWSCertificateManagerBackend, arn: str) -> Any:
        bundle = original(self, arn)
        expire(bundle)
        return bundle

    return method


def _delete_certificate(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: AWSCertificateManagerBackend, arn: str) -> None:
        bundle = self._certificates.get(arn)  # pylint: disable=protected-access
        if bundle is not None:
            expire(bundle)
            if bundle.in_use_by:
                raise ResourceInUseException("Certificate %s in account %s is in use." % (arn, self.account_id))
        return original(self, arn)

    return method


_INSTALLED = MethodPatches(
    tuple((ELBv2Backend, name, _releasing) for name in _METHODS)
    + (
        (AWSCertificateManagerBackend, "get_certificate", _get_certificate),
        (AWSCertificateManagerBackend, "delete_certificate", _delete_certificate),
    )
)


def apply() -> None:
    """Install the patch (idempotent)."""
    _INSTALLED.apply()


def restore() -> None:
    """Put moto's original methods back (for tests; the emulator never calls it)."""
    _INSTALLED.restore()


def applied() -> bool:
    return _INSTALLED.applied()
