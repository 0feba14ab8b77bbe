# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test "release" of the ecs_dataplane tests: a local image whose server behaves like the release role's node.

It reads its own address from the task metadata endpoint v4 (``Networks[0].IPv4Addresses[0]``), binds only that
address, and answers every GET with what it sees (environment, working directory, metadata). ``/health`` answers
``HEALTH`` from the environment's status (default 200), so a release that never gets healthy is one variable away.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from emulator_ext import ecs_dataplane

SERVER = r"""
import json, os, signal, sys, urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

uri = os.environ["ECS_CONTAINER_METADATA_URI_V4"]
container = json.load(urllib.request.urlopen(uri, timeout=5))
task = json.load(urllib.request.urlopen(uri + "/task", timeout=5))
address = container["Networks"][0]["IPv4Addresses"][0]
if os.environ.get("IGNORE_TERM"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        status = int(os.environ.get("HEALTH", "200")) if self.path == "/health" else 200
        body = json.dumps({"env": dict(os.environ), "cwd": os.getcwd(), "container": container, "task": task, "pid": os.getpid()}).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = HTTPServer((address, int(os.environ.get("PORT", "4000"))), Handler)
print("listening on %s" % address, flush=True)
server.serve_forever()
"""


def wait_for(predicate, timeout=60.0, interval=0.1):
    """The predicate's first true value within ``timeout`` seconds (bounded), else AssertionError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("not true within %.0f s: %s" % (timeout, getattr(predicate, "__name__", predicate)))


def worker_address() -> str:
    """A first task address of this pytest-xdist worker (the workers run side by side on one loopback)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return "127.1.%d.2" % (100 + int("".join(ch for ch in worker if ch.isdigit()) or 0))


def release_images(tmp_path: Path, monkeypatch) -> Path:
    """A MEGAPOOL_LOCAL_IMAGES with the release megapool.local/shop:1.0.0 (``run.sh`` execs the server)."""
    root = tmp_path / "images"
    release = root / "shop" / "1.0.0"
    release.mkdir(parents=True)
    (release / "server.py").write_text(SERVER)
    (release / "run.sh").write_text("#!/bin/sh\nexec %s server.py\n" % sys.executable)
    (release / "run.sh").chmod(0o755)
    monkeypatch.setenv(ecs_dataplane.IMAGES_ENV, str(root))
    return root
