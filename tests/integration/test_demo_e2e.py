# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The demo release end to end on the emulator's data plane (issue 11; docs/demo.md):

site.yml deploys megapool.local/megapool-demo:1.0.0 in both regions of inventories/local; both regions' fronts answer;
every node reports the same member list spanning both regions (the app's /cluster, and status.yml); a rolling deploy
to 1.0.1 under load through both fronts has 0 failed requests; 1.0.2-unhealthy is rolled back by the circuit breaker
with 1.0.1 serving every request throughout. Counts, not timings.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import ENDPOINT, REGIONS, ROOT, _emulator, flat, run_playbook

_spec = importlib.util.spec_from_file_location("megapool_loadgen", ROOT / "benchmarks" / "loadgen.py")
loadgen = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = loadgen
_spec.loader.exec_module(loadgen)

IMAGE = "megapool.local/megapool-demo:%s"


@pytest.fixture(scope="module")
def demo_images():
    """The demo's images in the default local image store (the emulator's MEGAPOOL_LOCAL_IMAGES)."""
    for version, flags in (("1.0.0", []), ("1.0.1", []), ("1.0.2-unhealthy", ["--unhealthy"])):
        result = subprocess.run(["bash", str(ROOT / "scripts" / "build_demo.sh"), version, *flags],
                                capture_output=True, text=True, timeout=600, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def demo_emulator(empty_emulator):
    """The wiped test emulator; wiped again afterwards, which ends the demo's task processes."""
    yield empty_emulator
    _emulator("reset")


def _get(url: str, timeout: float = 5) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _fronts() -> dict[str, str]:
    """region -> the URL of the front of its load balancer's HTTPS listener (served as plain HTTP locally)."""
    status, body = _get(ENDPOINT + "/megapool-api/fronts")
    assert status == 200, body
    fronts = {}
    for front in json.loads(body):
        if front["protocol"] == "HTTPS":
            fronts[front["region"]] = front["url"]
    assert sorted(fronts) == sorted(REGIONS), body
    return fronts


def _wait(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except OSError as error:
            last = error
        if last and not isinstance(last, Exception):
            return last
        time.sleep(1)
    raise AssertionError("%s within %d s (last: %r)" % (what, timeout, last))


def _cluster_views(fronts: dict[str, str], per_region: int = 8) -> dict[str, list[str]]:
    """node -> the members it reports, from GET /cluster through each region's front (round robin over its targets)."""
    views = {}
    for url in fronts.values():
        for _request in range(per_region):
            status, body = _get(url + "/cluster")
            if status == 200:
                view = json.loads(body)
                views[view["node"]] = view["members"]
    return views


class VersionSampler:
    """GET / through every front, one after the other, until stopped: which versions answered, and any failure."""

    def __init__(self, fronts: dict[str, str]):
        self.urls = list(fronts.values())
        self.versions: dict[str, int] = {}
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for url in self.urls:
                try:
                    status, body = _get(url + "/")
                    if status == 200:
                        version = json.loads(body)["version"]
                        self.versions[version] = self.versions.get(version, 0) + 1
                    else:
                        self.failures.append("%s HTTP %s" % (url, status))
                except OSError as error:
                    self.failures.append("%s %s" % (url, error))
            self._stop.wait(0.1)

    def __enter__(self) -> "VersionSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)


def test_demo_serves_one_cluster_and_deploys_without_dropping_requests(inventory, demo_emulator, demo_images):
    inventory.set_vars("release", release_initial_image=IMAGE % "1.0.0", release_bind_to_node_address=True,
                       release_health_check_start_period=10)
    inventory.set_all(network_erlang_epmdless=True)
    # Health checks and draining short enough for a test (AWS's minimum interval is 5 s).
    alb = inventory.path / "group_vars" / "all" / "alb.yml"
    if not alb.exists():
        alb.write_text("---\n")
    inventory.set_vars("alb", alb_health_check_interval=5, alb_health_check_timeout=2, alb_healthy_threshold=2, alb_unhealthy_threshold=2,
                       alb_deregistration_delay=5)

    site = run_playbook("site.yml", inventory.path)
    assert site.returncode == 0, site.stdout[-4000:] + site.stderr[-2000:]

    # Both regions' fronts answer with the demo.
    fronts = _fronts()
    for region, url in fronts.items():
        about = _wait(lambda url=url: json.loads(_get(url + "/")[1]), 120, "%s's front answers" % region)
        assert about["version"] == "1.0.0" and about["region"] == region, about

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
    assert "cluster: one cluster of 4 nodes across eu-north-1, ap-southeast-1" in flat(status.stdout), status.stdout[-4000:]

    # A rolling deploy to 1.0.1 under load through both fronts: no request fails.
    load = loadgen.LoadGenerator([url + "/" for url in fronts.values()], count=1_000_000, duration=1800,
                                 concurrency=2, interval=0.05).start()
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
