# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate a request against the botocore service model, the way the AWS service validates it.

botocore's client-side ``ParamValidator`` checks only required members, types and minimum values/lengths; the AWS
service also rejects a value outside an ``enum``, one that does not match the member's ``pattern``, a string or list
over its ``max``, a number over its ``max``, and a member the operation does not have. moto checks almost none of
this, so a request that passes every test can still be refused by AWS with a ``ValidationException`` such as
``Value 'a b' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+``.

Patterns: AWS's request validation matches a pattern against the *whole* value (the error above is for a value with
a space, which an unanchored search would accept), so this validator uses a full match. The models' patterns are
Java regular expressions; ``regex`` handles ``\\p{L}`` classes, and ``java_pattern`` rewrites the UTF-16 surrogate
ranges the XML-string shapes carry.

``SUPPLEMENT`` adds constraints that the AWS API reference documents but the shipped model does not carry, each
with its reference.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass

import botocore.session
import regex


@dataclass(frozen=True)
class Violation:
    """One member of one request that AWS would refuse."""

    service: str
    operation: str
    path: str
    rule: str
    detail: str
    origin: str = ""

    def __str__(self) -> str:
        where = " [%s]" % self.origin if self.origin else ""
        return "%s %s %s: %s (%s)%s" % (
            self.service,
            self.operation,
            self.path or "<request>",
            self.rule,
            self.detail,
            where,
        )


@dataclass(frozen=True)
class Rule:
    """A documented constraint that the botocore model lacks. ``path``: members separated by dots, ``[]`` for items."""

    service: str
    operation: str
    path: str
    pattern: str | None = None
    max_length: int | None = None
    forbidden_prefixes: tuple[str, ...] = ()
    max_json_length: int | None = None
    source: str = ""


_ECS_NAME = r"[A-Za-z0-9_-]{1,255}"
_ELB_NAME = r"(?!-)[A-Za-z0-9-]{1,32}(?<!-)"
_EC2_SG_CHARS = r"[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]"
_EC2_API = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/"
_EC2_RULE_DESCRIPTION = "%s{0,255}" % _EC2_SG_CHARS
_ECS_API = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/"
_ELB_API = "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/"

SUPPLEMENT: tuple[Rule, ...] = (
    # The quotes below are the API reference's, which the botocore model also carries as the member's documentation
    # (``.documentation``) but not as a constraint.
    # "Up to 128 letters (uppercase and lowercase), numbers, hyphens (-), forward slash (/), and underscores (_) are
    # allowed." (RunTask, startedBy; StartTask: "Up to 36 ...")
    Rule("ecs", "RunTask", "startedBy", pattern=r"[A-Za-z0-9/_-]{1,128}", source=_ECS_API + "API_RunTask.html"),
    Rule("ecs", "StartTask", "startedBy", pattern=r"[A-Za-z0-9/_-]{1,36}", source=_ECS_API + "API_StartTask.html"),
    # "A total of 8192 characters are allowed for overrides. This limit includes the JSON formatting characters."
    Rule("ecs", "RunTask", "overrides", max_json_length=8192, source=_ECS_API + "API_RunTask.html"),
    # "Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed."
    Rule("ecs", "CreateCluster", "clusterName", pattern=_ECS_NAME, source=_ECS_API + "API_CreateCluster.html"),
    Rule("ecs", "CreateService", "serviceName", pattern=_ECS_NAME, source=_ECS_API + "API_CreateService.html"),
    Rule(
        "ecs",
        "RegisterTaskDefinition",
        "family",
        pattern=_ECS_NAME,
        source=_ECS_API + "API_RegisterTaskDefinition.html",
    ),
    Rule(
        "ecs",
        "RegisterTaskDefinition",
        "containerDefinitions[].name",
        pattern=_ECS_NAME,
        source=_ECS_API + "API_ContainerDefinition.html",
    ),
    # "Up to 255 characters are allowed. They include letters (both upper and lowercase letters), numbers,
    # underscores (_), and hyphens (-). The name can't be prefixed with "aws", "ecs", or "fargate"."
    Rule(
        "ecs",
        "CreateCapacityProvider",
        "name",
        pattern=_ECS_NAME,
        forbidden_prefixes=("aws", "ecs", "fargate"),
        source=_ECS_API + "API_CreateCapacityProvider.html",
    ),
    # Security group name and description: "Up to 255 characters in length. Valid characters: a-z, A-Z, 0-9, spaces,
    # and ._-:/()#,@[]+=&;{}!$*"; the name "can't start with sg-". Rule descriptions (IpRange, Ipv6Range,
    # UserIdGroupPair, PrefixListId): the same characters, up to 255.
    Rule(
        "ec2",
        "CreateSecurityGroup",
        "GroupName",
        pattern="(?!sg-)%s{1,255}" % _EC2_SG_CHARS,
        source=_EC2_API + "API_CreateSecurityGroup.html",
    ),
    Rule(
        "ec2",
        "CreateSecurityGroup",
        "Description",
        pattern="%s{0,255}" % _EC2_SG_CHARS,
        source=_EC2_API + "API_CreateSecurityGroup.html",
    ),
    *(
        Rule(
            "ec2",
            operation,
            "IpPermissions[].%s[].Description" % member,
            pattern=_EC2_RULE_DESCRIPTION,
            source=_EC2_API + page,
        )
        for operation in (
            "AuthorizeSecurityGroupIngress",
            "AuthorizeSecurityGroupEgress",
            "UpdateSecurityGroupRuleDescriptionsIngress",
            "UpdateSecurityGroupRuleDescriptionsEgress",
        )
        for member, page in (
            ("IpRanges", "API_IpRange.html"),
            ("Ipv6Ranges", "API_Ipv6Range.html"),
            ("UserIdGroupPairs", "API_UserIdGroupPair.html"),
            ("PrefixListIds", "API_PrefixListId.html"),
        )
    ),
    # "A parameter name can't be prefixed with "aws" or "ssm" (case-insensitive). Parameter names can include only the
    # following symbols and letters: a-zA-Z0-9_.- In addition, the slash character ( / ) is used to delineate
    # hierarchies" (PutParameter, Name).
    Rule(
        "ssm",
        "PutParameter",
        "Name",
        pattern=r"[A-Za-z0-9_.\-/]{1,2048}",
        forbidden_prefixes=("aws", "ssm", "/aws", "/ssm"),
        source="https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html",
    ),
    # "... a maximum of 32 characters, must contain only alphanumeric characters or hyphens, and must not begin or
    # end with a hyphen." (target group); the load balancer name also "must not begin with internal-".
    Rule("elbv2", "CreateTargetGroup", "Name", pattern=_ELB_NAME, source=_ELB_API + "API_CreateTargetGroup.html"),
    Rule(
        "elbv2",
        "CreateLoadBalancer",
        "Name",
        pattern=_ELB_NAME,
        forbidden_prefixes=("internal-",),
        source=_ELB_API + "API_CreateLoadBalancer.html",
    ),
)

_SURROGATE_RANGE = re.compile(
    r"\\u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})-\\u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})", re.I
)


def _code_point(high: str, low: str) -> int:
    return 0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00)


def java_pattern(pattern: str) -> str:
    """A model pattern (Java syntax) for the ``regex`` module: UTF-16 surrogate-pair ranges become code points."""
    return _SURROGATE_RANGE.sub(
        lambda m: "\\U%08X-\\U%08X" % (_code_point(m.group(1), m.group(2)), _code_point(m.group(3), m.group(4))),
        pattern,
    )


@functools.lru_cache(maxsize=None)
def compiled(pattern: str):
    return regex.compile(java_pattern(pattern))


@functools.lru_cache(maxsize=None)
def service_model(service: str):
    return botocore.session.get_session().get_service_model(service)


def _is_redacted(value) -> bool:
    return isinstance(value, dict) and value.get("__redacted__") is True


def _is_bytes(value) -> bool:
    return isinstance(value, dict) and "__bytes__" in value


def _check(shape, value, path: str, out: list) -> None:
    kind = shape.type_name
    meta = shape.metadata
    if value is None:
        out.append((path, "type", "null is not a %s" % kind))
        return
    if kind == "structure":
        if not isinstance(value, dict):
            out.append((path, "type", "expected a structure, got %s" % type(value).__name__))
            return
        for name in shape.required_members:
            if name not in value:
                out.append((_join(path, name), "required", "required member missing"))
        for name, member_value in value.items():
            member = shape.members.get(name)
            if member is None:
                out.append((_join(path, name), "unknown-member", "%s has no member %r" % (shape.name, name)))
                continue
            _check(member, member_value, _join(path, name), out)
        if meta.get("union") and len(value) != 1:
            out.append((path, "union", "exactly one member must be set, got %d" % len(value)))
        return
    if kind == "list":
        if not isinstance(value, list):
            out.append((path, "type", "expected a list, got %s" % type(value).__name__))
            return
        _bounds(len(value), meta, path, "items", out)
        for index, item in enumerate(value):
            _check(shape.member, item, "%s[%d]" % (path, index), out)
        return
    if kind == "map":
        if not isinstance(value, dict):
            out.append((path, "type", "expected a map, got %s" % type(value).__name__))
            return
        _bounds(len(value), meta, path, "entries", out)
        for key, item in value.items():
            _check(shape.key, key, "%s{key %s}" % (path, key), out)
            _check(shape.value, item, "%s{%s}" % (path, key), out)
        return
    if kind == "string":
        if _is_redacted(value):
            _bounds(value["length"], meta, path, "characters", out)
            return
        if not isinstance(value, str):
            out.append((path, "type", "expected a string, got %s" % type(value).__name__))
            return
        _bounds(len(value), meta, path, "characters", out)
        if meta.get("enum") and value not in meta["enum"]:
            out.append((path, "enum", "%r is not one of %s" % (value, ", ".join(meta["enum"]))))
        if meta.get("pattern") and not compiled(meta["pattern"]).fullmatch(value):
            out.append((path, "pattern", "%r does not match %s" % (_short(value), meta["pattern"])))
        return
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            out.append((path, "type", "expected an integer, got %r" % (value,)))
            return
        _range(value, meta, path, out)
        return
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            out.append((path, "type", "expected a number, got %r" % (value,)))
            return
        _range(value, meta, path, out)
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            out.append((path, "type", "expected a boolean, got %r" % (value,)))
        return
    if kind == "blob":
        if _is_bytes(value):
            _bounds(value["__bytes__"], meta, path, "bytes", out)
        elif _is_redacted(value):
            _bounds(value["length"], meta, path, "bytes", out)
        elif isinstance(value, str):
            _bounds(len(value.encode("utf-8")), meta, path, "bytes", out)
        elif not (isinstance(value, dict) and value.get("__stream__")):
            out.append((path, "type", "expected bytes, got %s" % type(value).__name__))
        return
    if kind == "timestamp":
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            out.append((path, "type", "expected a timestamp, got %r" % (value,)))
        return
    # document / unknown kinds: anything goes


def _join(path: str, name: str) -> str:
    return "%s.%s" % (path, name) if path else name


def _short(value: str) -> str:
    return value if len(value) <= 160 else value[:157] + "..."


def _bounds(count: int, meta: dict, path: str, unit: str, out: list) -> None:
    if "min" in meta and count < meta["min"]:
        out.append((path, "min-length", "%d %s, at least %s allowed" % (count, unit, meta["min"])))
    if "max" in meta and count > meta["max"]:
        out.append((path, "max-length", "%d %s, at most %s allowed" % (count, unit, meta["max"])))


def _range(number, meta: dict, path: str, out: list) -> None:
    if "min" in meta and number < meta["min"]:
        out.append((path, "min-value", "%r is below the minimum %s" % (number, meta["min"])))
    if "max" in meta and number > meta["max"]:
        out.append((path, "max-value", "%r is above the maximum %s" % (number, meta["max"])))


def _values_at(value, parts: list[str], path: str = ""):
    """(path, value) pairs for a supplement path such as ``containerDefinitions[].name``."""
    if not parts:
        yield path, value
        return
    part, rest = parts[0], parts[1:]
    each = part.endswith("[]")
    name = part[:-2] if each else part
    if not isinstance(value, dict) or name not in value:
        return
    child = value[name]
    if each:
        for index, item in enumerate(child if isinstance(child, list) else []):
            yield from _values_at(item, rest, "%s[%d]" % (_join(path, name), index))
    else:
        yield from _values_at(child, rest, _join(path, name))


def _supplement(service: str, operation: str, params: dict, out: list, rules=SUPPLEMENT) -> None:
    for rule in rules:
        if rule.service != service or rule.operation != operation:
            continue
        for path, value in _values_at(params, rule.path.split(".")):
            cite = " (%s)" % rule.source if rule.source else ""
            if rule.max_json_length is not None:
                size = len(json.dumps(value, separators=(",", ":")))
                if size > rule.max_json_length:
                    out.append(
                        (
                            path,
                            "max-length",
                            "%d characters of JSON, at most %d allowed%s" % (size, rule.max_json_length, cite),
                        )
                    )
            if not isinstance(value, str):
                continue
            if rule.pattern and not regex.fullmatch(rule.pattern, value):
                out.append((path, "pattern", "%r does not match %s%s" % (_short(value), rule.pattern, cite)))
            if rule.max_length is not None and len(value) > rule.max_length:
                out.append(
                    (path, "max-length", "%d characters, at most %d allowed%s" % (len(value), rule.max_length, cite))
                )
            for prefix in rule.forbidden_prefixes:
                if value.lower().startswith(prefix):
                    out.append((path, "forbidden-prefix", "%r starts with %r%s" % (value, prefix, cite)))


def validate(service: str, operation: str, params: dict, rules=SUPPLEMENT) -> list[tuple[str, str, str]]:
    """(member path, rule, detail) for everything in the request that AWS would refuse; [] when it is valid."""
    model = service_model(service)
    if operation not in model.operation_names:
        return [("", "unknown-operation", "%s has no operation %s" % (service, operation))]
    shape = model.operation_model(operation).input_shape
    out: list = []
    if shape is None:
        if params:
            out.append(("", "unknown-member", "%s takes no parameters" % operation))
        return out
    _check(shape, params if params is not None else {}, "", out)
    _supplement(service, operation, params or {}, out, rules)
    return out


def validate_records(records, origin=lambda record: "") -> list[Violation]:
    """Every violation of every recorded call."""
    found = []
    for record in records:
        if "operation" not in record:
            continue
        for path, rule, detail in validate(record["service"], record["operation"], record.get("params") or {}):
            found.append(Violation(record["service"], record["operation"], path, rule, detail, origin(record)))
    return found


def model_patterns(services) -> list[tuple[str, str, str | None]]:
    """(service, pattern, error or None) for every pattern in the given services' models: proves none is skipped."""
    result = []
    for service in services:
        model = service_model(service)
        for name in model.shape_names:
            pattern = model.shape_for(name).metadata.get("pattern")
            if pattern:
                try:
                    compiled(pattern)
                    result.append((service, pattern, None))
                except regex.error as exc:
                    result.append((service, pattern, str(exc)))
    return result
