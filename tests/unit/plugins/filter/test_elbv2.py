# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/filter/elbv2.py: the attributes the alb role still has to write, from what the info modules read."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.megapool.aws.plugins.filter.elbv2 import FilterModule

to_set = FilterModule().filters()["elbv2_attributes_to_set"]

WANTED_LB = {
    "idle_timeout.timeout_seconds": 55,
    "routing.http.drop_invalid_header_fields.enabled": True,
    "deletion_protection.enabled": False,
}
# A load balancer as amazon.aws.elb_application_lb_info returns it with include_attributes: true (abridged).
READ_LB = {
    "load_balancer_name": "megapool-dev",
    "idle_timeout_timeout_seconds": "55",
    "routing_http_drop_invalid_header_fields_enabled": "true",
    "deletion_protection_enabled": "false",
    "routing_http2_enabled": "true",
}


def test_nothing_to_set_when_the_read_matches():
    assert to_set(READ_LB, WANTED_LB) == {}


def test_only_what_differs_in_aws_keys_and_strings():
    found = dict(READ_LB, idle_timeout_timeout_seconds="60", deletion_protection_enabled="true")
    assert to_set(found, WANTED_LB) == {"deletion_protection.enabled": "false", "idle_timeout.timeout_seconds": "55"}


def test_a_key_the_resource_does_not_list_differs():
    found = {key: value for key, value in READ_LB.items() if key != "routing_http_drop_invalid_header_fields_enabled"}
    assert to_set(found, WANTED_LB) == {"routing.http.drop_invalid_header_fields.enabled": "true"}


@pytest.mark.parametrize("found", [None, {}, ""])
def test_no_resource_differs_everywhere(found):
    assert to_set(found, WANTED_LB) == {
        "deletion_protection.enabled": "false",
        "idle_timeout.timeout_seconds": "55",
        "routing.http.drop_invalid_header_fields.enabled": "true",
    }


def test_target_group_stickiness_as_elb_target_group_info_lists_it():
    wanted = {
        "stickiness.enabled": False,
        "stickiness.type": "lb_cookie",
        "stickiness.lb_cookie.duration_seconds": 86400,
    }
    found = {
        "target_group_name": "megapool-dev-app",
        "stickiness_enabled": "false",
        "stickiness_type": "lb_cookie",
        "stickiness_lb_cookie_duration_seconds": "86400",
    }
    assert to_set(found, wanted) == {}
    assert to_set(dict(found, stickiness_enabled="true"), wanted) == {"stickiness.enabled": "false"}


def test_the_same_plan_as_the_module():
    """The module writes plan_attributes(read, normalize_attributes(wanted)): the filter must agree on every key."""
    from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import normalize_attributes
    from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import plan_attributes

    aws = {"idle_timeout.timeout_seconds": "60", "deletion_protection.enabled": "false"}
    found = {key.replace(".", "_"): value for key, value in aws.items()}
    assert to_set(found, WANTED_LB) == plan_attributes(aws, normalize_attributes(WANTED_LB))


def test_a_bad_wanted_value_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="attributes.idle_timeout.timeout_seconds is null"):
        to_set(READ_LB, {"idle_timeout.timeout_seconds": None})
