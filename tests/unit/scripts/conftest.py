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
