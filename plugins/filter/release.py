# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the release role and playbooks (deploy.yml, rollback.yml, verify.yml). Pure functions, no I/O."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any
from typing import Iterable
from typing import Mapping
from typing import Sequence

from ansible.errors import AnsibleFilterError


def release_revisions(family_and_latest: Sequence[Any]) -> list[list[Any]]:
    """``[family, latest]`` -> ``[[family, 1], ..., [family, latest]]`` (every revision a family may have)."""
    try:
        family, latest = family_and_latest[0], int(family_and_latest[1])
    except (TypeError, ValueError, IndexError):
        raise AnsibleFilterError("release_revisions expects [family, latest revision], got %r" % (family_and_latest,)) from None
    return [[family, revision] for revision in range(1, latest + 1)]


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` in 0-100) of ``values``; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def latency_summary(samples: Iterable[Mapping[str, Any]], min_success_ratio: float = 0.99) -> dict[str, Any]:
    """Success ratio and latency percentiles (milliseconds) of health probes.

    Each sample is ``{"ok": bool, "seconds": float|None, "status": int|None, "error": str|None}`` (as
    roles/release/files/http_probe.py prints them). Latencies count every request that got an answer.
    """
    samples = list(samples)
    if not samples:
        raise AnsibleFilterError("latency_summary: no samples (verify_requests must be 1 or more)")
    succeeded = sum(1 for sample in samples if sample.get("ok"))
    latencies = [float(sample["seconds"]) * 1000.0 for sample in samples if sample.get("seconds") is not None]
    outcomes = Counter(
        "ok" if sample.get("ok") else (("HTTP %s" % sample["status"]) if sample.get("status") else (sample.get("error") or "no answer"))
        for sample in samples
    )
    ratio = succeeded / len(samples)

    def _ms(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "requests": len(samples),
        "succeeded": succeeded,
        "failed": len(samples) - succeeded,
        "success_ratio": round(ratio, 4),
        "p50_ms": _ms(percentile(latencies, 50)),
        "p95_ms": _ms(percentile(latencies, 95)),
        "max_ms": _ms(max(latencies) if latencies else None),
        "outcomes": dict(sorted(outcomes.items())),
        "passed": ratio >= float(min_success_ratio),
    }


class FilterModule:  # pylint: disable=too-few-public-methods
    """megapool.aws release filters."""

    def filters(self) -> dict[str, Any]:
        return {"release_revisions": release_revisions, "latency_summary": latency_summary}
