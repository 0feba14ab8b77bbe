# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of megapool.aws.acm_certificate_request: live validation progress on the controller.

The module is idempotent (it finds the certificate before requesting one), so the polls repeat the task's arguments
with ``wait: false``. See plugins/plugin_utils/progress.py.
"""

from __future__ import annotations

from ansible_collections.megapool.aws.plugins.plugin_utils.progress import WaitingAction


class ActionModule(WaitingAction):
    """Runs acm_certificate_request in steps, printing the certificate's progress and events."""

    DEFAULT_WAIT_TIMEOUT = 600
    DEFAULT_POLL_INTERVAL = 10
