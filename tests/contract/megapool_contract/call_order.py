# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ordering rules of a converge that AWS enforces and the emulator does not.

1. **The ECS cluster exists before the instances that join it.** The ECS agent on an instance whose user data says
   ``ECS_CLUSTER=<name>`` registers into that cluster at boot; if the cluster does not exist it logs
   ``ClientException: Cluster not found``; amazon-ecs-agent ``agent/app/agent.go`` (``doStart``) returns
   ``exitcodes.ExitTerminal`` for a registration error that is not transient, and ecs-init does not restart an agent
   that exited terminally: the instance never joins. So in every region a ``CreateAutoScalingGroup`` whose launch
   template joins cluster C must come after a successful ``CreateCluster`` of C in that region (and before any
   ``DeleteCluster`` of it).
2. **The ECS service-linked role exists before a capacity provider.** ``CreateCapacityProvider`` for an Auto Scaling
   group needs the ``AWSServiceRoleForECS`` role; ``CreateCluster`` creates it when it is missing, and
   ``iam:CreateServiceLinkedRole`` with ``AWSServiceName=ecs.amazonaws.com`` creates it explicitly
   (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html, "Creating the
   service-linked role"; https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html). The
   role is account-wide, so either call in any region earlier in the account's life satisfies the rule.

The log is read as epochs: per endpoint (one AWS account or one emulator), cut by emulator resets; per region for
clusters. A resource that the log never shows being created or deleted is not judged (the log may start on an
account where it already exists); ``Report.checked`` says how many creations were judged, so a log that judged
nothing is visible rather than a silent pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .calllog import origin


@dataclass
class Report:
    violations: list[str] = field(default_factory=list)
    checked: dict = field(default_factory=lambda: {"asg_cluster": 0, "capacity_provider_role": 0})


def _ok(record: dict) -> bool:
    return not record.get("error")


def _template_refs(params: dict) -> list[tuple[str, str]]:
    """("id"|"name", value) of the launch templates an Auto Scaling group request uses."""
    refs = []
    specs = [params.get("LaunchTemplate") or {}]
    mixed = (params.get("MixedInstancesPolicy") or {}).get("LaunchTemplate") or {}
    specs.append(mixed.get("LaunchTemplateSpecification") or {})
    for override in mixed.get("Overrides") or []:
        specs.append(override.get("LaunchTemplateSpecification") or {})
    for spec in specs:
        if spec.get("LaunchTemplateId"):
            refs.append(("id", spec["LaunchTemplateId"]))
        if spec.get("LaunchTemplateName"):
            refs.append(("name", spec["LaunchTemplateName"]))
    return refs


def _joined_cluster(params: dict) -> str | None:
    user_data = (params.get("LaunchTemplateData") or {}).get("UserData")
    if isinstance(user_data, dict):
        return user_data.get("ecs_cluster")
    return None


def check(records: list[dict]) -> Report:
    """Both rules over a log (records ordered by time, reset markers included)."""
    report = Report()
    clusters: dict = {}  # (endpoint, region) -> {name: "exists"|"gone"}
    templates: dict = {}  # (endpoint, region) -> {("id"|"name", value): cluster}
    ecs_role: dict = {}  # endpoint -> True once the service-linked role exists
    for record in records:
        endpoint = record.get("endpoint")
        if record.get("event") == "reset":
            for table in (clusters, templates):
                for key in [k for k in table if k[0] == endpoint]:
                    del table[key]
            ecs_role.pop(endpoint, None)
            continue
        if "operation" not in record:
            continue
        key = (endpoint, record.get("region"))
        op, params = record["operation"], record.get("params") or {}
        service = record["service"]
        if service == "ecs" and op == "CreateCluster" and _ok(record):
            clusters.setdefault(key, {})[params.get("clusterName", "default")] = "exists"
            ecs_role[endpoint] = True
        elif service == "ecs" and op == "DeleteCluster" and _ok(record):
            name = str(params.get("cluster", "")).rsplit("/", 1)[-1]
            clusters.setdefault(key, {})[name] = "gone"
        elif (
            service == "iam" and op == "CreateServiceLinkedRole" and params.get("AWSServiceName") == "ecs.amazonaws.com"
        ):
            if _ok(record) or "has been taken" in ((record.get("error") or {}).get("message") or ""):
                ecs_role[endpoint] = True
        elif (
            service == "iam"
            and op == "DeleteServiceLinkedRole"
            and "AWSServiceRoleForECS" in str(params.get("RoleName"))
        ):
            if _ok(record):
                ecs_role.pop(endpoint, None)
        elif service == "ec2" and op in ("CreateLaunchTemplate", "CreateLaunchTemplateVersion") and _ok(record):
            cluster = _joined_cluster(params)
            table = templates.setdefault(key, {})
            refs = [("name", params.get("LaunchTemplateName")), ("id", params.get("LaunchTemplateId"))]
            refs += [("id", v) for k, v in (record.get("result") or {}).items() if k.endswith("LaunchTemplateId")]
            for ref in refs:
                if ref[1]:
                    table[ref] = cluster
        elif service == "autoscaling" and op == "CreateAutoScalingGroup" and _ok(record):
            joined = {templates.get(key, {}).get(ref) for ref in _template_refs(params)} - {None}
            for cluster in sorted(joined):
                state = clusters.get(key, {}).get(cluster)
                report.checked["asg_cluster"] += 1
                if state != "exists":
                    report.violations.append(
                        "%s: CreateAutoScalingGroup %s (instances join ECS cluster %s) before CreateCluster %s in %s "
                        "- the ECS agent exits for good on 'cluster not found' [%s]"
                        % (
                            record.get("region"),
                            params.get("AutoScalingGroupName"),
                            cluster,
                            cluster,
                            endpoint,
                            origin(record),
                        )
                    )
        elif service == "ecs" and op == "CreateCapacityProvider" and _ok(record):
            report.checked["capacity_provider_role"] += 1
            if not ecs_role.get(endpoint):
                report.violations.append(
                    "%s: CreateCapacityProvider %s before the ECS service-linked role exists (neither "
                    "iam CreateServiceLinkedRole(ecs.amazonaws.com) nor an ECS CreateCluster came first) in %s [%s]"
                    % (record.get("region"), params.get("name"), endpoint, origin(record))
                )
    return report
