# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared unit-test setup.

- Makes ``ansible_collections.megapool.aws`` (this checkout, through ``.collections/``) and the collections
  installed in the venv (amazon.aws, community.aws, ...) importable together, with ansible's own collection
  loader, unless something (ansible-test) already set one up.
- ``run_module``: runs a module's ``main()`` in-process with the given args and returns its result dict.
- ``aws_env``: a clean AWS environment for moto's in-process ``mock_aws`` (fake credentials, no endpoint or
  profile leaking in from the shell, e.g. the emulator's).
- ``aws_calls``: records every boto3 API call made while the test runs (region, operation, parameters,
  user agent), e.g. to assert that check mode makes no write call.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any
from typing import Callable
from typing import NamedTuple
from typing import NoReturn
from unittest import mock

import boto3
import botocore.loaders
import botocore.session
import pytest
from hypothesis import settings as hypothesis_settings

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible.utils.collection_loader import AnsibleCollectionConfig
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

# Property tests have no per-example deadline: hypothesis's default (200 ms) fails a test whose example happens to
# run while CI's two cores are busy (a flake, not a finding). Each test's own @settings (max_examples) still applies.
hypothesis_settings.register_profile("megapool", deadline=None)
hypothesis_settings.load_profile("megapool")

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS_ROOT = REPO_ROOT / ".collections"
COLLECTION_LINK = COLLECTIONS_ROOT / "ansible_collections" / "megapool" / "aws"

# The emulator's moto patches (scripts/emulator_ext) are importable as ``emulator_ext`` in the tests that check them.
if str(REPO_ROOT / "scripts") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "scripts"))


def _install_collection_loader() -> None:
    if AnsibleCollectionConfig.collection_finder is not None:
        return  # ansible-test (or another conftest) already configured the collection loader
    if not COLLECTION_LINK.exists():
        COLLECTION_LINK.parent.mkdir(parents=True, exist_ok=True)
        COLLECTION_LINK.symlink_to(os.path.relpath(REPO_ROOT, COLLECTION_LINK.parent), target_is_directory=True)
    # The finder also scans sys.path, which holds the venv's site-packages/ansible_collections.
    _AnsibleCollectionFinder(paths=[str(COLLECTIONS_ROOT)])._install()


_install_collection_loader()

# One botocore data loader for the whole test process. botocore parses a service's JSON model (ec2's is 1.9 MB) once
# per Session (Loader.load_service_model is cached per loader instance), and amazon.aws's boto3_conn makes a new
# Session for every client a module asks for: each in-process module run parsed ec2, ecs, elbv2 ... and the endpoint
# data again (0.26 CPU s for three clients; 0.05 with a shared loader). The models and the loader's search path are
# the same for every Session of the process, as within one Session (whose clients already share one loader's dicts);
# a module process on a controller makes one Session per client too, so this is the unit tests' saving only.
# boto3.session.Session appends its own data directory to its loader's search paths: appended once per path here.
_LOADERS: dict[Any, Any] = {}


class _SearchPaths(list):
    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


def _shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
    if search_path_string not in _LOADERS:
        loader = botocore.loaders.create_loader(search_path_string)
        loader._search_paths = _SearchPaths(loader.search_paths)  # pylint: disable=protected-access
        _LOADERS[search_path_string] = loader
    return _LOADERS[search_path_string]


botocore.session.create_loader = _shared_loader


@pytest.fixture
def own_botocore_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sessions made during the test get a loader of their own, as outside the tests (for a test that counts what a
    fresh Session reads)."""
    monkeypatch.setattr(botocore.session, "create_loader", botocore.loaders.create_loader)


def _making_a_client() -> bool:
    """Whether the caller runs inside botocore's ``Session.create_client``."""
    frame = sys._getframe(1)  # pylint: disable=protected-access
    while frame is not None:
        if frame.f_code.co_name == "create_client" and "botocore" in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False


@pytest.fixture
def model_reads(monkeypatch: pytest.MonkeyPatch, own_botocore_loader: None) -> list[str]:  # pylint: disable=unused-argument
    """The service models (``<service>/<version>/service-2``) botocore's loaders read from disk while making a client,
    in order (moto's own reads of the models are not counted): every Session has its own loader here, as in a module
    process, so a test counts how often a module parses a model."""
    reads: list[str] = []
    original = botocore.loaders.Loader.load_data_with_path

    def counting(self, name, *args, **kwargs):
        if name.endswith("/service-2") and _making_a_client():
            reads.append(name.split("/")[0])
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(botocore.loaders.Loader, "load_data_with_path", counting)
    return reads


class AnsibleExitJson(Exception):
    """Raised instead of exiting when a module calls exit_json."""


class AnsibleFailJson(Exception):
    """Raised instead of exiting when a module calls fail_json."""


def _exit_json(self: basic.AnsibleModule, **kwargs: Any) -> NoReturn:  # pylint: disable=unused-argument
    kwargs.setdefault("changed", False)
    raise AnsibleExitJson(kwargs)


def _fail_json(self: basic.AnsibleModule, msg: str = "", **kwargs: Any) -> NoReturn:  # pylint: disable=unused-argument
    kwargs["failed"] = True
    kwargs["msg"] = msg
    raise AnsibleFailJson(kwargs)


def run_module_main(
    main: Callable[[], None], args: dict[str, Any], check_mode: bool = False, diff: bool = False
) -> dict[str, Any]:
    """Run ``main()`` with ``args``; return what it passed to exit_json or fail_json (then with ``failed=True``).

    The result goes through a JSON round trip, like a real module result does.
    """
    module_args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(module_args), mock.patch.multiple(
        basic.AnsibleModule, exit_json=_exit_json, fail_json=_fail_json
    ):
        try:
            main()
        except (AnsibleExitJson, AnsibleFailJson) as outcome:
            return json.loads(json.dumps(outcome.args[0], default=str))
    raise AssertionError("the module returned without calling exit_json or fail_json")


@pytest.fixture
def run_module() -> Callable[..., dict[str, Any]]:
    """``run_module(module.main, args, check_mode=False, diff=False) -> result``."""
    return run_module_main


_AWS_ENV_TO_CLEAR = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_URL",
    "EC2_URL",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_EC2",
    "AWS_CA_BUNDLE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials and nothing else from the caller's AWS environment (for moto's ``mock_aws``)."""
    for name in _AWS_ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))


@pytest.fixture
def blue_green_alb() -> Callable[[str], dict]:
    """In the active moto mock of a test, what the alb role builds for blue/green in ``region``: a VPC with two
    subnets, a load balancer, the target groups ``megapool-local-app`` (blue) and ``megapool-local-alt`` (green), an
    HTTP listener and its production rule (``/*``) forwarding to both (weights 1 and 0). Returns the ARNs and clients."""

    def build(region: str) -> dict:
        ec2 = boto3.client("ec2", region_name=region)
        elbv2 = boto3.client("elbv2", region_name=region)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % i, AvailabilityZone=region + zone)["Subnet"][
                "SubnetId"
            ]
            for i, zone in ((1, "a"), (2, "b"))
        ]
        balancer = elbv2.create_load_balancer(Name="megapool-local", Subnets=subnets)["LoadBalancers"][0][
            "LoadBalancerArn"
        ]
        blue, green = (
            elbv2.create_target_group(Name=name, Protocol="HTTP", Port=4000, VpcId=vpc, TargetType="ip")[
                "TargetGroups"
            ][0]["TargetGroupArn"]
            for name in ("megapool-local-app", "megapool-local-alt")
        )
        listener = elbv2.create_listener(
            LoadBalancerArn=balancer,
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": blue}],
        )["Listeners"][0]["ListenerArn"]
        forward = {"TargetGroups": [{"TargetGroupArn": blue, "Weight": 1}, {"TargetGroupArn": green, "Weight": 0}]}
        rule = elbv2.create_rule(
            ListenerArn=listener,
            Priority=10,
            Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
            Actions=[{"Type": "forward", "ForwardConfig": forward}],
        )["Rules"][0]["RuleArn"]
        return dict(elbv2=elbv2, blue=blue, green=green, listener=listener, rule=rule)

    return build


class AwsCall(NamedTuple):
    region: str
    operation: str
    params: dict[str, Any]
    user_agent: str


class AwsCalls(list):
    """The calls recorded by the ``aws_calls`` fixture."""

    def operations(self) -> list[str]:
        return [call.operation for call in self]

    def writes(self) -> list[AwsCall]:
        """Calls that are not Describe/List/Get (i.e. that may change something)."""
        return [call for call in self if not call.operation.startswith(("Describe", "List", "Get"))]

    def of(self, operation: str) -> list[AwsCall]:
        return [call for call in self if call.operation == operation]


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> AwsCalls:
    """Every boto3 client created during the test records its API calls here (clear() it after setting up)."""
    calls = AwsCalls()
    original = boto3.session.Session.client

    def _client(self: boto3.session.Session, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        region = client.meta.region_name
        user_agent = client.meta.config.user_agent or ""

        def _record(params: dict[str, Any], model: Any, **_: Any) -> None:
            calls.append(AwsCall(region, model.name, dict(params), user_agent))

        client.meta.events.register("before-parameter-build", _record)
        return client

    monkeypatch.setattr(boto3.session.Session, "client", _client)
    return calls


class FakeClock:
    """Stands in for a waiting module's ``_clock`` and ``_sleep``: each sleep advances the clock and then runs the
    next scripted step (``steps``: callables that change the world between two polls, e.g. stop a task)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.steps: list[Callable[[], None]] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.steps:
            self.steps.pop(0)()


@pytest.fixture
def clock(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """A :class:`FakeClock` installed where the test file's waits read the time: its ``clock_under_test`` (a shared
    module_utils file), else its ``module_under_test`` (their ``_clock`` and ``_sleep``)."""
    fake = FakeClock()
    target = getattr(request.module, "clock_under_test", None) or request.module.module_under_test
    monkeypatch.setattr(target, "_clock", fake.clock)
    monkeypatch.setattr(target, "_sleep", fake.sleep)
    return fake


@pytest.fixture
def mixed_group() -> Callable[..., Any]:
    """Makes (inside the test's ``mock_aws``) a mixed-instances Auto Scaling group of t3.small/t3a.small on a launch
    template in a new VPC subnet; returns the autoscaling client."""

    def create(region: str, name: str, min_size: int = 1, desired: int = 2, distribution: dict | None = None) -> Any:
        ec2 = boto3.client("ec2", region_name=region)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone=region + "a")["Subnet"][
            "SubnetId"
        ]
        template = ec2.create_launch_template(
            LaunchTemplateName=name + "-lt", LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.small"}
        )["LaunchTemplate"]["LaunchTemplateId"]
        policy: dict[str, Any] = {
            "LaunchTemplate": {
                "LaunchTemplateSpecification": {"LaunchTemplateId": template, "Version": "1"},
                "Overrides": [{"InstanceType": "t3.small"}, {"InstanceType": "t3a.small"}],
            },
        }
        if distribution:
            policy["InstancesDistribution"] = distribution
        client = boto3.client("autoscaling", region_name=region)
        client.create_auto_scaling_group(
            AutoScalingGroupName=name,
            MinSize=min_size,
            MaxSize=4,
            DesiredCapacity=desired,
            VPCZoneIdentifier=subnet,
            MixedInstancesPolicy=policy,
        )
        return client

    return create


def _same_options(documented: dict[str, Any], specified: dict[str, Any], where: str) -> None:
    """Names, then type/default/choices/elements/required of each option, then the suboptions, alike."""
    from_fragment = {"tags", "purge_tags"} if "purge_tags" in specified else set()  # amazon.aws.tags documents them
    own = {name: option for name, option in documented.items() if name not in from_fragment}
    assert set(own) == set(specified) - from_fragment, where
    for name, option in own.items():
        spec = specified[name]
        keys = ("type", "default", "choices", "elements")
        assert tuple(option.get(k) for k in keys) + (option.get("required", False),) == tuple(
            spec.get(k) for k in keys
        ) + (spec.get("required", False),), where + name
        if "suboptions" in option or "options" in spec:
            _same_options(option.get("suboptions", {}), spec.get("options", {}), where + name + ".")


@pytest.fixture
def docs_match_spec() -> Callable[[Any], None]:
    """Asserts that a module's DOCUMENTATION options (nested ones too) have the argument spec's names, types,
    defaults, choices, elements and required flags, and that EXAMPLES and RETURN parse."""
    import yaml  # pylint: disable=import-outside-toplevel

    def documented(module: Any) -> dict[str, Any]:
        """The module's own options and those of the collection's doc fragments it extends (megapool.aws.<name>)."""
        import importlib  # pylint: disable=import-outside-toplevel

        doc = yaml.safe_load(module.DOCUMENTATION)
        options = dict(doc["options"])
        for fragment in doc.get("extends_documentation_fragment") or []:
            if fragment.startswith("megapool.aws."):
                name, _dot, variant = fragment[len("megapool.aws.") :].partition(".")
                source = importlib.import_module(
                    "ansible_collections.megapool.aws.plugins.doc_fragments." + name
                ).ModuleDocFragment
                options.update(yaml.safe_load(getattr(source, variant.upper() or "DOCUMENTATION")).get("options") or {})
        return options

    def check(module: Any) -> None:
        _same_options(documented(module), module.ARGUMENT_SPEC, "")
        yaml.safe_load(module.EXAMPLES)
        yaml.safe_load(module.RETURN)

    return check
