# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.http_probe against a small HTTP(S) server in a thread, and its pure summary (module_utils.http_probe).

The server counts the requests of each path, so a test can prove what was (or was not) sent.
"""

from __future__ import annotations

import datetime
import errno
import ipaddress
import socket
import ssl
import threading
import urllib.error
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from typing import NamedTuple

import pytest

from ansible_collections.megapool.aws.plugins.module_utils.http_probe import ProbeError
from ansible_collections.megapool.aws.plugins.module_utils.http_probe import answered
from ansible_collections.megapool.aws.plugins.module_utils.http_probe import error_text
from ansible_collections.megapool.aws.plugins.module_utils.http_probe import latency_summary
from ansible_collections.megapool.aws.plugins.module_utils.http_probe import percentile
from ansible_collections.megapool.aws.plugins.module_utils.http_probe import unanswered
from ansible_collections.megapool.aws.plugins.modules import http_probe as module_under_test

SUMMARY_KEYS = {
    "requests",
    "succeeded",
    "failures",
    "success_ratio",
    "p50_ms",
    "p95_ms",
    "max_ms",
    "outcomes",
    "passed",
}


class _Handler(BaseHTTPRequestHandler):
    """/health 200; /flaky 503 on every 4th request; /slow answers only after the test ends; /moved 302 to /health;
    anything else 404."""

    counts: dict[str, int] = {}
    hosts: list[str] = []  # the Host header of each request
    release = threading.Event()

    def do_GET(self) -> None:  # noqa: N802  (http.server's name)
        count = self.counts[self.path] = self.counts.get(self.path, 0) + 1
        self.hosts.append(self.headers.get("Host", ""))
        if self.path == "/slow":
            self.release.wait(10)
            return  # the client gave up long ago: close without an answer
        headers = {}
        if self.path == "/health" or (self.path == "/flaky" and count % 4):
            status, body = 200, b"ok"
        elif self.path == "/flaky":
            status, body = 503, b"busy"
        elif self.path == "/moved":
            status, body, headers = 302, b"", {"Location": "/health"}
        else:
            status, body = 404, b"no"
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:  # pylint: disable=redefined-builtin
        return


class Server(NamedTuple):
    url: str
    counts: dict[str, int]
    hosts: list[str] = []
    server_names: list[str | None] = []  # the TLS SNI of each handshake


def _serve(httpd: ThreadingHTTPServer, scheme: str, server_names: list[str | None] | None = None) -> Iterator[Server]:
    _Handler.counts = {}
    _Handler.hosts = []
    _Handler.release = threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Server(
            "%s://127.0.0.1:%d" % (scheme, httpd.server_address[1]),
            _Handler.counts,
            _Handler.hosts,
            server_names if server_names is not None else [],
        )
    finally:
        _Handler.release.set()
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    yield from _serve(ThreadingHTTPServer(("127.0.0.1", 0), _Handler), "http")


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A throw-away certificate for 127.0.0.1 that no CA signed."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


APP_NAME = "app.example.test"


def _ca_signed(directory: Path, name: str) -> tuple[Path, Path, Path]:
    """A throw-away CA (ca.pem) and a certificate for ``name`` only (DNS SAN) that it signed: (ca, cert, key)."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "megapool test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = directory / "ca.pem", directory / "app.pem", directory / "app-key.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_path, cert_path, key_path


class AppServer(NamedTuple):
    server: Server
    ca_path: Path


@pytest.fixture
def app_tls_server(tmp_path) -> Iterator[AppServer]:
    """HTTPS on 127.0.0.1 with a certificate for app.example.test only, from a CA the test makes (like an ALB: reached
    at an address, its certificate names the site). Records the SNI of every handshake."""
    ca_path, cert_path, key_path = _ca_signed(tmp_path, APP_NAME)
    server_names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    context.sni_callback = lambda _sock, name, _ctx: server_names.append(name)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    for server in _serve(httpd, "https", server_names):
        yield AppServer(server, ca_path)


@pytest.fixture
def tls_server(tmp_path) -> Iterator[Server]:
    cert_path, key_path = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    yield from _serve(httpd, "https")


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The module's pauses between requests, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(module_under_test, "_sleep", recorded.append)
    return recorded


def _probe(run_module, check_mode: bool = False, **args) -> dict:
    return run_module(module_under_test.main, args, check_mode=check_mode)


# ---------------------------------------------------------------------------------------------- the module


def test_healthy_endpoint(run_module, server, sleeps):
    result = _probe(run_module, url=server.url + "/health", requests=5)
    assert result["changed"] is False and "failed" not in result
    assert result["url"] == server.url + "/health"
    assert server.counts == {"/health": 5}
    assert [(s["ok"], s["status"], s["error"]) for s in result["samples"]] == [(True, 200, None)] * 5
    assert all(isinstance(s["seconds"], float) and s["seconds"] >= 0 for s in result["samples"])
    assert SUMMARY_KEYS <= set(result)
    assert (result["requests"], result["succeeded"], result["failures"], result["success_ratio"]) == (5, 5, 0, 1.0)
    assert result["outcomes"] == {"ok": 5}
    assert result["passed"] is True
    assert result["p50_ms"] is not None and result["p50_ms"] <= result["p95_ms"] <= result["max_ms"]
    assert sleeps == []  # interval 0: no pause


def test_default_is_twenty_requests(run_module, server, sleeps):  # pylint: disable=unused-argument
    result = _probe(run_module, url=server.url + "/health")
    assert result["requests"] == 20 and server.counts == {"/health": 20}


def test_flaky_endpoint_is_measured_not_failed(run_module, server, sleeps):  # pylint: disable=unused-argument
    result = _probe(run_module, url=server.url + "/flaky", requests=8)
    assert "failed" not in result  # a down endpoint is a measurement, not a module failure
    assert [s["status"] for s in result["samples"]] == [200, 200, 200, 503, 200, 200, 200, 503]
    assert [s["ok"] for s in result["samples"]] == [True, True, True, False] * 2
    assert all(s["seconds"] is not None for s in result["samples"])  # an HTTP error is an answer: it has a latency
    assert result["outcomes"] == {"HTTP 503": 2, "ok": 6}
    assert (result["succeeded"], result["failures"], result["success_ratio"], result["passed"]) == (6, 2, 0.75, False)
    assert _probe(run_module, url=server.url + "/flaky", requests=4, min_success_ratio=0.75)["passed"] is True


def test_connection_refused(run_module, closed_port, sleeps):  # pylint: disable=unused-argument
    result = _probe(run_module, url="http://127.0.0.1:%d/health" % closed_port, requests=3, timeout=2)
    assert "failed" not in result
    assert result["samples"] == [{"ok": False, "status": None, "seconds": None, "error": "Connection refused"}] * 3
    assert result["outcomes"] == {"Connection refused": 3}
    assert (result["success_ratio"], result["p50_ms"], result["p95_ms"], result["max_ms"]) == (0.0, None, None, None)
    assert result["passed"] is False


def test_timeout(run_module, server, sleeps):  # pylint: disable=unused-argument
    result = _probe(run_module, url=server.url + "/slow", requests=2, timeout=0.2)
    assert server.counts == {"/slow": 2}
    assert result["samples"] == [{"ok": False, "status": None, "seconds": None, "error": "timed out"}] * 2
    assert result["outcomes"] == {"timed out": 2}


def test_redirect_is_followed_and_the_final_status_counts(run_module, server, sleeps):  # pylint: disable=unused-argument
    result = _probe(run_module, url=server.url + "/moved", requests=2)
    assert server.counts == {"/moved": 2, "/health": 2}
    assert [(s["ok"], s["status"]) for s in result["samples"]] == [(True, 200)] * 2


def test_status_codes_decide_what_succeeds(run_module, server, sleeps):  # pylint: disable=unused-argument
    gone = _probe(run_module, url=server.url + "/gone", requests=2, status_codes=[404, 410])
    assert [(s["ok"], s["status"]) for s in gone["samples"]] == [(True, 404)] * 2 and gone["passed"] is True
    healthy = _probe(run_module, url=server.url + "/health", requests=2, status_codes=[204])
    assert healthy["outcomes"] == {"HTTP 200": 2} and healthy["passed"] is False


def test_interval_pauses_between_requests_only(run_module, server, sleeps):
    _probe(run_module, url=server.url + "/health", requests=3, interval=0.25)
    assert sleeps == [0.25, 0.25]
    assert server.counts == {"/health": 3}


def test_check_mode_probes_too(run_module, server, sleeps):  # pylint: disable=unused-argument
    result = _probe(run_module, check_mode=True, url=server.url + "/health", requests=2)
    assert result["changed"] is False and result["succeeded"] == 2
    assert server.counts == {"/health": 2}


def test_certificate_is_checked_unless_validate_certs_is_false(run_module, tls_server, sleeps):  # pylint: disable=unused-argument
    checked = _probe(run_module, url=tls_server.url + "/health", requests=1)
    assert checked["samples"][0]["ok"] is False and checked["samples"][0]["status"] is None
    assert checked["samples"][0]["error"].startswith("certificate verify failed")
    unchecked = _probe(run_module, url=tls_server.url + "/health", requests=1, validate_certs=False)
    assert [(s["ok"], s["status"]) for s in unchecked["samples"]] == [(True, 200)]


def test_a_certificate_for_the_site_fails_at_the_address_without_server_name(run_module, app_tls_server, sleeps):  # pylint: disable=unused-argument
    """What verify.yml did on AWS: https://<ALB DNS name>/health with validation on, the certificate names the site."""
    server = app_tls_server.server
    result = _probe(run_module, url=server.url + "/health", requests=2, ca_path=str(app_tls_server.ca_path))
    assert [(s["ok"], s["status"]) for s in result["samples"]] == [(False, None)] * 2
    assert result["samples"][0]["error"].startswith("certificate verify failed"), result["samples"][0]
    assert "127.0.0.1" in result["samples"][0]["error"]  # the name checked: the address, not on the certificate
    assert result["passed"] is False and server.counts == {}
    assert result["server_name"] is None


def test_server_name_connects_to_the_address_and_presents_the_site(run_module, app_tls_server, sleeps):  # pylint: disable=unused-argument
    server = app_tls_server.server
    result = _probe(
        run_module,
        url=server.url + "/health",
        requests=3,
        ca_path=str(app_tls_server.ca_path),
        server_name="App.Example.Test.",
    )
    assert [(s["ok"], s["status"], s["error"]) for s in result["samples"]] == [(True, 200, None)] * 3, result["samples"]
    assert result["passed"] is True
    assert result["url"] == server.url + "/health" and result["server_name"] == APP_NAME
    port = server.url.rsplit(":", 1)[1]
    assert server.hosts == ["%s:%s" % (APP_NAME, port)] * 3  # the Host header the listener rules and the app see
    assert set(server.server_names) == {APP_NAME}  # the SNI the server picks its certificate by


def test_server_name_follows_a_redirect_to_the_same_address(run_module, app_tls_server, sleeps):  # pylint: disable=unused-argument
    server = app_tls_server.server
    result = _probe(
        run_module, url=server.url + "/moved", requests=1, ca_path=str(app_tls_server.ca_path), server_name=APP_NAME
    )
    assert [(s["ok"], s["status"]) for s in result["samples"]] == [(True, 200)]
    assert server.counts == {"/moved": 1, "/health": 1}


def test_server_name_is_only_for_the_probe(run_module, app_tls_server, sleeps):  # pylint: disable=unused-argument
    """The name resolves to the address only while the module probes."""
    original = socket.getaddrinfo
    _probe(
        run_module,
        url=app_tls_server.server.url + "/health",
        requests=1,
        ca_path=str(app_tls_server.ca_path),
        server_name=APP_NAME,
    )
    assert socket.getaddrinfo is original


def test_a_wrong_server_name_fails_the_certificate_check(run_module, app_tls_server, sleeps):  # pylint: disable=unused-argument
    server = app_tls_server.server
    result = _probe(
        run_module,
        url=server.url + "/health",
        requests=1,
        ca_path=str(app_tls_server.ca_path),
        server_name="www.example.test",
    )
    assert result["samples"][0]["error"].startswith("certificate verify failed"), result["samples"][0]
    assert "www.example.test" in result["samples"][0]["error"]


@pytest.mark.parametrize(
    "args, message",
    [
        ({"server_name": "https://app.example.test"}, "server_name='https://app.example.test' is not a DNS name"),
        ({"server_name": "app.example.test:443"}, "server_name='app.example.test:443' is not a DNS name"),
        ({"url": "ftp://127.0.0.1/health"}, "url='ftp://127.0.0.1/health' is not an http:// or https:// URL"),
        ({"url": "shop.example.com/health"}, "url='shop.example.com/health' is not an http:// or https:// URL"),
        ({"requests": 0}, "requests=0 must be 1 or more"),
        ({"timeout": 0}, "timeout=0.0 must be above 0"),
        ({"interval": -1}, "interval=-1.0 must be 0 or more"),
        ({"min_success_ratio": 1.5}, "min_success_ratio=1.5 must be within 0-1"),
        ({"status_codes": [200, 700]}, "status_codes=[200, 700] holds 700: HTTP status codes are 100-599"),
    ],
)
def test_bad_options_fail_before_any_request(run_module, server, sleeps, args, message):  # pylint: disable=unused-argument
    result = _probe(run_module, **dict({"url": server.url + "/health", "requests": 2}, **args))
    assert result["failed"] is True
    assert message in result["msg"]
    assert server.counts == {}


def test_every_bad_option_is_named_at_once(run_module, server):
    result = _probe(run_module, url=server.url + "/health", requests=0, timeout=-1)
    assert "requests=0 must be 1 or more" in result["msg"] and "timeout=-1.0 must be above 0" in result["msg"]
    assert server.counts == {}


# ---------------------------------------------------------------------------------------------- the pure summary


def _ok(seconds: float) -> dict:
    return answered(200, seconds)


@pytest.mark.parametrize(
    "values, share, expected",
    [
        ([], 50, None),
        ([5.0], 95, 5.0),
        ([1, 2, 3, 4], 50, 2),
        ([1, 2, 3, 4], 95, 4),
        (list(range(1, 101)), 95, 95),
        ([3, 1, 2], 100, 3),
    ],
)
def test_percentile_is_nearest_rank(values, share, expected):
    assert percentile(values, share) == expected


def test_all_healthy_passes():
    summary = latency_summary([_ok(0.010 * i) for i in range(1, 21)])
    assert summary["requests"] == 20 and summary["succeeded"] == 20 and summary["failures"] == 0
    assert summary["success_ratio"] == 1.0
    assert (summary["p50_ms"], summary["p95_ms"], summary["max_ms"]) == (100.0, 190.0, 200.0)
    assert summary["outcomes"] == {"ok": 20}
    assert summary["passed"] is True


def test_flaky_counts_answered_failures_in_latency_and_fails_the_threshold():
    samples = [_ok(0.01)] * 15 + [answered(503, 0.5)] * 5
    summary = latency_summary(samples, 0.99)
    assert summary["success_ratio"] == 0.75
    assert summary["outcomes"] == {"HTTP 503": 5, "ok": 15}
    assert summary["max_ms"] == 500.0
    assert summary["passed"] is False
    assert latency_summary(samples, 0.75)["passed"] is True


def test_down_has_no_latency():
    summary = latency_summary([unanswered("Connection refused")] * 3)
    assert summary["success_ratio"] == 0.0
    assert (summary["p50_ms"], summary["p95_ms"], summary["max_ms"]) == (None, None, None)
    assert summary["outcomes"] == {"Connection refused": 3}
    assert summary["passed"] is False


def test_no_samples_is_an_error():
    with pytest.raises(ProbeError, match="no samples"):
        latency_summary([])


def test_expected_status():
    assert answered(204, 0.1)["ok"] is True
    assert answered(301, 0.1)["ok"] is False
    assert answered(301, 0.1, [301])["ok"] is True and answered(200, 0.1, [301])["ok"] is False


@pytest.mark.parametrize(
    "exc, text",
    [
        (urllib.error.URLError(ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")), "Connection refused"),
        (urllib.error.URLError(socket.timeout("timed out")), "timed out"),
        (TimeoutError("timed out"), "timed out"),
        (urllib.error.URLError(socket.gaierror(-2, "Name or service not known")), "Name or service not known"),
        (urllib.error.URLError("unknown url type: ftp"), "unknown url type: ftp"),
        (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), "Connection reset by peer"),
        (ValueError(""), "ValueError"),
    ],
)
def test_error_text_is_short_and_stable(exc, text):
    assert error_text(exc) == text
