# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ``community.aws.elb_target_group`` would change on the alb role's target group (filter
``megapool.aws.target_group_drift``).

The role runs the stock module only when this says something differs: the module has no check mode, and the role's
check mode reports the same list instead. The comparison follows the module's own rules (community.aws 10,
``create_or_update_target_group``): health check protocol, interval, timeout and thresholds compared as values, the
path only for HTTP/HTTPS health checks, the matcher's codes as a set (``"200,204"`` equals ``"204,200"``), the
deregistration delay as the attribute's text, and the tags with ``purge_tags: true`` semantics. A contract test
(tests/unit/contract/test_comparators.py) runs the stock module on the same target groups and checks both agree.
"""

from __future__ import annotations

from typing import Any
from typing import Mapping

from ansible_collections.megapool.aws.plugins.module_utils.network_layout import tags_differ

# (what the role asks, the key of elb_target_group_info's answer, the name in the report)
_VALUES = (
    ("health_check_protocol", "health_check_protocol", "health check protocol"),
    ("health_check_interval", "health_check_interval_seconds", "health check interval"),
    ("health_check_timeout", "health_check_timeout_seconds", "health check timeout"),
    ("healthy_threshold_count", "healthy_threshold_count", "healthy threshold"),
    ("unhealthy_threshold_count", "unhealthy_threshold_count", "unhealthy threshold"),
)


def _codes(value: Any) -> set[str]:
    return {code.strip() for code in str(value or "").split(",") if code.strip()}


def target_group_drift(found: Mapping[str, Any] | None, wanted: Mapping[str, Any]) -> list[str]:
    """Why the module would change the target group ``found`` (an ``elb_target_group_info`` item) to ``wanted``.

    ``wanted`` holds the module options the role passes: the five of ``_VALUES``, ``health_check_path``,
    ``successful_response_codes``, ``deregistration_delay_timeout`` and ``tags``. ``["missing"]`` when there is no
    target group; empty when the module would change nothing."""
    if not found:
        return ["missing"]
    drift = []
    for option, key, label in _VALUES:
        have, want = str(found.get(key)), str(wanted[option])
        if option == "health_check_protocol":
            have, want = have.upper(), want.upper()
        else:
            want = str(int(want))
        if have != want:
            drift.append(label)
    if str(found.get("health_check_protocol", "")).upper() in ("HTTP", "HTTPS"):
        if found.get("health_check_path") != wanted["health_check_path"]:
            drift.append("health check path")
        if _codes((found.get("matcher") or {}).get("http_code")) != _codes(wanted["successful_response_codes"]):
            drift.append("success codes")
    if str(found.get("deregistration_delay_timeout_seconds")) != str(int(wanted["deregistration_delay_timeout"])):
        drift.append("deregistration delay")
    if tags_differ(wanted.get("tags") or {}, found.get("tags")):
        drift.append("tags")
    return drift
