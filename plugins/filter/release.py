# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the release role. Pure functions, no I/O.

(The health probe summary of playbooks/verify.yml is part of the module megapool.aws.http_probe.)
"""

from __future__ import annotations

from typing import Any
from typing import Sequence

from ansible.errors import AnsibleFilterError


def release_revisions(family_and_latest: Sequence[Any]) -> list[list[Any]]:
    """``[family, latest]`` -> ``[[family, 1], ..., [family, latest]]`` (every revision a family may have)."""
    try:
        family, latest = family_and_latest[0], int(family_and_latest[1])
    except (TypeError, ValueError, IndexError):
        raise AnsibleFilterError("release_revisions expects [family, latest revision], got %r" % (family_and_latest,)) from None
    return [[family, revision] for revision in range(1, latest + 1)]


class FilterModule:  # pylint: disable=too-few-public-methods
    """megapool.aws release filters."""

    def filters(self) -> dict[str, Any]:
        return {"release_revisions": release_revisions}
