#!/usr/bin/env python
# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A counting HTTP proxy in front of the local AWS emulator (stdlib only).

    python benchmarks/awsproxy.py --upstream http://127.0.0.1:5200 [--port 5201] [--latency-ms 50]

Point the AWS clients at the proxy (endpoint_url, e.g. MEGAPOOL_EMULATOR_PORT=<proxy port>). Every request
is forwarded unchanged (method, path, headers, body) to the upstream, optionally after a fixed delay, and
counted as one AWS call keyed by service, region (both from the SigV4 credential scope), action and whether
it mutates. Requests to /moto-api/ are forwarded but not counted. The counters are served on the proxy:

    GET  /_proxy/stats   -> JSON {"calls", "mutating", "errors", "upstream_s", "actions": [...]}
    POST /_proxy/reset   -> zero the counters

As a module: `with Proxy(upstream) as proxy: ...; proxy.stats(); proxy.reset()`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import signal
import sys
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple

READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Head", "Search", "Lookup", "Query", "Scan", "BatchGet")
# Hop-by-hop headers are the proxy's own business; the body is re-sent with an exact Content-Length.
NOT_FORWARDED = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    )
)
# REST reads sent as POST (a body too long for a query string): the botocore service models' requestUri of each.
# Route 53 ListTagsForResources is POST /2013-04-01/tags/{ResourceType} (ChangeTagsForResource, the write, has the
# resource id after it: POST /2013-04-01/tags/{ResourceType}/{ResourceId}).
REST_POST_READS = ((re.compile(r"^/2013-04-01/tags/(healthcheck|hostedzone)$"), "ListTagsForResources"),)
CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")
UPSTREAM_TIMEOUT = 300.0


class Call(NamedTuple):
    """What one request to AWS was."""

    service: str
    region: str
    action: str
    mutating: bool


@dataclass
class _Tally:
    calls: int = 0
    errors: int = 0
    upstream_s: float = 0.0


def classify(method: str, path: str, headers: dict[str, str], body: bytes) -> Call:
    """Name an AWS request: service and region from SigV4, action from the protocol (query, JSON or REST)."""
    url = urllib.parse.urlsplit(path)
    query = urllib.parse.parse_qs(url.query)
    scope = CREDENTIAL_SCOPE.search(headers.get("authorization", ""))
    if scope is None and "X-Amz-Credential" in query:  # presigned URL
        scope = CREDENTIAL_SCOPE.search("Credential=" + query["X-Amz-Credential"][0])
    region, service = scope.groups() if scope else ("unknown", "unknown")

    action = ""
    if "x-amz-target" in headers:  # JSON protocol: "Service_20150101.DoThing" or "service.DoThing"
        action = headers["x-amz-target"].rsplit(".", 1)[-1]
    elif "Action" in query:  # query protocol in the query string
        action = query["Action"][0]
    elif headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):  # query protocol in the body
        action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
    if not action and method == "POST":
        action = next((name for pattern, name in REST_POST_READS if pattern.match(url.path)), "")
    if not action:  # REST protocols: the method and path are the action
        action = "%s %s" % (method, url.path)

    read_only = method in ("GET", "HEAD") or action.startswith(READ_ONLY_PREFIXES)
    return Call(service, region, action, not read_only)


class Proxy:
    """A threaded HTTP proxy that forwards to `upstream` and counts the AWS calls it sees."""

    def __init__(self, upstream: str, port: int = 0, host: str = "127.0.0.1", latency_ms: float = 0.0) -> None:
        target = urllib.parse.urlsplit(upstream)
        if target.scheme != "http" or not target.hostname:
            raise ValueError("upstream must be an http://host:port URL, got %r" % upstream)
        self.upstream = (target.hostname, target.port or 80)
        self.latency_s = latency_ms / 1000.0
        self._lock = threading.Lock()
        self._tallies: dict[Call, _Tally] = {}
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return "http://%s:%d" % self._server.server_address[:2]

    def start(self) -> Proxy:
        self._thread = threading.Thread(target=self._server.serve_forever, name="awsproxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Proxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def record(self, call: Call, status: int, seconds: float) -> None:
        with self._lock:
            tally = self._tallies.setdefault(call, _Tally())
            tally.calls += 1
            tally.errors += status >= 400
            tally.upstream_s += seconds

    def reset(self) -> None:
        with self._lock:
            self._tallies.clear()

    def stats(self) -> dict:
        """Totals and one entry per (service, region, action), most called first."""
        with self._lock:
            rows = [dict(call._asdict(), **asdict(tally)) for call, tally in self._tallies.items()]
        rows.sort(key=lambda row: (-row["calls"], row["service"], row["region"], row["action"]))
        return {
            "calls": sum(row["calls"] for row in rows),
            "mutating": sum(row["calls"] for row in rows if row["mutating"]),
            "errors": sum(row["errors"] for row in rows),
            "upstream_s": round(sum(row["upstream_s"] for row in rows), 3),
            "actions": [dict(row, upstream_s=round(row["upstream_s"], 3)) for row in rows],
        }


def _handler_for(proxy: Proxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the AWS SDKs expect

        def _any(self) -> None:
            body = self._read_body()
            if self.path.startswith("/_proxy/"):
                self._control()
                return
            counted = not self.path.startswith("/moto-api/")
            if counted and proxy.latency_s:
                time.sleep(proxy.latency_s)
            started = time.monotonic()
            status, headers, payload = self._forward(body)
            if counted:
                lowered = {name.lower(): value for name, value in self.headers.items()}
                proxy.record(classify(self.command, self.path, lowered, body), status, time.monotonic() - started)
            self._reply(status, headers, payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _any

        def _read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0], 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
            connection = http.client.HTTPConnection(*proxy.upstream, timeout=UPSTREAM_TIMEOUT)
            try:
                connection.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    if name.lower() not in NOT_FORWARDED:
                        connection.putheader(name, value)
                if body or "Content-Length" in self.headers or "Transfer-Encoding" in self.headers:
                    connection.putheader("Content-Length", str(len(body)))
                connection.endheaders(body)
                response = connection.getresponse()
                return response.status, response.getheaders(), response.read()
            except OSError as error:
                return 502, [("Content-Type", "text/plain")], ("awsproxy: upstream failed: %s\n" % error).encode()
            finally:
                connection.close()

        def _reply(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in NOT_FORWARDED:
                    self.send_header(name, value)
            if self.command == "HEAD":  # no body, but keep the length the upstream announced
                length = next((value for name, value in headers if name.lower() == "content-length"), "0")
                self.send_header("Content-Length", length)
            elif status not in (204, 304):
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD" and status not in (204, 304):
                self.wfile.write(payload)

        def _control(self) -> None:
            if (self.command, self.path) == ("GET", "/_proxy/stats"):
                payload = json.dumps(proxy.stats(), indent=1).encode()
            elif (self.command, self.path) == ("POST", "/_proxy/reset"):
                proxy.reset()
                payload = b'{"reset": true}'
            else:
                self._reply(
                    404, [("Content-Type", "text/plain")], b"awsproxy: GET /_proxy/stats or POST /_proxy/reset\n"
                )
                return
            self._reply(200, [("Content-Type", "application/json")], payload)

        def log_message(self, format: str, *args: object) -> None:  # pylint: disable=redefined-builtin
            pass  # quiet: the counters are the log

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upstream", default="http://127.0.0.1:5000", help="the emulator (default %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay added to every counted call")
    args = parser.parse_args(argv)
    proxy = Proxy(args.upstream, port=args.port, latency_ms=args.latency_ms).start()
    print(
        "awsproxy on %s -> %s (latency %g ms); stats: %s/_proxy/stats"
        % (proxy.url, args.upstream, args.latency_ms, proxy.url),
        flush=True,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    proxy.stop()
    stats = proxy.stats()
    print("%d calls, %d mutating, %d errors" % (stats["calls"], stats["mutating"], stats["errors"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
