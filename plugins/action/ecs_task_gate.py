# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of megapool.aws.ecs_task_gate: live progress of the gate task on the controller.

The first call starts the task (``wait: false``); the polls follow it (``task_arn``) and never start another one. On
timeout, with ``stop_on_timeout`` (the default), one more call stops the task and reads its last log lines. See
plugins/plugin_utils/progress.py.
"""

from __future__ import annotations

from typing import Any

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.megapool.aws.plugins.plugin_utils.progress import WaitingAction


class ActionModule(WaitingAction):
    """Runs ecs_task_gate in steps, printing the task's progress and events."""

    DEFAULT_WAIT_TIMEOUT = 900
    DEFAULT_POLL_INTERVAL = 5

    def poll_arguments(self, args: dict[str, Any], first: dict[str, Any]) -> dict[str, Any]:
        polled = dict(args, wait=False)
        task_arn = (first.get("task") or {}).get("task_arn")
        if task_arn:
            polled["task_arn"] = task_arn
        return polled

    def timed_out(
        self, args: dict[str, Any], first: dict[str, Any], last: dict[str, Any], task_vars: dict[str, Any], msg: str
    ) -> dict[str, Any]:
        polled = self.poll_arguments(args, first)
        if "task_arn" not in polled or not boolean(args.get("stop_on_timeout", True), strict=False):
            return super().timed_out(args, first, last, task_vars, msg)
        # The module's own timeout path (a zero wait) stops the task and reads the end of its log.
        stopped = self._call(dict(polled, wait=True, wait_timeout=0), task_vars)
        if stopped.get("done"):
            return stopped  # it ended just now: its own result (success, or the exit code and log) is the answer
        lines = [str(line) for line in stopped.get("log_lines") or []]
        msg += " The task was stopped (stop_on_timeout)."
        if lines:
            msg += " Last log lines: %s" % " | ".join(lines)
        return dict(stopped, failed=True, msg=msg)
