# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lint every IAM policy document the collection sends, with parliament (https://github.com/duo-labs/parliament).

parliament knows every IAM action, resource type and condition key (its bundled IAM definition) and reports unknown
actions, actions that do not match their resources, malformed statements and unknown condition keys. moto accepts any
JSON, so a typo such as ``ssm:GetParameter`` for ``ssm:GetParameters`` only shows on AWS as an AccessDenied at run time.

Trust policies (``AssumeRolePolicyDocument``) are resource policies without ``Resource``: IAM refuses a trust
policy with a ``Resource`` ("MalformedPolicyDocument: Has prohibited field Resource") or without a ``Principal``
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html). Those two rules are
checked here; parliament then lints the statements with the role itself as ``Resource`` (what a trust policy
governs; parliament's checks need a resource), and its ``CREDENTIALS_EXPOSURE`` finding is dropped for trust policies
only: allowing ``sts:AssumeRole`` to the role's principal is what a trust policy is for.
"""

from __future__ import annotations

import json

from parliament import analyze_policy_string, expand_action, is_arn_strictly_valid
from parliament.statement import get_arn_format, get_privilege_info

# Operation -> (member holding the document, "identity" or "trust").
POLICY_MEMBERS = {
    ("iam", "CreateRole"): ("AssumeRolePolicyDocument", "trust"),
    ("iam", "UpdateAssumeRolePolicy"): ("PolicyDocument", "trust"),
    ("iam", "PutRolePolicy"): ("PolicyDocument", "identity"),
    ("iam", "PutUserPolicy"): ("PolicyDocument", "identity"),
    ("iam", "PutGroupPolicy"): ("PolicyDocument", "identity"),
    ("iam", "CreatePolicy"): ("PolicyDocument", "identity"),
    ("iam", "CreatePolicyVersion"): ("PolicyDocument", "identity"),
}

TRUST_ACTIONS = {
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
    "sts:TagSession",
    "sts:SetSourceIdentity",
    "sts:SetContext",
}


def documents(records) -> list[tuple[str, str, dict]]:
    """(kind, document text, record) for every policy document in the recorded calls."""
    found = []
    for record in records:
        member = POLICY_MEMBERS.get((record.get("service"), record.get("operation")))
        if member and isinstance((record.get("params") or {}).get(member[0]), str):
            found.append((member[1], record["params"][member[0]], record))
    return found


def _statements(policy: dict) -> list:
    statements = policy.get("Statement")
    return statements if isinstance(statements, list) else [statements]


TRUST_RESOURCE_ARN = "arn:aws:iam::123456789012:role/trusting-role"
TRUST_IGNORED = {"CREDENTIALS_EXPOSURE"}


def lint(document: str, kind: str = "identity") -> list[str]:
    """Findings for one policy document ("identity" or "trust"); [] when it is clean."""
    try:
        policy = json.loads(document)
    except ValueError as exc:
        return ["MALFORMED: not JSON (%s)" % exc]
    findings = []
    if kind == "trust":
        if not isinstance(policy, dict):
            return ["MALFORMED: the policy is not a JSON object"]
        for index, statement in enumerate(_statements(policy)):
            if not isinstance(statement, dict):
                findings.append("MALFORMED: statement %d is not an object" % index)
                continue
            if "Resource" in statement or "NotResource" in statement:
                findings.append("TRUST_RESOURCE: statement %d has a Resource; IAM refuses it in a trust policy" % index)
            if "Principal" not in statement and "NotPrincipal" not in statement:
                findings.append("TRUST_PRINCIPAL: statement %d has no Principal" % index)
            actions = statement.get("Action", [])
            for action in actions if isinstance(actions, list) else [actions]:
                if action not in TRUST_ACTIONS:
                    findings.append(
                        "TRUST_ACTION: statement %d allows %r, not a role-assumption action" % (index, action)
                    )
        policy = dict(
            policy, Statement=[dict(s, Resource=TRUST_RESOURCE_ARN) for s in _statements(policy) if isinstance(s, dict)]
        )
        document = json.dumps(policy)
    result = analyze_policy_string(document, include_community_auditors=True)
    for finding in result.findings:
        if kind == "trust" and finding.issue in TRUST_IGNORED:
            continue
        detail = finding.detail
        if finding.issue == "RESOURCE_MISMATCH" and isinstance(detail, list):
            detail = _without_alternatives_met(policy, detail)
            if not detail:
                continue
        findings.append("%s: %s" % (finding.issue, detail or ""))
    return findings


def _required_formats(action: str) -> list[str]:
    """The ARN formats of the resource types the IAM definition marks required (``*``) for one action."""
    service, _sep, name = (action or "").partition(":")
    info = get_privilege_info(service, name)
    return [
        get_arn_format(entry["resource_type"], info["service_resources"])
        for entry in info["resource_types"]
        if "*" in entry["resource_type"]
    ]


def _without_alternatives_met(policy, detail: list) -> list:
    """RESOURCE_MISMATCH entries of actions none of whose alternative resource types is met.

    parliament asks a statement to name every resource type the IAM definition marks required for an action. Where an
    action lists several (``elasticloadbalancing:ModifyRule``: ``listener-rule/app*`` and ``listener-rule/net*``),
    they are alternatives: one rule is either an ALB's or an NLB's, and a policy scoped to the one rule it may change
    names one ARN (the Service Authorization Reference's resource-types column; parliament issue #48 and its unmerged
    fix, pull request #208, "Action only needs to match at least one resource"). An action is kept as a finding only
    when no resource of a statement that allows it matches any of its required resource types.
    """
    formats = {entry.get("action"): _required_formats(entry.get("action")) for entry in detail}
    resources = {}
    for statement in _statements(policy if isinstance(policy, dict) else {}):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        named = statement.get("Resource", [])
        for action in actions if isinstance(actions, list) else [actions]:
            for expanded in expand_action(action, raise_exceptions=False) or []:
                key = "%s:%s" % (expanded["service"], expanded["action"])
                resources.setdefault(key, []).extend(named if isinstance(named, list) else [named])
    met = {
        action
        for action, required in formats.items()
        if any(
            isinstance(resource, str) and is_arn_strictly_valid("", fmt, resource)
            for fmt in required
            for resource in resources.get(action, [])
        )
    }
    return [entry for entry in detail if entry.get("action") not in met]
