# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dns role's input planner: one case per message (each names the variable and the fix); the name rules are the
modules' (acm_dns, service_discovery), so the role and the modules agree."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import AcmDnsError
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import validate_request
from ansible_collections.megapool.aws.plugins.module_utils.dns_checks import dns_input_errors

DEFAULTS = {
    "megapool_cluster": "shop",
    "megapool_env": "prod",
    "dns_zone_name": "example.com",
    "dns_app_domain": None,
    "dns_extra_names": [],
    "dns_health_check_path": "/health",
    "dns_health_check_interval": 30,
    "dns_health_check_failure_threshold": 3,
    "dns_discovery_namespace": None,
    "dns_discovery_service": None,
    "dns_discovery_record_types": ["A"],
}

CASES = {
    "zone_not_a_domain": (
        {"dns_zone_name": "megapool test"},
        ['dns_zone_name="megapool test" is not a domain name', "set it to the public Route 53 hosted zone"],
    ),
    "zone_empty": ({"dns_zone_name": ""}, ['dns_zone_name="" is not a domain name']),
    "zone_wildcard": ({"dns_zone_name": "*.example.com"}, ['dns_zone_name="*.example.com" is not a domain name']),
    "zone_trailing_dot": (
        {"dns_zone_name": "example.com."},
        ['dns_zone_name="example.com." ends with a dot: write the zone without it, dns_zone_name: example.com'],
    ),
    "app_not_a_domain": (
        {"dns_app_domain": "app_1.example.com"},
        ['dns_app_domain="app_1.example.com" is not a domain name'],
    ),
    "app_outside": (
        {"dns_app_domain": "app.example.org"},
        [
            "dns_app_domain=app.example.org is not inside the hosted zone dns_zone_name=example.com",
            "Use a name ending in .example.com",
        ],
    ),
    "app_only_ends_like_the_zone": ({"dns_app_domain": "app.notexample.com"}, ["is not inside the hosted zone"]),
    "extra_not_a_domain": (
        {"dns_extra_names": ["www example.com"]},
        ["dns_extra_names has www example.com, not a domain name"],
    ),
    "extra_outside": (
        {"dns_extra_names": ["example.com", "www.example.org"]},
        ["dns_extra_names has www.example.org, outside the hosted zone dns_zone_name=example.com"],
    ),
    "extra_a_string": (
        {"dns_extra_names": "www.example.com"},
        ["dns_extra_names='www.example.com' is a string, but a list"],
    ),
    "health_path": (
        {"dns_health_check_path": "health"},
        ['dns_health_check_path="health" must start with a slash, e.g. /health'],
    ),
    "interval": ({"dns_health_check_interval": 20}, ["dns_health_check_interval=20 must be 10 or 30"]),
    "threshold": ({"dns_health_check_failure_threshold": 11}, ["dns_health_check_failure_threshold=11 must be 1-10"]),
    "namespace": (
        {"dns_discovery_namespace": "my namespace"},
        ['dns_discovery_namespace="my namespace" is not a domain name'],
    ),
    "service": ({"dns_discovery_service": "app.web"}, ['dns_discovery_service="app.web" must be one DNS label']),
    "record_types": (
        {"dns_discovery_record_types": ["CNAME"]},
        ['dns_discovery_record_types=["CNAME"]: use A (awsvpc), AAAA or SRV'],
    ),
    "env_with_space": ({"megapool_env": "pro d"}, ["megapool_env='pro d' is not usable in AWS names"]),
}


def test_the_defaults_are_valid():
    assert dns_input_errors(DEFAULTS) == []
    assert (
        dns_input_errors(dict(DEFAULTS, dns_zone_name="Example.COM", dns_extra_names=["example.com", "*.example.com"]))
        == []
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_message(case):
    overrides, texts = CASES[case]
    errors = dns_input_errors(dict(DEFAULTS, **overrides))
    assert len(errors) == 1, errors
    for text in texts:
        assert text in errors[0], errors[0]


@given(st.text(alphabet="abcxyz019-.*_ ", min_size=1, max_size=12))
def test_an_app_domain_the_role_accepts_is_one_the_certificate_module_accepts(label):
    """Property: the role refuses before any change what acm_certificate_request would refuse after the zone exists."""
    domain = label + ".example.com"
    role_ok = dns_input_errors(dict(DEFAULTS, dns_app_domain=domain)) == []
    try:
        validate_request(domain, [], "example.com")
        module_ok = True
    except AcmDnsError:
        module_ok = False
    assert role_ok == module_ok
