# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/patching.py: each extension wraps a method once, and two extensions can wrap the same one."""

from __future__ import annotations

import functools
import importlib
import itertools

import pytest

from emulator_ext.patching import MethodPatches


class Backend:  # pylint: disable=too-few-public-methods
    def call(self) -> list[str]:
        return ["moto"]


def _wrapping(name: str):
    def wrap(original):
        @functools.wraps(original)
        def method(self):
            return [name] + original(self)

        return method

    return wrap


def test_applying_twice_wraps_once_and_restore_gives_moto_back():
    first = MethodPatches([(Backend, "call", _wrapping("first"))], mark="_test_first")
    first.apply()
    first.apply()
    assert Backend().call() == ["first", "moto"] and first.applied()
    first.restore()
    assert Backend().call() == ["moto"] and not first.applied()


def test_a_second_extension_wraps_a_method_the_first_one_wrapped():
    first = MethodPatches([(Backend, "call", _wrapping("first"))], mark="_test_first")
    second = MethodPatches([(Backend, "call", _wrapping("second"))], mark="_test_second")
    first.apply()
    second.apply()
    first.apply()  # its wrapper is inside the second's: still found, not wrapped again
    second.apply()
    assert Backend().call() == ["second", "first", "moto"]
    assert first.applied() and second.applied()
    second.restore()
    first.restore()
    assert Backend().call() == ["moto"]


def test_restoring_out_of_order_keeps_the_later_wrapper_working():
    """An extension restored while another one's wrapper wraps its own leaves the chain whole until that one is gone."""
    first = MethodPatches([(Backend, "call", _wrapping("first"))], mark="_test_first")
    second = MethodPatches([(Backend, "call", _wrapping("second"))], mark="_test_second")
    first.apply()
    second.apply()
    first.restore()
    assert Backend().call() == ["second", "first", "moto"], "the second extension still wraps the first"
    second.restore()
    assert Backend().call() == ["first", "moto"]
    first.restore()
    assert Backend().call() == ["moto"] and not first.applied() and not second.applied()


def test_a_method_moto_lacks_is_removed_again():
    patches = MethodPatches([(Backend, "extra", lambda original: lambda self: ["extra", original])], mark="_test_extra")
    patches.apply()
    assert Backend().extra() == ["extra", None]  # pylint: disable=no-member
    patches.restore()
    assert not hasattr(Backend, "extra")


def test_the_default_mark_is_the_extension_module():
    patches = MethodPatches([(Backend, "call", _wrapping("x"))])
    assert patches.mark == "_megapool_ext_test_emulator_ext_patching"


def test_a_wrapper_without_functools_wraps_keeps_the_chain_walkable():
    """A wrapper that does not link to what it wraps still lets the first extension find its own mark below it."""
    first = MethodPatches([(Backend, "call", _wrapping("first"))], mark="_test_first")
    second = MethodPatches(
        [(Backend, "call", lambda original: lambda self: ["second"] + original(self))], mark="_test_second"
    )
    first.apply()
    second.apply()
    first.apply()
    assert Backend().call() == ["second", "first", "moto"] and first.applied()
    second.restore()
    first.restore()
    assert Backend().call() == ["moto"]


class Task:  # pylint: disable=too-few-public-methods
    @property
    def status(self) -> str:
        return "moto"


def test_a_property_is_wrapped_once_and_restored():
    def wrap(original: property) -> property:
        return property(lambda self: "own " + original.fget(self))

    patches = MethodPatches([(Task, "status", wrap)], mark="_test_status")
    moto_property = Task.__dict__["status"]
    patches.apply()
    patches.apply()
    assert Task().status == "own moto" and patches.applied()
    patches.restore()
    assert Task.__dict__["status"] is moto_property and Task().status == "moto" and not patches.applied()


def _resetting(name: str, log: list[str]):
    def wrap(original):
        @functools.wraps(original)
        def reset(self):
            log.append(name)
            return original(self)

        return reset

    return wrap


class Api:  # pylint: disable=too-few-public-methods
    log: list[str] = []

    def reset(self) -> None:
        self.log.append("moto")


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_every_extension_hooks_moto_reset_once_and_any_restore_order_gives_moto_back(order):
    """Several extensions wrap moto's reset (the data planes close their servers there): each hook runs once per
    reset, applying again adds none, and restoring in any order keeps the others' hooks until they restore theirs."""
    Api.log = []
    moto_reset = Api.__dict__["reset"]
    names = ("elbv2", "ecs", "dns")
    extensions = [
        MethodPatches([(Api, "reset", _resetting(name, Api.log))], mark="_test_reset_" + name) for name in names
    ]
    for extension in extensions + extensions:
        extension.apply()
    Api().reset()
    assert Api.log == ["dns", "ecs", "elbv2", "moto"]
    restored = set()
    for index in order:
        extensions[index].restore()
        restored.add(names[index])
        Api.log.clear()
        Api().reset()
        assert set(Api.log) >= set(names) - restored and Api.log[-1] == "moto" and len(Api.log) == len(set(Api.log))
    for extension in reversed(extensions):  # what stayed because a later wrapper held it goes now, newest first
        extension.restore()
    assert Api.__dict__["reset"] is moto_reset


def test_restore_forgets_a_wrapper_something_else_removed_and_apply_starts_afresh(monkeypatch):
    """A test's monkeypatch undo puts moto's method back behind the extension's back: restore() must not put the
    stale wrapper's original over whatever is there later, and apply() wraps again."""
    patches = MethodPatches([(Backend, "call", _wrapping("first"))], mark="_test_first")
    with monkeypatch.context() as scoped:
        scoped.setattr(Backend, "call", Backend.call)
        patches.apply()
        assert Backend().call() == ["first", "moto"]
    assert Backend().call() == ["moto"] and not patches.applied()
    patches.restore()
    assert patches.originals == {} and patches.methods == {}
    patches.apply()
    assert Backend().call() == ["first", "moto"]
    patches.restore()
    assert Backend().call() == ["moto"]


def test_an_owner_named_by_its_module_is_imported_at_the_first_use(monkeypatch):
    """An extension imports moto's classes when it is applied, not when the emulator imports it."""
    imported = []
    real_import = importlib.import_module

    def recording(name, *args):
        imported.append(name)
        return real_import(name, *args)

    monkeypatch.setattr(importlib, "import_module", recording)
    named = MethodPatches([(__name__ + ":Backend", "call", _wrapping("named"))])
    assert imported == []
    named.apply()
    named.apply()
    assert Backend().call() == ["named", "moto"] and imported == [__name__]
    assert named.mark == "_megapool_ext_test_emulator_ext_patching"
    named.restore()
    assert Backend().call() == ["moto"]


def test_applied_through_a_monkeypatch_the_tests_teardown_undoes_it(monkeypatch):
    """``apply(monkeypatch)`` (ecs_agent.install(monkeypatch)): the test's undo removes the wrappers, a method moto
    lacks included; applying twice still wraps once; restore() afterwards forgets them."""
    patches = MethodPatches(
        [(Backend, "call", _wrapping("first")), (Backend, "added", lambda original: lambda self: original)],
        mark="_test_monkeypatched",
    )
    with monkeypatch.context() as scoped:
        patches.apply(scoped)
        patches.apply(scoped)
        assert Backend().call() == ["first", "moto"] and Backend().added() is None and patches.applied()
    assert Backend().call() == ["moto"] and not hasattr(Backend, "added") and not patches.applied()
    patches.restore()
    assert patches.originals == {} and patches.methods == {}


def test_a_module_function_is_an_owner_too():
    """An extension wraps another extension's module-level function (ecs_blue_green wraps ecs_deployments._complete)."""
    module = type(importlib)("fake_extension")
    module.complete = lambda: ["moto"]
    patches = MethodPatches([(module, "complete", lambda original: lambda: ["wrapped"] + original())], mark="_test_mod")
    patches.apply()
    patches.apply()
    assert module.complete() == ["wrapped", "moto"]
    patches.restore()
    assert module.complete() == ["moto"]
