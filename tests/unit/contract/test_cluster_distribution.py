# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Contract test: the Erlang distribution settings the release role gives the tasks connect REAL nodes.

``ERL_AFLAGS`` and ``DNS_CLUSTER_QUERY`` are rendered from the role's own defaults and vars (the Templar of
test_node_script.py), for ``release_distribution: epmdless`` and ``epmd``. Real ``erl`` nodes then start with exactly
that ``ERL_AFLAGS`` in their environment, each on its own loopback address (127.3.0.x, as tasks with their own ENI
each have their own IP; outside 127.1.0.0/16, where the emulator's data plane places the tasks of the integration and
molecule runs beside this one, so no demo node can hold an address and port of these), bound to it
(``-kernel inet_dist_use_interface``, what the docs' ``rel/env.sh.eex`` adds with ``BIND_TO_NODE_ADDRESS=true``), and
must connect:

- epmd-less: no epmd at all (``-start_epmd false``), every node listens on the one port and finds the others there
  (``-erl_epmd_port``); a remote shell / rpc node with ``-dist_listen false`` (docs/clustering.md) reaches a node
  whose port it shares;
- epmd: nodes register with epmd (4369) and listen inside the fixed range (``inet_dist_listen_min/max``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from test_node_script import render

ERL = shutil.which("erl")
COOKIE = "contract-test-cookie"
# A connection attempt may wait this long (net_setuptime, 7 s by default): CI runs this beside molecule and the
# integration tests on 2 cores, where a busy node can take longer than 7 s to answer a handshake.
SETUP_TIME = ("-kernel", "net_setuptime", "30")
pytestmark = pytest.mark.skipif(ERL is None, reason="erl is missing: run tests/setup-system.sh (erlang-base)")


def _free_port(address: str = "127.3.0.2") -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


def _environment(mode: str, port: int, low: int, high: int) -> dict[str, str]:
    rendered = render(
        "{{ _release_environment }}",
        release_distribution=mode,
        release_erlang_dist_port=port,
        release_erlang_dist_port_min=low,
        release_erlang_dist_port_max=high,
        release_container_port=4000,
        release_image="megapool.local/demo:1.0.0",
        _release_image="megapool.local/demo:1.0.0",
        dns_outputs={
            "discovery": {
                "cluster_query": "megapool.ap-southeast-1.megapool.prod.internal,megapool.eu-north-1.megapool.prod.internal"
            }
        },
    )
    return {item["name"]: item["value"] for item in rendered}


def _erl_env(aflags: str, tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ERL_", "ELIXIR_"))}
    env.update(ERL_AFLAGS=aflags, HOME=str(tmp_path))
    return env


def _interface(address: str) -> str:
    return "{%s}" % address.replace(".", ",")


def _start_node(name: str, address: str, env: dict[str, str], seconds: int = 600) -> subprocess.Popen:
    """A node that lives until the test stops it (``_stop``), at most ``seconds``: a bound for a test that dies. It
    was 60 s, and on a loaded machine (make test runs this stage at nice 10 beside five converges) the nodes' and the
    probes' start-ups outlasted it: the second node had halted before its ping (``pang []``)."""
    return subprocess.Popen(
        [
            ERL,
            "-noshell",
            "-name",
            "%s@%s" % (name, address),
            "-setcookie",
            COOKIE,
            "-kernel",
            "inet_dist_use_interface",
            _interface(address),
            *SETUP_TIME,
            "-eval",
            "receive after %d -> halt() end." % (seconds * 1000),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _listening(address: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((address, port)) == 0


def _wait_listening(address: str, port: int, node: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while not _listening(address, port):
        assert node.poll() is None, node.communicate()[0]
        assert time.monotonic() < deadline, "the node on %s did not listen on %d" % (address, port)
        time.sleep(0.1)


def _ping(target: str, name: str, address: str, env: dict[str, str], *extra: str) -> str:
    script = "R = net_adm:ping('%s'), io:format(\"~p ~p~n\", [R, nodes(connected)]), halt()." % target
    result = subprocess.run(
        [
            ERL,
            "-noshell",
            "-name",
            "%s@%s" % (name, address),
            "-setcookie",
            COOKIE,
            "-kernel",
            "inet_dist_use_interface",
            _interface(address),
            *SETUP_TIME,
            *extra,
            "-eval",
            script,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.stdout + result.stderr


def _stop(*nodes: subprocess.Popen) -> None:
    for node in nodes:
        if node.poll() is None:
            os.killpg(node.pid, 15)
            node.wait(timeout=10)


def test_epmdless_nodes_on_their_own_addresses_connect_through_the_one_port(tmp_path):
    port = _free_port()
    environment = _environment("epmdless", port, port, port + 5)
    assert environment["ERL_AFLAGS"] == "-start_epmd false -erl_epmd_port %d" % port
    assert (
        environment["DNS_CLUSTER_QUERY"]
        == "megapool.ap-southeast-1.megapool.prod.internal,megapool.eu-north-1.megapool.prod.internal"
    )
    env = _erl_env(environment["ERL_AFLAGS"], tmp_path)
    first = _start_node("megapool", "127.3.0.2", env)
    second = _start_node("megapool", "127.3.0.3", env)
    try:
        _wait_listening("127.3.0.2", port, first)
        _wait_listening("127.3.0.3", port, second)
        # A third node on its own address, same flags: it finds both on the one port, without any epmd.
        answer = _ping("megapool@127.3.0.2", "probe", "127.3.0.4", env)
        assert answer.startswith("pong"), answer
        answer = _ping("megapool@127.3.0.3", "probe", "127.3.0.4", env)
        assert answer.startswith("pong"), answer
        # A remote shell / rpc node in the SAME task (same address, same ERL_AFLAGS): -dist_listen false, as the docs'
        # rel/env.sh.eex adds for remote and rpc, or it would try to listen on the port the node holds.
        answer = _ping("megapool@127.3.0.2", "rpc", "127.3.0.2", env, "-dist_listen", "false", "-hidden")
        assert answer.startswith("pong"), answer
        clash = _ping("megapool@127.3.0.2", "rpc", "127.3.0.2", env)
        assert not clash.startswith("pong"), (
            "without -dist_listen false a second node on the address must not get the port"
        )
    finally:
        _stop(first, second)
    assert not _listening("127.3.0.2", port)


def test_epmd_nodes_connect_within_the_fixed_range(tmp_path):
    low = _free_port()
    high = low + 3
    environment = _environment("epmd", low, low, high)
    assert environment["ERL_AFLAGS"] == "-kernel inet_dist_listen_min %d inet_dist_listen_max %d" % (low, high)
    env = _erl_env(environment["ERL_AFLAGS"], tmp_path)
    # epmd keeps one registration per name and host: the demo tasks that the molecule and integration stages run
    # beside this one register "megapool" with the same epmd, so this node gets a name of its own.
    name = "megapool%d" % os.getpid()
    first = _start_node(name, "127.3.0.5", env)
    try:
        deadline = time.monotonic() + 20
        while not any(_listening("127.3.0.5", port) for port in range(low, high + 1)):
            assert first.poll() is None, first.communicate()[0]
            assert time.monotonic() < deadline, "the node did not listen within %d-%d" % (low, high)
            time.sleep(0.1)
        answer = _ping("%s@127.3.0.5" % name, "probe%d" % os.getpid(), "127.3.0.6", env)
        assert answer.startswith("pong"), answer
    finally:
        _stop(first)
