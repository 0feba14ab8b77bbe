# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure planner of plugins/module_utils/elbv2_attributes.py (no AWS)."""

from __future__ import annotations

import pytest

from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import AttributesError
from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import attributes_diff
from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import attributes_from_aws
from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import attributes_not_applied
from ansible_collections.megapool.aws.plugins.module_utils.elbv2_attributes import attributes_to_aws
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
    assert str(error.value).startswith("attributes.stickiness.enabled is %s: give a string, a number or a boolean" % kind)


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
        pytest.param({"routing.http.drop_invalid_header_fields.enabled": "true"},
                     {"routing.http.drop_invalid_header_fields.enabled": "true"}, id="not-listed-yet"),
        pytest.param({"deletion_protection.enabled": "false", "idle_timeout.timeout_seconds": "240"},
                     {"idle_timeout.timeout_seconds": "240"}, id="only-the-difference"),
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
    assert attributes_diff(CURRENT, after, ["new.key", "idle_timeout.timeout_seconds", "deletion_protection.enabled"]) == {
        "before": {"deletion_protection.enabled": "false", "idle_timeout.timeout_seconds": "60"},
        "after": {"deletion_protection.enabled": "false", "idle_timeout.timeout_seconds": "240", "new.key": "1"},
    }


def test_not_applied_names_the_keys_the_answer_still_shows_otherwise():
    changes = {"a": "1", "b": "2", "c": "3"}
    assert attributes_not_applied({"a": "1", "b": "0"}, changes) == ["b"]
    assert attributes_not_applied(predict_attributes({}, changes), changes) == []
