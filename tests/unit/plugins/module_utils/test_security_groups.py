# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/security_groups.py: which of the network role's security groups a run must write (the
contract with amazon.aws.ec2_security_group itself is tests/unit/contract/test_security_group_comparator.py)."""

from __future__ import annotations

import pytest
from hypothesis import assume
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.module_utils.security_groups import SecurityGroupSpecError
from ansible_collections.megapool.aws.plugins.module_utils.security_groups import converged_security_group_ids
from ansible_collections.megapool.aws.plugins.module_utils.security_groups import security_group_drift
from ansible_collections.megapool.aws.plugins.module_utils.security_groups import security_groups_to_converge
from ansible_collections.megapool.aws.plugins.module_utils.security_groups import wanted_permissions

VPC = "vpc-1"
TAGS = {"megapool:env": "test", "Name": "n-cluster"}
SPEC = {
    "name": "n-cluster",
    "description": "d",
    "rules": [
        {"proto": "tcp", "ports": [4000], "group_id": "sg-alb", "rule_desc": "app"},
        {"proto": "tcp", "ports": ["4370-4379"], "cidr_ip": ["10.0.0.0/16", "10.1.0.5/16"], "rule_desc": "dist"},
        {"proto": "tcp", "ports": [80, "443"], "cidr_ip": "0.0.0.0/0", "rule_desc": "web"},
    ],
    "tags": TAGS,
}


def _group(**changes) -> dict:
    """SPEC as ec2_security_group_info returns it after the module converged it."""
    group = {
        "group_name": "n-cluster",
        "group_id": "sg-cluster",
        "vpc_id": VPC,
        "description": "d",
        "ip_permissions": [
            {
                "ip_protocol": "tcp",
                "from_port": 4000,
                "to_port": 4000,
                "ip_ranges": [],
                "user_id_group_pairs": [{"group_id": "sg-alb", "user_id": "123456789012", "description": "app"}],
            },
            {
                "ip_protocol": "tcp",
                "from_port": 4370,
                "to_port": 4379,
                "ip_ranges": [
                    {"cidr_ip": "10.0.0.0/16", "description": "dist"},
                    {"cidr_ip": "10.1.0.0/16", "description": "dist"},
                ],
            },
            {
                "ip_protocol": "tcp",
                "from_port": 80,
                "to_port": 80,
                "ip_ranges": [{"cidr_ip": "0.0.0.0/0", "description": "web"}],
            },
            {
                "ip_protocol": "tcp",
                "from_port": 443,
                "to_port": 443,
                "ip_ranges": [{"cidr_ip": "0.0.0.0/0", "description": "web"}],
            },
        ],
        "ip_permissions_egress": [{"ip_protocol": "-1", "ip_ranges": [{"cidr_ip": "0.0.0.0/0"}]}],
        "tags": dict(TAGS),
    }
    group.update(changes)
    return group


def _perms_without(index: int) -> list:
    return [perm for i, perm in enumerate(_group()["ip_permissions"]) if i != index]


@pytest.mark.parametrize(
    "group, drift",
    [
        (_group(), []),
        (_group(description="other"), []),  # immutable: the module only warns
        (_group(ip_permissions_egress=[]), []),  # egress is not the module's business without rules_egress
        (_group(tags=dict(TAGS, **{"aws:cloudformation:stack-name": "x"})), []),  # aws: tags never purged
        (None, ["missing"]),
        (_group(tags={"megapool:env": "test"}), ["tags"]),
        (_group(tags=dict(TAGS, owner="me")), ["tags"]),
        (_group(tags=dict(TAGS, Name="other")), ["tags"]),
        (_group(ip_permissions=_perms_without(0)), ["rules"]),
        (_group(ip_permissions=_perms_without(3)), ["rules"]),
        (
            _group(
                ip_permissions=_group()["ip_permissions"]
                + [{"ip_protocol": "tcp", "from_port": 22, "to_port": 22, "ip_ranges": [{"cidr_ip": "1.2.3.0/24"}]}]
            ),
            ["rules"],
        ),
        (
            _group(
                ip_permissions=_perms_without(2)
                + [{"ip_protocol": "tcp", "from_port": 80, "to_port": 80, "ip_ranges": [{"cidr_ip": "0.0.0.0/0"}]}]
            ),
            ["rule descriptions"],
        ),
        (
            _group(
                ip_permissions=_perms_without(2)
                + [
                    {
                        "ip_protocol": "tcp",
                        "from_port": 80,
                        "to_port": 81,
                        "ip_ranges": [{"cidr_ip": "0.0.0.0/0", "description": "web"}],
                    }
                ],
                tags={},
            ),
            ["rules", "tags"],
        ),
    ],
)
def test_security_group_drift(group, drift):
    assert security_group_drift(SPEC, group) == drift


def test_to_converge_keeps_order_and_keys_and_finds_by_name_in_the_vpc():
    other = dict(SPEC, name="n-alb", rules=[], role="alb")
    found = [_group(), _group(group_name="n-alb", group_id="sg-alb", ip_permissions=[], vpc_id="vpc-other")]
    result = security_groups_to_converge([other, SPEC], found, VPC)
    assert [(item["name"], item["drift"], item.get("role")) for item in result] == [("n-alb", ["missing"], "alb")]
    # Without a VPC every group of the read counts.
    assert security_groups_to_converge([other, SPEC], found) == []


def test_all_traffic_and_numeric_protocols_have_no_ports():
    assert wanted_permissions([{"proto": "all", "cidr_ip": "10.0.0.0/8"}]) == {
        ("-1", None, None, "cidr_ip", "10.0.0.0/8", None)
    }
    group = _group(ip_permissions=[{"ip_protocol": "-1", "ip_ranges": [{"cidr_ip": "10.0.0.0/8"}]}])
    assert security_group_drift(dict(SPEC, rules=[{"proto": "-1", "cidr_ip": "10.0.0.0/8"}]), group) == []


@pytest.mark.parametrize("key", ["group_name", "icmp_type", "group_desc"])
def test_unmodelled_rule_forms_are_refused(key):
    with pytest.raises(SecurityGroupSpecError, match=key):
        wanted_permissions([{"proto": "tcp", "ports": [1], key: "x"}])


def test_converged_ids_from_the_loop_else_the_read():
    wanted = [{"name": "n-alb"}, {"name": "n-bastion"}, {"name": "n-new"}]
    found = [_group(group_name="n-alb", group_id="sg-a"), _group(group_name="n-bastion", group_id="sg-b")]
    results = [
        {"item": {"name": "n-bastion"}, "group_id": "sg-b2"},
        {"item": {"name": "n-new"}, "group_id": None},  # check mode would create it
    ]
    assert converged_security_group_ids(wanted, found, results, VPC) == {
        "n-alb": "sg-a",
        "n-bastion": "sg-b2",
        "n-new": None,
    }
    assert converged_security_group_ids(wanted, found, [], VPC)["n-new"] is None


@given(
    st.lists(
        st.tuples(st.integers(0, 65535), st.integers(0, 3), st.sampled_from(["a", "b", None])), min_size=0, max_size=6
    )
)
def test_a_group_as_aws_stores_the_wanted_rules_has_no_drift(rules):
    """Property: whatever CIDR/port rules are wanted, the group AWS holds after authorising them (one permission
    per port and protocol, one range per CIDR) is no drift, and dropping any one of its entries is."""
    wanted = [
        {"proto": "tcp", "ports": [port], "cidr_ip": "10.%d.0.0/16" % net, "rule_desc": desc}
        for port, net, desc in rules
    ]
    perms = {}
    for port, net, desc in rules:
        perms.setdefault(port, {})["10.%d.0.0/16" % net] = desc
    stored = [
        {
            "ip_protocol": "tcp",
            "from_port": port,
            "to_port": port,
            "ip_ranges": [dict({"cidr_ip": cidr}, **({"description": d} if d else {})) for cidr, d in cidrs.items()],
        }
        for port, cidrs in perms.items()
    ]
    # (one CIDR and port wanted twice with two descriptions: AWS keeps one, the module would flap too)
    assume(len({(port, net) for port, net, _desc in rules}) == len(rules))
    spec = dict(SPEC, rules=wanted)
    assert security_group_drift(spec, _group(ip_permissions=stored)) == []
    if stored:
        fewer = [dict(stored[0], ip_ranges=stored[0]["ip_ranges"][1:])] + stored[1:]
        assert security_group_drift(spec, _group(ip_permissions=fewer)) == ["rules"]
