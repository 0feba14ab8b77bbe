#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: servicediscovery_namespace
short_description: Create, update or delete an AWS Cloud Map private DNS namespace and its services
version_added: 0.1.0
description:
  - Manages an AWS Cloud Map private DNS namespace on a VPC (a private Route 53 hosted zone that Cloud Map owns), and
    optionally its services, for example the services an ECS service registers its tasks in (C(serviceRegistries)),
    answered as DNS records C(<service>.<namespace>) inside the VPC.
  - Finds the namespace by name and VPC (the VPC is read from the namespace's hosted zone); creates it when missing,
    updates its description and tags, and creates or updates the listed services (TTL, description, tags).
  - Creating and deleting a namespace are asynchronous in Cloud Map (an operation that ends in C(SUCCESS) or C(FAIL));
    the module follows the operation with a bounded wait (O(wait), O(wait_timeout), O(poll_interval)) and reports
    RV(done), RV(progress) and RV(events). Run again with the same options while an operation is still running and the
    module picks it up instead of starting another one.
  - The creation's C(CreatorRequestId) is the same in every run (derived from the region, O(name) and O(vpc_id)), so
    a run killed after sending it makes no second namespace even when the next run cannot list the first one yet -
    Cloud Map answers the identical request with C(DuplicateRequest) (the running operation is followed) or
    C(NamespaceAlreadyExists) naming that request (the namespace is adopted); a namespace of the same name that
    another request made is refused with a message.
  - Inputs are validated (names, VPC id, TTLs, record types) before any AWS call.
  - Cloud Map calls are made with C(inject_host_prefix=False), so that an O(endpoint_url) on C(127.0.0.1) works (the
    C(data-servicediscovery.) host prefix only matters for C(DiscoverInstances), which this module does not use).
options:
  name:
    description:
      - The domain name of the namespace, for example C(megapool.prod.internal). Services answer as C(<service>.<name>)
        in the VPC.
    type: str
    required: true
  vpc_id:
    description:
      - The VPC the namespace's private hosted zone serves. Required with O(state=present).
      - With O(state=absent) it picks among namespaces of the same name on several VPCs; without it the only namespace
        of that name is deleted.
    type: str
  description:
    description:
      - The description of the namespace. If not set, C(Private DNS namespace <name>) for a new namespace, and the
        description of an existing one is left alone.
    type: str
  state:
    description:
      - V(present) creates or updates the namespace and its services; V(absent) deletes the services, then the
        namespace.
    type: str
    choices: ['present', 'absent']
    default: present
  services:
    description:
      - Services of the namespace (DNS records C(<name>.<namespace>) that ECS or other clients register instances in).
      - Services of the namespace that are not listed are left alone, unless O(purge_services=true).
      - AWS cannot change the record types, the routing policy or the custom health check of an existing service; a
        change there fails with a message naming the fix (the module never replaces a service on its own, since its ARN
        is referenced by the ECS service).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The service name, one DNS label (letters, digits, hyphens, underscores), for example C(app).
        type: str
        required: true
      description:
        description:
          - The description of the service. If not set, C(<namespace> service <name>) for a new service, and the
            description of an existing one is left alone.
        type: str
      dns_ttl:
        description: TTL in seconds of the service's DNS records (short, so that clients notice new tasks soon).
        type: int
        default: 10
      dns_record_types:
        description:
          - The DNS records of the service. V(A) for ECS tasks in C(awsvpc) network mode; V(SRV) (address and port) for
            C(bridge) or C(host) mode.
        type: list
        elements: str
        choices: ['A', 'AAAA', 'SRV']
        default: ['A']
      routing_policy:
        description:
          - V(MULTIVALUE) answers with up to eight healthy instances; V(WEIGHTED) with one chosen at random.
        type: str
        choices: ['MULTIVALUE', 'WEIGHTED']
        default: MULTIVALUE
      health_check_custom_config:
        description:
          - Whether the registrant (ECS) reports the health of the instances (a custom health check). ECS service
            discovery expects it.
        type: bool
        default: true
  associated_vpcs:
    description:
      - More VPCs, of any region of the account, that the namespace's private hosted zone answers in
        (Route 53 C(AssociateVPCWithHostedZone)). Cloud Map creates the zone on O(vpc_id) only; a task in another VPC
        resolves C(<service>.<name>) once that VPC is associated with the zone (AWS Cloud Map Developer Guide,
        namespaces, U(https://docs.aws.amazon.com/cloud-map/latest/dg/working-with-namespaces.html)).
      - The zone is then on O(vpc_id) and exactly these VPCs; VPCs associated before and not listed are
        disassociated. An empty list removes every other VPC. Not set, the associations are left alone.
      - With O(state=absent), every VPC but the namespace's own is disassociated before the namespace (and with it the
        zone) is deleted, whatever this option says.
      - A VPC can be associated with only one private hosted zone of a given name (C(ConflictingDomainExists)), so
        every region's namespace needs its own name.
    type: list
    elements: dict
    suboptions:
      vpc_id:
        description: The VPC id.
        type: str
        required: true
      vpc_region:
        description: The VPC's region.
        type: str
        required: true
  purge_services:
    description:
      - Delete the namespace's services that O(services) does not list.
    type: bool
    default: false
  deregister_instances:
    description:
      - When a service to delete (O(state=absent), or O(purge_services=true)) still has registered instances, deregister
        them first.
      - By default the module waits instead (bounded by O(wait_timeout), polling every O(poll_interval), reporting
        RV(progress) and RV(events)) until they are gone, and then fails naming the services. Cloud Map refuses to
        delete a service with instances, and ECS deregisters the tasks of a deleted or scaled-down ECS service only as
        it stops them (after the load balancer's deregistration delay), so a teardown right after the ECS service's
        deletion still finds them for a while. Deregistering them yourself would hide tasks that still run.
      - With O(wait=false) the module returns RV(done=false) at once instead of waiting.
    type: bool
    default: false
  wait:
    description:
      - Wait until Cloud Map has finished creating or deleting the namespace, and (before deleting services) until
        their instances are deregistered. With V(false) the module starts the change, reads the operation once and
        returns (RV(done) tells whether it has finished).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for a namespace operation, or for the instances of services to delete, before failing.
    type: int
    default: 300
  poll_interval:
    description: Seconds between two reads of a running operation.
    type: float
    default: 5
  tags:
    description:
      - Tags of the namespace and of its services. If not set, existing tags are left alone.
notes:
  - Delete a service only after the ECS service that registers in it is gone (see O(deregister_instances)).
  - Route 53 is global; the association calls go to Route 53 whatever O(region) is. O(region) is the namespace's
    region (Cloud Map is regional).
  - Cloud Map deletes the namespace's private hosted zone with the namespace.
  - A namespace of the wanted name whose VPC cannot be read from its hosted zone counts as the one on O(vpc_id) when
    it is the only one of that name.
  - A C(MULTIVALUE) service answers a DNS query with at most eight of its healthy instances (Route 53 multivalue
    answer routing); a cluster of more nodes must not rely on one answer listing every node.
author:
  - megapool.aws maintainers (@megapool)
extends_documentation_fragment:
  - megapool.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Private DNS namespace on the region's VPC, with the service ECS registers the app's tasks in
  megapool.aws.servicediscovery_namespace:
    name: megapool.prod.internal
    vpc_id: "{{ network_outputs.vpc_id }}"
    services:
      - name: app
        dns_ttl: 10
    tags:
      "megapool:env": prod
      "megapool:cluster": megapool
  register: discovery

- name: The ECS service registers its tasks there (service ARN for serviceRegistries)
  ansible.builtin.debug:
    msg: "{{ discovery.services | selectattr('name', '==', 'app') | map(attribute='arn') | first }}"

- name: The namespace answers in the other regions' VPCs too (one Erlang cluster across regions, docs/clustering.md)
  megapool.aws.servicediscovery_namespace:
    name: eu-north-1.megapool.prod.internal
    vpc_id: vpc-0123456789abcdef0
    associated_vpcs:
      - vpc_id: vpc-0fedcba9876543210
        vpc_region: us-east-1
    services:
      - name: app

- name: Bridge network mode needs SRV records (address and port)
  megapool.aws.servicediscovery_namespace:
    name: megapool.prod.internal
    vpc_id: vpc-0123456789abcdef0
    services:
      - name: app
        dns_record_types: [SRV]

- name: Start the creation and come back later (wait protocol)
  megapool.aws.servicediscovery_namespace:
    name: megapool.prod.internal
    vpc_id: vpc-0123456789abcdef0
    wait: false
  register: started
  until: started.done
  retries: 30
  delay: 10

- name: Delete the services, then the namespace
  megapool.aws.servicediscovery_namespace:
    name: megapool.prod.internal
    vpc_id: vpc-0123456789abcdef0
    state: absent
"""

RETURN = r"""
namespace:
  description:
    - The namespace after the run; empty after O(state=absent) and while its creation is still running.
    - In check mode, a namespace that would be created has null RV(namespace.id), RV(namespace.arn) and
      RV(namespace.hosted_zone_id).
  returned: always
  type: dict
  contains:
    id:
      description: The namespace id.
      type: str
      returned: when the namespace exists
      sample: ns-abcdefghijklmnop
    arn:
      description: The namespace ARN.
      type: str
      returned: when the namespace exists
      sample: arn:aws:servicediscovery:eu-north-1:123456789012:namespace/ns-abcdefghijklmnop
    name:
      description: The domain name of the namespace.
      type: str
      returned: when the namespace exists
      sample: megapool.prod.internal
    type:
      description: C(DNS_PRIVATE).
      type: str
      returned: when the namespace exists
      sample: DNS_PRIVATE
    description:
      description: The description.
      type: str
      returned: when the namespace exists
    hosted_zone_id:
      description: The private Route 53 hosted zone Cloud Map made for the namespace.
      type: str
      returned: when the namespace exists
      sample: Z0123456789ABCDEFGHIJ
    vpc:
      description: The VPC of the namespace (O(vpc_id) where the hosted zone does not name it).
      type: str
      returned: when the namespace exists
      sample: vpc-0123456789abcdef0
    associated_vpcs:
      description: The other VPCs the namespace's hosted zone is associated with (see O(associated_vpcs)), by VPC id.
      type: list
      elements: dict
      returned: when the namespace exists
      sample: [{"vpc_id": "vpc-0fedcba9876543210", "vpc_region": "us-east-1"}]
    tags:
      description: The tags of the namespace.
      type: dict
      returned: when the namespace exists
services:
  description: The services of the namespace that O(services) lists, in that order (all of them with O(state=absent) before deletion is empty).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The service name.
      type: str
      returned: always
      sample: app
    id:
      description: The service id (null in check mode for a service that would be created).
      type: str
      returned: always
      sample: srv-abcdefgh
    arn:
      description: The service ARN, for an ECS service's C(serviceRegistries) (null in check mode for a new service).
      type: str
      returned: always
      sample: arn:aws:servicediscovery:eu-north-1:123456789012:service/srv-abcdefgh
    description:
      description: The description.
      type: str
      returned: always
    dns_ttl:
      description: The TTL of the service's DNS records.
      type: int
      returned: always
      sample: 10
    dns_record_types:
      description: The record types.
      type: list
      elements: str
      returned: always
      sample: [A]
    routing_policy:
      description: C(MULTIVALUE) or C(WEIGHTED).
      type: str
      returned: always
      sample: MULTIVALUE
    health_check_custom_config:
      description: Whether the registrant reports the instances' health.
      type: bool
      returned: always
      sample: true
    tags:
      description: The tags of the service.
      type: dict
      returned: always
done:
  description: Whether the namespace has reached the wanted state (created or gone), or a final failure state.
  returned: always
  type: bool
  sample: true
progress:
  description: One line on the current state, for example C(namespace megapool.prod.internal create PENDING (operation x)).
  returned: always
  type: str
  sample: namespace megapool.prod.internal present
events:
  description: Human-readable events of this run (operations started, states seen).
  returned: always
  type: list
  elements: str
  sample: ["namespace megapool.prod.internal create SUBMITTED (operation 4xg...)", "service app created"]
operation_id:
  description: The Cloud Map operation that creates or deletes the namespace, when one was started or picked up.
  returned: when an operation was started or found running
  type: str
diff:
  description: The namespace and its listed services before and after (after = predicted in check mode).
  returned: always
  type: dict
  contains:
    before:
      description: C(namespace) and C(services) (by name) before the run.
      type: dict
      returned: always
    after:
      description: C(namespace) and C(services) (by name) after the run.
      type: dict
      returned: always
"""

import time
import uuid
from typing import Any
from typing import Callable

try:
    from botocore.config import Config
except ImportError:
    pass  # AnsibleAWSModule reports missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_code
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.megapool.aws.plugins.module_utils.base import TAGS_ARGUMENT_SPEC
from ansible_collections.megapool.aws.plugins.module_utils.base import MegapoolAWSModule
from ansible_collections.megapool.aws.plugins.module_utils.base import retry_while
from ansible_collections.megapool.aws.plugins.module_utils.base import WaitTimeout
from ansible_collections.megapool.aws.plugins.module_utils.base import poll_until
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import OPERATION_RUNNING
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import DesiredNamespace
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import DiscoveryError
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import apply_tags
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import association_plan
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import associations_after
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import busy_services
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import creator_request_id
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import default_namespace_description
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import hosted_zone_id
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import in_use_message
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import instances_progress
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import namespace_view
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import normalize_name
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import operation_failed_message
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import operation_progress
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import own_vpc_ids
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import pick_namespace
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import plan_service
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import predict_service
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import service_view
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import services_to_purge
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import tag_changes
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import timeout_message
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import validate_namespace
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import wanted_tags
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import zone_associations
from ansible_collections.megapool.aws.plugins.module_utils.service_discovery import zone_vpcs

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    name=dict(type="str", required=True),
    vpc_id=dict(type="str"),
    description=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    services=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(
            name=dict(type="str", required=True),
            description=dict(type="str"),
            dns_ttl=dict(type="int", default=10),
            dns_record_types=dict(type="list", elements="str", choices=["A", "AAAA", "SRV"], default=["A"]),
            routing_policy=dict(type="str", choices=["MULTIVALUE", "WEIGHTED"], default="MULTIVALUE"),
            health_check_custom_config=dict(type="bool", default=True),
        ),
    ),
    associated_vpcs=dict(
        type="list",
        elements="dict",
        options=dict(vpc_id=dict(type="str", required=True), vpc_region=dict(type="str", required=True)),
    ),
    purge_services=dict(type="bool", default=False),
    deregister_instances=dict(type="bool", default=False),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=300),
    poll_interval=dict(type="float", default=5),
    **TAGS_ARGUMENT_SPEC,
)

# Only DiscoverInstances uses the "data-servicediscovery." host prefix; without this an endpoint_url on 127.0.0.1
# would be called as data-servicediscovery.127.0.0.1 for it. Harmless for the calls made here.
_CLIENT_CONFIG = dict(inject_host_prefix=False)
# The clock and the pause of the waits (tests replace them).
_clock: Callable[[], float] = time.monotonic
_sleep: Callable[[float], None] = time.sleep
_NOT_FOUND = ["NamespaceNotFound", "ServiceNotFound", "OperationNotFound", "NoSuchHostedZone", "InstanceNotFound"]


def _eq(name: str, values: list[str], condition: str = "EQ") -> dict[str, Any]:
    return {"Name": name, "Values": values, "Condition": condition}


# ---------------------------------------------------------------------------------------------- AWS calls


@AWSErrorHandler.common_error_handler("list the namespaces")
def _list_namespaces(client, name: str) -> list[dict]:
    paginator = client.get_paginator("list_namespaces")
    filters = [_eq("TYPE", ["DNS_PRIVATE"]), _eq("NAME", [name])]
    return paginator.paginate(Filters=filters).build_full_result().get("Namespaces", [])


@AWSErrorHandler.common_error_handler("read the namespace")
def _get_namespace(client, namespace_id: str) -> dict:
    return client.get_namespace(Id=namespace_id)["Namespace"]


@AWSErrorHandler.common_error_handler("read the namespace's hosted zone")
def _get_zone(client, zone_id: str) -> dict:
    return client.get_hosted_zone(Id=zone_id)


@AWSErrorHandler.common_error_handler("associate a VPC with the namespace's hosted zone")
def _associate(client, zone_id: str, vpc_id: str, vpc_region: str) -> None:
    client.associate_vpc_with_hosted_zone(HostedZoneId=zone_id, VPC={"VPCId": vpc_id, "VPCRegion": vpc_region})


@AWSErrorHandler.common_error_handler("disassociate a VPC from the namespace's hosted zone")
def _disassociate(client, zone_id: str, vpc_id: str, vpc_region: str) -> None:
    client.disassociate_vpc_from_hosted_zone(HostedZoneId=zone_id, VPC={"VPCId": vpc_id, "VPCRegion": vpc_region})


@AWSErrorHandler.common_error_handler("read tags")
def _list_tags(client, arn: str) -> dict[str, str]:
    return boto3_tag_list_to_ansible_dict(client.list_tags_for_resource(ResourceARN=arn).get("Tags", []))


@AWSErrorHandler.common_error_handler("tag")
def _tag(client, arn: str, tags: dict[str, str]) -> None:
    client.tag_resource(ResourceARN=arn, Tags=[{"Key": key, "Value": value} for key, value in tags.items()])


@AWSErrorHandler.common_error_handler("untag")
def _untag(client, arn: str, keys: list[str]) -> None:
    client.untag_resource(ResourceARN=arn, TagKeys=keys)


@AWSErrorHandler.common_error_handler("list the namespace operations")
def _list_operations(client, kind: str) -> list[dict]:
    paginator = client.get_paginator("list_operations")
    filters = [_eq("TYPE", [kind]), _eq("STATUS", sorted(OPERATION_RUNNING), "IN")]
    return paginator.paginate(Filters=filters).build_full_result().get("Operations", [])


@AWSErrorHandler.common_error_handler("read the operation")
def _get_operation(client, operation_id: str) -> dict:
    return client.get_operation(OperationId=operation_id)["Operation"]


@AWSErrorHandler.common_error_handler("create the namespace")
def _create_namespace(client, **params: Any) -> str:
    return client.create_private_dns_namespace(**params)["OperationId"]


@AWSErrorHandler.common_error_handler("update the namespace")
def _update_namespace(client, namespace_id: str, description: str) -> None:
    client.update_private_dns_namespace(
        Id=namespace_id, UpdaterRequestId=str(uuid.uuid4()), Namespace={"Description": description}
    )


@AWSErrorHandler.common_error_handler("delete the namespace")
@retry_while(["ResourceInUse"])
def _delete_namespace(client, namespace_id: str) -> str:
    return client.delete_namespace(Id=namespace_id)["OperationId"]


@AWSErrorHandler.common_error_handler("list the services")
def _list_services(client, namespace_id: str) -> list[dict]:
    paginator = client.get_paginator("list_services")
    return paginator.paginate(Filters=[_eq("NAMESPACE_ID", [namespace_id])]).build_full_result().get("Services", [])


@AWSErrorHandler.common_error_handler("read the service")
def _get_service(client, service_id: str) -> dict:
    return client.get_service(Id=service_id)["Service"]


@AWSErrorHandler.common_error_handler("create the service")
def _create_service(client, **params: Any) -> dict:
    return client.create_service(**params)["Service"]


@AWSErrorHandler.common_error_handler("update the service")
def _update_service(client, service_id: str, service: dict) -> None:
    client.update_service(Id=service_id, Service=service)


@AWSErrorHandler.common_error_handler("delete the service")
@retry_while(["ResourceInUse"])
def _delete_service(client, service_id: str) -> None:
    client.delete_service(Id=service_id)


@AWSErrorHandler.common_error_handler("list the service's instances")
def _list_instances(client, service_id: str) -> list[dict]:
    paginator = client.get_paginator("list_instances")
    return paginator.paginate(ServiceId=service_id).build_full_result().get("Instances", [])


@AWSErrorHandler.common_error_handler("deregister an instance")
def _deregister(client, service_id: str, instance_id: str) -> None:
    client.deregister_instance(ServiceId=service_id, InstanceId=instance_id)


# ---------------------------------------------------------------------------------------------- the namespace


def _association_refused(error: Exception, item: dict, name: str) -> str:
    """Why Route 53 refused to associate ``item`` with the zone of namespace ``name``, and the fix."""
    if "ConflictingDomainExists" in str(error) or "ConflictingDomainExists" in repr(getattr(error, "exception", "")):
        return (
            "Route 53 refused to associate %s (%s) with the hosted zone of namespace %s: that VPC is already associated "
            "with another private hosted zone called %s (ConflictingDomainExists). Give every region's namespace its own "
            "name (dns_discovery_namespace is the domain of <region>.<domain>)."
            % (item["vpc_id"], item["vpc_region"], name, name)
        )
    return (
        "associated_vpcs: Route 53 knows no VPC %s in %s (InvalidVPCId): build that region's network first, or leave the VPC "
        "out." % (item["vpc_id"], item["vpc_region"])
    )


class _Namespace:
    """Reads the namespace and its services, applies what the options ask for."""

    def __init__(self, module: MegapoolAWSModule, desired: DesiredNamespace | None) -> None:
        self.module = module
        self.params = module.params
        self.desired = desired
        self.name = normalize_name(self.params["name"])
        self.vpc = (self.params.get("vpc_id") or "").strip() or None
        self.tags = wanted_tags(self.params["tags"])
        self.sd = module.client("servicediscovery", config=Config(**_CLIENT_CONFIG))
        self.route53 = module.client("route53")
        self.events: list[str] = []
        self.operation_id: str | None = None
        self.pending_progress: str | None = None  # why a run with wait=false is not done
        self.changed = False
        self.zones: dict[str, list[dict[str, str]]] = {}  # namespace id -> its zone's VPCs (vpc_id, vpc_region)
        self.adopted = False  # create() found the namespace an earlier run's identical request made

    def _maybe(self, func, *args: Any) -> Any:
        """``func(*args)``, or None when the resource is gone."""
        try:
            return func(*args)
        except is_ansible_aws_error_code(_NOT_FOUND):
            return None

    def fail(self, msg: str, **extra: Any) -> None:
        self.module.fail_json(msg=msg, events=self.events, **extra)

    # ----------------------------------------------------------------------------------------- reading

    def _vpcs(self, namespace: dict) -> list[str] | None:
        zone_id = hosted_zone_id(namespace)
        if not zone_id:
            return None
        zone = self._maybe(_get_zone, self.route53, zone_id)
        self.zones[namespace.get("Id") or ""] = zone_associations(zone)
        return zone_vpcs(zone)

    def associations(self, namespace: dict | None) -> list[dict[str, str]]:
        return list(self.zones.get((namespace or {}).get("Id") or "", []))

    def association_changes(self, namespace: dict | None, wanted) -> tuple[list, list, list]:
        """(current, to associate, to disassociate) of the namespace's hosted zone."""
        current = self.associations(namespace)
        own = own_vpc_ids(current, self.vpc, self.module.region)
        to_add, to_remove = association_plan(current, own, wanted)
        return current, to_add, to_remove

    def apply_associations(self, namespace: dict, to_add: list, to_remove: list) -> None:
        """Associate / disassociate VPCs with the namespace's hosted zone (Route 53 is global; no check mode)."""
        zone_id = hosted_zone_id(namespace)
        for item in to_add:
            try:
                _associate(self.route53, zone_id, item["vpc_id"], item["vpc_region"])
            except is_ansible_aws_error_code(["ConflictingDomainExists", "InvalidVPCId"]) as e:
                self.fail(_association_refused(e, item, self.name))
            self.changed = True
            self.events.append(
                "VPC %s (%s) associated with the hosted zone of %s" % (item["vpc_id"], item["vpc_region"], self.name)
            )
        for item in to_remove:
            try:
                _disassociate(self.route53, zone_id, item["vpc_id"], item["vpc_region"])
            except is_ansible_aws_error_code(["VPCAssociationNotFound", "InvalidVPCId"]):
                continue  # gone already (another run, or the VPC was deleted)
            self.changed = True
            self.events.append(
                "VPC %s (%s) disassociated from the hosted zone of %s" % (item["vpc_id"], item["vpc_region"], self.name)
            )

    def read(self) -> tuple[dict | None, list[str] | None]:
        """The namespace (GetNamespace) and its VPCs (None: unreadable), or (None, None)."""
        candidates = []
        for summary in _list_namespaces(self.sd, self.name):
            if normalize_name(summary.get("Name")) != self.name or summary.get("Type") != "DNS_PRIVATE":
                continue
            namespace = self._maybe(_get_namespace, self.sd, summary["Id"])
            if namespace is not None:
                candidates.append((namespace, self._vpcs(namespace)))
        try:
            picked = pick_namespace(candidates, self.name, self.vpc)
        except DiscoveryError as e:
            self.fail(str(e))
        if picked is None:
            return None, None
        namespace, vpcs = picked
        return dict(namespace), vpcs or ([self.vpc] if self.vpc else None)

    def running_operation(self, kind: str, namespace_id: str | None = None) -> dict | None:
        """A running CREATE_NAMESPACE / DELETE_NAMESPACE operation of this namespace (by id, or by name)."""
        for summary in _list_operations(self.sd, kind):
            if summary.get("Status") not in OPERATION_RUNNING:
                continue  # filtered here too: the answer is not trusted to honour the filters
            operation = self._maybe(_get_operation, self.sd, summary["Id"])
            if not operation or operation.get("Type") != kind:
                continue
            target = (operation.get("Targets") or {}).get("NAMESPACE")
            if not target:
                continue
            if namespace_id is not None:
                if target == namespace_id:
                    return operation
                continue
            namespace = self._maybe(_get_namespace, self.sd, target)
            if namespace and normalize_name(namespace.get("Name")) == self.name:
                return operation
        return None

    def services(self, namespace: dict | None) -> list[dict]:
        if not namespace or not namespace.get("Id"):
            return []
        # GetService: the summaries lack NamespaceId; checked here rather than trusting the NAMESPACE_ID filter.
        found = (
            self._maybe(_get_service, self.sd, summary["Id"]) for summary in _list_services(self.sd, namespace["Id"])
        )
        return [service for service in found if service and service.get("NamespaceId") == namespace["Id"]]

    def tags_of(self, resource: dict | None) -> dict[str, str]:
        if not resource or not resource.get("Arn"):
            return {}
        return self._maybe(_list_tags, self.sd, resource["Arn"]) or {}

    # ----------------------------------------------------------------------------------------- operations

    def follow(self, operation_id: str, action: str) -> tuple[dict, bool]:
        """Read the operation (and with ``wait``, poll it until final or the timeout); returns (operation, done)."""
        self.operation_id = operation_id
        timeout = self.params["wait_timeout"]
        last_status: list[str | None] = [None]

        def progress(operation: dict, _waited: float) -> None:
            line = operation_progress(action, self.name, operation)
            if operation.get("Status") != last_status[0]:
                self.events.append(line)
                last_status[0] = operation.get("Status")
            if operation.get("Status") == "FAIL":
                self.fail(operation_failed_message(action, self.name, operation), progress=line, done=True)

        try:
            operation = poll_until(
                lambda: _get_operation(self.sd, operation_id),
                lambda operation: operation.get("Status") == "SUCCESS",
                what="Cloud Map to %s namespace %s" % (action, self.name),
                timeout=timeout,
                interval=self.params["poll_interval"],
                progress=progress,
                wait=self.params["wait"],
                clock=_clock,
                sleep=_sleep,
            )
        except WaitTimeout as timed_out:
            line = operation_progress(action, self.name, timed_out.last)
            self.fail(
                timeout_message(action, self.name, timeout, line), progress=line, done=False, operation_id=operation_id
            )
        return operation, operation.get("Status") == "SUCCESS"

    # ----------------------------------------------------------------------------------------- changes

    def create(self) -> tuple[dict | None, bool]:
        """Create the namespace (or pick up its running creation); returns (namespace or None, done).

        The CreatorRequestId is the same in every run (module_utils/service_discovery.py creator_request_id): a run
        killed after sending the request, whose namespace this run cannot list yet, is answered DuplicateRequest (its
        operation is followed) or NamespaceAlreadyExists (that namespace is adopted) instead of making a second one."""
        operation = self.running_operation("CREATE_NAMESPACE")
        if operation is None:
            operation_id, adopted = self._request_creation(creator_request_id(self.module.region, self.name, self.vpc))
            if adopted is not None:
                return adopted, True
        else:
            operation_id = operation["Id"]
            self.events.append("namespace %s create already running (operation %s)" % (self.name, operation_id))
        operation, done = self.follow(operation_id, "create")
        if not done:
            return None, False
        namespace = self._maybe(_get_namespace, self.sd, (operation.get("Targets") or {}).get("NAMESPACE"))
        if namespace is None:
            # The answer named the operation of an earlier namespace of the same request, deleted since (what AWS
            # answers then is not documented): a request of its own for this one.
            self.events.append("namespace %s of operation %s is gone: requested anew" % (self.name, operation_id))
            operation_id, adopted = self._request_creation(
                creator_request_id(self.module.region, self.name, self.vpc, attempt=str(int(time.time())))
            )
            if adopted is not None:
                return adopted, True
            operation, done = self.follow(operation_id, "create")
            if not done:
                return None, False
            namespace = _get_namespace(self.sd, (operation.get("Targets") or {}).get("NAMESPACE"))
        return namespace, True

    def _request_creation(self, request_id: str) -> tuple[str | None, dict | None]:
        """CreatePrivateDnsNamespace; (operation id, None), or (None, the namespace an earlier identical request made)."""
        params: dict[str, Any] = dict(
            Name=self.name,
            Vpc=self.vpc,
            CreatorRequestId=request_id,
            Description=self.desired.description
            if self.desired.description is not None
            else default_namespace_description(self.name),
        )
        if self.tags:
            params["Tags"] = [{"Key": key, "Value": value} for key, value in sorted(self.tags.items())]
        try:
            operation_id = _create_namespace(self.sd, **params)
        except is_ansible_aws_error_code("DuplicateRequest") as e:
            # The request of a killed run is still running (its operation was not listed yet).
            operation_id = (getattr(e.exception, "response", None) or {}).get("DuplicateOperationId")
            self.events.append("namespace %s create already requested (operation %s)" % (self.name, operation_id))
            return operation_id, None
        except is_ansible_aws_error_code("NamespaceAlreadyExists") as e:  # pylint: disable=duplicate-except
            answer = getattr(e.exception, "response", None) or {}
            namespace = (
                self._maybe(_get_namespace, self.sd, answer["NamespaceId"]) if answer.get("NamespaceId") else None
            )
            if answer.get("CreatorRequestId") == request_id and namespace is not None:
                self.adopted = True
                self.events.append(
                    "namespace %s made by an earlier run's request adopted (%s)" % (self.name, namespace["Id"])
                )
                return None, namespace
            self.fail(
                "Cloud Map already has a namespace %s (%s) that was not requested for VPC %s: delete it, or give this "
                "region's namespace another name (dns_discovery_namespace)."
                % (self.name, answer.get("NamespaceId"), self.vpc)
            )
        self.changed = True
        self.events.append("namespace %s create requested on %s" % (self.name, self.vpc))
        return operation_id, None

    def update_namespace(self, namespace: dict) -> None:
        if self.desired.description is not None and (namespace.get("Description") or "") != self.desired.description:
            _update_namespace(self.sd, namespace["Id"], self.desired.description)
            self.changed = True
            self.events.append("namespace %s description updated" % self.name)
        self._retag(namespace, self.tags_of(namespace), "namespace %s" % self.name)

    def _retag(self, resource: dict, current: dict[str, str], what: str) -> None:
        to_set, to_unset = tag_changes(current, self.tags, self.params["purge_tags"])
        if to_unset:
            _untag(self.sd, resource["Arn"], list(to_unset))
        if to_set:
            _tag(self.sd, resource["Arn"], to_set)
        if to_set or to_unset:
            self.changed = True
            self.events.append("%s tags updated" % what)

    def plan_services(
        self, namespace: dict | None, live: list[dict]
    ) -> list[tuple[Any, dict | None, dict[str, str], Any]]:
        """(desired, live service or None, its tags, plan) per listed service; fails on what AWS cannot change."""
        by_name = {str(service.get("Name", "")).lower(): service for service in live}
        plans = []
        for desired in self.desired.services:
            current = by_name.get(desired.name.lower())
            tags = self.tags_of(current)
            try:
                plan = plan_service(current, desired, tags, self.tags, self.params["purge_tags"], self.name)
            except DiscoveryError as e:
                self.fail(str(e))
            plans.append((desired, current, tags, plan))
        return plans

    def apply_services(self, namespace: dict, plans: list) -> None:
        for desired, current, tags, plan in plans:
            if plan.action == "create":
                params = desired.create_params(namespace["Id"], self.name)
                params["CreatorRequestId"] = str(uuid.uuid4())
                if self.tags:
                    params["Tags"] = [{"Key": key, "Value": value} for key, value in sorted(self.tags.items())]
                _create_service(self.sd, **params)
                self.events.append("service %s created" % desired.name)
                self.changed = True
                continue
            if plan.action == "update":
                _update_service(self.sd, current["Id"], desired.update_params())
                self.events.append(
                    "service %s updated (%s)" % (desired.name, ", ".join(c for c in plan.changes if c != "tags"))
                )
                self.changed = True
            if plan.tags_to_set or plan.tags_to_unset:
                self._retag(current, tags, "service %s" % desired.name)

    def _instances(self, services: list[dict]) -> dict[str, list[dict]]:
        return {service["Id"]: self._maybe(_list_instances, self.sd, service["Id"]) or [] for service in services}

    def delete_services(self, services: list[dict]) -> bool:
        """Delete ``services``; returns done.

        Cloud Map refuses to delete a service that still has registered instances, and ECS deregisters a service's
        tasks only as it stops them (after the load balancer's deregistration delay), so a teardown right after the
        ECS service's deletion finds them still there: wait for them (bounded by wait_timeout, polling every
        poll_interval, with progress in events) unless deregister_instances; with wait=false return not done."""
        instances = self._instances(services)
        busy = busy_services(services, instances)
        if busy and not self.params["deregister_instances"]:
            if self.module.check_mode:
                self.module.warn(
                    "%s: a real run waits up to wait_timeout=%ss for them."
                    % (instances_progress(self.name, busy, 0), self.params["wait_timeout"])
                )
            else:
                instances = self._await_deregistered(services, busy)
                if instances is None:
                    return False
        if self.module.check_mode:
            self.changed = self.changed or bool(services)
            return True
        for service in services:
            for instance in instances[service["Id"]]:
                self._maybe(_deregister, self.sd, service["Id"], instance["Id"])
                self.events.append("instance %s deregistered from service %s" % (instance["Id"], service["Name"]))
            if instances[service["Id"]]:
                self._wait_deregistered(service)
            self._maybe(_delete_service, self.sd, service["Id"])
            self.events.append("service %s deleted" % service["Name"])
            self.changed = True
        return True

    def _await_deregistered(self, services: list[dict], busy: dict[str, int]) -> dict[str, list[dict]] | None:
        """Poll until no service of ``services`` has instances; the (empty) instances, or None with wait=false."""
        shown: list[dict[str, int]] = [{}]

        def progress(now_busy: dict[str, int], waited: float) -> None:
            if not now_busy:
                return
            line = instances_progress(self.name, now_busy, waited)
            if now_busy != shown[0]:
                self.events.append(line)
                shown[0] = now_busy
            self.pending_progress = line

        try:
            busy = poll_until(
                lambda: busy_services(services, self._instances(services)),
                lambda now_busy: not now_busy,
                what="the instances of the services of namespace %s to be deregistered" % self.name,
                timeout=self.params["wait_timeout"],
                interval=self.params["poll_interval"],
                first=busy,
                progress=progress,
                wait=self.params["wait"],
                clock=_clock,
                sleep=_sleep,
            )
        except WaitTimeout as timed_out:
            self.fail(
                in_use_message(self.name, timed_out.last, self.params["wait_timeout"]),
                progress=self.pending_progress,
                done=False,
            )
        if busy:
            return None  # wait=false
        self.events.append("the instances of the services to delete are deregistered")
        return {service["Id"]: [] for service in services}

    def _wait_deregistered(self, service: dict) -> None:
        try:
            poll_until(
                lambda: self._maybe(_list_instances, self.sd, service["Id"]),
                lambda instances: not instances,
                what="the instances of service %s to be deregistered" % service["Name"],
                timeout=self.params["wait_timeout"],
                interval=self.params["poll_interval"],
                clock=_clock,
                sleep=_sleep,
            )
        except WaitTimeout:
            self.fail(
                "Timed out after %ss waiting for the instances of service %s to be deregistered: raise wait_timeout, or "
                "run again later." % (self.params["wait_timeout"], service["Name"])
            )

    def delete_namespace(self, namespace: dict) -> bool:
        """Delete the (service-free) namespace; returns done."""
        operation = self.running_operation("DELETE_NAMESPACE", namespace["Id"])
        if operation is None:
            operation_id = _delete_namespace(self.sd, namespace["Id"])
            self.changed = True
            self.events.append("namespace %s delete requested" % self.name)
        else:
            operation_id = operation["Id"]
        # Cloud Map deletes the namespace's hosted zone with it (AWS Cloud Map Developer Guide, "Deleting a namespace",
        # https://docs.aws.amazon.com/cloud-map/latest/dg/deleting-namespaces.html).
        _operation, done = self.follow(operation_id, "delete")
        return done


# ---------------------------------------------------------------------------------------------- main flow


def _diff_side(namespace: dict, services: dict) -> dict[str, Any]:
    return {"namespace": namespace, "services": services}


def _present(ns: _Namespace) -> dict[str, Any]:
    module, desired = ns.module, ns.desired
    current, vpcs = ns.read()
    current_tags = ns.tags_of(current)
    live = ns.services(current)
    plans = ns.plan_services(current, live)
    purge = services_to_purge(live, desired.services) if ns.params["purge_services"] else []
    associations, to_add, to_remove = ns.association_changes(current, desired.associated_vpcs)
    before_services = {
        service["Name"]: service_view(service, ns.tags_of(service))
        for service in live
        if any(service["Name"].lower() == d.name.lower() for d in desired.services) or service in purge
    }
    before = _diff_side(namespace_view(current, vpcs, current_tags, associations, ns.vpc), before_services)
    if module.check_mode:
        return _predict(ns, current, vpcs, current_tags, plans, purge, before, (associations, to_add, to_remove))
    done = True
    if current is None:
        current, done = ns.create()
        if not done:
            return dict(
                changed=ns.changed,
                namespace={},
                services=[],
                done=False,
                diff=dict(before=before, after=before),
                progress=ns.events[-1] if ns.events else "namespace %s create running" % ns.name,
            )
        vpcs = [ns.vpc]
        live = ns.services(current) if ns.adopted else []
        plans = ns.plan_services(current, live)
        if ns.adopted:
            vpcs = ns._vpcs(current) or [ns.vpc]
            ns.update_namespace(current)  # its description and tags, as for a namespace that was listed
        else:
            ns.zones[current["Id"]] = [{"vpc_id": ns.vpc, "vpc_region": module.region}]
        associations, to_add, to_remove = ns.association_changes(current, desired.associated_vpcs)
    else:
        ns.update_namespace(current)
    if purge and not ns.delete_services(purge):
        return dict(
            changed=ns.changed,
            namespace=namespace_view(current, vpcs, current_tags, associations, ns.vpc),
            services=[],
            done=False,
            diff=dict(before=before, after=before),
            progress=ns.pending_progress,
        )
    ns.apply_associations(current, to_add, to_remove)
    ns.apply_services(current, plans)
    after_ns = _get_namespace(ns.sd, current["Id"])
    after_vpcs = ns._vpcs(after_ns) if to_add or to_remove else vpcs
    after_services = {service["Name"].lower(): service for service in ns.services(after_ns)}
    listed = [after_services[d.name.lower()] for d in desired.services if d.name.lower() in after_services]
    views = [service_view(service, ns.tags_of(service)) for service in listed]
    after_associations = ns.associations(after_ns) if to_add or to_remove else associations
    namespace = namespace_view(after_ns, after_vpcs or [ns.vpc], ns.tags_of(after_ns), after_associations, ns.vpc)
    return dict(
        changed=ns.changed,
        namespace=namespace,
        services=views,
        done=True,
        progress="namespace %s present on %s with %d service(s)%s"
        % (
            ns.name,
            namespace["vpc"],
            len(views),
            ", answering in %d more VPC(s)" % len(namespace["associated_vpcs"]) if namespace["associated_vpcs"] else "",
        ),
        diff=dict(before=before, after=_diff_side(namespace, {view["name"]: view for view in views})),
    )


def _predict(ns: _Namespace, current, vpcs, current_tags, plans, purge, before, association_changes) -> dict[str, Any]:
    desired = ns.desired
    associations, to_add, to_remove = association_changes
    changed = current is None or bool(to_add or to_remove)
    if current is None:
        associations = [{"vpc_id": ns.vpc, "vpc_region": ns.module.region}]
        to_add, to_remove = association_plan(associations, {ns.vpc}, desired.associated_vpcs)
        description = desired.description if desired.description is not None else default_namespace_description(ns.name)
        predicted = {"Id": None, "Arn": None, "Name": ns.name, "Type": "DNS_PRIVATE", "Description": description}
        tags_after = dict(ns.tags or {})
        vpcs = [ns.vpc]
    else:
        predicted = dict(current)
        if desired.description is not None:
            predicted["Description"] = desired.description
            changed = changed or (current.get("Description") or "") != desired.description
        to_set, to_unset = tag_changes(current_tags, ns.tags, ns.params["purge_tags"])
        changed = changed or bool(to_set or to_unset)
        tags_after = apply_tags(current_tags, to_set, to_unset)
    if purge:
        ns.delete_services(purge)  # check mode: refuses busy services, deletes nothing
    views = []
    for service_desired, service, tags, plan in plans:
        changed = changed or plan.changed
        after = (
            predict_service(service, service_desired, predicted.get("Id"), ns.name)
            if plan.action != "none"
            else service
        )
        service_tags = (
            dict(ns.tags or {}) if service is None else apply_tags(tags, plan.tags_to_set or {}, plan.tags_to_unset)
        )
        views.append(service_view(after, service_tags))
    namespace = namespace_view(predicted, vpcs, tags_after, associations_after(associations, to_add, to_remove), ns.vpc)
    return dict(
        changed=changed or bool(purge),
        namespace=namespace,
        services=views,
        done=not changed and not purge,
        progress="check mode: namespace %s %s"
        % (ns.name, "would change" if changed or purge else "present, no change"),
        diff=dict(before=before, after=_diff_side(namespace, {view["name"]: view for view in views})),
    )


def _absent(ns: _Namespace) -> dict[str, Any]:
    current, vpcs = ns.read()
    if current is None:
        return dict(
            changed=False,
            namespace={},
            services=[],
            done=True,
            progress="namespace %s absent" % ns.name,
            diff=dict(before=_diff_side({}, {}), after=_diff_side({}, {})),
        )
    live = ns.services(current)
    # Every VPC but the namespace's own leaves the zone before the namespace (and with it the zone) goes.
    associations, _to_add, to_remove = ns.association_changes(current, [])
    before = _diff_side(
        namespace_view(current, vpcs, ns.tags_of(current), associations, ns.vpc),
        {service["Name"]: service_view(service, ns.tags_of(service)) for service in live},
    )
    after = _diff_side({}, {})
    if not ns.delete_services(live):
        return dict(
            changed=ns.changed,
            namespace={},
            services=[],
            done=False,
            progress=ns.pending_progress,
            diff=dict(before=before, after=before),
        )
    if ns.module.check_mode:
        return dict(
            changed=True,
            namespace={},
            services=[],
            done=False,
            progress="check mode: namespace %s would be deleted" % ns.name,
            diff=dict(before=before, after=after),
        )
    ns.apply_associations(current, [], to_remove)
    done = ns.delete_namespace(current)
    progress = (
        "namespace %s deleted" % ns.name
        if done
        else (ns.events[-1] if ns.events else "namespace %s delete running" % ns.name)
    )
    return dict(
        changed=ns.changed,
        namespace={},
        services=[],
        done=done,
        progress=progress,
        diff=dict(before=before, after=after),
    )


def _run(module: MegapoolAWSModule) -> dict[str, Any]:
    desired = validate_namespace(module.params)  # before any AWS call
    ns = _Namespace(module, desired)
    result = _present(ns) if desired is not None else _absent(ns)
    if ns.operation_id:
        result["operation_id"] = ns.operation_id
    return dict(result, events=ns.events)


def main() -> None:
    module = MegapoolAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.run(_run, module, input_errors=(DiscoveryError,))


if __name__ == "__main__":
    main()
