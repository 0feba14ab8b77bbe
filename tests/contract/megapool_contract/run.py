# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The logs of a test run, and a first converge of playbooks/site.yml when the run recorded none."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from . import calllog

ROOT = Path(__file__).resolve().parents[3]
RECORDER = Path(__file__).resolve().parents[1] / "recorder"
DEFAULT_LOG = ROOT / "tests" / "output" / "aws-calls.jsonl"
CONVERGE_LOG = ROOT / "tests" / "output" / "contract-converge.jsonl"


def logs_of_the_run() -> list[Path]:
    """``MEGAPOOL_CONTRACT_LOGS`` (os.pathsep-separated), else tests/output/aws-calls.jsonl; those that exist."""
    named = os.environ.get("MEGAPOOL_CONTRACT_LOGS")
    paths = [Path(p) for p in named.split(os.pathsep) if p] if named else [DEFAULT_LOG]
    return [p for p in paths if p.is_file() and p.stat().st_size > 0]


def has_first_converge(records: list[dict]) -> bool:
    """True when the records create an ECS cluster, an Auto Scaling group and a capacity provider."""
    ops = {r.get("operation") for r in records if not r.get("error")}
    return {"CreateCluster", "CreateAutoScalingGroup", "CreateCapacityProvider"} <= ops


def converge(log: Path = CONVERGE_LOG) -> str | None:
    """A first converge of playbooks/site.yml on inventories/local against a wiped test emulator, recorded in ``log``.

    Returns None, or the end of its output when it failed (what it sent until then is in the log all the same)."""
    port = os.environ.get("MEGAPOOL_EMULATOR_PORT") or "5100"
    bin_dir = Path(sys.executable).parent
    log.parent.mkdir(parents=True, exist_ok=True)
    if log.exists():
        log.unlink()
    env = dict(os.environ, MEGAPOOL_EMULATOR_PORT=port, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    env.pop("PYTEST_CURRENT_TEST", None)  # the converge is no test's request
    env["PATH"] = os.pathsep.join((str(bin_dir), env.get("PATH", "")))
    emulator = [sys.executable, str(ROOT / "scripts" / "emulator.py")]
    subprocess.run(emulator + ["start", "--port", port], check=True, cwd=ROOT, env=env)
    env.update(
        MEGAPOOL_CALL_LOG=str(log),
        MEGAPOOL_CALL_STAGE="contract-converge",
        PYTHONPATH=os.pathsep.join(p for p in (str(RECORDER), os.environ.get("PYTHONPATH", "")) if p),
    )
    subprocess.run(emulator + ["reset", "--port", port], check=True, cwd=ROOT, env=env)
    run = subprocess.run(
        [str(bin_dir / "ansible-playbook"), "playbooks/site.yml", "-i", "inventories/local"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        return "the first converge of playbooks/site.yml failed:\n" + run.stdout[-4000:] + run.stderr[-2000:]
    return None


def records_to_check() -> tuple[list[dict], list[Path], str | None]:
    """The run's records, the logs they come from, and the failure of the converge run here (if it was, and failed).

    A recorded first converge is added when the run has none (the stage run alone)."""
    paths = logs_of_the_run()
    records = [r for p in paths for r in calllog.read(p)]
    failure = None
    if not has_first_converge(records):
        failure = converge(CONVERGE_LOG)
        if CONVERGE_LOG.is_file():
            paths.append(CONVERGE_LOG)
            records += calllog.read(CONVERGE_LOG)
    records.sort(key=lambda r: (r.get("time", 0), r["_line"]))
    return records, paths, failure


def summary(violations) -> str:
    """Violations grouped by (service, operation, member path, rule): count, one detail, where they came from."""
    import re  # pylint: disable=import-outside-toplevel

    groups: dict = defaultdict(list)
    for violation in violations:
        groups[
            (violation.service, violation.operation, re.sub(r"\[\d+\]", "[]", violation.path), violation.rule)
        ].append(violation)
    lines = []
    for (service, operation, path, rule), found in sorted(groups.items()):
        origins = sorted({v.origin for v in found})
        lines.append(
            "%s %s %s: %s, %d request(s); e.g. %s"
            % (service, operation, path or "<request>", rule, len(found), found[0].detail)
        )
        lines.extend("    from %s" % o for o in origins[:4])
        if len(origins) > 4:
            lines.append("    ... and %d more origins" % (len(origins) - 4))
    return "\n".join(lines)
