# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The request validator itself: hand-made requests that AWS refuses must fail, valid ones must pass."""

from __future__ import annotations

import string

import pytest
from botocore.validate import ParamValidator
from hypothesis import given
from hypothesis import strategies as st

from megapool_contract import model_rules

VALID_TG = {"Name": "megapool-local-web", "Protocol": "HTTP", "Port": 4000, "VpcId": "vpc-1", "TargetType": "ip"}

# (service, operation, params, the (path, rule) that must be reported)
MUST_FAIL = [
    ("elbv2", "CreateTargetGroup", dict(VALID_TG, Protocol="HTTPZ"), ("Protocol", "enum")),
    ("elbv2", "CreateTargetGroup", dict(VALID_TG, Name="x" * 33), ("Name", "pattern")),  # supplement: <= 32
    ("elbv2", "CreateTargetGroup", dict(VALID_TG, Name="-web"), ("Name", "pattern")),
    ("elbv2", "CreateTargetGroup", dict(VALID_TG, Port=70000), ("Port", "max-value")),
    ("elbv2", "CreateTargetGroup", dict(VALID_TG, Port="80"), ("Port", "type")),
    (
        "elbv2",
        "CreateTargetGroup",
        dict(VALID_TG, HealthCheckIntervalSeconds=301),
        ("HealthCheckIntervalSeconds", "max-value"),
    ),
    ("elbv2", "CreateTargetGroup", dict(VALID_TG, Tags=[]), ("Tags", "min-length")),
    ("elbv2", "CreateLoadBalancer", {"Name": "internal-web"}, ("Name", "forbidden-prefix")),
    ("iam", "CreateRole", {"RoleName": "a b", "AssumeRolePolicyDocument": "{}"}, ("RoleName", "pattern")),
    ("iam", "CreateRole", {"RoleName": "r" * 65, "AssumeRolePolicyDocument": "{}"}, ("RoleName", "max-length")),
    ("iam", "CreateRole", {"RoleName": "r"}, ("AssumeRolePolicyDocument", "required")),
    ("ecs", "CreateCluster", {"clustername": "megapool"}, ("clustername", "unknown-member")),
    ("ecs", "CreateCluster", {"clusterName": "megapool.local"}, ("clusterName", "pattern")),
    ("ecs", "RunTask", {"taskDefinition": "migrate:3", "startedBy": "release 1.4.2"}, ("startedBy", "pattern")),
    ("ecs", "RunTask", {"taskDefinition": "migrate:3", "startedBy": "a" * 129}, ("startedBy", "pattern")),
    (
        "ecs",
        "StartTask",
        {"taskDefinition": "t", "containerInstances": ["i"], "startedBy": "a" * 37},
        ("startedBy", "pattern"),
    ),
    ("ecs", "RunTask", {"startedBy": "release-1"}, ("taskDefinition", "required")),
    ("ecs", "RunTask", {"taskDefinition": "t", "launchType": "ec2"}, ("launchType", "enum")),
    (
        "ecs",
        "RunTask",
        {"taskDefinition": "t", "overrides": {"containerOverrides": [{"name": "web", "command": ["x" * 9000]}]}},
        ("overrides", "max-length"),
    ),
    (
        "ecs",
        "CreateCapacityProvider",
        {"name": "ecs-hosts", "autoScalingGroupProvider": {"autoScalingGroupArn": "a"}},
        ("name", "forbidden-prefix"),
    ),
    (
        "ecs",
        "RegisterTaskDefinition",
        {"family": "web", "containerDefinitions": [{"name": "web app"}]},
        ("containerDefinitions[0].name", "pattern"),
    ),
    (
        "ecs",
        "TagResource",
        {"resourceArn": "a", "tags": [{"key": "k%d" % i, "value": "v"} for i in range(51)]},
        ("tags", "max-length"),
    ),
    (
        "ecs",
        "TagResource",
        {"resourceArn": "a", "tags": [{"key": "bad<key>", "value": "v"}]},
        ("tags[0].key", "pattern"),
    ),
    (
        "secretsmanager",
        "CreateSecret",
        {"Name": "a", "SecretString": {"__redacted__": True, "length": 65537}},
        ("SecretString", "max-length"),
    ),
    (
        "ssm",
        "PutParameter",
        {"Name": "/a", "Value": "v", "Type": "SecureString", "Overwrite": "yes"},
        ("Overwrite", "type"),
    ),
    (
        "autoscaling",
        "CreateAutoScalingGroup",
        {"AutoScalingGroupName": "g", "MinSize": 1, "MaxSize": 2, "Bogus": 1},
        ("Bogus", "unknown-member"),
    ),
    (
        "ec2",
        "DescribeVpcs",
        {"Filters": [{"Name": "tag:x", "Values": ["1"]}], "MaxResults": 1001},
        ("MaxResults", "max-value"),
    ),
    ("ecs", "FlyToTheMoon", {}, ("", "unknown-operation")),
    (
        "ssm",
        "PutParameter",
        {"Name": "/megapool/local/SECRET KEY", "Value": "v", "Type": "SecureString"},
        ("Name", "pattern"),
    ),
    ("ssm", "PutParameter", {"Name": "/aws/megapool", "Value": "v", "Type": "String"}, ("Name", "forbidden-prefix")),
    (
        "ec2",
        "CreateSecurityGroup",
        {"GroupName": "megapool-local-cluster", "Description": "Erlang distribution from the cluster's VPCs"},
        ("Description", "pattern"),
    ),
    ("ec2", "CreateSecurityGroup", {"GroupName": "sg-cluster", "Description": "x"}, ("GroupName", "pattern")),
    (
        "ec2",
        "AuthorizeSecurityGroupIngress",
        {
            "GroupId": "sg-1",
            "IpPermissions": [
                {
                    "IpProtocol": "tcp",
                    "IpRanges": [{"CidrIp": "10.0.0.0/16", "Description": "epmd (port 4369) – peers"}],
                }
            ],
        },
        ("IpPermissions[0].IpRanges[0].Description", "pattern"),
    ),
]

MUST_PASS = [
    ("elbv2", "CreateTargetGroup", VALID_TG),
    ("elbv2", "CreateTargetGroup", dict(VALID_TG, Name="x" * 32)),
    ("iam", "CreateRole", {"RoleName": "megapool-local-ecs-instance", "AssumeRolePolicyDocument": "{}", "Path": "/"}),
    ("ecs", "RunTask", {"taskDefinition": "migrate:3", "startedBy": "release/1_4_2-x", "count": 1}),
    ("ecs", "RunTask", {"taskDefinition": "migrate:3", "startedBy": "a" * 128}),
    ("ecs", "CreateCluster", {"clusterName": "megapool-local", "tags": [{"key": "megapool:env", "value": "local"}]}),
    (
        "ecs",
        "CreateCapacityProvider",
        {"name": "megapool-local-app", "autoScalingGroupProvider": {"autoScalingGroupArn": "a"}},
    ),
    (
        "ssm",
        "PutParameter",
        {"Name": "/megapool/local/X", "Value": {"__redacted__": True, "length": 64}, "Type": "SecureString"},
    ),
    (
        "autoscaling",
        "CreateAutoScalingGroup",
        {"AutoScalingGroupName": "megapool-local-app", "MinSize": 1, "MaxSize": 2},
    ),
    ("ec2", "DescribeVpcs", {}),
    (
        "ec2",
        "CreateSecurityGroup",
        {"GroupName": "megapool-local-cluster", "Description": "app port from the ALB; epmd (4369) from [peers]"},
    ),
    (
        "ec2",
        "AuthorizeSecurityGroupIngress",
        {
            "GroupId": "sg-1",
            "IpPermissions": [
                {"IpProtocol": "tcp", "UserIdGroupPairs": [{"GroupId": "sg-2", "Description": "SSH from the bastion"}]}
            ],
        },
    ),
]


@pytest.mark.parametrize(
    "service,operation,params,expected", MUST_FAIL, ids=["%s.%s:%s" % (c[0], c[1], c[3][1]) for c in MUST_FAIL]
)
def test_a_request_aws_refuses_is_reported(service, operation, params, expected):
    found = model_rules.validate(service, operation, params)
    assert expected in [(path, rule) for path, rule, _detail in found], found


@pytest.mark.parametrize("service,operation,params", MUST_PASS, ids=["%s.%s" % (c[0], c[1]) for c in MUST_PASS])
def test_a_valid_request_passes(service, operation, params):
    assert model_rules.validate(service, operation, params) == []


@pytest.mark.parametrize(
    "service,operation,params",
    [
        ("elbv2", "CreateTargetGroup", dict(VALID_TG, Protocol="HTTPZ")),
        ("iam", "CreateRole", {"RoleName": "a b", "AssumeRolePolicyDocument": "{}"}),
        ("iam", "CreateRole", {"RoleName": "r" * 65, "AssumeRolePolicyDocument": "{}"}),
        ("elbv2", "CreateTargetGroup", dict(VALID_TG, Port=70000)),
    ],
)
def test_botocore_alone_lets_these_through(service, operation, params):
    """Why this validator exists: botocore's client-side check passes requests that AWS refuses."""
    shape = model_rules.service_model(service).operation_model(operation).input_shape
    assert not ParamValidator().validate(params, shape).has_errors()
    assert model_rules.validate(service, operation, params)


def test_the_violation_names_operation_path_rule_and_origin():
    record = {
        "service": "ecs",
        "operation": "RunTask",
        "params": {"taskDefinition": "t", "startedBy": "a b"},
        "scenario": "release",
    }
    (violation,) = model_rules.validate_records([record], origin=lambda r: "molecule scenario " + r["scenario"])
    text = str(violation)
    for part in ("ecs RunTask startedBy", "pattern", "'a b'", "API_RunTask.html", "molecule scenario release"):
        assert part in text


def test_surrogate_ranges_of_java_patterns_become_code_points():
    pattern = "[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\r\\n\\t]*"
    compiled = model_rules.compiled(pattern)
    assert compiled.fullmatch("megapool-local-app \U0001f600")
    assert not compiled.fullmatch("bell\x07")


SERVICES = (
    "ec2",
    "ecs",
    "elbv2",
    "iam",
    "autoscaling",
    "acm",
    "route53",
    "servicediscovery",
    "ecr",
    "logs",
    "ssm",
    "cloudwatch",
    "sts",
)


def test_every_pattern_of_the_services_used_is_checked_not_skipped():
    patterns = model_rules.model_patterns(SERVICES)
    assert len(patterns) > 100  # the models do carry patterns
    assert [p for p in patterns if p[2] is not None] == []


@given(st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=255))
def test_any_documented_cluster_name_is_accepted(name):
    assert model_rules.validate("ecs", "CreateCluster", {"clusterName": name}) == []


@given(
    st.text(alphabet=string.ascii_letters + string.digits + "_-", max_size=20),
    st.sampled_from(" .:@+=!é"),
    st.text(alphabet=string.ascii_letters, max_size=20),
)
def test_any_other_character_in_a_cluster_name_is_refused(head, bad, tail):
    assert ("clusterName", "pattern") in [
        (p, r) for p, r, _detail in model_rules.validate("ecs", "CreateCluster", {"clusterName": head + bad + tail})
    ]


@given(st.integers(min_value=-5, max_value=400))
def test_health_check_interval_bounds_follow_the_model(seconds):
    found = model_rules.validate("elbv2", "CreateTargetGroup", dict(VALID_TG, HealthCheckIntervalSeconds=seconds))
    assert (found == []) == (5 <= seconds <= 300)


def test_the_recorded_release_gate_of_2026_12_02_is_refused():
    """The migration gate's RunTask of the same real log: startedBy 'release <version>' has a space and dots."""
    from pathlib import Path  # pylint: disable=import-outside-toplevel

    from megapool_contract import calllog  # pylint: disable=import-outside-toplevel

    records = calllog.read(Path(__file__).parent / "data" / "site-first-converge-2026-12-02.jsonl")
    found = model_rules.validate_records(records)
    assert [(v.operation, v.path, v.rule) for v in found] == [("RunTask", "startedBy", "pattern")]
