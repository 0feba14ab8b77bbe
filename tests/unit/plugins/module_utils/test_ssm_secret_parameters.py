# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure plan of megapool.aws.ssm_secret_parameters: batches, shared generated values, conflicts, actions."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.module_utils.ssm_secret_parameters import GENERATED_LENGTH
from ansible_collections.megapool.aws.plugins.module_utils.ssm_secret_parameters import Current
from ansible_collections.megapool.aws.plugins.module_utils.ssm_secret_parameters import batches
from ansible_collections.megapool.aws.plugins.module_utils.ssm_secret_parameters import conflict_message
from ansible_collections.megapool.aws.plugins.module_utils.ssm_secret_parameters import diff
from ansible_collections.megapool.aws.plugins.module_utils.ssm_secret_parameters import generate_value
from ansible_collections.megapool.aws.plugins.module_utils.ssm_secret_parameters import input_errors
from ansible_collections.megapool.aws.plugins.module_utils.ssm_secret_parameters import plan
from ansible_collections.megapool.aws.plugins.module_utils.ssm_secret_parameters import shared_values
from ansible_collections.megapool.aws.plugins.module_utils.ssm_secret_parameters import summary

P = "/m/prod/"
TAGS = {"megapool:env": "prod"}


def _counter():
    count = iter(range(1000))
    return lambda: "generated-%d" % next(count)


@given(st.lists(st.text(min_size=1, max_size=5), max_size=45), st.integers(min_value=1, max_value=12))
def test_batches_keep_every_item_in_order_and_none_is_too_big(items, size):
    out = batches(items, size)
    assert [item for batch in out for item in batch] == items
    assert all(0 < len(batch) <= size for batch in out)


def test_batches_of_get_parameters_are_ten_names():
    assert [len(batch) for batch in batches(["N%d" % i for i in range(23)])] == [10, 10, 3]
    with pytest.raises(ValueError):
        batches(["a"], 0)


def test_a_generated_value_is_64_letters_and_digits_and_new_each_time():
    value = generate_value()
    assert len(value) == GENERATED_LENGTH and set(value) <= set(string.ascii_letters + string.digits)
    assert generate_value() != value
    assert generate_value(lambda alphabet: alphabet[0]) == "a" * 64


@pytest.mark.parametrize(
    "args, expected",
    [
        ((P, {"A": "x"}, ["B"], ["r1"], ["r2"]), []),
        (("m/prod", {}, [], ["r1"]), ["prefix='m/prod' must be a parameter path"]),
        (("/aws/x/", {}, [], ["r1"]), ["prefix='/aws/x/' must be a parameter path"]),
        ((P, {"A B": "x"}, ["c/d"], ["r1"]), ["secrets, generated and absent: A B, c/d are not a parameter name"]),
        ((P, {"A": "x"}, ["B"], ["r1"], [], ["A", "C"]), ["absent: A is in secrets or generated too"]),
        ((P, {"A": ""}, [], ["r1"]), ["secrets: A has an empty value"]),
        ((P, {"A": {"v": 1}}, [], ["r1"]), ["secrets: A must be strings"]),
        ((P, "A=b", [], ["r1"]), ["secrets must be a dictionary"]),
        ((P, {}, [], []), ["regions must name at least one region"]),
        ((P, {}, [], ["r1", "r2"], ["r2"]), ["reference_regions: r2 is in regions too"]),
    ],
)
def test_input_errors_name_the_option_and_the_fix(args, expected):
    errors = input_errors(*args)
    assert len(errors) == len(expected)
    for error, start in zip(errors, expected):
        assert error.startswith(start), error


def test_shared_values_take_the_one_value_regions_hold_and_group_conflicts_by_value():
    current = {
        "r1": {P + "COOKIE": Current("c1"), P + "KEY": Current("k1")},
        "r2": {P + "COOKIE": Current("c2")},
        "r3": {P + "COOKIE": Current("c1"), P + "KEY": Current("k1")},
    }
    values, conflicts = shared_values(["COOKIE", "KEY", "NEW"], P, current)
    assert values == {"COOKIE": None, "KEY": "k1", "NEW": None}
    assert conflicts == [{"name": "COOKIE", "parameter": P + "COOKIE", "regions": [["r1", "r3"], ["r2"]]}]
    message = conflict_message(conflicts, "release_secrets")
    assert message.startswith("SSM parameter /m/prod/COOKIE differs between regions (r1, r3 | r2)")
    assert "release_secrets.COOKIE" in message and "c1" not in message and "c2" not in message


def test_a_first_run_generates_one_value_for_every_region_and_creates_with_tags():
    result = plan(["r1", "r2"], P, {"SMTP": "s"}, ["COOKIE"], {}, "{name} of app", TAGS, True, _counter())
    puts = {(a.region, a.name): a.put for a in result.actions}
    assert {key: put["Value"] for key, put in puts.items()} == {
        ("r1", P + "COOKIE"): "generated-0",
        ("r2", P + "COOKIE"): "generated-0",
        ("r1", P + "SMTP"): "s",
        ("r2", P + "SMTP"): "s",
    }
    for put in puts.values():
        assert put["Type"] == "SecureString" and put["Overwrite"] is False and put["Tier"] == "Standard"
        assert put["Tags"] == [{"Key": "megapool:env", "Value": "prod"}]
    assert puts[("r1", P + "SMTP")]["Description"] == "SMTP of app"
    assert summary(result, ["r1", "r2"])["r2"] == {
        "created": [P + "COOKIE", P + "SMTP"],
        "updated": [],
        "tagged": [],
        "deleted": [],
        "unchanged": [],
    }


def test_a_generated_secret_one_region_holds_is_copied_to_the_others_and_never_replaced():
    current = {
        "r1": {P + "COOKIE": Current("old", description="COOKIE", tags=TAGS)},
        "ref": {P + "COOKIE": Current("old")},
    }
    result = plan(["r1", "r2"], P, {}, ["COOKIE"], current, "{name}", TAGS, True, _counter())
    by_region = {a.region: a for a in result.actions}
    assert by_region["r1"].kind == "none" and by_region["r1"].put is None
    assert by_region["r2"].kind == "create" and by_region["r2"].put["Value"] == "old"


def test_a_given_value_that_differs_is_overwritten_without_tags_and_the_tags_go_through_add_tags():
    current = {
        "r1": {P + "SMTP": Current("old", description="SMTP", tier="Advanced", tags={"megapool:env": "dev", "x": "1"})}
    }
    result = plan(["r1"], P, {"SMTP": "new"}, [], current, "{name}", TAGS, True)
    (action,) = result.actions
    assert action.kind == "update" and action.reasons == ("value", "tags")
    # AWS: Tags and Overwrite=true cannot be given together (API_PutParameter); the tier is kept (Advanced stays).
    assert action.put == {
        "Name": P + "SMTP",
        "Value": "new",
        "Type": "SecureString",
        "Overwrite": True,
        "Description": "SMTP",
        "Tier": "Advanced",
    }
    assert action.add_tags == {"megapool:env": "prod"} and action.remove_tags == ("x",)
    kept = plan(["r1"], P, {"SMTP": "new"}, [], current, "{name}", TAGS, False).actions[0]
    assert kept.remove_tags == ()


@pytest.mark.parametrize(
    "found, reasons",
    [
        (Current("v", type="String", description="G"), ("type",)),
        (Current("v", description="old text"), ("description",)),
        (Current("v", description="G", tags={}), ("tags",)),
    ],
)
def test_a_generated_secret_with_drift_keeps_its_value(found, reasons):
    (action,) = plan(
        ["r1"], P, {}, ["G"], {"r1": {P + "G": found}}, "{name}", TAGS if found.tags is not None else None
    ).actions
    assert action.reasons == reasons
    if action.put:
        assert action.put["Value"] == "v" and action.put["Overwrite"] is True and "Tags" not in action.put
    else:
        assert action.kind == "tags" and action.add_tags == TAGS


def test_no_description_and_no_tags_are_not_managed():
    current = {"r1": {P + "A": Current("a", description="anything", tags={"k": "v"})}}
    (action,) = plan(["r1"], P, {"A": "a"}, [], current, "", None).actions
    assert action.kind == "none"


def test_conflicts_plan_no_action_at_all():
    current = {"r1": {P + "G": Current("1")}, "ref": {P + "G": Current("2")}}
    result = plan(["r1", "r2"], P, {"A": "a"}, ["G"], current)
    assert result.actions == () and not result.changed
    assert result.conflicts[0]["regions"] == [["r1"], ["ref"]]


def test_a_given_value_wins_over_a_generated_name_and_over_conflicts():
    current = {"r1": {P + "G": Current("1")}, "r2": {P + "G": Current("2")}}
    result = plan(["r1", "r2"], P, {"G": "given"}, ["G"], current)
    assert not result.conflicts
    assert [a.put["Value"] for a in result.actions] == ["given", "given"]


@given(
    st.dictionaries(st.sampled_from(["A", "B", "C"]), st.text(max_size=8).map("VAL-".__add__), max_size=3),
    st.lists(st.sampled_from(["G", "H", "A"]), max_size=3),
    st.dictionaries(st.sampled_from(["r1", "r2", "r3"]), st.sampled_from(["VAL-x1", "VAL-x2", None]), max_size=3),
)
def test_every_region_ends_with_the_same_value_and_no_value_is_in_a_result(secrets, generated, held):
    """Property: after the plan every written region holds one value per name (given, else shared, else generated),
    and neither the summary nor the diff contains a value."""
    current = {region: ({P + "G": Current(value)} if value else {}) for region, value in held.items()}
    result = plan(["r1", "r2"], P, secrets, generated, current, "{name}", TAGS, True, lambda: "VAL-NEW")
    if result.conflicts:
        assert len({value for value in held.values() if value}) > 1 and "G" not in secrets
        return
    final = {}
    for action in result.actions:
        held_value = current.get(action.region, {}).get(action.name)
        value = action.put["Value"] if action.put else held_value.value
        final.setdefault(action.name, set()).add(value)
    assert all(len(values) == 1 for values in final.values())
    assert "VAL-" not in json.dumps([summary(result, ["r1", "r2"]), diff(result, current, TAGS)])


def test_the_diff_names_regions_and_parameters_never_values():
    current = {"r1": {P + "A": Current("secret-old", description="A", tags=TAGS)}}
    result = plan(["r1", "r2"], P, {"A": "secret-new"}, [], current, "{name}", TAGS)
    out = diff(result, current, TAGS)
    assert out["before"] == {
        "r1": {P + "A": {"exists": True, "type": "SecureString", "description": "A", "tags": TAGS}},
        "r2": {P + "A": {"exists": False}},
    }
    assert out["after"]["r1"][P + "A"]["value_changed"] is True
    assert out["after"]["r2"][P + "A"] == {
        "exists": True,
        "type": "SecureString",
        "description": "A",
        "tags": TAGS,
        "value_changed": True,
    }
    assert "secret-" not in json.dumps(out)


def test_absent_names_are_deleted_only_where_they_exist():
    current = {"r1": {P + "OLD": Current("x")}}
    result = plan(["r1", "r2"], P, {}, [], current, absent=["OLD"])
    assert [(a.region, a.name, a.kind) for a in result.actions] == [("r1", P + "OLD", "delete")]
    assert summary(result, ["r1", "r2"])["r1"]["deleted"] == [P + "OLD"]
    assert diff(result, current, None) == {
        "before": {"r1": {P + "OLD": {"exists": True}}},
        "after": {"r1": {P + "OLD": {"exists": False}}},
    }
