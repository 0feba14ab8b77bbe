# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""megapool.aws.ssm_secret_parameters against moto in-process: two written regions and a reference region.

moto refuses what AWS refuses here (PutParameter with Tags and Overwrite=true, GetParameters with more than 10 names),
so a module that sent either would fail these tests."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from ansible_collections.megapool.aws.plugins.modules import ssm_secret_parameters

R1, R2, REF = "eu-north-1", "ap-southeast-1", "us-east-1"
PREFIX = "/megapool/prod/"
TAGS = {"megapool:env": "prod", "megapool:role": "release"}


@pytest.fixture
def aws(aws_env):  # pylint: disable=unused-argument
    with mock_aws():
        yield


def _ssm(region):
    return boto3.client("ssm", region_name=region)


def _value(region, name):
    return _ssm(region).get_parameter(Name=PREFIX + name, WithDecryption=True)["Parameter"]["Value"]


def _tags(region, name):
    tags = _ssm(region).list_tags_for_resource(ResourceType="Parameter", ResourceId=PREFIX + name)["TagList"]
    return {tag["Key"]: tag["Value"] for tag in tags}


def _run(run_module, check_mode=False, **args):
    base = {
        "region": R1,
        "regions": [R1, R2],
        "reference_regions": [REF],
        "prefix": PREFIX,
        "secrets": {"SMTP_PASSWORD": "smtp-secret-1"},
        "generated": ["RELEASE_COOKIE", "SECRET_KEY_BASE"],
        "description": "{name} of megapool-prod",
        "tags": TAGS,
    }
    return run_module(ssm_secret_parameters.main, dict(base, **args), check_mode=check_mode, diff=True)


def test_first_run_creates_everything_with_one_generated_value_then_a_second_run_changes_nothing(aws, run_module):
    result = _run(run_module)
    assert result["changed"] is True, result
    assert result["regions"][R1]["created"] == [
        PREFIX + "RELEASE_COOKIE",
        PREFIX + "SECRET_KEY_BASE",
        PREFIX + "SMTP_PASSWORD",
    ]
    cookie = _value(R1, "RELEASE_COOKIE")
    assert len(cookie) == 64 and cookie.isalnum() and _value(R2, "RELEASE_COOKIE") == cookie
    assert _value(R2, "SECRET_KEY_BASE") == _value(R1, "SECRET_KEY_BASE") != cookie
    assert _value(R2, "SMTP_PASSWORD") == "smtp-secret-1"
    parameter = _ssm(R2).get_parameter(Name=PREFIX + "SMTP_PASSWORD")["Parameter"]
    assert parameter["Type"] == "SecureString"
    described = _ssm(R2).describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [PREFIX + "SMTP_PASSWORD"]}])
    assert described["Parameters"][0]["Description"] == "SMTP_PASSWORD of megapool-prod"
    assert _tags(R2, "RELEASE_COOKIE") == TAGS
    # The reference region is only read.
    assert _ssm(REF).describe_parameters()["Parameters"] == []
    # No value in the result, in the diff or anywhere else the module returns.
    text = json.dumps(result)
    assert cookie not in text and "smtp-secret-1" not in text

    again = _run(run_module)
    assert again["changed"] is False, again
    assert again["regions"][R2]["unchanged"] == [
        PREFIX + "RELEASE_COOKIE",
        PREFIX + "SECRET_KEY_BASE",
        PREFIX + "SMTP_PASSWORD",
    ]
    assert _value(R1, "RELEASE_COOKIE") == cookie
    assert _ssm(R1).get_parameter(Name=PREFIX + "RELEASE_COOKIE")["Parameter"]["Version"] == 1


def test_check_mode_reports_and_writes_nothing(aws, run_module):
    result = _run(run_module, check_mode=True)
    assert result["changed"] is True
    assert result["diff"]["before"][R1][PREFIX + "SMTP_PASSWORD"] == {"exists": False}
    assert result["diff"]["after"][R1][PREFIX + "SMTP_PASSWORD"]["value_changed"] is True
    assert _ssm(R1).describe_parameters()["Parameters"] == [] and _ssm(R2).describe_parameters()["Parameters"] == []


def test_a_generated_value_of_the_reference_region_is_used_and_a_given_one_overwritten_with_tags_apart(aws, run_module):
    _ssm(REF).put_parameter(Name=PREFIX + "RELEASE_COOKIE", Value="cookie-of-the-environment", Type="SecureString")
    # An older parameter: a String, other tags, an old value (given values are overwritten; tags via AddTagsToResource,
    # since AWS refuses Tags with Overwrite=true).
    _ssm(R1).put_parameter(
        Name=PREFIX + "SMTP_PASSWORD", Value="old", Type="String", Tags=[{"Key": "owner", "Value": "someone"}]
    )
    result = _run(run_module)
    assert result["changed"] is True, result
    assert _value(R1, "RELEASE_COOKIE") == _value(R2, "RELEASE_COOKIE") == "cookie-of-the-environment"
    assert _value(R1, "SMTP_PASSWORD") == "smtp-secret-1"
    assert _ssm(R1).get_parameter(Name=PREFIX + "SMTP_PASSWORD")["Parameter"]["Type"] == "SecureString"
    assert _tags(R1, "SMTP_PASSWORD") == TAGS  # purge_tags (default true) removed owner
    assert result["regions"][R1]["updated"] == [PREFIX + "SMTP_PASSWORD"]
    assert result["regions"][R1]["tagged"] == [PREFIX + "SMTP_PASSWORD"]
    assert _ssm(REF).describe_parameters()["Parameters"][0]["Name"] == PREFIX + "RELEASE_COOKIE"
    assert "cookie-of-the-environment" not in json.dumps(result)


def test_a_generated_secret_is_never_overwritten(aws, run_module):
    _ssm(R1).put_parameter(Name=PREFIX + "RELEASE_COOKIE", Value="kept-cookie", Type="SecureString")
    _run(run_module, secrets={})
    assert _value(R1, "RELEASE_COOKIE") == _value(R2, "RELEASE_COOKIE") == "kept-cookie"


def test_regions_that_disagree_fail_before_any_write_naming_parameter_and_regions(aws, run_module):
    _ssm(R1).put_parameter(Name=PREFIX + "RELEASE_COOKIE", Value="cookie-one", Type="SecureString")
    _ssm(REF).put_parameter(Name=PREFIX + "RELEASE_COOKIE", Value="cookie-two", Type="SecureString")
    result = _run(run_module, secrets_option="release_secrets")
    assert result["failed"] is True
    assert result["msg"].startswith(
        "SSM parameter /megapool/prod/RELEASE_COOKIE differs between regions (eu-north-1 | us-east-1)"
    ), result["msg"]
    assert "release_secrets.RELEASE_COOKIE" in result["msg"]
    assert result["conflicts"] == [
        {"name": "RELEASE_COOKIE", "parameter": PREFIX + "RELEASE_COOKIE", "regions": [["eu-north-1"], ["us-east-1"]]}
    ]
    assert "cookie-one" not in json.dumps(result) and "cookie-two" not in json.dumps(result)
    assert _ssm(R2).describe_parameters()["Parameters"] == []
    assert [p["Name"] for p in _ssm(R1).describe_parameters()["Parameters"]] == [PREFIX + "RELEASE_COOKIE"]


def test_more_than_ten_names_are_read_in_batches(aws, run_module):
    secrets = {"S%02d" % i: "value-%d" % i for i in range(13)}
    assert _run(run_module, secrets=secrets, generated=[])["changed"] is True
    again = _run(run_module, secrets=secrets, generated=[])
    assert again["changed"] is False, again
    assert len(again["regions"][R1]["unchanged"]) == 13


def test_bad_input_fails_before_any_aws_call(aws, run_module):
    result = _run(run_module, prefix="megapool/prod", secrets={"A": ""})
    assert result["failed"] is True
    assert "prefix='megapool/prod' must be a parameter path" in result["msg"]
    assert "secrets: A has an empty value" in result["msg"]
    assert _ssm(R1).describe_parameters()["Parameters"] == []


def test_the_secrets_option_is_no_log():
    assert ssm_secret_parameters.ARGUMENT_SPEC["secrets"]["no_log"] is True


def test_absent_parameters_are_deleted_where_they_exist_and_only_there(aws, run_module):
    for region in (R1, REF):
        _ssm(region).put_parameter(Name=PREFIX + "DATABASE_URL", Value="ecto://old", Type="SecureString")
    checked = _run(run_module, check_mode=True, absent=["DATABASE_URL"])
    assert checked["regions"][R1]["deleted"] == [PREFIX + "DATABASE_URL"] and checked["regions"][R2]["deleted"] == []
    assert checked["diff"]["after"][R1][PREFIX + "DATABASE_URL"] == {"exists": False}
    assert _value(R1, "DATABASE_URL") == "ecto://old"
    result = _run(run_module, absent=["DATABASE_URL"])
    assert result["regions"][R1]["deleted"] == [PREFIX + "DATABASE_URL"]
    names = [p["Name"] for p in _ssm(R1).describe_parameters()["Parameters"]]
    assert PREFIX + "DATABASE_URL" not in names and PREFIX + "SMTP_PASSWORD" in names
    assert _value(REF, "DATABASE_URL") == "ecto://old"  # a reference region is never written
    assert _run(run_module, absent=["DATABASE_URL"])["changed"] is False
    refused = _run(run_module, absent=["SMTP_PASSWORD"])
    assert refused["failed"] is True and "absent: SMTP_PASSWORD is in secrets or generated too" in refused["msg"]


def test_an_aws_error_is_one_failure_naming_the_write_and_its_region(aws, run_module, monkeypatch):
    # AWS refuses a write (here: an execution role without ssm:PutParameter in one region). The module stops at the
    # first refused write, through the kernel's one error path (aws_call + MegapoolAWSModule.run), naming what it
    # was doing and where, with AWS's error code in the result.
    import botocore.exceptions  # pylint: disable=import-outside-toplevel

    apply = ssm_secret_parameters._apply  # pylint: disable=protected-access
    calls = []

    def refuse_in_r2(client, action):
        calls.append((action.region, action.name))
        if action.region == R2:
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "not authorized to perform ssm:PutParameter"}},
                "PutParameter",
            )
        return apply(client, action)

    monkeypatch.setattr(ssm_secret_parameters, "_apply", refuse_in_r2)
    result = _run(run_module)
    assert result["failed"] is True, result
    assert result["msg"].startswith("Could not create the parameter %s" % PREFIX), result["msg"]
    assert " in %s " % R2 in result["msg"] and "AccessDeniedException" in result["msg"], result["msg"]
    assert result["error"]["code"] == "AccessDeniedException"
    assert [region for region, name in calls if region == R2] == [R2]  # stopped at the first refusal


def test_the_ssm_model_is_parsed_once_for_every_region(aws, run_module, model_reads):  # pylint: disable=unused-argument
    """The regions' clients come from the kernel's region_clients (one session)."""
    result = _run(run_module)

    assert result["changed"] is True and "failed" not in result, result
    assert model_reads == ["ssm"], "three regions (two and the reference region), one parse of the SSM model"
