# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Push a (manifest-only) image to an ECR repository, as `docker push` would: PutImage with a schema 2 manifest.
Prints {"digest": ...}. The verify step of the release scenario calls it against the test emulator only.

    push_image.py <endpoint_url> <region> <repository> <tag>
"""

from __future__ import annotations

import hashlib
import json
import sys

import boto3
from botocore.exceptions import ClientError


def main(endpoint: str, region: str, repository: str, tag: str) -> None:
    layer = "sha256:" + hashlib.sha256(("%s:%s" % (repository, tag)).encode()).hexdigest()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1000, "digest": layer},
            "layers": [
                {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 100, "digest": layer}
            ],
        }
    )
    ecr = boto3.client(
        "ecr", region_name=region, endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    try:
        ecr.create_repository(repositoryName=repository)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "RepositoryAlreadyExistsException":
            raise
    try:
        digest = ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag)["image"]["imageId"][
            "imageDigest"
        ]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ImageAlreadyExistsException":
            raise
        digest = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])["imageDetails"][0][
            "imageDigest"
        ]
    print(json.dumps({"digest": digest}))


if __name__ == "__main__":
    main(*sys.argv[1:5])
