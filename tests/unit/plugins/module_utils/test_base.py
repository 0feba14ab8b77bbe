# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module kernel's retry policy (plugins/module_utils/base.py; docs/reliability.md).

Every client a megapool module makes rides out AWS's throttling and server errors in each service's real error
shape, as tests/reliability/fault_proxy.py answers them, for 10 attempts (botocore's default gives up after 5).
"""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import botocore.endpoint
import botocore.exceptions
import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.megapool.aws.plugins.module_utils import base

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "tests" / "reliability"))
import fault_proxy  # noqa: E402  pylint: disable=wrong-import-position,import-error


@pytest.mark.parametrize(
    "given, environ, expected",
    [
        (None, {}, {"retries": {"mode": "standard", "total_max_attempts": 10}}),
        ({}, {}, {"retries": {"mode": "standard", "total_max_attempts": 10}}),
        ({"connect_timeout": 5}, {}, {"connect_timeout": 5, "retries": {"mode": "standard", "total_max_attempts": 10}}),
        # What the user chose wins, key by key: aws_config first, then botocore's environment variables.
        # (botocore's Config max_attempts counts the retries only, total_max_attempts every request.)
        ({"retries": {"max_attempts": 3}}, {}, {"retries": {"mode": "standard", "max_attempts": 3}}),
        ({"retries": {"total_max_attempts": 3}}, {}, {"retries": {"mode": "standard", "total_max_attempts": 3}}),
        ({"retries": {"mode": "adaptive"}}, {}, {"retries": {"mode": "adaptive", "total_max_attempts": 10}}),
        (None, {"AWS_RETRY_MODE": "adaptive"}, {"retries": {"mode": "adaptive", "total_max_attempts": 10}}),
        (None, {"AWS_MAX_ATTEMPTS": "4"}, {"retries": {"mode": "standard", "total_max_attempts": 4}}),
        (
            {"retries": {"max_attempts": 6}},
            {"AWS_MAX_ATTEMPTS": "4"},
            {"retries": {"mode": "standard", "max_attempts": 6}},
        ),
        ({"retries": None}, {}, {"retries": {"mode": "standard", "total_max_attempts": 10}}),
    ],
)
def test_with_retry_policy(given, environ, expected):
    assert base.with_retry_policy(given, environ) == expected


def test_with_retry_policy_leaves_its_input_alone():
    given = {"retries": {"max_attempts": 3}}
    base.with_retry_policy(given, {})
    assert given == {"retries": {"max_attempts": 3}}


def test_with_retry_policy_refuses_retries_that_are_not_a_dictionary():
    with pytest.raises(TypeError, match="aws_config.retries must be a dictionary"):
        base.with_retry_policy({"retries": 10}, {})


# A successful answer of each protocol (what the stub upstream sends when the proxy forwards).
_SUCCESS = {
    "ec2": (
        "text/xml",
        b'<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><vpcSet/></DescribeVpcsResponse>',
    ),
    "query": ("text/xml", b""),  # <ActionResponse><ActionResult/></ActionResponse>
    "json": ("application/x-amz-json-1.1", b"{}"),
    "cbor": ("application/cbor", b"\xa0"),
    "rest-xml": (
        "text/xml",
        b'<ListHostedZonesResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
        b"<HostedZones/><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems></ListHostedZonesResponse>",
    ),
}


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802
        request = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        call = fault_proxy.classify(self.command, self.path, headers, request)
        wire = fault_proxy.protocol(call, headers)
        content_type, body = _SUCCESS[wire]
        if wire == "query":
            body = ("<{0}Response><{0}Result></{0}Result></{0}Response>".format(call.action)).encode()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if wire == "cbor":
            self.send_header("smithy-protocol", "rpc-v2-cbor")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
        pass


@pytest.fixture
def upstream():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    """botocore's backoff sleeps up to 20 s between attempts; the attempts are what is tested."""
    monkeypatch.setattr(botocore.endpoint.time, "sleep", lambda seconds: None)


def _module(endpoint: str, **args: Any) -> base.MegapoolAWSModule:
    module_args = dict(region="eu-north-1", endpoint_url=endpoint, access_key="testing", secret_key="testing", **args)
    with patch_module_args(module_args):
        return base.MegapoolAWSModule(argument_spec={})


def _failing_first(count: int, fault: str):
    return lambda ordinal: fault if ordinal <= count else None


# (service, call, the code AWS answers throttling with in that service's protocol)
CALLS = [
    ("ecs", lambda c: c.list_clusters(), "ThrottlingException"),  # JSON 1.1
    ("acm", lambda c: c.list_certificates(), "ThrottlingException"),
    ("ec2", lambda c: c.describe_vpcs(), "RequestLimitExceeded"),  # EC2 query, HTTP 503
    ("iam", lambda c: c.list_roles(), "Throttling"),  # query
    ("rds", lambda c: c.describe_db_instances(), "Throttling"),
    ("autoscaling", lambda c: c.describe_auto_scaling_groups(), "Throttling"),
    ("route53", lambda c: c.list_hosted_zones(), "Throttling"),  # rest-xml
    ("cloudwatch", lambda c: c.describe_alarms(), "ThrottlingException"),  # smithy rpc-v2-cbor
    ("servicediscovery", lambda c: c.list_namespaces(), "ThrottlingException"),
]


@pytest.mark.parametrize("fault", [fault_proxy.THROTTLE, fault_proxy.SERVER_ERROR])
@pytest.mark.parametrize("service, call, code", CALLS, ids=[c[0] for c in CALLS])
def test_a_module_client_rides_out_nine_failed_attempts(upstream, service, call, code, fault):
    with fault_proxy.FaultProxy(upstream, faults=_failing_first(9, fault)) as proxy:
        client = _module(proxy.url).client(service)
        call(client)
        assert proxy.stats()["calls"] == 10
        assert len(proxy.injected) == 9
        if fault == fault_proxy.THROTTLE:
            assert {injected[3] for injected in proxy.injected} == {code}


@pytest.mark.parametrize("service, call, code", CALLS, ids=[c[0] for c in CALLS])
def test_a_module_client_gives_up_after_ten_attempts_with_the_services_code(upstream, service, call, code):
    with fault_proxy.FaultProxy(upstream, faults=lambda ordinal: fault_proxy.THROTTLE) as proxy:
        client = _module(proxy.url).client(service)
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            call(client)
        assert raised.value.response["Error"]["Code"] == code
        assert proxy.stats()["calls"] == 10


def test_the_users_aws_config_wins(upstream):
    with fault_proxy.FaultProxy(upstream, faults=_failing_first(9, fault_proxy.THROTTLE)) as proxy:
        client = _module(proxy.url, aws_config={"retries": {"total_max_attempts": 3}}).client("ecs")
        with pytest.raises(botocore.exceptions.ClientError):
            client.list_clusters()
        assert proxy.stats()["calls"] == 3


def test_a_config_the_module_passes_does_not_drop_the_policy(upstream):
    """ec2_cluster_nodes_info passes config=Config(retries={"max_attempts": 2}): the kernel's aws_config wins."""
    import botocore.config  # pylint: disable=import-outside-toplevel

    with fault_proxy.FaultProxy(upstream, faults=_failing_first(9, fault_proxy.THROTTLE)) as proxy:
        client = _module(proxy.url).client(
            "ec2", config=botocore.config.Config(connect_timeout=10, retries={"max_attempts": 2})
        )
        client.describe_vpcs()
        assert proxy.stats()["calls"] == 10


# ---------------------------------------------------------------------------------------------- retry_while


def _client_error(code: str) -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": code}}, "AnyCall")


@pytest.fixture()
def no_sleep(monkeypatch):
    pauses = []
    monkeypatch.setattr("ansible_collections.amazon.aws.plugins.module_utils.cloud.time.sleep", pauses.append)
    return pauses


def _flaky(codes: list[str]):
    calls = []

    def call():
        calls.append(1)
        if len(calls) <= len(codes):
            raise _client_error(codes[len(calls) - 1])
        return "done"

    return call, calls


def test_retry_while_waits_out_the_state_it_is_given(no_sleep):
    call, calls = _flaky(["ResourceInUse", "ResourceInUse"])
    assert base.retry_while(["ResourceInUse"])(call)() == "done"
    assert len(calls) == 3 and len(no_sleep) == 2


@pytest.mark.parametrize(
    "code", ["Throttling", "ThrottlingException", "RequestLimitExceeded", "ServiceUnavailable", "InternalError"]
)
def test_retry_while_leaves_throttling_and_server_errors_to_the_clients_policy(no_sleep, code):
    # botocore's standard mode has already made its 10 attempts when such an error reaches the module: a retry here
    # would multiply them (amazon.aws's AWSRetry.jittered_backoff() retries these codes).
    call, calls = _flaky([code])
    with pytest.raises(botocore.exceptions.ClientError):
        base.retry_while(["ResourceInUse"])(call)()
    assert len(calls) == 1 and no_sleep == []


def test_retry_while_gives_up_after_its_retries(no_sleep):
    call, calls = _flaky(["ScalingActivityInProgress"] * 5)
    with pytest.raises(botocore.exceptions.ClientError):
        base.retry_while(["ScalingActivityInProgress"], retries=3)(call)()
    assert len(calls) == 3


def test_no_module_nests_amazon_aws_retries_under_the_policy():
    modules = Path(__file__).resolve().parents[4] / "plugins"
    offenders = [
        str(path.relative_to(modules))
        for path in sorted(modules.rglob("*.py"))
        if "AWSRetry." in path.read_text(encoding="utf-8")
    ]
    assert offenders == ["module_utils/base.py"], (
        "use base.retry_while(codes) for a state that clears; throttling is the policy's: %s" % offenders
    )


# ---------------------------------------------------------------------------------------------- region_clients

REGIONS = ["eu-north-1", "us-east-1", "ap-southeast-2"]


def test_region_clients_load_the_service_model_once_for_every_region(model_reads):
    module = _module("http://127.0.0.1:9")
    clients = module.region_clients("ec2", REGIONS + ["us-east-1"])

    assert list(clients) == REGIONS, "each region once, in the order given"
    assert model_reads == ["ec2"]
    module.region_clients("ec2", ["eu-west-1"])
    assert model_reads == ["ec2"], "the module's one session serves a later call too"
    for region in REGIONS:  # amazon.aws's module.client: a new session, the model parsed again, per client
        module.client("ec2", region=region)
    assert model_reads == ["ec2"] * 4


def test_region_clients_have_the_region_the_endpoint_the_user_agent_and_the_retry_policy(own_botocore_loader):  # pylint: disable=unused-argument
    import botocore.config  # pylint: disable=import-outside-toplevel

    module = _module("http://127.0.0.1:9")
    clients = module.region_clients("ssm", REGIONS, config=botocore.config.Config(connect_timeout=7))

    for region, client in clients.items():
        assert client.meta.region_name == region
        assert client.meta.endpoint_url == "http://127.0.0.1:9"
        assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 10}
        assert client.meta.config.connect_timeout == 7, "what the module passes is kept"
        assert "megapool.aws/%s" % base.MEGAPOOL_AWS_COLLECTION_VERSION in client.meta.config.user_agent


def test_region_clients_the_users_aws_config_wins_over_what_the_module_passes(own_botocore_loader):  # pylint: disable=unused-argument
    import botocore.config  # pylint: disable=import-outside-toplevel

    module = _module("http://127.0.0.1:9", aws_config={"retries": {"total_max_attempts": 3}, "connect_timeout": 2})
    (client,) = module.region_clients("ec2", ["eu-north-1"], config=botocore.config.Config(connect_timeout=7)).values()
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert client.meta.config.connect_timeout == 2


@pytest.mark.parametrize("service, call, code", CALLS[:3], ids=[c[0] for c in CALLS[:3]])
def test_a_region_client_rides_out_nine_throttled_attempts(upstream, service, call, code):
    with fault_proxy.FaultProxy(upstream, faults=_failing_first(9, fault_proxy.THROTTLE)) as proxy:
        clients = _module(proxy.url).region_clients(service, ["eu-north-1", "us-east-1"])
        call(clients["us-east-1"])
        assert proxy.stats()["calls"] == 10
        assert {injected[3] for injected in proxy.injected} == {code}


def test_region_clients_a_missing_profile_fails_as_module_client_does(own_botocore_loader):  # pylint: disable=unused-argument
    module_args = dict(region="eu-north-1", profile="megapool-no-such-profile")
    with patch_module_args(module_args):
        module = base.MegapoolAWSModule(argument_spec={})
    failures = []

    def fail_json_aws(error, msg=None, **_kwargs):
        failures.append((type(error).__name__, msg))
        raise SystemExit(1)

    module.fail_json_aws = fail_json_aws
    with pytest.raises(SystemExit):
        module.region_clients("ec2", REGIONS)
    assert failures == [("ProfileNotFound", "Couldn't connect to AWS")]
