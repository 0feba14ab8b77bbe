# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator.py's performance change: moto's AWS managed policies are parsed once per process, and every IAM
backend still gets the same policies as moto's own method makes, as objects of its own."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from moto.iam import models

ROOT = Path(__file__).resolve().parents[3]
_SPEC = importlib.util.spec_from_file_location("megapool_emulator_script", ROOT / "scripts" / "emulator.py")
emulator = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(emulator)

ACCOUNT = "123456789012"


@pytest.fixture
def parsed_once(monkeypatch):
    """moto's own ``_init_aws_policies`` until the test calls ``parse_managed_policies_once()``; restored after."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    monkeypatch.setattr(models.IAMBackend, "_init_aws_policies", models.IAMBackend._init_aws_policies)
    return emulator.parse_managed_policies_once


def _policy(policy) -> dict:
    """What a managed policy says, without its random id (``random_policy_id()`` on every construction)."""
    state = {k: v for k, v in vars(policy).items() if k not in ("id", "versions")}
    state["versions"] = [vars(version) for version in policy.versions]
    return state


def test_the_policies_are_moto_s_own(parsed_once):
    moto_s = models.IAMBackend("global", ACCOUNT).aws_managed_policies
    parsed_once()
    ours = models.IAMBackend("global", ACCOUNT).aws_managed_policies
    assert len(moto_s) > 1000
    assert [type(p) for p in ours] == [type(p) for p in moto_s]
    assert [_policy(p) for p in ours] == [_policy(p) for p in moto_s]
    assert [p.arn for p in ours] == [p.arn for p in moto_s]


def test_the_json_is_parsed_once_for_every_backend_and_reset(parsed_once, monkeypatch):
    parsed_once()
    parsed_once()  # idempotent: not wrapped twice
    loads = []
    real_loads = json.loads
    monkeypatch.setattr(json, "loads", lambda text, *a, **kw: loads.append(len(text)) or real_loads(text, *a, **kw))
    backends = [models.IAMBackend(partition, ACCOUNT) for partition in ("global", "aws-cn", "aws-us-gov")]
    backends[0].reset()
    big = [size for size in loads if size > 1_000_000]
    assert len(big) <= 1, "moto's managed-policy JSON was parsed %d times" % len(big)
    assert all(len(b.aws_managed_policies) > 1000 for b in backends)


def test_each_backend_has_policies_of_its_own(parsed_once):
    parsed_once()
    first, second = models.IAMBackend("global", ACCOUNT), models.IAMBackend("global", "210987654321")
    policy = first.aws_managed_policies[0]
    assert policy is not second.aws_managed_policies[0]
    assert policy.versions[0] is not second.aws_managed_policies[0].versions[0]
    policy.attachment_count += 1
    assert second.aws_managed_policies[0].attachment_count == 0
    assert first.managed_policies[policy.arn] is policy


def test_without_the_setting_no_policies(parsed_once, monkeypatch):
    parsed_once()
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")
    assert not models.IAMBackend("global", ACCOUNT).aws_managed_policies
