# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live progress (plugins/plugin_utils/progress.py) keeps the output contract of Ansible's callbacks.

A playbook runs megapool.aws.acm_certificate_request (an action plugin with live progress) against the emulator
with the JSON stdout callback: stdout must parse as one JSON document holding the task's result, the progress lines
must still reach the user (on stderr, like Ansible's warnings), and with ``no_log`` no progress line appears at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PORT
from conftest import ROOT

PLAYBOOK = """
- name: A certificate with live progress
  hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/megapool.aws.aws:
      region: eu-north-1
      endpoint_url: http://127.0.0.1:{port}
      access_key: testing
      secret_key: testing
  tasks:
    - name: The hosted zone
      amazon.aws.route53_zone:
        zone: {zone}
    - name: Request and wait
      megapool.aws.acm_certificate_request:
        domain_name: app.{zone}
        hosted_zone_name: {zone}
        poll_interval: 1
        wait_timeout: 120
      no_log: {no_log}
"""


def _run(tmp_path: Path, zone: str, no_log: bool) -> subprocess.CompletedProcess:
    playbook = tmp_path / "progress.yml"
    playbook.write_text(PLAYBOOK.format(port=PORT, zone=zone, no_log=str(no_log).lower()), encoding="utf-8")
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
    )
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        str(playbook),
        "-i",
        "localhost,",
        "-e",
        "ansible_python_interpreter=%s" % sys.executable,
    ]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=300)


def _task(document: dict, name: str) -> dict:
    tasks = [task for play in document["plays"] for task in play["tasks"] if task["task"]["name"] == name]
    assert len(tasks) == 1, [task["task"]["name"] for play in document["plays"] for task in play["tasks"]]
    return tasks[0]["hosts"]["localhost"]


@pytest.mark.usefixtures("empty_emulator")
def test_json_callback_output_parses_and_progress_goes_to_stderr(tmp_path):
    result = _run(tmp_path, "progress-json.test", no_log=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    document = json.loads(result.stdout)  # the whole of stdout is the callback's JSON document
    certificate = _task(document, "Request and wait")
    assert certificate["changed"] is True and certificate["done"] is True, certificate
    assert document["stats"]["localhost"]["failures"] == 0
    # The user still sees the progress: the request, the validation record and the final state.
    assert "localhost | requested certificate arn:aws:acm:eu-north-1:" in result.stderr, result.stderr
    assert "localhost | certificate ISSUED" in result.stderr, result.stderr
    assert "localhost | " not in result.stdout


@pytest.mark.usefixtures("empty_emulator")
def test_no_log_task_prints_no_progress(tmp_path):
    zone = "progress-quiet.test"
    result = _run(tmp_path, zone, no_log=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    document = json.loads(result.stdout)
    certificate = _task(document, "Request and wait")
    assert certificate.get("censored"), certificate  # no_log hides the result ...
    output = result.stdout + result.stderr
    assert "localhost | " not in output, output  # ... and nothing was shown while it waited
    assert "requested certificate" not in output and "validation record" not in output, output
