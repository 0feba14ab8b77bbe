# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the release role. Pure functions, no I/O; the planners live in module_utils (release_plan, release_rollback,
release_waves).

(The health probe summary of playbooks/verify.yml is part of the module megapool.aws.http_probe.)
"""

from __future__ import annotations

from typing import Any
from typing import Sequence

from ansible.errors import AnsibleFilterError

# module_utils are imported in the filters: ansible-core loads every filter file of the collection in each worker
# process that resolves one of them (docs/benchmarks.md, "Warm workers").


def release_revisions(family_and_latest: Sequence[Any]) -> list[list[Any]]:
    """``[family, latest]`` -> ``[[family, 1], ..., [family, latest]]`` (every revision a family may have)."""
    try:
        family, latest = family_and_latest[0], int(family_and_latest[1])
    except (TypeError, ValueError, IndexError):
        raise AnsibleFilterError(
            "release_revisions expects [family, latest revision], got %r" % (family_and_latest,)
        ) from None
    return [[family, revision] for revision in range(1, latest + 1)]


def _checks(inputs: Any) -> dict[str, Any]:
    from ansible_collections.megapool.aws.plugins.module_utils.release_plan import PlanError
    from ansible_collections.megapool.aws.plugins.module_utils.release_plan import release_checks

    if not isinstance(inputs, dict):
        raise AnsibleFilterError("release_checks expects a dict of inputs, got %r" % (inputs,))
    try:
        return release_checks(inputs)
    except PlanError as exc:
        raise AnsibleFilterError("release_checks: %s" % exc) from None


def _token(value: Any, field: str = "started_by") -> str:
    from ansible_collections.megapool.aws.plugins.module_utils.release_plan import PlanError
    from ansible_collections.megapool.aws.plugins.module_utils.release_plan import api_token

    try:
        return api_token(value, field)
    except PlanError as exc:
        raise AnsibleFilterError(str(exc)) from None


def _changes(current: Any, wanted: Any) -> list[str]:
    from ansible_collections.megapool.aws.plugins.module_utils.release_plan import task_definition_changes

    if current is not None and not isinstance(current, dict):
        raise AnsibleFilterError("release_task_definition_changes: the input must be a task definition (dict) or none")
    if not isinstance(wanted, dict):
        raise AnsibleFilterError(
            "release_task_definition_changes: wanted must be a dict (containerDefinitions, networkMode, ...)"
        )
    return task_definition_changes(current, wanted)


def _shared(values_by_region: Any, names: Any, prefix: str = "") -> dict[str, Any]:
    from ansible_collections.megapool.aws.plugins.module_utils.release_plan import conflict_errors
    from ansible_collections.megapool.aws.plugins.module_utils.release_plan import shared_secrets

    if not isinstance(values_by_region, dict) or not isinstance(names, (list, tuple)):
        raise AnsibleFilterError("release_shared_secrets expects {region: [values]} and a list of names")
    result = shared_secrets(list(names), values_by_region)
    result["errors"] = conflict_errors(result["conflicts"], prefix)
    return result


def _explicit(revision: Any) -> int | None:
    if revision in (None, ""):
        return None
    try:
        return int(revision)
    except (TypeError, ValueError):
        raise AnsibleFilterError("release_rollback_revision must be a revision number, got %r" % (revision,)) from None


def _rollback_candidates(current_revision: Any, explicit: Any = None) -> list[int]:
    from ansible_collections.megapool.aws.plugins.module_utils.release_rollback import rollback_candidates

    return rollback_candidates(int(current_revision or 0), _explicit(explicit))


def _rollback_target(current: Any, region: str, described: Any, explicit: Any = None) -> dict[str, Any]:
    from ansible_collections.megapool.aws.plugins.module_utils.release_rollback import rollback_target

    return rollback_target(str(region), dict(current or {}), list(described or []), _explicit(explicit))


def _list(name: str, value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise AnsibleFilterError("release_waves: %s must be a list of inventory hosts, got %r" % (name, value))
    return [str(item) for item in value]


def _waves(
    environment_hosts: Any,
    play_hosts: Any,
    canary_region: Any = None,
    rollout: Any = None,
    image: Any = None,
    image_required: bool = False,
) -> dict[str, Any]:
    from ansible_collections.megapool.aws.plugins.module_utils.release_waves import release_waves

    return release_waves(
        _list("the environment's hosts", environment_hosts),
        _list("play_hosts", play_hosts),
        canary_region,
        rollout,
        image,
        bool(image_required),
    )


def _in_wave(plan: Any, host: str, wave: str = "all") -> bool:
    from ansible_collections.megapool.aws.plugins.module_utils.release_waves import in_wave

    if not isinstance(plan, dict) or "canary" not in plan:
        raise AnsibleFilterError(
            "release_in_wave: the input must be what megapool.aws.release_waves returns, got %r" % (plan,)
        )
    try:
        return in_wave(plan, str(host), str(wave))
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:  # pylint: disable=too-few-public-methods
    """megapool.aws release filters."""

    def filters(self) -> dict[str, Any]:
        return {
            "release_revisions": release_revisions,
            "release_checks": _checks,
            "release_api_token": _token,
            "release_task_definition_changes": _changes,
            "release_shared_secrets": _shared,
            "rollback_candidates": _rollback_candidates,
            "rollback_target": _rollback_target,
            "release_waves": _waves,
            "release_in_wave": _in_wave,
        }
