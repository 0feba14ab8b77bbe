# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the emulator extensions' tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def patched(request: pytest.FixtureRequest):
    """The test file's extension (its module variable ``ext``) applied to moto for the test (twice: ``apply()`` is
    idempotent, as the emulator may call it again), ``restore()``d afterwards; files that need more define their own."""
    ext = request.module.ext
    ext.apply()
    ext.apply()
    yield ext
    ext.restore()


class ExtensionClock:  # pylint: disable=too-few-public-methods
    """An extension's ``_clock`` that stands still until the test moves ``now`` (seconds)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> ExtensionClock:
    """An :class:`ExtensionClock` installed as the ``_clock`` of the extension whose timers the test file drives: its
    module variable ``clock_under_test``, else ``ext``. (tests/unit/conftest.py's ``clock`` is the waiting modules'
    clock and sleep; the extensions have no sleep.)"""
    fake = ExtensionClock()
    monkeypatch.setattr(getattr(request.module, "clock_under_test", None) or request.module.ext, "_clock", fake)
    return fake
