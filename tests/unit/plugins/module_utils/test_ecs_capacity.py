# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ECS capacity planners as pure functions: capacity providers and container-instance draining."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import CapacityError
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import DrainError
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import ProviderPlan
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import asg_name_from_arn
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import deleting_provider
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import drain_progress
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import instance_key
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import instance_record
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import is_drained
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import lifecycle_pending
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import live_provider
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import not_applied
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import plan_provider
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import plan_states
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import predict_provider
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import predict_states
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import provider_result
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import provider_view
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import resolve_instances
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import status_view
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import still_busy
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import tasks_left
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import timeout_message
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import unknown_message
from ansible_collections.megapool.aws.plugins.module_utils.ecs_container_instance_drain import validate_drain
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import validate_provider

ASG_ARN = "arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:0b1c2d3e-aaaa-bbbb-cccc-0123456789ab:autoScalingGroupName/shop-prod"
OTHER_ASG_ARN = "arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:99999999-aaaa-bbbb-cccc-0123456789ab:autoScalingGroupName/shop-new"
PROVIDER_ARN = "arn:aws:ecs:eu-west-1:123456789012:capacity-provider/shop-capacity"
DEFAULT_SCALING = dict(
    status="enabled",
    target_capacity=100,
    minimum_scaling_step_size=1,
    maximum_scaling_step_size=10000,
    instance_warmup_period=300,
)


def _params(**overrides) -> dict:
    """Module options as Ansible hands them over (defaults applied)."""
    scaling = dict(DEFAULT_SCALING, **overrides.pop("managed_scaling", {}))
    params = dict(
        name="shop-capacity",
        state="present",
        auto_scaling_group_arn=ASG_ARN,
        managed_scaling=scaling,
        managed_termination_protection="enabled",
        managed_draining="enabled",
        tags=None,
        purge_tags=True,
    )
    params.update(overrides)
    return params


def _aws(desired=None, tags=None, **group_overrides) -> dict:
    """A provider as DescribeCapacityProviders returns it, matching ``desired`` (the defaults) unless overridden."""
    desired = desired or validate_provider(_params())
    group = dict(desired.asg_provider(), **group_overrides)
    return {
        "capacityProviderArn": PROVIDER_ARN,
        "name": desired.name,
        "status": "ACTIVE",
        "autoScalingGroupProvider": group,
        "updateStatus": "UPDATE_COMPLETE",
        "tags": [{"key": key, "value": value} for key, value in (tags or {}).items()],
    }


# ------------------------------------------------------------------------------------------ validate_provider


def test_defaults_make_an_enabled_provider():
    desired = validate_provider(_params())
    assert desired.name == "shop-capacity"
    assert desired.auto_scaling_group_arn == ASG_ARN
    assert desired.auto_scaling_group_name == "shop-prod"
    assert desired.asg_provider() == {
        "autoScalingGroupArn": ASG_ARN,
        "managedScaling": {
            "status": "ENABLED",
            "targetCapacity": 100,
            "minimumScalingStepSize": 1,
            "maximumScalingStepSize": 10000,
            "instanceWarmupPeriod": 300,
        },
        "managedTerminationProtection": "ENABLED",
        "managedDraining": "ENABLED",
    }
    assert "autoScalingGroupArn" not in desired.asg_provider_update()


def test_absent_needs_only_a_name():
    assert validate_provider(dict(name="shop-capacity", state="absent")) is None


@pytest.mark.parametrize(
    "overrides, message",
    [
        pytest.param(
            dict(managed_scaling=dict(target_capacity=0)),
            "managed_scaling.target_capacity must be between 1 and 100, got 0",
            id="target-0",
        ),
        pytest.param(
            dict(managed_scaling=dict(target_capacity=101)),
            "managed_scaling.target_capacity must be between 1 and 100, got 101",
            id="target-101",
        ),
        pytest.param(
            dict(managed_scaling=dict(minimum_scaling_step_size=0)),
            "minimum_scaling_step_size must be between 1 and 10000, got 0",
            id="min-0",
        ),
        pytest.param(
            dict(managed_scaling=dict(maximum_scaling_step_size=10001)),
            "maximum_scaling_step_size must be between 1 and 10000, got 10001",
            id="max-10001",
        ),
        pytest.param(
            dict(managed_scaling=dict(minimum_scaling_step_size=5, maximum_scaling_step_size=2)),
            "managed_scaling.minimum_scaling_step_size (5) must not be greater than managed_scaling.maximum_scaling_step_size (2)",
            id="min-above-max",
        ),
        pytest.param(
            dict(managed_scaling=dict(instance_warmup_period=-1)),
            "instance_warmup_period must be between 0 and 10000, got -1",
            id="warmup",
        ),
        pytest.param(
            dict(managed_scaling=dict(status="disabled")),
            "managed_termination_protection=enabled needs managed_scaling.status=enabled",
            id="protection-without-scaling",
        ),
        pytest.param(
            dict(auto_scaling_group_arn=None), "auto_scaling_group_arn is required with state=present", id="no-arn"
        ),
        pytest.param(
            dict(auto_scaling_group_arn="shop-prod"),
            "auto_scaling_group_arn='shop-prod' is not an Auto Scaling group ARN",
            id="name-not-arn",
        ),
        pytest.param(dict(name="ecs-hosts"), "cannot start with 'aws', 'ecs' or 'fargate'", id="reserved-ecs"),
        pytest.param(dict(name="FargateMine"), "cannot start with 'aws', 'ecs' or 'fargate'", id="reserved-fargate"),
        pytest.param(dict(name="shop capacity"), "is not a valid capacity provider name", id="space"),
        pytest.param(dict(name="x" * 256), "is not a valid capacity provider name", id="too-long"),
        pytest.param(dict(name=""), "is not a valid capacity provider name", id="empty"),
    ],
)
def test_invalid_options_are_refused_with_the_option_named(overrides, message):
    with pytest.raises(CapacityError) as error:
        validate_provider(_params(**overrides))
    assert message in str(error.value)


def test_all_problems_are_reported_at_once():
    with pytest.raises(CapacityError) as error:
        validate_provider(
            _params(
                auto_scaling_group_arn="",
                managed_scaling=dict(target_capacity=0, minimum_scaling_step_size=20, maximum_scaling_step_size=10),
            )
        )
    text = str(error.value)
    assert "auto_scaling_group_arn is required" in text
    assert "target_capacity must be between" in text
    assert "must not be greater than" in text


def test_check_mode_accepts_a_group_that_does_not_exist_yet():
    desired = validate_provider(_params(auto_scaling_group_arn=""), check_mode=True)
    assert desired.auto_scaling_group_arn is None
    assert desired.auto_scaling_group_name is None
    with pytest.raises(CapacityError):
        validate_provider(_params(auto_scaling_group_arn="not-an-arn"), check_mode=True)


def test_protection_may_be_off_without_managed_scaling():
    desired = validate_provider(
        _params(
            managed_termination_protection="disabled",
            managed_draining="disabled",
            managed_scaling=dict(status="disabled"),
        )
    )
    assert desired.asg_provider_update() == {
        "managedScaling": dict(
            status="DISABLED",
            targetCapacity=100,
            minimumScalingStepSize=1,
            maximumScalingStepSize=10000,
            instanceWarmupPeriod=300,
        ),
        "managedTerminationProtection": "DISABLED",
        "managedDraining": "DISABLED",
    }


@pytest.mark.parametrize(
    "arn, name",
    [
        (ASG_ARN, "shop-prod"),
        ("arn:aws-cn:autoscaling:cn-north-1:123456789012:autoScalingGroup:abc:autoScalingGroupName/a/b", "a/b"),
        ("arn:aws:ecs:eu-west-1:123456789012:cluster/shop", None),
        ("", None),
    ],
)
def test_asg_name_from_arn(arn, name):
    assert asg_name_from_arn(arn) == name


@settings(max_examples=150, deadline=None)
@given(
    target=st.integers(-5, 110),
    low=st.integers(-2, 10010),
    high=st.integers(-2, 10010),
    warmup=st.integers(-5, 10010),
)
def test_validation_accepts_exactly_the_aws_ranges(target, low, high, warmup):
    params = _params(
        managed_scaling=dict(
            target_capacity=target,
            minimum_scaling_step_size=low,
            maximum_scaling_step_size=high,
            instance_warmup_period=warmup,
        )
    )
    valid = 1 <= target <= 100 and 1 <= low <= 10000 and 1 <= high <= 10000 and low <= high and 0 <= warmup <= 10000
    if valid:
        scaling = validate_provider(params).managed_scaling
        got = (
            scaling["targetCapacity"],
            scaling["minimumScalingStepSize"],
            scaling["maximumScalingStepSize"],
            scaling["instanceWarmupPeriod"],
        )
        assert got == (target, low, high, warmup)
    else:
        with pytest.raises(CapacityError):
            validate_provider(params)


# ------------------------------------------------------------------------------------------ live_provider


@pytest.mark.parametrize(
    "status, update_status, live",
    [
        ("ACTIVE", None, True),
        ("ACTIVE", "UPDATE_COMPLETE", True),
        ("ACTIVE", "UPDATE_FAILED", True),
        ("ACTIVE", "DELETE_FAILED", True),  # still attached to a cluster: it exists
        ("ACTIVE", "DELETE_IN_PROGRESS", False),
        ("INACTIVE", "DELETE_COMPLETE", False),
        ("INACTIVE", None, False),
    ],
)
def test_inactive_and_deleting_providers_count_as_absent(status, update_status, live):
    provider = dict(_aws(), status=status, updateStatus=update_status)
    assert (live_provider([provider], "shop-capacity") is provider) is live
    assert live_provider([provider], "other") is None


def test_the_live_provider_wins_over_an_inactive_namesake():
    old = dict(_aws(), status="INACTIVE", updateStatus="DELETE_COMPLETE", capacityProviderArn=PROVIDER_ARN + "-old")
    new = _aws()
    assert live_provider([old, new], "shop-capacity") is new
    assert deleting_provider([old, new], "shop-capacity") is None
    going = dict(_aws(), updateStatus="DELETE_IN_PROGRESS")
    assert deleting_provider([old, going], "shop-capacity") is going


# ------------------------------------------------------------------------------------------ plan_provider


def test_plan_create_update_delete_none():
    desired = validate_provider(_params())
    assert plan_provider(None, desired) == ProviderPlan(action="create", changes=("state",))
    assert plan_provider(_aws(), desired) == ProviderPlan()
    assert not plan_provider(_aws(), desired).changed
    assert plan_provider(_aws(), None) == ProviderPlan(action="delete", changes=("state",))
    assert plan_provider(None, None) == ProviderPlan()


@pytest.mark.parametrize(
    "scaling, other, changes",
    [
        pytest.param(dict(target_capacity=80), {}, ("managedScaling.targetCapacity",), id="target"),
        pytest.param(
            dict(minimum_scaling_step_size=2, maximum_scaling_step_size=4),
            {},
            ("managedScaling.minimumScalingStepSize", "managedScaling.maximumScalingStepSize"),
            id="steps",
        ),
        pytest.param(dict(instance_warmup_period=60), {}, ("managedScaling.instanceWarmupPeriod",), id="warmup"),
        pytest.param({}, dict(managed_draining="disabled"), ("managedDraining",), id="draining"),
        pytest.param(
            {}, dict(managed_termination_protection="disabled"), ("managedTerminationProtection",), id="protection"
        ),
        pytest.param(
            dict(status="disabled"),
            dict(managed_termination_protection="disabled"),
            ("managedScaling.status", "managedTerminationProtection"),
            id="scaling-off",
        ),
    ],
)
def test_plan_updates_what_differs(scaling, other, changes):
    desired = validate_provider(_params(managed_scaling=scaling, **other))
    plan = plan_provider(_aws(), desired)
    assert plan.action == "update"
    assert plan.changes == changes
    assert plan.changed


def test_a_provider_from_before_managed_draining_gets_it():
    current = _aws()
    del current["autoScalingGroupProvider"]["managedDraining"]
    assert plan_provider(current, validate_provider(_params())).changes == ("managedDraining",)


def test_another_auto_scaling_group_is_refused_with_the_fix():
    desired = validate_provider(_params(auto_scaling_group_arn=OTHER_ASG_ARN))
    with pytest.raises(CapacityError) as error:
        plan_provider(_aws(), desired)
    text = str(error.value)
    assert "shop-capacity uses the Auto Scaling group %s, not %s" % (ASG_ARN, OTHER_ASG_ARN) in text
    assert "Delete it and create it again" in text
    assert "new name" in text


def test_an_unknown_group_in_check_mode_is_not_compared():
    desired = validate_provider(_params(auto_scaling_group_arn=""), check_mode=True)
    assert plan_provider(_aws(), desired) == ProviderPlan()


@pytest.mark.parametrize(
    "current, wanted, purge, to_set, to_unset",
    [
        pytest.param({"a": "1"}, {"a": "1"}, True, {}, (), id="same"),
        pytest.param({"a": "1"}, {"a": "2", "b": "3"}, True, {"a": "2", "b": "3"}, (), id="change-and-add"),
        pytest.param({"a": "1", "old": "x"}, {"a": "1"}, True, {}, ("old",), id="purge"),
        pytest.param({"a": "1", "old": "x"}, {"a": "1"}, False, {}, (), id="no-purge"),
        pytest.param({"aws:cloudformation:stack-name": "s"}, {}, True, {}, (), id="aws-tags-stay"),
        pytest.param({}, {"n": 5}, True, {"n": "5"}, (), id="values-as-text"),
    ],
)
def test_plan_tags(current, wanted, purge, to_set, to_unset):
    desired = validate_provider(_params())
    plan = plan_provider(_aws(tags=current), desired, tags=wanted, purge_tags=purge)
    assert plan.action == "none"
    assert dict(plan.tags_to_set) == to_set
    assert plan.tags_to_unset == to_unset
    assert plan.changed is bool(to_set or to_unset)
    assert ("tags" in plan.changes) is plan.changed


def test_tags_none_leaves_tags_alone():
    assert plan_provider(_aws(tags={"a": "1"}), validate_provider(_params()), tags=None) == ProviderPlan()


# ------------------------------------------------------------------------------------------ predict, result, view


def test_predicted_new_provider_has_no_arn_and_the_tags():
    desired = validate_provider(_params())
    plan = plan_provider(None, desired, {"b": "2", "a": "1"})
    after = predict_provider(None, desired, plan, {"b": "2", "a": "1"})
    assert after["capacityProviderArn"] is None
    assert after["status"] == "ACTIVE"
    assert after["autoScalingGroupProvider"] == desired.asg_provider()
    assert provider_result(after)["tags"] == {"a": "1", "b": "2"}
    assert predict_provider(_aws(), None, ProviderPlan(action="delete")) is None


_SCALING = st.fixed_dictionaries(
    dict(
        status=st.sampled_from(["enabled", "disabled"]),
        target_capacity=st.integers(1, 100),
        minimum_scaling_step_size=st.integers(1, 50),
        maximum_scaling_step_size=st.integers(50, 10000),
        instance_warmup_period=st.integers(0, 10000),
    )
)
_TAGS = st.dictionaries(st.sampled_from(["a", "b", "c", "megapool:env"]), st.sampled_from(["1", "2"]), max_size=3)


@settings(max_examples=200, deadline=None)
@given(
    before_scaling=_SCALING,
    after_scaling=_SCALING,
    draining=st.sampled_from(["enabled", "disabled"]),
    current_tags=_TAGS,
    wanted_tags=st.one_of(st.none(), _TAGS),
    purge=st.booleans(),
)
def test_applying_the_plan_converges(before_scaling, after_scaling, draining, current_tags, wanted_tags, purge):
    """predict(plan(current)) needs no further change, and the plan changes something iff the view differs."""

    def protection(scaling):
        return "enabled" if scaling["status"] == "enabled" else "disabled"

    current = _aws(
        validate_provider(
            _params(managed_scaling=before_scaling, managed_termination_protection=protection(before_scaling))
        ),
        tags=current_tags,
    )
    desired = validate_provider(
        _params(
            managed_scaling=after_scaling,
            managed_draining=draining,
            managed_termination_protection=protection(after_scaling),
        )
    )
    plan = plan_provider(current, desired, wanted_tags, purge)
    after = predict_provider(current, desired, plan, wanted_tags)
    assert plan_provider(after, desired, wanted_tags, purge) == ProviderPlan()
    assert plan.changed is (provider_view(after) != provider_view(current))
    assert not_applied(after, desired) == []


def test_result_is_snake_case_with_tags_as_a_dict():
    result = provider_result(dict(_aws(tags={"megapool:env": "prod"}), ResponseMetadata={"x": 1}))
    assert result == {
        "capacity_provider_arn": PROVIDER_ARN,
        "name": "shop-capacity",
        "status": "ACTIVE",
        "update_status": "UPDATE_COMPLETE",
        "auto_scaling_group_provider": {
            "auto_scaling_group_arn": ASG_ARN,
            "managed_scaling": {
                "status": "ENABLED",
                "target_capacity": 100,
                "minimum_scaling_step_size": 1,
                "maximum_scaling_step_size": 10000,
                "instance_warmup_period": 300,
            },
            "managed_termination_protection": "ENABLED",
            "managed_draining": "ENABLED",
        },
        "tags": {"megapool:env": "prod"},
    }
    assert provider_result(None) == {} == provider_view(None)


def test_view_is_compact():
    assert provider_view(_aws(tags={"a": "1"})) == {
        "name": "shop-capacity",
        "auto_scaling_group_arn": ASG_ARN,
        "managed_scaling": dict(
            status="ENABLED",
            target_capacity=100,
            minimum_scaling_step_size=1,
            maximum_scaling_step_size=10000,
            instance_warmup_period=300,
        ),
        "managed_termination_protection": "ENABLED",
        "managed_draining": "ENABLED",
        "tags": {"a": "1"},
    }


def test_not_applied_names_the_fields_an_endpoint_ignored():
    desired = validate_provider(_params(managed_draining="disabled"))
    assert not_applied(_aws(), desired) == ["managedDraining"]
    assert not_applied(None, desired) == []


# ------------------------------------------------------------------------------------------ draining: options

ARN = "arn:aws:ecs:eu-west-1:123456789012:container-instance/shop/%s"


def _drain_params(**overrides) -> dict:
    params = dict(
        cluster="shop",
        instance_ids=["i-0aaa"],
        container_instance_arns=[],
        state="draining",
        wait=True,
        wait_timeout=600,
        poll_interval=5.0,
        lifecycle_hook_name=None,
        auto_scaling_group_name=None,
        lifecycle_action_result="CONTINUE",
    )
    params.update(overrides)
    return params


def test_drain_request_defaults_and_dedup():
    request = validate_drain(
        _drain_params(instance_ids=["i-0aaa", "i-0bbb", "i-0aaa"], container_instance_arns=[ARN % "c1", ARN % "c1"])
    )
    assert request.instance_ids == ("i-0aaa", "i-0bbb")
    assert request.container_instance_arns == (ARN % "c1",)
    assert request.status == "DRAINING"
    assert not request.completes_lifecycle
    assert validate_drain(_drain_params(state="active")).status == "ACTIVE"
    hooked = validate_drain(_drain_params(lifecycle_hook_name="drain", auto_scaling_group_name="shop-prod"))
    assert hooked.completes_lifecycle
    assert not validate_drain(
        _drain_params(lifecycle_hook_name="drain", auto_scaling_group_name="shop-prod", state="active")
    ).completes_lifecycle


@pytest.mark.parametrize(
    "overrides, message",
    [
        pytest.param(dict(instance_ids=[], container_instance_arns=[]), "both are empty", id="nothing"),
        pytest.param(dict(instance_ids=[ARN % "c1"]), "instance_ids[0]='arn:", id="arn-as-id"),
        pytest.param(dict(instance_ids=["web-1"]), "instance_ids[0]='web-1' is not an EC2 instance id", id="not-an-id"),
        pytest.param(dict(container_instance_arns=[""]), "container_instance_arns[0] is empty", id="empty-arn"),
        pytest.param(dict(wait_timeout=-1), "wait_timeout must be 0 or more", id="timeout"),
        pytest.param(dict(poll_interval=0), "poll_interval must be more than 0", id="poll"),
        pytest.param(
            dict(lifecycle_hook_name="drain"),
            "lifecycle_hook_name and auto_scaling_group_name go together",
            id="hook-alone",
        ),
        pytest.param(
            dict(lifecycle_hook_name="ecs-managed-draining-termination-hook", auto_scaling_group_name="shop-prod"),
            "is the hook ECS adds for managed draining",
            id="ecs-managed-hook",
        ),
        pytest.param(dict(cluster=" "), "cluster is empty", id="cluster"),
    ],
)
def test_invalid_drain_options(overrides, message):
    with pytest.raises(DrainError) as error:
        validate_drain(_drain_params(**overrides))
    assert message in str(error.value)


# ------------------------------------------------------------------------------------------ draining: resolving


def _raw(number: int, status: str = "ACTIVE", running: int = 0, pending: int = 0) -> dict:
    """A container instance as DescribeContainerInstances returns it."""
    return {
        "containerInstanceArn": ARN % ("c%d" % number),
        "ec2InstanceId": "i-%04d" % number,
        "status": status,
        "runningTasksCount": running,
        "pendingTasksCount": pending,
        "agentConnected": True,
    }


def _record(number: int, status: str = "ACTIVE", tasks: int = 0) -> dict:
    return instance_record(_raw(number, status, running=tasks))


def test_instance_record():
    assert instance_record(_raw(1, running=2, pending=1)) == {
        "ec2_instance_id": "i-0001",
        "container_instance_arn": ARN % "c1",
        "status": "ACTIVE",
        "running_tasks_count": 2,
        "pending_tasks_count": 1,
    }


def test_resolve_by_id_arn_and_bare_id_in_request_order_each_once():
    described = [_raw(1), _raw(2), _raw(3), _raw(4)]
    found, unknown = resolve_instances(["i-0003", "i-0001"], [ARN % "c1", "c2", ARN % "c3"], described)
    assert unknown == []
    assert [record["ec2_instance_id"] for record in found] == ["i-0003", "i-0001", "i-0002"]


def test_resolve_reports_unknown_and_deregistered():
    described = [_raw(1), _raw(2, status="INACTIVE")]
    found, unknown = resolve_instances(["i-0001", "i-0002", "i-9999"], [ARN % "c7"], described)
    assert [record["ec2_instance_id"] for record in found] == ["i-0001"]
    assert unknown == ["i-0002", "i-9999", ARN % "c7"]
    message = unknown_message("shop", unknown)
    assert "Not registered in ECS cluster shop: i-0002, i-9999, %s" % (ARN % "c7") in message
    assert "nothing was changed" in message


def test_plan_and_predict_states():
    records = [_record(1), _record(2, status="DRAINING"), _record(3, status="REGISTERING")]
    assert [record["ec2_instance_id"] for record in plan_states(records, "DRAINING")] == ["i-0001", "i-0003"]
    assert [record["ec2_instance_id"] for record in plan_states(records, "ACTIVE")] == ["i-0002", "i-0003"]
    assert plan_states([_record(2, status="DRAINING")], "DRAINING") == []
    assert {record["status"] for record in predict_states(records, "DRAINING")} == {"DRAINING"}
    assert records[0]["status"] == "ACTIVE", "the input is not modified"
    assert status_view(records) == {"i-0001": "ACTIVE", "i-0002": "DRAINING", "i-0003": "REGISTERING"}


# ------------------------------------------------------------------------------------------ draining: progress


def test_tasks_left_counts_running_and_pending():
    records = [instance_record(_raw(1, running=2, pending=1)), _record(2)]
    assert tasks_left(records) == {"i-0001": 3, "i-0002": 0}
    assert still_busy(records) == {"i-0001": 3}
    assert [is_drained(record) for record in records] == [False, True]


def test_an_instance_without_ec2_id_is_named_by_its_arn():
    record = dict(_record(1), ec2_instance_id=None)
    assert instance_key(record) == ARN % "c1"
    assert tasks_left([record]) == {ARN % "c1": 0}


def test_drain_progress_reports_only_changes():
    polls = [
        [_record(1, tasks=3), _record(2, tasks=1)],
        [_record(1, tasks=3), _record(2, tasks=1)],
        [_record(1, tasks=1), _record(2, tasks=1)],
        [_record(1, tasks=1), _record(2, tasks=1)],
        [_record(1, tasks=0), _record(2, tasks=0)],
    ]
    events = [drain_progress(None, polls[0])]
    events += [drain_progress(before, now) for before, now in zip(polls, polls[1:])]
    assert events == [{"i-0001": 3, "i-0002": 1}, None, {"i-0001": 1, "i-0002": 1}, None, {"i-0001": 0, "i-0002": 0}]


def test_status_change_alone_is_no_progress():
    assert drain_progress([_record(1, tasks=2)], [_record(1, status="DRAINING", tasks=2)]) is None


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 5), min_size=3, max_size=3), min_size=1, max_size=8))
def test_progress_events_are_exactly_the_changes(counts):
    polls = [[_record(n, tasks=count) for n, count in enumerate(row)] for row in counts]
    events = [
        event
        for event in [drain_progress(None, polls[0])] + [drain_progress(b, a) for b, a in zip(polls, polls[1:])]
        if event is not None
    ]
    distinct = [row for index, row in enumerate(counts) if index == 0 or row != counts[index - 1]]
    assert [list(event.values()) for event in events] == distinct


def test_timeout_message_lists_the_instances_with_tasks():
    records = [_record(1, tasks=2), _record(2), _record(3, tasks=1)]
    message = timeout_message("shop", records, 600)
    assert (
        "Timed out after 600s waiting for container instances of ECS cluster shop to drain: i-0001 (2 tasks left), i-0003 (1 task left)."
        in message
    )
    assert "i-0002" not in message
    assert "raise wait_timeout" in message
    assert "Timed out after 0.5s" in timeout_message("shop", records, 0.5)


def test_lifecycle_pending_only_for_terminating_wait_of_the_group():
    found = [
        {"InstanceId": "i-0001", "AutoScalingGroupName": "shop-prod", "LifecycleState": "Terminating:Wait"},
        {"InstanceId": "i-0002", "AutoScalingGroupName": "shop-prod", "LifecycleState": "InService"},
        {"InstanceId": "i-0003", "AutoScalingGroupName": "shop-prod", "LifecycleState": "Warmed:Terminating:Wait"},
        {"InstanceId": "i-0004", "AutoScalingGroupName": "shop-prod", "LifecycleState": "Pending:Wait"},
        {"InstanceId": "i-0005", "AutoScalingGroupName": "other", "LifecycleState": "Terminating:Wait"},
    ]
    pending, elsewhere = lifecycle_pending(found, "shop-prod")
    assert pending == {"i-0001", "i-0003"}
    assert elsewhere == ["i-0005 (other)"]
