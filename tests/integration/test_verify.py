# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/verify.yml (module megapool.aws.http_probe) against a small HTTP server started by the test: healthy,
flaky and down endpoints, check mode, bad input.

No AWS call is made: each region host has its own verify_url (the load balancer is only read without one).
"""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from conftest import run_playbook


def flat(output: str) -> str:
    return " ".join(output.split())


class _Handler(BaseHTTPRequestHandler):
    """/health answers 200; /flaky answers 503 to every 4th request (per path); anything else 404."""

    counts: dict[str, int] = {}

    def do_GET(self) -> None:  # noqa: N802  (http.server's name)
        count = self.counts[self.path] = self.counts.get(self.path, 0) + 1
        if self.path == "/health" or (self.path == "/flaky" and count % 4):
            status, body = 200, b"ok"
        elif self.path == "/flaky":
            status, body = 503, b"busy"
        else:
            status, body = 404, b"no"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:  # pylint: disable=redefined-builtin
        return


@pytest.fixture(scope="module")
def server():
    _Handler.counts = {}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _inventory(tmp_path: Path, urls: dict[str, str], **group_vars) -> Path:
    path = tmp_path / "hosts.yml"
    hosts = {region: {"verify_url": url} if url else {} for region, url in urls.items()}
    path.write_text(
        yaml.safe_dump(
            {
                "regions": {
                    "vars": dict(
                        {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                            "megapool_aws": {"region": "{{ inventory_hostname }}"},
                        },
                        **group_vars,
                    ),
                    "hosts": hosts,
                }
            }
        )
    )
    return path


APP_NAME = "app.example.test"


@pytest.fixture(scope="module")
def app_tls_server(tmp_path_factory):
    """HTTPS on 127.0.0.1 whose certificate names app.example.test only (like an ALB reached by its AWS DNS name),
    from a CA the test makes; yields (https://127.0.0.1:<port>, the CA file)."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel

    directory = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
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
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, APP_NAME)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(APP_NAME)]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "https://127.0.0.1:%d" % httpd.server_address[1], str(directory / "ca.pem")
    httpd.shutdown()
    httpd.server_close()


def test_healthy_endpoint_passes_with_latency_percentiles(server, tmp_path):
    result = run_playbook(
        "verify.yml", _inventory(tmp_path, {"eu-north-1": server + "/health"}), "-e", "verify_requests=20"
    )
    output = flat(result.stdout + result.stderr)
    assert result.returncode == 0, output[-3000:]
    assert "eu-north-1: 20/20 ok (100.0 %, threshold 99.0 %)" in output
    assert "p50 " in output and " ms, p95 " in output and " ms, max " in output
    assert "outcomes ok=20," in output


def test_flaky_endpoint_fails_under_the_threshold(server, tmp_path):
    _Handler.counts.pop("/flaky", None)
    result = run_playbook(
        "verify.yml", _inventory(tmp_path, {"eu-north-1": server + "/flaky"}), "-e", "verify_requests=20"
    )
    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0
    assert "eu-north-1: 15/20 ok (75.0 %" in output
    assert "success ratio 0.75 is under verify_min_success_ratio=0.99" in output
    assert "HTTP 503=5, ok=15 of 20 requests" in output


def test_flaky_endpoint_passes_a_lower_threshold(server, tmp_path):
    _Handler.counts.pop("/flaky", None)
    result = run_playbook(
        "verify.yml",
        _inventory(tmp_path, {"eu-north-1": server + "/flaky"}),
        "-e",
        "verify_requests=20",
        "-e",
        "verify_min_success_ratio=0.7",
    )
    output = flat(result.stdout + result.stderr)
    assert result.returncode == 0, output[-3000:]
    assert "15/20 ok (75.0 %, threshold 70.0 %)" in output


def test_down_region_fails_and_the_healthy_one_still_reports(server, closed_port, tmp_path):
    urls = {"eu-north-1": server + "/health", "ap-southeast-1": "http://127.0.0.1:%d/health" % closed_port}
    result = run_playbook("verify.yml", _inventory(tmp_path, urls), "-e", "verify_requests=5", "-e", "verify_timeout=2")
    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0
    assert "eu-north-1: 5/5 ok" in output
    assert "ap-southeast-1: 0/5 ok (0.0 %" in output
    assert "p50 - ms, p95 - ms, max - ms" in output  # no answer, no latency
    assert "ap-southeast-1: success ratio 0.0 is under verify_min_success_ratio=0.99" in output
    assert "Connection refused=5 of 5 requests" in output


def test_check_mode_probes_too(server, tmp_path):
    """The probe only reads, so --check sends the requests and reports like a normal run."""
    _Handler.counts.pop("/health", None)
    result = run_playbook(
        "verify.yml", _inventory(tmp_path, {"eu-north-1": server + "/health"}), "-e", "verify_requests=3", "--check"
    )
    output = flat(result.stdout + result.stderr)
    assert result.returncode == 0, output[-3000:]
    assert "eu-north-1: 3/3 ok (100.0 %" in output
    assert _Handler.counts.get("/health") == 3


def test_bad_request_count_is_refused(server, tmp_path):
    result = run_playbook(
        "verify.yml", _inventory(tmp_path, {"eu-north-1": server + "/health"}), "-e", "verify_requests=0"
    )
    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0
    assert "verify_requests=0 must be 1 or more" in output


def test_bad_inputs_are_named_before_any_request(server, tmp_path):
    _Handler.counts.pop("/health", None)
    result = run_playbook(
        "verify.yml",
        _inventory(tmp_path, {"eu-north-1": server.replace("http://", "") + "/health"}),
        "-e",
        "verify_interval=-1",
        "-e",
        "verify_min_success_ratio=1.5",
    )
    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0
    assert "verify_min_success_ratio=1.5 must be within 0-1" in output
    assert "verify_interval=-1 must be 0 or more" in output
    assert "verify_url=127.0.0.1:" in output and "is not an http:// or https:// URL" in output
    assert "/health" not in _Handler.counts


def test_https_with_the_certificate_check_fails_at_the_address_of_a_site_certificate(app_tls_server, tmp_path):
    """The AWS case: the load balancer's certificate names the app, the probe connects to the load balancer's name."""
    url, ca_path = app_tls_server
    result = run_playbook(
        "verify.yml",
        _inventory(tmp_path, {"eu-north-1": url + "/health"}),
        "-e",
        "verify_requests=2",
        "-e",
        "verify_ca_path=" + ca_path,
    )
    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0
    assert "eu-north-1: 0/2 ok" in output and "certificate verify failed" in output, output[-3000:]


def test_https_presenting_the_app_name_passes_with_the_certificate_check_on(app_tls_server, tmp_path):
    url, ca_path = app_tls_server
    _Handler.counts.pop("/health", None)
    result = run_playbook(
        "verify.yml",
        _inventory(tmp_path, {"eu-north-1": url + "/health"}),
        "-e",
        "verify_requests=3",
        "-e",
        "verify_ca_path=" + ca_path,
        "-e",
        "verify_server_name=" + APP_NAME,
    )
    output = flat(result.stdout + result.stderr)
    assert result.returncode == 0, output[-3000:]
    assert "eu-north-1: 3/3 ok (100.0 %" in output and ("/health as %s" % APP_NAME) in output
    assert _Handler.counts.get("/health") == 3


def test_probing_the_load_balancer_needs_the_app_name(tmp_path):
    """Without verify_url the probe goes to the ALB and presents the app's name; without one it is refused before any call."""
    result = run_playbook("verify.yml", _inventory(tmp_path, {"eu-north-1": None}))
    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0
    assert (
        "no app domain to present to the load balancer" in output and "-e verify_server_name=app.example.com" in output
    )
    assert "Read the region's load balancer" not in output
