# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How an extension installs its wrappers around moto's methods: once, idempotently, and restorably (for its tests).

An extension lists ``(owner class, method name, wrap)`` triples; ``wrap(original)`` returns the method that replaces
moto's (``original`` is None where moto has no such method). Every installed method carries :data:`PATCHED_FLAG`, so
applying twice (the emulator process and a test in the same interpreter) never wraps a wrapper.
"""

from __future__ import annotations

from typing import Any
from typing import Callable
from typing import Iterable

PATCHED_FLAG = "_megapool_emulator_ext"

Wrap = Callable[[Any], Callable[..., Any]]


class MethodPatches:
    """The wrapped methods of one extension, with moto's originals kept for :meth:`restore`."""

    def __init__(self, patches: Iterable[tuple[type, str, Wrap]]) -> None:
        self.patches = tuple(patches)
        self.originals: dict[tuple[type, str], Any] = {}

    def apply(self) -> None:
        """Install every wrapper not installed yet."""
        for owner, attribute, wrap in self.patches:
            current = getattr(owner, attribute, None)
            if getattr(current, PATCHED_FLAG, False):
                continue
            self.originals[owner, attribute] = current
            method = wrap(current)
            setattr(method, PATCHED_FLAG, True)
            setattr(owner, attribute, method)

    def restore(self) -> None:
        """Put moto's methods back (a method moto did not have is removed again)."""
        for (owner, attribute), original in list(self.originals.items()):
            if original is None:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, original)
            del self.originals[owner, attribute]

    def applied(self) -> bool:
        """Whether every wrapper is installed."""
        return all(getattr(getattr(owner, attribute, None), PATCHED_FLAG, False) for owner, attribute, _wrap in self.patches)
