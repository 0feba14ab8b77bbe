# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check recorded logs by hand: ``cd tests/contract && python -m megapool_contract LOG [LOG...]``.

Prints the request violations, the call-order violations and the policy findings; exit status 1 when any.
"""

from __future__ import annotations

import sys

from . import call_order, calllog, model_rules, policies, run


def main(paths: list[str]) -> int:
    if not paths:
        sys.stderr.write(__doc__)
        return 2
    records = sorted((r for p in paths for r in calllog.read(p)), key=lambda r: (r.get("time", 0), r["_line"]))
    calls = calllog.calls(records)
    violations = model_rules.validate_records(calls, calllog.origin)
    order = call_order.check(records)
    findings = [(record, f) for kind, text, record in policies.documents(calls) for f in policies.lint(text, kind)]
    print(
        "%d requests; %d refused by the model rules; call order: %d violations (judged %s); %d policy findings"
        % (len(calls), len(violations), len(order.violations), order.checked, len(findings))
    )
    if violations:
        print("\n== requests AWS would refuse ==\n" + run.summary(violations))
    if order.violations:
        print("\n== call order ==\n" + "\n".join(sorted(set(order.violations))))
    if findings:
        print("\n== IAM policy findings ==")
        for record, finding in findings:
            print("%s: %s [%s]" % (record["operation"], finding, calllog.origin(record)))
    return 1 if violations or order.violations or findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
