# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The demo release end to end on the emulator's data plane (issue 11; docs/demo.md):

site.yml deploys megapool.local/megapool-demo:1.0.0 in both regions of inventories/local; both regions' fronts answer;
every node reports the same member list spanning both regions (the app's /cluster, and status.yml); a rolling deploy
to 1.0.1 under load through both fronts has 0 failed requests; 1.0.2-unhealthy is rolled back by the circuit breaker
with 1.0.1 serving every request throughout. Counts, not timings.

The converge is the shared demo stack (demo_helpers.demo_stack): test_drain_e2e.py, next on the same worker, drains
and interrupts the stack this test leaves instead of converging it again.
"""

from __future__ import annotations

import json

import pytest

from conftest import flat, run_playbook
from demo_helpers import IMAGE
from demo_helpers import VersionSampler
from demo_helpers import _cluster_views
from demo_helpers import _get
from demo_helpers import _wait
from demo_helpers import demo_images  # noqa: F401  # pylint: disable=unused-import  # fixture
from demo_helpers import demo_stack  # noqa: F401  # pylint: disable=unused-import  # fixture
from demo_helpers import loadgen

# The demo's images are built into one shared store (.cache/images) and the tests measure failed requests under load:
# one demo at a time (one xdist worker for both files).
pytestmark = pytest.mark.xdist_group("demo")


def test_demo_serves_one_cluster_and_deploys_without_dropping_requests(demo_stack):  # pylint: disable=redefined-outer-name
    # site.yml with the demo (demo_helpers.converge_demo); both regions' fronts answer with it.
    inventory, fronts = demo_stack.inventory, demo_stack.fronts

    # One Erlang cluster across both regions: every node lists every node (2 tasks per region).
    def one_cluster():
        views = _cluster_views(fronts)
        members = {tuple(sorted(view)) for view in views.values()}
        if len(views) == 4 and len(members) == 1 and set(next(iter(members))) == set(views):
            return views
        return None

    views = _wait(one_cluster, 180, "4 nodes in one cluster")
    assert len(views) == 4
    status = run_playbook("status.yml", inventory.path)
    assert status.returncode == 0, status.stdout[-4000:]
    assert "cluster: one cluster of 4 nodes across eu-north-1, ap-southeast-1" in flat(status.stdout), status.stdout[
        -4000:
    ]

    # A rolling deploy to 1.0.1 under load through both fronts: no request fails.
    load = loadgen.LoadGenerator(
        [url + "/" for url in fronts.values()], count=1_000_000, duration=1800, concurrency=2, interval=0.05
    ).start()
    deploy = run_playbook("deploy.yml", inventory.path, "-e", "release_image=" + IMAGE % "1.0.1")
    report = load.stop()
    assert deploy.returncode == 0, deploy.stdout[-4000:] + deploy.stderr[-2000:]
    assert report["requests"] > 50, report
    assert report["failures"] == 0, loadgen.format_report(report)
    for url in fronts.values():
        assert json.loads(_get(url + "/")[1])["version"] == "1.0.1"

    # A release whose /health never passes: the circuit breaker rolls it back, 1.0.1 serves every request throughout.
    with VersionSampler(fronts) as sampler:
        bad = run_playbook("deploy.yml", inventory.path, "-e", "release_image=" + IMAGE % "1.0.2-unhealthy")
    assert bad.returncode != 0, bad.stdout[-4000:]
    assert sampler.failures == [], sampler.failures[:10]
    assert set(sampler.versions) == {"1.0.1"} and sum(sampler.versions.values()) > 20, sampler.versions
    for url in fronts.values():
        assert json.loads(_get(url + "/")[1])["version"] == "1.0.1"
