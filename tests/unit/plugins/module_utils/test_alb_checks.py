# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The alb role's input planner: one case per message (each names the variable and the fix)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.megapool.aws.plugins.module_utils.alb_checks import alb_input_errors
from ansible_collections.megapool.aws.plugins.module_utils.alb_checks import alb_subnet_errors

ROLE = Path(__file__).resolve().parents[4] / "roles" / "alb"
# The role's defaults with a cluster and an env; the templated ones as the network role would resolve them.
DEFAULTS = dict(
    yaml.safe_load((ROLE / "defaults" / "main.yml").read_text()),
    megapool_cluster="shop",
    megapool_env="prod",
    alb_target_port=4000,
    alb_subnet_ids=[],
    alb_security_group_ids=[],
    alb_certificate_arn="",
    alb_deletion_protection=True,
)
CERT = "arn:aws:acm:%s:123456789012:certificate/0e3f0e4c-0000-4000-8000-000000000000"

CASES = {
    "target_group_name_too_long": (
        {"megapool_cluster": "c" * 20, "megapool_env": "e" * 10},
        [
            "makes the target group name %s-%s-app, 35 characters; AWS allows 32" % ("c" * 20, "e" * 10),
            "Shorten megapool_cluster or megapool_env by 3 characters (together at most 27)",
        ],
    ),
    "env_upper_case": ({"megapool_env": "Prod"}, ["megapool_env='Prod' is not usable in AWS names"]),
    "target_type": ({"alb_target_type": "lambda"}, ["alb_target_type=lambda is not a target type the role supports"]),
    "port": ({"alb_target_port": 70000}, ["alb_target_port=70000 is not a port"]),
    "path": (
        {"alb_health_check_path": "health"},
        ["alb_health_check_path=health must be an absolute path", "e.g. /health"],
    ),
    "path_with_space": (
        {"alb_health_check_path": "/he alth"},
        ["alb_health_check_path=/he alth must be an absolute path"],
    ),
    "deregistration": ({"alb_deregistration_delay": 3601}, ["alb_deregistration_delay=3601 is outside 0-3600"]),
    "stickiness": ({"alb_stickiness_duration": 0}, ["alb_stickiness_duration=0 is outside 1-604800"]),
    "interval": ({"alb_health_check_interval": 4}, ["alb_health_check_interval=4 / alb_health_check_timeout=5"]),
    "timeout_not_shorter": ({"alb_health_check_timeout": 10}, ["shorter than the interval"]),
    "thresholds": (
        {"alb_unhealthy_threshold": 11},
        ["alb_healthy_threshold=2 / alb_unhealthy_threshold=11: each must be 2-10"],
    ),
    "matcher": (
        {"alb_health_check_matcher": "200,OK"},
        ["alb_health_check_matcher=200,OK is not a list of HTTP codes 200-499"],
    ),
    "idle_timeout": ({"alb_idle_timeout": 240}, ["alb_idle_timeout=240 must be below alb_app_idle_timeout=60"]),
    "ssl_policy": ({"alb_ssl_policy": "TLS13"}, ["alb_ssl_policy=TLS13 is not an ELB security policy"]),
    "certificate_not_acm": (
        {"alb_certificate_arn": "arn:aws:iam::1:server-certificate/x"},
        ["is not an ACM certificate ARN"],
    ),
    "certificate_other_region": (
        {"alb_certificate_arn": CERT % "us-east-1"},
        ["alb_certificate_arn is a certificate of us-east-1 but the load balancer is in eu-north-1"],
    ),
    "subnets_a_string": ({"alb_subnet_ids": "subnet-1,subnet-2"}, ["alb_subnet_ids='subnet-1,subnet-2' is a string"]),
    "not_a_number": ({"alb_deregistration_delay": "soon"}, ["alb_deregistration_delay='soon' is not a whole number"]),
}


def test_the_defaults_are_valid():
    assert alb_input_errors(DEFAULTS, "eu-north-1") == []
    assert (
        alb_input_errors(dict(DEFAULTS, alb_certificate_arn=CERT % "eu-north-1", alb_target_port="4000"), "eu-north-1")
        == []
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_message(case):
    overrides, texts = CASES[case]
    errors = alb_input_errors(dict(DEFAULTS, **overrides), "eu-north-1")
    assert len(errors) == 1, errors
    for text in texts:
        assert text in errors[0], errors[0]


SUBNETS = [
    {"id": "subnet-a", "vpc_id": "vpc-1", "availability_zone": "eu-north-1a"},
    {"id": "subnet-b", "vpc_id": "vpc-1", "availability_zone": "eu-north-1b"},
]


@pytest.mark.parametrize(
    "ids, found, expected",
    [
        (["subnet-a", "subnet-b"], SUBNETS, []),
        (
            ["subnet-a", "subnet-x"],
            SUBNETS[:1] + [dict(SUBNETS[1], id="subnet-b")],
            ["alb_subnet_ids: subnet-x not found in eu-north-1"],
        ),
        (
            ["subnet-a"],
            SUBNETS[:1],
            [
                "alb_subnet_ids: the public subnets (subnet-a) are in 1 AZ (eu-north-1a)",
                "an ALB needs public subnets in at least 2 AZs",
            ],
        ),
        (
            ["subnet-a", "subnet-b"],
            [SUBNETS[0], dict(SUBNETS[1], vpc_id="vpc-2")],
            ["alb_subnet_ids are in more than one VPC (vpc-1, vpc-2)"],
        ),
    ],
)
def test_subnet_errors(ids, found, expected):
    errors = alb_subnet_errors(ids, found, "eu-north-1")
    assert len(errors) == (1 if expected else 0), errors
    for text in expected:
        assert text in errors[0]
