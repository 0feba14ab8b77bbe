# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release's deployment strategy (rolling, blue/green) for the alb and release roles; the logic lives in
module_utils/release_strategy.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.dict_transformations import snake_dict_to_camel_dict

# module_utils are imported in the filters: ansible-core loads every filter file of the collection in each worker
# process that resolves one of them (docs/benchmarks.md, "Warm workers").


def _release_strategy_errors(inputs: Any) -> list[str]:
    from ansible_collections.megapool.aws.plugins.module_utils.release_strategy import strategy_errors

    if not isinstance(inputs, dict):
        raise AnsibleFilterError("release_strategy_errors expects a dict of the role's variables, got %r" % (inputs,))
    return strategy_errors(inputs)


def _plain(value: Any) -> Any:
    """Plain dicts and lists of a template value: ansible-core 2.19 hands filters lazy containers, which
    snake_dict_to_camel_dict cannot rebuild (it makes ``type(value)()``, and their constructor takes arguments)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _blue_green_rule_actions(current: Any, primary: Any, alternate: Any) -> list[dict[str, Any]]:
    from ansible_collections.megapool.aws.plugins.module_utils.release_strategy import production_rule_actions

    if current is not None and not isinstance(current, list):
        raise AnsibleFilterError(
            "blue_green_rule_actions expects the rule's actions (a list) or none, got %r" % (current,)
        )
    # amazon.aws.elb_application_lb_info answers in snake_case; the rule is written in the API's CamelCase.
    actions = _camel(current)
    return production_rule_actions(actions or None, str(primary), str(alternate))


def _camel(items: Any) -> list[dict[str, Any]]:
    """amazon.aws.elb_application_lb_info answers in snake_case; the rules are written in the API's CamelCase."""
    return [
        snake_dict_to_camel_dict(item, capitalize_first=True) if "type" in item or "priority" in item else item
        for item in _plain(items or [])
    ]


def _blue_green_removal(rules: Any, primary: Any, alternate: Any, priority: Any, region: Any = "") -> dict[str, Any]:
    from ansible_collections.megapool.aws.plugins.module_utils.release_strategy import blue_green_removal

    if rules is not None and not isinstance(rules, list):
        raise AnsibleFilterError("blue_green_removal expects the listener's rules (a list) or none, got %r" % (rules,))
    try:
        priority = int(priority)
    except (TypeError, ValueError) as e:
        raise AnsibleFilterError(
            "blue_green_removal expects the production rule's priority as a whole number, got %r" % (priority,)
        ) from e
    return blue_green_removal(_camel(rules), str(primary or ""), str(alternate or ""), priority, str(region or ""))


def _blue_green_test_listener_errors(inputs: Any) -> list[str]:
    from ansible_collections.megapool.aws.plugins.module_utils.release_strategy import test_listener_errors

    if not isinstance(inputs, Mapping):
        raise AnsibleFilterError(
            "blue_green_test_listener_errors expects a dict of the role's variables, got %r" % (inputs,)
        )
    inputs = _plain(inputs)
    return test_listener_errors(
        inputs.get("alb_blue_green_test_listener_port"),
        inputs.get("alb_blue_green_test_cidrs"),
        inputs.get("alb_blue_green"),
    )


class FilterModule:
    """megapool.aws deployment strategy filters."""

    def filters(self) -> dict[str, Any]:
        return {
            "release_strategy_errors": _release_strategy_errors,
            "blue_green_rule_actions": _blue_green_rule_actions,
            "blue_green_removal": _blue_green_removal,
            "blue_green_test_listener_errors": _blue_green_test_listener_errors,
        }
