# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module on the kernel's one error path (docs/architecture.md, "Errors: one path to fail_json"): ``main()``
hands its body to ``MegapoolAWSModule.run``, and the module never turns an AWS error into ``fail_json`` itself
(no ``fail_json_aws``/``fail_json_aws_error`` call, no ``except AnsibleAWSError`` or botocore ``except`` that fails)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

MODULES = Path(__file__).resolve().parents[4] / "plugins" / "modules"

# The modules on the kernel's path; each new one is added here in the commit that moves it.
ON_THE_KERNEL = [
    "ec2_vpc_peering_mesh",
    "ssm_secret_parameters",
    "ecs_capacity_provider",
    "ecs_container_instance_drain",
    "ecs_service_rollout",
    "ecs_task_gate",
    "servicediscovery_namespace",
    "acm_certificate_request",
    "ecs_cluster_settings",
    "ec2_instance_type_info",
    "cloudwatch_metric_alarms",
    "autoscaling_group_settings",
    "route53_latency_records",
    "ecr_replication",
    "database_cluster",
    "ec2_cluster_nodes_info",
    "database_instance",
    "ecr_image_info",
    "elbv2_attributes",
    "ecs_service_autoscaling",
]


def _tree(name: str) -> ast.Module:
    return ast.parse((MODULES / (name + ".py")).read_text(encoding="utf-8"))


def _attribute_calls(tree: ast.AST) -> set[str]:
    return {
        node.func.attr for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }


@pytest.mark.parametrize("name", ON_THE_KERNEL)
def test_main_hands_its_body_to_the_kernel(name):
    (main,) = [node for node in _tree(name).body if isinstance(node, ast.FunctionDef) and node.name == "main"]
    assert "run" in _attribute_calls(main), "%s: main() does not call module.run(...)" % name


@pytest.mark.parametrize("name", ON_THE_KERNEL)
def test_the_module_turns_no_aws_error_into_fail_json_itself(name):
    calls = _attribute_calls(_tree(name))
    assert not {"fail_json_aws", "fail_json_aws_error"} & calls, name


@pytest.mark.parametrize("name", ON_THE_KERNEL)
def test_no_handler_of_an_aws_error_fails_the_module(name):
    """An ``except`` of an AWS error may answer a value (a fallback, a code that means "missing") but never fails the
    module: that is ``run``'s job."""
    for handler in ast.walk(_tree(name)):
        if not isinstance(handler, ast.ExceptHandler) or handler.type is None:
            continue
        caught = ast.unparse(handler.type)
        if not any(word in caught for word in ("AnsibleAWSError", "ClientError", "BotoCoreError", "botocore")):
            continue
        assert not {"fail_json", "fail_json_aws", "fail_json_aws_error"} & _attribute_calls(handler), (
            "%s: except %s fails the module (line %d)" % (name, caught, handler.lineno)
        )


def test_every_module_that_calls_aws_is_on_the_kernel():
    """A MegapoolAWSModule not in ON_THE_KERNEL is a module that has not been moved (or a new one): add it."""
    modules = sorted(path.stem for path in MODULES.glob("*.py") if not path.name.startswith("_"))
    aws = [name for name in modules if "MegapoolAWSModule(" in (MODULES / (name + ".py")).read_text(encoding="utf-8")]
    assert sorted(ON_THE_KERNEL) == aws
