# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One image for every region: the image's source, the regions missing its digest, the pinned references."""

from __future__ import annotations

import pytest

from ansible_collections.megapool.aws.plugins.module_utils.release_image import image_plan
from ansible_collections.megapool.aws.plugins.module_utils.release_image import image_source
from ansible_collections.megapool.aws.plugins.module_utils.release_image import image_version

ACCOUNT = "123456789012"
DIGEST = "sha256:" + "ab" * 32
IMAGE = ACCOUNT + ".dkr.ecr.eu-north-1.amazonaws.com/shop/prod:1.4.2"
REGIONS = ["eu-north-1", "ap-southeast-1", "us-east-1"]


@pytest.mark.parametrize(
    "image, expected",
    [
        (
            IMAGE,
            {
                "ecr": True,
                "region": "eu-north-1",
                "repository": "shop/prod",
                "tag": "1.4.2",
                "digest": "",
                "suffix": "",
            },
        ),
        (
            ACCOUNT + ".dkr.ecr.cn-north-1.amazonaws.com.cn/shop@" + DIGEST,
            {"ecr": True, "region": "cn-north-1", "repository": "shop", "tag": "", "digest": DIGEST, "suffix": ".cn"},
        ),
        (
            ACCOUNT + ".dkr.ecr.eu-north-1.amazonaws.com/shop:1.0@" + DIGEST,
            {"ecr": True, "tag": "1.0", "digest": DIGEST},
        ),
        # not this account's ECR, or no tag/digest: used as given
        ("999999999999.dkr.ecr.eu-north-1.amazonaws.com/shop:1.4.2", {"ecr": False}),
        (ACCOUNT + ".dkr.ecr.eu-north-1.amazonaws.com/shop", {"ecr": False}),
        ("megapool.local/megapool-demo:1.0.1", {"ecr": False}),
        ("public.ecr.aws/docker/library/busybox:1.36", {"ecr": False}),
        ("", {"ecr": False}),
    ],
)
def test_source(image, expected):
    source = image_source(image, ACCOUNT)
    assert {key: source.get(key) for key in expected} == expected
    assert source["image"] == image


def test_present_everywhere_pins_each_region_to_its_own_registry():
    found = {"digest": DIGEST, "regions": {region: {"repository_exists": True, "present": True} for region in REGIONS}}
    plan = image_plan(image_source(IMAGE, ACCOUNT), found, REGIONS)
    assert plan["errors"] == [] and plan["missing"] == [] and plan["digest"] == DIGEST
    assert plan["pinned"] == {
        region: "%s.dkr.ecr.%s.amazonaws.com/shop/prod@%s" % (ACCOUNT, region, DIGEST) for region in REGIONS
    }


def test_missing_regions_are_named_with_the_fix():
    found = {
        "digest": DIGEST,
        "regions": {
            "eu-north-1": {"repository_exists": True, "present": True},
            "ap-southeast-1": {"repository_exists": True, "present": False},
            "us-east-1": {"repository_exists": False, "present": False},
        },
    }
    plan = image_plan(image_source(IMAGE, ACCOUNT), found, REGIONS)
    assert plan["missing"] == ["ap-southeast-1", "us-east-1"]
    (error,) = plan["errors"]
    assert "release_image=" + IMAGE in error and "ap-southeast-1, us-east-1" in error and DIGEST in error
    assert "describe-image-replication-status --region eu-north-1 --repository-name shop/prod" in error
    # check mode: a repository not created yet is a note; a missing image in an existing one stays an error
    plan = image_plan(image_source(IMAGE, ACCOUNT), found, REGIONS, check_mode=True)
    assert len(plan["errors"]) == 1 and "ap-southeast-1 yet" in plan["errors"][0] and "us-east-1" in plan["notes"][0]


def test_not_pushed_in_the_source_region():
    plan = image_plan(image_source(IMAGE, ACCOUNT), {"digest": "", "regions": {}}, REGIONS)
    assert plan["missing"] == REGIONS and plan["pinned"] == {}
    assert "has no image 1.4.2" in plan["errors"][0] and "shop/prod in eu-north-1" in plan["errors"][0]


def test_other_images_are_used_as_given():
    image = "megapool.local/megapool-demo:1.0.1"
    plan = image_plan(image_source(image, ACCOUNT), None, REGIONS)
    assert plan == {
        "digest": None,
        "pinned": {region: image for region in REGIONS},
        "missing": [],
        "errors": [],
        "notes": [],
    }


@pytest.mark.parametrize(
    "given, image, current, current_version, expected",
    [
        ("2.0", IMAGE, "", "", "2.0"),
        ("", IMAGE, "", "", "1.4.2"),
        ("", "repo@" + DIGEST, "repo@" + DIGEST, "1.4.2", "1.4.2"),  # re-run: the running image keeps its version
        ("", "repo@" + DIGEST, "other@" + DIGEST, "1.4.2", ""),  # a new image by digest has no version
        ("", "localhost:5000/repo", "", "", ""),
    ],
)
def test_version(given, image, current, current_version, expected):
    assert image_version(given, image, current, current_version) == expected
