# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-side module of the molecule cleanups (not part of the collection): what of this environment's cluster is left
in one region, read in ONE module process (about 0.6 CPU s) instead of one amazon.aws/community.aws ``*_info`` module
process per resource kind (19, 6 and 6 of them, and two SSM lookups). Ansible finds it in the ``library/`` directory
beside the playbooks that use it (a playbook's directory is added to the plugin paths when it is parsed, imported
playbooks included).

Every kind, filter and condition of the former tasks is kept (docs/testing.md, "One read for what is left"):

=============================================== ===============================================================
former task (module)                            read here (``left`` key): what counts as left
=============================================== ===============================================================
ours: ec2_vpc_net_info filters=owned            DescribeVpcs owned tags (``vpcs``)
ours: ec2_instance_info owned + live states     DescribeInstances owned tags, pending..shutting-down (``instances``)
ours: ec2_vpc_nat_gateway_info                  DescribeNatGateways pending/available/deleting, any (``nat_gateways``)
ours: ec2_eip_info                              DescribeAddresses, any (``elastic_ips``)
ours: ec2_vpc_peering_info + select             owned + live status-code filters, then live status and our cluster tag
                                                 checked on the answer too (the emulator ignores filters) (``peerings``)
ours: ec2_security_group_info owned             DescribeSecurityGroups owned tags (``security_groups``)
ours: autoscaling_group_info tags               DescribeAutoScalingGroups, both tags equal (``auto_scaling_groups``)
ours: ec2_launch_template_info owned            DescribeLaunchTemplates owned tags (``launch_templates``)
ours: ecs_capacity_provider absent, check mode  DescribeCapacityProviders by name, live (``capacity_providers``)
ours: ecs_cluster absent, check mode            DescribeClusters by name, status not INACTIVE (``ecs_clusters``)
ours: cloudwatch_metric_alarm_info prefix       DescribeAlarms <cluster>-<env>- metric alarms (``alarms``)
ours: iam_role_info name (global)               GetRole instance role (``iam_roles``)
ours: iam_instance_profile_info name (global)   GetInstanceProfile instance role (``instance_profiles``)
ours: elb_application_lb_info + tag select      DescribeLoadBalancers + DescribeTags, both tags (``load_balancers``)
ours: elb_target_group_info + tag select        DescribeTargetGroups + DescribeTags, both tags (``target_groups``)
ours: acm_certificate_info + tag select         ListCertificates (every key type) + tags, both tags (``certificates``)
ours: route53_info hosted_zone + select         ListHostedZones: the public zone, the namespace, names starting
                                                 with the namespace's (global) (``hosted_zones``)
ours: route53_info health_check + select        ListHealthChecks, FQDN has <cluster>-<env> (global) (``health_checks``)
ours: servicediscovery_namespace absent, check  ListNamespaces DNS_PRIVATE of that name (``cloud_map_namespaces``)
release: ecs_service_info                       DescribeServices <name>-web, ACTIVE (``ecs_services``)
release: ecs_taskdefinition_info x2             DescribeTaskDefinition <name>-web/-migrate ACTIVE (``task_definitions``)
release: cloudwatchlogs_log_group_info          DescribeLogGroups prefix /ecs/<name> (``log_groups``)
release: ecs_ecr absent, check mode             DescribeRepositories <name> (``ecr_repositories``)
release: iam_role_info path / + match           ListRoles, ^<name>-ecs-(execution|task)$ (global) (``release_roles``)
release: ssm_parameter lookup bypath            GetParametersByPath /<cluster>/<env>/ recursive (``ssm_parameters``)
database: rds_instance_info                     DescribeDBInstances, any (``db_instances``)
database: rds_snapshot_info                     DescribeDBSnapshots, any (``db_snapshots``)
database: rds_cluster_info                      DescribeDBClusters, any (``db_clusters``)
database: rds_snapshot_info manual, cluster     DescribeDBClusterSnapshots <name>, manual (``db_cluster_snapshots``)
database: rds_global_cluster_info               DescribeGlobalClusters <name> (``global_clusters``)
database: ssm_parameter lookup (4 names)        GetParameters database/{master_password,url,reader_url},
                                                 DATABASE_URL (names only, never values) (``database_parameters``)
database: rds_subnet_group absent, check mode   DescribeDBSubnetGroups <name> (``db_subnet_groups``)
=============================================== ===============================================================
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: megapool_leftovers
short_description: What of this environment's cluster is left in one region (molecule cleanups)
description:
  - Reads every resource kind the molecule cleanups check and returns the ids of what is left, by kind.
  - Test-side only; it changes nothing.
options:
  look_for:
    description: The groups of kinds to read.
    type: list
    elements: str
    choices: [ours, release, database]
    required: true
  env:
    description: The environment (tag C(megapool:env)).
    type: str
    required: true
  cluster:
    description: The cluster (tag C(megapool:cluster)).
    type: str
    required: true
  ecs_names:
    description: The ECS names (megapool.aws.ecs_hosts C(names)); C(cluster), C(capacity_provider), C(instance_role).
    type: dict
  zone_name:
    description: The public hosted zone's name (C(dns_zone_name)); empty for none.
    type: str
    default: ""
  namespace_name:
    description: The region's Cloud Map namespace, C(<region>.<domain>).
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

RETURN = r"""
left:
  description: Kind -> ids of what is left; only kinds with something left (an empty dict says nothing is).
  type: dict
  returned: always
read:
  description: The kinds that were read.
  type: list
  returned: always
"""

import re
from typing import Any
from typing import Callable
from typing import Iterable

from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.base import aws_call
from ansible_collections.megapool.aws.plugins.module_utils.ecs_capacity_provider import is_live

LIVE_INSTANCE_STATES = ["pending", "running", "stopping", "stopped", "shutting-down"]
LIVE_NAT_STATES = ["pending", "available", "deleting"]
LIVE_PEERING_STATES = ["initiating-request", "pending-acceptance", "active", "provisioning"]
# ListCertificates returns only RSA_2048 certificates unless the key types are given (amazon.aws module_utils/acm.py;
# https://docs.aws.amazon.com/acm/latest/APIReference/API_ListCertificates.html, "Includes").
ACM_KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]


def _all(client: Any, operation: str, key: str, **params: Any) -> list:
    """Every item of a paginated list call (the emulator and AWS page the same way)."""
    return client.get_paginator(operation).paginate(**params).build_full_result().get(key, [])


def _tags(pairs: Iterable[dict] | None) -> dict:
    return {pair["Key"]: pair["Value"] for pair in pairs or []}


class Leftovers:
    """The reads; ``client(service)`` gives a client of the region."""

    def __init__(self, client: Callable[[str], Any], params: dict) -> None:
        self.client = client
        self.env = params["env"]
        self.cluster = params["cluster"]
        self.name = "%s-%s" % (self.cluster, self.env)
        self.params = params
        self.owned = {"megapool:env": self.env, "megapool:cluster": self.cluster}
        self.left: dict[str, list[str]] = {}
        self.read: list[str] = []

    def _ours(self, tags: dict) -> bool:
        return all(tags.get(key) == value for key, value in self.owned.items())

    def _filters(self, **extra: list[str]) -> list[dict]:
        filters = [{"Name": "tag:" + key, "Values": [value]} for key, value in self.owned.items()]
        return filters + [{"Name": name.replace("_", "-"), "Values": values} for name, values in extra.items()]

    def note(self, kind: str, ids: Iterable[str]) -> None:
        self.read.append(kind)
        ids = [i for i in ids if i is not None]
        if ids:
            self.left[kind] = sorted(set(ids))

    def call(self, what: str, func: Callable, *args: Any, **kwargs: Any) -> Any:
        return aws_call("%s (leftovers of %s)" % (what, self.name), func, *args, **kwargs)

    # ------------------------------------------------------------------ assert_empty.yml
    def ours(self) -> None:
        ec2 = self.client("ec2")
        self.note(
            "vpcs",
            (
                v["VpcId"]
                for v in self.call("describe VPCs", _all, ec2, "describe_vpcs", "Vpcs", Filters=self._filters())
            ),
        )
        reservations = self.call(
            "describe instances",
            _all,
            ec2,
            "describe_instances",
            "Reservations",
            Filters=self._filters(instance_state_name=LIVE_INSTANCE_STATES),
        )
        self.note("instances", (i["InstanceId"] for r in reservations for i in r.get("Instances", [])))
        nats = self.call(
            "describe NAT gateways",
            _all,
            ec2,
            "describe_nat_gateways",
            "NatGateways",
            Filter=[{"Name": "state", "Values": LIVE_NAT_STATES}],
        )
        self.note("nat_gateways", (n["NatGatewayId"] for n in nats))
        addresses = self.call("describe addresses", ec2.describe_addresses).get("Addresses", [])
        self.note("elastic_ips", (a.get("PublicIp") or a.get("AllocationId") for a in addresses))
        peerings = self.call(
            "describe peerings",
            _all,
            ec2,
            "describe_vpc_peering_connections",
            "VpcPeeringConnections",
            Filters=self._filters(status_code=LIVE_PEERING_STATES),
        )
        self.note(
            "peerings",
            (
                p["VpcPeeringConnectionId"]
                for p in peerings
                if (p.get("Status") or {}).get("Code") in LIVE_PEERING_STATES
                and _tags(p.get("Tags")).get("megapool:cluster") == self.cluster
            ),
        )
        sgs = self.call(
            "describe security groups", _all, ec2, "describe_security_groups", "SecurityGroups", Filters=self._filters()
        )
        self.note("security_groups", (g["GroupId"] for g in sgs))
        groups = self.call(
            "describe Auto Scaling groups",
            _all,
            self.client("autoscaling"),
            "describe_auto_scaling_groups",
            "AutoScalingGroups",
        )
        self.note(
            "auto_scaling_groups", (g["AutoScalingGroupName"] for g in groups if self._ours(_tags(g.get("Tags"))))
        )
        templates = self.call(
            "describe launch templates",
            _all,
            ec2,
            "describe_launch_templates",
            "LaunchTemplates",
            Filters=self._filters(),
        )
        self.note("launch_templates", (t["LaunchTemplateName"] for t in templates))

        names = self.params["ecs_names"] or {}
        ecs = self.client("ecs")
        provider = names["capacity_provider"]
        providers = self.call(
            "describe capacity provider %s" % provider,
            ecs.describe_capacity_providers,
            capacityProviders=[provider],
        ).get("capacityProviders", [])
        self.note("capacity_providers", (p["name"] for p in providers if p.get("name") == provider and is_live(p)))
        clusters = self.call("describe ECS cluster", ecs.describe_clusters, clusters=[names["cluster"]]).get(
            "clusters", []
        )
        self.note(
            "ecs_clusters",
            (
                "%s (%s)" % (c["clusterName"], c.get("status"))
                for c in clusters
                if c.get("clusterName") == names["cluster"] and c.get("status", "INACTIVE") != "INACTIVE"
            ),
        )
        alarms = self.call(
            "describe alarms",
            _all,
            self.client("cloudwatch"),
            "describe_alarms",
            "MetricAlarms",
            AlarmNamePrefix=self.name + "-",
            AlarmTypes=["MetricAlarm"],
        )
        self.note("alarms", (a["AlarmName"] for a in alarms))
        iam = self.client("iam")
        role = self.call(
            "read IAM role", iam.get_role, RoleName=names["instance_role"], missing=["NoSuchEntity"], missing_value={}
        )
        self.note("iam_roles", [role["Role"]["RoleName"]] if role else [])
        profile = self.call(
            "read instance profile",
            iam.get_instance_profile,
            InstanceProfileName=names["instance_role"],
            missing=["NoSuchEntity"],
            missing_value={},
        )
        self.note("instance_profiles", [profile["InstanceProfile"]["InstanceProfileName"]] if profile else [])

        elbv2 = self.client("elbv2")
        lbs = self.call("describe load balancers", _all, elbv2, "describe_load_balancers", "LoadBalancers")
        lb_tags = self._elbv2_tags(elbv2, [lb["LoadBalancerArn"] for lb in lbs])
        self.note(
            "load_balancers",
            (lb["LoadBalancerName"] for lb in lbs if self._ours(lb_tags.get(lb["LoadBalancerArn"], {}))),
        )
        tgs = self.call("describe target groups", _all, elbv2, "describe_target_groups", "TargetGroups")
        tg_tags = self._elbv2_tags(elbv2, [tg["TargetGroupArn"] for tg in tgs])
        self.note(
            "target_groups", (tg["TargetGroupName"] for tg in tgs if self._ours(tg_tags.get(tg["TargetGroupArn"], {})))
        )
        acm = self.client("acm")
        certificates = self.call(
            "list certificates",
            _all,
            acm,
            "list_certificates",
            "CertificateSummaryList",
            Includes={"keyTypes": ACM_KEY_TYPES},
        )
        self.note(
            "certificates",
            (
                c["CertificateArn"]
                for c in certificates
                if self._ours(
                    _tags(
                        self.call(
                            "list tags of certificate",
                            acm.list_tags_for_certificate,
                            CertificateArn=c["CertificateArn"],
                            missing=["ResourceNotFoundException"],
                            missing_value={},
                        ).get("Tags")
                    )
                )
            ),
        )

        route53 = self.client("route53")
        namespace = (self.params["namespace_name"] or "").rstrip(".")
        zone_name = (self.params["zone_name"] or "").rstrip(".")
        zones = self.call("list hosted zones", _all, route53, "list_hosted_zones", "HostedZones")
        self.note(
            "hosted_zones",
            (
                z["Name"].rstrip(".")
                for z in zones
                if z["Name"].rstrip(".") in (zone_name, namespace) or re.match(re.escape(namespace), z["Name"])
            ),
        )
        checks = self.call("list health checks", _all, route53, "list_health_checks", "HealthChecks")
        self.note(
            "health_checks",
            (
                h["Id"]
                for h in checks
                if self.name in ((h.get("HealthCheckConfig") or {}).get("FullyQualifiedDomainName") or "")
            ),
        )
        namespaces = self.call(
            "list Cloud Map namespaces",
            _all,
            self.client("servicediscovery"),
            "list_namespaces",
            "Namespaces",
            Filters=[
                {"Name": "TYPE", "Values": ["DNS_PRIVATE"], "Condition": "EQ"},
                {"Name": "NAME", "Values": [namespace], "Condition": "EQ"},
            ],
        )
        self.note(
            "cloud_map_namespaces",
            (
                n["Id"]
                for n in namespaces
                if (n.get("Name") or "").rstrip(".").lower() == namespace.lower() and n.get("Type") == "DNS_PRIVATE"
            ),
        )

    def _elbv2_tags(self, elbv2: Any, arns: list[str]) -> dict[str, dict]:
        tags: dict[str, dict] = {}
        for start in range(0, len(arns), 20):  # DescribeTags takes at most 20 ARNs
            answer = self.call("describe tags", elbv2.describe_tags, ResourceArns=arns[start : start + 20])
            for description in answer.get("TagDescriptions", []):
                tags[description["ResourceArn"]] = _tags(description.get("Tags"))
        return tags

    # ------------------------------------------------------------------ assert_release_empty.yml
    def release(self) -> None:
        ecs = self.client("ecs")
        services = self.call(
            "describe the service",
            ecs.describe_services,
            cluster=self.name,
            services=[self.name + "-web"],
            missing=["ClusterNotFoundException"],
            missing_value={},
        ).get("services", [])
        self.note("ecs_services", (s["serviceName"] for s in services if s.get("status") == "ACTIVE"))
        definitions = []
        for family in (self.name + "-web", self.name + "-migrate"):
            # Without a revision: the latest ACTIVE one; ClientException when the family has none.
            answer = self.call(
                "describe task definition %s" % family,
                ecs.describe_task_definition,
                taskDefinition=family,
                missing=["ClientException"],
                missing_value={},
            ).get("taskDefinition")
            if answer and answer.get("status") == "ACTIVE":
                definitions.append(answer["taskDefinitionArn"])
        self.note("task_definitions", definitions)
        groups = self.call(
            "describe log groups",
            _all,
            self.client("logs"),
            "describe_log_groups",
            "logGroups",
            logGroupNamePrefix="/ecs/" + self.name,
        )
        self.note("log_groups", (g["logGroupName"] for g in groups))
        repositories = self.call(
            "describe the repository",
            self.client("ecr").describe_repositories,
            repositoryNames=[self.name],
            missing=["RepositoryNotFoundException"],
            missing_value={},
        ).get("repositories", [])
        self.note("ecr_repositories", (r["repositoryName"] for r in repositories))
        roles = self.call("list IAM roles", _all, self.client("iam"), "list_roles", "Roles", PathPrefix="/")
        pattern = re.compile(re.escape(self.name) + "-ecs-(execution|task)$")
        self.note("release_roles", (r["RoleName"] for r in roles if pattern.match(r["RoleName"])))
        parameters = self.call(
            "list SSM parameters",
            _all,
            self.client("ssm"),
            "get_parameters_by_path",
            "Parameters",
            Path="/%s/%s/" % (self.cluster, self.env),
            Recursive=True,
        )
        self.note("ssm_parameters", (p["Name"] for p in parameters))

    # ------------------------------------------------------------------ database/assert_database_empty.yml
    def database(self) -> None:
        rds = self.client("rds")
        instances = self.call("describe DB instances", _all, rds, "describe_db_instances", "DBInstances")
        self.note("db_instances", (i["DBInstanceIdentifier"] for i in instances))
        snapshots = self.call("describe DB snapshots", _all, rds, "describe_db_snapshots", "DBSnapshots")
        self.note("db_snapshots", (s["DBSnapshotIdentifier"] for s in snapshots))
        clusters = self.call("describe DB clusters", _all, rds, "describe_db_clusters", "DBClusters")
        self.note("db_clusters", (c["DBClusterIdentifier"] for c in clusters))
        cluster_snapshots = self.call(
            "describe DB cluster snapshots",
            _all,
            rds,
            "describe_db_cluster_snapshots",
            "DBClusterSnapshots",
            DBClusterIdentifier=self.name,
            SnapshotType="manual",
            missing=["DBClusterNotFoundFault"],
            missing_value=[],
        )
        self.note("db_cluster_snapshots", (s["DBClusterSnapshotIdentifier"] for s in cluster_snapshots))
        global_clusters = self.call(
            "describe the global cluster",
            rds.describe_global_clusters,
            GlobalClusterIdentifier=self.name,
            missing=["GlobalClusterNotFoundFault"],
            missing_value={},
        ).get("GlobalClusters", [])
        self.note("global_clusters", (g["GlobalClusterIdentifier"] for g in global_clusters))
        prefix = "/%s/%s/" % (self.cluster, self.env)
        names = [prefix + "database/" + n for n in ("master_password", "url", "reader_url")] + [prefix + "DATABASE_URL"]
        # Names only: the values (a password among them) never reach the result.
        found = self.call("read SSM parameters", self.client("ssm").get_parameters, Names=names).get("Parameters", [])
        self.note("database_parameters", (p["Name"] for p in found if p.get("Value")))
        subnet_groups = self.call(
            "describe the DB subnet group",
            rds.describe_db_subnet_groups,
            DBSubnetGroupName=self.name,
            missing=["DBSubnetGroupNotFoundFault"],
            missing_value={},
        ).get("DBSubnetGroups", [])
        self.note("db_subnet_groups", (g["DBSubnetGroupName"] for g in subnet_groups))


def main() -> None:
    module = MegapoolAWSModule(
        argument_spec=dict(
            look_for=dict(type="list", elements="str", choices=["ours", "release", "database"], required=True),
            env=dict(type="str", required=True),
            cluster=dict(type="str", required=True),
            ecs_names=dict(type="dict"),
            zone_name=dict(type="str", default=""),
            namespace_name=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    if "ours" in module.params["look_for"] and not (module.params["ecs_names"] and module.params["namespace_name"]):
        module.fail_json(msg="look_for=ours needs ecs_names and namespace_name")
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in clients:
            clients[service] = module.region_clients(service, [module.region])[module.region]
        return clients[service]

    def body() -> dict:
        reads = Leftovers(client, module.params)
        for group in ("ours", "release", "database"):
            if group in module.params["look_for"]:
                getattr(reads, group)()
        return {"changed": False, "left": reads.left, "read": reads.read}

    module.run(body)


if __name__ == "__main__":
    main()
