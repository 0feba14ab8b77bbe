# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The revision playbooks/rollback.yml rolls a region back to (filters ``megapool.aws.rollback_candidates`` and
``rollback_target``).

The previous release is the highest ACTIVE revision of the web family below the one the service runs; a revision
that was deregistered (INACTIVE) or deleted cannot be run again ("Amazon ECS task definition states",
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-definition-state.html), so it is skipped. The user
may name the revision instead (``release_rollback_revision``); it must then be ACTIVE too.
"""

from __future__ import annotations

from typing import Any
from typing import Iterable
from typing import Mapping

# How far back the playbook looks without an explicit revision.
LOOK_BACK = 10


def rollback_candidates(current_revision: int, explicit: int | None = None) -> list[int]:
    """The revisions to read, newest first: the explicit one, else up to ``LOOK_BACK`` below the current one."""
    if explicit is not None:
        return [int(explicit)]
    current = int(current_revision)
    return list(range(current - 1, max(current - 1 - LOOK_BACK, 0), -1))


def rollback_target(
    region: str,
    current: Mapping[str, Any],
    described: Iterable[Mapping[str, Any]],
    explicit: int | None = None,
) -> dict[str, Any]:
    """``{"target": "<family>:<revision>" or None, "errors": [...]}``.

    ``current``: the release role's ``_release_current`` (``service_exists``, ``family``, ``revision``,
    ``task_definition``); ``described``: what ``ecs_taskdefinition_info`` answered for ``rollback_candidates``, in that
    order (an answer without ``status`` is a revision that does not exist)."""
    family = current.get("family") or ""
    revision = int(current.get("revision") or 0)
    if explicit is None and not (current.get("service_exists") and revision > 1):
        hint = "" if current.get("service_exists") else " (run playbooks/site.yml first)"
        message = "%s runs %s: there is no earlier revision to roll back to%s" % (
            region,
            current.get("task_definition") or "no service",
            hint,
        )
        return {"target": None, "errors": [message]}
    for answer in described:
        if answer.get("status") == "ACTIVE" and answer.get("revision") is not None:
            return {"target": "%s:%s" % (family, answer["revision"]), "errors": []}
    asked = " (release_rollback_revision=%s)" % explicit if explicit is not None else ""
    return {
        "target": None,
        "errors": [
            "%s: no ACTIVE revision of %s below %s%s: give an existing one with "
            "-e release_rollback_revision=<n>" % (region, family, revision, asked)
        ],
    }
