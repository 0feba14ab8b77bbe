# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad DNS input (role megapool.aws.dns) fails with a message that names the variable and the fix, before any AWS
change: playbooks/site.yml's validation play refuses it, and the emulator (including Route 53, ACM and Cloud Map)
is unchanged."""

from __future__ import annotations

import pytest

from conftest import assert_site_refuses_early


CASES = {
    # case: (DNS settings, strings the failure message must contain: the variable and the fix)
    "app_domain_outside_the_zone": (
        {"dns_app_domain": "app.megapool.example"},
        [
            "dns_app_domain=app.megapool.example is not inside the hosted zone dns_zone_name=megapool.test",
            "Use a name ending in .megapool.test (e.g. app.megapool.test), or set dns_zone_name to the zone that holds",
        ],
    ),
    "app_domain_only_ends_like_the_zone": (
        {"dns_app_domain": "app.notmegapool.test"},
        ["dns_app_domain=app.notmegapool.test is not inside the hosted zone dns_zone_name=megapool.test"],
    ),
    "san_outside_the_zone": (
        {"dns_extra_names": ["megapool.test", "www.megapool.example"]},
        [
            "dns_extra_names has www.megapool.example, outside the hosted zone dns_zone_name=megapool.test",
            "List only the apex megapool.test or names ending in .megapool.test",
        ],
    ),
    "zone_name_not_a_domain": (
        {"dns_zone_name": "megapool test"},
        ['dns_zone_name="megapool test" is not a domain name', "set it to the public Route 53 hosted zone"],
    ),
    "zone_name_with_a_trailing_dot": (
        {"dns_zone_name": "megapool.test."},
        ['dns_zone_name="megapool.test." ends with a dot: write the zone without it, dns_zone_name: megapool.test'],
    ),
    "extra_names_a_string": (
        {"dns_extra_names": "www.megapool.test"},
        ["dns_extra_names='www.megapool.test' is a string, but a list is expected"],
    ),
    "discovery_service_not_a_label": (
        {"dns_discovery_service": "megapool.web"},
        ['dns_discovery_service="megapool.web" must be one DNS label'],
    ),
    "health_check_path_without_slash": (
        {"dns_health_check_path": "health"},
        ['dns_health_check_path="health" must start with a slash, e.g. /health'],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_dns_input_fails_early_and_changes_nothing(case, inventory, empty_emulator):
    settings, expected = CASES[case]
    inventory.set_vars("dns", **settings)
    assert_site_refuses_early(inventory, expected)
