#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ecs_cluster_settings
short_description: Container Insights and tags of an existing ECS cluster
version_added: 0.1.0
description:
  - Sets what M(community.aws.ecs_cluster) does not manage on an existing ECS cluster - the C(containerInsights)
    setting and the tags.
  - Reads the cluster with one C(DescribeClusters) call (settings and tags) and compares before it writes -
    C(UpdateCluster) only when Container Insights differs, C(TagResource) / C(UntagResource) only for the tags that
    differ.
  - An option that is not set leaves that setting as it is.
author:
  - megapool.aws maintainers (@megapool)
options:
  name:
    description:
      - Name or ARN of the cluster. It must exist and be C(ACTIVE) (create it with M(community.aws.ecs_cluster)).
      - In check mode a missing cluster is reported as a change (an earlier task would have created it).
    type: str
    required: true
  container_insights:
    description: CloudWatch Container Insights for the cluster.
    type: str
    choices: ['disabled', 'enabled', 'enhanced']
extends_documentation_fragment:
  - megapool.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Cluster tags and Container Insights
  megapool.aws.ecs_cluster_settings:
    name: megapool-prod
    container_insights: enabled
    tags:
      "megapool:env": prod
      "megapool:cluster": megapool
    purge_tags: true
  register: settings

- name: Add one tag, keep the others
  megapool.aws.ecs_cluster_settings:
    name: megapool-prod
    tags:
      team: core
    purge_tags: false
"""

RETURN = r"""
cluster:
  description: The cluster after the run (predicted in check mode); empty when it does not exist (check mode only).
  returned: always
  type: dict
  contains:
    cluster_name:
      description: The name of the cluster.
      type: str
      returned: when the cluster exists
      sample: megapool-prod
    cluster_arn:
      description: The ARN of the cluster.
      type: str
      returned: when the cluster exists
      sample: arn:aws:ecs:eu-north-1:123456789012:cluster/megapool-prod
    status:
      description: The status of the cluster.
      type: str
      returned: when the cluster exists
      sample: ACTIVE
    container_insights:
      description: C(disabled), C(enabled) or C(enhanced) (a cluster that never had the setting reports C(disabled)).
      type: str
      returned: when the cluster exists
      sample: enabled
    tags:
      description: The tags of the cluster.
      type: dict
      returned: when the cluster exists
      sample: {"megapool:env": "prod"}
diff:
  description: Container Insights and tags before and after the run.
  returned: always
  type: dict
  contains:
    before:
      description: Before the run.
      type: dict
      returned: always
    after:
      description: After the run (predicted in check mode).
      type: dict
      returned: always
  sample:
    before: {"container_insights": "disabled", "tags": {}}
    after: {"container_insights": "enabled", "tags": {"megapool:env": "prod"}}
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler

from ansible_collections.megapool.aws.plugins.module_utils.base import TAGS_ARGUMENT_SPEC
from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import CONTAINER_INSIGHTS
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import ClusterSettingsPlan
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import cluster_view
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import plan_cluster_settings
from ansible_collections.megapool.aws.plugins.module_utils.ecs_settings import predict_cluster

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    name=dict(type="str", required=True),
    container_insights=dict(type="str", choices=list(CONTAINER_INSIGHTS)),
    **TAGS_ARGUMENT_SPEC,
)


@AWSErrorHandler.common_error_handler("describe the cluster")
def _describe(client, name: str) -> dict[str, Any] | None:
    clusters = client.describe_clusters(clusters=[name], include=["SETTINGS", "TAGS"]).get("clusters", [])
    return clusters[0] if clusters and clusters[0].get("status") != "INACTIVE" else None


@AWSErrorHandler.common_error_handler("update the cluster settings")
def _update(client, name: str, settings: tuple[tuple[str, str], ...]) -> None:
    client.update_cluster(cluster=name, settings=[{"name": key, "value": value} for key, value in settings])


@AWSErrorHandler.common_error_handler("tag the cluster")
def _tag(client, arn: str, tags: dict[str, str]) -> None:
    client.tag_resource(resourceArn=arn, tags=[{"key": key, "value": value} for key, value in tags.items()])


@AWSErrorHandler.common_error_handler("untag the cluster")
def _untag(client, arn: str, keys: tuple[str, ...]) -> None:
    client.untag_resource(resourceArn=arn, tagKeys=list(keys))


def _apply(client, view: dict[str, Any], plan: ClusterSettingsPlan) -> None:
    if plan.settings:
        _update(client, view["cluster_arn"], plan.settings)
    if plan.tags_to_unset:
        _untag(client, view["cluster_arn"], plan.tags_to_unset)
    if plan.tags_to_set:
        _tag(client, view["cluster_arn"], plan.tags_to_set)


def _compared(view: dict[str, Any]) -> dict[str, Any]:
    return {key: view.get(key) for key in ("container_insights", "tags")} if view else {}


def _run(module: MegapoolAWSModule) -> dict[str, Any]:
    name, insights, tags = module.params["name"], module.params["container_insights"], module.params["tags"]
    client = module.client("ecs")
    view = cluster_view(_describe(client, name))
    if not view:
        if not module.check_mode:
            module.fail_json(
                msg="ECS cluster %s does not exist (or is INACTIVE) in %s: create it first (community.aws.ecs_cluster)."
                % (name, module.region)
            )
        wanted = {"container_insights": insights, "tags": dict(tags or {})}
        return dict(changed=True, cluster={}, diff={"before": {}, "after": wanted})
    plan = plan_cluster_settings(view, insights, tags, module.params["purge_tags"])
    after = predict_cluster(view, plan)
    if plan.changed and not module.check_mode:
        _apply(client, view, plan)
        after = cluster_view(_describe(client, name)) or after
    return dict(changed=plan.changed, cluster=after, diff={"before": _compared(view), "after": _compared(after)})


def main() -> None:
    module = MegapoolAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(_run, module)


if __name__ == "__main__":
    main()
