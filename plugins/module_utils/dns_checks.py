# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every problem with the dns role's inputs (pure, no I/O): the planner behind the ``megapool.aws.dns_input_errors``
filter. The name rules are the modules' own, one rule in one place: certificate and zone names as
``acm_certificate_request`` checks them (``acm_dns``), the Cloud Map namespace and service as
``servicediscovery_namespace`` does (``service_discovery``)."""

from __future__ import annotations

import json
from typing import Any
from typing import Mapping

from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import _name_problem as certificate_name_problem
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import in_zone
from ansible_collections.megapool.aws.plugins.module_utils.acm_dns import normalize_name
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import as_int
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import list_errors
from ansible_collections.megapool.aws.plugins.module_utils.input_checks import name_errors
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import RECORD_TYPES
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import _SERVICE_NAME_RE as SERVICE_NAME_RE
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import _is_domain as is_namespace_name

# Route 53 health checks: RequestInterval 10 or 30, FailureThreshold 1-10
# (https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html).
HEALTH_CHECK_INTERVALS = (10, 30)


def _json(value: Any) -> str:
    return json.dumps(value if isinstance(value, (str, int, float, bool, type(None))) else str(value))


def _domain(value: Any) -> str | None:
    """The name as the role uses it (lower case, no trailing dot), or None when it is not a domain name."""
    if not isinstance(value, str) or certificate_name_problem(value):
        return None
    return normalize_name(value)


def dns_input_errors(inputs: Mapping[str, Any]) -> list[str]:
    """``inputs``: the role's variables by name (megapool_cluster, megapool_env, dns_*); ``dns_health_check_path`` as the
    role resolves it (the ALB's health path by default)."""
    cluster, env = inputs.get("megapool_cluster"), inputs.get("megapool_env")
    errors = name_errors(cluster, env)
    names_ok = not errors
    raw_zone = inputs.get("dns_zone_name")
    zone = _domain(raw_zone)
    if zone is None or zone.startswith("*"):
        errors.append(
            "dns_zone_name=%s is not a domain name: set it to the public Route 53 hosted zone of the application, "
            "e.g. example.com (and dns_create_zone: true to create it)"
            % _json(raw_zone if raw_zone is not None else "")
        )
        zone = None
    elif str(raw_zone).strip().endswith("."):
        errors.append(
            "dns_zone_name=%s ends with a dot: write the zone without it, dns_zone_name: %s (the role adds the dot "
            "where Route 53 wants one)" % (_json(raw_zone), zone)
        )
    raw_app = inputs.get("dns_app_domain") or ("app." + zone if zone else None)
    app = _domain(raw_app) if raw_app is not None else None
    if raw_app is not None and app is None:
        errors.append(
            "dns_app_domain=%s is not a domain name: use a name inside dns_zone_name, e.g. app.%s"
            % (_json(raw_app), zone or "example.com")
        )
    elif zone and not in_zone(app, zone):
        errors.append(
            "dns_app_domain=%s is not inside the hosted zone dns_zone_name=%s: Route 53 can only hold its records "
            "(and validate its certificate) in that zone. Use a name ending in .%s (e.g. app.%s), or set "
            "dns_zone_name to the zone that holds %s" % (app, zone, zone, zone, app)
        )
    extra = inputs.get("dns_extra_names", [])
    shape = list_errors("dns_extra_names", extra, "[example.com, www.example.com]")
    errors += shape
    if not shape:
        bad = [str(name) for name in extra if _domain(name) is None]
        if bad:
            errors.append(
                "dns_extra_names has %s, not a domain name: list full names such as www.%s"
                % (", ".join(bad), zone or "example.com")
            )
        outside = [
            normalize_name(name)
            for name in extra
            if _domain(name) is not None and zone and not in_zone(str(name), zone)
        ]
        if outside:
            errors.append(
                "dns_extra_names has %s, outside the hosted zone dns_zone_name=%s: the certificate's alternative "
                "names are validated (and the records made) in that zone. List only the apex %s or names ending "
                "in .%s, or use another zone" % (", ".join(outside), zone, zone, zone)
            )
    path = inputs.get("dns_health_check_path")
    if not (isinstance(path, str) and path.startswith("/")):
        errors.append("dns_health_check_path=%s must start with a slash, e.g. /health" % _json(path))
    interval = as_int(inputs.get("dns_health_check_interval"))
    if interval not in HEALTH_CHECK_INTERVALS:
        errors.append(
            "dns_health_check_interval=%s must be 10 or 30 (seconds, what Route 53 offers)"
            % inputs.get("dns_health_check_interval")
        )
    threshold = as_int(inputs.get("dns_health_check_failure_threshold"))
    if threshold is None or not 1 <= threshold <= 10:
        errors.append(
            "dns_health_check_failure_threshold=%s must be 1-10" % inputs.get("dns_health_check_failure_threshold")
        )
    namespace = inputs.get("dns_discovery_namespace")
    if namespace is None and names_ok:
        namespace = "%s.%s.internal" % (cluster, env)
    if namespace is not None and (
        not isinstance(namespace, str) or not is_namespace_name(normalize_name(namespace)) or namespace.startswith("*")
    ):
        errors.append(
            "dns_discovery_namespace=%s is not a domain name: use e.g. %s.%s.internal"
            % (_json(namespace), cluster, env)
        )
    service = inputs.get("dns_discovery_service") or (cluster if names_ok else None)
    if service is not None and (not isinstance(service, str) or not SERVICE_NAME_RE.match(service)):
        errors.append(
            "dns_discovery_service=%s must be one DNS label (letters, digits, hyphens), e.g. %s"
            % (_json(service), cluster)
        )
    types = inputs.get("dns_discovery_record_types", ["A"])
    shape = list_errors("dns_discovery_record_types", types, "[A]")
    errors += shape
    if not shape and any(str(kind) not in RECORD_TYPES for kind in types):
        errors.append(
            "dns_discovery_record_types=%s: use A (awsvpc), AAAA or SRV (bridge or host network mode)"
            % json.dumps([str(kind) for kind in types])
        )
    return errors
