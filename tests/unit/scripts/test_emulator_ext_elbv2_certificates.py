# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/elbv2_certificates.py: a certificate is free again a while after its listener is gone, and
cannot be deleted while it is in use.

The first test pins down plain moto's behaviour (the reason for the patch); the others apply the patch.
"""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from emulator_ext import elbv2_certificates as ext

REGION = "eu-north-1"


@pytest.fixture
def patched(monkeypatch, clock, patched):  # pylint: disable=redefined-outer-name,unused-argument
    """The extension applied (tests/unit/scripts/conftest.py), with its default lag on the fake clock."""
    monkeypatch.delenv(ext.RELEASE_SECONDS_ENV, raising=False)
    return patched


@pytest.fixture
def listener(aws_env):  # pylint: disable=unused-argument
    """An ALB with an HTTPS listener on an ACM certificate: (elbv2 client, acm client, lb arn, listener arn, cert arn)."""
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % i, AvailabilityZone=REGION + az)["Subnet"][
                "SubnetId"
            ]
            for i, az in enumerate("ab")
        ]
        acm = boto3.client("acm", region_name=REGION)
        certificate = acm.request_certificate(DomainName="app.example.com", ValidationMethod="DNS")["CertificateArn"]
        elbv2 = boto3.client("elbv2", region_name=REGION)
        balancer = elbv2.create_load_balancer(Name="app", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        group = elbv2.create_target_group(Name="app", Protocol="HTTP", Port=4000, VpcId=vpc, TargetType="ip")[
            "TargetGroups"
        ][0]["TargetGroupArn"]
        arn = elbv2.create_listener(
            LoadBalancerArn=balancer,
            Protocol="HTTPS",
            Port=443,
            Certificates=[{"CertificateArn": certificate}],
            DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
        )["Listeners"][0]["ListenerArn"]
        yield elbv2, acm, balancer, arn, certificate


def _in_use_by(acm, certificate: str) -> list[str]:
    return acm.describe_certificate(CertificateArn=certificate)["Certificate"].get("InUseBy", [])


def test_plain_moto_keeps_a_deleted_listener_in_use_by(listener):
    elbv2, acm, balancer, arn, certificate = listener
    assert _in_use_by(acm, certificate) == [arn]
    elbv2.delete_load_balancer(LoadBalancerArn=balancer)
    assert _in_use_by(acm, certificate) == [arn], "moto changed: the extension may no longer be needed"


def test_plain_moto_deletes_a_certificate_in_use(listener):
    _elbv2, acm, _balancer, _arn, certificate = listener
    acm.delete_certificate(CertificateArn=certificate)
    assert acm.list_certificates()["CertificateSummaryList"] == [], (
        "moto changed: the extension may no longer be needed"
    )


def _refused(acm, certificate: str) -> str:
    with pytest.raises(acm.exceptions.ResourceInUseException) as caught:
        acm.delete_certificate(CertificateArn=certificate)
    return caught.value.response["Error"]["Message"]


@pytest.mark.parametrize("delete", ["listener", "load_balancer"])
def test_deleting_the_listener_or_the_load_balancer_frees_the_certificate_after_the_lag(
    listener, patched, clock, delete
):  # pylint: disable=unused-argument
    elbv2, acm, balancer, arn, certificate = listener
    assert "is in use" in _refused(acm, certificate)
    if delete == "listener":
        elbv2.delete_listener(ListenerArn=arn)
    else:
        elbv2.delete_load_balancer(LoadBalancerArn=balancer)
    assert _in_use_by(acm, certificate) == [arn]  # ACM lags behind, like AWS
    _refused(acm, certificate)
    clock.now += ext.DEFAULT_RELEASE_SECONDS - 0.5
    assert _in_use_by(acm, certificate) == [arn]
    clock.now += 0.5
    assert _in_use_by(acm, certificate) == []
    acm.delete_certificate(CertificateArn=certificate)
    assert acm.list_certificates()["CertificateSummaryList"] == []


def test_the_lag_is_configurable_and_zero_frees_at_once(listener, patched, monkeypatch):  # pylint: disable=unused-argument
    elbv2, acm, balancer, _arn, certificate = listener
    monkeypatch.setenv(ext.RELEASE_SECONDS_ENV, "0")
    elbv2.delete_load_balancer(LoadBalancerArn=balancer)
    assert _in_use_by(acm, certificate) == []
    acm.delete_certificate(CertificateArn=certificate)


@pytest.mark.parametrize("value, expected", [("", 3.0), ("10", 10.0), ("0.5", 0.5), ("-1", 0.0), ("soon", 3.0)])
def test_release_seconds(monkeypatch, value, expected):
    monkeypatch.setenv(ext.RELEASE_SECONDS_ENV, value)
    assert ext.release_seconds() == expected


def test_a_certificate_is_released_by_any_read_once_the_lag_is_over(listener, patched, clock):  # pylint: disable=unused-argument
    elbv2, acm, balancer, _arn, certificate = listener
    elbv2.delete_load_balancer(LoadBalancerArn=balancer)
    clock.now += 60
    assert [summary["CertificateArn"] for summary in acm.list_certificates()["CertificateSummaryList"]] == [certificate]
    acm.delete_certificate(CertificateArn=certificate)  # no describe in between


def test_a_listener_that_still_uses_the_certificate_keeps_it_in_use(listener, patched, clock):  # pylint: disable=unused-argument
    elbv2, acm, balancer, arn, certificate = listener
    other = elbv2.create_listener(
        LoadBalancerArn=balancer,
        Protocol="HTTPS",
        Port=8443,
        Certificates=[{"CertificateArn": certificate}],
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
    )["Listeners"][0]["ListenerArn"]
    elbv2.delete_listener(ListenerArn=arn)
    clock.now += 60
    assert _in_use_by(acm, certificate) == [other]
