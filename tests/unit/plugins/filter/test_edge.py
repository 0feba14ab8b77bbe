# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/filter/edge.py: the filters the alb role validates with (the logic is module_utils.elbv2_attributes)."""

from __future__ import annotations

from ansible_collections.megapool.aws.plugins.filter.edge import FilterModule


def test_alb_idle_timeout_errors_is_the_pure_validator():
    check = FilterModule().filters()["alb_idle_timeout_errors"]
    assert check(55, 60) == []
    [error] = check(240, 60)
    assert error.startswith("alb_idle_timeout=240 must be below alb_app_idle_timeout=60")
