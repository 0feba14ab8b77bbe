# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: ecs_tasks (placeholder until written; installs nothing)."""

from __future__ import annotations


def apply() -> None:
    """Install the patch (idempotent)."""
