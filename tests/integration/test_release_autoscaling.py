# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service autoscaling of the release role (issue 17) on the emulator.

One region (eu-north-1) is built once for the module with the release molecule scenario's converge playbook and
autoscaling on (CPU and memory targets, 1..2 tasks). Then: the scalable target and both policies are there; a second
converge changes nothing and leaves the desired count where "Application Auto Scaling" put it (the scalable target
owns it); bad autoscaling input fails in the release role before any change, the emulator (the stack's resources, the
service, the scalable target and its policies) unchanged.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PORT, ROOT, Inventory, _emulator, assert_site_refuses_early, client, snapshot

REGION = "eu-north-1"
CLUSTER = "megapool-local"
SERVICE = "megapool-local-web"
RID = "service/%s/%s" % (CLUSTER, SERVICE)
ON = {"release_autoscaling_enabled": True, "release_autoscaling_min_count": 1, "release_autoscaling_memory_target": 70}


def _converge(inventory: Path, *args: str) -> subprocess.CompletedProcess:
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
        *args,
    ]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def _autoscaling() -> dict:
    aas = client("application-autoscaling", REGION)
    targets = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[RID])["ScalableTargets"]
    policies = aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=RID)["ScalingPolicies"]
    return {
        "targets": [(t["ResourceId"], t["MinCapacity"], t["MaxCapacity"]) for t in targets],
        "policies": sorted(
            (p["PolicyName"], json.dumps(p["TargetTrackingScalingPolicyConfiguration"], sort_keys=True))
            for p in policies
        ),
    }


def _service() -> dict:
    return client("ecs", REGION).describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]


@pytest.fixture(scope="module")
def built(tmp_path_factory, emulator):  # pylint: disable=unused-argument
    _emulator("reset")
    inventory = Inventory(tmp_path_factory.mktemp("autoscaling") / "inventory")
    # No database here (as in the release molecule scenario, vars/release.yml): the release brings its DATABASE_URL.
    inventory.set_vars(
        "release",
        release_database_urls=False,
        release_secrets={"DATABASE_URL": "ecto://megapool:megapool@localhost/megapool_local"},
        **ON,
    )
    result = _converge(inventory.path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    return inventory


def test_on_registers_the_target_and_the_policies(built):  # pylint: disable=unused-argument
    state = _autoscaling()
    # ecs_hosts_max_size 4 in inventories/local, 200 % rollouts: at most 2 tasks.
    assert state["targets"] == [(RID, 1, 2)]
    configurations = {name: json.loads(configuration) for name, configuration in state["policies"]}
    assert sorted(configurations) == [SERVICE + "-cpu", SERVICE + "-memory"]
    assert configurations[SERVICE + "-cpu"]["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
    }
    assert configurations[SERVICE + "-memory"]["TargetValue"] == 70.0
    assert configurations[SERVICE + "-memory"]["ScaleInCooldown"] == 300


def test_converge_again_changes_nothing_and_keeps_the_scaled_count(built):
    # What a scale-in of Application Auto Scaling does (the emulator never scales by itself).
    client("ecs", REGION).update_service(cluster=CLUSTER, service=SERVICE, desiredCount=1)
    before = _autoscaling()
    result = _converge(built.path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert re.search(r"%s\s+: ok=\d+\s+changed=0 " % REGION, output), output[-3000:]
    assert _service()["desiredCount"] == 1, "the converge reset the desired count the scalable target owns"
    assert _autoscaling() == before


CASES = {
    "max_beyond_the_instances": (
        {"release_autoscaling_max_count": 3},
        [
            "release_autoscaling_max_count=3 with release_deployment_maximum_percent=200: a rollout at the maximum runs up to 6 tasks",
            "lower release_autoscaling_max_count to 2 or raise ecs_hosts_max_size to 6",
        ],
    ),
    "scale_in_cooldown_shorter_than_a_node_leaving": (
        {"release_autoscaling_scale_in_cooldown": 30},
        [
            "release_autoscaling_scale_in_cooldown=30 is shorter than a BEAM node takes to leave",
            "set release_autoscaling_scale_in_cooldown to",
        ],
    ),
    "cpu_target_not_a_percentage": (
        {"release_autoscaling_cpu_target": 150},
        ["release_autoscaling_cpu_target=150 must be a percentage of the tasks' reservation, 1-100"],
    ),
    "desired_count_outside_the_range": (
        {"release_autoscaling_min_count": 2, "release_desired_count": 1},
        ["release_desired_count=1 is outside release_autoscaling_min_count=2 .. release_autoscaling_max_count=2"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_autoscaling_input_is_refused_before_any_change(case, built, inventory):  # pylint: disable=unused-argument
    """site.yml refuses in its validation play (the release role's validate step), before the network play: the built
    region's stack, the service, its scalable target and policies are unchanged."""
    changes, expected = CASES[case]
    inventory.set_vars(
        "release",
        release_database_urls=False,
        release_secrets={"DATABASE_URL": "ecto://megapool:megapool@localhost/megapool_local"},
        **{**ON, **changes},
    )

    def state():
        return snapshot(), _autoscaling(), _service()["desiredCount"], _service()["taskDefinition"]

    assert_site_refuses_early(inventory, expected + ["Check the service autoscaling inputs"], take_snapshot=state)
