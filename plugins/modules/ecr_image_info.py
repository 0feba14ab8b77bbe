#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ecr_image_info
short_description: The digest of an ECR image and the regions whose repository holds it
version_added: 0.1.0
description:
  - Resolves an image of a private ECR repository (by tag or digest) to its digest in the module's O(region) with
    C(DescribeImages), then looks that digest up in the repository of the same name in each of O(regions).
  - Only reads. ECR replication copies an image with the same manifest, so a replicated image has the same digest in
    every destination region (U(https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html)).
  - The role C(megapool.aws.release) uses it before the migration gate, so that a release runs only when every region
    can pull it from its own registry (docs/deploy.md, "One image for every region").
author:
  - megapool.aws maintainers (@megapool)
options:
  repository:
    description: The repository name (the same in every region).
    type: str
    required: true
  image_tag:
    description: The tag of the image in the module's region. One of O(image_tag) and O(image_digest) is required.
    type: str
  image_digest:
    description: The digest (C(sha256:...)) of the image; wins over O(image_tag).
    type: str
  regions:
    description: The regions whose repository must hold the digest (the module's own region may be among them).
    type: list
    elements: str
    default: []
  registry_id:
    description: The account of the registry; by default the caller's.
    type: str
extends_documentation_fragment:
  - megapool.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Is 1.4.2 in every region?
  megapool.aws.ecr_image_info:
    region: eu-north-1
    repository: megapool-prod
    image_tag: 1.4.2
    regions: [eu-north-1, ap-southeast-1, us-east-1]
  register: image
"""

RETURN = r"""
digest:
  description: The image's digest in the module's region; empty when there is no such image (or repository) there.
  returned: always
  type: str
  sample: sha256:4f9e8a0c7d6b5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f
regions:
  description: Per region of O(regions), whether its repository exists and holds the digest.
  returned: always
  type: dict
  sample: {"eu-north-1": {"repository_exists": true, "present": true}, "us-east-1": {"repository_exists": true, "present": false}}
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.base import aws_call

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    repository=dict(type="str", required=True),
    image_tag=dict(type="str"),
    image_digest=dict(type="str"),
    regions=dict(type="list", elements="str", default=[]),
    registry_id=dict(type="str"),
)


def _lookup(client, repository: str, image_id: dict[str, str], registry_id: str | None) -> dict[str, Any]:
    """``{'repository_exists', 'digest'}`` of one image id in one region's repository."""
    extra = {"registryId": registry_id} if registry_id else {}
    try:
        images = client.describe_images(repositoryName=repository, imageIds=[image_id], **extra).get("imageDetails", [])
    except is_boto3_error_code("RepositoryNotFoundException"):
        return {"repository_exists": False, "digest": ""}
    except is_boto3_error_code("ImageNotFoundException"):
        return {"repository_exists": True, "digest": ""}
    return {"repository_exists": True, "digest": images[0]["imageDigest"] if images else ""}


def _run(module: MegapoolAWSModule) -> dict[str, Any]:
    params = module.params
    repository, registry_id = params["repository"], params["registry_id"]
    image_id = {"imageDigest": params["image_digest"]} if params["image_digest"] else {"imageTag": params["image_tag"]}
    what = "read the image %s of the ECR repository %s in %s"
    clients = module.region_clients("ecr", [module.region] + params["regions"])  # one session: the model once
    digest = aws_call(
        what % (image_id, repository, module.region), _lookup, clients[module.region], repository, image_id, registry_id
    )["digest"]
    regions: dict[str, dict[str, bool]] = {}
    for region in dict.fromkeys(params["regions"]):
        found = (
            aws_call(
                what % ({"imageDigest": digest}, repository, region),
                _lookup,
                clients[region],
                repository,
                {"imageDigest": digest},
                registry_id,
            )
            if digest
            else ({"repository_exists": False, "digest": ""})
        )
        regions[region] = {
            "repository_exists": found["repository_exists"],
            "present": bool(digest) and found["digest"] == digest,
        }
    return dict(changed=False, digest=digest, regions=regions)


def main() -> None:
    module = MegapoolAWSModule(
        argument_spec=ARGUMENT_SPEC, supports_check_mode=True, required_one_of=[("image_tag", "image_digest")]
    )
    module.run(_run, module)


if __name__ == "__main__":
    main()
