# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Node discovery end to end: real Erlang nodes, started under the discovered names, form one cluster.

The test builds two "regions" of network namespaces joined by a "peering" (netns.py), creates the matching
instances in the emulator (plus instances that must not be found), asks megapool.aws.ec2_cluster_nodes_info
for the cluster's node names through `ansible`, then starts one real BEAM node (Debian erlang-base) per name,
in the namespace that holds the name's address, the way the network role opens the cluster to itself: epmd on
4369 and the distribution on the role's fixed port. Each node gets nothing but the discovered list, pings every
name on it, and reports the nodes it is connected to; every node must see all the others, across regions.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sys

import pytest
import yaml
from conftest import client
from netns import CLUSTER, ENV, PLAN, ROOT, Lab, adhoc_results, require_lab_prerequisites, wait_for

# The bastion lab routes fixed prefixes in the root namespace: one lab at a time (one xdist worker for both files).
pytestmark = pytest.mark.xdist_group("netns")

BASENAME = "app"
JOIN_TIMEOUT_S = 30
EPMD_PORT = 4369

# Runs in every node: read the discovered names, ping them until all are connected (bounded), report.
JOIN = """
{ok, [[File]]} = init:get_argument(megapool_nodes),
{ok, Names} = file:consult(File),
Others = [N || N <- Names, N =/= node()],
Deadline = erlang:monotonic_time(millisecond) + %(timeout_ms)d,
Missing = fun() -> [N || N <- Others, not lists:member(N, nodes())] end,
JoinAll = fun Again() ->
    [net_adm:ping(N) || N <- Missing()],
    case {Missing(), erlang:monotonic_time(millisecond) > Deadline} of
        {[], _} -> ok;
        {Left, true} -> {missing, Left};
        {_, false} -> timer:sleep(100), Again()
    end
end,
Result = JoinAll(),
Show = fun(Ns) -> string:join([atom_to_list(N) || N <- lists:sort(Ns)], ",") end,
case Result of
    ok -> io:format("CLUSTER ~s sees ~s~n", [node(), Show(nodes())]);
    {missing, M} -> io:format("INCOMPLETE ~s sees ~s missing ~s~n", [node(), Show(nodes()), Show(M)])
end.
"""


@pytest.fixture
def lab(tmp_path):
    require_lab_prerequisites()
    with Lab(tmp_path) as built:
        yield built


def _network_role_ports() -> int:
    """The fixed distribution port the network role opens (its range's first port); epmd must be open too."""
    defaults = yaml.safe_load((ROOT / "roles" / "network" / "defaults" / "main.yml").read_text())
    assert defaults["network_erlang_epmdless"] is False, (
        "this test runs nodes with epmd (4369), which the role opens unless epmd-less"
    )
    return int(defaults["network_erlang_dist_port_min"])


def _discover(emulator: str) -> list[str]:
    """The node names, as a user gets them: the discovery module run by ansible."""
    arguments = {
        "regions": [region.region for region in PLAN],
        "env": ENV,
        "cluster": CLUSTER,
        "role": "app",
        "basename": BASENAME,
        "endpoint_url": emulator,
        "access_key": "testing",
        "secret_key": "testing",
    }
    run, results = adhoc_results(
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        "ansible_python_interpreter=%s" % sys.executable,
        "localhost",
        "-m",
        "megapool.aws.ec2_cluster_nodes_info",
        "-a",
        json.dumps(arguments),
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-3000:]
    return results["localhost"]["nodes"]


def test_discovered_nodes_form_one_cluster(lab, empty_emulator, tmp_path):
    port = _network_role_ports()
    lab.create_instances(client)

    nodes = _discover(empty_emulator)
    # Exactly the running app instances of this env and cluster, in both regions: no bastion, no other
    # cluster, no other env, no stopped instance.
    expected = sorted("%s@%s" % (BASENAME, address) for region in PLAN for address in region.app_ips)
    assert sorted(nodes) == expected, nodes
    assert len(set(nodes)) == len(nodes), nodes

    # The list the nodes get, as Erlang terms, exactly as discovered.
    node_file = tmp_path / "nodes.eterm"
    node_file.write_text("".join("'%s'.\n" % name for name in nodes))
    cookie = secrets.token_hex(16)
    home = tmp_path / "home"
    home.mkdir()
    erl_env = dict(os.environ, HOME=str(home))
    erl = shutil.which("erl")
    epmd = shutil.which("epmd")

    logs, processes = {}, {}
    for name in nodes:
        basename, address = name.split("@")
        ns = lab.app_ns.get(address)
        assert ns, "discovered %s, but no namespace of the test holds %s" % (name, address)
        started = lab.run(ns, [epmd, "-daemon"])
        assert started.returncode == 0, started
        wait_for("epmd in %s" % ns, lambda ns=ns: lab.run(ns, [epmd, "-names"]).returncode == 0, timeout=10)
        logs[name] = tmp_path / ("%s.log" % name)
        processes[name] = lab.popen(
            ns,
            [
                erl,
                "-noshell",
                "-name",
                name,
                "-setcookie",
                cookie,
                "-start_epmd",
                "false",
                "-kernel",
                "inet_dist_listen_min",
                str(port),
                "inet_dist_listen_max",
                str(port),
                "-kernel",
                "inet_dist_use_interface",
                "{%s}" % address.replace(".", ","),
                "-megapool_nodes",
                str(node_file),
                "-eval",
                JOIN % {"timeout_ms": JOIN_TIMEOUT_S * 1000},
            ],
            logs[name],
            env=erl_env,
        )

    def reports():
        found = {}
        for name, log in logs.items():
            if processes[name].poll() is not None:
                raise AssertionError("node %s exited (%s): %s" % (name, processes[name].returncode, log.read_text()))
            match = re.search(r"^(CLUSTER|INCOMPLETE) (\S+) sees (\S*)(?: missing (\S+))?$", log.read_text(), re.M)
            if match:
                found[name] = match
        return found if len(found) == len(logs) else None

    found = wait_for("every node to report its cluster", reports, timeout=JOIN_TIMEOUT_S + 20, interval=0.2)
    incomplete = [
        match.group(0) for name, match in found.items() if match.group(1) != "CLUSTER" or match.group(2) != name
    ]
    assert not incomplete, "\n".join(incomplete)
    views = {name: sorted(filter(None, match.group(3).split(","))) for name, match in found.items()}
    # One cluster: every node is connected to every other discovered node, and to nothing else.
    assert views == {name: sorted(set(nodes) - {name}) for name in nodes}, views

    # Each node is registered with its namespace's epmd on the fixed port the network role opens.
    for name in nodes:
        basename, address = name.split("@")
        registered = lab.run(lab.app_ns[address], [epmd, "-port", str(EPMD_PORT), "-names"])
        assert "name %s at port %d" % (basename, port) in registered.stdout, registered
