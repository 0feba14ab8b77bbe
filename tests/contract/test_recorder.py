# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The request recorder: AnsiballZ module processes, the controller (inventory plugin) and plain Python all record;
sensitive members are redacted; a process that never imports botocore pays nothing."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from megapool_contract import calllog

ROOT = Path(__file__).resolve().parents[2]
RECORDER = Path(__file__).resolve().parent / "recorder"
PORT = int(os.environ.get("MEGAPOOL_EMULATOR_PORT") or 5100)
ENDPOINT = "http://127.0.0.1:%d" % PORT
BIN = Path(sys.executable).parent

sys.path.insert(0, str(RECORDER))
import sitecustomize as recorder  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="module")
def emulator():
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "emulator.py"), "start", "--port", str(PORT)], check=True, cwd=ROOT
    )
    return ENDPOINT


def recording_env(log: Path, **extra) -> dict:
    env = dict(
        os.environ,
        MEGAPOOL_CALL_LOG=str(log),
        MEGAPOOL_EMULATOR_PORT=str(PORT),
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        **extra,
    )
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(RECORDER), env.get("PYTHONPATH", "")) if p)
    env["PATH"] = os.pathsep.join((str(BIN), env.get("PATH", "")))
    env.pop("MEGAPOOL_CALL_STAGE", None)
    return env


PLAYBOOK = """
- name: One read-only amazon.aws module against the emulator
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: List the VPCs of eu-north-1
      amazon.aws.ec2_vpc_net_info:
        region: eu-north-1
        endpoint_url: "{{ lookup('ansible.builtin.env', 'RECORDER_ENDPOINT') }}"
        access_key: testing
        secret_key: testing
"""


def test_an_ansiballz_module_process_records_its_requests(tmp_path, emulator):
    playbook = tmp_path / "info.yml"
    playbook.write_text(PLAYBOOK)
    log = tmp_path / "calls.jsonl"
    env = recording_env(log, RECORDER_ENDPOINT=emulator, MOLECULE_SCENARIO_NAME="recorder-proof")
    command = [
        str(BIN / "ansible-playbook"),
        "-i",
        "localhost,",
        "-e",
        "ansible_python_interpreter=" + sys.executable,
        str(playbook),
    ]
    with subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as run:
        output = run.communicate()[0]
    assert run.returncode == 0, output
    records = calllog.read(log)
    (describe,) = [r for r in records if r.get("operation") == "DescribeVpcs"]
    assert describe["service"] == "ec2" and describe["region"] == "eu-north-1" and describe["endpoint"] == emulator
    assert describe["caller"] == "amazon.aws.ec2_vpc_net_info"  # recorded inside the module's own process
    assert describe["playbook"] == str(playbook)
    assert describe["scenario"] == "recorder-proof"
    assert describe["error"] is None
    assert describe["pid"] not in (run.pid, os.getpid())  # not the controller: the AnsiballZ process


def test_a_lookup_in_the_controller_records_too(tmp_path, emulator):
    log = tmp_path / "calls.jsonl"
    lookup = (
        "msg={{ lookup('amazon.aws.aws_account_attribute', attribute='supported-platforms', region='eu-north-1', "
        "endpoint_url='%s', access_key='testing', secret_key='testing') }}" % emulator
    )
    command = [str(BIN / "ansible"), "localhost", "-i", "localhost,", "-m", "ansible.builtin.debug", "-a", lookup]
    with subprocess.Popen(
        command, env=recording_env(log), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as run:
        output = run.communicate()[0]
    assert run.returncode == 0, output
    (record,) = calllog.calls(calllog.read(log))
    # lookups run in the controller's forked worker, not in an AnsiballZ process
    assert (record["operation"], record["caller"]) == ("DescribeAccountAttributes", "amazon.aws.aws_account_attribute")


def test_the_inventory_plugin_in_the_controller_records_too(tmp_path, emulator):
    log = tmp_path / "calls.jsonl"
    run = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(ROOT / "inventories" / "local"), "--list"],
        env=recording_env(log),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    callers = {r.get("caller") for r in calllog.read(log)}
    # the plugin's regions are queried from a thread pool: the outermost collection frame there is its module_utils
    assert callers & {"megapool.aws.ec2_cluster", "megapool.aws.module_utils.cluster_instances"}, callers


def test_an_error_is_recorded_with_its_code(tmp_path, emulator):
    log = tmp_path / "calls.jsonl"
    script = (
        "import boto3\n"
        "c = boto3.client('ssm', region_name='eu-north-1', endpoint_url=%r, aws_access_key_id='testing', aws_secret_access_key='testing')\n"
        "try:\n    c.get_parameter(Name='/megapool/contract/missing')\nexcept c.exceptions.ParameterNotFound:\n    pass\n"
        % emulator
    )
    subprocess.run([sys.executable, "-c", script], env=recording_env(log), check=True)
    (record,) = calllog.calls(calllog.read(log))
    assert record["error"]["code"] == "ParameterNotFound"


def test_a_process_without_botocore_imports_nothing_more(tmp_path):
    probe = "import sys; print(sorted(m for m in ('botocore', 'json', 're', 'base64') if m in sys.modules))"
    plain = subprocess.run(
        [sys.executable, "-c", probe],
        env=recording_env(tmp_path / "x.jsonl"),
        capture_output=True,
        text=True,
        check=True,
    )
    without = dict(os.environ)
    without.pop("MEGAPOOL_CALL_LOG", None)
    bare = subprocess.run([sys.executable, "-c", probe], env=without, capture_output=True, text=True, check=True)
    assert plain.stdout == bare.stdout
    assert not (tmp_path / "x.jsonl").exists()


def test_sensitive_members_keep_only_their_length():
    import botocore.session  # pylint: disable=import-outside-toplevel

    shape = botocore.session.get_session().get_service_model("ssm").operation_model("PutParameter").input_shape
    redacted = recorder.redact(
        shape, {"Name": "/megapool/local/SECRET_KEY_BASE", "Value": "s3cr3t-value", "Type": "SecureString"}
    )
    assert redacted == {
        "Name": "/megapool/local/SECRET_KEY_BASE",
        "Value": {"__redacted__": True, "length": 12},
        "Type": "SecureString",
    }
    assert "s3cr3t" not in json.dumps(redacted)


def test_launch_template_user_data_keeps_only_the_cluster_it_joins():
    import botocore.session  # pylint: disable=import-outside-toplevel

    shape = botocore.session.get_session().get_service_model("ec2").operation_model("CreateLaunchTemplate").input_shape
    user_data = base64.b64encode(
        b"#!/bin/bash\necho ECS_CLUSTER=megapool-local >> /etc/ecs/ecs.config\necho TOKEN=hunter2\n"
    ).decode()
    redacted = recorder.redact(shape, {"LaunchTemplateName": "lt", "LaunchTemplateData": {"UserData": user_data}})
    marker = redacted["LaunchTemplateData"]["UserData"]
    assert marker == {"__redacted__": True, "length": len(user_data), "ecs_cluster": "megapool-local"}
    assert "hunter2" not in json.dumps(redacted)


def test_ids_of_a_create_answer_are_kept():
    answer = {
        "LaunchTemplate": {"LaunchTemplateId": "lt-1", "LaunchTemplateName": "app", "LatestVersionNumber": 1},
        "ResponseMetadata": {"RequestId": "x"},
    }
    ids = recorder._result_ids(answer)  # pylint: disable=protected-access
    assert ids == {"LaunchTemplate.LaunchTemplateId": "lt-1", "LaunchTemplate.LaunchTemplateName": "app"}
