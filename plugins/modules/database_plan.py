#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: database_plan
short_description: Check the database inputs and plan the writer and the read replicas of every region
version_added: 0.1.0
description:
  - Runs the pure planner of the role C(megapool.aws.database) (C(plugins/module_utils/database_plan.py)) on the
    controller; makes no AWS call, so it can run before anything changes.
  - Fails with every problem of the inputs at once, each naming the variable and the fix (unknown engine, an engine
    not built yet, an instance class the engine or a global database does not support, backup retention out of range
    or off with replicas, a primary region that is not a region of the inventory, a Secrets Manager password with
    replicas, a KMS key of another region).
  - Returns the plan -- who writes, who replicates from whom, the KMS key and the peer CIDRs of each region, the SSM
    parameter names.
author:
  - megapool.aws maintainers (@megapool)
options:
  inputs:
    description:
      - The role's variables without the C(database_) prefix (C(engine), C(engine_version), C(instance_class),
        C(allocated_storage), C(max_allocated_storage), C(storage_type), C(backup_retention), C(backup_window),
        C(maintenance_window), C(name), C(username), C(port), C(master_password_mode), C(kms_key_ids),
        C(identifier), C(primary_region), C(performance_insights)), plus C(regions) (the inventory's regions in
        order), C(vpc_cidrs) (region to VPC CIDR), C(cluster) and C(env).
    type: dict
    required: true
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The module changes nothing; check mode returns the same plan.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""

EXAMPLES = r"""
- name: Plan the database of the inventory's regions
  megapool.aws.database_plan:
    inputs:
      engine: postgres
      engine_version: "16"
      instance_class: db.t4g.micro
      allocated_storage: 20
      max_allocated_storage: 100
      storage_type: gp3
      backup_retention: 7
      backup_window: "03:00-03:30"
      maintenance_window: "sun:04:00-sun:04:30"
      name: megapool
      username: megapool
      port: 5432
      master_password_mode: auto
      kms_key_ids: {}
      identifier: megapool-prod
      primary_region: eu-north-1
      regions: [eu-north-1, ap-southeast-1]
      vpc_cidrs: {eu-north-1: 10.10.0.0/16, ap-southeast-1: 10.20.0.0/16}
      cluster: megapool
      env: prod
  register: database_plan
"""

RETURN = r"""
plan:
  description: The topology.
  returned: success
  type: dict
  contains:
    engine:
      description: The engine.
      type: str
    primary_region:
      description: The writer's region.
      type: str
    replica_regions:
      description: The regions with a read replica.
      type: list
      elements: str
    password_mode:
      description: C(secrets_manager) (one region) or C(ssm) (with replicas).
      type: str
    parameters:
      description: SSM parameter names (C(master_password), C(url), C(reader_url)).
      type: dict
    members:
      description: Per region, C(role), C(identifier), C(source_region), C(kms_key_id), C(peer_cidrs).
      type: dict
errors:
  description: Every problem of the inputs (on failure).
  returned: failure
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.megapool.aws.plugins.module_utils.database_plan import PlanError
from ansible_collections.megapool.aws.plugins.module_utils.database_plan import plan


ARGUMENT_SPEC = dict(inputs=dict(type="dict", required=True))


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = plan(module.params["inputs"])
    except PlanError as e:
        module.fail_json(msg=" | ".join(e.errors), errors=e.errors)
    module.exit_json(changed=False, plan=result)


if __name__ == "__main__":
    main()
