# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Contract tests for the shadow comparators: the roles skip a stock module when their own copy of its change
detection says nothing differs, so each copy must agree with the module it stands in for.

For each comparator the same resource is put into a series of states (as converged, and one drift at a time made
with boto3 the way a console user or another tool would), then:

- ``megapool.aws.subnets_to_converge`` and ``route_tables_to_converge`` against ``amazon.aws.ec2_vpc_subnet`` and
  ``ec2_vpc_route_table`` in CHECK MODE, with the options the network role passes (roles/network/tasks/vpc.yml):
  the comparator lists the resource exactly when the module reports ``changed``;
- ``megapool.aws.target_group_drift`` against ``community.aws.elb_target_group`` (no check mode) for REAL, with the
  alb role's options (roles/alb/tasks/build.yml): the comparator is non-empty exactly when the module changes
  something, and empty after the module ran;
- ``megapool.aws.asg_differences`` against ``amazon.aws.autoscaling_group`` for real (it always rewrites an existing
  group, so ``changed`` says nothing): after the module ran the comparator is empty, and where the comparator is
  empty the module's run leaves the group as it was.

The stock modules run in-process under moto (the ``run_module`` fixture), so the fixtures are AWS's answers, not the
comparators' beliefs.
"""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ansible_collections.amazon.aws.plugins.modules import autoscaling_group
from ansible_collections.amazon.aws.plugins.modules import autoscaling_group_info
from ansible_collections.amazon.aws.plugins.modules import ec2_vpc_route_table
from ansible_collections.amazon.aws.plugins.modules import ec2_vpc_route_table_info
from ansible_collections.amazon.aws.plugins.modules import ec2_vpc_subnet
from ansible_collections.amazon.aws.plugins.modules import ec2_vpc_subnet_info
from ansible_collections.community.aws.plugins.modules import elb_target_group
from ansible_collections.community.aws.plugins.modules import elb_target_group_info
from ansible_collections.megapool.aws.plugins.module_utils.alb_target_group import target_group_drift
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import asg_differences
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import route_table_tags
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import route_tables_to_converge
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import subnet_plan
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import subnet_spec
from ansible_collections.megapool.aws.plugins.module_utils.network_layout import subnets_to_converge

REGION = "eu-north-1"
NAME = "megapool-contract"
TAGS = {"megapool:env": "contract", "megapool:cluster": "megapool"}


@pytest.fixture
def ec2(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        yield boto3.client("ec2", region_name=REGION)


def _ok(result: dict) -> dict:
    assert not result.get("failed"), result.get("msg")
    return result


# --------------------------------------------------------------------------------------------------- subnets


def _subnet_args(vpc_id: str, spec: dict) -> dict:
    """The options roles/network/tasks/vpc.yml passes to ec2_vpc_subnet."""
    return {
        "region": REGION,
        "vpc_id": vpc_id,
        "cidr": spec["cidr"],
        "az": spec["az"],
        "map_public": spec["map_public"],
        "tags": spec["tags"],
        "purge_tags": True,
    }


def _subnet_drift_one_at_a_time(ec2_client, subnet_id: str, drift: str) -> None:
    if drift == "map_public":
        current = ec2_client.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["MapPublicIpOnLaunch"]
        ec2_client.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": not current})
    elif drift == "tag value":
        ec2_client.create_tags(Resources=[subnet_id], Tags=[{"Key": "megapool:env", "Value": "other"}])
    elif drift == "extra tag":
        ec2_client.create_tags(Resources=[subnet_id], Tags=[{"Key": "owner", "Value": "someone"}])
    elif drift == "tag removed":
        ec2_client.delete_tags(Resources=[subnet_id], Tags=[{"Key": "Name"}])
    elif drift == "missing":
        ec2_client.delete_subnet(SubnetId=subnet_id)
    else:
        assert drift == "none"


@pytest.mark.parametrize("drift", ["none", "map_public", "tag value", "extra tag", "tag removed", "missing"])
def test_subnets_to_converge_agrees_with_ec2_vpc_subnet(ec2, run_module, drift):
    vpc_id = ec2.create_vpc(CidrBlock="10.70.0.0/16")["Vpc"]["VpcId"]
    plan = subnet_plan("10.70.0.0/16", [REGION + "a", REGION + "b"])
    specs = [subnet_spec(item, NAME, TAGS) for item in plan]
    # Built as the role builds them (without the module's wait for "available", which moto answers at once).
    ids = {
        spec["cidr"]: _ok(run_module(ec2_vpc_subnet.main, dict(_subnet_args(vpc_id, spec), wait=False)))["subnet"]["id"]
        for spec in specs
    }
    drifted = specs[0]  # a public subnet: map_public true
    _subnet_drift_one_at_a_time(ec2, ids[drifted["cidr"]], drift)

    found = _ok(run_module(ec2_vpc_subnet_info.main, {"region": REGION, "filters": {"vpc-id": vpc_id}}))["subnets"]
    listed = {item["cidr"] for item in subnets_to_converge(plan, found, NAME, TAGS)}
    changed = {
        spec["cidr"]
        for spec in specs
        if _ok(run_module(ec2_vpc_subnet.main, _subnet_args(vpc_id, spec), check_mode=True))["changed"]
    }

    assert listed == changed
    assert listed == (set() if drift == "none" else {drifted["cidr"]})


# ----------------------------------------------------------------------------------------------- route tables


def _route_table_args(vpc_id: str, table: dict, table_id: str | None) -> dict:
    """The options roles/network/tasks/vpc.yml passes to ec2_vpc_route_table."""
    args = {
        "region": REGION,
        "vpc_id": vpc_id,
        "lookup": "id" if table_id else "tag",
        "subnets": table["subnets"],
        "routes": table["routes"],
        "purge_routes": False,
        "purge_subnets": True,
        "tags": route_table_tags(table, TAGS),
        "purge_tags": True,
    }
    if table_id:
        args["route_table_id"] = table_id
    return args


ROUTE_TABLE_DRIFTS = [
    "none",
    "extra route",
    "route removed",
    "route target",
    "extra association",
    "association removed",
    "tag value",
    "extra tag",
    "missing",
]


@pytest.mark.parametrize("drift", ROUTE_TABLE_DRIFTS)
def test_route_tables_to_converge_agrees_with_ec2_vpc_route_table(ec2, run_module, monkeypatch, drift):
    # The module sleeps 5 s after any change ("to allow route table routes/subnets/associations to be updated"),
    # check mode included; moto is consistent at once.
    monkeypatch.setattr(ec2_vpc_route_table, "sleep", lambda seconds: None)
    vpc_id = ec2.create_vpc(CidrBlock="10.71.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.71.%d.0/24" % index, AvailabilityZone=REGION + "a")["Subnet"][
            "SubnetId"
        ]
        for index in range(3)
    ]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    nat = ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=ec2.allocate_address(Domain="vpc")["AllocationId"])
    nat_id = nat["NatGateway"]["NatGatewayId"]
    table = {
        "name": NAME + "-public",
        "role": "public-rt",
        "subnets": subnets[:2],
        "routes": [{"dest": "0.0.0.0/0", "gateway_id": igw}],
    }
    table_id = _ok(run_module(ec2_vpc_route_table.main, _route_table_args(vpc_id, table, None)))["route_table"]["id"]

    if drift == "extra route":  # e.g. the peering mesh's route to another region: purge_routes is off, so no change
        pcx = ec2.create_vpc_peering_connection(
            VpcId=vpc_id, PeerVpcId=ec2.create_vpc(CidrBlock="10.72.0.0/16")["Vpc"]["VpcId"]
        )
        ec2.create_route(
            RouteTableId=table_id,
            DestinationCidrBlock="10.72.0.0/16",
            VpcPeeringConnectionId=pcx["VpcPeeringConnection"]["VpcPeeringConnectionId"],
        )
    elif drift == "route removed":
        ec2.delete_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0")
    elif drift == "route target":
        ec2.replace_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat_id)
    elif drift == "extra association":
        ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnets[2])
    elif drift == "association removed":
        tables = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
        association = next(item for item in tables["Associations"] if item.get("SubnetId") == subnets[1])
        ec2.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
    elif drift == "tag value":
        ec2.create_tags(Resources=[table_id], Tags=[{"Key": "megapool:env", "Value": "other"}])
    elif drift == "extra tag":
        ec2.create_tags(Resources=[table_id], Tags=[{"Key": "owner", "Value": "someone"}])
    elif drift == "missing":
        for association in ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]["Associations"]:
            ec2.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
        ec2.delete_route_table(RouteTableId=table_id)

    found = _ok(run_module(ec2_vpc_route_table_info.main, {"region": REGION, "filters": {"vpc-id": vpc_id}}))[
        "route_tables"
    ]
    listed = route_tables_to_converge([table], found, TAGS)
    found_id = listed[0]["id"] if listed else table_id
    changed = _ok(run_module(ec2_vpc_route_table.main, _route_table_args(vpc_id, table, found_id), check_mode=True))[
        "changed"
    ]

    assert bool(listed) == changed, (drift, listed)
    assert bool(listed) == (drift not in ("none", "extra route"))


# ---------------------------------------------------------------------------------------------- target groups


def _target_group_options(vpc_id: str) -> dict:
    """The options roles/alb/tasks/build.yml passes to elb_target_group (the defaults of the alb role)."""
    wanted = {
        "health_check_protocol": "HTTP",
        "health_check_path": "/health",
        "health_check_interval": 10,
        "health_check_timeout": 5,
        "healthy_threshold_count": 2,
        "unhealthy_threshold_count": 3,
        "successful_response_codes": "200",
        "deregistration_delay_timeout": 30,
        "tags": dict(TAGS, **{"Name": NAME, "megapool:role": "target-group"}),
    }
    module_args = dict(
        wanted,
        region=REGION,
        name=NAME,
        state="present",
        target_type="ip",
        protocol="HTTP",
        port=4000,
        vpc_id=vpc_id,
        modify_targets=False,
        purge_tags=True,
    )
    return {"wanted": wanted, "module": module_args}


TARGET_GROUP_DRIFTS = {
    "none": {},
    "health check path": {"HealthCheckPath": "/"},
    "health check interval": {"HealthCheckIntervalSeconds": 30},
    "health check timeout": {"HealthCheckTimeoutSeconds": 6},
    "healthy threshold": {"HealthyThresholdCount": 5},
    "unhealthy threshold": {"UnhealthyThresholdCount": 2},
    "success codes": {"Matcher": {"HttpCode": "200,204"}},
    "same success codes in another order": {"Matcher": {"HttpCode": "200"}},
    "deregistration delay": "attribute",
    "tags": "tags",
}


@pytest.mark.parametrize("drift", sorted(TARGET_GROUP_DRIFTS))
def test_target_group_drift_agrees_with_elb_target_group(ec2, run_module, drift):
    vpc_id = ec2.create_vpc(CidrBlock="10.73.0.0/16")["Vpc"]["VpcId"]
    options = _target_group_options(vpc_id)
    if drift == "same success codes in another order":
        options["wanted"]["successful_response_codes"] = options["module"]["successful_response_codes"] = "200,204"
    arn = _ok(run_module(elb_target_group.main, options["module"]))["target_group_arn"]
    elbv2 = boto3.client("elbv2", region_name=REGION)
    change = TARGET_GROUP_DRIFTS[drift]
    if drift == "same success codes in another order":
        elbv2.modify_target_group(TargetGroupArn=arn, Matcher={"HttpCode": "204,200"})
    elif change == "attribute":
        elbv2.modify_target_group_attributes(
            TargetGroupArn=arn, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "300"}]
        )
    elif change == "tags":
        elbv2.add_tags(ResourceArns=[arn], Tags=[{"Key": "owner", "Value": "someone"}])
    elif change:
        elbv2.modify_target_group(TargetGroupArn=arn, **change)

    def found() -> dict:
        return _ok(
            run_module(elb_target_group_info.main, {"region": REGION, "names": [NAME], "collect_targets_health": False})
        )["target_groups"][0]

    listed = target_group_drift(found(), options["wanted"])
    changed = _ok(run_module(elb_target_group.main, options["module"]))["changed"]

    assert bool(listed) == changed, (drift, listed)
    assert listed == ([] if drift in ("none", "same success codes in another order") else [drift])
    assert target_group_drift(found(), options["wanted"]) == []


def test_target_group_drift_of_a_missing_group():
    assert target_group_drift(None, {}) == ["missing"]
    assert target_group_drift({}, {}) == ["missing"]


# ------------------------------------------------------------------------------------------ Auto Scaling groups


def _asg_fixture(ec2_client) -> dict:
    """The wanted group of roles/ecs_hosts/vars/main.yml (an empty group) and the options tasks/asg.yml passes."""
    vpc_id = ec2_client.create_vpc(CidrBlock="10.74.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2_client.create_subnet(VpcId=vpc_id, CidrBlock="10.74.%d.0/24" % index, AvailabilityZone=REGION + zone)[
            "Subnet"
        ]["SubnetId"]
        for index, zone in enumerate("ab")
    ]
    ec2_client.create_launch_template(
        LaunchTemplateName=NAME, LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.small"}
    )
    distribution = {
        "on_demand_allocation_strategy": "prioritized",
        "on_demand_base_capacity": 0,
        "on_demand_percentage_above_base_capacity": 0,
        "spot_allocation_strategy": "price-capacity-optimized",
    }
    tags = {"megapool:env": "contract", "Name": NAME}
    wanted = {
        "min_size": 0,
        "max_size": 4,
        "desired_capacity": 0,
        "vpc_zone_identifier": subnets,
        "launch_template_name": NAME,
        "instance_types": ["t3.small", "t3a.small"],
        "instances_distribution": distribution,
        "health_check_type": "EC2",
        "health_check_period": 300,
        "default_cooldown": 300,
        "termination_policies": ["Default"],
        "metrics_collection": True,
        "tags": tags,
        "propagate_at_launch": True,
        "in_service": False,
    }
    module_args = {
        "region": REGION,
        "name": NAME,
        "launch_template": {"launch_template_name": NAME},
        "mixed_instances_policy": {"instance_types": wanted["instance_types"], "instances_distribution": distribution},
        "vpc_zone_identifier": subnets,
        "min_size": 0,
        "max_size": 4,
        "desired_capacity": 0,
        "health_check_type": "EC2",
        "health_check_period": 300,
        "default_cooldown": 300,
        "termination_policies": ["Default"],
        "metrics_collection": True,
        "tags": [{key: value, "propagate_at_launch": True} for key, value in tags.items()],
        "purge_tags": True,
        "wait_for_instances": False,
    }
    return {"wanted": wanted, "module": module_args}


ASG_DRIFTS = {
    "none": {},
    "max size": {"MaxSize": 6},
    "min size": {"MinSize": 1, "DesiredCapacity": 1},
    "health check grace period": {"HealthCheckGracePeriod": 60},
    "default cooldown": {"DefaultCooldown": 60},
    "subnets": "subnets",
}


def _group(run_module) -> dict:
    return _ok(run_module(autoscaling_group_info.main, {"region": REGION, "name": "^%s$" % NAME}))["results"][0]


def _stable(group: dict) -> dict:
    """The group without what moves by itself (timestamps, activity, instances)."""
    return {
        key: value
        for key, value in group.items()
        if key not in ("created_time", "instances", "instance_facts", "status")
    }


@pytest.mark.parametrize("drift", sorted(ASG_DRIFTS))
def test_asg_differences_agrees_with_autoscaling_group(ec2, run_module, drift):
    fixture = _asg_fixture(ec2)
    wanted = fixture["wanted"]
    _ok(run_module(autoscaling_group.main, fixture["module"]))
    autoscaling = boto3.client("autoscaling", region_name=REGION)
    change = ASG_DRIFTS[drift]
    if change == "subnets":
        autoscaling.update_auto_scaling_group(
            AutoScalingGroupName=NAME, VPCZoneIdentifier=fixture["module"]["vpc_zone_identifier"][0]
        )
    elif change:
        autoscaling.update_auto_scaling_group(AutoScalingGroupName=NAME, **change)

    before = _group(run_module)
    listed = asg_differences(before, wanted)
    assert bool(listed) == (drift != "none"), (drift, listed)

    _ok(run_module(autoscaling_group.main, fixture["module"]))
    after = _group(run_module)
    assert asg_differences(after, wanted) == []
    if not listed:
        assert _stable(after) == _stable(before)
