# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ec2_cluster
short_description: The EC2 instances of one megapool environment in all its regions, reachable through their VPC's bastion
version_added: 0.1.0
description:
  - Finds the running (and pending) EC2 instances tagged C(megapool:env=<env>) and C(megapool:cluster=<cluster>) in
    every listed region, all regions at once (one paginated, server-side filtered C(DescribeInstances) per region in a
    bounded pool of threads), and adds them as hosts.
  - "Host names are unique across regions: C(<Name tag, else megapool:role tag>-<instance id>), for example
    C(megapool-prod-bastion-i-0a1b2c3d4e5f6a7b8). Characters other than letters, digits, C(.), C(_) and C(-) become C(_).
    O(hostname_template) chooses another name."
  - "Groups: the C(megapool:role) tag value (C(app), C(bastion)), the region (C(eu_north_1)), the availability zone
    (C(eu_north_1a)), C(env_<env>), C(cluster_<cluster>) and, for Auto Scaling members, C(asg_<group name>) (from the tag
    C(aws:autoscaling:groupName)). Characters not valid in group names become C(_)."
  - "C(ansible_host) is the private IP of a host, except for bastions (C(megapool:role=bastion)): their public IP
    (O(bastion_address=public_ip)) or private IP (O(bastion_address=private_ip)). Bastions also get C(ansible_user)
    O(bastion_user) and C(ansible_port) O(bastion_port)."
  - "Every other host gets C(ansible_ssh_common_args) that go through the bastion B(of its own VPC) (same region and
    VPC id, found in the same query; with several, the running one launched first): with O(bastion_proxy=command)
    C(-o 'ProxyCommand=ssh -W %h:%p -p 22 -o StrictHostKeyChecking=accept-new ec2-user@203.0.113.10'), with
    O(bastion_proxy=jump) C(-o ProxyJump=ec2-user@203.0.113.10:22). It also gets C(megapool_bastion), a dict with the
    bastion's C(name), C(instance_id), C(address), C(user) and C(port). A VPC without a bastion is a warning, and its
    hosts get no proxy."
  - Every host also gets the instance's attributes in snake_case like the amazon.aws C(aws_ec2) inventory
    (C(instance_id), C(private_ip_address), C(vpc_id), C(placement.availability_zone), C(placement.region), ...),
    its tags as the dict C(ec2_tags) (C(tags) is a reserved name in Ansible), C(aws_region), and C(megapool_role) (the
    role tag). Values that come from AWS are marked unsafe, so a tag value that looks like a Jinja2 template (a
    C(lookup) call in braces, say) stays text and is never templated.
  - A region that cannot be queried (a disabled opt-in region, refused credentials, an unreachable endpoint) is a
    warning and is left out, unless O(strict_regions=true). When no region at all answers, the inventory source fails
    with an error that names the endpoint.
  - The configuration file name must end with C(ec2_cluster.yml) or C(ec2_cluster.yaml), for example
    C(inventories/prod/ec2_cluster.yml). Put it beside the environment's C(hosts.yml), so that C(-i inventories/prod)
    brings the region hosts and the instances together.
notes:
  - "With the inventory cache on (O(cache=true)), a warm cache makes no AWS call at all, not even the STS call of
    O(assume_role_arn). A result where a region failed is not cached. A cache entry from another query (other O(env),
    O(cluster), O(regions) or O(filters)) is not used. An unreadable or malformed cache entry is ignored with a warning
    and replaced by a fresh query. C(--flush-cache) or C(meta: refresh_inventory) query again."
  - "Ansible reports a failed inventory source as a warning (C(Failed to parse ... with ... plugin)) and goes on with the
    other sources; set C(ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=true) (or C([inventory] any_unparsed_is_failed)) to
    make it fatal, for example in CI."
  - "O(bastion_proxy=jump) is simple but the jump connection takes its options only from C(~/.ssh/config): neither
    Ansible's C(host_key_checking) nor C(ansible_ssh_private_key_file) reach it, so a bastion whose host key is not yet in
    C(known_hosts) fails with C(Host key verification failed). O(bastion_proxy=command) (the default) passes
    O(bastion_ssh_args) to the ssh that connects to the bastion."
  - The O(region) option is not used to choose regions (O(regions) does); it is the region of the STS call for
    O(assume_role_arn).
  - "An option this plugin does not know (a typo such as C(regoins)) is a warning that names it, with the closest known
    option (C(unknown option 'regoins' (did you mean 'regions'?))); Ansible itself ignores such a key silently."
  - All regions' clients come from one boto3 session, so the EC2 service model is loaded once.
author:
  - megapool.aws maintainers (@megapool)
extends_documentation_fragment:
  - inventory_cache
  - constructed
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
  - amazon.aws.assume_role.plugins
options:
  plugin:
    description: The name of this plugin; it makes this file a configuration of this plugin.
    required: true
    type: str
    choices: ['megapool.aws.ec2_cluster']
  env:
    description:
      - The environment, the value of the C(megapool:env) tag (C(local), C(staging), C(prod)).
      - May be a template, for example a C(lookup) of an environment variable.
    type: str
    required: true
  cluster:
    description:
      - The cluster, the value of the C(megapool:cluster) tag.
      - May be a template.
    type: str
    required: true
  regions:
    description:
      - The regions of the environment, queried at once. At least one; every name must be a region botocore knows.
      - Keep it in step with the region hosts in the environment's C(hosts.yml).
    type: list
    elements: str
    required: true
  filters:
    description:
      - More server-side filters, added to the ones on C(tag:megapool:env), C(tag:megapool:cluster) and
        C(instance-state-name) (C(pending), C(running)); a filter here with one of those names replaces it.
      - Names and values as in U(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html),
        for example C(tag:megapool:role) or C(instance-type).
      - Hosts are proxied only through bastions that match the filters too.
    type: dict
    default: {}
  max_workers:
    description:
      - How many regions are queried at the same time, at most.
    type: int
    default: 8
  page_size:
    description:
      - C(MaxResults) of each C(DescribeInstances) page (5 to 1000); the plugin reads every page.
    type: int
    default: 1000
  strict_regions:
    description:
      - When V(true), a region that cannot be queried fails the inventory source, instead of a warning that leaves the
        region out.
    type: bool
    default: false
  hostname_template:
    description:
      - A Jinja2 expression (like the values of O(compose)) evaluated with each host's variables, whose value is the
        host's name instead of the default C(<Name or role>-<instance id>).
        Example C(ec2_tags['megapool:role'] ~ '-' ~ placement.availability_zone).
      - Where the value is empty or the expression fails, the host keeps the default name (with O(strict=true), a failing
        expression fails the source).
      - Names that several instances share get C(-<instance id>) appended (then C(-<region>)), so names stay unique.
    type: str
  bastion_address:
    description:
      - Which address of a bastion is its C(ansible_host) and the address private hosts jump through.
      - V(public_ip) from outside the VPCs (a bastion without a public IP falls back to its private IP, with a warning);
        V(private_ip) for a controller inside the network, for example over a VPN.
    type: str
    choices: ['public_ip', 'private_ip']
    default: public_ip
  bastion_user:
    description:
      - The SSH user on the bastions, for the proxy and as the bastions' C(ansible_user).
    type: str
    default: ec2-user
  bastion_port:
    description:
      - The SSH port of the bastions, for the proxy and as the bastions' C(ansible_port).
    type: int
    default: 22
  bastion_proxy:
    description:
      - How private hosts are reached through their VPC's bastion (the value of their C(ansible_ssh_common_args)).
      - V(command) - C(-o 'ProxyCommand=ssh -W %h:%p -p <port> <bastion_ssh_args> <user>@<bastion>'); the ssh to the
        bastion gets O(bastion_ssh_args) (host-key checking, C(-i key)).
      - V(jump) - C(-o ProxyJump=<user>@<bastion>:<port>); the jump uses C(~/.ssh/config) only.
      - V(none) - no proxy (the controller reaches the private addresses directly); no warning for VPCs without a bastion.
    type: str
    choices: ['command', 'jump', 'none']
    default: command
  bastion_ssh_args:
    description:
      - Extra arguments of the ssh that connects to the bastion, with O(bastion_proxy=command); split like a shell would.
      - The default trusts a bastion's host key on first use and refuses a changed one. For throw-away bastions, for
        example C(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null); to pick the key,
        C(-i ~/.ssh/megapool-admin.pem).
    type: str
    default: -o StrictHostKeyChecking=accept-new
  connection:
    description:
      - How Ansible reaches the hosts.
      - V(ssh) - over SSH, private hosts through the bastion of their VPC (the C(bastion_*) options).
      - V(ssm) - through AWS Systems Manager Session Manager, no bastion and no key pair needed. Every host that is not a
        bastion gets C(ansible_connection=amazon.aws.aws_ssm) (C(community.aws.aws_ssm) redirects to it),
        C(ansible_host) and C(ansible_aws_ssm_instance_id) = its instance id, C(ansible_aws_ssm_region) = its region and
        C(ansible_aws_ssm_bucket_name) = O(ssm_bucket_name); bastions keep SSH (the network role gives them no instance
        profile) unless O(ssm_bastions=true).
      - "Session Manager needs: the SSM agent on the instance and an instance role with C(AmazonSSMManagedInstanceCore)
        (the ECS hosts have both); the session-manager-plugin on the controller
        (U(https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html));
        an S3 bucket in the same partition for file transfers (module files go through it even for C(command)), which the
        controller may read, write and delete in (C(s3:GetObject), C(s3:PutObject), C(s3:DeleteObject), C(s3:ListBucket),
        C(s3:GetBucketLocation)); C(curl) on the instance; and network access to the SSM and S3 endpoints from the
        instance (NAT or VPC endpoints)."
    type: str
    choices: ['ssh', 'ssm']
    default: ssh
  ssm_bucket_name:
    description:
      - The S3 bucket of the C(amazon.aws.aws_ssm) connection's file transfers; required with O(connection=ssm).
      - Use a bucket without versioning (transferred files are deleted after the run, but versions would keep them).
    type: str
  ssm_plugin:
    description:
      - Path of the session-manager-plugin binary, when it is neither C(/usr/local/bin/session-manager-plugin) nor on PATH
        (C(ansible_aws_ssm_plugin)).
    type: str
  ssm_bastions:
    description:
      - With O(connection=ssm), reach the bastions through Session Manager too (give them an instance profile with
        C(AmazonSSMManagedInstanceCore) first).
    type: bool
    default: false
  aws_config:
    description:
      - A dictionary of botocore configuration for the EC2 clients
        (U(https://botocore.amazonaws.com/v1/documentation/api/latest/reference/config.html#botocore.config.Config)),
        merged over the plugin's own (C(connect_timeout=10), C(retries.mode=standard), C(retries.total_max_attempts=10);
        throttling, 5xx answers and dropped connections are retried up to 9 times, with backoff).
    type: dict
"""

EXAMPLES = r"""
# inventories/prod/ec2_cluster.yml - every instance of the prod environment, in its three regions.
# Credentials from the usual AWS chain (AWS_PROFILE, SSO, environment, instance role).
plugin: megapool.aws.ec2_cluster
env: prod
cluster: megapool
regions: [eu-north-1, ap-southeast-1, us-east-1]

---

# inventories/local/ec2_cluster.yml - the local emulator; its port follows $MEGAPOOL_EMULATOR_PORT (default 5000).
plugin: megapool.aws.ec2_cluster
env: local
cluster: megapool
regions: [eu-north-1, ap-southeast-1]
endpoint_url: "http://127.0.0.1:{{ lookup('ansible.builtin.env', 'MEGAPOOL_EMULATOR_PORT') | default('5000', true) }}"
access_key: testing
secret_key: testing

---

# From inside the VPN: bastions by private IP, ProxyJump, a named profile, a one-minute cache.
plugin: megapool.aws.ec2_cluster
env: staging
cluster: megapool
regions: [eu-north-1, ap-southeast-1]
profile: megapool-staging
bastion_address: private_ip
bastion_proxy: jump
bastion_user: admin
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/megapool/inventory
cache_timeout: 60

---

# Throw-away bastions (tests): no host-key checks on the jump, a given key; only the app and bastion roles;
# hosts named after role and AZ; extra groups per instance type and release.
plugin: megapool.aws.ec2_cluster
env: local
cluster: megapool
regions: [eu-north-1]
bastion_ssh_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -i /tmp/test-key
filters:
  tag:megapool:role: [app, bastion]
hostname_template: "ec2_tags['megapool:role'] ~ '-' ~ placement.availability_zone"
strict_regions: true
keyed_groups:
  - key: instance_type
    prefix: type
  - key: ec2_tags['megapool:release'] | default('none')
    prefix: release
compose:
  ansible_user: "'ec2-user'"
groups:
  canary: ec2_tags['megapool:canary'] | default('') == 'true'
"""

import json
import shlex
from typing import Any

try:
    import boto3
    import botocore.exceptions
except ImportError:
    pass  # AWSInventoryBase.parse() reports the missing SDK

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.errors import AnsibleParserError
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.amazon.aws.plugins.plugin_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.plugin_utils.inventory import AWSInventoryBase

from ansible_collections.megapool.aws.plugins.module_utils.base import MEGAPOOL_AWS_COLLECTION_NAME
from ansible_collections.megapool.aws.plugins.module_utils.base import MEGAPOOL_AWS_COLLECTION_VERSION
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import PAGE_SIZE_MAX
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import PAGE_SIZE_MIN
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import ProxySettings
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import SsmSettings
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import default_client_config
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import describe_in_regions
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import failed_regions_message
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import instance_facts
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import instance_filters
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import inventory_hosts
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import region_clients
from ansible_collections.megapool.aws.plugins.module_utils.cluster_instances import unknown_options
from ansible_collections.megapool.aws.plugins.module_utils.regions import regions_error

# What a cache entry holds; another value (or shape) is a malformed entry, ignored with a warning.
CACHE_FORMAT = "megapool.aws.ec2_cluster/1"

try:  # ansible-core 2.19+ (data tagging): a string is a template only when marked trusted
    from ansible.template import trust_as_template as _trust_as_template  # noqa: F401  pylint: disable=unused-import

    DATA_TAGGING = True
except ImportError:
    DATA_TAGGING = False


def make_unsafe(value: Any) -> Any:
    """Mark data as never to be templated.

    ansible-core < 2.19: ``AnsibleUnsafe`` wrappers. 2.19+: ``wrap_var`` strips any template trust; data an inventory
    plugin sets is untrusted anyway (``trusted_by_default`` is False), so the two agree.
    """
    return wrap_var(value)


def make_unsafe_aws(value: Any) -> Any:
    """Mark data that came from AWS (JSON parsed by botocore, or read back from the cache) as never to be templated.

    On ansible-core 2.19+ such data is untrusted already: only strings marked by ``trust_as_template`` (what Ansible
    reads from playbooks, inventory and variable files) are templates, and botocore's strings carry no mark. Walking
    every fact of every host through ``wrap_var`` there cost time and memory for nothing. Before 2.19 every string is a
    template unless wrapped, so it is wrapped.
    """
    return value if DATA_TAGGING else wrap_var(value)


def _host_facts(facts: dict[str, Any]) -> dict[str, Any]:
    """The instance facts as host variables: ``tags`` (a reserved name in Ansible) becomes ``ec2_tags``."""
    host_facts = dict(facts)
    host_facts["ec2_tags"] = host_facts.pop("tags", {})
    return host_facts


def cache_problem(value: Any, query: dict[str, Any]) -> str | None:
    """Why a cache entry cannot be used: ``"malformed: ..."``, ``"stale: ..."``, or None when it can."""
    if not isinstance(value, dict) or value.get("format") != CACHE_FORMAT:
        return "malformed: not a %s entry" % CACHE_FORMAT
    regions = value.get("regions")
    if not isinstance(regions, dict) or not all(
        isinstance(instances, list)
        and all(isinstance(item, dict) and isinstance(item.get("instance_id"), str) for item in instances)
        for instances in regions.values()
    ):
        return "malformed: 'regions' is not a mapping of regions to lists of instances"
    if value.get("query") != query:
        return "stale: made for another query"
    if set(regions) != set(query["regions"]):
        return "malformed: its regions do not match its query"
    return None


class InventoryModule(AWSInventoryBase):
    NAME = "megapool.aws.ec2_cluster"
    INVENTORY_FILE_SUFFIXES = ("ec2_cluster.yml", "ec2_cluster.yaml")

    class TemplatedOptions(AWSInventoryBase.TemplatedOptions):
        """amazon.aws's templated options, plus env and cluster; templated without the ``disable_lookups`` argument
        (deprecated in ansible-core 2.19)."""

        TEMPLATABLE_OPTIONS = AWSInventoryBase.TemplatedOptions.TEMPLATABLE_OPTIONS + ("env", "cluster")

        def _template(self, value: Any) -> Any:
            if isinstance(value, dict):
                return {key: self._template(item) for key, item in value.items()}
            if isinstance(value, list):
                return [self._template(item) for item in value]
            if isinstance(value, str) and self.templar.is_template(value):
                return self.templar.template(value)
            return value

        def get(self, *args: Any) -> Any:
            value = self.original_options.get(*args)
            if not value or not self.templar or args[0] not in self.TEMPLATABLE_OPTIONS:
                return value
            return self._template(value)

    def __init__(self) -> None:
        super().__init__()
        self._credentials_ready = False

    # ------------------------------------------------------------------ AWS access

    def _set_frozen_credentials(self) -> None:
        # AWSInventoryBase.parse() assumes assume_role_arn right away; wait until AWS is really queried, so that a
        # warm cache makes no call at all.
        pass

    def _ready_credentials(self) -> None:
        if not self._credentials_ready:
            super()._set_frozen_credentials()
            self._credentials_ready = True

    def _client_config(self) -> Any:
        config = default_client_config()
        return config.merge(
            type(config)(user_agent_extra="%s/%s" % (MEGAPOOL_AWS_COLLECTION_NAME, MEGAPOOL_AWS_COLLECTION_VERSION))
        )

    def _clients(self, regions: list[str]) -> dict[str, Any]:
        """One EC2 client per region, all from one boto3 session (the EC2 model loaded once, not once per region).

        The same connection settings as amazon.aws's ``client()`` (profile or keys, endpoint, ``validate_certs``,
        ``aws_ca_bundle``, the assumed role's credentials); ``aws_config`` is merged over the plugin's config.
        """
        _region, endpoint_url, connect_kwargs = get_aws_connection_info(self)
        connect_kwargs = dict(connect_kwargs, **self._frozen_credentials)
        profile = connect_kwargs.pop("profile_name", None)
        config = self._client_config()
        user_config = connect_kwargs.pop("aws_config", None)
        if user_config is not None:
            config = config.merge(user_config)
        try:
            session = boto3.session.Session(profile_name=profile)
            # Made here, one after the other (creating clients is not thread-safe), and used in the threads.
            return region_clients(session, "ec2", regions, endpoint_url=endpoint_url, config=config, **connect_kwargs)
        except (botocore.exceptions.BotoCoreError, ValueError) as exc:
            raise AnsibleParserError("%s: could not make the EC2 clients: %s" % (self.NAME, exc)) from exc

    def _query(self, settings: dict[str, Any]) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
        self._ready_credentials()
        clients = self._clients(settings["regions"])
        filters = instance_filters(settings["env"], settings["cluster"], extra=settings["filters"])
        found = describe_in_regions(
            clients, filters, max_workers=settings["max_workers"], page_size=settings["page_size"]
        )
        facts = {
            region: [instance_facts(instance, region) for instance in instances]
            for region, instances in found.instances.items()
        }
        return facts, found.errors

    # ------------------------------------------------------------------ options

    def _read_config_data(self, path: str) -> Any:
        config = super()._read_config_data(path)
        known = {}
        for option, definition in (C.config.get_configuration_definitions("inventory", self._load_name) or {}).items():
            known[option] = (definition or {}).get("aliases") or []
        for message in unknown_options(list(config), known):
            self.warn(
                "%s: %s: %s; Ansible ignores it. The options are listed by `ansible-doc -t inventory %s`."
                % (self.NAME, path, message, self.NAME)
            )
        return config

    def _settings(self) -> dict[str, Any]:
        settings = {
            name: self.get_option(name) for name in ("env", "cluster", "regions", "filters", "max_workers", "page_size")
        }
        for name in ("env", "cluster"):
            if not isinstance(settings[name], str) or not settings[name].strip():
                raise AnsibleParserError(
                    "%s: %s must be a non-empty string (the megapool:%s tag value)." % (self.NAME, name, name)
                )
        regions = [str(region).strip() for region in settings["regions"] or []]
        problem = regions_error(regions)
        if problem:
            raise AnsibleParserError("%s: %s" % (self.NAME, problem))
        settings["regions"] = list(dict.fromkeys(regions))
        if not isinstance(settings["filters"], dict):
            raise AnsibleParserError("%s: filters must be a mapping of filter names to values." % self.NAME)
        if settings["max_workers"] < 1:
            raise AnsibleParserError(
                "%s: max_workers must be 1 or more, got %d." % (self.NAME, settings["max_workers"])
            )
        if not PAGE_SIZE_MIN <= settings["page_size"] <= PAGE_SIZE_MAX:
            raise AnsibleParserError(
                "%s: page_size must be between %d and %d (DescribeInstances MaxResults), got %d."
                % (self.NAME, PAGE_SIZE_MIN, PAGE_SIZE_MAX, settings["page_size"])
            )
        port = self.get_option("bastion_port")
        if not 1 <= port <= 65535:
            raise AnsibleParserError("%s: bastion_port must be a TCP port (1-65535), got %d." % (self.NAME, port))
        ssh_args = self.get_option("bastion_ssh_args") or ""
        try:
            shlex.split(ssh_args)
        except ValueError as exc:
            raise AnsibleParserError(
                "%s: bastion_ssh_args cannot be split like a shell would (%s): %s" % (self.NAME, exc, ssh_args)
            ) from None
        settings["proxy"] = ProxySettings(
            mode=self.get_option("bastion_proxy"),
            address=self.get_option("bastion_address"),
            user=self.get_option("bastion_user"),
            port=port,
            ssh_args=ssh_args,
        )
        settings["ssm"] = None
        if self.get_option("connection") == "ssm":
            bucket = self.get_option("ssm_bucket_name")
            if not isinstance(bucket, str) or not bucket.strip():
                raise AnsibleParserError(
                    "%s: connection: ssm needs ssm_bucket_name, the S3 bucket the amazon.aws.aws_ssm connection transfers "
                    "files through (module files too). Set ssm_bucket_name: <bucket> (one the controller may read, write and "
                    "delete in), or use connection: ssh." % self.NAME
                )
            settings["ssm"] = SsmSettings(
                bucket_name=bucket.strip(),
                plugin=self.get_option("ssm_plugin") or None,
                bastions=bool(self.get_option("ssm_bastions")),
            )
        return settings

    @staticmethod
    def _cache_query(settings: dict[str, Any]) -> dict[str, Any]:
        return {
            "env": settings["env"],
            "cluster": settings["cluster"],
            "regions": list(settings["regions"]),
            "filters": settings["filters"],
        }

    # ------------------------------------------------------------------ cache

    def _from_cache(self, path: str, cache: bool, query: dict[str, Any]) -> dict[str, list[dict[str, Any]]] | None:
        if not cache or not self.get_option("cache"):
            return None
        key = self.get_cache_key(path)
        try:
            value = self._cache[key]
        except KeyError:
            return None
        except (AnsibleError, ValueError, TypeError, OSError) as exc:
            self.warn(
                "%s: ignoring the inventory cache, it could not be read (%s); querying AWS again." % (self.NAME, exc)
            )
            return None
        problem = cache_problem(value, query)
        if problem is None:
            return value["regions"]
        if problem.startswith("malformed"):
            self.warn(
                "%s: ignoring the inventory cache entry %s, it is %s; querying AWS again." % (self.NAME, key, problem)
            )
        else:
            self.display.vvv("%s: cache entry %s is %s; querying AWS again." % (self.NAME, key, problem))
        return None

    def _to_cache(self, path: str, query: dict[str, Any], facts: dict[str, list[dict[str, Any]]]) -> None:
        if self.get_option("cache"):
            # Plain JSON data: no template trust (or other tags from the config file) goes into the cache.
            entry = json.loads(json.dumps({"format": CACHE_FORMAT, "query": query, "regions": facts}))
            self._cache[self.get_cache_key(path)] = entry

    # ------------------------------------------------------------------ populating

    def _hostnames(self, facts: dict[str, list[dict[str, Any]]]) -> dict[tuple[str, str], str]:
        template = self.get_option("hostname_template")
        if not template:
            return {}
        strict = self.get_option("strict")
        names = {}
        for region, instances in facts.items():
            for instance in instances:
                try:
                    name = self._compose(template, make_unsafe_aws(dict(_host_facts(instance), aws_region=region)))
                except Exception as exc:  # pylint: disable=broad-exception-caught
                    if strict:
                        raise AnsibleParserError(
                            "%s: hostname_template failed for %s (%s): %s"
                            % (self.NAME, instance["instance_id"], region, exc)
                        ) from exc
                    continue
                if name:
                    names[(region, instance["instance_id"])] = str(name)
        return names

    def _populate(
        self, facts: dict[str, list[dict[str, Any]]], proxy: ProxySettings, ssm: SsmSettings | None = None
    ) -> None:
        hosts, warnings = inventory_hosts(facts, proxy, self._hostnames(facts), ssm)
        for warning in warnings:
            self.warn("%s: %s" % (self.NAME, warning))
        strict = self.get_option("strict")
        for host in hosts:
            name = make_unsafe(host.name)
            self.inventory.add_host(name)
            for group in host.groups:
                group = self.inventory.add_group(make_unsafe(group))
                self.inventory.add_child(group, name)
            # The facts came from AWS; the variables this collection adds hold option values (bastion user, ssh args).
            host_vars = dict(make_unsafe_aws(_host_facts(host.facts)), **make_unsafe(host.variables))
            for key, value in host_vars.items():
                self.inventory.set_variable(name, key, value)
            self._set_composite_vars(self.get_option("compose"), host_vars, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), host_vars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host_vars, name, strict=strict)

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache=cache)
        settings = self._settings()
        query = json.loads(json.dumps(self._cache_query(settings)))
        facts = self._from_cache(path, cache, query)
        if facts is None:
            facts, errors = self._query(settings)
            if errors:
                message = failed_regions_message(errors, self.get_option("endpoint_url"))
                if self.get_option("strict_regions") or not facts:
                    reason = "strict_regions is true" if facts else "no region answered"
                    raise AnsibleParserError("%s: %s (%s)." % (self.NAME, message, reason))
                for region in sorted(errors):
                    self.warn("%s: skipping region %s: %s" % (self.NAME, region, errors[region]))
            else:
                self._to_cache(path, query, facts)
        self._populate(facts, settings["proxy"], settings["ssm"])
