# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/ecr_replication.py: a registry's replication configuration replicates pushes, like AWS.

The first tests pin down plain moto's behaviour (the reasons for the patch); the others apply the patch.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator_ext import ecr_replication as ext

SOURCE, OTHER, THIRD = "eu-north-1", "ap-southeast-1", "us-east-1"
ACCOUNT = "123456789012"
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 100,
            "digest": "sha256:" + "c" * 64,
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": 10,
                "digest": "sha256:" + "a" * 64,
            }
        ],
    }
)


@pytest.fixture
def aws(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        boto3.client("ecr", region_name=SOURCE).create_repository(
            repositoryName="shop-prod", imageTagMutability="IMMUTABLE"
        )
        boto3.client("ecr", region_name=SOURCE).create_repository(repositoryName="other")
        yield


def _ecr(region):
    return boto3.client("ecr", region_name=region)


def _rule(regions, prefix="shop-prod"):
    rule = {"destinations": [{"region": region, "registryId": ACCOUNT} for region in regions]}
    if prefix is not None:
        rule["repositoryFilters"] = [{"filter": prefix, "filterType": "PREFIX_MATCH"}]
    return rule


def _digests(region, repository="shop-prod"):
    try:
        images = _ecr(region).describe_images(repositoryName=repository)["imageDetails"]
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "RepositoryNotFoundException"
        return None
    return {(image["imageDigest"], tuple(image.get("imageTags", []))) for image in images}


def test_plain_moto_stores_but_never_replicates(aws):  # pylint: disable=unused-argument
    _ecr(SOURCE).put_replication_configuration(replicationConfiguration={"rules": [_rule([OTHER])]})
    _ecr(SOURCE).put_image(repositoryName="shop-prod", imageManifest=MANIFEST, imageTag="1.0.0")
    assert _digests(OTHER) is None


def test_plain_moto_refuses_a_second_rule(aws):  # pylint: disable=unused-argument
    with pytest.raises(ClientError, match="This feature is disabled"):
        _ecr(SOURCE).put_replication_configuration(
            replicationConfiguration={"rules": [_rule([OTHER]), _rule([THIRD], "xy")]}
        )


def test_a_push_after_the_configuration_is_copied_with_its_digest_and_tag(aws, patched):  # pylint: disable=unused-argument
    _ecr(SOURCE).put_replication_configuration(replicationConfiguration={"rules": [_rule([OTHER, THIRD])]})
    image = _ecr(SOURCE).put_image(repositoryName="shop-prod", imageManifest=MANIFEST, imageTag="1.0.0")["image"]
    wanted = {(image["imageId"]["imageDigest"], ("1.0.0",))}
    assert _digests(OTHER) == wanted
    assert _digests(THIRD) == wanted
    # ECR creates the missing destination repository (defaults: mutable tags).
    repository = _ecr(OTHER).describe_repositories(repositoryNames=["shop-prod"])["repositories"][0]
    assert repository["imageTagMutability"] == "MUTABLE"


def test_only_pushes_after_the_configuration_and_only_matching_repositories(aws, patched):  # pylint: disable=unused-argument
    _ecr(SOURCE).put_image(repositoryName="shop-prod", imageManifest=MANIFEST, imageTag="0.9.0")
    _ecr(SOURCE).put_replication_configuration(replicationConfiguration={"rules": [_rule([OTHER])]})
    assert _digests(OTHER) is None
    _ecr(SOURCE).put_image(repositoryName="other", imageManifest=MANIFEST, imageTag="1.0.0")
    assert _digests(OTHER, "other") is None


def test_several_rules_and_a_rule_without_filters(aws, patched):  # pylint: disable=unused-argument
    config = {"rules": [_rule([OTHER], "nomatch"), _rule([THIRD], None)]}
    _ecr(SOURCE).put_replication_configuration(replicationConfiguration=config)
    assert len(_ecr(SOURCE).describe_registry()["replicationConfiguration"]["rules"]) == 2
    _ecr(SOURCE).put_image(repositoryName="other", imageManifest=MANIFEST, imageTag="1.0.0")
    assert _digests(THIRD, "other")
    assert _digests(OTHER, "other") is None


def test_limits_and_the_source_as_destination_are_refused(aws, patched):  # pylint: disable=unused-argument
    with pytest.raises(ClientError, match="less than or equal to 10"):
        _ecr(SOURCE).put_replication_configuration(
            replicationConfiguration={"rules": [_rule([OTHER], "p%d" % i) for i in range(11)]}
        )
    with pytest.raises(ClientError, match="same as the source registry"):
        _ecr(SOURCE).put_replication_configuration(replicationConfiguration={"rules": [_rule([SOURCE])]})


def test_a_refused_copy_fails_that_destination_only(aws, patched):  # pylint: disable=unused-argument
    _ecr(OTHER).create_repository(repositoryName="shop-prod", imageTagMutability="IMMUTABLE")
    other = MANIFEST.replace("a" * 64, "b" * 64)
    _ecr(OTHER).put_image(repositoryName="shop-prod", imageManifest=other, imageTag="1.0.0")
    _ecr(SOURCE).put_replication_configuration(replicationConfiguration={"rules": [_rule([OTHER, THIRD])]})
    image = _ecr(SOURCE).put_image(repositoryName="shop-prod", imageManifest=MANIFEST, imageTag="1.0.0")["image"]
    assert image["imageId"]["imageDigest"] not in {digest for digest, _tags in _digests(OTHER)}
    assert _digests(THIRD) == {(image["imageId"]["imageDigest"], ("1.0.0",))}


def test_destinations_planner():
    config = {"rules": [_rule([OTHER, SOURCE]), {"destinations": [{"region": THIRD, "registryId": "999999999999"}]}]}
    assert ext.destinations(config, ACCOUNT, SOURCE, "shop-prod-web") == [OTHER]
    assert ext.destinations(config, ACCOUNT, SOURCE, "shop") == []
