# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/filter/checks.py: the filters every role's validate.yml calls (the logic is in module_utils/*_checks.py), and
the typo check against the roles' real argument specs."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.megapool.aws.plugins.filter import checks
from ansible_collections.megapool.aws.plugins.filter.checks import FilterModule

ROLES = Path(__file__).resolve().parents[4] / "roles"
FILTERS = FilterModule().filters()


def spec(role: str) -> dict:
    return yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())


def test_every_filter_is_documented():
    for name in FILTERS:
        assert (Path(checks.__file__).parent / (name + ".yml")).is_file(), name


@pytest.mark.parametrize("role", ["network", "ecs_hosts", "alb", "dns", "release"])
def test_every_default_of_a_role_is_in_its_argument_spec(role):
    """The typo check would warn about a role's own default otherwise."""
    defaults = yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text())
    prefix = {"ecs_hosts": "ecs_hosts_"}.get(role, role + "_")
    assert FILTERS["unknown_variables"](list(defaults), spec(role), prefix, "megapool.aws." + role, strict=True) == []


def test_a_typo_is_a_warning_by_default_and_an_error_when_strict():
    names = ["network_nat_mdoe", "network_vpc_cidr", "network_outputs"]
    with mock.patch.object(checks.Display, "warning") as warning:
        assert (
            FILTERS["unknown_variables"](
                names, spec("network"), "network_", "megapool.aws.network", allowed=["network_outputs"]
            )
            == []
        )
    [message] = [call.args[0] for call in warning.call_args_list]
    assert message.startswith(
        "network_nat_mdoe is set but role megapool.aws.network has no such variable: did you mean network_nat_mode?"
    )
    with mock.patch.object(checks.Display, "warning") as warning:
        [error] = FILTERS["unknown_variables"](
            names, spec("network"), "network_", "megapool.aws.network", allowed=["network_outputs"], strict=True
        )
    assert "did you mean network_nat_mode?" in error and not warning.called


def test_the_role_filters_are_the_planners():
    assert FILTERS["dns_input_errors"](
        {
            "megapool_cluster": "shop",
            "megapool_env": "prod",
            "dns_zone_name": "example.com.",
            "dns_health_check_path": "/health",
            "dns_health_check_interval": 30,
            "dns_health_check_failure_threshold": 3,
        }
    )[0].startswith('dns_zone_name="example.com." ends with a dot')
    assert FILTERS["network_input_errors"](
        {
            "megapool_cluster": "shop",
            "megapool_env": "Prod",
            "network_vpc_cidr": "10.0.0.0/16",
            "network_az_count": 2,
            "network_admin_cidrs": [],
            "network_erlang_dist_port_min": 9100,
            "network_erlang_dist_port_max": 9155,
        },
        "eu-north-1",
    )[0].startswith("megapool_env='Prod'")
    assert FILTERS["alb_subnet_errors"](["subnet-a"], [], "eu-north-1")[0].startswith(
        "alb_subnet_ids: subnet-a not found in eu-north-1"
    )


@pytest.mark.parametrize(
    "name, args",
    [
        ("ecs_hosts_input_errors", ("not a dict",)),
        ("ecs_hosts_type_errors", ([{"x": 1}],)),
        ("release_deploy_errors", ({}, None)),
        ("alb_subnet_errors", ([], "x")),
    ],
)
def test_wrong_shapes_are_filter_errors(name, args):
    with pytest.raises(AnsibleFilterError):
        FILTERS[name](*args)
