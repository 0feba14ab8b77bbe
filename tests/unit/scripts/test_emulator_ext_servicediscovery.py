# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/servicediscovery.py: a private DNS namespace's hosted zone is on its VPC and goes with it;
a service with instances and a namespace with services are not deleted.

The first tests pin down plain moto's behaviour (the reasons for the patch); the others apply the patch.
"""

from __future__ import annotations

import uuid

import boto3
import pytest
from moto import mock_aws

from emulator_ext import servicediscovery as ext

REGION = "eu-north-1"
NAME = "megapool.test.internal"


@pytest.fixture
def patched():
    ext.apply()
    ext.apply()  # idempotent
    yield
    ext.restore()


@pytest.fixture
def clients(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        yield boto3.client("servicediscovery", region_name=REGION), boto3.client("route53", region_name=REGION), \
            boto3.client("ec2", region_name=REGION).create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]


def _namespace(sd, vpc: str) -> dict:
    operation = sd.create_private_dns_namespace(Name=NAME, Vpc=vpc, CreatorRequestId=str(uuid.uuid4()))["OperationId"]
    namespace_id = sd.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
    return sd.get_namespace(Id=namespace_id)["Namespace"]


def _service(sd, namespace_id: str) -> str:
    return sd.create_service(
        Name="app", NamespaceId=namespace_id, CreatorRequestId=str(uuid.uuid4()),
        DnsConfig={"RoutingPolicy": "MULTIVALUE", "DnsRecords": [{"Type": "A", "TTL": 10}]},
    )["Service"]["Id"]


def _zone_ids(route53) -> list[str]:
    return [zone["Id"].rsplit("/", 1)[-1] for zone in route53.list_hosted_zones()["HostedZones"]]


def test_plain_moto_keeps_the_zone_and_deletes_what_is_in_use(clients):
    sd, route53, vpc = clients
    namespace = _namespace(sd, vpc)
    zone_id = namespace["Properties"]["DnsProperties"]["HostedZoneId"].rsplit("/", 1)[-1]
    assert route53.get_hosted_zone(Id=zone_id).get("VPCs", []) == []
    service = _service(sd, namespace["Id"])
    sd.register_instance(ServiceId=service, InstanceId="task-1", Attributes={"AWS_INSTANCE_IPV4": "10.0.1.5"})
    sd.delete_service(Id=service)
    sd.delete_namespace(Id=namespace["Id"])
    assert zone_id in _zone_ids(route53), "moto changed: the extension may no longer be needed"


def test_the_namespace_zone_is_on_its_vpc(clients, patched):  # pylint: disable=unused-argument
    sd, route53, vpc = clients
    zone_id = _namespace(sd, vpc)["Properties"]["DnsProperties"]["HostedZoneId"].rsplit("/", 1)[-1]
    zone = route53.get_hosted_zone(Id=zone_id)
    assert zone["HostedZone"]["Config"]["PrivateZone"] is True
    assert zone["VPCs"] == [{"VPCRegion": REGION, "VPCId": vpc}]


def test_deleting_the_namespace_deletes_its_zone(clients, patched):  # pylint: disable=unused-argument
    sd, route53, vpc = clients
    other = route53.create_hosted_zone(Name="example.com", CallerReference="other")["HostedZone"]["Id"].rsplit("/", 1)[-1]
    namespace = _namespace(sd, vpc)
    zone_id = namespace["Properties"]["DnsProperties"]["HostedZoneId"].rsplit("/", 1)[-1]
    assert sorted(_zone_ids(route53)) == sorted([other, zone_id])
    sd.delete_namespace(Id=namespace["Id"])
    assert _zone_ids(route53) == [other]
    assert sd.list_namespaces()["Namespaces"] == []


def test_a_service_with_instances_is_not_deleted(clients, patched):  # pylint: disable=unused-argument
    sd, _route53, vpc = clients
    namespace = _namespace(sd, vpc)
    service = _service(sd, namespace["Id"])
    sd.register_instance(ServiceId=service, InstanceId="task-1", Attributes={"AWS_INSTANCE_IPV4": "10.0.1.5"})
    with pytest.raises(sd.exceptions.ResourceInUse, match="task-1"):
        sd.delete_service(Id=service)
    with pytest.raises(sd.exceptions.ResourceInUse, match=service):
        sd.delete_namespace(Id=namespace["Id"])
    assert len(sd.list_namespaces()["Namespaces"]) == 1
    sd.deregister_instance(ServiceId=service, InstanceId="task-1")
    sd.delete_service(Id=service)
    sd.delete_namespace(Id=namespace["Id"])
    assert sd.list_namespaces()["Namespaces"] == []
