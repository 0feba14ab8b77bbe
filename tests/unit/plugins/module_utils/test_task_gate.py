# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migration gate's pure helpers: task records and the task's age in the progress lines."""

from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.megapool.aws.plugins.module_utils.task_gate import progress_line
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import task_age
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import task_view

UTC = datetime.timezone.utc
CREATED = datetime.datetime(2026, 11, 22, 7, 0, 0, tzinfo=UTC)
NOW = CREATED + datetime.timedelta(seconds=42)


def _raw(**extra) -> dict:
    return dict(
        {
            "taskArn": "arn:aws:ecs:eu-north-1:123456789012:task/shop/abc123",
            "lastStatus": "RUNNING",
            "desiredStatus": "RUNNING",
            "createdAt": CREATED,
            "containers": [{"name": "migrate", "lastStatus": "RUNNING"}],
        },
        **extra,
    )


@pytest.mark.parametrize(
    "raw, fallback, age",
    [
        (_raw(), 3.0, 42.0),  # running: from creation to now, whatever the call's own clock says
        (_raw(lastStatus="STOPPED", stoppedAt=CREATED + datetime.timedelta(seconds=7)), 3.0, 7.0),  # stopped: frozen
        (_raw(createdAt=None), 3.0, 3.0),  # no creation time: the call's own elapsed time
        (_raw(createdAt=NOW + datetime.timedelta(seconds=5)), 3.0, 0.0),  # clock skew never gives a negative age
    ],
)
def test_task_age(raw, fallback, age):
    assert task_age(task_view(raw, "migrate"), NOW, fallback) == age


def test_view_keeps_times_as_iso_strings_and_the_progress_uses_the_age():
    view = task_view(_raw(lastStatus="STOPPED", stoppedAt=CREATED + datetime.timedelta(seconds=7)), "migrate")
    assert (view["created_at"], view["stopped_at"]) == ("2026-11-22T07:00:00+00:00", "2026-11-22T07:00:07+00:00")
    assert progress_line(view, task_age(view, NOW, 0.0)).startswith("task abc123 STOPPED (desired RUNNING) after 7s")


# --- the image check (D9, D10) ----------------------------------------------------------------------------------------

from ansible_collections.megapool.aws.plugins.module_utils.task_gate import ecr_image  # noqa: E402
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import image_errors  # noqa: E402
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import manifest_architectures  # noqa: E402
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import started_by_mark  # noqa: E402

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    "image,expected",
    [
        (
            "123456789012.dkr.ecr.eu-north-1.amazonaws.com/megapool-prod:1.4.2",
            {
                "registry": "123456789012",
                "region": "eu-north-1",
                "repository": "megapool-prod",
                "image_id": {"imageTag": "1.4.2"},
            },
        ),
        (
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/team/app@" + DIGEST,
            {
                "registry": "123456789012",
                "region": "cn-north-1",
                "repository": "team/app",
                "image_id": {"imageDigest": DIGEST},
            },
        ),
        (
            "123456789012.dkr.ecr.eu-north-1.amazonaws.com/app",
            {
                "registry": "123456789012",
                "region": "eu-north-1",
                "repository": "app",
                "image_id": {"imageTag": "latest"},
            },
        ),
        ("public.ecr.aws/docker/library/busybox:1.36", None),
        ("repo/megapool:1.4.2", None),
    ],
)
def test_ecr_image(image, expected):
    assert ecr_image(image) == expected


INDEX = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": DIGEST,
                "size": 1,
                "platform": {"architecture": "amd64", "os": "linux"},
            },
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": DIGEST,
                "size": 1,
                "platform": {"architecture": "unknown", "os": "unknown"},
            },  # buildx's attestation manifest
        ],
    }
)


def test_manifest_architectures():
    assert manifest_architectures(INDEX) == ["amd64"]
    single = json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "layers": []}
    )
    assert manifest_architectures(single) is None
    assert manifest_architectures("not json") is None


WHERE = {"registry": "123456789012", "region": "eu-north-1", "repository": "megapool-prod"}


def test_image_errors():
    image = "123456789012.dkr.ecr.eu-north-1.amazonaws.com/megapool-prod:1.4.2"
    missing = image_errors(image, WHERE, False, None, "ARM64")
    assert (
        len(missing) == 1
        and "is not in ECR (repository megapool-prod of account 123456789012 in eu-north-1)" in missing[0]
    )
    assert "docker push %s" % image in missing[0]
    wrong = image_errors(image, WHERE, True, ["amd64"], "ARM64")
    assert wrong == [
        "image %s is built for linux/amd64, but the task definition runs on ARM64 (runtimePlatform: the ECS hosts'"
        " architecture): build it for linux/arm64 (docker buildx build --platform linux/arm64 ...) or choose hosts of its"
        " architecture" % image
    ]
    assert image_errors(image, WHERE, True, ["amd64", "arm64"], "ARM64") == []
    assert image_errors(image, WHERE, True, None, "ARM64") == []  # single platform: not known from the manifest
    assert image_errors(image, WHERE, True, ["amd64"], None) == []


@pytest.mark.parametrize(
    "given,sent", [("release 1.4.2", "release-1-4-2"), ("", "megapool-aws-ecs_task_gate"), ("a/b_c-d", "a/b_c-d")]
)
def test_started_by_mark(given, sent):
    assert started_by_mark(given) == sent
