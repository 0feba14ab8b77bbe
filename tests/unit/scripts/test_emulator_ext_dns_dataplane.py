# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/dns_dataplane.py: a UDP resolver on 127.0.0.1 for Cloud Map names and private-zone A
records, per VPC like the VPC's resolver; asked with Python sockets and with Erlang's inet_res (the way a BEAM node
of a local task asks, through ERL_INETRC)."""

from __future__ import annotations

import os
import random
import socket
import struct
import subprocess
import uuid

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws
from moto.moto_api._internal.models import moto_api_backend

from emulator_ext import dns_dataplane as ext
from emulator_ext import servicediscovery

REGION = "eu-north-1"
OTHER = "us-east-1"
NAMESPACE = "demo.megapool.internal"


def query(address: tuple[str, int], name: str, qtype: int = 1) -> tuple[int, list[str]]:
    """(rcode, A addresses) of one UDP query."""
    query_id = random.randrange(65536)
    question = (
        b"".join(bytes([len(label)]) + label.encode() for label in name.rstrip(".").split("."))
        + b"\0"
        + struct.pack("!HH", qtype, 1)
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(struct.pack("!HHHHHH", query_id, 0x0100, 1, 0, 0, 0) + question, address)
        message = sock.recv(4096)
    answer_id, flags, _qd, count = struct.unpack("!HHHH", message[:8])
    assert answer_id == query_id and flags & 0x8000
    offset = 12 + len(question)
    addresses = []
    for _attempt in range(count):
        _pointer, rtype, _rclass, _ttl, length = struct.unpack("!HHHIH", message[offset : offset + 12])
        assert rtype == 1 and length == 4
        addresses.append(socket.inet_ntoa(message[offset + 12 : offset + 16]))
        offset += 12 + length
    return flags & 0xF, sorted(addresses)


def test_wire_format_roundtrip_and_malformed():
    question = b"\x03app\x04demo\x00" + struct.pack("!HH", 1, 1)
    message = struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0) + question
    assert ext.parse_query(message) == (7, 0x0100, "app.demo", 1, 1, question)
    response = ext.build_response(7, 0x0100, question, 0, ["127.1.0.2"], 10)
    assert struct.unpack("!HHHHHH", response[:12]) == (7, 0x8180, 1, 1, 0, 0)
    assert response.endswith(socket.inet_aton("127.1.0.2"))
    for bad in (b"\x00\x07\x01\x00\x00\x02" + b"\0" * 6, b"\x00\x07\x01\x00\x00\x01" + b"\0" * 6 + b"\x05ab"):
        with pytest.raises(ValueError):
            ext.parse_query(bad)
        assert struct.unpack("!H", ext.answer(bad, None)[2:4])[0] & 0xF == ext.RCODE_FORMERR
    assert ext.answer(b"\x00", None) is None


LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20)
ADDRESS = st.tuples(*[st.integers(0, 255)] * 4).map(lambda parts: "%d.%d.%d.%d" % parts)


@given(
    query_id=st.integers(0, 65535),
    labels=st.lists(LABEL, min_size=1, max_size=4),
    addresses=st.lists(ADDRESS, max_size=8),
    ttl=st.integers(0, 86400),
)
def test_wire_format_property(query_id, labels, addresses, ttl):
    question = b"".join(bytes([len(label)]) + label.encode() for label in labels) + b"\0" + struct.pack("!HH", 1, 1)
    message = struct.pack("!HHHHHH", query_id, 0x0100, 1, 0, 0, 0) + question
    assert ext.parse_query(message) == (query_id, 0x0100, ".".join(labels), 1, 1, question)
    response = ext.build_response(query_id, 0x0100, question, 0, addresses, ttl)
    assert len(response) <= 512  # one question and at most 8 answers fit a plain UDP answer
    assert struct.unpack("!HHHH", response[:8]) == (query_id, 0x8180, 1, len(addresses))
    offset = 12 + len(question)
    for address in addresses:
        assert struct.unpack("!HHHIH", response[offset : offset + 12]) == (0xC00C, 1, 1, ttl, 4)
        assert socket.inet_ntoa(response[offset + 12 : offset + 16]) == address
        offset += 16


@pytest.fixture
def patched():
    servicediscovery.apply()
    ext.apply()
    ext.apply()  # idempotent
    yield
    ext.restore()
    servicediscovery.restore()


@pytest.fixture
def world(aws_env, patched):  # pylint: disable=unused-argument
    """Two VPCs in two regions, a private namespace on the first with a service of two instances."""
    with mock_aws():
        vpcs = {
            region: boto3.client("ec2", region_name=region).create_vpc(CidrBlock="10.%d.0.0/16" % i)["Vpc"]["VpcId"]
            for i, region in enumerate((REGION, OTHER))
        }
        sd = boto3.client("servicediscovery", region_name=REGION)
        operation = sd.create_private_dns_namespace(
            Name=NAMESPACE, Vpc=vpcs[REGION], CreatorRequestId=str(uuid.uuid4())
        )["OperationId"]
        namespace = sd.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
        service = sd.create_service(
            Name="app",
            NamespaceId=namespace,
            CreatorRequestId=str(uuid.uuid4()),
            DnsConfig={"RoutingPolicy": "MULTIVALUE", "DnsRecords": [{"Type": "A", "TTL": 10}]},
        )["Service"]["Id"]
        for index, address in enumerate(("127.1.0.2", "127.1.0.3")):
            sd.register_instance(
                ServiceId=service, InstanceId="task-%d" % index, Attributes={"AWS_INSTANCE_IPV4": address}
            )
        yield {"sd": sd, "service": service, "vpcs": vpcs, "namespace": namespace}


def test_cloud_map_names_per_vpc(world):
    everything = ext.resolver()
    mine = ext.resolver(world["vpcs"][REGION])
    theirs = ext.resolver(world["vpcs"][OTHER])
    assert everything[0] == "127.0.0.1" and len({everything, mine, theirs}) == 3
    assert ext.resolver(world["vpcs"][REGION]) == mine  # one server per view
    assert query(mine, "app." + NAMESPACE) == (0, ["127.1.0.2", "127.1.0.3"])
    assert query(everything, "APP.%s." % NAMESPACE.upper()) == (0, ["127.1.0.2", "127.1.0.3"])
    # the private namespace's zone is on the first VPC only: the other region's VPC does not see it (like AWS)
    assert query(theirs, "app." + NAMESPACE) == (ext.RCODE_NXDOMAIN, [])
    assert query(mine, "nothing." + NAMESPACE) == (ext.RCODE_NXDOMAIN, [])
    assert query(mine, "app." + NAMESPACE, qtype=28) == (0, [])  # AAAA of a known name: NOERROR, no records

    # associating the zone with the other VPC (cross-region) makes the names resolve there
    zone = world["sd"].get_namespace(Id=world["namespace"])["Namespace"]["Properties"]["DnsProperties"]["HostedZoneId"]
    boto3.client("route53", region_name=REGION).associate_vpc_with_hosted_zone(
        HostedZoneId=zone, VPC={"VPCRegion": OTHER, "VPCId": world["vpcs"][OTHER]}
    )
    assert query(theirs, "app." + NAMESPACE) == (0, ["127.1.0.2", "127.1.0.3"])

    world["sd"].deregister_instance(ServiceId=world["service"], InstanceId="task-0")
    assert query(mine, "app." + NAMESPACE) == (0, ["127.1.0.3"])


def test_at_most_eight_answers(world):
    for index in range(2, 12):
        world["sd"].register_instance(
            ServiceId=world["service"],
            InstanceId="task-%d" % index,
            Attributes={"AWS_INSTANCE_IPV4": "127.1.0.%d" % (index + 2)},
        )
    rcode, addresses = query(ext.resolver(), "app." + NAMESPACE)
    assert rcode == 0 and len(addresses) == 8 and len(set(addresses)) == 8


def test_private_zone_records(world):
    route53 = boto3.client("route53", region_name=REGION)
    zone = route53.create_hosted_zone(
        Name="db.internal",
        CallerReference=str(uuid.uuid4()),
        HostedZoneConfig={"PrivateZone": True},
        VPC={"VPCRegion": REGION, "VPCId": world["vpcs"][REGION]},
    )["HostedZone"]["Id"]
    route53.change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": "writer.db.internal",
                        "Type": "A",
                        "TTL": 30,
                        "ResourceRecords": [{"Value": "127.2.0.9"}],
                    },
                }
            ]
        },
    )
    assert query(ext.resolver(world["vpcs"][REGION]), "writer.db.internal") == (0, ["127.2.0.9"])
    assert query(ext.resolver(world["vpcs"][OTHER]), "writer.db.internal") == (ext.RCODE_NXDOMAIN, [])


def test_reset_closes_the_servers(world):  # pylint: disable=unused-argument
    address = ext.resolver()
    moto_api_backend.reset()
    assert not ext._SERVERS  # pylint: disable=protected-access
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(address)  # the port is free again: nothing listens on it


def test_erlang_inet_res_through_an_inetrc(world, tmp_path):
    host, port = ext.resolver(world["vpcs"][REGION])
    inetrc = tmp_path / "inetrc"
    inetrc.write_text(ext.inetrc(world["vpcs"][REGION]))
    assert "{nameserver, {127,0,0,1}, %d}." % port in inetrc.read_text() and host == "127.0.0.1"
    script = (
        'io:format("~p~n~p~n~p~n", [lists:sort(inet_res:lookup("app.%s", in, a)), '
        'inet:getaddrs("app.%s", inet), inet_res:lookup("nothing.%s", in, a)]), halt().'
    ) % (NAMESPACE, NAMESPACE, NAMESPACE)
    output = subprocess.run(
        ["erl", "-noshell", "-eval", script],
        env=dict(os.environ, ERL_INETRC=str(inetrc)),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split("\n")
    assert output[0] == "[{127,1,0,2},{127,1,0,3}]"
    assert output[1].startswith("{ok,[") and "{127,1,0,2}" in output[1] and "{127,1,0,3}" in output[1]
    assert output[2] == "[]"
