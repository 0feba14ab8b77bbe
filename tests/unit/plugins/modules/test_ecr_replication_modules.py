# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.ecr_replication and megapool.aws.ecr_image_info against plain moto in-process (moto stores one
replication rule and never replicates: the images of other regions are pushed here by hand)."""

from __future__ import annotations

import json

import boto3
import botocore.exceptions
import pytest
from moto import mock_aws

from ansible_collections.megapool.aws.plugins.modules import ecr_image_info
from ansible_collections.megapool.aws.plugins.modules import ecr_replication

SOURCE, OTHER = "eu-north-1", "ap-southeast-1"
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
OUR_RULE = {
    "destinations": [{"region": OTHER, "registryId": ACCOUNT}],
    "repositoryFilters": [{"filter": "shop-prod", "filterType": "PREFIX_MATCH"}],
}


@pytest.fixture
def aws(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        boto3.client("ecr", region_name=SOURCE).create_repository(repositoryName="shop-prod")
        yield


def _rules():
    return boto3.client("ecr", region_name=SOURCE).describe_registry()["replicationConfiguration"]["rules"]


def _replication(run_module, check_mode=False, **args):
    return run_module(
        ecr_replication.main,
        dict({"region": SOURCE, "repository": "shop-prod", "regions": [SOURCE, OTHER]}, **args),
        check_mode=check_mode,
        diff=True,
    )


def test_check_mode_then_put_then_idempotent(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    aws_calls.clear()
    checked = _replication(run_module, check_mode=True)
    assert checked["changed"] and checked["added"] == [OTHER] and aws_calls.writes() == []
    assert checked["diff"] == {"before": {"rules": []}, "after": {"rules": [OUR_RULE]}}
    assert _rules() == []
    done = _replication(run_module)
    assert done["changed"] and _rules() == [OUR_RULE] and done["replication_configuration"]["rules"] == [OUR_RULE]
    aws_calls.clear()
    again = _replication(run_module)
    assert not again["changed"] and aws_calls.writes() == []
    removed = _replication(run_module, state="absent")
    assert removed["changed"] and removed["removed"] == [OTHER] and _rules() == []


def test_an_owner_rule_that_covers_the_repository_is_kept(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    owner = {"destinations": [{"region": OTHER, "registryId": ACCOUNT}]}
    boto3.client("ecr", region_name=SOURCE).put_replication_configuration(replicationConfiguration={"rules": [owner]})
    aws_calls.clear()
    result = _replication(run_module)
    assert not result["changed"] and aws_calls.writes() == [] and _rules() == [owner]


def _info(run_module, **args):
    return run_module(
        ecr_image_info.main, dict({"region": SOURCE, "repository": "shop-prod", "regions": [SOURCE, OTHER]}, **args)
    )


def test_image_info_finds_the_digest_and_the_regions_holding_it(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    digest = boto3.client("ecr", region_name=SOURCE).put_image(
        repositoryName="shop-prod", imageManifest=MANIFEST, imageTag="1.4.2"
    )["image"]["imageId"]["imageDigest"]
    result = _info(run_module, image_tag="1.4.2")
    assert result["digest"] == digest and not result["changed"]
    assert result["regions"] == {
        SOURCE: {"repository_exists": True, "present": True},
        OTHER: {"repository_exists": False, "present": False},
    }
    boto3.client("ecr", region_name=OTHER).create_repository(repositoryName="shop-prod")
    assert _info(run_module, image_digest=digest)["regions"][OTHER] == {"repository_exists": True, "present": False}
    boto3.client("ecr", region_name=OTHER).put_image(
        repositoryName="shop-prod", imageManifest=MANIFEST, imageTag="1.4.2", imageDigest=digest
    )
    assert _info(run_module, image_digest=digest)["regions"][OTHER] == {"repository_exists": True, "present": True}
    assert _info(run_module, image_tag="9.9.9")["digest"] == ""
    # only the test's own pushes wrote: the module reads
    assert [call.operation for call in aws_calls.writes()] == ["PutImage", "CreateRepository", "PutImage"]


@pytest.fixture
def refuse(monkeypatch):
    """Append ``(operation, region)``: every client made afterwards answers that operation in that region with
    AccessDeniedException (raised by botocore before the request is sent, as a refused request would be)."""
    refused: list[tuple[str, str]] = []
    original = boto3.session.Session.client

    def client(self, *args, **kwargs):
        made = original(self, *args, **kwargs)

        def before_call(model, **_kwargs):
            if (model.name, made.meta.region_name) in refused:
                raise botocore.exceptions.ClientError(
                    {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, model.name
                )

        made.meta.events.register("before-call", before_call)
        return made

    monkeypatch.setattr(boto3.session.Session, "client", client)
    return refused


def _denied(operation):
    return ": An error occurred (AccessDeniedException) when calling the %s operation: not allowed" % operation


@pytest.mark.parametrize(
    "operation, region, message",
    [
        ("DescribeRegistry", SOURCE, "Could not read the ECR replication configuration of %s" % SOURCE),
        (
            "PutReplicationConfiguration",
            SOURCE,
            "Could not set the ECR replication configuration of %s (add %s)" % (SOURCE, OTHER),
        ),
    ],
)
def test_replication_an_aws_error_names_what_and_the_region(aws, run_module, refuse, operation, region, message):  # pylint: disable=unused-argument
    # Before the kernel: "Could not read or set the ECR replication configuration of <region>" for both calls.
    refuse.append((operation, region))
    result = _replication(run_module)
    assert result["failed"] is True
    assert result["msg"] == message + _denied(operation)
    assert result["error"]["code"] == "AccessDeniedException"
    refuse.clear()
    assert _rules() == []


@pytest.mark.parametrize("region", [SOURCE, OTHER])
def test_image_info_an_aws_error_names_the_image_and_the_region(aws, run_module, refuse, region):  # pylint: disable=unused-argument
    # Before the kernel the message named neither the region nor, in the other regions, the digest looked for.
    digest = boto3.client("ecr", region_name=SOURCE).put_image(
        repositoryName="shop-prod", imageManifest=MANIFEST, imageTag="1.4.2"
    )["image"]["imageId"]["imageDigest"]
    refuse.append(("DescribeImages", region))
    result = _info(run_module, image_tag="1.4.2")
    image = {"imageTag": "1.4.2"} if region == SOURCE else {"imageDigest": digest}
    assert result["failed"] is True
    assert result["msg"] == "Could not read the image %s of the ECR repository shop-prod in %s" % (
        image,
        region,
    ) + _denied("DescribeImages")


@pytest.mark.parametrize("module", [ecr_replication, ecr_image_info])
def test_documented_options_match_the_argument_spec(module, docs_match_spec):
    docs_match_spec(module)
