# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/servicediscovery_requests.py: CreatePrivateDnsNamespace sent again with the same
CreatorRequestId makes no second namespace (DuplicateRequest while it runs, NamespaceAlreadyExists after).

The first test pins down plain moto's behaviour (the reason for the patch); the others apply the patch.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.servicediscovery import models as sd_models

from emulator_ext import servicediscovery_requests as ext

REGION = "eu-north-1"


@pytest.fixture
def clients(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        yield (
            boto3.client("servicediscovery", region_name=REGION, config=Config(inject_host_prefix=False)),
            ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"],
            ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"],
        )


def _create(sd, vpc: str, request_id: str = "megapool-request-1", name: str = "a.megapool.internal") -> str:
    return sd.create_private_dns_namespace(Name=name, Vpc=vpc, CreatorRequestId=request_id)["OperationId"]


def test_plain_moto_creates_a_second_namespace_for_the_same_request(clients):
    sd, vpc, other_vpc = clients
    _create(sd, vpc)
    _create(sd, other_vpc)  # the same request id (only the VPC differs, so that moto's one-per-VPC rule is not hit)
    assert len(sd.list_namespaces()["Namespaces"]) == 2


def test_a_repeated_request_after_the_creation_is_namespace_already_exists(clients, patched):  # pylint: disable=unused-argument
    sd, vpc, other_vpc = clients
    operation = _create(sd, vpc)
    namespace_id = sd.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
    with pytest.raises(ClientError) as raised:
        _create(sd, other_vpc)
    error = raised.value.response
    assert error["Error"]["Code"] == "NamespaceAlreadyExists"
    assert (error["NamespaceId"], error["CreatorRequestId"]) == (namespace_id, "megapool-request-1")
    assert [n["Id"] for n in sd.list_namespaces()["Namespaces"]] == [namespace_id]


def test_a_repeated_request_while_the_creation_runs_is_duplicate_request(clients, patched, monkeypatch):  # pylint: disable=unused-argument
    sd, vpc, _other = clients
    original = sd_models.Operation.__init__

    def _pending(self, operation_type, targets):  # AWS runs the creation for a while; moto ends it at once
        original(self, operation_type, targets)
        self.status = "PENDING"

    monkeypatch.setattr(sd_models.Operation, "__init__", _pending)
    operation = _create(sd, vpc)
    with pytest.raises(ClientError) as raised:
        _create(sd, vpc)
    assert raised.value.response["Error"]["Code"] == "DuplicateRequest"
    assert raised.value.response["DuplicateOperationId"] == operation


def test_other_request_ids_are_moto_s_business(clients, patched):  # pylint: disable=unused-argument
    sd, vpc, other_vpc = clients
    _create(sd, vpc)
    _create(sd, other_vpc, request_id="megapool-request-2", name="b.megapool.internal")
    assert len(sd.list_namespaces()["Namespaces"]) == 2


def test_restore_puts_moto_back(clients):
    sd, vpc, other_vpc = clients
    ext.apply()
    ext.restore()
    _create(sd, vpc)
    _create(sd, other_vpc)
    assert len(sd.list_namespaces()["Namespaces"]) == 2
