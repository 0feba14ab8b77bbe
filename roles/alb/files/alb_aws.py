# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stop-gap AWS calls of the alb role, for attributes the stock modules cannot set reliably.

    python alb_aws.py target-group-attributes NAME KEY=VALUE... [--check]
    python alb_aws.py load-balancer-attributes NAME KEY=VALUE... [--check]

community.aws.elb_target_group only ever turns stickiness on (``stickiness_enabled: false`` is never applied), and
both it and amazon.aws.elb_application_lb fail (KeyError) on a resource whose attribute list lacks an attribute they
compare: the emulator lists ``stickiness.lb_cookie.duration_seconds``, ``idle_timeout.timeout_seconds`` and
``routing.http.drop_invalid_header_fields.enabled`` only once they are set. So the role sets those attributes through
this file. When the modules handle both, the role's tasks pass the attributes to them and this file goes.
Connection settings come from the usual AWS environment variables (AWS_DEFAULT_REGION, AWS_ENDPOINT_URL,
AWS_ACCESS_KEY_ID, ... set by the role from ``megapool_aws``). Prints one JSON object: ``changed``, ``attributes``
(after the run) and ``warnings``. Writes only the attributes that differ, and nothing with --check; ``changed`` is what
a read-back shows (or, with --check, would).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable

import boto3
import botocore.exceptions


class NotFound(Exception):
    """The resource does not exist."""


def _target_group(client, name: str) -> tuple[Callable[[], dict[str, str]], Callable[[list[dict[str, str]]], Any]]:
    try:
        arn = client.describe_target_groups(Names=[name])["TargetGroups"][0]["TargetGroupArn"]
    except client.exceptions.TargetGroupNotFoundException as exc:
        raise NotFound("target group %s does not exist" % name) from exc

    def read() -> dict[str, str]:
        return {item["Key"]: item["Value"] for item in client.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]}

    def write(attributes: list[dict[str, str]]) -> Any:
        return client.modify_target_group_attributes(TargetGroupArn=arn, Attributes=attributes)

    return read, write


def _load_balancer(client, name: str) -> tuple[Callable[[], dict[str, str]], Callable[[list[dict[str, str]]], Any]]:
    try:
        arn = client.describe_load_balancers(Names=[name])["LoadBalancers"][0]["LoadBalancerArn"]
    except client.exceptions.LoadBalancerNotFoundException as exc:
        raise NotFound("load balancer %s does not exist" % name) from exc

    def read() -> dict[str, str]:
        return {item["Key"]: item["Value"] for item in client.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]}

    def write(attributes: list[dict[str, str]]) -> Any:
        return client.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=attributes)

    return read, write


_KINDS = {"target-group-attributes": _target_group, "load-balancer-attributes": _load_balancer}


def set_attributes(kind: str, name: str, wanted: dict[str, str], check: bool) -> dict[str, Any]:
    """Set the attributes in ``wanted`` that differ; the others stay as they are."""
    read, write = _KINDS[kind](boto3.session.Session().client("elbv2"), name)
    before = read()
    changes = {key: value for key, value in wanted.items() if before.get(key) != value}
    if not changes or check:
        return {"changed": bool(changes), "attributes": before, "warnings": []}
    write([{"Key": key, "Value": value} for key, value in sorted(changes.items())])
    after = read()
    ignored = sorted(key for key, value in changes.items() if after.get(key) != value)
    warnings = ["the endpoint did not apply %s" % ", ".join(ignored)] if ignored else []
    return {"changed": after != before, "attributes": after, "warnings": warnings}


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError("expected KEY=VALUE, got %r" % text)
    return key, value


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for kind in _KINDS:
        command = commands.add_parser(kind)
        command.add_argument("name")
        command.add_argument("attributes", nargs="+", type=_pair)
        command.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    try:
        result = set_attributes(args.command, args.name, dict(args.attributes), args.check)
    except (NotFound, botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        print(json.dumps({"failed": True, "msg": "%s: %s" % (args.command, exc)}))
        return 1
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
