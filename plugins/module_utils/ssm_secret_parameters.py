# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of the module ``megapool.aws.ssm_secret_parameters`` (pure: no AWS call, values never in a result).

Secret parameters ``<prefix><NAME>`` (SSM ``SecureString``) in several regions at once:

- ``input_errors``: the options checked before any AWS call (names, prefix, empty values, regions);
- ``batches``: GetParameters takes at most 10 names
  (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html, ``Names``: "Maximum
  number of 10 items"; a name that does not exist comes back in ``InvalidParameters``, not as an error);
- ``shared_values``: the one value of each generated secret, from every region read; regions that disagree are
  conflicts (names and regions, never values);
- ``plan``: per region and parameter what to do: ``create`` (PutParameter without Overwrite, with the tags: AWS
  refuses ``Tags`` together with ``Overwrite=true`` -- "tags and overwrite can't be used together" -- and its
  PutParameter reference says "To add tags to an existing Systems Manager parameter, use the AddTagsToResource
  operation", https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html), ``update``
  (PutParameter with ``Overwrite=true``, no tags: a given value that differs, a type that is not SecureString or a
  description that differs; a generated value is written back as it is, never replaced) and the tag changes
  (AddTagsToResource / RemoveTagsFromResource, compared with amazon.aws's ``compare_aws_tags`` as
  community.aws.ssm_parameter does); ``delete`` for the names of ``absent`` that exist (a parameter superseded).
"""

from __future__ import annotations

import re
import secrets as _secrets
import string
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Callable
from typing import Iterable
from typing import Mapping
from typing import Optional
from typing import Sequence

from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

SECURE_STRING = "SecureString"
# GetParameters: 1 to 10 names per call (API reference above).
GET_PARAMETERS_MAX = 10
# DescribeParameters: a ParameterStringFilter has 1 to 50 values (botocore's SSM model, ParameterStringFilterValueList).
DESCRIBE_FILTER_MAX = 50
GENERATED_LENGTH = 64
GENERATED_ALPHABET = string.ascii_letters + string.digits
# https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html: a-zA-Z0-9_.- and '/'
# between the levels of a hierarchy; no name may begin with "aws" or "ssm".
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
PREFIX_RE = re.compile(r"^/(?:[A-Za-z0-9_.-]+/)*$")
RESERVED_RE = re.compile(r"^/?(aws|ssm)", re.IGNORECASE)
# Every parameter written is a Standard one when it is created (as community.aws.ssm_parameter does); an update keeps
# the parameter's tier (AWS cannot turn an Advanced parameter back into a Standard one).
DEFAULT_TIER = "Standard"


class SecretInputError(ValueError):
    """Input the module refuses before any AWS call; the message names the option and the fix."""


@dataclass(frozen=True)
class Current:
    """One parameter as one region holds it (``value`` only inside the module, never in a result)."""

    value: str
    type: str = SECURE_STRING
    description: Optional[str] = None
    tier: Optional[str] = None
    tags: Optional[Mapping[str, str]] = None


@dataclass(frozen=True)
class Action:
    """What to do with one parameter in one region. ``put`` holds the PutParameter arguments (with the value)."""

    region: str
    name: str
    kind: str  # create | update | tags | delete | none
    reasons: tuple[str, ...] = ()
    put: Optional[Mapping[str, Any]] = None
    add_tags: Mapping[str, str] = field(default_factory=dict)
    remove_tags: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.kind != "none"


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...]
    conflicts: tuple[Mapping[str, Any], ...]

    @property
    def changed(self) -> bool:
        return any(action.changed for action in self.actions)


def generate_value(choice: Callable[[str], str] = _secrets.choice) -> str:
    """A new secret: 64 letters and digits from the ``secrets`` module's CSPRNG (about 381 bits)."""
    return "".join(choice(GENERATED_ALPHABET) for _position in range(GENERATED_LENGTH))


def batches(items: Sequence[str], size: int = GET_PARAMETERS_MAX) -> list[list[str]]:
    """``items`` in order, in lists of at most ``size`` (GetParameters: 10 names; DescribeParameters' filter: 50)."""
    if size < 1:
        raise ValueError("size must be 1 or more")
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


def _unique(values: Iterable[Any]) -> list[str]:
    return list(dict.fromkeys(str(value) for value in values))


def input_errors(
    prefix: Any,
    secrets: Any,
    generated: Any,
    regions: Any,
    reference_regions: Any = (),
    absent: Any = (),
) -> list[str]:
    """Every problem of the options at once, each naming the option and the fix (no AWS call)."""
    errors = []
    if not isinstance(prefix, str) or not PREFIX_RE.match(prefix) or RESERVED_RE.match(prefix):
        errors.append(
            "prefix=%r must be a parameter path that starts and ends with '/', made of letters, digits, '_', '.' and"
            " '-', not beginning with aws or ssm, e.g. /megapool/prod/" % (prefix,)
        )
    if not isinstance(secrets, Mapping):
        errors.append("secrets must be a dictionary of NAME: value, got %s" % type(secrets).__name__)
        secrets = {}
    names = [str(name) for name in secrets] + [str(name) for name in generated or ()]
    bad = sorted({name for name in names + [str(name) for name in absent or ()] if not NAME_RE.match(name)})
    if bad:
        errors.append(
            "secrets, generated and absent: %s %s not a parameter name: use letters, digits, '_', '.' and '-' only"
            % (", ".join(bad), "is" if len(bad) == 1 else "are")
        )
    kept = sorted(set(str(name) for name in absent or ()) & set(names))
    if kept:
        errors.append(
            "absent: %s %s in secrets or generated too: a parameter is either kept or removed"
            % (", ".join(kept), "is" if len(kept) == 1 else "are")
        )
    empty = sorted(str(name) for name, value in secrets.items() if value is None or str(value) == "")
    if empty:
        errors.append(
            "secrets: %s %s an empty value: SSM cannot hold an empty parameter; give a value, or leave the name out"
            % (", ".join(empty), "has" if len(empty) == 1 else "have")
        )
    structured = sorted(str(name) for name, value in secrets.items() if isinstance(value, (Mapping, list, tuple)))
    if structured:
        errors.append("secrets: %s must be strings, not a mapping or a list" % ", ".join(structured))
    if not regions:
        errors.append("regions must name at least one region to write the parameters in")
    both = sorted(set(_unique(regions or ())) & set(_unique(reference_regions or ())))
    if both:
        errors.append(
            "reference_regions: %s %s in regions too: a region is either written (regions) or only read"
            % (", ".join(both), "is" if len(both) == 1 else "are")
        )
    return errors


def shared_values(
    generated: Sequence[str], prefix: str, current: Mapping[str, Mapping[str, Current]]
) -> tuple[dict[str, Optional[str]], list[dict[str, Any]]]:
    """The value of each generated secret every region must hold, and the conflicts.

    ``current``: region -> parameter name -> ``Current`` (every region read, written ones and reference ones). A
    name no region holds maps to ``None`` (generate it); a name whose regions hold different values is a conflict
    ``{name, parameter, regions}`` with ``regions`` grouped by value (sorted; the values themselves never appear).
    """
    values: dict[str, Optional[str]] = {}
    conflicts: list[dict[str, Any]] = []
    for name in _unique(generated):
        parameter = prefix + name
        groups: dict[str, list[str]] = {}
        for region in sorted(current):
            found = current[region].get(parameter)
            if found is not None and found.value not in (None, ""):
                groups.setdefault(found.value, []).append(region)
        if len(groups) > 1:
            conflicts.append({"name": name, "parameter": parameter, "regions": sorted(groups.values())})
            values[name] = None
        else:
            values[name] = next(iter(groups), None)
    return values, conflicts


def conflict_message(conflicts: Iterable[Mapping[str, Any]], secrets_option: str = "secrets") -> str:
    """One sentence per conflict: the parameter, the regions that agree with each other, and the fix."""
    return " | ".join(
        "SSM parameter %s differs between regions (%s): a generated secret has one value in every region; put the"
        " right value in %s.%s to overwrite it everywhere, or delete the wrong parameters"
        % (
            item["parameter"],
            " | ".join(", ".join(group) for group in item["regions"]),
            secrets_option,
            item["name"],
        )
        for item in conflicts
    )


def _description(template: Optional[str], name: str) -> Optional[str]:
    return template.replace("{name}", name) if template else None


def _action(
    region: str,
    parameter: str,
    value: str,
    given: bool,
    found: Optional[Current],
    description: Optional[str],
    tags: Optional[Mapping[str, str]],
    purge_tags: bool,
) -> Action:
    if found is None:
        put: dict[str, Any] = {"Name": parameter, "Value": value, "Type": SECURE_STRING, "Overwrite": False}
        put["Tier"] = DEFAULT_TIER
        if description:
            put["Description"] = description
        if tags:
            put["Tags"] = [{"Key": key, "Value": tags[key]} for key in sorted(tags)]
        return Action(region, parameter, "create", ("missing",), put=put)
    reasons = []
    if given and found.value != value:
        reasons.append("value")
    if found.type != SECURE_STRING:
        reasons.append("type")
    if description and (found.description or "") != description:
        reasons.append("description")
    put = None
    if reasons:
        # A generated secret keeps the value it has (``value`` is the region's own then).
        put = {"Name": parameter, "Value": value if given else found.value, "Type": SECURE_STRING, "Overwrite": True}
        if description:
            put["Description"] = description
        if found.tier:
            put["Tier"] = found.tier
    add: dict[str, str] = {}
    remove: list[str] = []
    if tags is not None:
        add, remove = compare_aws_tags(dict(found.tags or {}), dict(tags), purge_tags)
        if add or remove:
            reasons.append("tags")
    kind = "update" if put else ("tags" if add or remove else "none")
    return Action(region, parameter, kind, tuple(reasons), put=put, add_tags=add, remove_tags=tuple(sorted(remove)))


def plan(
    regions: Sequence[str],
    prefix: str,
    secrets: Mapping[str, Any],
    generated: Sequence[str],
    current: Mapping[str, Mapping[str, Current]],
    description: Optional[str] = None,
    tags: Optional[Mapping[str, str]] = None,
    purge_tags: bool = True,
    generate: Callable[[], str] = generate_value,
    absent: Sequence[str] = (),
) -> Plan:
    """What to do in each of ``regions`` (``current`` holds those and the reference regions that were read).

    Given values (``secrets``) win over a generated name of the same name. A generated name takes the value any
    region holds; none: ``generate()`` once, the same value in every region. With conflicts the plan has no action
    (nothing may be written). ``description``: ``{name}`` is replaced by the secret's name; empty: not managed.
    ``tags``: ``None``: not managed; ``purge_tags``: tags not in ``tags`` are removed. ``absent``: names whose
    parameter is deleted where it exists.
    """
    given = {str(name): str(value) for name, value in secrets.items()}
    generated_names = [name for name in _unique(generated) if name not in given]
    values, conflicts = shared_values(generated_names, prefix, current)
    if conflicts:
        return Plan((), tuple(conflicts))
    wanted: dict[str, str] = {}
    for name in sorted(set(given) | set(generated_names)):
        if name in given:
            wanted[name] = given[name]
        else:
            known = values.get(name)
            wanted[name] = known if known is not None else generate()
    actions = []
    for region in _unique(regions):
        held = current.get(region, {})
        for name, value in wanted.items():
            parameter = prefix + name
            actions.append(
                _action(
                    region,
                    parameter,
                    value,
                    name in given,
                    held.get(parameter),
                    _description(description, name),
                    tags,
                    purge_tags,
                )
            )
        for name in _unique(absent):
            if prefix + name in held:
                actions.append(Action(region, prefix + name, "delete", ("absent",)))
    return Plan(tuple(actions), ())


def summary(result_plan: Plan, regions: Sequence[str]) -> dict[str, dict[str, list[str]]]:
    """Per region the parameter names created, updated (value, type or description), retagged, deleted and
    unchanged."""
    keys = ("created", "updated", "tagged", "deleted", "unchanged")
    out: dict[str, dict[str, list[str]]] = {region: {key: [] for key in keys} for region in _unique(regions)}
    for action in result_plan.actions:
        row = out.setdefault(action.region, {key: [] for key in keys})
        if action.kind == "delete":
            row["deleted"].append(action.name)
        elif action.kind == "create":
            row["created"].append(action.name)
        elif action.kind == "update":
            row["updated"].append(action.name)
        elif action.kind == "none":
            row["unchanged"].append(action.name)
        if action.add_tags or action.remove_tags:
            row["tagged"].append(action.name)
    return out


def diff(
    result_plan: Plan, current: Mapping[str, Mapping[str, Current]], tags: Optional[Mapping[str, str]]
) -> dict[str, Any]:
    """The ``--diff`` of the plan: per region and parameter whether it exists, its type, description and tags, and
    whether its value changes -- never a value."""
    before: dict[str, dict[str, Any]] = {}
    after: dict[str, dict[str, Any]] = {}
    for action in result_plan.actions:
        if not action.changed:
            continue
        found = current.get(action.region, {}).get(action.name)
        if action.kind == "delete":
            before.setdefault(action.region, {})[action.name] = {"exists": True}
            after.setdefault(action.region, {})[action.name] = {"exists": False}
            continue
        before.setdefault(action.region, {})[action.name] = (
            {"exists": True, "type": found.type, "description": found.description, "tags": dict(found.tags or {})}
            if found is not None
            else {"exists": False}
        )
        new_tags = dict(found.tags or {}) if found is not None else {}
        new_tags = {key: value for key, value in new_tags.items() if key not in action.remove_tags}
        new_tags.update(action.add_tags)
        if action.kind == "create":
            new_tags = dict(tags or {})
        put = action.put or {}
        after.setdefault(action.region, {})[action.name] = {
            "exists": True,
            "type": SECURE_STRING,
            "description": put.get("Description", found.description if found is not None else None),
            "tags": new_tags,
            "value_changed": action.kind == "create" or "value" in action.reasons,
        }
    return {"before": before, "after": after}
