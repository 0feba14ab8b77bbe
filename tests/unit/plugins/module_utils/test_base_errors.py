# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module kernel's one error path (plugins/module_utils/base.py): ``aws_call`` names what was being done and
raises amazon.aws's ``AnsibleAWSError``; ``MegapoolAWSModule.run`` turns it, and the module's input errors, into
``fail_json``, and a result into ``exit_json``."""

from __future__ import annotations

import botocore.exceptions
import pytest

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.megapool.aws.plugins.module_utils import base


class _InputError(ValueError):
    """A planner's input error."""


def _client_error(code: str, operation: str = "CreateRoute") -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError(
        {"Error": {"Code": code, "Message": "the %s message" % code}, "ResponseMetadata": {"HTTPStatusCode": 400}},
        operation,
    )


def _raising(error: Exception):
    def call(*args, **kwargs):
        raise error

    return call


# ---------------------------------------------------------------------------------------------- aws_call


def test_aws_call_passes_arguments_and_returns_the_answer():
    assert base.aws_call("add", lambda a, b=0, **rest: (a, b, rest), 1, b=2, Key="v") == (1, 2, {"Key": "v"})


@pytest.mark.parametrize(
    "error",
    [_client_error("RouteLimitExceeded"), botocore.exceptions.EndpointConnectionError(endpoint_url="https://ec2")],
)
def test_aws_call_raises_what_was_being_done_with_the_error(error):
    with pytest.raises(AnsibleAWSError) as caught:
        base.aws_call("route 10.1.0.0/16 via pcx-1 in rtb-1 (eu-west-1)", _raising(error))
    assert caught.value.message == "Could not route 10.1.0.0/16 via pcx-1 in rtb-1 (eu-west-1)"
    assert caught.value.exception is error
    assert str(caught.value).startswith("Could not route 10.1.0.0/16 via pcx-1 in rtb-1 (eu-west-1): ")


@pytest.mark.parametrize(
    "missing, code, expected",
    [
        (["InvalidRoute.NotFound"], "InvalidRoute.NotFound", "gone"),
        (("A.NotFound", "B.NotFound"), "B.NotFound", "gone"),
    ],
)
def test_aws_call_answers_missing_value_for_a_missing_code(missing, code, expected):
    assert base.aws_call("delete", _raising(_client_error(code)), missing=missing, missing_value=expected) == expected


def test_aws_call_missing_is_none_by_default_and_other_codes_still_fail():
    assert base.aws_call("read", _raising(_client_error("X.NotFound")), missing=["X.NotFound"]) is None
    with pytest.raises(AnsibleAWSError):
        base.aws_call("read", _raising(_client_error("AccessDenied")), missing=["X.NotFound"])


def test_aws_call_leaves_other_exceptions_alone():
    with pytest.raises(KeyError):
        base.aws_call("read", _raising(KeyError("VpcPeeringConnections")))
    inner = AnsibleAWSError(message="Failed to describe", exception=_client_error("X"))
    with pytest.raises(AnsibleAWSError) as caught:  # already named by an amazon.aws error handler: kept as it is
        base.aws_call("read", _raising(inner))
    assert caught.value is inner


# ---------------------------------------------------------------------------------------------- run


def _main(body, input_errors=(_InputError,)):
    def main() -> None:
        module = base.MegapoolAWSModule(argument_spec={}, supports_check_mode=True)
        module.run(body, module, input_errors=input_errors)

    return main


def test_run_exits_with_the_result(run_module):
    result = run_module(_main(lambda module: {"changed": True, "value": module.check_mode}), {})
    assert result == {"changed": True, "value": False}


def test_run_turns_an_aws_error_into_one_fail_json_with_what_was_being_done(run_module):
    def body(_module):
        base.aws_call("accept VPC peering pcx-1 in eu-west-1", _raising(_client_error("OperationNotPermitted")))

    result = run_module(_main(body), {})
    assert result["failed"] is True
    assert result["msg"] == (
        "Could not accept VPC peering pcx-1 in eu-west-1: An error occurred (OperationNotPermitted) when calling the "
        "CreateRoute operation: the OperationNotPermitted message"
    )
    assert result["error"] == {"code": "OperationNotPermitted", "message": "the OperationNotPermitted message"}
    assert "boto3_version" in result


def test_run_turns_an_amazon_aws_error_handler_error_into_fail_json(run_module):
    @AWSErrorHandler.common_error_handler("describe the instance types")
    def describe():
        raise _client_error("UnauthorizedOperation", "DescribeInstanceTypes")

    result = run_module(_main(lambda _module: describe()), {})
    assert result["msg"].startswith("Failed to describe the instance types: An error occurred (UnauthorizedOperation)")


def test_run_turns_an_input_error_into_fail_json_naming_the_fix(run_module):
    def body(_module):
        raise _InputError("vpcs[1].cidr: 10.0.0.0/33 is not a CIDR; give e.g. 10.1.0.0/16.")

    result = run_module(_main(body), {})
    assert result == {"failed": True, "msg": "vpcs[1].cidr: 10.0.0.0/33 is not a CIDR; give e.g. 10.1.0.0/16."}


def test_run_leaves_other_errors_as_tracebacks(run_module):
    def body(_module):
        raise ValueError("a bug")  # not one of the module's input errors

    with pytest.raises(ValueError, match="a bug"):
        run_module(_main(body), {})
    with pytest.raises(_InputError):  # no input errors declared: nothing is swallowed
        run_module(_main(_raising(_InputError("x")), input_errors=()), {})


def test_run_adds_the_failure_result_to_an_aws_error_and_an_input_error(run_module):
    events: list[str] = []

    def aws_body(_module):
        events.append("instance db-1 created")
        base.aws_call(
            "write the SSM parameter /db/url", _raising(_client_error("AccessDeniedException", "PutParameter"))
        )

    def main(body):
        def run() -> None:
            module = base.MegapoolAWSModule(argument_spec={}, supports_check_mode=True)
            module.run(body, module, input_errors=(_InputError,), failure_result=lambda: {"events": events, "msg": "x"})

        return run

    result = run_module(main(aws_body), {})
    assert result["msg"].startswith(
        "Could not write the SSM parameter /db/url: An error occurred (AccessDeniedException)"
    )
    assert result["events"] == ["instance db-1 created"], "read at the failure, not when run was called"
    assert result["error"]["code"] == "AccessDeniedException"

    result = run_module(main(_raising(_InputError("port: 0 is not a port"))), {})
    assert result == {"failed": True, "msg": "port: 0 is not a port", "events": ["instance db-1 created"]}


def test_run_an_aws_error_without_a_botocore_error_fails_with_its_message(run_module):
    def body(_module):
        raise AnsibleAWSError(message="Could not find the hosted zone example.com")

    result = run_module(_main(body), {})
    assert result == {"failed": True, "msg": "Could not find the hosted zone example.com"}
