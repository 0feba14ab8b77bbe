# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One image for every region (pure, no I/O): where a release image lives, which regions miss its digest, and the
digest-pinned reference each region's task definitions get. The planners behind the filters
``megapool.aws.release_image_source`` and ``megapool.aws.release_image_plan`` (roles/release/tasks/image.yml).

- Only an image in **this account's** private ECR is checked: it must be in the same-named repository of every region
  (ECR replication copies a push with the same manifest, so the same digest:
  https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html), and each region's task definitions pin
  ``<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<digest>``: the region pulls its own copy (no
  cross-region pull through the NAT, no dependency on the source region), and a tag can never name another build
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_image:
  ``repository-url/image@digest``).
- Any other image (a public registry, another account's ECR, a local ``megapool.local/...`` release of the emulator) is
  used as given in every region.
"""

from __future__ import annotations

import re
from typing import Any
from typing import Mapping
from typing import Sequence

PRIVATE_ECR_RE = re.compile(
    r"^(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?P<suffix>\.cn)?/"
    r"(?P<repository>[^:@]+)(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


def image_source(image: Any, account: Any) -> dict[str, Any]:
    """``{'ecr': True, 'account', 'region', 'suffix', 'repository', 'tag', 'digest', 'image'}`` for an image in the private
    ECR of ``account`` (tag and/or digest; a digest wins), else ``{'ecr': False, 'image'}``."""
    text = str(image or "")
    match = PRIVATE_ECR_RE.match(text)
    if not match or match.group("account") != str(account) or not (match.group("tag") or match.group("digest")):
        return {"ecr": False, "image": text}
    source = {key: match.group(key) or "" for key in ("account", "region", "suffix", "repository", "tag", "digest")}
    source.update(ecr=True, image=text)
    return source


def pinned_reference(source: Mapping[str, Any], region: str, digest: str) -> str:
    """The reference of the image in ``region``'s registry of the same account and repository, by digest."""
    return "%s.dkr.ecr.%s.amazonaws.com%s/%s@%s" % (
        source["account"],
        region,
        source.get("suffix") or "",
        source["repository"],
        digest,
    )


def _replication_hint(source: Mapping[str, Any], digest: str) -> str:
    return (
        "ECR replicates a push from the primary region's repository to the other regions (the replication rule of "
        "release_replication; only pushes made after the rule exists, usually within minutes): wait until `aws ecr "
        "describe-image-replication-status --region %s --repository-name %s --image-id imageDigest=%s` reports "
        "COMPLETE and run again, or push the image to those regions yourself"
        % (source["region"], source["repository"], digest)
    )


def image_plan(
    source: Mapping[str, Any], found: Mapping[str, Any] | None, regions: Sequence[str], check_mode: bool = False
) -> dict[str, Any]:
    """``{'digest', 'pinned' {region: reference}, 'missing' [regions], 'errors', 'notes'}``.

    ``found``: what megapool.aws.ecr_image_info read: ``digest`` (None: no such image in the source region) and
    ``regions`` ``{region: {'repository_exists', 'present'}}``. In check mode a repository that does not exist yet (an
    earlier task would create it) is a note, not an error."""
    image = str(source.get("image", ""))
    if not source.get("ecr"):
        return {
            "digest": None,
            "pinned": {str(region): image for region in regions},
            "missing": [],
            "errors": [],
            "notes": [],
        }
    found = found or {}
    digest = found.get("digest")
    where = "%s in %s" % (source["repository"], source["region"])
    if not digest:
        return {
            "digest": None,
            "pinned": {},
            "missing": list(regions),
            "notes": [],
            "errors": [
                "release_image=%s: the repository %s has no image %s: push it there first (docker push %s; docs/deploy.md, "
                '"Images"), then run again' % (image, where, source.get("digest") or source.get("tag"), image)
            ],
        }
    states = found.get("regions") or {}
    missing, not_created = [], []
    for region in regions:
        state = states.get(region) or {}
        if state.get("present"):
            continue
        (not_created if check_mode and not state.get("repository_exists") else missing).append(str(region))
    errors, notes = [], []
    if missing:
        errors.append(
            "release_image=%s (%s) is not in the repository %s of %s yet, so those regions cannot run it; stopped "
            "before the task definitions and the migration gate: %s"
            % (image, digest, source["repository"], ", ".join(missing), _replication_hint(source, digest))
        )
    if not_created:
        notes.append(
            "Check mode: the repository %s does not exist yet in %s (it would be created); the image %s must be there "
            "before the migration gate" % (source["repository"], ", ".join(not_created), digest)
        )
    pinned = {str(region): pinned_reference(source, str(region), digest) for region in regions}
    return {"digest": digest, "pinned": pinned, "missing": missing + not_created, "errors": errors, "notes": notes}


def image_version(given_version: Any, image: Any, current_image: Any, current_version: Any) -> str:
    """The release version: ``release_version``, else the image's tag, else (the image the service runs, given by digest)
    the version that revision runs with (a digest-pinned image has no tag, so re-running keeps RELEASE_VERSION)."""
    if given_version:
        return str(given_version)
    text = str(image or "")
    tag = re.search(r":([^:/]+)$", text.split("@", maxsplit=1)[0])
    if tag:
        return tag.group(1)
    if text and text == str(current_image or ""):
        return str(current_version or "")
    return ""
