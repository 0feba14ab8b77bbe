# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""benchmarks/loadgen.py: bounded by count and time, loopback only, counts failures, reports percentiles."""

from __future__ import annotations

import http.server
import importlib.util
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("megapool_loadgen", ROOT / "benchmarks" / "loadgen.py")
loadgen = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = loadgen
_spec.loader.exec_module(loadgen)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.server.paths.append(self.path)
        status = 500 if self.path.startswith("/fail") else 200
        if self.path.startswith("/slow"):
            time.sleep(0.2)
        body = b"ok\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.paths = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _url(httpd, path="/"):
    return "http://127.0.0.1:%d%s" % (httpd.server_address[1], path)


def _refused_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://10.0.0.1:80/", "10.0.0.1 is not in 127.0.0.0/8"),
        ("http://example.com/", "the host must be a loopback IPv4 address"),
        ("https://127.0.0.1/", "only http://"),
        ("http://[::1]:80/", "is not in 127.0.0.0/8"),
    ],
)
def test_only_loopback_http_urls(url, message):
    with pytest.raises(loadgen.LoadError, match=message):
        loadgen.LoadGenerator([url], count=1, duration=1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"count": 0}, "count must be a whole number from 1 to 1000000, got 0"),
        ({"count": 10_000_000}, "count must be"),
        ({"count": True}, "count must be"),
        ({"duration": 0}, "duration must be seconds above 0 and at most 3600, got 0"),
        ({"duration": 7200}, "duration must be"),
        ({"concurrency": 0}, "concurrency must be from 1 to 64"),
        ({"timeout": 0}, "timeout must be"),
    ],
)
def test_caps_are_required_and_bounded(server, kwargs, message):
    arguments = {"count": 10, "duration": 5.0}
    arguments.update(kwargs)
    with pytest.raises(loadgen.LoadError, match=message):
        loadgen.LoadGenerator([_url(server)], **arguments)
    assert server.paths == []  # refused before any request


def test_every_refusal_at_once():
    with pytest.raises(loadgen.LoadError) as raised:
        loadgen.LoadGenerator(["http://192.0.2.1/"], count=0, duration=0)
    assert "192.0.2.1 is not in 127.0.0.0/8" in str(raised.value)
    assert "count must be" in str(raised.value) and "duration must be" in str(raised.value)


def test_stops_at_count(server):
    report = loadgen.LoadGenerator([_url(server, "/health")], count=25, duration=30, concurrency=3).run()
    assert report["requests"] == 25 and len(server.paths) == 25
    assert report["failures"] == 0 and report["outcomes"] == {"ok": 25}
    assert 0 < report["p50_ms"] <= report["p95_ms"] <= report["max_ms"]


def test_stops_at_duration(server):
    started = time.monotonic()
    report = loadgen.LoadGenerator([_url(server, "/slow")], count=100_000, duration=0.5, concurrency=2).run()
    assert time.monotonic() - started < 3
    assert 0 < report["requests"] < 100
    assert report["p50_ms"] >= 200


def test_counts_non_200_and_unanswered_requests_as_failures(server):
    refused = "http://127.0.0.1:%d/" % _refused_port()
    urls = [_url(server, "/"), _url(server, "/fail"), refused]
    report = loadgen.LoadGenerator(urls, count=30, duration=30, concurrency=1).run()
    assert report["requests"] == 30
    assert report["failures"] == 20
    assert report["outcomes"] == {"Connection refused": 10, "HTTP 500": 10, "ok": 10}
    # round robin: each URL gets its share
    assert [part["requests"] for part in report["per_url"].values()] == [10, 10, 10]
    assert report["per_url"][refused]["failures"] == 10
    assert report["first_failures"][0]["outcome"] in ("HTTP 500", "Connection refused")
    assert "30 requests, 20 failed" in loadgen.format_report(report)


def test_runs_in_a_thread_until_stopped(server):
    generator = loadgen.LoadGenerator(
        [_url(server)], count=1_000_000, duration=60, concurrency=2, interval=0.01
    ).start()
    time.sleep(0.5)
    report = generator.stop()
    assert 0 < report["requests"] < 1_000_000
    assert report["failures"] == 0
    settled = len(server.paths)
    time.sleep(0.3)
    assert len(server.paths) == settled  # nothing is sent after stop()


def test_command_line_exit_status(server, capsys):
    assert loadgen.main(["--url", _url(server), "--count", "5", "--duration", "10"]) == 0
    assert "5 requests, 0 failed" in capsys.readouterr().out
    assert loadgen.main(["--url", _url(server, "/fail"), "--count", "3", "--json"]) == 1
    with pytest.raises(SystemExit):
        loadgen.main(["--url", "http://10.1.1.1/", "--count", "3"])
