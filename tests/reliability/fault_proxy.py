# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fault-injecting loopback proxy in front of the local AWS emulator (stdlib only; docs/reliability.md).

    with FaultProxy("http://127.0.0.1:5205", throttle=0.10, server_error=0.05, seed=16) as proxy:
        ...  # point the AWS clients at proxy.url (MEGAPOOL_EMULATOR_PORT=proxy.port)

It is benchmarks/awsproxy.py's counting proxy with two faults added:

- **AWS's answers to an overloaded account**: a share of the AWS calls is answered by the proxy itself, never
  forwarded, in the error shape of the service's protocol as AWS sends it -- EC2 (ec2 query protocol)
  ``RequestLimitExceeded`` on HTTP 503 (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html),
  query-protocol services (IAM, RDS, Auto Scaling, ELB, STS) ``Throttling`` on 400, JSON services (ECS, ACM, SSM,
  ECR, Logs) ``ThrottlingException`` on 400 with ``x-amzn-ErrorType``, CBOR services (CloudWatch, Cloud Map)
  ``ThrottlingException`` in a CBOR body, Route 53 (rest-xml) ``Throttling`` on 400 -- and a share of server
  errors: ``InternalError``/``InternalFailure`` on 500 and ``ServiceUnavailable``/``Unavailable`` on 503.
  Which call fails depends only on ``seed`` and the call's ordinal (deterministic by seed).
- **a killed client**: ``kill_at(n, callback)`` forwards the n-th AWS call, so the change happens in the
  emulator, then runs ``callback`` (the test kills ansible-playbook's process tree) before the answer is sent:
  the worst moment, a resource made but not known to the run.

Requests to /moto-api/ and /_proxy/ pass untouched and are not counted.
"""

from __future__ import annotations

import random
import sys
import threading
import uuid
from pathlib import Path
from typing import Callable
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.awsproxy import Call  # noqa: E402  pylint: disable=wrong-import-position
from benchmarks.awsproxy import Proxy  # noqa: E402  pylint: disable=wrong-import-position
from benchmarks.awsproxy import classify  # noqa: E402  pylint: disable=wrong-import-position

THROTTLE = "throttle"
SERVER_ERROR = "server_error"


def protocol(call: Call, headers: dict[str, str]) -> str:
    """The wire protocol of a request: ec2, query, json, cbor or rest-xml (Route 53) / rest-json (the rest)."""
    content_type = headers.get("content-type", "")
    if headers.get("smithy-protocol") == "rpc-v2-cbor" or content_type.startswith("application/cbor"):
        return "cbor"
    if call.service == "ec2":
        return "ec2"
    if "x-amz-target" in headers:
        return "json"
    if content_type.startswith("application/x-www-form-urlencoded"):
        return "query"
    if call.service in ("route53", "s3", "cloudfront"):
        return "rest-xml"
    return "rest-json"


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    if len(data) < 24:
        return bytes([0x60 + len(data)]) + data
    if len(data) < 256:
        return bytes([0x78, len(data)]) + data
    return bytes([0x79]) + len(data).to_bytes(2, "big") + data


def cbor_map(values: dict[str, str]) -> bytes:
    """A CBOR map of short text keys and values (RFC 8949), as smithy rpc-v2-cbor errors carry them."""
    assert len(values) < 24
    return bytes([0xA0 + len(values)]) + b"".join(_cbor_text(key) + _cbor_text(value) for key, value in values.items())


# (status, code, message) per protocol and fault.
_ERRORS = {
    THROTTLE: {
        "ec2": [(503, "RequestLimitExceeded", "Request limit exceeded.")],
        "query": [(400, "Throttling", "Rate exceeded")],
        "json": [(400, "ThrottlingException", "Rate exceeded")],
        "cbor": [(400, "ThrottlingException", "Rate exceeded")],
        "rest-xml": [(400, "Throttling", "Rate exceeded")],
        "rest-json": [(429, "TooManyRequestsException", "Rate exceeded")],
    },
    SERVER_ERROR: {
        "ec2": [
            (500, "InternalError", "An internal error has occurred"),
            (503, "Unavailable", "The server is overloaded"),
        ],
        "query": [
            (500, "InternalFailure", "An internal error occurred"),
            (503, "ServiceUnavailable", "Service unavailable"),
        ],
        "json": [
            (500, "InternalFailure", "An internal error occurred"),
            (503, "ServiceUnavailable", "Service unavailable"),
        ],
        "cbor": [
            (500, "InternalFailure", "An internal error occurred"),
            (503, "ServiceUnavailable", "Service unavailable"),
        ],
        "rest-xml": [
            (500, "InternalError", "An internal error occurred"),
            (503, "ServiceUnavailable", "Service unavailable"),
        ],
        "rest-json": [
            (500, "InternalFailure", "An internal error occurred"),
            (503, "ServiceUnavailable", "Service unavailable"),
        ],
    },
}


def error_reply(wire: str, fault: str, variant: int = 0) -> tuple[int, list[tuple[str, str]], bytes, str]:
    """AWS's answer for ``fault`` in protocol ``wire``: status, headers, body, and the error code in it."""
    choices = _ERRORS[fault][wire]
    status, code, message = choices[variant % len(choices)]
    request_id = str(uuid.UUID(int=random.Random(variant).getrandbits(128)))
    if wire == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error>'
            "</Errors><RequestID>%s</RequestID></Response>" % (code, message, request_id)
        ).encode()
        return status, [("Content-Type", "text/xml;charset=UTF-8")], body, code
    if wire in ("query", "rest-xml"):
        kind = "Sender" if status < 500 else "Receiver"
        body = (
            "<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>"
            "<RequestId>%s</RequestId></ErrorResponse>" % (kind, code, message, request_id)
        ).encode()
        return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body, code
    if wire == "cbor":
        body = cbor_map({"__type": code, "message": message})
        return (
            status,
            [
                ("Content-Type", "application/cbor"),
                ("smithy-protocol", "rpc-v2-cbor"),
                ("x-amzn-RequestId", request_id),
            ],
            body,
            code,
        )
    body = ('{"__type": "%s", "message": "%s"}' % (code, message)).encode()
    headers = [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("x-amzn-ErrorType", code),
        ("x-amzn-RequestId", request_id),
    ]
    return status, headers, body, code


def seeded_faults(throttle: float, server_error: float, seed: int) -> Callable[[int], Optional[str]]:
    """The fault of the n-th call (None: forward it): a share ``throttle`` of throttling answers and ``server_error``
    of 5xx, decided by ``seed`` and ``n`` alone."""
    if not (0 <= throttle and 0 <= server_error and throttle + server_error <= 1):
        raise ValueError("throttle and server_error are shares between 0 and 1 (sum at most 1)")

    def fault(ordinal: int) -> Optional[str]:
        draw = random.Random("%d:%d" % (seed, ordinal)).random()
        if draw < throttle:
            return THROTTLE
        if draw < throttle + server_error:
            return SERVER_ERROR
        return None

    return fault


class FaultProxy(Proxy):
    """benchmarks/awsproxy.py's ``Proxy`` that throttles, fails and kills (see the module's documentation).

    ``faults``: the fault of the n-th AWS call (1-based), overriding ``throttle``/``server_error``/``seed``.
    ``injected``: the faults answered so far, a list of (ordinal, service, action, code).
    """

    def __init__(
        self,
        upstream: str,
        *,
        throttle: float = 0.0,
        server_error: float = 0.0,
        seed: int = 0,
        faults: Optional[Callable[[int], Optional[str]]] = None,
        port: int = 0,
    ) -> None:
        super().__init__(upstream, port=port)
        self.faults = faults or seeded_faults(throttle, server_error, seed)
        self.injected: list[tuple[int, str, str, str]] = []
        self.ordinal = 0
        self._kill: Optional[tuple[int, Callable[[], None]]] = None
        self._counter = threading.Lock()
        self._server.RequestHandlerClass = _fault_handler(self, self._server.RequestHandlerClass)

    def kill_at(
        self, ordinal: Optional[int], callback: Optional[Callable[[], None]] = None, action: Optional[str] = None
    ) -> None:
        """Run ``callback`` once the ``ordinal``-th AWS call (counted from now) -- or, with ``action``, the first call of
        that action (e.g. ``UpdateService``) at or after it -- is forwarded, before its answer is sent."""
        with self._counter:
            self.ordinal = 0
            self._kill = (ordinal or 1, callback, action) if (ordinal or action) and callback else None

    def next_call(self, call: Optional[Call] = None) -> tuple[int, Optional[str], bool]:
        """The ordinal of a new AWS call, its fault, and whether the client dies after it."""
        with self._counter:
            self.ordinal += 1
            kill = False
            if self._kill is not None and self.ordinal >= self._kill[0]:
                wanted = self._kill[2]
                kill = self.ordinal == self._kill[0] if wanted is None else (call is not None and call.action == wanted)
            return self.ordinal, (None if kill else self.faults(self.ordinal)), kill

    def killed(self) -> None:
        with self._counter:
            callback = self._kill[1] if self._kill else None
            self._kill = None
        if callback:
            callback()


def _fault_handler(proxy: FaultProxy, base: type) -> type:
    class FaultHandler(base):  # type: ignore[misc, valid-type]
        def _any(self) -> None:
            if self.path.startswith(("/_proxy/", "/moto-api/")):
                super()._any()
                return
            body = self._read_body()
            lowered = {name.lower(): value for name, value in self.headers.items()}
            call = classify(self.command, self.path, lowered, body)
            ordinal, fault, kill = proxy.next_call(call)
            if fault:
                status, headers, payload, code = error_reply(protocol(call, lowered), fault, ordinal)
                with proxy._counter:  # pylint: disable=protected-access
                    proxy.injected.append((ordinal, call.service, call.action, code))
                proxy.record(call, status, 0.0)
                self._reply(status, headers, payload)
                return
            status, headers, payload = self._forward(body)
            proxy.record(call, status, 0.0)
            if kill:
                proxy.killed()
                self.close_connection = True
                return
            self._reply(status, headers, payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _any

    return FaultHandler
