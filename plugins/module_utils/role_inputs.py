# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every role asks about its inputs before it works (filters ``megapool.aws.environment_hosts`` and
``megapool.aws.inputs_fingerprint``; pure, no I/O).

- ``environment_hosts``: the inventory hosts that are the environment's regions: ``megapool_regions`` when set, else
  the group ``regions`` when the inventory has it, else the hosts of the play (docs/architecture.md, "Regions").
  One definition instead of the same Jinja expression in every role.
- ``inputs_fingerprint``: a digest of a role's inputs. ``playbooks/site.yml`` validates every role's inputs in its
  first play; each role's ``validate.yml`` remembers the digest of what it checked, and the role's ``main`` entry
  point validates again only when its inputs differ from the ones checked (a role used alone, or with other values
  in a later play, always validates).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from typing import Iterable
from typing import Mapping


def environment_hosts(
    groups: Mapping[str, Iterable[str]] | None,
    megapool_regions: Iterable[str] | None = None,
    play_hosts: Iterable[str] | None = None,
) -> list[str]:
    """``megapool_regions`` if not empty, else ``groups['regions']`` if the group exists, else ``play_hosts``."""
    if isinstance(megapool_regions, str):
        raise ValueError(
            "megapool_regions must be a list of inventory hosts (one per region), not the string %r: "
            "write megapool_regions: [%s]" % (megapool_regions, megapool_regions)
        )
    if megapool_regions:
        return list(megapool_regions)
    if groups and "regions" in groups:
        return list(groups["regions"])
    return list(play_hosts or [])


def _canonical(value: Any) -> Any:
    """JSON-ready, order-independent for mappings; anything else by its type and text."""
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_canonical(item) for item in value), key=repr)
    if value is None or isinstance(value, (bool, int, float, str)):
        # A str subclass (Ansible's tagged text) compares as its text.
        return str(value) if isinstance(value, str) else value
    return {"__type__": type(value).__name__, "__text__": str(value)}


def inputs_fingerprint(values: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of ``values`` (keys sorted): equal inputs, equal digests; any change, another."""
    if not isinstance(values, Mapping):
        raise ValueError(
            "inputs_fingerprint takes a mapping of variable names to values, not %s" % type(values).__name__
        )
    text = json.dumps(_canonical(values), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
