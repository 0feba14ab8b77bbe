# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input checks every role shares (pure, no I/O): the names AWS resources are made of, the shape of list inputs, and
variables with a role's prefix that its argument spec does not know (typos).

Each function returns messages; every message names the variable and the fix. The role planners
(``network_checks``, ``ecs_hosts_checks``, ``alb_checks``, ``dns_checks``, ``release_checks``) call them.
"""

from __future__ import annotations

import difflib
import re
from typing import Any
from typing import Iterable
from typing import Mapping
from typing import Sequence

# megapool_cluster and megapool_env are part of every name the collection makes (``<cluster>-<env>...``) and of the
# Cloud Map namespace ``<cluster>.<env>.internal``. The strictest rules they feed:
# - ECR repository names: lower case, ``[a-z0-9]+(?:[._-][a-z0-9]+)*`` (no upper case, no two separators in a row)
#   (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html);
# - RDS DB instance identifiers ``<cluster>-<env>``: letters, digits, hyphens, the first a letter, no two hyphens in a
#   row, not ending in a hyphen (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html);
# - load balancer and target group names: alphanumerics and hyphens, not beginning or ending with a hyphen, not
#   beginning with ``internal-``, at most 32 characters
#   (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html);
# - IAM role names: ``[\w+=,.@-]+``, at most 64 characters (no spaces: the reason an env with a space failed at IAM
#   after the network was built; https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html);
# - DNS labels of the Cloud Map namespace: at most 63 characters.
# So: lower-case letters and digits in hyphen-separated words; the cluster (first in every name) starts with a letter.
CLUSTER_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
ENV_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
DNS_LABEL_MAX = 63

# AWS name limits of the names the roles derive from ``<cluster>-<env>`` (the tightest per resource kind).
ELB_NAME_MAX = 32  # CreateLoadBalancer / CreateTargetGroup Name
IAM_ROLE_NAME_MAX = 64  # CreateRole RoleName
ECS_NAME_MAX = 255  # CreateCluster clusterName, CreateService serviceName, task definition family, capacity provider
ASG_NAME_MAX = 255  # CreateAutoScalingGroup AutoScalingGroupName
LAUNCH_TEMPLATE_NAME_MAX = 128  # CreateLaunchTemplate LaunchTemplateName
ALARM_NAME_MAX = 255  # PutMetricAlarm AlarmName
LOG_GROUP_NAME_MAX = 512  # CreateLogGroup logGroupName
ECR_NAME_MAX = 256  # CreateRepository repositoryName


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def name_errors(cluster: Any, env: Any) -> list[str]:
    """megapool_cluster and megapool_env against the strictest AWS rule the names they form must pass."""
    errors = []
    for variable, value, pattern, example in (
        ("megapool_cluster", cluster, CLUSTER_RE, "shop"),
        ("megapool_env", env, ENV_RE, "prod"),
    ):
        if not isinstance(value, str) or not value:
            errors.append(
                "%s=%r: give the %s name as a non-empty string, e.g. %s (it is part of every AWS name and tag)."
                % (variable, value, variable.split("_", 1)[1], example)
            )
            continue
        if not pattern.match(value):
            start = "start with a letter and " if variable == "megapool_cluster" else ""
            errors.append(
                "%s=%r is not usable in AWS names: use lower-case letters and digits, words joined by single hyphens "
                "(%sno spaces, upper case, dots or underscores), e.g. %s: ECR repositories and RDS identifiers accept "
                "nothing else, and IAM refuses spaces." % (variable, value, start, example)
            )
        elif len(value) > DNS_LABEL_MAX:
            errors.append(
                "%s=%r is %d characters: a DNS label of the Cloud Map namespace holds at most %d. Shorten %s."
                % (variable, value, len(value), DNS_LABEL_MAX, variable)
            )
    if not errors and cluster == "internal":
        errors.append(
            "megapool_cluster='internal': load balancer names may not begin with 'internal-' (AWS). Choose another name."
        )
    return errors


def derived_name_errors(names: Mapping[str, tuple[str, int]], cluster: Any, env: Any) -> list[str]:
    """Derived names (``{what: (name, AWS limit)}``) that exceed their limit: one message naming the longest overrun,
    the limit and by how much to shorten megapool_cluster or megapool_env."""
    over = [(len(name) - limit, what, name, limit) for what, (name, limit) in names.items() if len(name) > limit]
    if not over:
        return []
    excess, what, name, limit = max(over)
    return [
        "megapool_cluster=%r with megapool_env=%r makes the %s %s, %d characters; AWS allows %d. Shorten "
        "megapool_cluster or megapool_env by %d character%s (together at most %d)."
        % (
            cluster,
            env,
            what,
            name,
            len(name),
            limit,
            excess,
            "" if excess == 1 else "s",
            len(_text(cluster)) + len(_text(env)) - excess,
        )
    ]


def list_errors(variable: str, value: Any, example: str, elements: str = "str") -> list[str]:
    """A list input given as something else (a string is not iterated letter by letter). ``elements="str"`` also
    refuses items that are not scalars (a dict or a list in the list)."""
    if isinstance(value, str):
        return [
            "%s=%r is a string, but a list is expected: write it as a YAML list, e.g. %s: %s."
            % (variable, value, variable, example)
        ]
    if not isinstance(value, (list, tuple)):
        return ["%s=%r is not a list: write it as a YAML list, e.g. %s: %s." % (variable, value, variable, example)]
    if elements == "str":
        bad = [item for item in value if isinstance(item, (dict, list, tuple)) or item is None]
        if bad:
            return [
                "%s has items that are not strings (%s): list plain values, e.g. %s: %s."
                % (variable, ", ".join(repr(item) for item in bad), variable, example)
            ]
    return []


def dict_errors(variable: str, value: Any, example: str) -> list[str]:
    """A mapping input given as something else."""
    if isinstance(value, Mapping):
        return []
    return ["%s=%r is not a mapping: write it as a YAML dict, e.g. %s: %s." % (variable, value, variable, example)]


def number_errors(inputs: Mapping[str, Any], names: Iterable[str]) -> list[str]:
    """Inputs that must be whole numbers (YAML ints, or digit strings from ``-e name=3``)."""
    errors = []
    for name in names:
        value = inputs.get(name)
        if isinstance(value, bool) or as_int(value) is None:
            errors.append("%s=%r is not a whole number: give a number, e.g. %s: 3." % (name, value, name))
    return errors


def as_int(value: Any) -> int | None:
    """``value`` as an int (ints and strings of digits, with a sign), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.match(r"^\s*[-+]?[0-9]+\s*$", value):
        return int(value)
    return None


def spec_options(argument_specs: Mapping[str, Any]) -> set[str]:
    """Every option of every entry point of a role's ``meta/argument_specs.yml`` (loaded, with or without the
    top-level ``argument_specs`` key)."""
    specs = argument_specs.get("argument_specs", argument_specs) if isinstance(argument_specs, Mapping) else {}
    options: set[str] = set()
    for entry in (specs or {}).values():
        if isinstance(entry, Mapping):
            options.update(str(name) for name in (entry.get("options") or {}))
    return options


def unknown_variables(
    defined: Iterable[str], known: Iterable[str], prefix: str, allowed: Iterable[str] = ()
) -> list[tuple[str, str | None]]:
    """The defined variables that start with ``prefix`` and are neither options of the role (``known``) nor
    ``allowed`` (what the role publishes, e.g. ``<role>_outputs``), sorted, each with the closest known option
    (difflib, or None). Names starting with ``_`` are private and never reported."""
    known = sorted(set(known))
    skip = set(known) | set(allowed)
    found = []
    for name in sorted(set(str(item) for item in defined)):
        if not name.startswith(prefix) or name in skip:
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
        found.append((name, close[0] if close else None))
    return found


def unknown_variable_messages(unknown: Sequence[tuple[str, str | None]], role: str, strict: bool = False) -> list[str]:
    """One message per unknown variable: the role, the suggestion, and how to silence or enforce the check."""
    messages = []
    for name, suggestion in unknown:
        hint = "did you mean %s?" % suggestion if suggestion else "check its spelling against the role's variables"
        messages.append(
            "%s is set but role %s has no such variable: %s (ansible-doc -t role %s lists them)%s"
            % (name, role, hint, role, "" if strict else "; megapool_strict_vars: true makes this an error")
        )
    return messages
