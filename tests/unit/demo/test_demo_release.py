# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The demo release (demo/, scripts/build_demo.sh; docs/demo.md), built once per session and run for real.

Two nodes run epmd-less on their own 127.x addresses with one distribution port, as the emulator runs tasks
(the data-plane contract in docs/demo.md); a stub DNS server on 127.0.0.1 plays the Cloud Map names, which the nodes
reach through ERL_INETRC as tasks do. Every process is its own process group, stopped at the end (bounded waits).
Needs Debian's elixir (tests/setup-system.sh installs it).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BUILD = ROOT / "scripts" / "build_demo.sh"
COOKIE = "demo-test-cookie-0123456789"


def _build(images: Path, version: str, *flags: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MEGAPOOL_LOCAL_IMAGES=str(images))
    return subprocess.run(["bash", str(BUILD), version, *flags], env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="session")
def images(tmp_path_factory):
    assert shutil.which("mix"), "Debian's elixir is not installed: run tests/setup-system.sh (apt-get install elixir)"
    root = tmp_path_factory.mktemp("images")
    for version, flags in (("1.0.0", ()), ("1.0.2-unhealthy", ("--unhealthy",))):
        result = _build(root, version, *flags)
        assert result.returncode == 0, result.stdout + result.stderr
    return root / "megapool-demo"


# --- a stub DNS server (A records only), the local stand-in for the VPC resolver and Cloud Map ---------------------

class StubDns:
    """Answers A queries for the names in ``records`` (name -> [IPv4]); NXDOMAIN for other names."""

    def __init__(self, records: dict[str, list[str]]):
        self.records = {name.lower().rstrip("."): addresses for name, addresses in records.items()}
        self.queries: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._done.is_set():
            try:
                data, peer = self.sock.recvfrom(512)
            except socket.timeout:
                continue
            except OSError:
                return
            answer = self.answer(data)
            if answer:
                self.sock.sendto(answer, peer)

    def answer(self, query: bytes) -> bytes | None:
        if len(query) < 12:
            return None
        ident, _flags, qdcount = struct.unpack("!HHH", query[:6])
        labels, offset = [], 12
        while offset < len(query) and query[offset]:
            length = query[offset]
            labels.append(query[offset + 1:offset + 1 + length].decode("ascii", "replace"))
            offset += 1 + length
        offset += 1
        if qdcount != 1 or offset + 4 > len(query):
            return None
        qtype, _qclass = struct.unpack("!HH", query[offset:offset + 4])
        question = query[12:offset + 4]
        name = ".".join(labels).lower()
        self.queries.append(name)
        if name not in self.records:
            return struct.pack("!HHHHHH", ident, 0x8183, 1, 0, 0, 0) + question
        addresses = self.records[name] if qtype == 1 else []
        answers = b"".join(
            struct.pack("!HHHIH", 0xC00C, 1, 1, 1, 4) + socket.inet_aton(address) for address in addresses)
        return struct.pack("!HHHHHH", ident, 0x8180, 1, len(addresses), 0, 0) + question + answers

    def close(self) -> None:
        self._done.set()
        self._thread.join(2)
        self.sock.close()


# --- nodes ---------------------------------------------------------------------------------------------------------

def _free_addresses(count: int) -> list[str]:
    """Addresses 127.77.<x>.<y>, away from the emulator's 127.1.0.x tasks."""
    base = random.randint(1, 250)
    return ["127.77.%d.%d" % (base, 10 + index) for index in range(count)]


def _free_port(addresses: list[str]) -> int:
    """A TCP port free on every address (one distribution port for all nodes, as without epmd)."""
    for _attempt in range(50):
        with socket.socket() as probe:
            probe.bind((addresses[0], 0))
            port = probe.getsockname()[1]
        try:
            for address in addresses:
                with socket.socket() as sock:
                    sock.bind((address, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port on %s" % addresses)


class Node:
    def __init__(self, release: Path, address: str, port: int, dist_port: int, tmp: Path, **env: str):
        self.release, self.address, self.port, self.dist_port = release, address, port, dist_port
        self.name = "megapool@%s" % address
        self.log = tmp / ("node-%s.log" % address)
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": str(tmp),
            "RELEASE_DISTRIBUTION": "name",
            "RELEASE_NODE": self.name,
            "RELEASE_COOKIE": COOKIE,
            "RELEASE_TMP": str(tmp / ("release-tmp-" + address)),
            "PORT": str(port),
            "ERL_AFLAGS": "-start_epmd false -erl_epmd_port %d" % dist_port,
            "BIND_TO_NODE_ADDRESS": "true",
        }
        self.env.update(env)
        self.process: subprocess.Popen | None = None

    def command(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.release / "bin" / "megapool"), *args], cwd=self.release,
                              env=dict(self.env, **extra_env), capture_output=True, text=True, timeout=60, check=False)

    def start(self) -> "Node":
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([str(self.release / "bin" / "megapool"), "start"], cwd=self.release,
                                            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def url(self, path: str) -> str:
        return "http://%s:%d%s" % (self.address, self.port, path)

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url(path), timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def wait_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "node %s exited %s: %s" % (self.name, self.process.returncode, self.log.read_text())
            try:
                self.get("/")
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("node %s did not answer within %ds: %s" % (self.name, timeout, self.log.read_text()))

    def stop(self, timeout: float = 20) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
            raise AssertionError("node %s ignored SIGTERM for %ds" % (self.name, timeout)) from None


@pytest.fixture
def nodes(tmp_path):
    started: list[Node] = []
    yield started
    for node in started:
        try:
            node.stop()
        except AssertionError:
            pass


def _inetrc(tmp: Path, dns: StubDns) -> str:
    """The ERL_INETRC of a local task. `{resolv_conf, ""}` is needed: inet_res re-reads /etc/resolv.conf when it
    changes (or first is looked at) and its nameservers then replace the file's
    (https://www.erlang.org/doc/apps/erts/inet_cfg.html: "/etc/resolv.conf ... read and monitored for changes")."""
    path = tmp / "inetrc"
    path.write_text('{resolv_conf, ""}.\n{nameserver, {127,0,0,1}, %d}.\n{lookup, [dns]}.\n' % dns.port)
    return str(path)


def _wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.3)
    raise AssertionError("%s within %ds (last: %r)" % (what, timeout, last))


# --- the tests ------------------------------------------------------------------------------------------------------

def test_build_is_idempotent_and_checks_its_input(images, tmp_path):
    release = images / "1.0.0"
    assert (release / "bin" / "megapool").is_file() and (release / "releases" / "1.0.0").is_dir()
    stamp = (release / ".megapool-demo-build").stat().st_mtime_ns
    again = _build(images.parent, "1.0.0")
    assert again.returncode == 0 and "is up to date" in again.stdout
    assert (release / ".megapool-demo-build").stat().st_mtime_ns == stamp
    # another flag is another build of the same version
    rebuilt = _build(tmp_path, "1.0.0", "--unhealthy")
    assert rebuilt.returncode == 0 and "building" in rebuilt.stdout
    bad = _build(tmp_path, "latest")
    assert bad.returncode == 2 and "version 'latest' is not a SemVer version" in bad.stderr
    assert not (tmp_path / "megapool-demo" / "latest").exists()


def test_build_names_the_package_when_elixir_is_missing(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    result = subprocess.run([str(bin_dir / "bash"), str(BUILD), "1.0.0"], env={"PATH": str(bin_dir)},
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2
    assert "elixir is not installed: install the Debian package elixir" in result.stderr


def test_two_nodes_form_one_cluster_through_dns(images, tmp_path, nodes):
    """Each node resolves DNS_CLUSTER_QUERY (one name per region) and connects to the other: one cluster."""
    a, b = _free_addresses(2)
    dns = StubDns({"megapool.eu-north-1.test": [a], "megapool.ap-southeast-1.test": [b]})
    try:
        http_port, dist_port = _free_port([a, b]), _free_port([a, b])
        common = {"DNS_CLUSTER_QUERY": "megapool.eu-north-1.test,megapool.ap-southeast-1.test",
                  "DNS_CLUSTER_INTERVAL_MS": "300", "ERL_INETRC": _inetrc(tmp_path, dns)}
        one = Node(images / "1.0.0", a, http_port, dist_port, tmp_path, AWS_REGION="eu-north-1", **common)
        two = Node(images / "1.0.0", b, http_port, dist_port, tmp_path, AWS_REGION="ap-southeast-1", **common)
        nodes.extend([one.start(), two.start()])
        one.wait_up()
        two.wait_up()

        def clustered():
            views = [json.loads(node.get("/cluster")[1]) for node in (one, two)]
            return views if all(view["members"] == sorted([one.name, two.name]) for view in views) else None

        views = _wait_for(clustered, 30, "both nodes list both members")
        assert [view["node"] for view in views] == [one.name, two.name]
        assert [view["region"] for view in views] == ["eu-north-1", "ap-southeast-1"]
        assert {"megapool.eu-north-1.test", "megapool.ap-southeast-1.test"} <= set(dns.queries)
        status, body = one.get("/")
        assert status == 200 and json.loads(body) == {"node": one.name, "region": "eu-north-1", "version": "1.0.0"}
        assert one.get("/health") == (200, "ok\n")
        assert one.get("/nope")[0] == 404

        # the node that stops (SIGTERM, as ECS stops a task) leaves the other's view; it exits 0
        assert two.stop() == 0
        assert "stopping" in two.log.read_text()
        _wait_for(lambda: json.loads(one.get("/cluster")[1])["members"] == [one.name], 30, "the stopped node leaves")
    finally:
        dns.close()


def test_a_node_binds_only_its_own_address_and_rpc_works_beside_it(images, tmp_path, nodes):
    """BIND_TO_NODE_ADDRESS=true: HTTP and distribution on the node's address only (tasks share the host locally);
    `bin/megapool rpc` in the same task must not take the node's distribution port (-dist_listen false)."""
    (address,) = _free_addresses(1)
    http_port, dist_port = _free_port([address, "127.0.0.1"]), _free_port([address, "127.0.0.1"])
    node = Node(images / "1.0.0", address, http_port, dist_port, tmp_path, AWS_REGION="eu-north-1")
    nodes.append(node.start())
    node.wait_up()
    for port in (http_port, dist_port):
        with socket.socket() as sock:  # nothing listens on the wildcard address: another task could take 127.0.0.1
            sock.bind(("127.0.0.1", port))
    rpc = node.command("rpc", "IO.puts(Enum.join(Megapool.members(), \",\"))")
    assert rpc.returncode == 0, rpc.stderr
    assert rpc.stdout.strip() == node.name  # the rpc node is hidden: not a member


def test_without_bind_to_node_address_it_listens_everywhere(images, tmp_path, nodes):
    (address,) = _free_addresses(1)
    http_port, dist_port = _free_port([address, "127.0.0.1"]), _free_port([address, "127.0.0.1"])
    node = Node(images / "1.0.0", address, http_port, dist_port, tmp_path, BIND_TO_NODE_ADDRESS="false")
    nodes.append(node.start())
    node.wait_up()
    with urllib.request.urlopen("http://127.0.0.1:%d/health" % http_port, timeout=5) as response:
        assert response.status == 200


def test_region_from_the_task_metadata_endpoint(images, tmp_path, nodes):
    """Without AWS_REGION the region is the one of the task's ARN (task metadata v4, AWS's documented shape)."""
    import http.server

    class Metadata(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = json.dumps({"Cluster": "megapool-local",
                               "TaskARN": "arn:aws:ecs:ap-southeast-1:123456789012:task/megapool-local/0123456789abcdef"}).encode()
            self.send_response(200 if self.path == "/v4/container/task" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Metadata)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        (address,) = _free_addresses(1)
        node = Node(images / "1.0.0", address, _free_port([address]), _free_port([address]), tmp_path,
                    ECS_CONTAINER_METADATA_URI_V4="http://127.0.0.1:%d/v4/container" % server.server_address[1])
        nodes.append(node.start())
        node.wait_up()
        assert json.loads(node.get("/")[1])["region"] == "ap-southeast-1"
    finally:
        server.shutdown()
        server.server_close()


def test_unhealthy_build_fails_its_health_check_only(images, tmp_path, nodes):
    (address,) = _free_addresses(1)
    node = Node(images / "1.0.2-unhealthy", address, _free_port([address]), _free_port([address]), tmp_path)
    nodes.append(node.start())
    node.wait_up()
    assert node.get("/health")[0] == 500
    status, body = node.get("/")
    assert status == 200 and json.loads(body)["version"] == "1.0.2-unhealthy"


@pytest.mark.parametrize("url, code, expected", [
    (None, 1, "DATABASE_URL is not set: the task definition must pass it in `secrets`"),
    ("mysql://u:p@db:3306/app", 1, "DATABASE_URL is not a PostgreSQL URL"),
    ("postgres://admin@/app", 1, "DATABASE_URL is not a PostgreSQL URL"),
    ("postgres://admin:s3cret@db.example.internal:6432/megapool", 0, "applied to db.example.internal:6432/megapool"),
    ("ecto://admin:s3cret@db.example.internal/megapool", 0, "applied to db.example.internal:5432/megapool"),
])
def test_migrate_checks_database_url(images, tmp_path, url, code, expected):
    (address,) = _free_addresses(1)
    node = Node(images / "1.0.0", address, 4000, 9100, tmp_path)
    env = {} if url is None else {"DATABASE_URL": url}
    result = node.command("eval", "Megapool.Release.migrate()", **env)
    assert result.returncode == code, result.stdout + result.stderr
    assert expected in (result.stdout if code == 0 else result.stderr)
    assert "s3cret" not in result.stdout + result.stderr
