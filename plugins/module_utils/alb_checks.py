# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every problem with the alb role's inputs (pure, no I/O): the planner behind the filters
``megapool.aws.alb_input_errors`` (the inputs alone) and ``megapool.aws.alb_subnet_errors`` (the subnets as found).

Ranges are ELBv2's: health check interval 5-300 s, timeout 2-120 s, thresholds 2-10, deregistration delay 0-3600 s,
stickiness 1-604800 s, success codes 200-499 for HTTP
(https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html,
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html)."""

from __future__ import annotations

import re
from typing import Any
from typing import Mapping
from typing import Sequence

from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import idle_timeout_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import ELB_NAME_MAX
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import as_int
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import derived_name_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import list_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import name_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import number_errors

NUMBERS = (
    "alb_target_port",
    "alb_deregistration_delay",
    "alb_stickiness_duration",
    "alb_health_check_interval",
    "alb_health_check_timeout",
    "alb_healthy_threshold",
    "alb_unhealthy_threshold",
)
TARGET_TYPES = ("ip", "instance")
_PATH_RE = re.compile(r"^/[^ ]*$")
_CODE = "[2-4][0-9][0-9]"
_MATCHER_RE = re.compile(r"^{c}(-{c})?(,{c}(-{c})?)*$".format(c=_CODE))
_CERTIFICATE_RE = re.compile(r"^arn:aws[a-z-]*:acm:")


def derived_names(cluster: Any, env: Any) -> dict[str, tuple[str, int]]:
    """The names the role makes (vars/main.yml) with their AWS limits."""
    name = "%s-%s" % (cluster, env)
    return {"load balancer name": (name, ELB_NAME_MAX), "target group name": (name + "-app", ELB_NAME_MAX)}


def alb_input_errors(inputs: Mapping[str, Any], region: str) -> list[str]:
    """``inputs``: the role's variables by name (megapool_cluster, megapool_env, alb_*)."""
    cluster, env = inputs.get("megapool_cluster"), inputs.get("megapool_env")
    errors = name_errors(cluster, env)
    if not errors:
        errors += derived_name_errors(derived_names(cluster, env), cluster, env)
    target_type = inputs.get("alb_target_type")
    if target_type not in TARGET_TYPES:
        errors.append(
            "alb_target_type=%s is not a target type the role supports: use ip for ECS tasks in awsvpc network "
            "mode (the default), instance for bridge or host network mode" % target_type
        )
    for variable, example in (
        ("alb_subnet_ids", "[subnet-0123456789abcdef0, subnet-0fedcba9876543210]"),
        ("alb_security_group_ids", "[sg-0123456789abcdef0]"),
    ):
        errors += list_errors(variable, inputs.get(variable, []), example)
    path = inputs.get("alb_health_check_path")
    if not (isinstance(path, str) and _PATH_RE.match(path) and len(path) <= 1024):
        errors.append(
            "alb_health_check_path=%s must be an absolute path without spaces (at most 1024 characters): start it "
            "with a slash, e.g. /%s" % (path, str(path).lstrip("/"))
        )
    matcher = str(inputs.get("alb_health_check_matcher"))
    if not _MATCHER_RE.match(matcher):
        errors.append(
            'alb_health_check_matcher=%s is not a list of HTTP codes 200-499: write it like "200", "200,204" or '
            '"200-299"' % matcher
        )
    errors += idle_timeout_errors(inputs.get("alb_idle_timeout"), inputs.get("alb_app_idle_timeout"))
    policy = str(inputs.get("alb_ssl_policy"))
    if not policy.startswith("ELBSecurityPolicy-"):
        errors.append(
            "alb_ssl_policy=%s is not an ELB security policy: use ELBSecurityPolicy-TLS13-1-2-2021-06 (TLS 1.3 and "
            "1.2) or another ELBSecurityPolicy-TLS13-* policy" % policy
        )
    errors += _certificate_errors(inputs.get("alb_certificate_arn"), region)
    numbers = number_errors(inputs, NUMBERS)
    if numbers:
        return errors + numbers
    n = {name: as_int(inputs.get(name)) for name in NUMBERS}
    if not 0 < n["alb_target_port"] <= 65535:
        errors.append(
            "alb_target_port=%d is not a port: set the port the app listens on (1-65535), normally "
            "network_app_port" % n["alb_target_port"]
        )
    if not 0 <= n["alb_deregistration_delay"] <= 3600:
        errors.append(
            "alb_deregistration_delay=%d is outside 0-3600: it is the seconds a deregistering target keeps its "
            "in-flight requests; set it between 0 and 3600 (default 30)" % n["alb_deregistration_delay"]
        )
    if not 1 <= n["alb_stickiness_duration"] <= 604800:
        errors.append(
            "alb_stickiness_duration=%d is outside 1-604800: it is the seconds a client sticks to its target (at "
            "most 7 days); set it between 1 and 604800" % n["alb_stickiness_duration"]
        )
    interval, timeout = n["alb_health_check_interval"], n["alb_health_check_timeout"]
    if not (5 <= interval <= 300 and 2 <= timeout <= 120 and timeout < interval):
        errors.append(
            "alb_health_check_interval=%d / alb_health_check_timeout=%d: the interval is 5-300 s, the timeout "
            "2-120 s and shorter than the interval" % (interval, timeout)
        )
    healthy, unhealthy = n["alb_healthy_threshold"], n["alb_unhealthy_threshold"]
    if not (2 <= healthy <= 10 and 2 <= unhealthy <= 10):
        errors.append(
            "alb_healthy_threshold=%d / alb_unhealthy_threshold=%d: each must be 2-10 consecutive checks"
            % (healthy, unhealthy)
        )
    return errors


def _certificate_errors(arn: Any, region: str) -> list[str]:
    if not arn:
        return []
    arn = str(arn)
    if not _CERTIFICATE_RE.match(arn):
        return [
            "alb_certificate_arn=%s is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>): "
            "leave it empty to use the dns role's certificate" % arn
        ]
    parts = arn.split(":")
    cert_region = parts[3] if len(parts) > 3 else ""
    if cert_region not in ("", region):
        return [
            "alb_certificate_arn is a certificate of %s but the load balancer is in %s: ACM certificates are regional, "
            "use one requested in %s" % (cert_region, region, region)
        ]
    return []


def alb_subnet_errors(subnet_ids: Sequence[str], found: Sequence[Mapping[str, Any]], region: str) -> list[str]:
    """The subnets as ``amazon.aws.ec2_vpc_subnet_info`` found them: all exist, one VPC, two or more AZs (an ALB needs
    subnets in at least two Availability Zones)."""
    errors = []
    found_ids = {subnet.get("id") for subnet in found}
    missing = [subnet for subnet in subnet_ids if subnet not in found_ids]
    if missing:
        errors.append(
            "alb_subnet_ids: %s not found in %s: list public subnets of this region (the default is the network "
            "role's public subnets)" % (", ".join(missing), region)
        )
    vpcs = sorted({str(subnet.get("vpc_id")) for subnet in found})
    if len(vpcs) > 1:
        errors.append(
            "alb_subnet_ids are in more than one VPC (%s): list the public subnets of one VPC" % ", ".join(vpcs)
        )
    azs = sorted({str(subnet.get("availability_zone")) for subnet in found})
    if len(azs) < 2:
        errors.append(
            "alb_subnet_ids: the public subnets (%s) are in %d AZ (%s) but an ALB needs public subnets in at least "
            "2 AZs: add a public subnet of another AZ (role megapool.aws.network with network_az_count >= 2 makes "
            "one per AZ)" % (", ".join(subnet_ids), len(azs), ", ".join(azs))
        )
    return errors
