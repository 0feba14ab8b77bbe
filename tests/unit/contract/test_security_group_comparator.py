# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Contract test of the shadow comparator ``megapool.aws.security_groups_to_converge``: the network role runs
``amazon.aws.ec2_security_group`` only for the groups it lists, so it must list a group exactly when the module,
called with the role's options (roles/network/tasks/vpc.yml: ``rules``, ``purge_rules: true``, ``tags``,
``purge_tags: true``, no ``rules_egress``), would change it.

The role's three groups (ALB, bastion, cluster: CIDR rules, a port range, rules naming the other groups) are built with
the module under moto, one drift at a time is made with boto3 as a console user or another tool would, then the
comparator (on what ``ec2_security_group_info`` reads) and the module in CHECK MODE are asked about every group.
"""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ansible_collections.amazon.aws.plugins.modules import ec2_security_group
from ansible_collections.amazon.aws.plugins.modules import ec2_security_group_info
from ansible_collections.megapool.aws.plugins.module_utils.security_groups import security_groups_to_converge

REGION = "eu-north-1"
NAME = "megapool-contract"
TAGS = {"megapool:env": "contract", "megapool:cluster": "megapool"}


@pytest.fixture
def ec2(aws_env, monkeypatch):  # pylint: disable=unused-argument
    # The module sleeps 3 s after creating a group and 10 s between reads while rules propagate: moto answers at once.
    monkeypatch.setattr(ec2_security_group, "sleep", lambda seconds: None)
    with mock_aws():
        yield boto3.client("ec2", region_name=REGION)


def _ok(result: dict) -> dict:
    assert not result.get("failed"), result.get("msg")
    return result


def _specs(edge_ids: dict) -> list[dict]:
    """The role's groups (roles/network/vars/main.yml), admin CIDR with host bits as a user may write it."""

    def tags(role):
        return dict(TAGS, **{"Name": NAME + "-" + role, "megapool:role": role})

    return [
        {
            "name": NAME + "-alb",
            "description": NAME + " load balancer",
            "rules": [
                {"proto": "tcp", "ports": [80, 443], "cidr_ip": "0.0.0.0/0", "rule_desc": "HTTP and HTTPS"},
            ],
            "tags": tags("alb"),
        },
        {
            "name": NAME + "-bastion",
            "description": NAME + " bastion",
            "rules": [{"proto": "tcp", "ports": [22], "cidr_ip": ["203.0.113.9/24"], "rule_desc": "SSH from admins"}],
            "tags": tags("bastion"),
        },
        {
            "name": NAME + "-cluster",
            "description": NAME + " cluster",
            "rules": [
                {"proto": "tcp", "ports": [4000], "group_id": edge_ids.get(NAME + "-alb"), "rule_desc": "app"},
                {
                    "proto": "tcp",
                    "ports": ["4370-4379"],
                    "cidr_ip": ["10.70.0.0/16", "10.71.0.0/16"],
                    "rule_desc": "distribution",
                },
                {"proto": "tcp", "ports": [22], "group_id": edge_ids.get(NAME + "-bastion"), "rule_desc": "SSH"},
                {"proto": "tcp", "ports": [4369], "cidr_ip": ["10.70.0.0/16", "10.71.0.0/16"], "rule_desc": "epmd"},
            ],
            "tags": tags("cluster"),
        },
    ]


def _args(vpc_id: str, spec: dict) -> dict:
    """The options roles/network/tasks/vpc.yml passes to ec2_security_group."""
    return {
        "region": REGION,
        "name": spec["name"],
        "description": spec["description"],
        "vpc_id": vpc_id,
        "rules": spec["rules"],
        "purge_rules": True,
        "tags": spec["tags"],
        "purge_tags": True,
    }


def _build(run_module, vpc_id: str) -> dict:
    ids: dict = {}
    for index in range(3):
        spec = _specs(ids)[index]
        ids[spec["name"]] = _ok(run_module(ec2_security_group.main, _args(vpc_id, spec)))["group_id"]
    return ids


def _drift(ec2_client, ids: dict, drift: str) -> str | None:
    """Make one drift; return the name of the group it touched."""
    cluster, bastion, alb = ids[NAME + "-cluster"], ids[NAME + "-bastion"], ids[NAME + "-alb"]
    if drift == "extra rule":
        ec2_client.authorize_security_group_ingress(
            GroupId=bastion,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.9.0.0/16"}]}
            ],
        )
        return NAME + "-bastion"
    if drift == "port removed":
        ec2_client.revoke_security_group_ingress(
            GroupId=alb,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
            ],
        )
        return NAME + "-alb"
    if drift == "group rule removed":
        perms = ec2_client.describe_security_groups(GroupIds=[cluster])["SecurityGroups"][0]["IpPermissions"]
        pair = [perm for perm in perms if perm.get("FromPort") == 22 and perm.get("UserIdGroupPairs")][0]
        ec2_client.revoke_security_group_ingress(GroupId=cluster, IpPermissions=[pair])
        return NAME + "-cluster"
    if drift == "cidr of a range removed":
        ec2_client.revoke_security_group_ingress(
            GroupId=cluster,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 4370, "ToPort": 4379, "IpRanges": [{"CidrIp": "10.71.0.0/16"}]}
            ],
        )
        return NAME + "-cluster"
    if drift == "rule description":
        ec2_client.update_security_group_rule_descriptions_ingress(
            GroupId=bastion,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 22,
                    "ToPort": 22,
                    "IpRanges": [{"CidrIp": "203.0.113.0/24", "Description": "someone else's"}],
                }
            ],
        )
        return NAME + "-bastion"
    if drift == "tag value":
        ec2_client.create_tags(Resources=[alb], Tags=[{"Key": "megapool:env", "Value": "other"}])
        return NAME + "-alb"
    if drift == "extra tag":
        ec2_client.create_tags(Resources=[cluster], Tags=[{"Key": "owner", "Value": "someone"}])
        return NAME + "-cluster"
    if drift == "tag removed":
        ec2_client.delete_tags(Resources=[bastion], Tags=[{"Key": "Name"}])
        return NAME + "-bastion"
    if drift == "egress rule added":
        # Without rules_egress the module leaves egress alone: no difference for either.
        ec2_client.authorize_security_group_egress(
            GroupId=alb,
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": 25, "ToPort": 25, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}],
        )
        return None
    if drift == "missing":
        ec2_client.delete_security_group(GroupId=alb)
        return NAME + "-alb"
    assert drift == "none"
    return None


DRIFTS = [
    "none",
    "extra rule",
    "port removed",
    "group rule removed",
    "cidr of a range removed",
    "rule description",
    "tag value",
    "extra tag",
    "tag removed",
    "egress rule added",
    "missing",
]


@pytest.mark.parametrize("drift", DRIFTS)
def test_security_groups_to_converge_agrees_with_ec2_security_group(ec2, run_module, drift):
    vpc_id = ec2.create_vpc(CidrBlock="10.70.0.0/16")["Vpc"]["VpcId"]
    ids = _build(run_module, vpc_id)
    touched = _drift(ec2, ids, drift)
    specs = _specs(ids)

    found = _ok(
        run_module(
            ec2_security_group_info.main,
            {"region": REGION, "filters": {"vpc-id": vpc_id, "group-name": [spec["name"] for spec in specs]}},
        )
    )["security_groups"]
    listed = {spec["name"] for spec in security_groups_to_converge(specs, found, vpc_id)}
    changed = {
        spec["name"]
        for spec in specs
        if _ok(run_module(ec2_security_group.main, _args(vpc_id, spec), check_mode=True))["changed"]
    }

    assert listed == changed
    assert listed == ({touched} if touched else set())


def test_after_the_module_ran_nothing_is_listed(ec2, run_module):
    """The module's own result of a converge is what the comparator reads as converged (the no-op of a re-run)."""
    vpc_id = ec2.create_vpc(CidrBlock="10.70.0.0/16")["Vpc"]["VpcId"]
    ids = _build(run_module, vpc_id)
    # (not a rule description: moto's UpdateSecurityGroupRuleDescriptionsIngress answers without "Return")
    _drift(ec2, ids, "group rule removed")
    _drift(ec2, ids, "tag value")
    _drift(ec2, ids, "cidr of a range removed")
    for spec in _specs(ids):
        _ok(run_module(ec2_security_group.main, _args(vpc_id, spec)))
    found = _ok(run_module(ec2_security_group_info.main, {"region": REGION, "filters": {"vpc-id": vpc_id}}))[
        "security_groups"
    ]
    assert security_groups_to_converge(_specs(ids), found, vpc_id) == []
