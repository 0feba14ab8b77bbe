# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Contract test: the release role's web entrypoint script and container health check, run for real.

The script is rendered from the role's own defaults and vars (``roles/release/{defaults,vars}/main.yml``) with
ansible's Templar, so the test runs what ships. A local HTTP server on 127.0.0.1 answers like the ECS task metadata
endpoint v4 with AWS's documented sample answers (``data/task_metadata_v4``, README there). The script runs under
``dash`` (``/bin/sh`` of Debian images) and ``bash``, with a full PATH and with a PATH that has no wget and no curl
(a stock ``mix phx.gen.release --docker`` debian-slim image), ``release_start_command`` replaced by a command that
prints what the release would get. The node name it builds must then start a real Erlang node (``erl -name``).
"""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any
from typing import Iterator

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible.template import trust_as_template

ROOT = Path(__file__).resolve().parents[3]
DATA = Path(__file__).resolve().parent / "data" / "task_metadata_v4"
PRINT_START = ["sh", "-c", 'echo "node=$RELEASE_NODE phx=$PHX_SERVER args=$#"', "release"]
# What the scripts may use: a POSIX shell, bash (debian-slim has it) and the base tools; no wget, no curl.
BASE_TOOLS = ("sh", "dash", "bash", "sed", "tr", "grep", "head", "cat")


def _trusted(value: Any) -> Any:
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, list):
        return [_trusted(item) for item in value]
    if isinstance(value, dict):
        return {key: _trusted(item) for key, item in value.items()}
    return value


def render(expression: str, **overrides: Any) -> Any:
    """Template ``expression`` with the release role's defaults and vars (vars win, like role vars do)."""
    loader = DataLoader()
    variables: dict[str, Any] = {}
    for path in (ROOT / "roles/release/defaults/main.yml", ROOT / "roles/release/vars/main.yml"):
        variables.update(_trusted(loader.load_from_file(str(path))))
    variables.update(megapool_cluster="megapool", megapool_env="prod", **overrides)
    return Templar(loader=loader, variables=variables).template(trust_as_template(expression))


class _Metadata(http.server.BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, bytes]] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        status, body = self.routes.get(self.path, (404, b"404 page not found\n"))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """``http://127.0.0.1:<port>``; paths: /v4/<shape> -> that file (the container endpoint), /health, /sick."""
    routes = {"/v4/%s" % path.stem: (200, path.read_bytes()) for path in DATA.glob("*.json")}
    routes["/v4/no-ip"] = (200, b'{"Name": "app", "Networks": [{"NetworkMode": "awsvpc", "IPv4Addresses": []}]}')
    routes["/health"] = (200, b"ok")
    routes["/sick"] = (503, b"not ready")
    handler = type("Handler", (_Metadata,), {"routes": routes})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def bare_path(tmp_path_factory) -> str:
    """A PATH directory with only the base tools (symlinks): no wget, no curl."""
    directory = tmp_path_factory.mktemp("bare-bin")
    for tool in BASE_TOOLS:
        found = shutil.which(tool)
        assert found, "%s is needed by the test" % tool
        (directory / tool).symlink_to(found)
    assert not (directory / "wget").exists() and not (directory / "curl").exists()
    return str(directory)


def _run(shell: str, script: str, path: str, uri: str | None) -> subprocess.CompletedProcess:
    env = {"PATH": path, "LANG": "C"}
    if uri is not None:
        env["ECS_CONTAINER_METADATA_URI_V4"] = uri
    return subprocess.run(
        [shutil.which(shell) or shell, "-c", script], env=env, capture_output=True, text=True, timeout=30, check=False
    )


SHAPES = {
    "ec2_awsvpc_container": "10.0.2.100",
    "fargate_container": "192.0.2.3",
    "ec2_bridge_container": "172.17.0.2",
    # The task document (the old script read /task): the first address is the pause container's, the task's IP.
    "ec2_awsvpc_task": "10.0.2.61",
}


@pytest.mark.parametrize("tools", ["no-wget-no-curl", "system"])
@pytest.mark.parametrize("shell", ["dash", "bash"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_node_script_names_the_node_after_the_task_ip(shape, shell, tools, server, bare_path):
    script = render("{{ _release_node_script }}", release_start_command=PRINT_START)
    path = bare_path if tools == "no-wget-no-curl" else os.environ.get("PATH", "/usr/bin:/bin")
    result = _run(shell, script, path, "%s/v4/%s" % (server, shape))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "node=megapool@%s phx=true args=0" % SHAPES[shape]


def test_node_name_starts_a_real_erlang_node(server, bare_path):
    script = render(
        "{{ _release_node_script }}",
        release_start_command=["sh", "-c", 'echo "$RELEASE_NODE"'],
        release_version_in_node_name=True,
        _release_image="repo/megapool:1.4.2",
    )
    node = _run("dash", script, bare_path, server + "/v4/ec2_awsvpc_container").stdout.strip()
    assert node == "megapool-1_4_2@10.0.2.100"
    erl = shutil.which("erl")
    assert erl, "erl is missing: run tests/setup-system.sh (erlang-base)"
    result = subprocess.run(
        [erl, "-noshell", "-name", node, "-eval", 'io:format("~s~n", [node()]), halt().'],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == node


@pytest.mark.parametrize("shell", ["dash", "bash"])
def test_node_script_without_an_address_exits_70_and_never_starts(shell, server, bare_path):
    script = render("{{ _release_node_script }}", release_start_command=PRINT_START)
    for uri, reason in (
        (server + "/v4/no-ip", "no task IPv4 address"),
        (server + "/v4/missing", "no task IPv4 address"),
        (None, "ECS_CONTAINER_METADATA_URI_V4 is not set"),
    ):
        result = _run(shell, script, bare_path, uri)
        assert result.returncode == 70, (uri, result.stdout, result.stderr)
        assert reason in result.stderr
        assert "node=" not in result.stdout


def test_start_command_arguments_are_quoted(server, bare_path):
    script = render(
        "{{ _release_node_script }}", release_start_command=["sh", "-c", 'echo "$1|$2"', "x", "a b", "$HOME;c"]
    )
    result = _run("dash", script, bare_path, server + "/v4/ec2_awsvpc_container")
    assert result.stdout.strip() == "a b|$HOME;c"


@pytest.mark.parametrize("tools", ["no-wget-no-curl", "system"])
def test_health_check_needs_no_wget_or_curl(tools, server, bare_path):
    path = bare_path if tools == "no-wget-no-curl" else os.environ.get("PATH", "/usr/bin:/bin")
    port = server.rsplit(":", 1)[1]
    for health_path, expected in (("/health", 0), ("/sick", 1), ("/missing", 1)):
        command = render(
            "{{ _release_web_container.healthCheck.command }}",
            release_container_port=port,
            release_health_check_path=health_path,
            _release_image="repo/megapool:1.4.2",
            _release_secret_refs=[],
            release_memory_reservation_mib=512,
        )
        assert command[0] == "CMD-SHELL"
        # ECS runs CMD-SHELL with the container's default shell, /bin/sh -c.
        result = _run("dash", command[1], path, None)
        assert result.returncode == expected, (health_path, result.stdout, result.stderr)


def test_health_check_given_by_the_user_wins():
    command = render(
        "{{ _release_web_container.healthCheck.command }}",
        release_health_check_command=["CMD", "/app/bin/check"],
        _release_image="repo/megapool:1.4.2",
        _release_secret_refs=[],
        release_memory_reservation_mib=512,
    )
    assert command == ["CMD", "/app/bin/check"]
