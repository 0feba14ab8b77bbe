# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How an extension installs its wrappers around moto's methods: once, idempotently, and restorably (for its tests).

An extension lists ``(owner class, method name, wrap)`` triples; ``wrap(original)`` returns the method that replaces
moto's (``original`` is None where moto has no such method). Every installed method carries the extension's own mark
(``_megapool_ext_<module of the wraps>``), so applying twice (the emulator process and a test in the same interpreter)
never wraps its own wrapper again, while another extension still wraps the same method (its wrapper around this one:
the marks are found along the ``__wrapped__`` chain that ``functools.wraps`` leaves; a wrapper made without it gets
its ``__wrapped__`` here, so the chain never breaks).

An owner is a class, a module (an extension wrapping another extension's module-level function, e.g.
``ecs_deployments._complete``), or ``"module:Class"``. A test may install the wrappers through pytest's
``monkeypatch`` (``apply(monkeypatch)``): its teardown then undoes them.

``wrap`` may also return a ``property`` (a patched attribute such as moto's ``Task.last_status``): it is installed as
a :class:`MarkedProperty`, which can carry the marks and the ``__wrapped__`` link a plain property cannot.
"""

from __future__ import annotations

import importlib
from typing import Any
from typing import Callable
from typing import Iterable

PATCHED_FLAG = "_megapool_emulator_ext"  # every extension's wrapper carries it too (any megapool wrapper)

Wrap = Callable[[Any], Any]


def _owner(owner: type | str) -> type:
    """A class, or the class named ``"module:Class"`` (imported now)."""
    if not isinstance(owner, str):
        return owner
    module, _colon, name = owner.partition(":")
    return getattr(importlib.import_module(module), name)


class MarkedProperty(property):
    """A property that takes attributes (the marks, ``__wrapped__``): a plain ``property`` has no ``__dict__``."""


def _markable(method: Any, original: Any) -> Any:
    """``method`` ready to carry the marks, linked to ``original`` through ``__wrapped__``."""
    if isinstance(method, property) and not isinstance(method, MarkedProperty):
        method = MarkedProperty(method.fget, method.fset, method.fdel, method.__doc__)
    if original is not None and getattr(method, "__wrapped__", None) is None:
        method.__wrapped__ = original
    return method


class MethodPatches:
    """The wrapped methods of one extension, with moto's originals kept for :meth:`restore`."""

    def __init__(self, patches: Iterable[tuple[type | str, str, Wrap]], mark: str | None = None) -> None:
        """``patches``: the triples; an owner may be named ``"module:Class"``, imported at the first use (so that an
        extension imports moto's classes when it is applied, not when the emulator imports it)."""
        self._given = tuple(patches)
        self._patches: tuple[tuple[type, str, Wrap], ...] | None = None
        self._mark = mark
        self.originals: dict[tuple[type, str], Any] = {}
        self.methods: dict[tuple[type, str], Any] = {}  # the wrappers installed, to know whether one is still on top

    @property
    def patches(self) -> tuple[tuple[type, str, Wrap], ...]:
        """The ``(owner class, method name, wrap)`` triples, the owners imported."""
        if self._patches is None:
            self._patches = tuple((_owner(owner), attribute, wrap) for owner, attribute, wrap in self._given)
        return self._patches

    @property
    def mark(self) -> str:
        """The extension's mark: given, else ``_megapool_ext_`` and the module(s) of the wraps."""
        if self._mark is None:
            modules = sorted({getattr(wrap, "__module__", "") or "" for _class, _attribute, wrap in self._given})
            self._mark = "_megapool_ext_" + "_".join(module.rsplit(".", maxsplit=1)[-1] for module in modules)
        return self._mark

    def installed(self, method: Any) -> bool:
        """Whether ``method``, or a method it wraps, is this extension's wrapper."""
        seen = 0
        while method is not None and seen < 100:
            if getattr(method, self.mark, False):
                return True
            method = getattr(method, "__wrapped__", None)
            seen += 1
        return False

    def apply(self, monkeypatch: Any = None) -> None:
        """Install every wrapper not installed yet (around whatever is there, another extension's wrapper too).

        ``monkeypatch``: a pytest ``MonkeyPatch`` to install them with, so that the test's teardown undoes them (a
        method moto lacks is removed again); :meth:`restore` afterwards finds them gone and forgets them."""
        for owner, attribute, wrap in self.patches:
            current = getattr(owner, attribute, None)
            if self.installed(current):
                continue
            self.originals[owner, attribute] = current
            method = _markable(wrap(current), current)
            setattr(method, PATCHED_FLAG, True)
            setattr(method, self.mark, True)
            if monkeypatch is not None:
                monkeypatch.setattr(owner, attribute, method, raising=False)
            else:
                setattr(owner, attribute, method)
            self.methods[owner, attribute] = method

    def restore(self) -> None:
        """Put back what each wrapper wrapped (a method moto did not have is removed again).

        A wrapper that another extension wrapped afterwards stays where it is, so that the other extension keeps
        working (its wrapper calls this one); it is restored by a later ``restore()``, once the other one has
        restored its own. A wrapper that is no longer anywhere in the chain (something else put moto's method back,
        e.g. a test's ``monkeypatch`` undo) is forgotten, so a later :meth:`apply` starts afresh."""
        for (owner, attribute), original in list(self.originals.items()):
            current = getattr(owner, attribute, None)
            if current is not self.methods[owner, attribute]:
                if not self.installed(current):
                    del self.originals[owner, attribute]
                    del self.methods[owner, attribute]
                continue
            if original is None:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, original)
            del self.originals[owner, attribute]
            del self.methods[owner, attribute]

    def applied(self) -> bool:
        """Whether every wrapper is installed."""
        return all(self.installed(getattr(owner, attribute, None)) for owner, attribute, _wrap in self.patches)
