# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base class of every megapool.aws module (the module kernel), the collection's AWS retry policy, argument
specs the modules share, the one bounded wait every module polls with (``poll_until``), and the one place a module's
AWS errors and input errors become ``fail_json`` (``aws_call`` raises, ``MegapoolAWSModule.run`` reports)."""

from __future__ import annotations

import itertools
import time
from typing import Any
from typing import Callable
from typing import Iterable
from typing import Iterator
from typing import Mapping
from typing import NoReturn
from typing import Optional
from typing import TypeVar
from typing import Union

try:
    import boto3
    import botocore
    import botocore.config
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import _get_user_agent_string
from ansible_collections.amazon.aws.plugins.module_utils.botocore import enable_placebo
from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.common import set_collection_info
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.megapool.aws.plugins.module_utils.retry_policy import with_retry_policy

MEGAPOOL_AWS_COLLECTION_NAME = "megapool.aws"
# Keep in step with galaxy.yml (a unit test checks it).
MEGAPOOL_AWS_COLLECTION_VERSION = "0.1.0"

# The amazon.aws.tags doc fragment documents these two options.
TAGS_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "tags": {"type": "dict", "aliases": ["resource_tags"]},
    "purge_tags": {"type": "bool", "default": True},
}


class MegapoolAWSModule(AnsibleAWSModule):
    """amazon.aws ``AnsibleAWSModule`` that identifies itself as ``megapool.aws/<version>`` to AWS and gives every
    client it makes the collection's retry policy.

    amazon.aws builds the botocore user agent of every client from its collection info
    (``APN/1.0 Ansible/<core> <collection>/<version>``); this sets that info to this collection.

    Every client amazon.aws makes for a module (``module.client()``, ``boto3_conn`` through
    ``get_aws_connection_info``) takes its botocore ``Config`` from the module's ``aws_config`` option, merged last
    over any ``config`` a module passes; the kernel puts the retry policy into that option
    (``with_retry_policy``), so no client of a megapool module can be made without it.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._megapool_sessions: dict[Optional[str], Any] = {}
        try:
            self.params["aws_config"] = with_retry_policy(self.params.get("aws_config"))
        except (TypeError, ValueError) as error:
            self.fail_json(
                msg="aws_config: %s; give retries as a dictionary, e.g. {mode: standard, total_max_attempts: 10}"
                % error
            )
        set_collection_info(
            collection_name=MEGAPOOL_AWS_COLLECTION_NAME,
            collection_version=MEGAPOOL_AWS_COLLECTION_VERSION,
        )

    def region_clients(self, service: str, regions: Iterable[str], config: Any = None) -> dict[str, Any]:
        """``{region: client}``: one ``service`` client per region (in the order given, each once), made as
        ``self.client(service, region=region, config=config)`` makes one -- credentials, profile, endpoint,
        ``validate_certs``/``aws_ca_bundle``, the user agent, and ``config`` under ``aws_config`` (which carries the
        collection's retry policy, ``with_retry_policy``) -- but all from ONE boto3 session of this module.

        amazon.aws's ``boto3_conn`` makes a new ``boto3.session.Session`` for every client, and each new session
        loads and parses the service's JSON model again (ec2's is ~2 MB, ~0.15 CPU s); the clients of one session
        share its loader, which reads a model once. Clients are made here in the calling thread (making clients from
        one session is not thread-safe; using them from several threads is):
        https://docs.aws.amazon.com/boto3/latest/guide/clients.html#multithreading-or-multiprocessing-with-clients
        """
        _region, endpoint_url, params = get_aws_connection_info(self)
        params = dict(params)
        profile = params.pop("profile_name", None)
        merged = botocore.config.Config(user_agent=_get_user_agent_string())
        # Merged as boto3_conn merges them: the user agent, then what the module passes, then aws_config (the policy).
        for extra in (config, params.pop("config", None), params.pop("aws_config", None)):
            if extra:
                merged = merged.merge(
                    extra if isinstance(extra, botocore.config.Config) else botocore.config.Config(**extra)
                )
        try:
            if profile not in self._megapool_sessions:
                session = boto3.session.Session(profile_name=profile)
                enable_placebo(session)  # amazon.aws's recording hook for its tests, as boto3_conn does
                self._megapool_sessions[profile] = session
            session = self._megapool_sessions[profile]
            return {
                region: session.client(service, region_name=region, endpoint_url=endpoint_url, config=merged, **params)
                for region in dict.fromkeys(regions)
            }
        except (ValueError, botocore.exceptions.BotoCoreError) as error:  # a missing profile, a bad endpoint URL
            self.fail_json_aws(error, msg="Couldn't connect to AWS")  # boto3_conn's answer, for the same errors

    def run(
        self,
        body: Callable[..., Mapping[str, Any]],
        *args: Any,
        input_errors: tuple[type[Exception], ...] = (),
        failure_result: Optional[Callable[[], Mapping[str, Any]]] = None,
    ) -> NoReturn:
        """``exit_json(**body(*args))``: the one place a module's errors become ``fail_json``.

        - an amazon.aws ``AnsibleAWSError`` (raised by ``aws_call``, or by amazon.aws's ``AWSErrorHandler``
          decorators) fails with its message, what was being done, and AWS's error (as ``fail_json_aws_error``: the
          message gets the error's text appended, the result AWS's ``error`` and ``response_metadata``);
        - an exception of one of ``input_errors`` (the module's planner's error classes) fails with its message,
          which names the option and the fix;
        - anything else is a bug and stays a traceback.

        ``failure_result()``, when given, is read at the failure and its keys are added to the failed result (what the
        run did so far, e.g. its ``events``); ``msg`` and AWS's keys are the kernel's.

        ``body`` may still call ``fail_json`` itself for outcomes that are neither (a wait that timed out, a resource
        in a failed state).
        """
        try:
            result = body(*args)
        except AnsibleAWSError as error:
            extra = self._failure_extra(failure_result)
            if error.exception is not None:
                self.fail_json_aws(error.exception, msg=error.message, **extra)
            self.fail_json(msg=error.message, **extra)
        except input_errors as error:  # pylint: disable=catching-non-exception
            self.fail_json(msg=str(error), **self._failure_extra(failure_result))
        self.exit_json(**result)

    @staticmethod
    def _failure_extra(failure_result: Optional[Callable[[], Mapping[str, Any]]]) -> dict[str, Any]:
        extra = dict(failure_result()) if failure_result is not None else {}
        extra.pop("msg", None)
        return extra


def aws_call(
    what: str,
    func: Callable[..., T],
    *args: Any,
    missing: Iterable[str] = (),
    missing_value: Any = None,
    **kwargs: Any,
) -> T:
    """``func(*args, **kwargs)`` (an AWS call), its botocore errors raised as amazon.aws's ``AnsibleAWSError`` with
    the message ``Could not <what>`` (``what``: what was being done, e.g. ``accept VPC peering pcx-1 in eu-west-1``)
    and the error in it, for ``MegapoolAWSModule.run`` to report: a module names what it does once per call, with
    no ``try``/``except`` of its own.

    An error code in ``missing`` (a resource that is not there, or not yet) returns ``missing_value`` instead: the
    "gone meanwhile" or "not visible yet" answer of a read or a delete. amazon.aws's ``AWSErrorHandler`` decorators
    (``common_error_handler``, ``list_error_handler``) do the same for a function with a fixed description
    (``Failed to <description>``); ``aws_call`` is for a description that names the resource and region.
    """
    codes = list(missing)
    try:
        return func(*args, **kwargs)
    except is_boto3_error_code(codes):
        return missing_value
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:  # pylint: disable=duplicate-except
        raise AnsibleAWSError(message="Could not %s" % what, exception=error) from error


class _StateRetry(AWSRetry):
    """amazon.aws's ``AWSRetry`` that retries only the error codes it is given (see ``retry_while``)."""

    @staticmethod
    def found(response_code: str, catch_extra_error_codes: Optional[Iterable[str]] = None) -> bool:
        return response_code in (catch_extra_error_codes or ())


def retry_while(
    codes: Iterable[str], retries: int = 10, delay: float = 3, max_delay: float = 60
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Retry a call, with jittered exponential backoff, while AWS answers one of ``codes``: a state of the resource that
    clears by itself (``ResourceInUse`` while Cloud Map finishes an operation, ECS ``UpdateInProgressException``,
    Auto Scaling ``ScalingActivityInProgress``, EC2 ``...NotFound`` of a resource just created in another region).

    Throttling and server errors are not retried here: every client already retries them with ``RETRY_POLICY``
    (botocore's standard mode). amazon.aws's ``AWSRetry.jittered_backoff()`` retries its own list of throttling codes
    (``Throttling``, ``RequestLimitExceeded``, ...) as well, so a call wrapped in it under botocore's policy makes up to
    10 x 10 requests on a throttled account and defeats the policy's retry quota; no module uses it.
    """
    return _StateRetry.jittered_backoff(
        retries=retries, delay=delay, max_delay=max_delay, catch_extra_error_codes=list(codes)
    )


# ---------------------------------------------------------------------------------------------- the wait

T = TypeVar("T")
_UNREAD: Any = object()


class WaitTimeout(Exception):
    """``poll_until`` gave up: ``what`` was not done within ``timeout`` seconds; ``last`` is the last value read.

    Its message names what was waited for and the timeout; a module that has a more specific message (the resource,
    its last state, what to do) catches it and fails with that, built from ``last``."""

    def __init__(self, what: str, timeout: float, last: Any, waited: float) -> None:
        self.what = what
        self.timeout = timeout
        self.last = last
        self.waited = waited
        super().__init__(
            "Timed out after wait_timeout=%ss waiting for %s; raise wait_timeout, or run again to keep waiting."
            % (timeout, what)
        )


def backoff_pauses(first: float, factor: float = 2.0, cap: Optional[float] = None) -> Iterator[float]:
    """The pauses ``first, first*factor, ...`` each at most ``cap`` (endless): an ``interval`` for ``poll_until``."""
    pause = float(first)
    while True:
        yield pause if cap is None else min(pause, cap)
        pause = pause * factor if cap is None else min(pause * factor, cap)


def poll_until(
    read: Callable[[], T],
    done: Callable[[T], bool],
    *,
    what: str,
    timeout: float,
    interval: Union[float, Iterable[float]],
    first: T = _UNREAD,
    progress: Optional[Callable[[T, float], None]] = None,
    wait: bool = True,
    started: Optional[float] = None,
    clock: Optional[Callable[[], float]] = None,
    sleep: Optional[Callable[[float], None]] = None,
) -> T:
    """Read until ``done(value)``; return the last value read. The one bounded wait of the collection's modules.

    - ``read()`` gets the current value (``first``, when given, is a value already read: the first check uses it);
    - ``progress(value, waited)`` sees every value before ``done`` does (events, progress lines, side steps such as
      completing a lifecycle action; it may fail the module), with the seconds waited since ``started``;
    - ``wait=False`` checks once and returns the value done or not (the wait protocol's ``wait: false``: the caller
      reports ``done`` and its action plugin polls again);
    - the wait ends ``timeout`` seconds after ``started`` (a clock time, default: now; a module that waits in several
      phases passes its start so that they share one ``wait_timeout``); no pause goes past that deadline, a last read
      is made at it, and then ``WaitTimeout`` is raised with the last value;
    - ``interval``: seconds between two reads, or an iterable of pauses (``backoff_pauses``; its last pause repeats);
    - ``clock`` and ``sleep`` default to ``time.monotonic`` and ``time.sleep`` (read when called); modules pass their
      own module-level ``_clock`` and ``_sleep`` so that their tests can run the wait on a fake clock.
    """
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    pauses = itertools.repeat(float(interval)) if isinstance(interval, (int, float)) else iter(interval)
    pause = 0.0
    start = clock() if started is None else started
    deadline = start + timeout
    value = read() if first is _UNREAD else first
    while True:
        if progress is not None:
            progress(value, clock() - start)
        if done(value) or not wait:
            return value
        now = clock()
        remaining = deadline - now
        if remaining <= 0:
            raise WaitTimeout(what, timeout, value, now - start)
        pause = next(pauses, pause)
        sleep(min(pause, remaining))
        value = read()
