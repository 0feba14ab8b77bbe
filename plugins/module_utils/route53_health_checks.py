# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Half-made Route 53 health checks: which to adopt, which to delete (roles/dns, docs/reliability.md).

amazon.aws.route53_health_check creates a health check (CreateHealthCheck) and tags it in a second call
(ChangeTagsForResource); with ``use_unique_names`` it finds its check by the ``Name`` tag. A run killed between the two
calls leaves a check without tags, and the next run would create a second one. The module sends a random
``CallerReference`` and has no option for it; a deterministic one would not help either: Route 53 answers
``HealthCheckAlreadyExists`` to a reference of a *deleted* check for days, whatever the settings, so a teardown
followed by a converge would fail (Route 53 API reference, CreateHealthCheck, CallerReference:
https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHealthCheck.html).

So the dns role looks before the module runs: a check without a ``Name`` tag whose immutable settings (type, FQDN =
the region's ALB DNS name, which is unique to that load balancer, port, request interval) are the wanted ones is the
half-made one. It is adopted (tagged with the Name, so the module updates it) when there is no named check, and
deleted otherwise; further ones are deleted. A teardown deletes every such check of the ALB.

Input shapes: ``checks`` as amazon.aws.route53_info ``query: health_check`` returns them (snake_cased ListHealthChecks,
``id`` and ``health_check_config``), ``tag_sets`` as ListTagsForResources returns them (``ResourceId``, ``Tags``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# ListTagsForResources takes at most 10 ids per call (Route 53 API reference, ListTagsForResources, ResourceIds:
# https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListTagsForResources.html).
TAGS_BATCH = 10


class HealthCheckPlanError(ValueError):
    """The input is not what route53_info / ListTagsForResources return."""


def tags_by_id(tag_sets: list[Mapping]) -> dict[str, dict[str, str]]:
    """ResourceTagSets (of one or more ListTagsForResources calls) -> {health check id: {key: value}}."""
    tags: dict[str, dict[str, str]] = {}
    for tag_set in tag_sets or []:
        if not isinstance(tag_set, Mapping) or "ResourceId" not in tag_set:
            raise HealthCheckPlanError("a tag set without ResourceId: %r" % (tag_set,))
        tags[str(tag_set["ResourceId"])] = {str(t.get("Key")): str(t.get("Value")) for t in tag_set.get("Tags") or []}
    return tags


def _config(check: Mapping) -> Mapping:
    config = check.get("health_check_config")
    if not isinstance(config, Mapping) or not check.get("id"):
        raise HealthCheckPlanError("a health check without id or health_check_config: %r" % (check,))
    return config


def _matches(config: Mapping, fqdn: str, check_type: str, port: int, request_interval: int | None) -> bool:
    return (
        str(config.get("fully_qualified_domain_name") or "").rstrip(".").lower() == fqdn.rstrip(".").lower()
        and config.get("type") == check_type
        and int(config.get("port") or 0) == int(port)
        and (request_interval is None or int(config.get("request_interval") or 0) == int(request_interval))
        and not config.get("ip_address")
    )


def health_check_plan(
    checks: list[Mapping],
    tag_sets: list[Mapping],
    name: str,
    fqdn: str | None,
    check_type: str = "HTTPS",
    port: int = 443,
    request_interval: int | None = None,
    adopt: bool = True,
) -> dict[str, Any]:
    """``{named: [ids], orphans: [ids], adopt: id | None, delete: [ids]}``.

    ``named``: checks tagged ``Name=name``; ``orphans``: checks without a ``Name`` tag with the wanted immutable
    settings (``request_interval`` None: any). With ``adopt`` (a converge) the first orphan is adopted when nothing is
    named, every other orphan is deleted; without it (a teardown) every orphan is deleted."""
    if not fqdn:
        return {"named": [], "orphans": [], "adopt": None, "delete": []}
    tags = tags_by_id(tag_sets)
    named, orphans = [], []
    for check in checks or []:
        if not isinstance(check, Mapping):
            raise HealthCheckPlanError("a health check that is not a dictionary: %r" % (check,))
        config = _config(check)
        check_tags = tags.get(str(check["id"]), {})
        if check_tags.get("Name") == name:
            named.append(str(check["id"]))
        elif "Name" not in check_tags and _matches(config, fqdn, check_type, port, request_interval):
            orphans.append(str(check["id"]))
    adopted = orphans[0] if adopt and orphans and not named else None
    return {"named": named, "orphans": orphans, "adopt": adopted, "delete": [i for i in orphans if i != adopted]}
