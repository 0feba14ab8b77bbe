# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site summary planner (module_utils/site_summary.py) and its filter: what site.yml's Summary play prints.

The planner replaced a Jinja expression in site.yml; ``JINJA_SUMMARY`` below is that expression as it was, rendered by
Ansible's own templar on the same variables: the printed content stays the same, case by case.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible.template import trust_as_template

from ansible_collections.megapool.aws.plugins.filter.site_summary import FilterModule
from ansible_collections.megapool.aws.plugins.module_utils.site_summary import NOTHING_BUILT
from ansible_collections.megapool.aws.plugins.module_utils.site_summary import region_peerings
from ansible_collections.megapool.aws.plugins.module_utils.site_summary import site_outputs
from ansible_collections.megapool.aws.plugins.module_utils.site_summary import site_summary

SITE = Path(__file__).resolve().parents[4] / "playbooks" / "site.yml"

JINJA_SUMMARY = """{{ {'vpc': network_outputs.vpc_id ~ ' ' ~ network_outputs.cidr,
    'azs': network_outputs.azs,
    'public_subnets': network_outputs.public_subnet_ids,
    'private_subnets': network_outputs.private_subnet_ids,
    'nat_mode': network_nat_mode,
    'security_groups': network_outputs.security_groups,
    'bastion': network_outputs.bastion,
    'peerings': peering_result.peerings | default([])
      | selectattr('name', 'search', inventory_hostname)
      | map(attribute='name') | zip(peering_result.peerings | default([])
      | selectattr('name', 'search', inventory_hostname) | map(attribute='status')) | map('join', ': '),
    'ecs': {'cluster': ecs_hosts_outputs.cluster_name, 'capacity_provider': ecs_hosts_outputs.capacity_provider,
            'auto_scaling_group': ecs_hosts_outputs.auto_scaling_group_name,
            'instances': ecs_hosts_outputs.architecture ~ ' ' ~ ecs_hosts_outputs.instance_types | join('/'),
            'task_memory_mib': ecs_hosts_outputs.task_memory_mib}
           if ecs_hosts_outputs is defined else 'nothing built yet (check mode)',
    'edge': {'load_balancer': alb_outputs.dns_name, 'certificate': dns_certificate_arn | default(None),
             'names': dns_outputs.names | default([]),
             'discovery': (dns_outputs.discovery.service_name ~ '.' ~ dns_outputs.discovery.namespace_name)
                          if dns_outputs is defined else None}
            if alb_outputs.dns_name | default(None) else 'nothing built yet (check mode)',
    'database': {'role': database_outputs.role, 'writer': database_outputs.writer_endpoint,
                 'reader': database_outputs.reader_endpoint, 'port': database_outputs.port}
                if database_outputs.writer_endpoint | default(None) else 'nothing built yet (check mode)',
    'release': (release_outputs.task_definition ~ ' ' ~ release_outputs.image)
               if release_outputs.task_definition | default(None) else 'nothing deployed yet (check mode)'}
   if network_outputs is defined else 'nothing built yet (check mode)' }}"""

REGION = "eu-north-1"
NETWORK = {
    "vpc_id": "vpc-0a1",
    "cidr": "10.20.0.0/16",
    "azs": ["eun1-az1", "eun1-az2"],
    "public_subnet_ids": ["subnet-1", "subnet-2"],
    "private_subnet_ids": ["subnet-3", "subnet-4"],
    "security_groups": {"alb": "sg-1", "app": "sg-2"},
    "bastion": {"instance_id": "i-1"},
}
PEERINGS = [
    {"name": "shop-local-eu-north-1-ap-southeast-1", "status": "active"},
    {"name": "shop-local-ap-southeast-1-us-east-1", "status": "pending-acceptance"},
    {"name": "shop-local-eu-north-1-us-east-1", "status": "provisioning"},
]
ECS = {
    "cluster_name": "shop-local",
    "capacity_provider": "shop-local-cp",
    "auto_scaling_group_name": "shop-local-asg",
    "architecture": "arm64",
    "instance_types": ["t4g.small", "t4g.medium"],
    "task_memory_mib": 1600,
}
ALB = {"dns_name": "shop-local-1.eu-north-1.elb.amazonaws.com", "name": "shop-local"}
DNS = {"names": ["app.example.com"], "discovery": {"service_name": "app", "namespace_name": "shop-local.internal"}}
DATABASE = {
    "role": "writer",
    "writer_endpoint": "db.eu-north-1.rds.amazonaws.com",
    "reader_endpoint": None,
    "port": 5432,
}
RELEASE = {"task_definition": "shop-local-web:3", "image": "megapool.local/megapool-demo:1.0.0"}
CERTIFICATE = "arn:aws:acm:eu-north-1:123456789012:certificate/1"

# (role variables as site.yml's Summary play sees them; a missing key is an undefined variable)
CASES = {
    "everything built": dict(
        network_outputs=NETWORK,
        network_nat_mode="single",
        peering_result={"peerings": PEERINGS},
        ecs_hosts_outputs=ECS,
        alb_outputs=ALB,
        dns_outputs=DNS,
        dns_certificate_arn=CERTIFICATE,
        database_outputs=DATABASE,
        release_outputs=RELEASE,
    ),
    "first run in check mode": dict(network_nat_mode="single"),
    "network only (check mode of the later layers)": dict(network_outputs=NETWORK, network_nat_mode="per_az"),
    "no peering result, no database writer yet": dict(
        network_outputs=NETWORK,
        network_nat_mode="single",
        ecs_hosts_outputs=ECS,
        alb_outputs=ALB,
        dns_outputs=DNS,
        database_outputs={"role": "replica", "writer_endpoint": None, "reader_endpoint": None, "port": 5432},
        release_outputs={},
    ),
    "load balancer without dns outputs": dict(
        network_outputs=NETWORK, network_nat_mode="single", alb_outputs=ALB, peering_result={"peerings": []}
    ),
    "a load balancer not built yet": dict(
        network_outputs=NETWORK,
        network_nat_mode="single",
        alb_outputs={"dns_name": None},
        dns_outputs=DNS,
        release_outputs={"task_definition": None},
    ),
}


def _jinja(variables: dict) -> object:
    templar = Templar(loader=DataLoader(), variables=dict(variables, inventory_hostname=REGION))
    return templar.template(trust_as_template(JINJA_SUMMARY))


def _planner(variables: dict) -> object:
    return FilterModule().filters()["site_summary"](
        REGION,
        network=variables.get("network_outputs"),
        nat_mode=variables.get("network_nat_mode"),
        peerings=(variables.get("peering_result") or {}).get("peerings", []),
        ecs_hosts=variables.get("ecs_hosts_outputs"),
        alb=variables.get("alb_outputs"),
        dns=variables.get("dns_outputs"),
        certificate_arn=variables.get("dns_certificate_arn"),
        database=variables.get("database_outputs"),
        release=variables.get("release_outputs"),
    )


@pytest.mark.parametrize("variables", list(CASES.values()), ids=list(CASES))
def test_the_planner_prints_what_the_jinja_expression_printed(variables):
    assert _planner(variables) == _jinja(variables)


def test_everything_built():
    assert site_summary(REGION, NETWORK, "single", PEERINGS, ECS, ALB, DNS, CERTIFICATE, DATABASE, RELEASE) == {
        "vpc": "vpc-0a1 10.20.0.0/16",
        "azs": ["eun1-az1", "eun1-az2"],
        "public_subnets": ["subnet-1", "subnet-2"],
        "private_subnets": ["subnet-3", "subnet-4"],
        "nat_mode": "single",
        "security_groups": {"alb": "sg-1", "app": "sg-2"},
        "bastion": {"instance_id": "i-1"},
        "peerings": ["shop-local-eu-north-1-ap-southeast-1: active", "shop-local-eu-north-1-us-east-1: provisioning"],
        "ecs": {
            "cluster": "shop-local",
            "capacity_provider": "shop-local-cp",
            "auto_scaling_group": "shop-local-asg",
            "instances": "arm64 t4g.small/t4g.medium",
            "task_memory_mib": 1600,
        },
        "edge": {
            "load_balancer": "shop-local-1.eu-north-1.elb.amazonaws.com",
            "certificate": CERTIFICATE,
            "names": ["app.example.com"],
            "discovery": "app.shop-local.internal",
        },
        "database": {"role": "writer", "writer": "db.eu-north-1.rds.amazonaws.com", "reader": None, "port": 5432},
        "release": "shop-local-web:3 megapool.local/megapool-demo:1.0.0",
    }


def test_nothing_built_is_one_line():
    assert site_summary(REGION) == NOTHING_BUILT


@pytest.mark.parametrize(
    "region, expected",
    [
        (
            "eu-north-1",
            ["shop-local-eu-north-1-ap-southeast-1: active", "shop-local-eu-north-1-us-east-1: provisioning"],
        ),
        (
            "us-east-1",
            [
                "shop-local-ap-southeast-1-us-east-1: pending-acceptance",
                "shop-local-eu-north-1-us-east-1: provisioning",
            ],
        ),
        ("sa-east-1", []),
    ],
)
def test_region_peerings_are_those_naming_the_region(region, expected):
    assert region_peerings(region, PEERINGS) == expected


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((None,), {}, "the input must be the region"),
        ((REGION,), {"network": "vpc-1"}, "network must be the role's network_outputs"),
        ((REGION,), {"release": ["x"]}, "release must be the role's release_outputs"),
        ((REGION,), {"peerings": "pcx-1"}, "peerings must be a list"),
    ],
)
def test_the_filter_refuses_what_is_not_outputs(args, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FilterModule().filters()["site_summary"](*args, **kwargs)


def test_site_yml_summary_play_prints_the_planner():
    plays = [play for play in yaml.safe_load(SITE.read_text()) if play["name"] == "Summary"]
    tasks = [task for task in plays[0]["tasks"] if task["name"] == "Summary per region"]
    assert len(tasks) == 1
    assert "megapool.aws.site_summary(" in tasks[0]["ansible.builtin.debug"]["msg"]


@pytest.mark.parametrize("variables", list(CASES.values()), ids=list(CASES))
def test_site_yml_prints_what_it_printed_before(variables):
    """site.yml's own task, rendered by Ansible (the filter found by its FQCN), against the expression it replaced."""
    plays = [play for play in yaml.safe_load(SITE.read_text()) if play["name"] == "Summary"]
    msg = [task for task in plays[0]["tasks"] if task["name"] == "Summary per region"][0]["ansible.builtin.debug"][
        "msg"
    ]
    templar = Templar(loader=DataLoader(), variables=dict(variables, inventory_hostname=REGION))
    assert templar.template(trust_as_template(msg)) == _jinja(variables)


# ------------------------------------------------------------------------- megapool_outputs (set_stats), site_outputs
# The expression site.yml's set_stats task held before the planner, rendered by Ansible on the same variables.
JINJA_OUTPUTS = """{{ {inventory_hostname: {
    'vpc_id': network_outputs.vpc_id | default(None),
    'vpc_cidr': network_outputs.cidr | default(None),
    'ecs_cluster': ecs_hosts_outputs.cluster_name | default(None),
    'capacity_provider': ecs_hosts_outputs.capacity_provider | default(None),
    'auto_scaling_group': ecs_hosts_outputs.auto_scaling_group_name | default(None),
    'alb_name': alb_outputs.name | default(None),
    'alb_dns_name': alb_outputs.dns_name | default(None),
    'alb_arn': alb_outputs.arn | default(None),
    'target_group_arn': alb_outputs.target_group_arn | default(None),
    'app_domain': dns_outputs.app_domain | default(None),
    'certificate_arn': dns_outputs.certificate_arn | default(None),
    'service': release_outputs.service | default(None),
    'task_definition': release_outputs.task_definition | default(None),
    'image': release_outputs.image | default(None),
    'version': release_outputs.version | default(None)}} }}"""

OUTPUT_CASES = dict(
    CASES,
    **{
        "every output key": dict(
            network_outputs=NETWORK,
            ecs_hosts_outputs=ECS,
            alb_outputs=dict(ALB, arn="arn:alb", target_group_arn="arn:tg"),
            dns_outputs=dict(DNS, app_domain="app.example.com", certificate_arn=CERTIFICATE),
            release_outputs=dict(RELEASE, service="shop-local-web", version="1.0.0"),
        ),
    },
)


def _set_stats_outputs() -> str:
    plays = [play for play in yaml.safe_load(SITE.read_text()) if play["name"] == "Summary"]
    tasks = [task for task in plays[0]["tasks"] if "ansible.builtin.set_stats" in task]
    assert len(tasks) == 1
    return tasks[0]["ansible.builtin.set_stats"]["data"]["megapool_outputs"]


@pytest.mark.parametrize("variables", list(OUTPUT_CASES.values()), ids=list(OUTPUT_CASES))
def test_site_yml_publishes_what_it_published_before(variables):
    """site.yml's own set_stats value, rendered by Ansible (the filter by its FQCN), against the expression it replaced."""
    assert "megapool.aws.site_outputs(" in _set_stats_outputs()
    templar = Templar(loader=DataLoader(), variables=dict(variables, inventory_hostname=REGION))
    assert templar.template(trust_as_template(_set_stats_outputs())) == templar.template(
        trust_as_template(JINJA_OUTPUTS)
    )


def test_site_outputs_every_key():
    outputs = site_outputs(
        REGION,
        NETWORK,
        ECS,
        dict(ALB, arn="arn:alb", target_group_arn="arn:tg"),
        dict(DNS, app_domain="app.example.com", certificate_arn=CERTIFICATE),
        dict(RELEASE, service="web", version="1.0.0"),
    )
    assert outputs == {
        REGION: {
            "vpc_id": "vpc-0a1",
            "vpc_cidr": "10.20.0.0/16",
            "ecs_cluster": "shop-local",
            "capacity_provider": "shop-local-cp",
            "auto_scaling_group": "shop-local-asg",
            "alb_name": "shop-local",
            "alb_dns_name": "shop-local-1.eu-north-1.elb.amazonaws.com",
            "alb_arn": "arn:alb",
            "target_group_arn": "arn:tg",
            "app_domain": "app.example.com",
            "certificate_arn": CERTIFICATE,
            "service": "web",
            "task_definition": "shop-local-web:3",
            "image": "megapool.local/megapool-demo:1.0.0",
            "version": "1.0.0",
        }
    }


def test_site_outputs_nothing_published_is_every_key_null():
    outputs = site_outputs(REGION)
    assert list(outputs) == [REGION]
    assert len(outputs[REGION]) == 15 and set(outputs[REGION].values()) == {None}


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (("",), {}, "site_outputs: the input must be the region"),
        ((REGION,), {"alb": "arn:alb"}, "alb must be the role's alb_outputs"),
        ((REGION,), {"release": ["x"]}, "release must be the role's release_outputs"),
    ],
)
def test_the_outputs_filter_refuses_what_is_not_outputs(args, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FilterModule().filters()["site_outputs"](*args, **kwargs)
