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
def clients(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        yield (
            boto3.client("servicediscovery", region_name=REGION),
            boto3.client("route53", region_name=REGION),
            boto3.client("ec2", region_name=REGION).create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"],
        )


def _namespace(sd, vpc: str) -> dict:
    operation = sd.create_private_dns_namespace(Name=NAME, Vpc=vpc, CreatorRequestId=str(uuid.uuid4()))["OperationId"]
    namespace_id = sd.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
    return sd.get_namespace(Id=namespace_id)["Namespace"]


def _service(sd, namespace_id: str) -> str:
    return sd.create_service(
        Name="app",
        NamespaceId=namespace_id,
        CreatorRequestId=str(uuid.uuid4()),
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
    other = route53.create_hosted_zone(Name="example.com", CallerReference="other")["HostedZone"]["Id"].rsplit("/", 1)[
        -1
    ]
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


# ------------------------------------------------------------------------------- zone name and VPC associations

OTHER_REGION = "ap-southeast-1"


def _zone_of(namespace: dict) -> str:
    return namespace["Properties"]["DnsProperties"]["HostedZoneId"].rsplit("/", 1)[-1]


def _other_vpc(cidr: str = "10.20.0.0/16") -> str:
    return boto3.client("ec2", region_name=OTHER_REGION).create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]


def _associate(route53, zone_id: str, vpc: str, region: str) -> None:
    route53.associate_vpc_with_hosted_zone(HostedZoneId=zone_id, VPC={"VPCId": vpc, "VPCRegion": region})


def test_plain_moto_names_the_zone_apart_and_associates_anything(clients):
    sd, route53, vpc = clients
    zone_id = _zone_of(_namespace(sd, vpc))
    assert route53.get_hosted_zone(Id=zone_id)["HostedZone"]["Name"] == NAME + "-hz", (
        "moto changed: the extension may no longer be needed"
    )
    _associate(route53, zone_id, "vpc-0000000000000dead", OTHER_REGION)  # a VPC that exists nowhere
    _associate(route53, zone_id, "vpc-0000000000000dead", OTHER_REGION)
    assert [item["VPCId"] for item in route53.get_hosted_zone(Id=zone_id)["VPCs"]] == ["vpc-0000000000000dead"] * 2
    route53.disassociate_vpc_from_hosted_zone(
        HostedZoneId=zone_id, VPC={"VPCId": "vpc-00000000000000abc", "VPCRegion": OTHER_REGION}
    )


def test_the_namespace_zone_has_the_namespace_name(clients, patched):  # pylint: disable=unused-argument
    sd, route53, vpc = clients
    zone_id = _zone_of(_namespace(sd, vpc))
    assert route53.get_hosted_zone(Id=zone_id)["HostedZone"]["Name"] == NAME + "."
    records = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    assert sorted((record["Name"], record["Type"]) for record in records) == [(NAME + ".", "NS"), (NAME + ".", "SOA")]


def test_a_vpc_of_another_region_is_associated_once(clients, patched):  # pylint: disable=unused-argument
    sd, route53, vpc = clients
    zone_id = _zone_of(_namespace(sd, vpc))
    other = _other_vpc()
    _associate(route53, zone_id, other, OTHER_REGION)
    _associate(route53, zone_id, other, OTHER_REGION)
    assert route53.get_hosted_zone(Id=zone_id)["VPCs"] == [
        {"VPCRegion": REGION, "VPCId": vpc},
        {"VPCRegion": OTHER_REGION, "VPCId": other},
    ]
    assert [
        zone["HostedZoneId"]
        for zone in route53.list_hosted_zones_by_vpc(VPCId=other, VPCRegion=OTHER_REGION)["HostedZoneSummaries"]
    ] == [zone_id]
    route53.disassociate_vpc_from_hosted_zone(HostedZoneId=zone_id, VPC={"VPCId": other, "VPCRegion": OTHER_REGION})
    assert route53.get_hosted_zone(Id=zone_id)["VPCs"] == [{"VPCRegion": REGION, "VPCId": vpc}]


def test_a_vpc_that_does_not_exist_in_its_region_is_refused(clients, patched):  # pylint: disable=unused-argument
    sd, route53, vpc = clients
    zone_id = _zone_of(_namespace(sd, vpc))
    with pytest.raises(route53.exceptions.InvalidVPCId):
        _associate(route53, zone_id, "vpc-0000000000000dead", OTHER_REGION)
    with pytest.raises(route53.exceptions.InvalidVPCId):
        _associate(route53, zone_id, _other_vpc(), REGION)  # the VPC is in another region than the one given
    assert route53.get_hosted_zone(Id=zone_id)["VPCs"] == [{"VPCRegion": REGION, "VPCId": vpc}]


def test_a_vpc_is_on_one_private_zone_of_a_name(clients, patched):  # pylint: disable=unused-argument
    """Two regions' namespaces of the SAME name: the other region's VPC cannot take both zones (why each region's
    namespace has its own name, docs/clustering.md)."""
    sd, route53, vpc = clients
    zone_id = _zone_of(_namespace(sd, vpc))
    other = _other_vpc()
    other_sd = boto3.client("servicediscovery", region_name=OTHER_REGION)
    operation = other_sd.create_private_dns_namespace(Name=NAME, Vpc=other, CreatorRequestId=str(uuid.uuid4()))[
        "OperationId"
    ]
    assert other_sd.get_operation(OperationId=operation)["Operation"]["Status"] == "SUCCESS"
    with pytest.raises(route53.exceptions.ConflictingDomainExists, match=other):
        _associate(route53, zone_id, other, OTHER_REGION)
    assert route53.get_hosted_zone(Id=zone_id)["VPCs"] == [{"VPCRegion": REGION, "VPCId": vpc}]


def test_disassociating_a_vpc_that_is_not_associated_is_refused(clients, patched):  # pylint: disable=unused-argument
    sd, route53, vpc = clients
    zone_id = _zone_of(_namespace(sd, vpc))
    other = _other_vpc()
    with pytest.raises(route53.exceptions.VPCAssociationNotFound):
        route53.disassociate_vpc_from_hosted_zone(HostedZoneId=zone_id, VPC={"VPCId": other, "VPCRegion": OTHER_REGION})
    with pytest.raises(route53.exceptions.LastVPCAssociation):
        route53.disassociate_vpc_from_hosted_zone(HostedZoneId=zone_id, VPC={"VPCId": vpc, "VPCRegion": REGION})


def test_restore_puts_the_route53_methods_back(aws_env):  # pylint: disable=unused-argument
    from moto.route53.models import Route53Backend  # pylint: disable=import-outside-toplevel

    original = Route53Backend.associate_vpc_with_hosted_zone
    ext.apply()
    assert Route53Backend.associate_vpc_with_hosted_zone is not original
    ext.restore()
    assert Route53Backend.associate_vpc_with_hosted_zone is original
