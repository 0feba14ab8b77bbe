# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live progress on the controller for modules that wait (the project's WAIT PROTOCOL).

A module returns only at its end, so a user watching a ten-minute rollout would see nothing move. An action plugin
built on :class:`WaitingAction` runs such a module on the controller in steps instead:

1. once with ``wait: false``: the module makes its change (if any), reads the state once and returns ``done``,
   ``progress`` (one line) and ``events`` (new human-readable events);
2. then every ``poll_interval`` seconds with the arguments of :meth:`WaitingAction.poll_arguments` (``wait: false``,
   plus whatever the module needs to follow what the first call started, without changing anything again),
   printing ``<host> | <progress>`` whenever the progress changes and ``<host> | <event>`` for each new event,
3. until ``done``, a failed call (its result is returned as it is), or the task's ``wait_timeout`` elapsed (then the
   task fails with a message naming ``wait_timeout`` and the last progress).

How the lines are shown (the output contract of a plugin): through Ansible's ``Display`` (in a worker process it
is proxied to the controller's display, which is what AWX / ansible-runner's event capture hooks), on **stderr**,
the stream Ansible itself uses for warnings and deprecations. Stdout stays the stdout callback's alone, so the
output of ``ansible.posix.json`` (and any other machine-readable stdout callback) still parses; on a terminal the
lines appear between the task's header and its result as before. A task (or play) with ``no_log`` shows nothing:
progress and events name resources and can carry whatever the module reports.

``changed`` is OR'ed over the calls, the keys of :attr:`WaitingAction.FIRST_CALL_KEYS` (the diff, ...) come from
the first call, everything else from the last. With ``wait: false``, in check mode, or with ``async``, the module
runs once, as the normal action plugin would run it (it waits itself with ``wait: true`` and ``async``).

A module that follows the protocol gets live progress with a three-line action plugin::

    class ActionModule(WaitingAction):
        DEFAULT_WAIT_TIMEOUT = 600   # the module's defaults
        DEFAULT_POLL_INTERVAL = 5
"""

from __future__ import annotations

import time
from typing import Any
from typing import Callable

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

from ansible_collections.megapool.aws.plugins.module_utils.text import seconds

display = Display()


class WaitingAction(ActionBase):
    """Runs a waiting module in ``wait: false`` steps and prints its progress and events as they change."""

    _supports_check_mode = True
    _supports_async = True

    # The module's own defaults of wait_timeout and poll_interval (used when the task does not set them).
    DEFAULT_WAIT_TIMEOUT: float = 900
    DEFAULT_POLL_INTERVAL: float = 10
    # Result keys taken from the first call (the one that made the change), not from the last poll.
    FIRST_CALL_KEYS: tuple[str, ...] = ("diff",)
    # What the progress lines start with after the host name (e.g. the module's short name); empty for none.
    LABEL: str = ""

    # The clock and the pause between polls (tests replace them).
    _clock: Callable[[], float] = staticmethod(time.monotonic)
    _sleep: Callable[[float], None] = staticmethod(time.sleep)

    # ------------------------------------------------------------------ hooks for the subclasses

    def poll_arguments(self, args: dict[str, Any], first: dict[str, Any]) -> dict[str, Any]:
        """The module arguments of the polls after the ``first`` call: by default the task's with ``wait: false``.

        Override to drop one-shot options (e.g. a forced redeploy) and to pass what the first call started.
        """
        return dict(args, wait=False)

    def timed_out(
        self, args: dict[str, Any], first: dict[str, Any], last: dict[str, Any], task_vars: dict[str, Any], msg: str
    ) -> dict[str, Any]:
        """The result when ``wait_timeout`` elapsed: by default the last poll's, failed with ``msg``.

        Override to clean up (e.g. stop a task that is still running) with one more module call.
        """
        return dict(last, failed=True, msg=msg)

    # ------------------------------------------------------------------ the run

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = dict(self._task.args)
        try:
            wait = boolean(args.get("wait", True), strict=True)
            wait_timeout = float(args.get("wait_timeout", self.DEFAULT_WAIT_TIMEOUT))
            poll_interval = float(args.get("poll_interval", self.DEFAULT_POLL_INTERVAL))
        except (TypeError, ValueError):
            wait = False  # let the module report the bad value
        if not wait or self._task.check_mode or self._task.async_val or poll_interval <= 0 or wait_timeout < 0:
            wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
            result = merge_hash(
                result,
                self._execute_module(
                    module_name=self._module_name(), module_args=args, task_vars=task_vars, wrap_async=wrap_async
                ),
            )
            if not wrap_async:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            return result
        try:
            final = self._follow(args, task_vars, wait_timeout, poll_interval)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return merge_hash(result, final)

    def _no_log(self) -> bool:
        """True when the task's output must not be shown: ``no_log`` on the task, its block or play (the play
        context holds the effective value, ANSIBLE_NO_LOG included)."""
        return any(
            boolean(value, strict=False)
            for value in (self._task.no_log, getattr(self._play_context, "no_log", False))
            if value is not None
        )

    def _module_name(self) -> str:
        return getattr(self._task, "resolved_action", None) or self._task.action

    def _call(self, module_args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        return self._execute_module(module_name=self._module_name(), module_args=module_args, task_vars=task_vars)

    def _follow(
        self, args: dict[str, Any], task_vars: dict[str, Any], wait_timeout: float, poll_interval: float
    ) -> dict[str, Any]:
        # A task delegated to a region host (drain.yml: one call per region) reports as that host.
        host = self._task.delegate_to or task_vars.get("inventory_hostname") or "localhost"
        shown = _Shown(host, self.LABEL, quiet=self._no_log())
        start = self._clock()
        first = self._call(dict(args, wait=False), task_vars)
        last = first
        changed = bool(first.get("changed"))
        shown.show(first)
        while not first.get("failed") and not last.get("failed") and not last.get("done"):
            remaining = wait_timeout - (self._clock() - start)
            if remaining <= 0:
                msg = "Timed out after wait_timeout=%ss waiting for %s; last progress: %s." % (
                    seconds(wait_timeout),
                    self._task.action,
                    last.get("progress") or "none",
                )
                last = self.timed_out(args, first, last, task_vars, msg)
                changed = changed or bool(last.get("changed"))
                break
            self._sleep(min(poll_interval, remaining))
            last = self._call(self.poll_arguments(args, first), task_vars)
            changed = changed or bool(last.get("changed"))
            shown.show(last)
        final = dict(last, changed=changed)
        for key in self.FIRST_CALL_KEYS:
            if key in first:
                final[key] = first[key]
        final["events"] = shown.events or list(last.get("events") or [])
        return final


class _Shown:
    """What was shown already: the last progress line and the events (collected even when ``quiet``)."""

    def __init__(self, host: str, label: str, quiet: bool = False) -> None:
        self.prefix = "%s | %s" % (host, label + " " if label else "")
        self.quiet = quiet
        self.progress: str | None = None
        self.events: list[str] = []

    def line(self, text: str) -> None:
        """One progress line: through the display on stderr (stdout belongs to the stdout callback); none if quiet."""
        if not self.quiet:
            display.display("%s%s" % (self.prefix, text), stderr=True)

    def show(self, result: dict[str, Any]) -> None:
        for event in result.get("events") or []:
            text = str(event)
            if text not in self.events:
                self.events.append(text)
                self.line(text)
        progress = result.get("progress")
        if progress and progress != self.progress:
            self.progress = progress
            self.line(progress)
