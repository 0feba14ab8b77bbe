# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the call log the recorder writes (one JSON object per line)."""

from __future__ import annotations

import json
from pathlib import Path


def read(path: str | Path) -> list[dict]:
    """Every record of the log, ordered by start time (lines from parallel processes arrive out of order)."""
    records = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise ValueError("%s line %d is not JSON: %s" % (path, number, exc)) from exc
            record["_line"] = number
            records.append(record)
    records.sort(key=lambda r: (r.get("time", 0), r["_line"]))
    return records


def calls(records: list[dict]) -> list[dict]:
    """The API calls only (no reset markers)."""
    return [r for r in records if "operation" in r]


def origin(record: dict) -> str:
    """Where a request came from, for a violation report: scenario / test / playbook / plugin."""
    parts = []
    if record.get("stage"):
        parts.append("stage " + record["stage"])
    if record.get("scenario"):
        parts.append("molecule scenario " + record["scenario"])
    if record.get("test"):
        parts.append("test " + record["test"].split(" ")[0])
    if record.get("playbook"):
        parts.append("playbook " + record["playbook"])
    if record.get("caller"):
        parts.append("sent by " + record["caller"])
    return ", ".join(parts) or "pid %s" % record.get("pid")
