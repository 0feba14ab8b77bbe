# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the HTTP availability probe (module ``http_probe``, playbooks/verify.yml). No I/O.

- :func:`validate_probe` turns the module options into a :class:`ProbeRequest` or raises :class:`ProbeError`
  naming the option and the fix;
- :func:`pinned_url` is the URL to request when the server is reached at the address of ``url`` under another name
  (``server_name``, like ``curl --resolve``): the name goes into the URL (so it is the TLS SNI, the ``Host`` header
  and the name the certificate is checked against) and the address is what that name resolves to for this probe;
- :func:`answered` and :func:`unanswered` build one sample (``{"ok", "status", "seconds", "error"}``);
  :func:`error_text` is the short reason of a request that got no answer;
- :func:`latency_summary` is the success ratio, the nearest-rank latency percentiles (:func:`percentile`) and the
  count of each outcome of a list of samples.
"""

from __future__ import annotations

import math
import re
import socket
from collections import Counter
from dataclasses import dataclass
from typing import Any
from typing import Iterable
from typing import Mapping
from typing import Sequence
from urllib.parse import urlsplit
from urllib.parse import urlunsplit


class ProbeError(ValueError):
    """Options or input the probe refuses; the message names the option and the fix."""


@dataclass(frozen=True)
class ProbeRequest:
    """What to probe, how often and what counts as a success."""

    url: str
    requests: int
    timeout: float
    interval: float
    validate_certs: bool
    status_codes: tuple[int, ...]  # empty: any 2xx status
    min_success_ratio: float
    server_name: str | None = None  # the name to present (SNI, Host, certificate check); None: the URL's host
    ca_path: str | None = None  # a PEM file of CAs to trust instead of the system's


# A DNS name (no IP address, no port): what a certificate names and a Host header carries.
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", re.IGNORECASE
)


@dataclass(frozen=True)
class PinnedUrl:
    """Request ``url`` (whose host is the server name); resolve ``name`` to ``address`` for it."""

    url: str
    name: str
    address: str


def pinned_url(url: str, server_name: str) -> PinnedUrl:
    """``url`` with its host replaced by ``server_name`` (port, path and query kept), and the original host as the
    address that name stands for: the probe connects to the original host and presents ``server_name`` (like
    ``curl --resolve <server_name>:<port>:<address of the host>``)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = server_name.lower() if parts.port is None else "%s:%d" % (server_name.lower(), parts.port)
    return PinnedUrl(
        url=urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)),
        name=server_name.lower(),
        address=host,
    )


def validate_probe(params: Mapping[str, Any]) -> ProbeRequest:
    """The module options (already typed by the argument spec) -> a :class:`ProbeRequest`, or :class:`ProbeError`."""
    errors = []
    url = params["url"]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        errors.append(
            "url=%r is not an http:// or https:// URL with a host: give e.g. https://shop.example.com/health" % url
        )
    if params["requests"] < 1:
        errors.append("requests=%s must be 1 or more" % params["requests"])
    if not params["timeout"] > 0:
        errors.append("timeout=%s must be above 0 (seconds per request)" % params["timeout"])
    if not params["interval"] >= 0:
        errors.append("interval=%s must be 0 or more (seconds between requests)" % params["interval"])
    if not 0 <= params["min_success_ratio"] <= 1:
        errors.append("min_success_ratio=%s must be within 0-1 (e.g. 0.99)" % params["min_success_ratio"])
    codes = tuple(params.get("status_codes") or ())
    wrong = [code for code in codes if not 100 <= code <= 599]
    if wrong:
        errors.append(
            "status_codes=%s holds %s: HTTP status codes are 100-599" % (list(codes), ", ".join(map(str, wrong)))
        )
    server_name = params.get("server_name") or None
    if server_name is not None and not _HOSTNAME.match(server_name.rstrip(".")):
        errors.append(
            "server_name=%r is not a DNS name: give the name the certificate is for, e.g. app.example.com (without "
            "scheme, port or path)" % server_name
        )
    if parts.username or parts.password:
        errors.append("url=%r carries credentials: the probe sends none, remove them" % url)
    if errors:
        raise ProbeError("; ".join(errors))
    return ProbeRequest(
        url=url,
        requests=params["requests"],
        timeout=float(params["timeout"]),
        interval=float(params["interval"]),
        validate_certs=params["validate_certs"],
        status_codes=codes,
        min_success_ratio=float(params["min_success_ratio"]),
        server_name=server_name.rstrip(".").lower() if server_name else None,
        ca_path=params.get("ca_path") or None,
    )


def expected_status(status: int, status_codes: Sequence[int] = ()) -> bool:
    """Whether ``status`` counts as a success: one of ``status_codes``, or any 2xx when there are none."""
    return status in status_codes if status_codes else 200 <= status < 300


def answered(status: int, seconds: float, status_codes: Sequence[int] = ()) -> dict[str, Any]:
    """The sample of a request that got an HTTP answer (any status) after ``seconds``."""
    return {"ok": expected_status(status, status_codes), "status": status, "seconds": round(seconds, 6), "error": None}


def unanswered(error: str) -> dict[str, Any]:
    """The sample of a request that got no HTTP answer (refused, timed out, TLS or DNS failure, ...)."""
    return {"ok": False, "status": None, "seconds": None, "error": error}


def error_text(exc: BaseException) -> str:
    """A short, stable reason for a request without an answer (it is counted in ``outcomes``).

    urllib wraps the socket error in ``URLError.reason``; an ``OSError`` says it in ``strerror``
    (``Connection refused``, ``Name or service not known``); a timeout is ``timed out``.
    """
    reason: Any = exc
    while getattr(reason, "reason", None) is not None and isinstance(reason.reason, BaseException):
        reason = reason.reason
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "timed out"
    verify_message = getattr(reason, "verify_message", None)  # ssl.SSLCertVerificationError
    if verify_message:
        return "certificate verify failed: %s" % verify_message
    if isinstance(reason, OSError) and reason.strerror:
        return str(reason.strerror)
    if getattr(reason, "reason", None):  # URLError("unknown url type") and the like: a string reason
        return str(reason.reason)
    return str(reason) or type(reason).__name__


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` in 0-100) of ``values``; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def outcome(sample: Mapping[str, Any]) -> str:
    """``ok``, ``HTTP <status>`` (an answer that does not count) or the error of a request without an answer."""
    if sample.get("ok"):
        return "ok"
    if sample.get("status"):
        return "HTTP %s" % sample["status"]
    return sample.get("error") or "no answer"


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def latency_summary(samples: Iterable[Mapping[str, Any]], min_success_ratio: float = 0.99) -> dict[str, Any]:
    """Success ratio and latency percentiles (milliseconds) of probe samples; :class:`ProbeError` without samples.

    Latencies count every request that got an answer (whatever its status); ``passed`` is
    ``success_ratio >= min_success_ratio``.
    """
    samples = list(samples)
    if not samples:
        raise ProbeError("no samples to summarise (requests must be 1 or more)")
    succeeded = sum(1 for sample in samples if sample.get("ok"))
    latencies = [float(sample["seconds"]) * 1000.0 for sample in samples if sample.get("seconds") is not None]
    ratio = succeeded / len(samples)
    return {
        "requests": len(samples),
        "succeeded": succeeded,
        "failures": len(samples) - succeeded,  # not "failed": Ansible takes that result key for a failed task
        "success_ratio": round(ratio, 4),
        "p50_ms": _ms(percentile(latencies, 50)),
        "p95_ms": _ms(percentile(latencies, 95)),
        "max_ms": _ms(max(latencies) if latencies else None),
        "outcomes": dict(sorted(Counter(outcome(sample) for sample in samples).items())),
        "passed": ratio >= float(min_success_ratio),
    }
