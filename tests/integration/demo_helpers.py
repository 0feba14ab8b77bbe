# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the demo's end-to-end tests share (test_demo_e2e.py, test_drain_e2e.py, test_blue_green.py; docs/demo.md):
the demo's images, the emulator wiped around a test, the inventory settings of the demo, the demo stack converged once
for the tests that run one after another on it, the load balancer fronts, bounded waits, the cluster views and a
sampler of the versions that answer."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import ENDPOINT, REGIONS, ROOT, Inventory, _emulator, run_playbook

_spec = importlib.util.spec_from_file_location("megapool_loadgen", ROOT / "benchmarks" / "loadgen.py")
loadgen = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = loadgen
_spec.loader.exec_module(loadgen)

IMAGE = "megapool.local/megapool-demo:%s"


def configure_demo(inventory) -> None:
    """inventories/local with the demo 1.0.0 (epmd-less, bound to the task address) and health checks and draining
    short enough for a test (AWS's minimum interval is 5 s)."""
    inventory.set_vars(
        "release",
        release_initial_image=IMAGE % "1.0.0",
        release_bind_to_node_address=True,
        release_health_check_start_period=10,
    )
    inventory.set_all(network_erlang_epmdless=True)
    alb = inventory.path / "group_vars" / "all" / "alb.yml"
    if not alb.exists():
        alb.write_text("---\n")
    inventory.set_vars(
        "alb",
        alb_health_check_interval=5,
        alb_health_check_timeout=2,
        alb_healthy_threshold=2,
        alb_unhealthy_threshold=2,
        alb_deregistration_delay=5,
    )


_IMAGES_BUILT: list[bool] = []


@pytest.fixture(scope="session")
def demo_images():
    """The demo's images in the default local image store (the emulator's MEGAPOOL_LOCAL_IMAGES), checked once per
    process: each test file that imports this fixture has a fixture of its own, and build_demo.sh's up-to-date check
    starts elixir for each image."""
    if _IMAGES_BUILT:
        return
    for version, flags in (("1.0.0", []), ("1.0.1", []), ("1.0.2-unhealthy", ["--unhealthy"])):
        result = subprocess.run(
            ["bash", str(ROOT / "scripts" / "build_demo.sh"), version, *flags],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    _IMAGES_BUILT.append(True)


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


def converge_demo(inventory) -> dict[str, str]:
    """site.yml with the demo 1.0.0 (configure_demo); both regions' local fronts answer with it. The fronts' URLs."""
    configure_demo(inventory)
    site = run_playbook("site.yml", inventory.path)
    assert site.returncode == 0, site.stdout[-4000:] + site.stderr[-2000:]
    # The Summary play names the regions' peering, active (module_utils/site_summary.py).
    assert re.search(r"(eu-north-1-ap-southeast-1|ap-southeast-1-eu-north-1): active", site.stdout), site.stdout[-3000:]
    fronts = _fronts()
    for region, url in fronts.items():
        about = _wait(lambda url=url: json.loads(_get(url + "/")[1]), 120, "%s's front answers" % region)
        assert about["version"] == "1.0.0" and about["region"] == region, about
    return fronts


class DemoStack:
    """The demo converged by :func:`converge_demo`: its inventory (a copy of inventories/local) and its fronts."""

    def __init__(self, inventory, fronts: dict[str, str]):
        self.inventory = inventory
        self.fronts = fronts


_SHARED: dict[str, DemoStack] = {}


@pytest.fixture
def demo_stack(request, emulator, demo_images, tmp_path_factory):  # pylint: disable=unused-argument,redefined-outer-name
    """The demo stack, converged once for the tests that use it one after another on this worker.

    The first one's setup wipes the emulator and runs :func:`converge_demo` (site.yml, the fronts answer 1.0.0); the
    next test that asks for it gets the stack as the one before left it (test_drain_e2e.py after test_demo_e2e.py:
    the service back on 1.0.1 after the circuit breaker's rollback, still two tasks per region on the group's
    instances). conftest.pytest_runtest_teardown wipes the emulator after the last test in a row that uses it
    (:func:`end_demo_stack`, which also ends the demo's task processes); a test that failed on the stack ends it too
    (its state is unknown), so the next one converges its own.
    """
    stack = _SHARED.get("stack")
    if stack is None:
        _emulator("reset")
        inventory = Inventory(tmp_path_factory.mktemp("demo") / "inventory")
        stack = DemoStack(inventory, converge_demo(inventory))
        _SHARED["stack"] = stack
    failed = request.session.testsfailed
    yield stack
    if request.session.testsfailed > failed:
        end_demo_stack()


def end_demo_stack() -> None:
    """Wipe the emulator (the demo's task processes end) and forget the shared demo stack."""
    _SHARED.clear()
    _emulator("reset")


def uses_demo_stack(item) -> bool:
    return item is not None and "demo_stack" in getattr(item, "fixturenames", ())
