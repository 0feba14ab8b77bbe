# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The replication configuration of an ECR registry with one more rule merged in (pure, no I/O): the planner of the
module ``megapool.aws.ecr_replication``.

AWS (https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html, API_PutReplicationConfiguration,
API_ReplicationRule, API_RepositoryFilter): the replication configuration is ONE setting per registry and region,
replaced as a whole by ``PutReplicationConfiguration``; up to 10 rules, each with 1-25 destinations (``region`` +
``registryId``) and 0-100 repository filters (``PREFIX_MATCH`` only: the repository name starts with the filter; no
filter: every repository). Only images pushed after the configuration exists are replicated.

The merge never clobbers what the registry's owner configured: a destination some rule already gives the repository
is left alone; the missing ones are added to the rule whose filters are exactly ``[repository]`` (the one this
planner writes), else in a new rule at the end. ``absent`` removes only the destinations of that exact rule.
"""

from __future__ import annotations

import copy
from typing import Any
from typing import Mapping
from typing import Sequence

RULES_MAX = 10
DESTINATIONS_MAX = 25
FILTER_TYPE = "PREFIX_MATCH"


def covers(rule: Mapping[str, Any], repository: str) -> bool:
    """Whether a rule replicates ``repository`` (no filter: every repository; a PREFIX_MATCH filter that it starts with)."""
    filters = rule.get("repositoryFilters") or []
    return not filters or any(
        item.get("filterType", FILTER_TYPE) == FILTER_TYPE and repository.startswith(str(item.get("filter", "")))
        for item in filters
    )


def _own(rule: Mapping[str, Any], repository: str) -> bool:
    filters = rule.get("repositoryFilters") or []
    return (
        len(filters) == 1
        and filters[0].get("filter") == repository
        and filters[0].get("filterType", FILTER_TYPE) == FILTER_TYPE
    )


def _destination(region: str, account: str) -> dict[str, str]:
    return {"region": region, "registryId": account}


def replicated_regions(config: Mapping[str, Any], repository: str, account: str) -> list[str]:
    """The regions of ``account`` the configuration replicates ``repository`` to (rule order)."""
    regions: list[str] = []
    for rule in config.get("rules") or []:
        if covers(rule, repository):
            for item in rule.get("destinations") or []:
                if item.get("registryId") == account and item.get("region") not in regions:
                    regions.append(str(item.get("region")))
    return regions


def plan_replication(
    current: Mapping[str, Any] | None,
    repository: str,
    account: str,
    source_region: str,
    regions: Sequence[str],
    state: str = "present",
) -> dict[str, Any]:
    """``{'changed', 'configuration' (the whole configuration to put), 'added', 'removed', 'errors'}``.

    ``current``: the registry's ``replicationConfiguration`` (DescribeRegistry), ``regions``: where the repository's
    images must be (the source region in it is ignored)."""
    config = {"rules": copy.deepcopy(list((current or {}).get("rules") or []))}
    wanted = [str(region) for region in dict.fromkeys(regions) if str(region) != source_region]
    result: dict[str, Any] = {"changed": False, "configuration": config, "added": [], "removed": [], "errors": []}
    if state == "absent":
        for rule in config["rules"]:
            if _own(rule, repository):
                result["removed"] += [
                    item["region"] for item in rule.get("destinations") or [] if item.get("registryId") == account
                ]
        config["rules"] = [rule for rule in config["rules"] if not _own(rule, repository)]
        result["changed"] = bool(result["removed"])
        return result
    have = replicated_regions(config, repository, account)
    missing = [region for region in wanted if region not in have]
    if not missing:
        return result
    own = next((rule for rule in config["rules"] if _own(rule, repository)), None)
    if own is None:
        own = {"destinations": [], "repositoryFilters": [{"filter": repository, "filterType": FILTER_TYPE}]}
        config["rules"].append(own)
    own["destinations"] = list(own.get("destinations") or []) + [_destination(region, account) for region in missing]
    result.update(changed=True, added=missing)
    if len(config["rules"]) > RULES_MAX:
        result["errors"].append(
            "the ECR registry of %s already has %d replication rules, the most AWS allows: add %s as destinations of one of "
            "your rules that covers the repository %s (or remove a rule) and run again"
            % (source_region, RULES_MAX, ", ".join(missing), repository)
        )
    if len(own["destinations"]) > DESTINATIONS_MAX:
        result["errors"].append(
            "a replication rule holds at most %d destinations; the repository %s would need %d"
            % (DESTINATIONS_MAX, repository, len(own["destinations"]))
        )
    return result
