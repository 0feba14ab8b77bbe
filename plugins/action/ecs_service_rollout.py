# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of megapool.aws.ecs_service_rollout: live rollout progress on the controller.

The first call updates the service (``wait: false``); the polls follow the deployment it started
(``deployment_id``, ``events_since``) and never force a new deployment again, so a poll cannot deploy a revision
again after the circuit breaker rolled it back. See plugins/plugin_utils/progress.py.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.megapool.aws.plugins.plugin_utils.progress import WaitingAction


class ActionModule(WaitingAction):
    """Runs ecs_service_rollout in steps, printing the rollout's progress and new service events."""

    DEFAULT_WAIT_TIMEOUT = 900
    DEFAULT_POLL_INTERVAL = 10
    FIRST_CALL_KEYS = ("diff", "previous_task_definition")

    def poll_arguments(self, args: dict[str, Any], first: dict[str, Any]) -> dict[str, Any]:
        polled = dict(args, wait=False, force_new_deployment=False)
        deployment_id = (first.get("deployment") or {}).get("id")
        if deployment_id:
            polled["deployment_id"] = deployment_id
        if first.get("events_since"):
            polled["events_since"] = first["events_since"]
        return polled
