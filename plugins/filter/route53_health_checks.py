# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Half-made Route 53 health checks of the dns role (module_utils/route53_health_checks.py decides)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

# module_utils are imported in the filters: ansible-core loads every filter file of the collection in each worker
# process that resolves one of them (docs/benchmarks.md, "Warm workers").


def _health_check_plan(checks, tag_sets, name, fqdn, check_type="HTTPS", port=443, request_interval=None, adopt=True):
    from ansible_collections.megapool.aws.plugins.module_utils.route53_health_checks import HealthCheckPlanError
    from ansible_collections.megapool.aws.plugins.module_utils.route53_health_checks import health_check_plan

    for what, value in (("checks", checks), ("tag_sets", tag_sets)):
        if not isinstance(value, (list, tuple)):
            raise AnsibleFilterError("health_check_plan: %s must be a list, got %r" % (what, value))
    try:
        return health_check_plan(list(checks), list(tag_sets), name, fqdn, check_type, port, request_interval, adopt)
    except (HealthCheckPlanError, TypeError, ValueError) as error:
        raise AnsibleFilterError("health_check_plan: %s" % error) from None


class FilterModule:
    """megapool.aws Route 53 health check filters."""

    def filters(self):
        return {"health_check_plan": _health_check_plan}
