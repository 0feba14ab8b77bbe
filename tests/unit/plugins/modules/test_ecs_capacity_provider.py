# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.ecs_capacity_provider against moto in-process, with real Auto Scaling groups.

moto stores capacity providers but never scales. Where it differs from AWS, the test makes moto behave like AWS
(and says so): it ignores managedDraining on update, deletes at once (AWS: INACTIVE for a while) and deletes
providers that are attached to a cluster (AWS: DELETE_FAILED with the reason, or an error).
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.exceptions import JsonRESTError
from moto.ecs import models as ecs_models

from ansible_collections.megapool.aws.plugins.module_utils import base
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import SERVICE_LINKED_ROLE_RETRY_DELAYS
from ansible_collections.megapool.aws.plugins.modules import ecs_capacity_provider as module_under_test

REGION = "us-east-1"
NAME = "shop-capacity"
TAGS = {"megapool:env": "test", "megapool:cluster": "shop"}
ACCOUNT = "123456789012"


@pytest.fixture
def aws(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        yield


def _ecs():
    return boto3.client("ecs", region_name=REGION)


def _asg(name: str = "shop-prod", protected: bool = True) -> str:
    """An Auto Scaling group (no instances); returns its ARN."""
    client = boto3.client("autoscaling", region_name=REGION)
    client.create_launch_configuration(
        LaunchConfigurationName=name + "-lc", ImageId="ami-12c6146b", InstanceType="t3.micro"
    )
    client.create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchConfigurationName=name + "-lc",
        MinSize=0,
        MaxSize=4,
        AvailabilityZones=[REGION + "a"],
        NewInstancesProtectedFromScaleIn=protected,
    )
    return client.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0][
        "AutoScalingGroupARN"
    ]


def _args(asg_arn: str | None, **extra: Any) -> dict[str, Any]:
    args: dict[str, Any] = dict(name=NAME, region=REGION)
    if asg_arn is not None:
        args["auto_scaling_group_arn"] = asg_arn
    args.update(extra)
    return args


def _described(name: str = NAME) -> dict | None:
    found = _ecs().describe_capacity_providers(capacityProviders=[name], include=["TAGS"])["capacityProviders"]
    return found[0] if found else None


def _tags(provider: dict) -> dict[str, str]:
    return {tag["key"]: tag["value"] for tag in provider.get("tags") or []}


def _backend():
    return ecs_models.ecs_backends[ACCOUNT][REGION]


@pytest.fixture
def moto_updates_managed_draining(monkeypatch):
    """Make moto's UpdateCapacityProvider apply managedDraining, like AWS (moto 5.2.5 ignores it)."""
    original = ecs_models.CapacityProvider.update

    def _update(self, asg_details):
        original(self, asg_details)
        if "managedDraining" in asg_details:
            self.auto_scaling_group_provider["managedDraining"] = asg_details["managedDraining"]

    monkeypatch.setattr(ecs_models.CapacityProvider, "update", _update)


# ------------------------------------------------------------------------------------------ present


def test_creates_the_provider_with_managed_scaling_protection_draining_and_tags(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    asg_arn = _asg()
    aws_calls.clear()
    result = run_module(
        module_under_test.main,
        _args(
            asg_arn,
            managed_scaling=dict(target_capacity=90, maximum_scaling_step_size=4, instance_warmup_period=120),
            tags=TAGS,
        ),
        diff=True,
    )
    module_calls = list(aws_calls)

    assert result["changed"] is True, result
    provider = _described()
    assert provider["autoScalingGroupProvider"] == {
        "autoScalingGroupArn": asg_arn,
        "managedScaling": {
            "status": "ENABLED",
            "targetCapacity": 90,
            "minimumScalingStepSize": 1,
            "maximumScalingStepSize": 4,
            "instanceWarmupPeriod": 120,
        },
        "managedTerminationProtection": "ENABLED",
        "managedDraining": "ENABLED",
    }
    assert _tags(provider) == TAGS
    returned = result["capacity_provider"]
    assert returned["name"] == NAME
    assert returned["capacity_provider_arn"] == provider["capacityProviderArn"]
    assert returned["status"] == "ACTIVE"
    assert returned["tags"] == TAGS
    assert returned["auto_scaling_group_provider"] == {
        "auto_scaling_group_arn": asg_arn,
        "managed_scaling": {
            "status": "ENABLED",
            "target_capacity": 90,
            "minimum_scaling_step_size": 1,
            "maximum_scaling_step_size": 4,
            "instance_warmup_period": 120,
        },
        "managed_termination_protection": "ENABLED",
        "managed_draining": "ENABLED",
    }
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["managed_scaling"]["target_capacity"] == 90
    assert [call.operation for call in aws_calls.writes()] == ["CreateCapacityProvider"]
    create = aws_calls.of("CreateCapacityProvider")[0].params
    assert create["name"] == NAME
    assert sorted(create["tags"], key=lambda tag: tag["key"]) == [
        {"key": "megapool:cluster", "value": "shop"},
        {"key": "megapool:env", "value": "test"},
    ]
    assert [call.operation for call in module_calls] == [
        "DescribeCapacityProviders",
        "DescribeAutoScalingGroups",
        "CreateCapacityProvider",
        "DescribeCapacityProviders",
    ]
    assert all("megapool.aws/%s" % base.MEGAPOOL_AWS_COLLECTION_VERSION in call.user_agent for call in module_calls)


def test_second_run_changes_nothing_and_only_reads(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    asg_arn = _asg()
    first = run_module(module_under_test.main, _args(asg_arn, tags=TAGS), diff=True)
    assert first["changed"], first
    aws_calls.clear()

    second = run_module(module_under_test.main, _args(asg_arn, tags=TAGS), diff=True)

    assert second["changed"] is False, second
    assert aws_calls.writes() == []
    assert aws_calls.operations() == ["DescribeCapacityProviders", "DescribeAutoScalingGroups"]
    assert second["capacity_provider"] == first["capacity_provider"]
    assert second["diff"]["before"] == second["diff"]["after"] == first["diff"]["after"]


def test_check_mode_makes_no_change_and_predicts_the_real_run(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    asg_arn = _asg()
    args = _args(asg_arn, managed_scaling=dict(target_capacity=75), tags=TAGS)
    aws_calls.clear()

    checked = run_module(module_under_test.main, args, check_mode=True, diff=True)

    assert checked["changed"] is True, checked
    assert aws_calls.writes() == []
    assert _described() is None
    assert checked["capacity_provider"]["capacity_provider_arn"] is None

    applied = run_module(module_under_test.main, args, diff=True)
    assert applied["diff"] == checked["diff"]
    assert dict(applied["capacity_provider"], capacity_provider_arn=None) == checked["capacity_provider"]


def test_check_mode_copes_with_a_group_that_does_not_exist_yet(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    missing_arn = (
        "arn:aws:autoscaling:%s:%s:autoScalingGroup:0b1c2d3e-aaaa-bbbb-cccc-0123456789ab:autoScalingGroupName/not-yet"
        % (REGION, ACCOUNT)
    )
    for args in (_args(missing_arn), _args(""), _args(None)):
        result = run_module(module_under_test.main, args, check_mode=True, diff=True)
        assert result["changed"] is True, result
        assert not result.get("warnings"), result
    assert aws_calls.writes() == []
    assert _described() is None


def test_a_group_that_does_not_exist_fails_outside_check_mode(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    missing_arn = (
        "arn:aws:autoscaling:%s:%s:autoScalingGroup:0b1c2d3e-aaaa-bbbb-cccc-0123456789ab:autoScalingGroupName/not-yet"
        % (REGION, ACCOUNT)
    )
    result = run_module(module_under_test.main, _args(missing_arn))
    assert result["failed"] is True
    assert "Auto Scaling group not-yet not found in us-east-1" in result["msg"]
    assert aws_calls.writes() == []


def test_a_stale_group_arn_is_refused(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    asg_arn = _asg()
    stale = asg_arn.replace(asg_arn.split(":")[6], "0b1c2d3e-aaaa-bbbb-cccc-0123456789ab")
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(stale))
    assert result["failed"] is True
    assert "is not the ARN of Auto Scaling group shop-prod, which is %s" % asg_arn in result["msg"]
    assert aws_calls.writes() == []


@pytest.mark.parametrize(
    "change, expected_update",
    [
        pytest.param(
            dict(
                managed_scaling=dict(
                    target_capacity=80,
                    minimum_scaling_step_size=2,
                    maximum_scaling_step_size=5,
                    instance_warmup_period=60,
                )
            ),
            {
                "status": "ENABLED",
                "targetCapacity": 80,
                "minimumScalingStepSize": 2,
                "maximumScalingStepSize": 5,
                "instanceWarmupPeriod": 60,
            },
            id="scaling",
        ),
        pytest.param(
            dict(managed_scaling=dict(status="disabled"), managed_termination_protection="disabled"),
            {
                "status": "DISABLED",
                "targetCapacity": 100,
                "minimumScalingStepSize": 1,
                "maximumScalingStepSize": 10000,
                "instanceWarmupPeriod": 300,
            },
            id="scaling-off",
        ),
    ],
)
def test_updates_what_differs_then_is_idempotent(aws, run_module, aws_calls, change, expected_update):  # pylint: disable=unused-argument
    asg_arn = _asg()
    assert run_module(module_under_test.main, _args(asg_arn))["changed"]
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(asg_arn, **change), diff=True)

    assert result["changed"] is True, result
    assert [call.operation for call in aws_calls.writes()] == ["UpdateCapacityProvider"]
    update = aws_calls.of("UpdateCapacityProvider")[0].params
    assert update["name"] == NAME
    assert "autoScalingGroupArn" not in update["autoScalingGroupProvider"]
    assert update["autoScalingGroupProvider"]["managedScaling"] == expected_update
    assert _described()["autoScalingGroupProvider"]["managedScaling"] == expected_update
    assert result["diff"]["before"]["managed_scaling"]["target_capacity"] == 100
    assert (
        result["capacity_provider"]["auto_scaling_group_provider"]["managed_scaling"]["target_capacity"]
        == expected_update["targetCapacity"]
    )
    assert not result.get("warnings")
    assert run_module(module_under_test.main, _args(asg_arn, **change))["changed"] is False


def test_managed_draining_off_and_on_again(aws, run_module, moto_updates_managed_draining):  # pylint: disable=unused-argument
    asg_arn = _asg()
    run_module(module_under_test.main, _args(asg_arn))
    off = run_module(module_under_test.main, _args(asg_arn, managed_draining="disabled"), diff=True)
    assert off["changed"] is True
    assert (off["diff"]["before"]["managed_draining"], off["diff"]["after"]["managed_draining"]) == (
        "ENABLED",
        "DISABLED",
    )
    assert _described()["autoScalingGroupProvider"]["managedDraining"] == "DISABLED"
    assert run_module(module_under_test.main, _args(asg_arn, managed_draining="disabled"))["changed"] is False
    assert run_module(module_under_test.main, _args(asg_arn))["changed"] is True
    assert _described()["autoScalingGroupProvider"]["managedDraining"] == "ENABLED"


def test_an_endpoint_that_ignores_an_update_is_reported(aws, run_module):  # pylint: disable=unused-argument
    # Plain moto: UpdateCapacityProvider ignores managedDraining. The module says so instead of hiding it.
    asg_arn = _asg()
    run_module(module_under_test.main, _args(asg_arn))
    result = run_module(module_under_test.main, _args(asg_arn, managed_draining="disabled"))
    assert result["changed"] is True
    assert any("still reports managedDraining" in warning for warning in result["warnings"]), result


@pytest.mark.parametrize(
    "new_tags, purge, expected, writes",
    [
        pytest.param(
            {"megapool:env": "test", "team": "core"},
            True,
            {"megapool:env": "test", "team": "core"},
            ["UntagResource", "TagResource"],
            id="purge",
        ),
        pytest.param({"team": "core"}, False, dict(TAGS, team="core"), ["TagResource"], id="no-purge"),
        pytest.param({"megapool:env": "test"}, True, {"megapool:env": "test"}, ["UntagResource"], id="remove-only"),
        pytest.param(None, True, TAGS, [], id="tags-unset-leaves-tags-alone"),
    ],
)
def test_tags_update(aws, run_module, aws_calls, new_tags, purge, expected, writes):  # pylint: disable=unused-argument
    asg_arn = _asg()
    run_module(module_under_test.main, _args(asg_arn, tags=TAGS))
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(asg_arn, tags=new_tags, purge_tags=purge), diff=True)

    assert result["changed"] is bool(writes), result
    assert [call.operation for call in aws_calls.writes()] == writes
    assert _tags(_described()) == expected
    assert result["capacity_provider"]["tags"] == expected
    assert result["diff"]["after"]["tags"] == expected
    assert run_module(module_under_test.main, _args(asg_arn, tags=new_tags, purge_tags=purge))["changed"] is False


# ------------------------------------------------------------------------------------------ refusals


def test_another_group_for_an_existing_provider_fails_naming_the_fix(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    first_arn = _asg("shop-prod")
    second_arn = _asg("shop-next")
    run_module(module_under_test.main, _args(first_arn))
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(second_arn))

    assert result["failed"] is True
    assert "uses the Auto Scaling group %s, not %s" % (first_arn, second_arn) in result["msg"]
    assert "Delete it and create it again" in result["msg"]
    assert "new name" in result["msg"]
    assert aws_calls.writes() == []
    assert _described()["autoScalingGroupProvider"]["autoScalingGroupArn"] == first_arn


def test_protection_needs_a_group_that_protects_new_instances(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    asg_arn = _asg(protected=False)
    aws_calls.clear()

    result = run_module(module_under_test.main, _args(asg_arn))

    assert result["failed"] is True
    assert "shop-prod does not (NewInstancesProtectedFromScaleIn is off)" in result["msg"]
    assert "managed_termination_protection=disabled" in result["msg"]
    assert aws_calls.writes() == []
    assert _described() is None

    checked = run_module(module_under_test.main, _args(asg_arn), check_mode=True)
    assert checked["changed"] is True, checked
    assert any("NewInstancesProtectedFromScaleIn is off" in warning for warning in checked["warnings"])

    unprotected = run_module(module_under_test.main, _args(asg_arn, managed_termination_protection="disabled"))
    assert unprotected["changed"] is True, unprotected
    assert _described()["autoScalingGroupProvider"]["managedTerminationProtection"] == "DISABLED"


@pytest.mark.parametrize(
    "extra, message",
    [
        pytest.param(
            dict(managed_scaling=dict(target_capacity=0)),
            "managed_scaling.target_capacity must be between 1 and 100, got 0",
            id="target-0",
        ),
        pytest.param(dict(managed_scaling=dict(target_capacity=101)), "got 101", id="target-101"),
        pytest.param(
            dict(managed_scaling=dict(minimum_scaling_step_size=0)),
            "minimum_scaling_step_size must be between 1 and 10000",
            id="min-step",
        ),
        pytest.param(
            dict(managed_scaling=dict(maximum_scaling_step_size=20000)),
            "maximum_scaling_step_size must be between 1 and 10000",
            id="max-step",
        ),
        pytest.param(
            dict(managed_scaling=dict(minimum_scaling_step_size=10, maximum_scaling_step_size=5)),
            "minimum_scaling_step_size (10) must not be greater than managed_scaling.maximum_scaling_step_size (5)",
            id="min-above-max",
        ),
        pytest.param(
            dict(managed_scaling=dict(instance_warmup_period=-5)),
            "instance_warmup_period must be between 0 and 10000",
            id="warmup",
        ),
        pytest.param(
            dict(managed_scaling=dict(status="disabled")),
            "needs managed_scaling.status=enabled",
            id="protection-without-scaling",
        ),
        pytest.param(
            dict(auto_scaling_group_arn=None), "auto_scaling_group_arn is required with state=present", id="no-arn"
        ),
        pytest.param(dict(auto_scaling_group_arn="shop-prod"), "is not an Auto Scaling group ARN", id="not-an-arn"),
        pytest.param(dict(name="ecs-shop"), "cannot start with 'aws', 'ecs' or 'fargate'", id="reserved-name"),
    ],
)
def test_invalid_input_fails_before_any_aws_call(aws, run_module, aws_calls, extra, message):  # pylint: disable=unused-argument
    asg_arn = _asg()
    aws_calls.clear()
    args = _args(asg_arn)
    args.update(extra)
    args = {key: value for key, value in args.items() if value is not None}
    result = run_module(module_under_test.main, args)
    assert result["failed"] is True
    assert message in result["msg"]
    assert aws_calls == []


# ------------------------------------------------------------------------------------------ absent


def test_absent_deletes_and_is_idempotent(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    asg_arn = _asg()
    created = run_module(module_under_test.main, _args(asg_arn, tags=TAGS), diff=True)

    checked = run_module(module_under_test.main, _args(None, state="absent"), check_mode=True, diff=True)
    assert checked["changed"] is True
    assert _described() is not None, "check mode deleted it"

    aws_calls.clear()
    removed = run_module(module_under_test.main, _args(None, state="absent"), diff=True)
    assert removed["changed"] is True, removed
    assert [call.operation for call in aws_calls.writes()] == ["DeleteCapacityProvider"]
    assert removed["capacity_provider"] == {}
    assert removed["diff"] == checked["diff"] == {"before": created["diff"]["after"], "after": {}}
    assert _described() is None

    aws_calls.clear()
    again = run_module(module_under_test.main, _args(None, state="absent"))
    assert again["changed"] is False, again
    assert aws_calls.writes() == []


def test_an_inactive_provider_counts_as_absent(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    # AWS keeps a deleted provider listed as INACTIVE for a while (moto removes it at once).
    asg_arn = _asg()
    run_module(module_under_test.main, _args(asg_arn))
    stored = _backend().capacity_providers[NAME]
    stored.status = "INACTIVE"
    stored.update_status = "DELETE_COMPLETE"
    aws_calls.clear()

    gone = run_module(module_under_test.main, _args(None, state="absent"))
    assert gone["changed"] is False, gone
    assert aws_calls.writes() == []

    recreated = run_module(module_under_test.main, _args(asg_arn), diff=True)
    assert recreated["changed"] is True
    assert recreated["diff"]["before"] == {}
    assert [call.operation for call in aws_calls.writes()] == ["CreateCapacityProvider"]


def test_a_provider_being_deleted_blocks_a_new_one_with_a_clear_message(aws, run_module, aws_calls):  # pylint: disable=unused-argument
    asg_arn = _asg()
    run_module(module_under_test.main, _args(asg_arn))
    _backend().capacity_providers[NAME].update_status = "DELETE_IN_PROGRESS"
    aws_calls.clear()

    assert run_module(module_under_test.main, _args(None, state="absent"))["changed"] is False
    result = run_module(module_under_test.main, _args(asg_arn))
    assert result["failed"] is True
    assert "still being deleted (DELETE_IN_PROGRESS)" in result["msg"]
    assert aws_calls.writes() == []


def _attach(cluster: str) -> None:
    _ecs().create_cluster(clusterName=cluster, capacityProviders=[NAME])


def test_deleting_a_provider_attached_to_a_cluster_fails_naming_the_cluster(aws, run_module, monkeypatch):  # pylint: disable=unused-argument
    # AWS answers DeleteCapacityProvider on an attached provider with updateStatus DELETE_FAILED and the reason
    # (moto deletes it): make moto answer like AWS.
    def _delete_like_aws(self, name_or_arn):
        provider = self._get_provider(name_or_arn)  # pylint: disable=protected-access
        users = [c.name for c in self.clusters.values() if provider.name in (c.capacity_providers or [])]
        if users:
            provider.update_status = "DELETE_FAILED"
            provider.update_status_reason = (
                "The capacity provider cannot be deleted because it is associated with cluster: %s. "
                "Remove the capacity provider from the cluster and try again." % users[0]
            )
            return provider
        provider.update_status = "DELETE_IN_PROGRESS"  # what AWS answers; moto then forgets it (AWS: INACTIVE)
        return self.capacity_providers.pop(provider.name)

    monkeypatch.setattr(ecs_models.EC2ContainerServiceBackend, "delete_capacity_provider", _delete_like_aws)
    asg_arn = _asg()
    run_module(module_under_test.main, _args(asg_arn))
    _ecs().create_cluster(clusterName="unrelated")
    _attach("shop-prod")

    result = run_module(module_under_test.main, _args(None, state="absent"))

    assert result["failed"] is True
    assert (
        "Could not delete capacity provider shop-capacity: "
        "The capacity provider cannot be deleted because it is associated with cluster: shop-prod"
    ) in result["msg"]
    assert "It is attached to ECS cluster shop-prod." in result["msg"]
    assert "Remove it from the cluster's capacity providers" in result["msg"]
    assert _described() is not None

    _ecs().put_cluster_capacity_providers(cluster="shop-prod", capacityProviders=[], defaultCapacityProviderStrategy=[])
    detached = run_module(module_under_test.main, _args(None, state="absent"))
    assert detached["changed"] is True, detached
    assert _described() is None


def test_an_in_use_error_names_the_clusters(aws, run_module, monkeypatch):  # pylint: disable=unused-argument
    # The other way AWS refuses (e.g. while services still use the provider): an error.
    def _refuse(self, name_or_arn):  # pylint: disable=unused-argument
        raise JsonRESTError(
            "ResourceInUseException", "The specified capacity provider is in use and cannot be removed."
        )

    asg_arn = _asg()
    run_module(module_under_test.main, _args(asg_arn))
    _attach("shop-a")
    _attach("shop-b")
    monkeypatch.setattr(ecs_models.EC2ContainerServiceBackend, "delete_capacity_provider", _refuse)

    result = run_module(module_under_test.main, _args(None, state="absent"))

    assert result["failed"] is True
    assert "The specified capacity provider is in use and cannot be removed" in result["msg"]
    assert "It is attached to ECS cluster shop-a, shop-b." in result["msg"]


# ------------------------------------------------------------------------------------------ docs


def test_documented_options_match_the_argument_spec(docs_match_spec):
    docs_match_spec(module_under_test)


# ------------------------------------------------------------------------------- ECS service-linked role


@pytest.fixture
def aws_like_account(aws, monkeypatch, clock):  # pylint: disable=unused-argument
    """moto with the emulator's ecs_agent patch: no ECS service-linked role until someone creates it (as on AWS); the
    module's pauses on the fake clock (``clock``)."""
    from emulator_ext import ecs_agent  # pylint: disable=import-outside-toplevel

    ecs_agent.install(monkeypatch)
    return ecs_agent


def _iam_roles() -> list[str]:
    return [role["RoleName"] for role in boto3.client("iam", region_name=REGION).list_roles()["Roles"]]


def test_account_without_ecs_role_gets_it_then_the_provider(aws_like_account, run_module, aws_calls, clock):
    asg_arn = _asg()
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(asg_arn, tags=TAGS))
    assert result["changed"] is True, result
    assert _described()["name"] == NAME
    assert aws_like_account.ECS_ROLE_NAME in _iam_roles()
    assert [call.operation for call in aws_calls.writes()] == [
        "CreateCapacityProvider",
        "CreateServiceLinkedRole",
        "CreateCapacityProvider",
    ]
    assert clock.sleeps == [2]


def test_a_role_ecs_never_sees_fails_after_the_retry_schedule(
    aws_like_account, run_module, aws_calls, clock, monkeypatch
):
    """IAM propagation that never reaches ECS: the role is created once, CreateCapacityProvider is tried 8 times over
    the schedule's 74 s (2, 4, 8, 15, 15, 15, 15), then ECS's own refusal is the error."""
    asg_arn = _asg()

    def _refuse(self, *args, **kwargs):
        from moto.ecs.exceptions import EcsClientException  # pylint: disable=import-outside-toplevel

        raise EcsClientException(aws_like_account.SLR_MISSING)

    monkeypatch.setattr(ecs_models.EC2ContainerServiceBackend, "create_capacity_provider", _refuse)
    aws_calls.clear()
    result = run_module(module_under_test.main, _args(asg_arn))
    assert result.get("failed") is True, result
    assert (
        "Failed to create the capacity provider" in result["msg"] and "service linked role" in result["msg"].lower()
    ), result["msg"]
    assert clock.sleeps == list(SERVICE_LINKED_ROLE_RETRY_DELAYS)
    assert [call.operation for call in aws_calls.writes()] == ["CreateCapacityProvider", "CreateServiceLinkedRole"] + [
        "CreateCapacityProvider"
    ] * 7


def test_role_created_meanwhile_counts_as_created(aws_like_account, run_module, monkeypatch):
    """IAM answers "has been taken" when the role exists (CreateCluster made it): the module goes on."""
    asg_arn = _asg()
    boto3.client("iam", region_name=REGION).create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    # ECS has not seen the role yet (IAM propagation): the first CreateCapacityProvider still refuses.
    original = ecs_models.EC2ContainerServiceBackend.create_capacity_provider
    refusals = [1]

    def _not_yet(self, *args, **kwargs):
        if refusals:
            refusals.pop()
            from moto.ecs.exceptions import EcsClientException  # pylint: disable=import-outside-toplevel

            raise EcsClientException(aws_like_account.SLR_MISSING)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ecs_models.EC2ContainerServiceBackend, "create_capacity_provider", _not_yet)
    result = run_module(module_under_test.main, _args(asg_arn))
    assert result["changed"] is True, result
    assert _described()["name"] == NAME


def test_other_client_errors_are_not_retried(aws_like_account, run_module, monkeypatch):
    asg_arn = _asg()
    boto3.client("iam", region_name=REGION).create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    calls = []

    def _refuse(self, *args, **kwargs):
        calls.append(1)
        from moto.ecs.exceptions import EcsClientException  # pylint: disable=import-outside-toplevel

        raise EcsClientException("The specified Auto Scaling group is already in use.")

    monkeypatch.setattr(ecs_models.EC2ContainerServiceBackend, "create_capacity_provider", _refuse)
    result = run_module(module_under_test.main, _args(asg_arn))
    assert result.get("failed") is True, result
    assert "already in use" in result["msg"]
    assert calls == [1]
