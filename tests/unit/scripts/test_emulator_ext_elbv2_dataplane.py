# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/emulator_ext/elbv2_dataplane.py: fronts per listener, real health checks of local targets, draining,
DescribeTargetHealth from them.

The rules are tested as pure functions first; then plain moto's answer is pinned (the reason for the patch); then the
patched moto (in-process) runs against real loopback HTTP servers as targets. The data plane's clock runs 20 times
faster than the wall clock there (a 5 s interval is 0.25 s), waits are bounded polls, nothing asserts a duration.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws
from moto.moto_api._internal.models import moto_api_backend

from emulator_ext import elbv2_dataplane as ext

REGION = "eu-north-1"
SPEED = 20.0


# --- pure rules -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "matcher, status, accepted",
    [
        ("200", 200, True),
        ("200", 204, False),
        ("200,204", 204, True),
        ("200-299", 250, True),
        ("200-299", 300, False),
        ("200, 301-302", 302, True),
        ("", 200, True),
        (None, 500, False),
    ],
)
def test_matcher(matcher, status, accepted):
    assert ext.matcher_accepts(matcher, status) is accepted


@given(low=st.integers(200, 499), span=st.integers(0, 99), status=st.integers(100, 599))
def test_matcher_range_property(low, span, status):
    high = low + span
    assert ext.matcher_accepts("%d-%d" % (low, high), status) is (low <= status <= high)
    assert ext.matcher_accepts("%d,%d-%d" % (status, low, high), status)


@given(
    states=st.lists(
        st.sampled_from([ext.HEALTHY, ext.INITIAL_CHECKING, ext.DRAINING, ("unhealthy", "r", "d")]), max_size=8
    )
)
def test_candidates_property(states):
    records = [_record("t%d" % index, state) for index, state in enumerate(states)]
    chosen = ext.pick_candidates(records)
    assert all(record.state[0] != "draining" for record in chosen)  # never a draining target
    if any(state == ext.HEALTHY for state in states):
        assert {record.state for record in chosen} == {ext.HEALTHY}  # only healthy ones while there are some
    else:
        assert len(chosen) == sum(1 for state in states if state != ext.DRAINING)  # else every live one (fail-open)


@pytest.mark.parametrize(
    "status, timed_out, expected",
    [
        (200, False, (True, None)),
        (503, False, (False, "Target.ResponseCodeMismatch")),
        (None, False, (False, "Target.FailedHealthChecks")),
        (None, True, (False, "Target.Timeout")),
    ],
)
def test_classify(status, timed_out, expected):
    result = ext.classify(status, "200", timed_out)
    assert (result.ok, result.reason) == expected
    if status == 503:
        assert result.description == "Health checks failed with these codes: [503]"


OK = ext.CheckResult(True)
FAIL = ext.classify(503, "200")


@pytest.mark.parametrize(
    "start, results, state",
    [
        (ext.INITIAL_REGISTERING, [OK], "healthy"),  # "it must pass one health check to be considered healthy"
        (ext.INITIAL_REGISTERING, [FAIL], "initial"),
        (ext.INITIAL_REGISTERING, [FAIL, FAIL], "unhealthy"),
        (ext.INITIAL_REGISTERING, [FAIL, OK], "healthy"),
        (ext.HEALTHY, [FAIL], "healthy"),
        (ext.HEALTHY, [FAIL, FAIL], "unhealthy"),
        (ext.HEALTHY, [FAIL, OK, FAIL], "healthy"),  # the failures must be consecutive
        (("unhealthy", "x", "y"), [OK], "unhealthy"),
        (("unhealthy", "x", "y"), [OK, OK], "healthy"),
        (("unhealthy", "x", "y"), [OK, FAIL, OK], "unhealthy"),
    ],
)
def test_advance(start, results, state):
    record = ext.TargetRecord("tg", "127.1.0.2", 4000, state=start)
    for result in results:
        ext.advance(record, result, healthy_threshold=2, unhealthy_threshold=2)
    assert record.state[0] == state


def test_advance_reasons():
    record = ext.TargetRecord("tg", "127.1.0.2", 4000)
    ext.advance(record, FAIL, 2, 2)
    assert record.state == ext.INITIAL_CHECKING
    ext.advance(record, FAIL, 2, 2)
    assert record.state == ("unhealthy", "Target.ResponseCodeMismatch", "Health checks failed with these codes: [503]")


def _record(name: str, state: tuple) -> ext.TargetRecord:
    return ext.TargetRecord("tg", name, 4000, state=state)


def test_candidates_healthy_only_then_fail_open():
    healthy, sick, new, leaving = (
        _record("a", ext.HEALTHY),
        _record("b", ("unhealthy", "r", "d")),
        _record("c", ext.INITIAL_CHECKING),
        _record("d", ext.DRAINING),
    )
    assert ext.pick_candidates([healthy, sick, new, leaving]) == [healthy]
    assert ext.pick_candidates([sick, new, leaving]) == [sick, new]  # fail-open, never a draining target
    assert ext.pick_candidates([leaving]) == []
    assert ext.pick_candidates([]) == []


@pytest.mark.parametrize(
    "config, path, query, expected",
    [
        (
            {
                "Protocol": "HTTPS",
                "Port": "443",
                "Host": "#{host}",
                "Path": "/#{path}",
                "Query": "#{query}",
                "StatusCode": "HTTP_301",
            },
            "/a/b",
            "x=1",
            (301, "https://shop.example:443/a/b?x=1"),
        ),
        ({"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}, "/", "", (301, "https://shop.example:443/")),
        (
            {"Path": "/new/#{path}", "Query": "#{query}&v=2", "StatusCode": "HTTP_302"},
            "/old",
            "a=1",
            (302, "http://shop.example:80/new/old?a=1&v=2"),
        ),
    ],
)
def test_redirect_location(config, path, query, expected):
    assert ext.redirect_location(config, "HTTP", "shop.example", 80, path, query) == expected


@pytest.mark.parametrize(
    "conditions, host, path, matches",
    [
        ([], "a.example", "/x", True),
        ([{"Field": "path-pattern", "Values": ["/api/*"]}], "a.example", "/api/v1", True),
        ([{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}], "a.example", "/web", False),
        ([{"Field": "host-header", "HostHeaderConfig": {"Values": ["*.EXAMPLE"]}}], "a.example", "/", True),
        (
            [{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "x", "Values": ["y"]}}],
            "a.example",
            "/",
            False,
        ),
    ],
)
def test_rule_matches(conditions, host, path, matches):
    assert ext.rule_matches(conditions, host, path) is matches


@pytest.mark.parametrize(
    "target_id, local", [("127.1.0.2", True), ("127.0.0.1", True), ("10.0.1.5", False), ("i-0abc", False)]
)
def test_is_local(target_id, local):
    assert ext.is_local(target_id) is local


# --- real HTTP targets --------------------------------------------------------------------------------------------


class Target:
    """A loopback HTTP server: /health answers ``health_status``; / answers its name; /slow waits for ``release``."""

    def __init__(self, address: str, name: str) -> None:
        self.name = name
        self.health_status = 200
        self.health_checks = 0
        self.agents: set[str] = set()
        self.seen_headers: dict = {}
        self.release = threading.Event()
        self.slow_started = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # pylint: disable=arguments-differ
                return

            def do_GET(self):  # pylint: disable=invalid-name
                if self.path == "/health":
                    owner.health_checks += 1
                    owner.agents.add(self.headers.get("User-Agent", ""))
                    status, body = owner.health_status, b"ok"
                elif self.path == "/slow":
                    owner.slow_started.set()
                    owner.release.wait(10)
                    status, body = 200, owner.name.encode()
                else:
                    status, body = 200, ("%s %s" % (owner.name, self.headers.get("X-Forwarded-Proto"))).encode()
                    owner.seen_headers = dict(self.headers)
                self.send_response(status)
                self.send_header("X-Target", owner.name)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer((address, 0), Handler)
        self.server.daemon_threads = True
        self.address, self.port = self.server.server_address[:2]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def wait_for(condition, what: str, limit: float = 15.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("not reached within %ss: %s" % (limit, what))


@pytest.fixture
def targets():
    made = []

    def make(address: str, name: str) -> Target:
        made.append(Target(address, name))
        return made[-1]

    yield make
    for target in made:
        target.close()


@pytest.fixture
def patched(monkeypatch):
    ext.apply()
    ext.apply()  # idempotent
    monkeypatch.setattr(ext, "_clock", lambda: time.monotonic() * SPEED)
    yield
    ext.restore()


@pytest.fixture
def aws(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        yield boto3.client("elbv2", region_name=REGION), boto3.client("ec2", region_name=REGION)


def _balancer(elbv2, ec2, name: str = "app", delay: int = 30) -> dict:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % i, AvailabilityZone=REGION + zone)["Subnet"]["SubnetId"]
        for i, zone in enumerate("ab")
    ]
    balancer = elbv2.create_load_balancer(Name=name, Subnets=subnets, Type="application")["LoadBalancers"][0][
        "LoadBalancerArn"
    ]
    group = elbv2.create_target_group(
        Name=name + "-tg",
        Protocol="HTTP",
        Port=4000,
        VpcId=vpc,
        TargetType="ip",
        HealthCheckPath="/health",
        HealthCheckIntervalSeconds=5,
        HealthCheckTimeoutSeconds=2,
        HealthyThresholdCount=2,
        UnhealthyThresholdCount=2,
        Matcher={"HttpCode": "200"},
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.modify_target_group_attributes(
        TargetGroupArn=group, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": str(delay)}]
    )
    elbv2.create_listener(
        LoadBalancerArn=balancer,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[
            {
                "Type": "redirect",
                "RedirectConfig": {
                    "Protocol": "HTTPS",
                    "Port": "443",
                    "Host": "#{host}",
                    "Path": "/#{path}",
                    "Query": "#{query}",
                    "StatusCode": "HTTP_301",
                },
            }
        ],
    )
    elbv2.create_listener(
        LoadBalancerArn=balancer,
        Protocol="HTTP",
        Port=8080,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
    )
    return {"balancer": balancer, "group": group, "vpc": vpc}


def _health(elbv2, group: str, targets=None) -> dict:
    kwargs = {"Targets": targets} if targets else {}
    return {
        entry["Target"]["Id"]: entry["TargetHealth"]
        for entry in elbv2.describe_target_health(TargetGroupArn=group, **kwargs)["TargetHealthDescriptions"]
    }


def _state(elbv2, group: str, target_id: str) -> str | None:
    return _health(elbv2, group).get(target_id, {}).get("State")


def _get(url: str) -> tuple[int, str, dict]:
    request = urllib.request.Request(url)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # pylint: disable=unused-argument
        return None


def _front(balancer: str, port: int) -> str:
    host, front_port = ext.front_address(balancer, port)
    return "http://%s:%d" % (host, front_port)


def test_plain_moto_says_healthy_without_checking(aws, targets):
    elbv2, ec2 = aws
    lb = _balancer(elbv2, ec2)
    down = targets("127.77.0.9", "down")
    down.health_status = 500
    elbv2.register_targets(TargetGroupArn=lb["group"], Targets=[{"Id": down.address, "Port": down.port}])
    assert _health(elbv2, lb["group"])[down.address]["State"] == "healthy"
    assert down.health_checks == 0
    elbv2.deregister_targets(TargetGroupArn=lb["group"], Targets=[{"Id": down.address, "Port": down.port}])
    assert _health(elbv2, lb["group"], [{"Id": down.address, "Port": down.port}])[down.address]["State"] == "unused"


def test_health_checks_decide_traffic_and_fail_open(aws, patched, targets):  # pylint: disable=unused-argument
    elbv2, ec2 = aws
    lb = _balancer(elbv2, ec2)
    good, bad = targets("127.77.0.1", "good"), targets("127.77.0.2", "bad")
    bad.health_status = 503
    elbv2.register_targets(TargetGroupArn=lb["group"], Targets=[{"Id": t.address, "Port": t.port} for t in (good, bad)])
    first = _health(elbv2, lb["group"])
    assert {entry["State"] for entry in first.values()} == {"initial"}
    assert {entry["Reason"] for entry in first.values()} <= {"Elb.RegistrationInProgress", "Elb.InitialHealthChecking"}

    wait_for(lambda: _state(elbv2, lb["group"], good.address) == "healthy", "good healthy")
    wait_for(lambda: _state(elbv2, lb["group"], bad.address) == "unhealthy", "bad unhealthy")
    health = _health(elbv2, lb["group"])
    assert health[bad.address]["Reason"] == "Target.ResponseCodeMismatch"
    assert health[bad.address]["Description"] == "Health checks failed with these codes: [503]"
    assert "Reason" not in health[good.address]
    assert good.agents == {"ELB-HealthChecker/2.0"}

    front = _front(lb["balancer"], 8080)
    answers = [_get(front + "/")[:2] for _attempt in range(6)]
    assert set(answers) == {(200, "good http")}  # never the unhealthy one

    status, _body, headers = _get(front + "/")
    assert status == 200 and headers["X-Target"] == "good"  # the target's headers come back
    assert good.seen_headers["X-Forwarded-For"] == "127.0.0.1" and good.seen_headers["X-Forwarded-Port"] == "8080"
    assert good.seen_headers["X-Amzn-Trace-Id"].startswith("Root=1-")

    # both unhealthy: the load balancer fails open and uses every registered target
    good.health_status = 500
    wait_for(lambda: _state(elbv2, lb["group"], good.address) == "unhealthy", "good unhealthy")
    bodies = {_get(front + "/")[1] for _attempt in range(6)}
    assert bodies == {"good http", "bad http"}

    # one recovers after the healthy threshold: only it gets traffic again
    bad.health_status = 200
    wait_for(lambda: _state(elbv2, lb["group"], bad.address) == "healthy", "bad healthy again")
    assert {_get(front + "/")[1] for _attempt in range(6)} == {"bad http"}


def test_draining_takes_no_new_requests_and_finishes_in_flight_ones(aws, patched, targets):  # pylint: disable=unused-argument
    elbv2, ec2 = aws
    lb = _balancer(elbv2, ec2, delay=30)  # 1.5 s at SPEED
    old, new = targets("127.77.1.1", "old"), targets("127.77.1.2", "new")
    for target in (old, new):
        elbv2.register_targets(TargetGroupArn=lb["group"], Targets=[{"Id": target.address, "Port": target.port}])
    wait_for(lambda: {_state(elbv2, lb["group"], t.address) for t in (old, new)} == {"healthy"}, "both healthy")
    front = _front(lb["balancer"], 8080)

    # a slow request in flight on the old target (the new one answers /slow at once; round robin alternates)
    new.release.set()
    results: list = []
    slow = None
    for _attempt in range(4):
        thread = threading.Thread(target=lambda: results.append(_get(front + "/slow")[:2]), daemon=True)
        thread.start()
        wait_for(lambda: old.slow_started.is_set() or results, "the request reached a target", 5)
        if old.slow_started.is_set():
            slow = thread
            break
        thread.join(5)
        results.clear()
    assert slow is not None

    elbv2.deregister_targets(TargetGroupArn=lb["group"], Targets=[{"Id": old.address, "Port": old.port}])
    health = _health(elbv2, lb["group"])
    assert health[old.address] == {
        "State": "draining",
        "Reason": "Target.DeregistrationInProgress",
        "Description": "Target deregistration is in progress",
    }
    assert {_get(front + "/")[1] for _attempt in range(6)} == {"new http"}  # no new requests to a draining target
    old.release.set()
    slow.join(10)
    assert results == [(200, "old")]  # the one in flight finished

    wait_for(lambda: old.address not in _health(elbv2, lb["group"]), "drained")
    explicit = _health(elbv2, lb["group"], [{"Id": old.address, "Port": old.port}])
    assert explicit[old.address]["State"] == "unused"
    assert explicit[old.address]["Reason"] == "Target.NotRegistered"


def test_redirect_no_target_and_https_listener(aws, patched, targets):  # pylint: disable=unused-argument
    elbv2, ec2 = aws
    lb = _balancer(elbv2, ec2)
    status, _body, headers = _get(_front(lb["balancer"], 80) + "/shop/cart?item=3")
    assert status == 301
    assert headers["Location"] == "https://127.0.0.1:443/shop/cart?item=3"
    assert _get(_front(lb["balancer"], 8080) + "/")[0] == 503  # nothing registered

    certificate = boto3.client("acm", region_name=REGION).request_certificate(DomainName="shop.example")[
        "CertificateArn"
    ]
    elbv2.create_listener(
        LoadBalancerArn=lb["balancer"],
        Protocol="HTTPS",
        Port=443,
        Certificates=[{"CertificateArn": certificate}],
        DefaultActions=[
            {
                "Type": "fixed-response",
                "FixedResponseConfig": {"StatusCode": "418", "ContentType": "text/plain", "MessageBody": "tea"},
            }
        ],
    )
    assert _get(_front(lb["balancer"], 443) + "/")[:2] == (418, "tea")  # plain HTTP locally
    https = next(
        item["ListenerArn"]
        for item in elbv2.describe_listeners(LoadBalancerArn=lb["balancer"])["Listeners"]
        if item["Port"] == 443
    )
    elbv2.modify_listener(ListenerArn=https, DefaultActions=[{"Type": "forward", "TargetGroupArn": lb["group"]}])
    app = targets("127.77.4.1", "app")
    elbv2.register_targets(TargetGroupArn=lb["group"], Targets=[{"Id": app.address, "Port": app.port}])
    # not healthy yet: the only registered target gets the request (fail-open); it sees what the client used on AWS
    assert _get(_front(lb["balancer"], 443) + "/")[:2] == (200, "app https")
    listed = {
        (front["listener_port"], front["protocol"])
        for front in ext.fronts()
        if front["load_balancer_arn"] == lb["balancer"]
    }
    assert listed == {(80, "HTTP"), (8080, "HTTP"), (443, "HTTPS")}


def test_fronts_follow_listeners_and_reset(aws, patched):  # pylint: disable=unused-argument
    elbv2, ec2 = aws
    lb = _balancer(elbv2, ec2)
    url = _front(lb["balancer"], 80)
    listeners = elbv2.describe_listeners(LoadBalancerArn=lb["balancer"])["Listeners"]
    elbv2.delete_listener(ListenerArn=next(item["ListenerArn"] for item in listeners if item["Port"] == 80))
    assert ext.front_address(lb["balancer"], 80) is None
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/", timeout=2)  # pylint: disable=consider-using-with
    other = _front(lb["balancer"], 8080)
    moto_api_backend.reset()
    assert ext.PLANE.fronts == {}
    with pytest.raises(OSError):
        urllib.request.urlopen(other + "/", timeout=2)  # pylint: disable=consider-using-with


def test_non_local_targets_keep_moto_and_unused_groups_are_not_checked(aws, patched, targets):  # pylint: disable=unused-argument
    elbv2, ec2 = aws
    lb = _balancer(elbv2, ec2)
    elbv2.register_targets(TargetGroupArn=lb["group"], Targets=[{"Id": "10.0.0.5", "Port": 4000}])
    assert _health(elbv2, lb["group"])["10.0.0.5"] == {"State": "healthy"}  # moto's answer, exactly

    idle = elbv2.create_target_group(
        Name="idle", Protocol="HTTP", Port=4000, VpcId=lb["vpc"], TargetType="ip", HealthCheckPath="/health"
    )["TargetGroups"][0]["TargetGroupArn"]
    target = targets("127.77.2.1", "idle")
    elbv2.register_targets(TargetGroupArn=idle, Targets=[{"Id": target.address, "Port": target.port}])
    time.sleep(0.5)  # a few scheduler ticks (not a timing assert: nothing may happen in them)
    assert _health(elbv2, idle)[target.address]["Reason"] == "Target.NotInUse"
    assert target.health_checks == 0


def test_health_check_timeout_and_refused(targets):
    listener = socket.socket()  # accepts connections, never answers
    listener.bind(("127.77.3.2", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        result = ext.health_check("127.77.3.2", port, "/health", 0.3, "200")
        assert (result.ok, result.reason) == (False, "Target.Timeout")
    finally:
        listener.close()
    refused = ext.health_check("127.77.3.2", port, "/health", 1, "200")
    assert (refused.ok, refused.reason) == (False, "Target.FailedHealthChecks")
    up = targets("127.77.3.1", "up")
    assert ext.health_check(up.address, up.port, "/health", 2, "200").ok


def test_fronts_route_on_the_emulator_port(patched):  # pylint: disable=unused-argument
    seen = []
    app = ext._dispatch(lambda self, environ, start: [b"moto"])  # pylint: disable=protected-access
    body = b"".join(app(None, {"PATH_INFO": "/megapool-api/fronts"}, lambda status, headers: seen.append(status)))
    assert seen == ["200 OK"]
    assert body.startswith(b"[")
    assert app(None, {"PATH_INFO": "/moto-api/"}, lambda *a: None) == [b"moto"]


def test_chains_with_other_extensions_wrappers():
    """In the emulator elbv2_certificates wraps delete_listener first: this extension wraps it too (a MethodPatches
    flag check would have skipped it), and restore() takes back only its own wrapper."""
    from moto.elbv2.models import ELBv2Backend  # pylint: disable=import-outside-toplevel

    from emulator_ext import elbv2_certificates  # pylint: disable=import-outside-toplevel

    moto_method = ELBv2Backend.delete_listener
    elbv2_certificates.apply()
    certificates_method = ELBv2Backend.delete_listener
    try:
        ext.apply()
        assert ELBv2Backend.delete_listener.__wrapped__ is certificates_method
        ext.apply()
        assert ELBv2Backend.delete_listener.__wrapped__ is certificates_method  # not wrapped twice
        ext.restore()
        assert ELBv2Backend.delete_listener is certificates_method
    finally:
        ext.restore()
        elbv2_certificates.restore()
    assert ELBv2Backend.delete_listener is moto_method
