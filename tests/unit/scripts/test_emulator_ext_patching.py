# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/patching.py: each extension wraps a method once, and two extensions can wrap the same one."""

from __future__ import annotations

import functools

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
