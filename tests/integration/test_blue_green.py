# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ECS-native blue/green end to end on the emulator's data plane (issue 17; docs/deploy.md, "Blue/green"):

site.yml with release_strategy: blue_green builds the alternate target group, the production listener rule and the
infrastructure role and deploys the demo 1.0.0; deploy.yml to 1.0.1 under load through both regions' fronts plays
the lifecycle stages (green tasks in the idle target group, the production rule switched, the bake time, blue
drained) with 0 failed requests; a re-converge changes nothing (the rule is not written back); 1.0.2-unhealthy never
gets the traffic and is rolled back with 1.0.1 serving every request; bad input is refused before any change.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from conftest import REGIONS
from conftest import assert_site_refuses_early
from conftest import client
from conftest import flat
from conftest import run_playbook
from demo_helpers import IMAGE
from demo_helpers import VersionSampler
from demo_helpers import _get
from demo_helpers import converge_demo
from demo_helpers import demo_emulator  # noqa: F401  # pylint: disable=unused-import  # fixture
from demo_helpers import demo_images  # noqa: F401  # pylint: disable=unused-import  # fixture
from demo_helpers import loadgen

# The demo's images and failed requests measured under load want one demo at a time: the worker of the "demo" group
# (conftest.SHARED_WORKER).
pytestmark = pytest.mark.xdist_group("demo")

# An emulator this file starts bakes a minute in 3 s (scripts/emulator_ext/ecs_blue_green.py; docs/emulator.md).
os.environ.setdefault("MEGAPOOL_EMULATOR_ECS_BAKE_SECONDS_PER_MINUTE", "3")


TEST_PORT = 8443


def _pair(region: str) -> tuple[str, dict[str, int]]:
    """The production rule of the region's HTTPS listener: its ARN and the weight of each target group (by name)."""
    elbv2 = client("elbv2", region)
    groups = {
        group["TargetGroupArn"]: group["TargetGroupName"] for group in elbv2.describe_target_groups()["TargetGroups"]
    }
    for balancer in elbv2.describe_load_balancers()["LoadBalancers"]:
        for listener in elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]:
            if listener["Port"] != 443:
                continue
            for rule in elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]:
                if rule["IsDefault"]:
                    continue
                forward = rule["Actions"][0]["ForwardConfig"]["TargetGroups"]
                return rule["RuleArn"], {groups[item["TargetGroupArn"]]: int(item["Weight"]) for item in forward}
    raise AssertionError("no production rule in %s" % region)


def _live(region: str) -> str:
    _arn, weights = _pair(region)
    return max(weights, key=weights.get)


def _targets(region: str, name: str) -> list[str]:
    elbv2 = client("elbv2", region)
    arn = elbv2.describe_target_groups(Names=[name])["TargetGroups"][0]["TargetGroupArn"]
    return [
        item["TargetHealth"]["State"]
        for item in elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    ]


def _blue_green(inventory) -> None:
    # 3 bake minutes (9 s on this emulator) and 1-s polls: the bake time shows in the progress lines.
    inventory.set_vars("release", release_strategy="blue_green", release_bake_time_minutes=3, release_poll_interval=1)
    # A test listener: ECS sends its traffic to green before production (the release role passes its rule).
    inventory.set_all(alb_blue_green_test_listener_port=TEST_PORT)


def test_blue_green_bad_input_is_refused_before_any_change(inventory, empty_emulator):  # pylint: disable=unused-argument
    inventory.set_vars("release", release_strategy="blue_green", release_bake_time_minutes=2000)
    assert_site_refuses_early(
        inventory, ["release_bake_time_minutes=2000 must be a whole number of minutes from 0 to 1440"]
    )
    inventory.set_vars("release", release_strategy="green", release_bake_time_minutes=5)
    assert_site_refuses_early(inventory, ["value of release_strategy must be one of: rolling, blue_green, got: green"])
    inventory.set_vars("release", release_strategy="blue_green")
    inventory.set_all(alb_blue_green=False)
    assert_site_refuses_early(inventory, ["release_strategy=blue_green but alb_blue_green is false"])


def test_blue_green_deploys_without_dropping_requests_and_rolls_back_a_bad_green(inventory, demo_emulator, demo_images):
    _blue_green(inventory)
    fronts = converge_demo(inventory)
    for region in REGIONS:
        assert _live(region).endswith("-app"), _pair(region)
        service = client("ecs", region).describe_services(cluster="megapool-local", services=["megapool-local-web"])[
            "services"
        ][0]
        assert service["deploymentConfiguration"]["strategy"] == "BLUE_GREEN", service["deploymentConfiguration"]
        advanced = service["loadBalancers"][0]["advancedConfiguration"]
        assert advanced["alternateTargetGroupArn"].rsplit("/", 2)[-2].endswith("-alt")
        test_listener = advanced["testListenerRule"].replace(":listener-rule/", ":listener/").rsplit("/", 1)[0]
        assert (
            client("elbv2", region).describe_listeners(ListenerArns=[test_listener])["Listeners"][0]["Port"]
            == TEST_PORT
        ), advanced

    # 1.0.1 under load through both fronts: the stages in the output, the rule switched, no request fails.
    load = loadgen.LoadGenerator(
        [url + "/" for url in fronts.values()], count=1_000_000, duration=1800, concurrency=2, interval=0.05
    ).start()
    deploy = run_playbook("deploy.yml", inventory.path, "-e", "release_image=" + IMAGE % "1.0.1")
    report = load.stop()
    assert deploy.returncode == 0, deploy.stdout[-4000:] + deploy.stderr[-2000:]
    # The stage of each poll (which intermediate stages a poll sees depends on the machine's speed), ending SUCCESSFUL.
    # The progress lines are on stderr (plugin_utils/progress.py: stdout is the stdout callback's alone).
    assert "blue/green CLEAN_UP (SUCCESSFUL) | rollout COMPLETED" in deploy.stderr, deploy.stderr[-4000:]
    assert report["requests"] > 50, report
    assert report["failures"] == 0, loadgen.format_report(report)
    for region, url in fronts.items():
        assert json.loads(_get(url + "/")[1])["version"] == "1.0.1"
        assert _live(region).endswith("-alt"), _pair(region)
        assert [state for state in _targets(region, "megapool-local-app") if state != "draining"] == []  # blue drained

    # A re-converge changes nothing: the rule stays on the alternate target group.
    again = run_playbook("site.yml", inventory.path)
    assert again.returncode == 0, again.stdout[-4000:]
    changed = [
        block.splitlines()[0]
        for block in re.split(r"^(?=TASK \[)", again.stdout, flags=re.M)
        if "\nchanged: [" in block
    ]
    assert "changed=0" in flat(again.stdout).rsplit("PLAY RECAP", maxsplit=1)[-1], "changed: %s\n%s" % (
        changed,
        again.stdout[-3000:],
    )
    for region in REGIONS:
        assert _live(region).endswith("-alt"), _pair(region)

    # A green that never passes its health checks: no production traffic moves, ECS rolls back, 1.0.1 serves throughout.
    with VersionSampler(fronts) as sampler:
        bad = run_playbook("deploy.yml", inventory.path, "-e", "release_image=" + IMAGE % "1.0.2-unhealthy")
    assert bad.returncode != 0, bad.stdout[-4000:]
    assert "blue/green deployment failed" in flat(bad.stdout) or "FAILED" in bad.stdout, bad.stdout[-4000:]
    assert sampler.failures == [], sampler.failures[:10]
    assert set(sampler.versions) == {"1.0.1"} and sum(sampler.versions.values()) > 20, sampler.versions
    for region, url in fronts.items():
        assert json.loads(_get(url + "/")[1])["version"] == "1.0.1"
        assert _live(region).endswith("-alt"), _pair(region)
