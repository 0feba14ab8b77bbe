# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator.py: the emulator passes MEGAPOOL_LOCAL_IMAGES on, and its stop ends every task process.

A real emulator process on a free port of 127.0.0.1 (the tasks run in their own process groups, which the
emulator's stop does not signal by itself), a local release started with RunTask, then ``emulator.py stop``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest

from dataplane_release import release_images
from dataplane_release import wait_for

ROOT = Path(__file__).resolve().parents[3]
EMULATOR = ROOT / "scripts" / "emulator.py"
REGION = "eu-north-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def emulator(aws_env, tmp_path, monkeypatch):  # pylint: disable=unused-argument
    images = release_images(tmp_path, monkeypatch)
    port = free_port()
    env = dict(os.environ, MEGAPOOL_EMULATOR_PORT=str(port), MEGAPOOL_LOCAL_IMAGES=str(images))
    started = subprocess.run(
        [sys.executable, str(EMULATOR), "start"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert started.returncode == 0, started.stderr
    try:
        yield {"port": port, "env": env}
    finally:
        subprocess.run([sys.executable, str(EMULATOR), "stop"], env=env, capture_output=True, timeout=60, check=False)


def test_stop_ends_the_task_processes(emulator):
    settings = {"endpoint_url": "http://127.0.0.1:%d" % emulator["port"], "region_name": REGION}
    ec2 = boto3.client("ec2", **settings)
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(VpcId=vpc, GroupName="cluster", Description="cluster")["GroupId"]
    ecs = boto3.client("ecs", **settings)
    ecs.create_cluster(clusterName="megapool-local")
    definition = ecs.register_task_definition(
        family="shop",
        networkMode="awsvpc",
        containerDefinitions=[
            {
                "name": "web",
                "image": "megapool.local/shop:1.0.0",
                "memoryReservation": 128,
                "entryPoint": ["/bin/sh", "-c"],
                "command": ["exec ./run.sh"],
                "environment": [{"name": "PORT", "value": "4000"}, {"name": "IGNORE_TERM", "value": "1"}],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    task = ecs.run_task(
        cluster="megapool-local",
        taskDefinition=definition,
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}},
    )["tasks"][0]
    described = ecs.describe_tasks(cluster="megapool-local", tasks=[task["taskArn"]])["tasks"][0]
    address = {item["name"]: item["value"] for item in described["attachments"][0]["details"]}["privateIPv4Address"]

    def pid():
        try:
            with urllib.request.urlopen("http://%s:4000/" % address, timeout=5) as answer:
                return json.load(answer)["pid"]
        except (urllib.error.URLError, OSError):
            return None

    task_pid = wait_for(pid, 30)
    stopped = subprocess.run(
        [sys.executable, str(EMULATOR), "stop"],
        env=emulator["env"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert stopped.returncode == 0
    with pytest.raises(ProcessLookupError):  # SIGTERM ignored: the emulator's stop killed it
        os.kill(task_pid, 0)
