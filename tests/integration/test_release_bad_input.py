# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input to playbooks/deploy.yml is refused before any change, and a deploy / failed deploy / rollback round.

One region (eu-north-1) is built once for the module (network, ECS capacity and the first release, with the
release molecule scenario's converge playbook). Each bad input runs deploy.yml and must fail in its validation play
with a message naming the variable and the fix, leaving the emulator exactly as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PORT, ROOT, Inventory, _emulator, client, flat, run_playbook, snapshot

REGION = "eu-north-1"
SERVICE = "megapool-local-web"
CLUSTER = "megapool-local"


def _converge(inventory: Path) -> subprocess.CompletedProcess:
    env = dict(
        os.environ, MEGAPOOL_EMULATOR_PORT=str(PORT), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1"
    )
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        str(ROOT / "extensions" / "molecule" / "release" / "converge.yml"),
        "-i",
        str(inventory),
        "--limit",
        REGION,
    ]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory, emulator):  # pylint: disable=unused-argument
    _emulator("reset")
    inventory = Inventory(tmp_path_factory.mktemp("release") / "inventory")
    # No database here (as in the release molecule scenario, vars/release.yml): the release brings its DATABASE_URL.
    inventory.set_vars(
        "release",
        release_database_urls=False,
        release_secrets={"DATABASE_URL": "ecto://megapool:megapool@localhost/megapool_local"},
    )
    result = _converge(inventory.path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    return inventory


def _service() -> dict:
    return client("ecs", REGION).describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]


CASES = {
    "image_without_tag": (
        ["-e", "release_image=registry.example.com/megapool/app"],
        [
            "release_image=registry.example.com/megapool/app has no tag or digest",
            "give <repository>:<tag> or <repository>@sha256:<digest>",
        ],
    ),
    "image_in_another_accounts_ecr": (
        ["-e", "release_image=999999999999.dkr.ecr.eu-north-1.amazonaws.com/megapool:1.4.2"],
        [
            "is in the private ECR registry of account 999999999999, which the task execution role of account 123456789012 cannot pull from",
            "set release_image_pull_allowed: true",
        ],
    ),
    "unknown_canary_region": (
        ["-e", "release_image=repo/megapool:1.4.2", "-e", "release_canary_region=us-west-2"],
        [
            "release_canary_region=us-west-2 is not a region of this inventory (eu-north-1, ap-southeast-1): choose one of them"
        ],
    ),
    "missing_secret_on_first_deploy": (
        [
            "-e",
            "release_image=repo/megapool:1.4.2",
            "-e",
            json.dumps({"release_secrets": {}, "release_required_secrets": ["DATABASE_URL", "SMTP_PASSWORD"]}),
        ],
        [
            "release_secrets has no value for SMTP_PASSWORD and SSM has no parameter /megapool/local/SMTP_PASSWORD in eu-north-1",
            "add the value(s) to release_secrets",
        ],
    ),
    "empty_migration_command": (
        ["-e", "release_image=repo/megapool:1.4.2", "-e", json.dumps({"release_migration_command": []})],
        ["release_migration_command is empty: give the command that migrates the database"],
    ),
    "desired_count_above_capacity": (
        ["-e", "release_image=repo/megapool:1.4.2", "-e", "release_desired_count=9"],
        [
            "release_desired_count=9 is above ecs_hosts_max_size=4",
            "lower release_desired_count or raise ecs_hosts_max_size",
        ],
    ),
    "rollout_surge_above_capacity": (
        ["-e", "release_image=repo/megapool:1.4.2", "-e", "release_desired_count=3"],
        [
            "release_desired_count=3 with release_deployment_maximum_percent=200: a rollout runs up to 6 tasks at once",
            "raise ecs_hosts_max_size to 6 or lower release_desired_count to 2",
        ],
    ),
    "stop_timeout_past_the_spot_notice": (
        ["-e", "release_image=repo/megapool:1.4.2", "-e", "release_stop_timeout=120"],
        ["alb_deregistration_delay=30 + release_stop_timeout=120 = 150 s", "lower release_stop_timeout to 70 or less"],
    ),
    "rollout_timeout_below_a_scale_out": (
        ["-e", "release_image=repo/megapool:1.4.2", "-e", "release_rollout_timeout=300"],
        [
            "release_rollout_timeout=300 is shorter than a rollout that must scale out first takes at worst",
            "raise release_rollout_timeout to",
        ],
    ),
    "migration_memory_too_small": (
        ["-e", "release_image=repo/megapool:1.4.2", "-e", "release_migration_memory_mib=64"],
        ["release_migration_memory_mib=64: give 128-"],
    ),
    # A secret given as a dict (issue 16): refused by name, its value never shown.
    "secret_as_a_dict": (
        [
            "-e",
            "release_image=repo/megapool:1.4.2",
            "-e",
            json.dumps({"release_secrets": {"SMTP_PASSWORD": {"value": "hunter2-secret"}}}),
        ],
        ["release_secrets: SMTP_PASSWORD is a mapping or list, not a value: give each secret its value as a string"],
    ),
    "required_secrets_a_string": (
        ["-e", "release_image=repo/megapool:1.4.2", "-e", json.dumps({"release_required_secrets": "DATABASE_URL"})],
        ["release_required_secrets='DATABASE_URL' is a string, but a list is expected"],
    ),
    "service_name_with_a_space": (
        ["-e", "release_image=repo/megapool:1.4.2", "-e", json.dumps({"release_service_name": "megapool web"})],
        ["release_service_name='megapool web' is not an ECS service name"],
    ),
    "typo_with_strict_vars": (
        [
            "-e",
            "release_image=repo/megapool:1.4.2",
            "-e",
            json.dumps({"release_desired_cuont": 3, "megapool_strict_vars": True}),
        ],
        [
            "release_desired_cuont is set but role megapool.aws.release has no such variable: did you mean release_desired_count?"
        ],
    ),
    "no_image": (
        [],
        ["release_image is not set: give the image to deploy, -e release_image=<repository>:<tag>"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_deploy_input_fails_early_and_changes_nothing(case, built):
    args, expected = CASES[case]
    before = snapshot((REGION,))
    service_before = _service()["taskDefinition"]
    result = run_playbook("deploy.yml", built.path, "--limit", REGION, *args)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    for text in expected:
        assert text in flat(output), "%r not in output:\n%s" % (text, output[-3000:])
    assert "PLAY [Register the release" not in output
    assert "hunter2-secret" not in output
    assert snapshot((REGION,)) == before, "the failed run changed the emulator"
    assert _service()["taskDefinition"] == service_before


def test_deploy_failed_deploy_and_rollback(built):
    first = _service()["taskDefinition"]
    assert first.endswith(":1")

    result = run_playbook("deploy.yml", built.path, "--limit", REGION, "-e", "release_image=repo/megapool:1.4.2")
    output = flat(result.stdout + result.stderr)
    assert result.returncode == 0, output[-4000:]
    assert "Run the migration task and wait until it stops" in output and "exit code 0" in output
    assert _service()["taskDefinition"].endswith("megapool-local-web:2")
    assert "eu-north-1: megapool-local-web:2 repo/megapool:1.4.2" in output

    # The same image again: nothing to migrate, nothing to roll out.
    result = run_playbook("deploy.yml", built.path, "--limit", REGION, "-e", "release_image=repo/megapool:1.4.2")
    assert result.returncode == 0, result.stdout[-4000:]
    assert "Run the migration task and wait until it stops (primary region)] ***\nskipping" in result.stdout

    # A migration that exits 1: the gate fails with the exit code and the log tail; the service is untouched.
    result = run_playbook(
        "deploy.yml",
        built.path,
        "--limit",
        REGION,
        "-e",
        "release_image=repo/megapool:1.5.0",
        "-e",
        json.dumps({"release_migration_command": ["bin/megapool", "migrate", "emulator-exit=1"]}),
    )
    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0
    assert "exited with code 1" in output and "emulator: task" in output
    assert _service()["taskDefinition"].endswith("megapool-local-web:2")

    # A release whose tasks never start: the circuit breaker rolls back, deploy.yml fails and reports.
    result = run_playbook(
        "deploy.yml", built.path, "--limit", REGION, "-e", "release_image=repo/megapool:1.6.0-emulator-fail"
    )
    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0
    assert "The rollout of megapool-local-web:" in output and "failed in eu-north-1" in output
    assert "eu-north-1: megapool-local-web:2 repo/megapool:1.4.2" in output  # the old release keeps serving

    # rollback.yml: back to the previous ACTIVE revision below the current one.
    result = run_playbook("rollback.yml", built.path, "--limit", REGION)
    output = flat(result.stdout + result.stderr)
    assert result.returncode == 0, output[-4000:]
    assert "eu-north-1: megapool-local-web:2 -> megapool-local-web:1" in output
    assert _service()["taskDefinition"].endswith("megapool-local-web:1")

    # Converging again (site.yml) after the rollback keeps the revision the service runs: no new revision, no rollout.
    latest = client("ecs", REGION).describe_task_definition(taskDefinition="megapool-local-web")["taskDefinition"][
        "revision"
    ]
    result = _converge(built.path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    assert _service()["taskDefinition"].endswith("megapool-local-web:1")
    assert (
        client("ecs", REGION).describe_task_definition(taskDefinition="megapool-local-web")["taskDefinition"][
            "revision"
        ]
        == latest
    )


def test_cookies_that_differ_between_regions_stop_the_deploy(built):
    """A RELEASE_COOKIE in another region of the inventory that is not eu-north-1's: refused, regions named, no value
    printed, nothing changed (D12)."""
    other = client("ssm", "ap-southeast-1")
    other.put_parameter(
        Name="/megapool/local/RELEASE_COOKIE", Value="cookie-of-another-cluster-0123456789", Type="SecureString"
    )
    try:
        before = snapshot((REGION,))
        result = run_playbook("deploy.yml", built.path, "--limit", REGION, "-e", "release_image=repo/megapool:1.4.2")
        output = flat(result.stdout + result.stderr)
        assert result.returncode != 0, output[-3000:]
        assert (
            "SSM parameter /megapool/local/RELEASE_COOKIE differs between regions (ap-southeast-1 | eu-north-1)"
            in output
        )
        assert "cookie-of-another-cluster" not in output
        assert "PLAY [Register the release" not in output
        assert snapshot((REGION,)) == before
    finally:
        other.delete_parameter(Name="/megapool/local/RELEASE_COOKIE")


def test_an_ecr_image_not_pushed_is_refused_before_any_change(built):
    """The image is in this account's ECR but was never pushed: deploy.yml's validation play refuses it (issue 17: the
    digest check in every region; before, the gate refused it after the task definitions were registered, D10), so no
    task runs, nothing is registered and the service keeps its release."""
    before, service_before = _state(), _service()["taskDefinition"]
    image = "123456789012.dkr.ecr.%s.amazonaws.com/megapool-local:9.9.9" % REGION
    result = run_playbook("deploy.yml", built.path, "--limit", REGION, "-e", "release_image=" + image)
    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0
    assert (
        "release_image=%s: the repository megapool-local in %s has no image 9.9.9: push it there first"
        % (image, REGION)
        in output
    ), output[-3000:]
    assert "PLAY [Register the release" not in output
    assert client("ecs", REGION).list_tasks(cluster=CLUSTER, startedBy="release-9-9-9")["taskArns"] == []
    assert _service()["taskDefinition"] == service_before
    assert _state() == before, "the failed run changed the emulator"


def _revisions() -> dict:
    ecs = client("ecs", REGION)
    return {
        family: ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"]
        for family in ("megapool-local-web", "megapool-local-migrate")
    }


def test_database_urls_without_the_database_stop_before_any_task_definition(built):
    """release_database_urls (the default) with no database built: the build stops before anything of the release
    changes, naming both missing parameters, the variable and the fix; no task definition is registered (issue 12)."""
    before, revisions, service_before = snapshot((REGION,)), _revisions(), _service()["taskDefinition"]
    result = run_playbook(
        "deploy.yml",
        built.path,
        "--limit",
        REGION,
        "-e",
        "release_image=repo/megapool:1.7.0",
        "-e",
        json.dumps({"release_database_urls": True, "release_secrets": {}}),
    )
    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0, output[-3000:]
    assert (
        "release_database_urls is true but SSM has no parameter /megapool/local/database/url, /megapool/local/database/reader_url"
        " in eu-north-1: build the database first (role megapool.aws.database, or playbooks/site.yml), or set"
        " release_database_urls: false and give release_secrets.DATABASE_URL"
    ) in output, output[-3000:]
    assert _revisions() == revisions
    assert _service()["taskDefinition"] == service_before
    assert snapshot((REGION,)) == before, "the failed run changed the emulator"


def test_a_release_whose_database_url_is_given_still_needs_the_reader(built):
    """An explicit release_secrets.DATABASE_URL wins over the database's writer URL, but DATABASE_READER_URL still
    comes from the database: only the reader parameter is missing."""
    before = snapshot((REGION,))
    result = run_playbook(
        "deploy.yml",
        built.path,
        "--limit",
        REGION,
        "-e",
        "release_image=repo/megapool:1.7.0",
        "-e",
        json.dumps({"release_database_urls": True}),
    )
    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0, output[-3000:]
    assert (
        "release_database_urls is true but SSM has no parameter /megapool/local/database/reader_url in eu-north-1"
        in output
    )
    assert snapshot((REGION,)) == before


def test_a_migration_gate_in_a_database_replica_region_is_refused(built):
    """The gate region (release_primary_region, here eu-north-1) holds a read replica of a writer elsewhere: refused
    before any change, naming both regions and the fix (issue 12: migrations run against the writer)."""
    before = snapshot((REGION,))
    result = run_playbook(
        "deploy.yml",
        built.path,
        "--limit",
        REGION,
        "-e",
        "release_image=repo/megapool:1.7.0",
        "-e",
        json.dumps({"database_outputs": {"role": "replica", "primary_region": "ap-southeast-1"}}),
    )
    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0, output[-3000:]
    assert (
        "The migration gate would run in eu-north-1 (release_primary_region), but the database's writer is in ap-southeast-1"
        " and eu-north-1 has a read replica: set release_primary_region: ap-southeast-1"
    ) in output, output[-3000:]
    assert snapshot((REGION,)) == before


# One image for every region (issue 17): ECR replication from the primary region, the digest check, the pinning.
ACCOUNT = "123456789012"
REPOSITORY = "megapool-local"
OTHER = "ap-southeast-1"


def _state() -> dict:
    """The emulator's resources plus the primary registry's replication configuration (not in snapshot())."""
    return {
        "resources": snapshot((REGION,)),
        "replication": client("ecr", REGION).describe_registry()["replicationConfiguration"],
    }


def _push(region: str, tag: str) -> str:
    """`docker push` of a small image to the region's release repository (manifest only); returns its digest."""
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "extensions" / "molecule" / "release" / "push_image.py"),
            "http://127.0.0.1:%s" % PORT,
            region,
            REPOSITORY,
            tag,
        ],
        check=True,
        capture_output=True,
    )
    return client("ecr", region).describe_images(repositoryName=REPOSITORY, imageIds=[{"imageTag": tag}])[
        "imageDetails"
    ][0]["imageDigest"]


def test_an_image_missing_in_a_region_is_refused_naming_the_region(built):
    """Pushed to ap-southeast-1 only (the replication rule goes from the primary region, eu-north-1): eu-north-1 does
    not hold the digest, so deploy.yml stops in its validation play, naming the region and the fix; nothing changes."""
    digest = _push(OTHER, "2.0.0")
    image = "%s.dkr.ecr.%s.amazonaws.com/%s:2.0.0" % (ACCOUNT, OTHER, REPOSITORY)
    before, service_before = _state(), _service()["taskDefinition"]
    result = run_playbook("deploy.yml", built.path, "--limit", REGION, "-e", "release_image=" + image)
    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0, output[-3000:]
    assert (
        "release_image=%s (%s) is not in the repository %s of %s yet, so those regions cannot run it; stopped before the task "
        "definitions and the migration gate" % (image, digest, REPOSITORY, REGION)
    ) in output, output[-3000:]
    assert (
        "describe-image-replication-status --region %s --repository-name %s --image-id imageDigest=%s"
        % (OTHER, REPOSITORY, digest)
        in output
    )
    assert "PLAY [Register the release" not in output and "PLAY [Migration gate" not in output
    assert _state() == before, "the failed run changed the emulator"
    assert _service()["taskDefinition"] == service_before


def test_a_release_pushed_once_is_replicated_and_pinned_by_digest(built):
    """The converge put the replication rule into the primary registry; a push to eu-north-1 reaches ap-southeast-1
    with its digest and tag, and deploy.yml registers the region's own copy by digest, keeping the tag as version."""
    rules = client("ecr", REGION).describe_registry()["replicationConfiguration"]["rules"]
    assert {
        "destinations": [{"region": OTHER, "registryId": ACCOUNT}],
        "repositoryFilters": [{"filter": REPOSITORY, "filterType": "PREFIX_MATCH"}],
    } in rules
    digest = _push(REGION, "2.1.0")
    replica = client("ecr", OTHER).describe_images(repositoryName=REPOSITORY, imageIds=[{"imageDigest": digest}])[
        "imageDetails"
    ][0]
    assert replica["imageTags"] == ["2.1.0"]
    image = "%s.dkr.ecr.%s.amazonaws.com/%s:2.1.0" % (ACCOUNT, REGION, REPOSITORY)
    # Check mode: the digest check runs (it only reads) and passes; nothing is registered or changed.
    before, revisions = _state(), _revisions()
    checked = run_playbook("deploy.yml", built.path, "--limit", REGION, "--check", "-e", "release_image=" + image)
    assert checked.returncode == 0, checked.stdout[-4000:]
    assert _state() == before and _revisions() == revisions
    result = run_playbook("deploy.yml", built.path, "--limit", REGION, "-e", "release_image=" + image)
    output = flat(result.stdout + result.stderr)
    assert result.returncode == 0, output[-4000:]
    definition = client("ecs", REGION).describe_task_definition(taskDefinition=_service()["taskDefinition"])[
        "taskDefinition"
    ]
    container = definition["containerDefinitions"][0]
    assert container["image"] == "%s.dkr.ecr.%s.amazonaws.com/%s@%s" % (ACCOUNT, REGION, REPOSITORY, digest)
    assert {item["name"]: item["value"] for item in container["environment"]}["RELEASE_VERSION"] == "2.1.0"
    # Deploying the same again registers nothing (the pinned image is the running one) and keeps the version.
    revisions, running = _revisions(), _service()["taskDefinition"]
    again = run_playbook("deploy.yml", built.path, "--limit", REGION, "-e", "release_image=" + image)
    assert again.returncode == 0, again.stdout[-4000:]
    assert _revisions() == revisions and _service()["taskDefinition"] == running
