# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning for the attributes of an ELBv2 load balancer or target group. No boto3, no I/O.

Used by the module ``elbv2_attributes``:

- :func:`normalize_attributes` turns the wanted ``attributes`` option into AWS's strings (booleans ``true`` /
  ``false``, numbers as digits), or raises :class:`AttributesError` naming the key and the fix;
- :func:`attributes_from_aws` / :func:`attributes_to_aws` convert between AWS's ``[{Key, Value}]`` lists and dicts;
- :func:`plan_attributes` is what must be written (only the keys whose value differs, or that are not listed yet:
  an endpoint may list an attribute only once it is set), :func:`predict_attributes` the attributes after a plan,
  :func:`attributes_diff` the before/after of the wanted keys and :func:`attributes_not_applied` what a write's
  answer still shows differently.
"""

from __future__ import annotations

from typing import Any
from typing import Iterable
from typing import Mapping


class AttributesError(ValueError):
    """An attribute value the module refuses before any AWS call; the message names the key and the fix."""


def normalize_value(key: str, value: Any) -> str:
    """One wanted value as AWS writes it: ``True`` -> ``true``, ``30`` -> ``30``, ``1.0`` -> ``1``; strings as given."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    raise AttributesError(
        "attributes.%s is %s: give a string, a number or a boolean (AWS attribute values are strings, e.g. %s: true)"
        % (key, "null" if value is None else "a %s" % type(value).__name__, key)
    )


def normalize_attributes(wanted: Mapping[str, Any] | None) -> dict[str, str]:
    """The ``attributes`` option as AWS's key -> string map, sorted by key."""
    normalized = {}
    for key, value in (wanted or {}).items():
        name = str(key).strip()
        if not name:
            raise AttributesError(
                "attributes has an empty key: use AWS's attribute keys, e.g. idle_timeout.timeout_seconds"
            )
        normalized[name] = normalize_value(name, value)
    return dict(sorted(normalized.items()))


def attributes_from_aws(items: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """AWS's ``[{"Key": k, "Value": v}]`` as a sorted dict (values as strings)."""
    return dict(
        sorted((str(item["Key"]), "" if item.get("Value") is None else str(item["Value"])) for item in items or ())
    )


def attributes_to_aws(attributes: Mapping[str, str]) -> list[dict[str, str]]:
    """A dict as AWS's ``[{"Key": k, "Value": v}]``, sorted by key."""
    return [{"Key": key, "Value": value} for key, value in sorted(attributes.items())]


def plan_attributes(current: Mapping[str, str], wanted: Mapping[str, str]) -> dict[str, str]:
    """The wanted attributes whose current value differs (or that are not listed yet): what one Modify call sends."""
    return {key: value for key, value in sorted(wanted.items()) if current.get(key) != value}


def predict_attributes(current: Mapping[str, str], changes: Mapping[str, str]) -> dict[str, str]:
    """All attributes after ``changes`` are applied."""
    return dict(sorted({**current, **changes}.items()))


def attributes_diff(
    before: Mapping[str, str], after: Mapping[str, str], keys: Iterable[str]
) -> dict[str, dict[str, str]]:
    """Before/after of the given keys (a key not listed on one side is left out of that side)."""
    keys = sorted(keys)
    return {
        "before": {key: before[key] for key in keys if key in before},
        "after": {key: after[key] for key in keys if key in after},
    }


def attributes_not_applied(after: Mapping[str, str], changes: Mapping[str, str]) -> list[str]:
    """The written keys that the answer still shows with another value (an endpoint that ignored them)."""
    return [key for key, value in sorted(changes.items()) if key in after and after[key] != value]


# ---------------------------------------------------------------------------------------------- idle timeouts

# AWS's range of idle_timeout.timeout_seconds (ALB attribute reference).
IDLE_TIMEOUT_RANGE = (1, 4000)


def _whole_seconds(name: str, value: Any, errors: list[str]) -> int | None:
    if isinstance(value, bool) or value is None:
        errors.append("%s=%s is not a number of seconds" % (name, value))
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors.append("%s=%s is not a number of seconds" % (name, value))
        return None
    if not number.is_integer():
        errors.append("%s=%s is not a whole number of seconds" % (name, value))
        return None
    return int(number)


def idle_timeout_errors(alb_idle_timeout: Any, app_idle_timeout: Any) -> list[str]:
    """What is wrong with the load balancer's idle timeout given the app's keep-alive idle timeout (both seconds).

    AWS: "configure the idle timeout of your application to be larger than the idle timeout configured for the load
    balancer. Otherwise, if the application closes the TCP connection to the load balancer ungracefully, the load
    balancer might send a request to the application before it receives the packet indicating that the connection is
    closed. If this is the case, then the load balancer sends an HTTP 502 Bad Gateway error to the client."
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html#connection-idle-timeout)
    Cowboy's ``idle_timeout`` and Bandit's (Thousand Island's) ``read_timeout``, the keep-alive idle timeouts of a
    Phoenix endpoint, default to 60 s. Returns one message per problem (empty: fine), each naming the variable and
    the fix.
    """
    errors: list[str] = []
    alb = _whole_seconds("alb_idle_timeout", alb_idle_timeout, errors)
    app = _whole_seconds("alb_app_idle_timeout", app_idle_timeout, errors)
    low, high = IDLE_TIMEOUT_RANGE
    if alb is not None and not low <= alb <= high:
        errors.append("alb_idle_timeout=%d is outside %d-%d seconds (AWS's range)" % (alb, low, high))
    if app is not None and app < 2:
        errors.append("alb_app_idle_timeout=%d must be 2 seconds or more (the app's keep-alive idle timeout)" % app)
    if not errors and alb is not None and app is not None and alb >= app:
        errors.append(
            "alb_idle_timeout=%d must be below alb_app_idle_timeout=%d (the app's keep-alive idle timeout): when the app "
            "closes an idle keep-alive connection first, the load balancer can still send a request on it and answers "
            "HTTP 502. Lower alb_idle_timeout to %d or less, or raise the app's timeout and alb_app_idle_timeout together "
            "(Phoenix with Cowboy: http: [protocol_options: [idle_timeout: <ms>]]; with Bandit: "
            "http: [thousand_island_options: [read_timeout: <ms>]])" % (alb, app, app - 1)
        )
    return errors
