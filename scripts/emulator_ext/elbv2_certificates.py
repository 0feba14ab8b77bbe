# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: an ACM certificate is no longer "in use" once the listener that used it is gone, like AWS.

What moto 5.2 does
    ``CreateListener`` with an ACM certificate appends the listener's ARN to the certificate's ``InUseBy``, but
    nothing ever removes it: after ``DeleteListener`` or ``DeleteLoadBalancer`` (or when the listener's certificate is
    replaced or removed) the certificate still says it is used by a listener that does not exist, so a teardown that
    deletes the load balancer and then the certificate fails with "in use" forever.

What AWS does (ACM API Reference, CertificateDetail.InUseBy,
https://docs.aws.amazon.com/acm/latest/APIReference/API_CertificateDetail.html; DeleteCertificate)
    ``InUseBy`` lists the AWS resources that use the certificate now; when the load balancer (or its listener) is
    deleted, the association goes and ``DeleteCertificate`` succeeds.

How the patch imitates it (emulator process only; ``apply()`` is idempotent, ``restore()`` undoes it)
    After moto's own ``delete_listener``, ``delete_load_balancer``, ``modify_listener`` and
    ``remove_listener_certificates`` of an ELBv2 backend ran, the certificates of that account and region drop every
    ELBv2 listener ARN from ``in_use_by`` whose listener no longer exists or no longer carries the certificate.
    Other users (classic ELB names, anything else) are left alone.
"""

from __future__ import annotations

import functools
from typing import Any
from typing import Callable

from moto.acm.models import acm_backends
from moto.elbv2.models import ELBv2Backend

_PATCHED_FLAG = "_megapool_emulator_ext"
_METHODS = ("delete_listener", "delete_load_balancer", "modify_listener", "remove_listener_certificates")
_ORIGINALS: dict[str, Callable[..., Any]] = {}


def release_certificates(backend: ELBv2Backend) -> None:
    """Drop the listener ARNs that no longer use a certificate from the certificates' ``in_use_by``."""
    live = {
        (listener.arn, certificate)
        for balancer in backend.load_balancers.values()
        for listener in balancer.listeners.values()
        for certificate in (listener.certificates or [])
    }
    certificates = acm_backends[backend.account_id][backend.region_name]._certificates  # pylint: disable=protected-access
    for bundle in certificates.values():
        bundle.in_use_by = [
            user for user in bundle.in_use_by
            if ":elasticloadbalancing:" not in user or ":listener/" not in user or (user, bundle.arn) in live
        ]


def _releasing(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: ELBv2Backend, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        release_certificates(self)
        return result

    setattr(method, _PATCHED_FLAG, True)
    return method


def apply() -> None:
    """Install the patch (idempotent)."""
    for name in _METHODS:
        current = getattr(ELBv2Backend, name)
        if getattr(current, _PATCHED_FLAG, False):
            continue
        _ORIGINALS[name] = current
        setattr(ELBv2Backend, name, _releasing(current))


def restore() -> None:
    """Put moto's original methods back (for tests; the emulator never calls it)."""
    for name, original in list(_ORIGINALS.items()):
        setattr(ELBv2Backend, name, original)
        del _ORIGINALS[name]
