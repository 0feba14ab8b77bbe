# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Half-made Route 53 health checks: which the dns role adopts, which it deletes (module_utils/route53_health_checks.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible.errors import AnsibleFilterError

from ansible_collections.megapool.aws.plugins.filter.route53_health_checks import FilterModule
from ansible_collections.megapool.aws.plugins.module_utils.route53_health_checks import health_check_plan

plan_filter = FilterModule().filters()["health_check_plan"]

FQDN = "megapool-local-1.eu-north-1.elb.amazonaws.com"
NAME = "megapool-local-eu-north-1"


def _check(check_id, fqdn=FQDN, check_type="HTTPS", port=443, interval=30, ip=None):
    config = {"type": check_type, "fully_qualified_domain_name": fqdn, "port": port, "request_interval": interval}
    if ip:
        config["ip_address"] = ip
    return {"id": check_id, "health_check_config": config}


def _tags(check_id, **tags):
    return {
        "ResourceType": "healthcheck",
        "ResourceId": check_id,
        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
    }


@pytest.mark.parametrize(
    "checks, tag_sets, adopt, expected",
    [
        # a run killed between CreateHealthCheck and ChangeTagsForResource: adopted
        ([_check("a")], [_tags("a")], True, {"named": [], "orphans": ["a"], "adopt": "a", "delete": []}),
        # no tag set at all for the check (an empty ResourceTagSet is left out by some endpoints)
        ([_check("a")], [], True, {"named": [], "orphans": ["a"], "adopt": "a", "delete": []}),
        # the named one exists: the half-made one goes
        (
            [_check("n"), _check("a")],
            [_tags("n", Name=NAME), _tags("a")],
            True,
            {"named": ["n"], "orphans": ["a"], "adopt": None, "delete": ["a"]},
        ),
        # two half-made ones: the first adopted, the second deleted
        ([_check("a"), _check("b")], [], True, {"named": [], "orphans": ["a", "b"], "adopt": "a", "delete": ["b"]}),
        # teardown: every half-made one goes, the named one is the module's
        (
            [_check("n"), _check("a"), _check("b")],
            [_tags("n", Name=NAME)],
            False,
            {"named": ["n"], "orphans": ["a", "b"], "adopt": None, "delete": ["a", "b"]},
        ),
        # not ours: another Name, other FQDN / type / port / interval, an IP address check
        (
            [
                _check("x"),
                _check("f", fqdn="other-1.eu-north-1.elb.amazonaws.com"),
                _check("t", check_type="HTTP"),
                _check("p", port=8443),
                _check("i", interval=10),
                _check("ip", ip="192.0.2.1"),
            ],
            [_tags("x", Name="someone-else")],
            True,
            {"named": [], "orphans": [], "adopt": None, "delete": []},
        ),
        # a trailing dot and upper case in the stored FQDN are the same name
        ([_check("a", fqdn=FQDN.upper() + ".")], [], True, {"named": [], "orphans": ["a"], "adopt": "a", "delete": []}),
    ],
)
def test_health_check_plan(checks, tag_sets, adopt, expected):
    assert health_check_plan(checks, tag_sets, NAME, FQDN, "HTTPS", 443, 30, adopt) == expected


def test_any_interval_when_none_is_given():
    assert health_check_plan([_check("i", interval=10)], [], NAME, FQDN, adopt=False)["delete"] == ["i"]


def test_no_fqdn_nothing_to_do():
    assert health_check_plan([_check("a")], [], NAME, "", adopt=False) == {
        "named": [],
        "orphans": [],
        "adopt": None,
        "delete": [],
    }


@given(st.lists(st.tuples(st.sampled_from(["none", "ours", "other"]), st.booleans()), max_size=12), st.booleans())
def test_never_more_than_one_check_stays(kinds, adopt):
    """Whatever is there, after the plan at most one check of the wanted settings is left (the named or the adopted
    one, and in a teardown none but the named ones, which the stock module deletes), and a named one is never deleted."""
    checks, tag_sets = [], []
    for index, (kind, matching) in enumerate(kinds):
        check_id = "c%d" % index
        checks.append(_check(check_id, interval=30 if matching else 10))
        if kind != "none":
            tag_sets.append(_tags(check_id, Name=NAME if kind == "ours" else "other"))
    plan = health_check_plan(checks, tag_sets, NAME, FQDN, "HTTPS", 443, 30, adopt)
    assert not set(plan["delete"]) & set(plan["named"])
    assert set(plan["orphans"]) == set(plan["delete"]) | ({plan["adopt"]} if plan["adopt"] else set())
    if adopt:
        assert (
            len(set(plan["orphans"]) - set(plan["delete"])) + (1 if plan["named"] else 0) <= 1 or len(plan["named"]) > 1
        )
    else:
        assert plan["adopt"] is None and plan["delete"] == plan["orphans"]


@pytest.mark.parametrize(
    "checks, tag_sets", [("x", []), ([], "x"), ([{"health_check_config": {}}], []), ([], [{"Tags": []}])]
)
def test_the_filter_refuses_what_route53_info_does_not_return(checks, tag_sets):
    with pytest.raises(AnsibleFilterError, match="health_check_plan"):
        plan_filter(checks, tag_sets, NAME, FQDN)
