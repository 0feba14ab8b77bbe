# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator process serves the local data plane of load balancers and DNS (scripts/emulator_ext/elbv2_dataplane.py,
dns_dataplane.py; docs/emulator.md "Local data plane: load balancers and DNS"): through the server, a target of this
test process is health-checked for real, the front found at /megapool-api/fronts forwards to it, the resolver found at
/megapool-api/dns answers a Cloud Map name, and a reset closes both."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import pytest
from botocore.config import Config

from conftest import client

REGION = "eu-north-1"
TARGET_ADDRESS = "127.1.200.2"


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # pylint: disable=arguments-differ
        return

    def do_GET(self):  # pylint: disable=invalid-name
        body = ("health" if self.path == "/health" else "app:%s" % self.headers.get("X-Forwarded-Port")).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def target():
    server = ThreadingHTTPServer((TARGET_ADDRESS, 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    yield server.server_address[:2]
    server.shutdown()
    server.server_close()


def _json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def _a_query(address, name: str) -> list[str]:
    question = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0\x00\x01\x00\x01"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(struct.pack("!HHHHHH", 42, 0x0100, 1, 0, 0, 0) + question, address)
        message = sock.recv(4096)
    count = struct.unpack("!H", message[6:8])[0]
    offset = 12 + len(question)
    return sorted(socket.inet_ntoa(message[offset + 12 + 16 * i : offset + 16 + 16 * i]) for i in range(count))


def test_front_health_and_dns_through_the_emulator(empty_emulator, target):
    elbv2, ec2 = client("elbv2", REGION), client("ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.60.%d.0/24" % i, AvailabilityZone=REGION + zone)["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate("ab")
    ]
    balancer = elbv2.create_load_balancer(Name="dataplane", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    group = elbv2.create_target_group(
        Name="dataplane",
        Protocol="HTTP",
        Port=4000,
        VpcId=vpc,
        TargetType="ip",
        HealthCheckPath="/health",
        HealthCheckIntervalSeconds=5,
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(
        LoadBalancerArn=balancer,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
    )
    elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": target[0], "Port": target[1]}])

    deadline = time.monotonic() + 30
    state = None
    while time.monotonic() < deadline and state != "healthy":
        state = elbv2.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"][0]["TargetHealth"][
            "State"
        ]
        time.sleep(0.1)
    assert state == "healthy"  # from a real HTTP check of the target (GET /health)

    fronts = [
        front for front in _json(empty_emulator + "/megapool-api/fronts") if front["load_balancer_arn"] == balancer
    ]
    assert [(front["listener_port"], front["region"], front["load_balancer_name"]) for front in fronts] == [
        (80, REGION, "dataplane")
    ]
    with urllib.request.urlopen(fronts[0]["url"] + "/", timeout=10) as response:
        assert response.read() == b"app:80"

    sd = client("servicediscovery", REGION, config=Config(inject_host_prefix=False))
    operation = sd.create_private_dns_namespace(Name="dataplane.internal", Vpc=vpc, CreatorRequestId=str(uuid.uuid4()))[
        "OperationId"
    ]
    namespace = sd.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
    service = sd.create_service(
        Name="app",
        NamespaceId=namespace,
        CreatorRequestId=str(uuid.uuid4()),
        DnsConfig={"RoutingPolicy": "MULTIVALUE", "DnsRecords": [{"Type": "A", "TTL": 10}]},
    )["Service"]["Id"]
    sd.register_instance(ServiceId=service, InstanceId="task-1", Attributes={"AWS_INSTANCE_IPV4": target[0]})
    resolver = _json(empty_emulator + "/megapool-api/dns")
    assert _a_query((resolver["host"], resolver["port"]), "app.dataplane.internal") == [target[0]]
    sd.deregister_instance(ServiceId=service, InstanceId="task-1")

    request = urllib.request.Request(empty_emulator + "/moto-api/reset", data=b"", method="POST")
    urllib.request.urlopen(request, timeout=10).close()  # pylint: disable=consider-using-with
    assert _json(empty_emulator + "/megapool-api/fronts") == []
    with pytest.raises(OSError):
        urllib.request.urlopen(fronts[0]["url"] + "/", timeout=2)  # pylint: disable=consider-using-with
