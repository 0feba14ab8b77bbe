# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documented extensions of the local emulator (moto server), applied by ``scripts/emulator.py serve``.

moto stores most resources faithfully but some behaviours that the project's waiting and idempotence code depends
on are missing. Each module in this package closes one such gap by patching moto *in the emulator process only*
(never in unit tests, which use plain moto or botocore Stubber sequences). Every patch:

- names the moto behaviour it changes and the AWS behaviour it imitates (with the API reference),
- keeps AWS's shape of the answer, so the project's code runs unchanged against AWS,
- is listed in docs/emulator.md.

``apply()`` installs all of them; each module's own ``apply()`` is idempotent.
"""

from __future__ import annotations

import importlib

# One module per gap; the order does not matter.
EXTENSIONS = (
    "autoscaling",
    "ecs_agent",
    "ecs_deployments",
    "ecs_tasks",
    "elbv2_certificates",
    "ec2_dependencies",
    "ec2_zones",
    "rds_replicas",
    "rds_global",
    "servicediscovery",
    "servicediscovery_requests",
    "route53_limits",
    "ec2_peering",
    "ecs_dataplane",
    "elbv2_dataplane",
    "dns_dataplane",
    "ecr_replication",
    "ecs_instances",
    "ecs_blue_green",
    "elbv2_target_group_arns",
    "ec2_volumes",
)


def apply() -> list[str]:
    """Install every extension; returns their names (for the emulator log)."""
    applied = []
    for name in EXTENSIONS:
        module = importlib.import_module("%s.%s" % (__name__, name))
        module.apply()
        applied.append(name)
    return applied
