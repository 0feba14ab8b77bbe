#!/usr/bin/env python
# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start, stop and inspect the local AWS emulator (a moto server on 127.0.0.1).

    python scripts/emulator.py start|stop|status|reset|url [--port N]

The port comes from --port, else $MEGAPOOL_EMULATOR_PORT, else 5000. The pid file and log live in
.emulator/ at the repository root. `start` is idempotent: an emulator of ours already answering on the
port is reused; a port held by anything else is a clear error.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE_DIR = os.path.join(ROOT, ".emulator")
HOST = "127.0.0.1"
DEFAULT_PORT = 5000
READY_TIMEOUT = 60.0
# On stop, the emulator gives its task processes this long after SIGTERM before SIGKILL; `stop` waits for it.
TASK_STOP_SECONDS = 3.0
STOP_TIMEOUT = 20.0

# Settings (docs/emulator.md): managed IAM policies exist, waits are short.
EMULATOR_ENV = {
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
    "MOTO_ACM_VALIDATION_WAIT": "1",
    "MOTO_ECS_SERVICE_RUNNING": "1",
    "MOTO_ALLOW_NONEXISTENT_REGION": "false",
}


def _port(args) -> int:
    if args.port:
        return args.port
    return int(os.environ.get("MEGAPOOL_EMULATOR_PORT") or DEFAULT_PORT)


def _url(port: int) -> str:
    return "http://%s:%d" % (HOST, port)


def _pid_file(port: int) -> str:
    return os.path.join(STATE_DIR, "moto-%d.pid" % port)


def _log_file(port: int) -> str:
    return os.path.join(STATE_DIR, "moto-%d.log" % port)


def _read_pid(port: int) -> int | None:
    try:
        with open(_pid_file(port), encoding="ascii") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def _answers(port: int) -> bool:
    """True when a moto server answers its management API on the port."""
    try:
        with urllib.request.urlopen(_url(port) + "/moto-api/", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def start(port: int) -> int:
    pid = _read_pid(port)
    if _alive(pid) and _answers(port):
        print("emulator already running on %s (pid %d)" % (_url(port), pid))
        return 0
    if _port_taken(port):
        sys.stderr.write(
            "ERROR: port %d on %s is already in use by another process (not an emulator started by this "
            "project). Stop that process, or choose another port, e.g. MEGAPOOL_EMULATOR_PORT=%d make up\n"
            % (port, HOST, port + 1)
        )
        return 2
    os.makedirs(STATE_DIR, exist_ok=True)
    env = dict(os.environ, **EMULATOR_ENV)
    # Local release images (megapool.local/<name>:<tag>, docs/emulator.md "Local data plane: ECS tasks").
    env.setdefault("MEGAPOOL_LOCAL_IMAGES", os.path.join(ROOT, ".cache", "images"))
    with open(_log_file(port), "ab") as log:
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, os.path.abspath(__file__), "serve", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
    with open(_pid_file(port), "w", encoding="ascii") as handle:
        handle.write("%d\n" % process.pid)
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.stderr.write(
                "ERROR: the emulator exited with code %s; see %s\n" % (process.returncode, _log_file(port))
            )
            os.unlink(_pid_file(port))
            return 1
        if _answers(port):
            print(
                "emulator running on %s (pid %d, log %s)"
                % (_url(port), process.pid, os.path.relpath(_log_file(port), ROOT))
            )
            return 0
        time.sleep(0.1)
    sys.stderr.write("ERROR: the emulator did not answer within %ds; see %s\n" % (READY_TIMEOUT, _log_file(port)))
    stop(port)
    return 1


def stop(port: int) -> int:
    pid = _read_pid(port)
    if not _alive(pid):
        print("emulator not running on port %d" % port)
    else:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
        print("emulator on port %d stopped (pid %d)" % (port, pid))
    if os.path.exists(_pid_file(port)):
        os.unlink(_pid_file(port))
    return 0


def status(port: int) -> int:
    pid = _read_pid(port)
    if _alive(pid) and _answers(port):
        print("running on %s (pid %d)" % (_url(port), pid))
        return 0
    print("not running on port %d" % port)
    return 3


def reset(port: int) -> int:
    request = urllib.request.Request(_url(port) + "/moto-api/reset", data=b"", method="POST")
    # A reset rebuilds every backend and ends the data plane's tasks (SIGTERM, then SIGKILL): seconds on a busy
    # machine, so the bound is generous.
    with urllib.request.urlopen(request, timeout=120) as response:
        json.load(response)
    print("emulator on %s reset" % _url(port))
    return 0


def parse_managed_policies_once() -> None:
    """Performance only: moto's AWS managed policies are parsed once per process instead of once per IAM backend.

    With MOTO_IAM_LOAD_MANAGED_POLICIES (EMULATOR_ENV) every ``IAMBackend`` parses moto's 4.7 MB of managed-policy
    JSON (``moto/iam/aws_managed_policies.py``, 1582 policies) and dumps each document back to a string, and moto
    makes one IAM backend per partition (``get_account_id_from`` looks in every partition on a request) and makes
    them all again on each reset: the largest item of the emulator's own CPU in a molecule scenario (py-spy,
    docs/testing.md). Here the values ``AWSManagedPolicy.from_data`` derives (strings and datetimes, immutable) are
    computed once; every backend still gets policy objects of its own, built by the same constructor with the same
    arguments, so nothing moto changes (attachment counts, versions) is shared. tests/unit/test_emulator_script.py
    compares the policies with moto's own method's.
    """
    from datetime import datetime  # pylint: disable=import-outside-toplevel

    from moto.iam import models  # pylint: disable=import-outside-toplevel

    if getattr(models.IAMBackend._init_aws_policies, "_parsed_once", False):  # pylint: disable=protected-access
        return
    parsed: list[tuple] = []

    def _init_aws_policies(self):
        if not models.load_iam_aws_managed_policies():
            return []
        if not parsed:
            data = json.loads(models.aws_managed_policies_data)
            parsed.extend(
                (
                    name,
                    d.get("DefaultVersionId"),
                    d.get("Path"),
                    json.dumps(d.get("Document")),
                    datetime.fromisoformat(d["CreateDate"]),
                    datetime.fromisoformat(d["UpdateDate"]),
                )
                for name, d in data.items()
            )
        return [
            models.AWSManagedPolicy(
                name,
                account_id=self.account_id,
                region=self.region_name,
                default_version_id=version,
                path=path,
                document=document,
                create_date=created,
                update_date=updated,
            )
            for name, version, path, document, created, updated in parsed
        ]

    _init_aws_policies._parsed_once = True  # type: ignore[attr-defined]
    models.IAMBackend._init_aws_policies = _init_aws_policies  # pylint: disable=protected-access


def serve(port: int) -> int:
    """Run the moto server in this process (what `start` launches in the background)."""
    from moto.server import main as moto_main  # pylint: disable=import-outside-toplevel

    os.environ.update(EMULATOR_ENV)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import emulator_ext  # pylint: disable=import-outside-toplevel

    print("emulator extensions: %s" % (", ".join(emulator_ext.apply()) or "none"), flush=True)
    parse_managed_policies_once()
    from emulator_ext import ecs_dataplane  # pylint: disable=import-outside-toplevel

    try:
        moto_main(["--host", HOST, "--port", str(port)])  # SIGTERM/SIGINT: moto's handler raises SystemExit
    finally:
        # Task processes run in their own process groups (sessions): `stop` signals only ours, so end them here.
        ended = ecs_dataplane.stop_all(timeout=TASK_STOP_SECONDS)
        print("emulator: stopped, %d task process(es) ended" % ended, flush=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "status", "reset", "url", "serve"])
    parser.add_argument(
        "--port", type=int, default=None, help="TCP port on 127.0.0.1 (default: $MEGAPOOL_EMULATOR_PORT or 5000)"
    )
    args = parser.parse_args(argv)
    port = _port(args)
    if args.command == "url":
        print(_url(port))
        return 0
    return {"start": start, "stop": stop, "status": status, "reset": reset, "serve": serve}[args.command](port)


if __name__ == "__main__":
    sys.exit(main())
