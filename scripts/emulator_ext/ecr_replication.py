# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: ECR private registry replication replicates, like AWS.

What AWS does (ECR User Guide "Private image replication in Amazon ECR",
https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html; API reference PutReplicationConfiguration,
ReplicationConfiguration, ReplicationRule, RepositoryFilter):

- the replication configuration is a setting of the registry of one region; it holds up to 10 rules, each with 1-25
  destinations (``region`` + ``registryId``) and 0-100 repository filters (``PREFIX_MATCH``: the repository name
  starts with the filter; no filter: every repository); a destination equal to the source registry is refused;
- only content pushed **after** the configuration exists is replicated; an image pushed to a matching repository is
  copied to every destination with the same manifest, so the same digest, and its tag;
- a destination repository that does not exist is created by ECR (with the settings of a matching repository creation
  template, else the defaults: mutable tags, AES256);
- replication never deletes an image in a destination, and a copy the destination refuses (an immutable tag that
  already names another digest) fails for that destination only.

What moto 5.2 does: ``PutReplicationConfiguration`` stores the configuration but refuses more than one rule
("This feature is disabled"), and nothing is ever replicated: an image pushed in the source region never appears in
the destination regions.

How this patch imitates AWS (emulator process only): ``put_replication_configuration`` of moto's ECR backend accepts
up to 10 rules (and refuses more, or more than 25 destinations in a rule, with AWS's ``InvalidParameterException``);
``put_image`` pushes the image as moto does, then copies it into every same-account destination region of every rule
whose filters match the repository (creating a missing repository with the defaults). Replication is immediate (AWS
takes seconds to minutes; the deploy's digest check in every region covers the wait). Cross-account destinations are
not copied (one account in the emulator). Creation templates are not imitated (moto has none).
"""

from __future__ import annotations

import functools
import logging
from typing import Any
from typing import Callable

from moto.ecr.exceptions import InvalidParameterException
from moto.ecr.models import ECRBackend
from moto.ecr.models import ecr_backends
from .patching import MethodPatches

LOG = logging.getLogger(__name__)

RULES_MAX = 10
DESTINATIONS_MAX = 25


def matches(rule: dict[str, Any], repository: str) -> bool:
    """Whether a replication rule covers a repository (no filter: every repository; PREFIX_MATCH: a name prefix)."""
    filters = rule.get("repositoryFilters") or []
    if not filters:
        return True
    return any(
        item.get("filterType", "PREFIX_MATCH") == "PREFIX_MATCH" and repository.startswith(item.get("filter", ""))
        for item in filters
    )


def destinations(config: dict[str, Any], account: str, source_region: str, repository: str) -> list[str]:
    """The regions of this account an image pushed to ``repository`` in ``source_region`` is copied to (in order)."""
    regions: list[str] = []
    for rule in config.get("rules") or []:
        if not matches(rule, repository):
            continue
        for destination in rule.get("destinations") or []:
            region = destination.get("region")
            if destination.get("registryId") == account and region != source_region and region not in regions:
                regions.append(region)
    return regions


def _put_replication_configuration(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: ECRBackend, replication_config: dict[str, Any]) -> dict[str, Any]:
        rules = replication_config.get("rules") or []
        if len(rules) > RULES_MAX:
            raise InvalidParameterException(
                "Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: 'Member must have length less than or "
                "equal to %d'" % RULES_MAX
            )
        for rule in rules:
            if not 1 <= len(rule.get("destinations") or []) <= DESTINATIONS_MAX:
                raise InvalidParameterException(
                    "Invalid parameter at 'destinations' failed to satisfy constraint: 'Member must have length between 1 and %d'"
                    % DESTINATIONS_MAX
                )
            for destination in rule["destinations"]:
                if destination.get("region") == self.region_name and destination.get("registryId") == self.account_id:
                    raise InvalidParameterException(
                        "Invalid parameter at 'replicationConfiguration' failed to satisfy constraint: "
                        "'Replication destination cannot be the same as the source registry'"
                    )
        self.replication_config = {"rules": [dict(rule) for rule in rules]}
        return {"replicationConfiguration": self.replication_config}

    return method


def _copy(backend: ECRBackend, region: str, repository: str, image: Any, tag: str | None) -> None:
    target = ecr_backends[backend.account_id][region]
    if repository not in target.repositories:
        target.create_repository(
            repository_name=repository,
            registry_id=None,
            encryption_config={"encryptionType": "AES256"},
            image_scan_config={"scanOnPush": False},
            image_tag_mutability="MUTABLE",
            tags=[],
        )
    present = [
        item for item in target.repositories[repository].images if item.get_image_digest() == image.get_image_digest()
    ]
    if present and (tag is None or tag in present[0].image_tags):
        return
    try:
        target.put_image(
            repository, image.image_manifest, tag, image.image_manifest_media_type, image.get_image_digest()
        )
    except Exception as exc:  # pylint: disable=broad-except  # AWS: this destination's replication FAILED, the push succeeded
        LOG.warning(
            "ecr_replication: %s/%s:%s not replicated to %s: %s", backend.region_name, repository, tag, region, exc
        )


def _put_image(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(
        self: ECRBackend, repository_name: str, image_manifest: str, image_tag: str, *args: Any, **kwargs: Any
    ) -> Any:
        image = original(self, repository_name, image_manifest, image_tag, *args, **kwargs)
        for region in destinations(self.replication_config, self.account_id, self.region_name, repository_name):
            _copy(self, region, repository_name, image, image_tag)
        return image

    return method


_INSTALLED = MethodPatches(
    (
        (ECRBackend, "put_replication_configuration", _put_replication_configuration),
        (ECRBackend, "put_image", _put_image),
    )
)


def apply() -> None:
    """Install the patch (idempotent)."""
    _INSTALLED.apply()


def restore() -> None:
    """Put moto's original methods back (for tests; the emulator never calls it)."""
    _INSTALLED.restore()
