# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The contract stage: every AWS request the test run sent (molecule and integration, recorded by
tests/contract/recorder) checked against what AWS itself enforces.

The logs come from ``MEGAPOOL_CONTRACT_LOGS`` (tests/run-all.sh sets it); when the run recorded no first converge
(``bash tests/run-all.sh contract`` alone, or ``pytest tests/contract``) a first converge of playbooks/site.yml on
the test emulator is run and recorded here, so these tests never pass on an empty log.
"""

from __future__ import annotations

import pytest

from megapool_contract import call_order, calllog, model_rules, policies, run


@pytest.fixture(scope="module")
def checked_run():
    return run.records_to_check()


@pytest.fixture
def recorded(checked_run):
    records, paths, _failure = checked_run
    assert calllog.calls(records), "no AWS request recorded in %s" % paths
    return records


def test_the_first_converge_run_here_succeeded(checked_run):
    """Only when the run had no first converge of its own; the checks below still judge what it sent."""
    failure = checked_run[2]
    assert failure is None, failure


def test_every_recorded_request_is_one_aws_accepts(recorded):
    violations = model_rules.validate_records(calllog.calls(recorded), calllog.origin)
    assert not violations, "%d request(s) that AWS would refuse with a ValidationException:\n%s" % (
        len(violations),
        run.summary(violations),
    )


def test_a_first_converge_creates_in_an_order_aws_can_serve(recorded):
    report = call_order.check(recorded)
    assert report.checked["asg_cluster"] > 0, (
        "no Auto Scaling group in the log could be linked to the ECS cluster it joins"
    )
    assert report.checked["capacity_provider_role"] > 0, "no capacity provider created in the log"
    assert not report.violations, "\n".join(sorted(set(report.violations)))


def test_every_policy_document_sent_lints_clean(recorded):
    found = policies.documents(recorded)
    assert found, "no IAM policy document in the log (the ECS instance role's trust policy at least)"
    problems = sorted(
        {
            "%s %s: %s [%s]"
            % (
                record["operation"],
                record["params"].get("RoleName") or record["params"].get("PolicyName"),
                finding,
                calllog.origin(record),
            )
            for kind, text, record in found
            for finding in policies.lint(text, kind)
        }
    )
    assert not problems, "\n".join(problems)
