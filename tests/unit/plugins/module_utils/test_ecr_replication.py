# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ECR replication merge of megapool.aws.ecr_replication: our destinations added, the owner's rules kept."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.module_utils.ecr_replication import plan_replication
from ansible_collections.megapool.aws.plugins.module_utils.ecr_replication import replicated_regions

ACCOUNT, OTHER_ACCOUNT = "123456789012", "999999999999"
SOURCE = "eu-north-1"
REGIONS = ["eu-north-1", "ap-southeast-1", "us-east-1", "eu-west-1", "sa-east-1"]


def _rule(regions, *filters, account=ACCOUNT):
    rule = {"destinations": [{"region": region, "registryId": account} for region in regions]}
    if filters:
        rule["repositoryFilters"] = [{"filter": name, "filterType": "PREFIX_MATCH"} for name in filters]
    return rule


@pytest.mark.parametrize(
    "current, regions, added, rules",
    [
        # empty registry: one rule of our own, the source region left out
        ({"rules": []}, [SOURCE, "us-east-1"], ["us-east-1"], [_rule(["us-east-1"], "shop-prod")]),
        (None, ["us-east-1", "us-east-1"], ["us-east-1"], [_rule(["us-east-1"], "shop-prod")]),
        # already replicated by the owner's rule without filters, or by a prefix: nothing to add
        ({"rules": [_rule(["us-east-1"])]}, ["us-east-1"], [], [_rule(["us-east-1"])]),
        ({"rules": [_rule(["us-east-1"], "shop")]}, ["us-east-1"], [], [_rule(["us-east-1"], "shop")]),
        # the owner's rule for another repository and another account's destination are kept, ours is appended
        (
            {"rules": [_rule(["us-east-1"], "billing"), _rule(["ap-southeast-1"], account=OTHER_ACCOUNT)]},
            ["ap-southeast-1"],
            ["ap-southeast-1"],
            [
                _rule(["us-east-1"], "billing"),
                _rule(["ap-southeast-1"], account=OTHER_ACCOUNT),
                _rule(["ap-southeast-1"], "shop-prod"),
            ],
        ),
        # our own rule grows (a region added to the inventory)
        (
            {"rules": [_rule(["us-east-1"], "shop-prod")]},
            ["us-east-1", "eu-west-1"],
            ["eu-west-1"],
            [_rule(["us-east-1", "eu-west-1"], "shop-prod")],
        ),
        # a longer name is not a prefix of ours: not covered
        (
            {"rules": [_rule(["us-east-1"], "shop-prod-old")]},
            ["us-east-1"],
            ["us-east-1"],
            [_rule(["us-east-1"], "shop-prod-old"), _rule(["us-east-1"], "shop-prod")],
        ),
    ],
)
def test_merge(current, regions, added, rules):
    before = copy.deepcopy(current)
    plan = plan_replication(current, "shop-prod", ACCOUNT, SOURCE, regions)
    assert plan["added"] == added
    assert plan["changed"] == bool(added)
    assert plan["configuration"]["rules"] == rules
    assert plan["errors"] == []
    assert current == before  # the input is not modified


def test_the_eleventh_rule_is_refused_with_the_fix():
    current = {"rules": [_rule(["us-east-1"], "repo%d" % i) for i in range(10)]}
    plan = plan_replication(current, "shop-prod", ACCOUNT, SOURCE, ["ap-southeast-1"])
    assert (
        plan["errors"]
        and "already has 10 replication rules" in plan["errors"][0]
        and "ap-southeast-1" in plan["errors"][0]
    )


def test_absent_removes_our_rule_only():
    current = {
        "rules": [
            _rule(["us-east-1"], "billing"),
            _rule(["us-east-1", "ap-southeast-1"], "shop-prod"),
            _rule(["us-east-1"]),
        ]
    }
    plan = plan_replication(current, "shop-prod", ACCOUNT, SOURCE, [], state="absent")
    assert plan["changed"] and plan["removed"] == ["us-east-1", "ap-southeast-1"]
    assert plan["configuration"]["rules"] == [_rule(["us-east-1"], "billing"), _rule(["us-east-1"])]
    assert not plan_replication(plan["configuration"], "shop-prod", ACCOUNT, SOURCE, [], state="absent")["changed"]


_RULES = st.lists(
    st.builds(
        lambda regions, filters, account: _rule(regions, *filters, account=account),
        st.lists(st.sampled_from(REGIONS[1:]), min_size=1, max_size=3, unique=True),
        st.lists(st.sampled_from(["shop", "shop-prod", "billing", "shop-prod-old"]), max_size=2, unique=True),
        st.sampled_from([ACCOUNT, OTHER_ACCOUNT]),
    ),
    max_size=4,
)


@given(_RULES, st.lists(st.sampled_from(REGIONS), max_size=5))
def test_property_covered_kept_and_idempotent(rules, regions):
    plan = plan_replication({"rules": rules}, "shop-prod", ACCOUNT, SOURCE, regions)
    after = plan["configuration"]
    # every wanted region is replicated, the owner's rules are all still there unchanged or only grown
    assert set(regions) - {SOURCE} <= set(replicated_regions(after, "shop-prod", ACCOUNT))
    for rule in rules:
        assert any(
            rule["destinations"] == kept["destinations"][: len(rule["destinations"])]
            and rule.get("repositoryFilters") == kept.get("repositoryFilters")
            for kept in after["rules"]
        )
    # a second run changes nothing
    assert not plan_replication(after, "shop-prod", ACCOUNT, SOURCE, regions)["changed"]
