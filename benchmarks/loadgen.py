# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A bounded load generator for the local fronts (docs/demo.md, "Load during a deploy").

Sends GET requests to one or more URLs (round robin, ``concurrency`` workers, a new connection per request, like
users behind the ALB) until ``count`` requests were sent or ``duration`` seconds passed, whichever comes first,
or :meth:`LoadGenerator.stop` is called. Both caps are required to be finite and are bounded (``MAX_COUNT``,
``MAX_DURATION``), and only addresses in 127.0.0.0/8 are accepted: it is a tool for the local emulator's fronts,
not for anything on a network.

A request fails when it gets no answer (refused, reset, timed out) or an answer other than 200. The report: requests,
failures, p50/p95/max latency (nearest rank, of the answered requests) and the count of each outcome, overall and per
URL, with the first failures (time since the start, URL, outcome) — the same summary as ``megapool.aws.http_probe``
(``plugins/module_utils/http_probe.py``, whose pure functions it uses).

    python benchmarks/loadgen.py --url http://127.1.0.2:4000/ --url http://127.1.0.3:4000/ --count 2000 --duration 60

Importable: ``LoadGenerator(urls, count=..., duration=...).start()`` runs it in a thread, ``.stop()`` ends it and
returns the report (a test runs it during a deploy).
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import ipaddress
import json
import os
import sys
import threading
import time
from typing import Any
from typing import Sequence
from urllib.parse import urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_COUNT = 1_000_000
MAX_DURATION = 3600.0
MAX_CONCURRENCY = 64
FAILURES_KEPT = 20


def _http_probe() -> Any:
    """plugins/module_utils/http_probe.py (pure: no Ansible import), loaded from the checkout."""
    path = os.path.join(ROOT, "plugins", "module_utils", "http_probe.py")
    spec = importlib.util.spec_from_file_location("megapool_http_probe", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


probe = _http_probe()


class LoadError(ValueError):
    """Arguments the load generator refuses; the message names the argument and the fix."""


def check_target(url: str) -> tuple[str, int, str]:
    """``(host, port, path)`` of an ``http://`` URL whose host is an IPv4 address in 127.0.0.0/8."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise LoadError("url %r: only http://<127.x.y.z>:<port>/<path> URLs (the local fronts)" % url)
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        raise LoadError("url %r: the host must be a loopback IPv4 address (127.0.0.0/8), not a name" % url) from None
    if address.version != 4 or address not in ipaddress.ip_network("127.0.0.0/8"):
        raise LoadError("url %r: %s is not in 127.0.0.0/8; the load generator only loads local fronts" % (url, address))
    try:
        port = parts.port or 80
    except ValueError as exc:
        raise LoadError("url %r: %s" % (url, exc)) from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return str(address), port, path


def check_arguments(
    urls: Sequence[str], count: int, duration: float, concurrency: int, timeout: float
) -> list[tuple[str, int, str]]:
    """Every refusal at once, before any request."""
    errors = []
    targets = []
    if not urls:
        errors.append("urls: give at least one URL")
    for url in urls:
        try:
            targets.append(check_target(url))
        except LoadError as exc:
            errors.append(str(exc))
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_COUNT:
        errors.append("count must be a whole number from 1 to %d, got %r" % (MAX_COUNT, count))
    if not isinstance(duration, (int, float)) or isinstance(duration, bool) or not 0 < duration <= MAX_DURATION:
        errors.append("duration must be seconds above 0 and at most %d, got %r" % (MAX_DURATION, duration))
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or not 1 <= concurrency <= MAX_CONCURRENCY:
        errors.append("concurrency must be from 1 to %d, got %r" % (MAX_CONCURRENCY, concurrency))
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 0 < timeout <= 60:
        errors.append("timeout must be seconds above 0 and at most 60, got %r" % (timeout,))
    if errors:
        raise LoadError("; ".join(errors))
    return targets


def request_once(target: tuple[str, int, str], timeout: float) -> dict[str, Any]:
    """One GET (a new connection, ``Connection: close``); the sample as ``http_probe`` records it (200 only is ok)."""
    host, port, path = target
    started = time.monotonic()
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Connection": "close", "User-Agent": "megapool-loadgen"})
        response = connection.getresponse()
        response.read()
        return probe.answered(response.status, time.monotonic() - started, (200,))
    except (OSError, http.client.HTTPException) as exc:
        return probe.unanswered(probe.error_text(exc) if isinstance(exc, OSError) else type(exc).__name__)
    finally:
        connection.close()


class LoadGenerator:
    """``count`` GETs over ``urls`` (round robin) within ``duration`` seconds, ``concurrency`` at a time."""

    def __init__(
        self,
        urls: Sequence[str],
        count: int = 1000,
        duration: float = 60.0,
        concurrency: int = 4,
        timeout: float = 5.0,
        interval: float = 0.0,
    ) -> None:
        self.urls = list(urls)
        self.targets = check_arguments(self.urls, count, duration, concurrency, timeout)
        if not isinstance(interval, (int, float)) or not 0 <= interval <= 10:
            raise LoadError("interval must be seconds from 0 to 10 between a worker's requests, got %r" % (interval,))
        self.count = count
        self.duration = float(duration)
        self.concurrency = concurrency
        self.timeout = float(timeout)
        self.interval = float(interval)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sent = 0
        self._samples: list[tuple[float, int, dict[str, Any]]] = []
        self._thread: threading.Thread | None = None
        self._started = 0.0
        self._elapsed = 0.0

    def _next(self) -> int | None:
        with self._lock:
            if self._stop.is_set() or self._sent >= self.count or time.monotonic() - self._started >= self.duration:
                return None
            index = self._sent
            self._sent += 1
            return index

    def _worker(self) -> None:
        while True:
            index = self._next()
            if index is None:
                return
            which = index % len(self.targets)
            sample = request_once(self.targets[which], self.timeout)
            with self._lock:
                self._samples.append((time.monotonic() - self._started, which, sample))
            if self.interval:
                self._stop.wait(self.interval)

    def run(self) -> dict[str, Any]:
        """Send the load, wait until done; the report."""
        self._started = time.monotonic()
        workers = [threading.Thread(target=self._worker, daemon=True) for _number in range(self.concurrency)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        self._elapsed = time.monotonic() - self._started
        return self.report()

    def start(self) -> "LoadGenerator":
        """Run in a background thread (see :meth:`stop`)."""
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> dict[str, Any]:
        """End the load (requests in flight finish, within ``timeout``) and return the report."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.timeout + 5)
        return self.report()

    def report(self) -> dict[str, Any]:
        with self._lock:
            samples = sorted(self._samples, key=lambda item: item[0])
        result: dict[str, Any] = {"urls": self.urls, "seconds": round(self._elapsed, 3)}
        if not samples:
            result.update(
                {"requests": 0, "failures": 0, "p50_ms": None, "p95_ms": None, "max_ms": None, "outcomes": {}}
            )
        else:
            summary = probe.latency_summary([sample for _at, _index, sample in samples], 1.0)
            result.update(
                {key: summary[key] for key in ("requests", "failures", "p50_ms", "p95_ms", "max_ms", "outcomes")}
            )
        result["per_url"] = {}
        for which, url in enumerate(self.urls):
            mine = [sample for _at, index, sample in samples if index == which]
            if mine:
                summary = probe.latency_summary(mine, 1.0)
                result["per_url"][url] = {
                    key: summary[key] for key in ("requests", "failures", "p50_ms", "p95_ms", "max_ms", "outcomes")
                }
            else:
                result["per_url"][url] = {"requests": 0, "failures": 0}
        result["first_failures"] = [
            {"at_s": round(at, 3), "url": self.urls[index], "outcome": probe.outcome(sample)}
            for at, index, sample in samples
            if not sample["ok"]
        ][:FAILURES_KEPT]
        return result


def format_report(report: dict[str, Any]) -> str:
    lines = [
        "%d requests, %d failed in %.1f s; p50 %s ms, p95 %s ms, max %s ms; %s"
        % (
            report["requests"],
            report["failures"],
            report["seconds"],
            report["p50_ms"],
            report["p95_ms"],
            report["max_ms"],
            ", ".join("%s=%d" % item for item in report["outcomes"].items()) or "no requests",
        )
    ]
    for url, part in report["per_url"].items():
        lines.append("  %s: %d requests, %d failed" % (url, part["requests"], part["failures"]))
    for failure in report["first_failures"]:
        lines.append("  failure at %.3f s: %s %s" % (failure["at_s"], failure["url"], failure["outcome"]))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--url", action="append", required=True, help="http://127.x.y.z:port/path (repeat for more)")
    parser.add_argument("--count", type=int, default=1000, help="at most this many requests (default 1000)")
    parser.add_argument("--duration", type=float, default=60.0, help="at most this many seconds (default 60)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per request (default 5)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        generator = LoadGenerator(
            args.url, count=args.count, duration=args.duration, concurrency=args.concurrency, timeout=args.timeout
        )
    except LoadError as exc:
        parser.error(str(exc))
    report = generator.run()
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
