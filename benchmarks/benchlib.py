# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the benchmark scripts share: logging and the project's emulator (scripts/emulator.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(message: str) -> None:
    sys.stderr.write("[bench] %s\n" % message)
    sys.stderr.flush()


def emulator(command: str, port: int) -> int:
    """Run ``scripts/emulator.py <command> --port <port>``; its exit code."""
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "scripts", "emulator.py"), command, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        check=False,
    ).returncode


def reset_emulator(port: int) -> None:
    request = urllib.request.Request("http://127.0.0.1:%d/moto-api/reset" % port, data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
