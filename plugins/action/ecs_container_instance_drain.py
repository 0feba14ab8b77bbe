# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of megapool.aws.ecs_container_instance_drain: live drain progress on the controller.

Setting an instance DRAINING again is a no-op and the lifecycle actions of drained instances are completed on the
poll that sees them drained, so the polls repeat the task's arguments with ``wait: false``.
See plugins/plugin_utils/progress.py.
"""

from __future__ import annotations

from ansible_collections.megapool.aws.plugins.plugin_utils.progress import WaitingAction


class ActionModule(WaitingAction):
    """Runs ecs_container_instance_drain in steps, printing what each instance has left."""

    DEFAULT_WAIT_TIMEOUT = 600
    DEFAULT_POLL_INTERVAL = 5
