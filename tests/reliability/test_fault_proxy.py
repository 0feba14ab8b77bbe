# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault-injecting proxy: deterministic by seed, AWS's error shapes as botocore reads them, kills at a call."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import botocore.config
import botocore.exceptions
import pytest

import fault_proxy
from harness import Run, kill_tree  # pylint: disable=import-error


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[str] = []

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Upstream.seen.append(self.headers.get("X-Amz-Target", ""))
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass


@pytest.fixture
def upstream():
    _Upstream.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def _ecs(url: str, attempts: int = 1):
    return boto3.client(
        "ecs",
        region_name="eu-north-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )


def test_seeded_faults_are_deterministic_and_near_their_shares():
    first = fault_proxy.seeded_faults(0.10, 0.05, seed=16)
    again = fault_proxy.seeded_faults(0.10, 0.05, seed=16)
    other = fault_proxy.seeded_faults(0.10, 0.05, seed=17)
    draws = [first(n) for n in range(1, 4001)]
    assert draws == [again(n) for n in range(1, 4001)]
    assert draws != [other(n) for n in range(1, 4001)]
    assert 0.08 < draws.count(fault_proxy.THROTTLE) / 4000 < 0.12
    assert 0.035 < draws.count(fault_proxy.SERVER_ERROR) / 4000 < 0.065


@pytest.mark.parametrize("throttle, server_error", [(-0.1, 0), (0.6, 0.5)])
def test_seeded_faults_refuse_impossible_shares(throttle, server_error):
    with pytest.raises(ValueError, match="shares between 0 and 1"):
        fault_proxy.seeded_faults(throttle, server_error, 0)


def test_cbor_map_matches_rfc_8949():
    # {"a": "b"}: map(1), text(1) "a", text(1) "b"
    assert fault_proxy.cbor_map({"a": "b"}) == b"\xa1\x61a\x61b"
    assert fault_proxy.cbor_map({"k": "x" * 30}) == b"\xa1\x61k\x78\x1e" + b"x" * 30


@pytest.mark.parametrize(
    "fault, status, code",
    [
        (fault_proxy.THROTTLE, 400, "ThrottlingException"),
        (fault_proxy.SERVER_ERROR, 503, "ServiceUnavailable"),
    ],  # call 1: the 503 variant
)
def test_a_fault_is_answered_by_the_proxy_in_the_services_shape(upstream, fault, status, code):
    with fault_proxy.FaultProxy(upstream, faults=lambda n: fault) as proxy:
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            _ecs(proxy.url).list_clusters()
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert _Upstream.seen == []  # never forwarded: a throttled call did not happen
    assert proxy.injected == [(1, "ecs", "ListClusters", code)]


def test_kill_at_forwards_the_call_then_runs_the_callback_before_answering(upstream):
    killed = []
    with fault_proxy.FaultProxy(upstream) as proxy:
        proxy.kill_at(2, lambda: killed.append(proxy.ordinal))
        client = _ecs(proxy.url)
        client.list_clusters()
        with pytest.raises(botocore.exceptions.ConnectionClosedError):
            client.list_services()  # the 2nd call: made upstream, but its answer never comes
        client.list_clusters()  # once only
    assert killed == [2]
    assert _Upstream.seen == [
        "AmazonEC2ContainerServiceV20141113.ListClusters",
        "AmazonEC2ContainerServiceV20141113.ListServices",
        "AmazonEC2ContainerServiceV20141113.ListClusters",
    ]


def test_kill_at_an_action(upstream):
    killed = []
    with fault_proxy.FaultProxy(upstream) as proxy:
        proxy.kill_at(None, lambda: killed.append(proxy.ordinal), action="UpdateService")
        client = _ecs(proxy.url)
        client.list_clusters()
        with pytest.raises(botocore.exceptions.ConnectionClosedError):
            client.update_service(service="web", cluster="c")
    assert killed == [2]


def test_a_killed_call_is_never_faulted(upstream):
    killed = []
    with fault_proxy.FaultProxy(upstream, faults=lambda n: fault_proxy.THROTTLE) as proxy:
        proxy.kill_at(1, lambda: killed.append(True))
        with pytest.raises(botocore.exceptions.ConnectionClosedError):
            _ecs(proxy.url).list_clusters()
    assert killed == [True] and len(_Upstream.seen) == 1


def test_changed_tasks_names_every_changed_task_with_its_hosts():
    output = (
        "TASK [megapool.aws.release : Read the service] ***\nok: [a]\nok: [b]\n\n"
        "TASK [megapool.aws.release : Create the service (first deploy)] ***\nskipping: [a]\nchanged: [b]\n\n"
        "TASK [megapool.aws.dns : Latency records] ***\nok: [a] => (item=x)\nchanged: [a] => (item=y)\n\n"
        "PLAY RECAP ***\na : ok=3 changed=1\nb : ok=2 changed=1\n"
    )
    assert Run(0, output, False, 0).changed_tasks() == [
        "TASK [megapool.aws.release : Create the service (first deploy)] changed: [b]",
        "TASK [megapool.aws.dns : Latency records] changed: [a] => (item=y)",
    ]
    assert Run(0, "TASK [x] ***\nok: [a]\n", False, 0).changed_tasks() == []


def test_kill_tree_kills_forks_in_their_own_sessions(tmp_path):
    # Like ansible-playbook: a parent whose fork calls setsid() (ansible-core's WorkerProcess._detach), and that
    # fork's own child (the module process). Killing the parent's process group would leave both running.
    script = (
        "import os, subprocess, sys, time\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os.setsid()\n"
        "    child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "    open(sys.argv[1], 'w').write('%d %d' % (os.getpid(), child.pid))\n"
        "    time.sleep(60)\n"
        "time.sleep(60)\n"
    )
    pids_file = tmp_path / "pids"
    parent = subprocess.Popen([sys.executable, "-c", script, str(pids_file)], start_new_session=True)
    for _attempt in range(100):
        if pids_file.exists() and pids_file.read_text().count(" ") == 1:
            break
        time.sleep(0.05)
    worker, module = (int(pid) for pid in pids_file.read_text().split())
    assert os.getsid(worker) != os.getsid(parent.pid)

    killed = kill_tree(parent.pid)

    assert {parent.pid, worker, module} <= killed
    parent.wait(timeout=10)
    for pid in (worker, module):
        for _attempt in range(100):  # killed orphans are reaped by init: gone, or a zombie for a moment
            try:
                with open("/proc/%d/stat" % pid, encoding="utf-8") as stat:
                    state = stat.read().rsplit(")", 1)[1].split()[0]
            except FileNotFoundError:
                break
            if state == "Z":
                break
            time.sleep(0.05)
        else:
            raise AssertionError("process %d still runs" % pid)
