# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stop-gap AWS calls of the ecs_hosts role, for what amazon.aws 10 / community.aws 10 have no module for.

    python ecs_hosts_aws.py instance-types TYPE...                 (read only)
    python ecs_hosts_aws.py capacity-rebalance GROUP true|false [--check]
    python ecs_hosts_aws.py cluster-settings CLUSTER --container-insights MODE --tags JSON [--check]

Each subcommand is the interface of a module proposed to the collection (see docs/ecs.md, "Gaps"): when the module
lands, the role's task calls it instead and this file goes. Connection settings come from the usual AWS
environment variables (AWS_DEFAULT_REGION, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ... set by the role from
``megapool_aws``). Prints one JSON object: ``changed``, the resource after the run, and ``warnings``.
Writes only what differs, and nothing with --check; ``changed`` is what a read-back shows (or, with --check, would).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import boto3
import botocore.exceptions


class NotFound(Exception):
    """A resource the subcommand works on does not exist."""


def _client(service: str):
    return boto3.session.Session().client(service)


def instance_types(names: list[str]) -> dict[str, Any]:
    """Architecture, memory and vCPUs of each type the region offers; the names it does not know in ``missing``."""
    found = []
    paginator = _client("ec2").get_paginator("describe_instance_types")
    for page in paginator.paginate(Filters=[{"Name": "instance-type", "Values": sorted(set(names))}]):
        for item in page["InstanceTypes"]:
            found.append(
                {
                    "instance_type": item["InstanceType"],
                    "architectures": sorted(item["ProcessorInfo"]["SupportedArchitectures"]),
                    "memory_mib": item["MemoryInfo"]["SizeInMiB"],
                    "vcpus": item["VCpuInfo"]["DefaultVCpus"],
                }
            )
    known = {item["instance_type"] for item in found}
    by_name = {item["instance_type"]: item for item in found}
    return {
        "changed": False,
        "instance_types": [by_name[name] for name in names if name in by_name],
        "missing": [name for name in names if name not in known],
        "warnings": [],
    }


def _group(client, name: str) -> dict[str, Any]:
    groups = client.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    if not groups:
        raise NotFound("Auto Scaling group %s does not exist" % name)
    return groups[0]


def capacity_rebalance(name: str, wanted: bool, check: bool) -> dict[str, Any]:
    """CapacityRebalance of an Auto Scaling group (amazon.aws.autoscaling_group cannot set it)."""
    client = _client("autoscaling")
    before = bool(_group(client, name).get("CapacityRebalance"))
    warnings = []
    if before == wanted:
        return {"changed": False, "capacity_rebalance": before, "warnings": warnings}
    if check:
        return {"changed": True, "capacity_rebalance": wanted, "warnings": warnings}
    group = _group(client, name)
    params: dict[str, Any] = {"AutoScalingGroupName": name, "CapacityRebalance": wanted}
    # The emulator drops a group's MixedInstancesPolicy on any UpdateAutoScalingGroup that does not repeat it;
    # repeating the current one is a no-op on AWS.
    policy = group.get("MixedInstancesPolicy")
    if policy:
        spec = dict(policy["LaunchTemplate"]["LaunchTemplateSpecification"])
        spec.pop("LaunchTemplateName", None)
        params["MixedInstancesPolicy"] = dict(policy, LaunchTemplate=dict(policy["LaunchTemplate"], LaunchTemplateSpecification=spec))
    client.update_auto_scaling_group(**params)
    after = bool(_group(client, name).get("CapacityRebalance"))
    if after != wanted:
        warnings.append(
            "The endpoint accepted CapacityRebalance=%s for %s but still reports %s (the local emulator does not implement "
            "it on UpdateAutoScalingGroup); nothing changed." % (wanted, name, after)
        )
    return {"changed": after != before, "capacity_rebalance": after, "warnings": warnings}


def _cluster(client, name: str) -> dict[str, Any] | None:
    clusters = client.describe_clusters(clusters=[name], include=["SETTINGS", "TAGS"])["clusters"]
    return clusters[0] if clusters and clusters[0]["status"] != "INACTIVE" else None


def _settings(cluster: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in cluster.get("settings") or []}


def _tags(cluster: dict[str, Any]) -> dict[str, str]:
    return {item["key"]: item["value"] for item in cluster.get("tags") or []}


def cluster_settings(name: str, container_insights: str, tags: dict[str, str], check: bool) -> dict[str, Any]:
    """Container Insights and tags of an ECS cluster (community.aws.ecs_cluster manages neither; community.aws.ecs_tag
    fails on the emulator for a cluster without tags)."""
    client = _client("ecs")
    cluster = _cluster(client, name)
    if cluster is None:
        if check:
            return {"changed": True, "cluster": None, "warnings": []}
        raise NotFound("ECS cluster %s does not exist" % name)
    before = {"container_insights": _settings(cluster).get("containerInsights", "disabled"), "tags": _tags(cluster)}
    after = {"container_insights": container_insights, "tags": tags}
    if before == after:
        return {"changed": False, "cluster": dict(before, cluster_arn=cluster["clusterArn"]), "warnings": []}
    if not check:
        arn = cluster["clusterArn"]
        if before["container_insights"] != container_insights:
            client.update_cluster(cluster=name, settings=[{"name": "containerInsights", "value": container_insights}])
        stale = sorted(set(before["tags"]) - set(tags))
        if stale:
            client.untag_resource(resourceArn=arn, tagKeys=stale)
        wanted = {key: value for key, value in tags.items() if before["tags"].get(key) != value}
        if wanted:
            client.tag_resource(resourceArn=arn, tags=[{"key": key, "value": value} for key, value in sorted(wanted.items())])
        cluster = _cluster(client, name) or cluster
        after = {"container_insights": _settings(cluster).get("containerInsights", "disabled"), "tags": _tags(cluster)}
    return {"changed": before != after, "cluster": dict(after, cluster_arn=cluster["clusterArn"]), "diff": {"before": before, "after": after}, "warnings": []}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    types = commands.add_parser("instance-types")
    types.add_argument("names", nargs="+")
    rebalance = commands.add_parser("capacity-rebalance")
    rebalance.add_argument("group")
    rebalance.add_argument("wanted", choices=["true", "false"])
    rebalance.add_argument("--check", action="store_true")
    settings = commands.add_parser("cluster-settings")
    settings.add_argument("cluster")
    settings.add_argument("--container-insights", choices=["disabled", "enabled", "enhanced"], required=True)
    settings.add_argument("--tags", type=json.loads, required=True)
    settings.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command == "instance-types":
            result = instance_types(args.names)
        elif args.command == "capacity-rebalance":
            result = capacity_rebalance(args.group, args.wanted == "true", args.check)
        else:
            result = cluster_settings(args.cluster, args.container_insights, {str(k): str(v) for k, v in args.tags.items()}, args.check)
    except (NotFound, botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        print(json.dumps({"failed": True, "msg": "%s: %s" % (args.command, exc)}))
        return 1
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
