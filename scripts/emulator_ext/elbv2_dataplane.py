# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: the local data plane of an Application Load Balancer - a front per listener that serves HTTP,
real health checks of the targets that are local tasks, draining, and DescribeTargetHealth answered from them.

What moto 5.2 does
    ELBv2 is control plane only: nothing listens for a load balancer, and ``DescribeTargetHealth`` says ``healthy``
    for every registered target at once, whatever it runs (``FakeTargetGroup.health_for``). A deregistered target is
    ``unused`` at once: no draining. So a rolling deployment that waits for healthy targets, or for a stopping task's
    target to drain, waits for nothing.

What AWS does (Application Load Balancers user guide and API reference)
    - Health checks: "Each load balancer node checks the health of each target, using the health check settings for
      the target groups with which the target is registered. After your target is registered, it must pass one health
      check to be considered healthy" (Health checks for Application Load Balancer target groups,
      https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html): a request
      to ``HealthCheckPath`` on the health check port (``traffic-port``: the target's port) every
      ``HealthCheckIntervalSeconds``, failed after ``HealthCheckTimeoutSeconds``, success when the code is in the
      ``Matcher`` (``200``, ``200,202``, ``200-299``); ``UnhealthyThresholdCount`` consecutive failures make a target
      unhealthy, ``HealthyThresholdCount`` consecutive successes make an unhealthy target healthy again. The request
      carries ``User-Agent: ELB-HealthChecker/2.0``.
    - States and reason codes (API_TargetHealth,
      https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html): ``initial``
      (``Elb.RegistrationInProgress``, then ``Elb.InitialHealthChecking``), ``healthy`` (no reason), ``unhealthy``
      (``Target.ResponseCodeMismatch``, ``Target.Timeout``, ``Target.FailedHealthChecks``), ``unused``
      (``Target.NotRegistered``; ``Target.NotInUse``: the target group is not used by any load balancer),
      ``draining`` (``Target.DeregistrationInProgress``), ``unavailable`` (``Target.HealthCheckDisabled``).
    - Routing: each node "routes requests only to the healthy targets"; "If a target group contains only unhealthy
      registered targets, the load balancer routes requests to all those targets, regardless of their health status"
      (fail-open, same page). With the default algorithm ``round_robin``.
    - Deregistration delay: "Elastic Load Balancing stops sending requests to targets that are deregistering ... The
      initial state of a deregistering target is draining. After the deregistration delay elapses, the deregistration
      process completes and the state of the target is unused", and "the status of the target is displayed as
      draining until the deregistration delay timeout expires" (target group attribute
      ``deregistration_delay.timeout_seconds``, default 300; Target group attributes, Deregistration delay,
      https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html).
    - Redirect actions answer ``HTTP_301``/``HTTP_302`` with ``protocol://host:port/path?query`` built from the
      ``RedirectConfig`` with the reserved keywords ``#{protocol}``, ``#{host}``, ``#{port}``, ``#{path}`` (without its
      leading "/"), ``#{query}`` (API_RedirectActionConfig,
      https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RedirectActionConfig.html).
      Fixed-response actions answer their code, content type and body. A target that refuses or breaks the connection
      is a 502, one that does not answer within the idle timeout a 504, no target at all a 503 (Troubleshoot your
      Application Load Balancers, HTTP 502/503/504,
      https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html).

How the patch imitates it (emulator process only; ``apply()`` is idempotent, ``restore()`` undoes it)
    - Only targets whose address is in 127.0.0.0/8 (local tasks of the ECS data plane, docs/emulator.md) are
      checked and served; every other target keeps moto's answers exactly.
    - ``RegisterTargets`` of a local target starts it ``initial``; a scheduler thread checks it over HTTP (one check
      in flight per target, a short thread each) while its target group is used by a listener or rule, and moves it
      through the states above. ``DeregisterTargets`` makes it ``draining`` for the group's deregistration delay
      (no new requests, the ones in flight finish), then it is gone (moto's ``unused``/``Target.NotRegistered``).
    - ``DescribeTargetHealth`` answers local targets from that state (draining ones included, like AWS), the others
      from moto.
    - Every HTTP or HTTPS listener of an application load balancer gets a front: an HTTP server on 127.0.0.1, an
      ephemeral port. HTTPS listeners are served as plain HTTP (no TLS locally); ``X-Forwarded-Proto`` still says
      what the client used on AWS. Rules are matched by priority (``path-pattern`` and ``host-header``; a rule with
      any other condition never matches locally), then the default actions. ``authenticate-*`` actions are skipped.
      Forward picks round robin among healthy targets (fail-open: all registered ones; none: 503), weighted across
      the target groups of a ``ForwardConfig``; one request per connection (no keep-alive), bodies up to
      ``Content-Length``.
    - Where the fronts are: :func:`front_address` (load balancer ARN, listener port) -> ``(host, port)``, :func:`fronts`,
      and over HTTP on the emulator's own port: ``GET /megapool-api/fronts`` answers them as JSON.
    - ``POST /moto-api/reset`` closes every front and stops every check (the scheduler restarts with the next
      listener or target); the emulator's stop ends the process and with it every thread and socket.
"""

from __future__ import annotations

import fnmatch
import functools
import http.client
import ipaddress
import itertools
import json
import random
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any
from typing import Callable

from moto.elbv2.models import ELBv2Backend
from moto.elbv2.models import FakeHealthStatus
from moto.moto_api._internal.models import MotoAPIBackend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from .patching import MethodPatches


LOCAL_NETWORK = ipaddress.ip_network("127.0.0.0/8")
FRONT_HOST = "127.0.0.1"
HEALTH_CHECK_USER_AGENT = "ELB-HealthChecker/2.0"
TICK_SECONDS = 0.1
ROUTE_PREFIX = "/megapool-api/"
HOP_BY_HOP = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    )
)

# The clock (tests may replace it).
_clock: Callable[[], float] = time.monotonic

# Reason codes and descriptions (API_TargetHealth).
INITIAL_REGISTERING = ("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
INITIAL_CHECKING = ("initial", "Elb.InitialHealthChecking", "Initial health checks in progress")
HEALTHY = ("healthy", None, None)
DRAINING = ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")
NOT_IN_USE = ("unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer")
DISABLED = ("unavailable", "Target.HealthCheckDisabled", "Health checks disabled")


def is_local(target_id: Any) -> bool:
    """Whether a target id is an address of a local task (127.0.0.0/8)."""
    try:
        return ipaddress.ip_address(str(target_id)) in LOCAL_NETWORK
    except ValueError:
        return False


# --- pure rules -------------------------------------------------------------------------------------------------


def matcher_accepts(matcher: str, status: int) -> bool:
    """Whether an HTTP status is a success for a target group's ``Matcher.HttpCode`` ("200", "200,202", "200-299")."""
    for part in str(matcher or "200").split(","):
        part = part.strip()
        if "-" in part:
            low, _sep, high = part.partition("-")
            if int(low) <= status <= int(high):
                return True
        elif part and int(part) == status:
            return True
    return False


@dataclass
class CheckResult:
    """One health check's outcome: ok, or the unhealthy reason code and description it would give."""

    ok: bool
    reason: str | None = None
    description: str | None = None


def classify(status: int | None, matcher: str, timed_out: bool = False) -> CheckResult:
    """A health check's result from the HTTP status (None: no answer) and whether it timed out."""
    if timed_out:
        return CheckResult(False, "Target.Timeout", "Request timed out")
    if status is None:
        return CheckResult(False, "Target.FailedHealthChecks", "Health checks failed")
    if matcher_accepts(matcher, status):
        return CheckResult(True)
    return CheckResult(False, "Target.ResponseCodeMismatch", "Health checks failed with these codes: [%d]" % status)


@dataclass
class TargetRecord:
    """The data plane's view of one registered local target."""

    target_group_arn: str
    target_id: str
    port: int
    state: tuple[str, str | None, str | None] = INITIAL_REGISTERING
    successes: int = 0
    failures: int = 0
    next_check: float = 0.0
    checking: bool = False
    drain_until: float | None = None


def advance(record: TargetRecord, result: CheckResult, healthy_threshold: int, unhealthy_threshold: int) -> None:
    """Move a (not draining) target through its states after one health check (AWS's rules, module docstring)."""
    name = record.state[0]
    if result.ok:
        record.failures = 0
        record.successes += 1
        if name == "initial" or (name == "unhealthy" and record.successes >= healthy_threshold):
            record.state = HEALTHY
        return
    record.successes = 0
    record.failures += 1
    failed = ("unhealthy", result.reason, result.description)
    if name == "unhealthy" or record.failures >= unhealthy_threshold:
        record.state = failed
    elif name == "initial":
        record.state = INITIAL_CHECKING


def pick_candidates(records: list[TargetRecord]) -> list[TargetRecord]:
    """The targets a request may go to: the healthy ones; when there are none, every registered one that is not
    draining (fail-open); empty when nothing is registered."""
    live = [record for record in records if record.state[0] != "draining"]
    healthy = [record for record in live if record.state[0] == "healthy"]
    return healthy or live


def redirect_location(
    config: dict[str, Any], protocol: str, host: str, port: int, path: str, query: str
) -> tuple[int, str]:
    """(status, Location) of a redirect action for a request (protocol of the listener, Host header without port,
    listener port, path with its leading "/", query without "?")."""
    keywords = {
        "#{protocol}": protocol.upper(),
        "#{host}": host,
        "#{port}": str(port),
        "#{path}": path.lstrip("/"),
        "#{query}": query,
    }

    def fill(value: str) -> str:
        for keyword, replacement in keywords.items():
            value = value.replace(keyword, replacement)
        return value

    scheme = fill(config.get("Protocol") or "#{protocol}").lower()
    location = "%s://%s:%s%s" % (
        scheme,
        fill(config.get("Host") or "#{host}"),
        fill(config.get("Port") or "#{port}"),
        fill(config.get("Path") or "/#{path}"),
    )
    new_query = fill(config.get("Query") if config.get("Query") is not None else "#{query}")
    if new_query:
        location += "?" + new_query
    status = 302 if config.get("StatusCode") == "HTTP_302" else 301
    return status, location


def rule_matches(conditions: list[dict[str, Any]], host: str, path: str) -> bool:
    """Whether a listener rule's conditions match (``path-pattern`` and ``host-header``, case-insensitive host,
    ``*`` and ``?`` wildcards); any other condition does not match locally."""
    for condition in conditions or []:
        field_name = condition.get("Field")
        if field_name == "path-pattern":
            values = (condition.get("PathPatternConfig") or {}).get("Values") or condition.get("Values") or []
            if not any(fnmatch.fnmatchcase(path, pattern) for pattern in values):
                return False
        elif field_name == "host-header":
            values = (condition.get("HostHeaderConfig") or {}).get("Values") or condition.get("Values") or []
            if not any(fnmatch.fnmatchcase(host.lower(), pattern.lower()) for pattern in values):
                return False
        else:
            return False
    return True


def _target_group_arns(action: Any) -> list[tuple[str, int]]:
    data = getattr(action, "data", None) or {}
    if data.get("TargetGroupArn"):
        return [(data["TargetGroupArn"], 1)]
    groups = (data.get("ForwardConfig") or {}).get("TargetGroups") or []
    return [(group["TargetGroupArn"], int(group.get("Weight", 1) or 0)) for group in groups]


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# --- the data plane ---------------------------------------------------------------------------------------------


class _Front:
    """One listener's HTTP server."""

    def __init__(self, plane: "DataPlane", backend: ELBv2Backend, balancer: Any, listener: Any) -> None:
        self.backend = backend
        self.balancer_arn = balancer.arn
        self.balancer_name = balancer.name
        self.dns_name = balancer.dns_name
        self.listener_arn = listener.arn
        self.listener_port = _int(listener.port, 80)
        self.protocol = listener.protocol
        handler = type("FrontHandler", (_FrontHandler,), {"plane": plane, "front": self})
        self.server = ThreadingHTTPServer((FRONT_HOST, 0), handler)
        self.server.daemon_threads = True
        self.address = self.server.server_address[:2]
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="elbv2-front-%s" % self.listener_port,
            daemon=True,
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def describe(self) -> dict[str, Any]:
        return {
            "region": self.backend.region_name,
            "account_id": self.backend.account_id,
            "load_balancer_arn": self.balancer_arn,
            "load_balancer_name": self.balancer_name,
            "dns_name": self.dns_name,
            "listener_arn": self.listener_arn,
            "listener_port": self.listener_port,
            "protocol": self.protocol,
            "address": "%s:%d" % self.address,
            "url": "http://%s:%d" % self.address,
        }


class DataPlane:
    """Fronts, target records and the scheduler thread; one per emulator process (:data:`PLANE`)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.records: dict[tuple[str, str], TargetRecord] = {}
        self.fronts: dict[str, _Front] = {}
        self.backends: dict[tuple[str, str], ELBv2Backend] = {}
        self.round_robin: dict[str, itertools.count] = {}
        self.thread: threading.Thread | None = None
        self.stop_event = threading.Event()
        self.generation = 0

    # state changes (called from the patched moto methods)
    def watch(self, backend: ELBv2Backend) -> None:
        with self.lock:
            self.backends[backend.account_id, backend.region_name] = backend
        self.sync_fronts()
        self.ensure_running()

    def register(self, backend: ELBv2Backend, target_group_arn: str, targets: list[dict[str, Any]]) -> None:
        group = backend.target_groups.get(target_group_arn)
        with self.lock:
            self.backends[backend.account_id, backend.region_name] = backend  # before its records: expire() reads it
            for target in targets:
                if not is_local(target.get("Id")):
                    continue
                key = (target_group_arn, str(target["Id"]))
                record = self.records.get(key)
                if record is not None and record.state[0] != "draining":
                    continue  # registering a registered target changes nothing
                port = _int(target.get("Port") or (group.port if group is not None else None), 80)
                self.records[key] = TargetRecord(target_group_arn, str(target["Id"]), port, next_check=_clock())
        self.watch(backend)

    def deregister(self, backend: ELBv2Backend, target_group_arn: str, targets: list[dict[str, Any]]) -> None:
        group = backend.target_groups.get(target_group_arn)
        delay = _int((group.attributes if group is not None else {}).get("deregistration_delay.timeout_seconds"), 300)
        with self.lock:
            for target in targets:
                record = self.records.get((target_group_arn, str(target.get("Id"))))
                if record is not None and record.state[0] != "draining":
                    record.state = DRAINING
                    record.drain_until = _clock() + delay
        self.watch(backend)

    def shutdown(self) -> None:
        """Close every front, forget every target, stop the scheduler (moto reset)."""
        with self.lock:
            self.stop_event.set()
            thread, self.thread = self.thread, None
            fronts, self.fronts = list(self.fronts.values()), {}
            self.records.clear()
            self.backends.clear()
            self.round_robin.clear()
            self.generation += 1
        for front in fronts:
            front.close()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    # reading
    def group_in_use(self, backend: ELBv2Backend, target_group_arn: str) -> bool:
        try:
            return backend._any_listener_using(target_group_arn)  # pylint: disable=protected-access
        except RuntimeError:  # changed while read; AWS would answer from its last view
            return True

    def health(self, backend: ELBv2Backend, record: TargetRecord) -> tuple[str, str | None, str | None]:
        if record.state[0] == "draining":
            return record.state
        group = backend.target_groups.get(record.target_group_arn)
        if group is not None and not group.health_check_enabled:
            return DISABLED
        if not self.group_in_use(backend, record.target_group_arn):
            return NOT_IN_USE
        return record.state

    def answer(
        self,
        backend: ELBv2Backend,
        target_group_arn: str,
        targets: list[dict[str, Any]],
        answered: list[FakeHealthStatus],
    ) -> list[FakeHealthStatus]:
        """moto's DescribeTargetHealth answer with the local targets' health from the data plane."""
        self.expire()
        group = backend.target_groups.get(target_group_arn)
        health_port = group.health_check_port if group is not None else None
        with self.lock:
            records = {
                target_id: record for (arn, target_id), record in self.records.items() if arn == target_group_arn
            }
        if not records:
            return answered

        def status(record: TargetRecord) -> FakeHealthStatus:
            state, reason, description = self.health(backend, record)
            return FakeHealthStatus(record.target_id, str(record.port), health_port, state, reason, description)

        result = [status(records[entry.instance_id]) if entry.instance_id in records else entry for entry in answered]
        if not targets:
            listed = {entry.instance_id for entry in answered}
            result.extend(
                status(record)
                for target_id, record in records.items()
                if target_id not in listed and record.state[0] == "draining"
            )
        return result

    def candidates(self, backend: ELBv2Backend, target_group_arn: str) -> list[TargetRecord]:
        self.expire()
        group = backend.target_groups.get(target_group_arn)
        if group is None:
            return []
        with self.lock:
            records = [
                self.records[target_group_arn, str(target_id)]
                for target_id in list(group.targets)
                if (target_group_arn, str(target_id)) in self.records
            ]
            records += [
                record
                for (arn, _id), record in self.records.items()
                if arn == target_group_arn and record not in records
            ]
        enabled = group.health_check_enabled
        return records if not enabled else pick_candidates(records)

    def next_target(self, backend: ELBv2Backend, target_group_arn: str) -> TargetRecord | None:
        candidates = [record for record in self.candidates(backend, target_group_arn) if record.state[0] != "draining"]
        if not candidates:
            return None
        with self.lock:
            counter = self.round_robin.setdefault(target_group_arn, itertools.count())
            return candidates[next(counter) % len(candidates)]

    def front_list(self) -> list[dict[str, Any]]:
        self.sync_fronts()
        with self.lock:
            return [front.describe() for front in self.fronts.values()]

    # the scheduler
    def ensure_running(self) -> None:
        with self.lock:
            if self.thread is not None and self.thread.is_alive():
                return
            self.stop_event = threading.Event()
            self.thread = threading.Thread(
                target=self._run, args=(self.stop_event,), name="elbv2-dataplane", daemon=True
            )
            self.thread.start()

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(TICK_SECONDS):
            try:
                self.sync_fronts()
                self.expire()
                self.run_due_checks()
            except Exception:  # pylint: disable=broad-except
                continue  # moto's dicts changed under us: the next tick reads them again
            with self.lock:
                if not self.records and not self.fronts and self.thread is threading.current_thread():
                    self.thread = None
                    return

    def expire(self) -> None:
        """Forget drained targets whose delay is over and targets whose group or backend went (reset, delete)."""
        now = _clock()
        with self.lock:
            live_groups = {arn for backend in self.backends.values() for arn in list(backend.target_groups)}
            for key, record in list(self.records.items()):
                if record.target_group_arn not in live_groups or (
                    record.drain_until is not None and record.drain_until <= now
                ):
                    del self.records[key]

    def sync_fronts(self) -> None:
        """A front for every HTTP/HTTPS listener of every application load balancer; none for listeners that went."""
        wanted: dict[str, tuple[ELBv2Backend, Any, Any]] = {}
        with self.lock:
            backends = list(self.backends.values())
            generation = self.generation
        for backend in backends:
            for balancer in list(backend.load_balancers.values()):
                if balancer.type != "application":
                    continue
                for listener in list(balancer.listeners.values()):
                    if listener.protocol in ("HTTP", "HTTPS"):
                        wanted[listener.arn] = (backend, balancer, listener)
        closing = []
        with self.lock:
            if generation != self.generation:
                return  # a reset came in between: what was read belongs to the old world
            for arn in list(self.fronts):
                if arn not in wanted:
                    closing.append(self.fronts.pop(arn))
            for arn, (backend, balancer, listener) in wanted.items():
                if arn not in self.fronts:
                    self.fronts[arn] = _Front(self, backend, balancer, listener)
        for front in closing:
            front.close()

    def run_due_checks(self) -> None:
        now = _clock()
        due = []
        with self.lock:
            for record in self.records.values():
                if record.checking or record.state[0] == "draining" or record.next_check > now:
                    continue
                backend = self.backends.get(_region_key(record.target_group_arn))
                if backend is None:
                    continue
                group = backend.target_groups.get(record.target_group_arn)
                if (
                    group is None
                    or not group.health_check_enabled
                    or not self.group_in_use(backend, record.target_group_arn)
                ):
                    continue
                record.checking = True
                due.append((record, group))
        for record, group in due:
            threading.Thread(target=self._check, args=(record, group), name="elbv2-health-check", daemon=True).start()

    def _check(self, record: TargetRecord, group: Any) -> None:
        interval = max(_int(group.health_check_interval_seconds, 30), 1)
        timeout = max(_int(group.health_check_timeout_seconds, 5), 1)
        matcher = (group.matcher or {}).get("HttpCode") or "200"
        port = (
            record.port
            if str(group.health_check_port or "traffic-port") == "traffic-port"
            else _int(group.health_check_port, record.port)
        )
        try:
            result = health_check(record.target_id, port, group.health_check_path or "/", timeout, matcher)
        finally:
            with self.lock:
                record.checking = False
                record.next_check = _clock() + interval
        with self.lock:
            if (
                record.state[0] != "draining"
                and self.records.get((record.target_group_arn, record.target_id)) is record
            ):
                advance(
                    record, result, _int(group.healthy_threshold_count, 5), _int(group.unhealthy_threshold_count, 2)
                )


def _region_key(arn: str) -> tuple[str, str]:
    """(account, region) of an ELBv2 ARN."""
    parts = arn.split(":")
    return parts[4], parts[3]


def health_check(host: str, port: int, path: str, timeout: float, matcher: str) -> CheckResult:
    """One HTTP health check: ``GET path`` on host:port, like the load balancer's."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"User-Agent": HEALTH_CHECK_USER_AGENT, "Connection": "close"})
        response = connection.getresponse()
        response.read(65536)
        return classify(response.status, matcher)
    except socket.timeout:
        return classify(None, matcher, timed_out=True)
    except (OSError, http.client.HTTPException):
        return classify(None, matcher)
    finally:
        connection.close()


_ERROR_BODY = "<html>\r\n<head><title>%(code)d %(text)s</title></head>\r\n<body>\r\n<center><h1>%(code)d %(text)s</h1></center>\r\n</body>\r\n</html>\r\n"


class _FrontHandler(BaseHTTPRequestHandler):
    """A listener's request: its rules, then its actions."""

    plane: DataPlane
    front: _Front
    protocol_version = "HTTP/1.0"
    server_version = "awselb/2.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
        return  # the emulator's log is moto's

    def do_GET(self) -> None:  # pylint: disable=invalid-name
        self._handle()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int) -> None:
        text = http.client.responses.get(status, "Error")
        self._send(status, [("Content-Type", "text/html")], (_ERROR_BODY % {"code": status, "text": text}).encode())

    def _listener(self) -> Any:
        balancer = self.front.backend.load_balancers.get(self.front.balancer_arn)
        return balancer.listeners.get(self.front.listener_arn) if balancer is not None else None

    def _handle(self) -> None:
        length = _int(self.headers.get("Content-Length"), 0)
        body = self.rfile.read(length) if length > 0 else b""
        listener = self._listener()
        if listener is None:
            self._error(503)
            return
        protocol, port = (
            listener.protocol,
            _int(listener.port, self.front.listener_port),
        )  # ModifyListener may change them
        path, _sep, query = self.path.partition("?")
        host = (
            (self.headers.get("Host") or FRONT_HOST).rsplit(":", 1)[0]
            if not (self.headers.get("Host") or "").startswith("[")
            else self.headers["Host"]
        )
        actions = listener.default_actions
        for rule in sorted(list(listener._non_default_rules.values()), key=lambda r: _int(r.priority, 50000)):  # pylint: disable=protected-access
            if rule_matches(rule.conditions, host, path):
                actions = rule.actions
                break
        for action in sorted(actions, key=lambda a: _int((a.data or {}).get("Order"), 50000)):
            kind = action.type
            if kind == "redirect":
                status, location = redirect_location(
                    action.data.get("RedirectConfig") or {}, protocol, host, port, path, query
                )
                self._send(
                    status,
                    [("Location", location), ("Content-Type", "text/html")],
                    (_ERROR_BODY % {"code": status, "text": http.client.responses[status]}).encode(),
                )
                return
            if kind == "fixed-response":
                config = action.data.get("FixedResponseConfig") or {}
                self._send(
                    _int(config.get("StatusCode"), 200),
                    [("Content-Type", config.get("ContentType") or "text/plain")],
                    (config.get("MessageBody") or "").encode(),
                )
                return
            if kind == "forward":
                self._forward(action, body, protocol, port)
                return
        self._error(503)

    def _forward(self, action: Any, body: bytes, protocol: str, port: int) -> None:
        groups = [(arn, weight) for arn, weight in _target_group_arns(action) if weight > 0]
        if not groups:
            self._error(503)
            return
        arn = (
            random.choices([arn for arn, _w in groups], weights=[w for _a, w in groups])[0]
            if len(groups) > 1
            else groups[0][0]
        )
        record = self.plane.next_target(self.front.backend, arn)
        if record is None:
            self._error(503)
            return
        headers = [(name, value) for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP]
        client = self.client_address[0]
        forwarded_for = self.headers.get("X-Forwarded-For")
        headers = [
            (n, v) for n, v in headers if n.lower() not in ("x-forwarded-for", "x-forwarded-proto", "x-forwarded-port")
        ]
        headers += [
            ("Host", self.headers.get("Host") or "%s:%d" % self.front.address),
            ("X-Forwarded-For", "%s, %s" % (forwarded_for, client) if forwarded_for else client),
            ("X-Forwarded-Proto", protocol.lower()),
            ("X-Forwarded-Port", str(port)),
            ("X-Amzn-Trace-Id", "Root=1-%08x-%024x" % (int(time.time()), random.getrandbits(96))),
        ]
        if body or self.command in ("POST", "PUT", "PATCH"):
            headers.append(("Content-Length", str(len(body))))
        balancer = self.front.backend.load_balancers.get(self.front.balancer_arn)
        idle = _int((balancer.attrs if balancer is not None else {}).get("idle_timeout.timeout_seconds"), 60)
        connection = http.client.HTTPConnection(record.target_id, record.port, timeout=idle)
        try:
            connection.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            connection.endheaders(body or None)
            response = connection.getresponse()
            payload = response.read()
            answer = [
                (n, v)
                for n, v in response.getheaders()
                if n.lower() not in HOP_BY_HOP and n.lower() not in ("server", "date")
            ]
            self._send(response.status, answer, payload)
        except socket.timeout:
            self._error(504)
        except (OSError, http.client.HTTPException):
            self._error(502)
        finally:
            connection.close()


PLANE = DataPlane()


def front_address(load_balancer_arn: str, listener_port: int) -> tuple[str, int] | None:
    """(host, port) of the local front of a load balancer's listener, or None."""
    PLANE.sync_fronts()
    with PLANE.lock:
        for front in PLANE.fronts.values():
            if front.balancer_arn == load_balancer_arn and front.listener_port == int(listener_port):
                return front.address
    return None


def fronts() -> list[dict[str, Any]]:
    """Every front: region, load balancer (ARN, name, DNS name), listener (ARN, port, protocol), address, url."""
    return PLANE.front_list()


# --- routes on the emulator's port --------------------------------------------------------------------------------

ROUTES: dict[str, Callable[[], Any]] = {"fronts": fronts}


def _dispatch(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO") or ""
        if path.startswith(ROUTE_PREFIX) and path[len(ROUTE_PREFIX) :].strip("/") in ROUTES:
            body = json.dumps(ROUTES[path[len(ROUTE_PREFIX) :].strip("/")](), indent=1, sort_keys=True).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return original(self, environ, start_response)

    return method


# --- the patches ------------------------------------------------------------------------------------------------


def _after(hook: Callable[..., None]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def method(self: ELBv2Backend, *args: Any, **kwargs: Any) -> Any:
            result = original(self, *args, **kwargs)
            hook(self, *args, **kwargs)
            return result

        return method

    return wrap


def _registered(self: ELBv2Backend, target_group_arn: str, instances: list[dict[str, Any]]) -> None:
    PLANE.register(self, target_group_arn, instances)


def _deregistered(self: ELBv2Backend, target_group_arn: str, instances: list[dict[str, Any]]) -> None:
    PLANE.deregister(self, target_group_arn, instances)


def _watch(self: ELBv2Backend, *_args: Any, **_kwargs: Any) -> None:
    PLANE.watch(self)


def _describe_target_health(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: ELBv2Backend, target_group_arn: str, targets: list[dict[str, Any]]) -> list[FakeHealthStatus]:
        answered = original(self, target_group_arn, targets)
        return PLANE.answer(self, target_group_arn, targets, answered)

    return method


def _reset(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        PLANE.shutdown()
        return original(self, *args, **kwargs)

    return method


# Other extensions wrap some of the same methods (elbv2_certificates: delete_listener, delete_load_balancer; any
# extension: moto's reset): the wrappers chain, each wrapping whatever is there, recognised by this extension's own
# mark (patching.MethodPatches).
_PATCHES = MethodPatches(
    (
        (ELBv2Backend, "register_targets", _after(_registered)),
        (ELBv2Backend, "deregister_targets", _after(_deregistered)),
        (ELBv2Backend, "describe_target_health", _describe_target_health),
        (ELBv2Backend, "create_listener", _after(_watch)),
        (ELBv2Backend, "delete_listener", _after(_watch)),
        (ELBv2Backend, "delete_load_balancer", _after(_watch)),
        (ELBv2Backend, "delete_target_group", _after(_watch)),
        (MotoAPIBackend, "reset", _reset),
        (DomainDispatcherApplication, "__call__", _dispatch),
    )
)
apply, applied = _PATCHES.apply, _PATCHES.applied  # apply() is idempotent


def restore() -> None:
    """Close everything and put moto's methods back (for tests; the emulator never calls it). A method that another
    extension wrapped after this one keeps the chain."""
    PLANE.shutdown()
    _PATCHES.restore()
