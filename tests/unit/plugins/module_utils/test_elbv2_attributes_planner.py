# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure planner of plugins/module_utils/elbv2_attributes.py (no AWS)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import AttributesError
from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import attributes_diff
from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import attributes_from_aws
from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import attributes_not_applied
from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import attributes_to_aws
from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import idle_timeout_errors
from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import normalize_attributes
from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import plan_attributes
from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import predict_attributes


@pytest.mark.parametrize(
    "value, expected",
    [
        pytest.param(True, "true", id="true"),
        pytest.param(False, "false", id="false"),
        pytest.param(240, "240", id="int"),
        pytest.param(0, "0", id="zero"),
        pytest.param(30.0, "30", id="integral-float"),
        pytest.param(0.5, "0.5", id="float"),
        pytest.param("lb_cookie", "lb_cookie", id="string"),
        pytest.param("true", "true", id="string-bool"),
        pytest.param("", "", id="empty-string"),
    ],
)
def test_values_become_aws_strings(value, expected):
    assert normalize_attributes({"some.key": value}) == {"some.key": expected}


@pytest.mark.parametrize("value, kind", [(None, "null"), ([1], "a list"), ({"a": 1}, "a dict")])
def test_values_that_are_not_scalars_are_refused_naming_the_key(value, kind):
    with pytest.raises(AttributesError) as error:
        normalize_attributes({"stickiness.enabled": value})
    assert str(error.value).startswith(
        "attributes.stickiness.enabled is %s: give a string, a number or a boolean" % kind
    )


def test_an_empty_key_is_refused():
    with pytest.raises(AttributesError, match="attributes has an empty key"):
        normalize_attributes({" ": "1"})


def test_normalized_keys_are_sorted_and_none_is_empty():
    assert list(normalize_attributes({"b": 1, "a": 2})) == ["a", "b"]
    assert normalize_attributes(None) == {}


def test_aws_lists_round_trip():
    items = [{"Key": "z", "Value": "1"}, {"Key": "a", "Value": "true"}, {"Key": "n", "Value": None}]
    assert attributes_from_aws(items) == {"a": "true", "n": "", "z": "1"}
    assert attributes_to_aws({"z": "1", "a": "true"}) == [{"Key": "a", "Value": "true"}, {"Key": "z", "Value": "1"}]
    assert attributes_from_aws(None) == {}


CURRENT = {"deletion_protection.enabled": "false", "idle_timeout.timeout_seconds": "60", "other": "x"}


@pytest.mark.parametrize(
    "wanted, changes",
    [
        pytest.param({"idle_timeout.timeout_seconds": "60"}, {}, id="equal"),
        pytest.param({"idle_timeout.timeout_seconds": "240"}, {"idle_timeout.timeout_seconds": "240"}, id="differs"),
        pytest.param(
            {"routing.http.drop_invalid_header_fields.enabled": "true"},
            {"routing.http.drop_invalid_header_fields.enabled": "true"},
            id="not-listed-yet",
        ),
        pytest.param(
            {"deletion_protection.enabled": "false", "idle_timeout.timeout_seconds": "240"},
            {"idle_timeout.timeout_seconds": "240"},
            id="only-the-difference",
        ),
        pytest.param({}, {}, id="nothing-wanted"),
    ],
)
def test_plan_writes_only_what_differs(wanted, changes):
    assert plan_attributes(CURRENT, wanted) == changes
    after = predict_attributes(CURRENT, changes)
    assert plan_attributes(after, wanted) == {}
    assert after["other"] == "x"


def test_diff_shows_only_the_wanted_keys():
    changes = {"idle_timeout.timeout_seconds": "240", "new.key": "1"}
    after = predict_attributes(CURRENT, changes)
    assert attributes_diff(
        CURRENT, after, ["new.key", "idle_timeout.timeout_seconds", "deletion_protection.enabled"]
    ) == {
        "before": {"deletion_protection.enabled": "false", "idle_timeout.timeout_seconds": "60"},
        "after": {"deletion_protection.enabled": "false", "idle_timeout.timeout_seconds": "240", "new.key": "1"},
    }


def test_not_applied_names_the_keys_the_answer_still_shows_otherwise():
    changes = {"a": "1", "b": "2", "c": "3"}
    assert attributes_not_applied({"a": "1", "b": "0"}, changes) == ["b"]
    assert attributes_not_applied(predict_attributes({}, changes), changes) == []


# ---------------------------------------------------------------------------------------------- idle timeouts


@pytest.mark.parametrize(
    "alb, app, expected",
    [
        (55, 60, []),
        (59, 60, []),
        ("55", "60", []),
        (1, 2, []),
        (4000, 4001, []),
        (60, 60, ["alb_idle_timeout=60 must be below alb_app_idle_timeout=60 (the app's keep-alive idle timeout)"]),
        (240, 60, ["alb_idle_timeout=240 must be below alb_app_idle_timeout=60 (the app's keep-alive idle timeout)"]),
        (0, 60, ["alb_idle_timeout=0 is outside 1-4000 seconds (AWS's range)"]),
        (4001, 5000, ["alb_idle_timeout=4001 is outside 1-4000 seconds (AWS's range)"]),
        (55, 1, ["alb_app_idle_timeout=1 must be 2 seconds or more"]),
        ("soon", 60, ["alb_idle_timeout=soon is not a number of seconds"]),
        (55.5, 60, ["alb_idle_timeout=55.5 is not a whole number of seconds"]),
        (55, None, ["alb_app_idle_timeout=None is not a number of seconds"]),
        (True, 60, ["alb_idle_timeout=True is not a number of seconds"]),
    ],
)
def test_idle_timeout_errors(alb, app, expected):
    errors = idle_timeout_errors(alb, app)
    assert len(errors) == len(expected), errors
    for error, start in zip(errors, expected):
        assert error.startswith(start), error


def test_idle_timeout_error_names_the_fix():
    [error] = idle_timeout_errors(240, 60)
    assert "HTTP 502" in error and "Lower alb_idle_timeout to 59 or less" in error
    assert (
        "protocol_options: [idle_timeout: <ms>]" in error and "thousand_island_options: [read_timeout: <ms>]" in error
    )


@given(alb=st.integers(min_value=-10, max_value=5000), app=st.integers(min_value=-10, max_value=5000))
def test_idle_timeouts_are_accepted_exactly_when_the_load_balancer_closes_first(alb, app):
    accepted = 1 <= alb <= 4000 and app >= 2 and alb < app
    assert (idle_timeout_errors(alb, app) == []) is accepted
