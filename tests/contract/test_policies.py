# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policy lint itself: deliberately wrong policies are caught, the collection's kinds of policy pass."""

from __future__ import annotations

import json

import pytest

from megapool_contract import policies


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


TRUST = {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
SECRETS = {
    "Effect": "Allow",
    "Action": ["ssm:GetParameters"],
    "Resource": ["arn:aws:ssm:*:123456789012:parameter/megapool/local/X"],
}


def test_clean_policies_pass():
    assert policies.lint(doc(SECRETS)) == []
    assert policies.lint(doc(TRUST), "trust") == []


@pytest.mark.parametrize(
    "kind,document,issue",
    [
        ("identity", doc(dict(SECRETS, Action=["ssm:GetParameterz"])), "UNKNOWN_ACTION"),
        ("identity", doc(dict(SECRETS, Resource="arn:aws:s3:::bucket")), "RESOURCE_MISMATCH"),
        ("identity", doc({"Effect": "Allow", "Action": "ssm:GetParameters"}), "MALFORMED"),
        ("identity", json.dumps({"Version": "2012-10-17", "Statement": [SECRETS], "Extra": 1}), "MALFORMED"),
        ("identity", "{not json", "MALFORMED"),
        ("trust", doc(dict(TRUST, Resource="*")), "TRUST_RESOURCE"),
        ("trust", doc({"Effect": "Allow", "Action": "sts:AssumeRole"}), "TRUST_PRINCIPAL"),
        ("trust", doc(dict(TRUST, Action="sts:AssumeRol")), "UNKNOWN_ACTION"),
        ("trust", doc(dict(TRUST, Action="ssm:GetParameters")), "TRUST_ACTION"),
    ],
)
def test_a_wrong_policy_is_caught(kind, document, issue):
    findings = policies.lint(document, kind)
    assert any(f.startswith(issue) for f in findings), findings


RULE = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/megapool-local/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
MODIFY_RULE = {"Effect": "Allow", "Action": "elasticloadbalancing:ModifyRule", "Resource": [RULE]}


def test_one_of_an_actions_alternative_resource_types_is_enough():
    # ModifyRule takes an ALB's or an NLB's listener rule; the blue/green infrastructure role names its one ALB rule
    # (parliament alone reports the NLB format as missing: issue #48).
    assert policies.lint(doc(MODIFY_RULE)) == []
    assert policies.lint(doc(dict(MODIFY_RULE, Action=["elasticloadbalancing:Modify*Rule"]))) == []


@pytest.mark.parametrize(
    "resource",
    [
        RULE.replace("listener-rule", "listener"),
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/megapool-local/50dc6c495c0c9188",
        "arn:aws:s3:::bucket",
    ],
)
def test_an_action_with_none_of_its_resource_types_is_still_caught(resource):
    findings = policies.lint(doc(dict(MODIFY_RULE, Resource=[resource])))
    assert any(f.startswith("RESOURCE_MISMATCH") and "ModifyRule" in f for f in findings), findings


def test_documents_are_taken_from_the_recorded_calls():
    records = [
        {
            "service": "iam",
            "operation": "CreateRole",
            "params": {"RoleName": "r", "AssumeRolePolicyDocument": doc(TRUST)},
        },
        {
            "service": "iam",
            "operation": "PutRolePolicy",
            "params": {"RoleName": "r", "PolicyName": "p", "PolicyDocument": doc(SECRETS)},
        },
        {"service": "iam", "operation": "GetRole", "params": {"RoleName": "r"}},
        {"event": "reset"},
    ]
    assert [(kind, text) for kind, text, _record in policies.documents(records)] == [
        ("trust", doc(TRUST)),
        ("identity", doc(SECRETS)),
    ]
