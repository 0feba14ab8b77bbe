# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small text helpers shared by the modules' messages and the live-progress action plugins (no I/O)."""

from __future__ import annotations


def seconds(value: float) -> str:
    """A duration in messages: ``600`` for whole seconds, ``2.5`` otherwise."""
    return ("%d" % value) if float(value).is_integer() else ("%g" % value)
