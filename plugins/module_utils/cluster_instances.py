# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find a cluster's EC2 instances in all its regions at once; turn them into inventory hosts or Erlang node names.

Shared by the inventory plugin ``megapool.aws.ec2_cluster`` and the module ``megapool.aws.ec2_cluster_nodes_info``:

- ``instance_filters``: the server-side filters (tags ``megapool:env``/``megapool:cluster``, optionally the role and
  other tags, instance states, extra filters);
- ``describe_in_regions``: one paginated, filtered ``DescribeInstances`` per region, all regions at once in a bounded
  thread pool; returns the instances per region and, per region that failed, a readable error;
- ``instance_facts``: a raw instance -> a JSON-safe snake_case dict with a ``tags`` dict (what the inventory caches);
- ``inventory_hosts`` (pure): facts -> host records (unique names, groups, ``ansible_host``, the proxy through the
  bastion of the host's own VPC) and warnings;
- ``cluster_members`` (pure): facts -> Erlang node names ``basename[-release]@private_ip``;
- ``default_client_config`` and ``region_clients``: the retry policy (botocore standard mode, 10 attempts) and one
  client per region from ONE boto3 session, so the service model is loaded and parsed once, not once per region;
- ``unknown_options`` (pure): the keys of a configuration nobody reads, each with a "did you mean".
"""

from __future__ import annotations

import datetime
import difflib
import functools
import re
import shlex
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Callable
from typing import Iterable
from typing import Mapping

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # the callers check for boto3/botocore (AnsibleAWSModule, AWSInventoryBase)

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.transformation import ansible_dict_to_boto3_filter_list

TAG_ENV = "megapool:env"
TAG_CLUSTER = "megapool:cluster"
TAG_ROLE = "megapool:role"
TAG_RELEASE = "megapool:release"
TAG_ASG = "aws:autoscaling:groupName"
BASTION_ROLE = "bastion"

ACTIVE_STATES = ("pending", "running")
RUNNING_STATES = ("running",)

# DescribeInstances accepts 5..1000 for MaxResults (with filters, not with InstanceIds).
PAGE_SIZE_MIN = 5
PAGE_SIZE_MAX = 1000
DEFAULT_MAX_WORKERS = 8

PROXY_MODES = ("command", "jump", "none")
BASTION_ADDRESSES = ("public_ip", "private_ip")
DEFAULT_BASTION_SSH_ARGS = "-o StrictHostKeyChecking=accept-new"

_ERROR_HINTS = {
    "OptInRequired": "the region is not enabled for this account; enable it or remove it from the regions",
    "AuthFailure": "AWS refused the credentials in this region; check them, and that the region is enabled",
    "InvalidClientTokenId": "AWS refused the credentials; check them",
    "UnrecognizedClientException": "AWS refused the credentials; check them",
    "UnauthorizedOperation": "the credentials may not call ec2:DescribeInstances",
    "AccessDenied": "the credentials may not call ec2:DescribeInstances",
}

_HOSTNAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_GROUP_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
_NODE_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
NODE_BASENAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")


# ------------------------------------------------------------------------------------------------ querying


def instance_filters(
    env: str,
    cluster: str,
    states: Iterable[str] = ACTIVE_STATES,
    role: str | None = None,
    tags: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The server-side ``Filters`` of DescribeInstances for a cluster's instances.

    ``tags`` adds ``tag:<key>`` filters; ``extra`` adds raw filters (``{"instance-type": "t3.micro"}``) and wins over
    the others on the same name (e.g. a different ``instance-state-name``).
    """
    wanted: dict[str, Any] = {"tag:" + TAG_ENV: env, "tag:" + TAG_CLUSTER: cluster, "instance-state-name": list(states)}
    if role:
        wanted["tag:" + TAG_ROLE] = role
    for key, value in (tags or {}).items():
        wanted["tag:" + key] = value
    wanted.update(extra or {})
    return ansible_dict_to_boto3_filter_list(wanted)


def describe_instances(
    client: Any, filters: list[dict[str, Any]], page_size: int = PAGE_SIZE_MAX
) -> list[dict[str, Any]]:
    """Every instance matching ``filters`` in the client's region: one paginated DescribeInstances.

    Throttling, 5xx answers and dropped connections are retried by the client itself (``default_client_config``:
    botocore standard mode, 10 attempts) - not by a second retry loop around it, which would multiply the attempts
    (AWSRetry's 10 around botocore's 10 is up to 100 calls per page on an account that is being throttled). Other
    errors propagate. The reservation's owner is copied onto its instances (``OwnerId``), as amazon.aws's inventory does.
    """
    call = client.describe_instances
    params: dict[str, Any] = {"Filters": filters, "MaxResults": page_size}
    instances: list[dict[str, Any]] = []
    seen_tokens: set[str] = set()
    while True:
        page = call(**params)
        for reservation in page.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                if "OwnerId" in reservation:
                    instance.setdefault("OwnerId", reservation["OwnerId"])
                instances.append(instance)
        token = page.get("NextToken")
        if not token or token in seen_tokens:
            return instances
        seen_tokens.add(token)
        params["NextToken"] = token


@dataclass
class RegionResults:
    """What ``describe_in_regions`` found: instances per region that answered, an error per region that did not."""

    instances: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def describe_in_regions(
    clients: Mapping[str, Any],
    filters: list[dict[str, Any]],
    max_workers: int = DEFAULT_MAX_WORKERS,
    page_size: int = PAGE_SIZE_MAX,
    describe: Callable[[Any, list[dict[str, Any]], int], list[dict[str, Any]]] = describe_instances,
) -> RegionResults:
    """Query every region of ``clients`` (``{region: ec2 client}``) at once, at most ``max_workers`` at a time.

    Make the clients in the calling thread (creating boto3 sessions is not thread-safe; using a client is). A region
    whose query fails with an AWS or connection error lands in ``errors`` with a readable message; anything else
    (a bug) propagates.
    """
    results = RegionResults()
    if not clients:
        return results
    workers = max(1, min(int(max_workers), len(clients)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="megapool-ec2") as pool:
        futures = {region: pool.submit(describe, client, filters, page_size) for region, client in clients.items()}
    for region, future in futures.items():
        try:
            results.instances[region] = future.result()
        except (BotoCoreError, ClientError) as exc:
            results.errors[region] = error_message(exc)
    return results


def error_message(exc: BaseException) -> str:
    """A one-line explanation of an AWS/botocore error (error code, message, and what to do for the usual ones)."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code") or "Unknown"
        message = "%s: %s" % (code, error.get("Message") or str(exc))
        hint = _ERROR_HINTS.get(code)
        return "%s (%s)" % (message, hint) if hint else message
    text = str(exc) or type(exc).__name__
    return text


def failed_regions_message(errors: Mapping[str, str], endpoint_url: str | None, what: str = "query") -> str:
    """``could not query eu-north-1, us-east-1 (endpoint ...): <error>``, one error per region when they differ."""
    endpoint = endpoint_url or "the AWS default endpoints"
    regions = sorted(errors)
    if len(set(errors.values())) == 1:
        details = errors[regions[0]]
    else:
        details = "; ".join("%s: %s" % (region, errors[region]) for region in regions)
    return "could not %s %s (endpoint %s): %s" % (what, ", ".join(regions), endpoint, details)


# The retry policy of every client the inventory plugin and node discovery make: botocore's "standard" mode, 10 attempts
# (the first call and up to 9 retries). Standard mode retries throttling (Throttling, ThrottlingException,
# RequestLimitExceeded, TooManyRequestsException, ...), transient errors (RequestTimeout, HTTP 500/502/503/504) and
# connection errors, with truncated exponential backoff and jitter (at most 20 s between attempts) and a retry quota
# per client; legacy mode (boto3's default) retries fewer errors 5 times.
# https://docs.aws.amazon.com/boto3/latest/guide/retries.html
# In botocore's Config, retries.max_attempts counts the retries only (10 would be 11 calls); total_max_attempts counts
# the first call too, like max_attempts in ~/.aws/config and AWS_MAX_ATTEMPTS.
RETRY_MODE = "standard"
RETRY_MAX_ATTEMPTS = 10
CONNECT_TIMEOUT = 10


def default_client_config() -> Any:
    """botocore config for the queries: the retry policy (standard mode, 10 attempts), connect timeout 10 s."""
    import botocore.config  # pylint: disable=import-outside-toplevel

    return botocore.config.Config(
        connect_timeout=CONNECT_TIMEOUT, retries={"mode": RETRY_MODE, "total_max_attempts": RETRY_MAX_ATTEMPTS}
    )


def region_clients(
    session: Any,
    service: str,
    regions: Iterable[str],
    endpoint_url: str | None = None,
    config: Any = None,
    **client_kwargs: Any,
) -> dict[str, Any]:
    """``{region: client}``: one ``service`` client per region, all from the one boto3 ``session``.

    A botocore session loads and parses a service model once and keeps it (its loader caches what it read); every new
    session does it again. amazon.aws makes a new session for every client, so 8 regions load the EC2 model 8 times
    (about 0.15 s of CPU each). Make the clients here, in one thread (creating clients from a session is not
    thread-safe; using a client from several threads is):
    https://docs.aws.amazon.com/boto3/latest/guide/clients.html#multithreading-or-multiprocessing-with-clients
    ``client_kwargs`` are the credentials and ``verify`` of amazon.aws's ``get_aws_connection_info``.
    """
    return {
        region: session.client(service, region_name=region, endpoint_url=endpoint_url, config=config, **client_kwargs)
        for region in dict.fromkeys(regions)
    }


# ------------------------------------------------------------------------------------------------ configuration


def unknown_options(given: Iterable[str], known: Mapping[str, Iterable[str]]) -> list[str]:
    """One message per key of ``given`` that is neither an option of ``known`` (``{option: aliases}``) nor an alias.

    ``"unknown option 'regoins' (did you mean 'regions'?)"``; without a close match, ``"unknown option 'x'"``. In the
    order given. A typo in a configuration file is otherwise silently ignored (Ansible reads only the options it knows).
    """
    names: dict[str, str] = {}
    for option, aliases in known.items():
        names[str(option)] = str(option)
        for alias in aliases or ():
            names.setdefault(str(alias), str(option))
    messages = []
    for key in given:
        key = str(key)
        if key in names:
            continue
        close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.7)
        if not close:
            close = [name for name in names if key.lower() == name.lower()]
        hint = " (did you mean '%s'?)" % names[close[0]] if close else ""
        messages.append("unknown option '%s'%s" % (key, hint))
    return messages


# ------------------------------------------------------------------------------------------------ facts


@functools.lru_cache(maxsize=None)
def _snake_name(name: str) -> str:
    """``camel_dict_to_snake_dict``'s name for one key, worked out once per name: 408 instances have some 35,000 keys
    but fewer than 100 distinct ones (the regular expressions were a fifth of a cold inventory's CPU)."""
    return next(iter(camel_dict_to_snake_dict({name: None})))


def _snake_facts(value: Any) -> Any:
    """``_json_safe(camel_dict_to_snake_dict(value))`` in one pass: every key of every nested dict in snake_case (as
    ``camel_dict_to_snake_dict``, whose ``ignore_list`` applies to the top level only), lists and tuples as lists,
    dates as ISO 8601 strings."""
    if isinstance(value, dict):
        return {_snake_name(key): _snake_facts(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_snake_facts(item) for item in value]
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value


def instance_facts(instance: Mapping[str, Any], region: str) -> dict[str, Any]:
    """A raw DescribeInstances instance as JSON-safe snake_case facts, with ``tags`` as a dict and ``placement.region``.

    The keys are those of the amazon.aws ``aws_ec2`` inventory (``private_ip_address``, ``placement.availability_zone``,
    ``vpc_id``, ``state.name``, ...), so ``compose``/``keyed_groups`` expressions carry over.
    """
    facts = _snake_facts({key: value for key, value in instance.items() if key != "Tags"})
    facts["tags"] = boto3_tag_list_to_ansible_dict(instance.get("Tags", []))
    placement = facts.setdefault("placement", {})
    placement["region"] = region
    return facts


def _state(facts: Mapping[str, Any]) -> str:
    return str((facts.get("state") or {}).get("name") or "")


def _tags(facts: Mapping[str, Any]) -> dict[str, Any]:
    return facts.get("tags") or {}


# ------------------------------------------------------------------------------------------------ inventory


@dataclass(frozen=True)
class ProxySettings:
    """How private hosts are reached through the bastion of their VPC."""

    mode: str = "command"  # command (ProxyCommand), jump (ProxyJump), none
    address: str = "public_ip"  # which address of the bastion to use: public_ip or private_ip
    user: str = "ec2-user"
    port: int = 22
    ssh_args: str = DEFAULT_BASTION_SSH_ARGS  # extra arguments for the ssh to the bastion (mode command only)


# The connection plugin for Session Manager (community.aws.aws_ssm redirects to it).
SSM_CONNECTION = "amazon.aws.aws_ssm"


@dataclass(frozen=True)
class SsmSettings:
    """Reach hosts through AWS Systems Manager Session Manager instead of SSH through the bastion.

    The ``amazon.aws.aws_ssm`` connection needs the SSM agent on the instance and an instance role allowing it
    (``AmazonSSMManagedInstanceCore``, which the ECS hosts' role has), the session-manager-plugin on the controller,
    and an S3 bucket for file transfers (module files go through it, even for ``command``)."""

    bucket_name: str
    plugin: str | None = None  # path of session-manager-plugin, when not /usr/local/bin or on PATH
    bastions: bool = False  # the bastion has no instance profile: it stays on SSH unless told otherwise


def ssm_variables(instance_id: str, region: str, settings: SsmSettings) -> dict[str, Any]:
    """The host variables of the ``amazon.aws.aws_ssm`` connection for one instance."""
    variables = {
        "ansible_connection": SSM_CONNECTION,
        "ansible_host": instance_id,
        "ansible_aws_ssm_instance_id": instance_id,
        "ansible_aws_ssm_region": region,
        "ansible_aws_ssm_bucket_name": settings.bucket_name,
    }
    if settings.plugin:
        variables["ansible_aws_ssm_plugin"] = settings.plugin
    return variables


@dataclass
class HostRecord:
    """One inventory host: its name, the AWS facts, the variables this collection adds, and its groups."""

    name: str
    region: str
    instance_id: str
    facts: dict[str, Any]
    variables: dict[str, Any]
    groups: list[str]


def safe_hostname(value: Any) -> str:
    """A host name usable in host patterns: runs of anything but letters, digits, ``.``, ``_``, ``-`` become ``_``."""
    return _HOSTNAME_UNSAFE.sub("_", str(value)).strip("_")


def safe_group_name(value: Any) -> str:
    """A valid Ansible group name: anything but letters, digits, ``_`` becomes ``_``; no leading digit."""
    name = _GROUP_UNSAFE.sub("_", str(value))
    return "_" + name if name[:1].isdigit() else name


def default_hostname(facts: Mapping[str, Any]) -> str:
    """``<Name tag, else megapool:role, else "instance">-<instance id>``, e.g. ``megapool-prod-app-i-0a1b2c3d4e5f6a7b8``."""
    tags = _tags(facts)
    label = safe_hostname(tags.get("Name") or tags.get(TAG_ROLE) or "") or "instance"
    return "%s-%s" % (label, facts["instance_id"])


def unique_hostnames(wanted: list[tuple[tuple[str, str], str]]) -> dict[tuple[str, str], str]:
    """``[((region, instance_id), name)]`` -> ``{(region, instance_id): unique name}``.

    A name several instances want gets ``-<instance id>`` (unless it already ends with it), then ``-<region>`` if still
    shared; any leftover clash (only from contrived templates) a counter.
    """
    counts = Counter(name for _key, name in wanted)
    first = {}
    for (region, instance_id), name in wanted:
        if counts[name] > 1 and not name.endswith(instance_id):
            name = "%s-%s" % (name, instance_id)
        first[(region, instance_id)] = name
    counts = Counter(first.values())
    names: dict[tuple[str, str], str] = {}
    for (region, instance_id), name in first.items():
        names[(region, instance_id)] = "%s-%s" % (name, region) if counts[name] > 1 else name
    taken: set[str] = set()
    for key in sorted(names):
        name, number = names[key], 2
        while names[key] in taken:
            names[key] = "%s-%d" % (name, number)
            number += 1
        taken.add(names[key])
    return names


def proxy_ssh_args(address: str, settings: ProxySettings) -> str | None:
    """The ``ansible_ssh_common_args`` that reach a private host through the bastion at ``address``.

    - ``command``: ``-o 'ProxyCommand=ssh -W %h:%p -p 22 -o StrictHostKeyChecking=accept-new ec2-user@203.0.113.10'``
      (the ssh to the bastion carries ``settings.ssh_args``: host-key options, ``-i key``, ...);
    - ``jump``: ``-o ProxyJump=ec2-user@203.0.113.10:22`` (the jump only uses ~/.ssh/config for its options);
    - ``none``: None.
    """
    if settings.mode == "none":
        return None
    if settings.mode == "jump":
        return "-o ProxyJump=%s@%s:%d" % (settings.user, address, settings.port)
    command = (
        ["ssh", "-W", "%h:%p", "-p", str(settings.port)]
        + shlex.split(settings.ssh_args or "")
        + ["%s@%s" % (settings.user, address)]
    )
    return "-o " + shlex.quote("ProxyCommand=" + shlex.join(command))


def _bastion_key(facts: Mapping[str, Any]) -> tuple[bool, str, str]:
    return (_state(facts) != "running", str(facts.get("launch_time") or ""), str(facts.get("instance_id")))


def _host_groups(facts: Mapping[str, Any], region: str) -> list[str]:
    tags = _tags(facts)
    groups = []
    if tags.get(TAG_ROLE):
        groups.append(safe_group_name(tags[TAG_ROLE]))
    groups.append(safe_group_name(region))
    az = (facts.get("placement") or {}).get("availability_zone")
    if az:
        groups.append(safe_group_name(az))
    if tags.get(TAG_ENV):
        groups.append(safe_group_name("env_%s" % tags[TAG_ENV]))
    if tags.get(TAG_CLUSTER):
        groups.append(safe_group_name("cluster_%s" % tags[TAG_CLUSTER]))
    if tags.get(TAG_ASG):
        groups.append(safe_group_name("asg_%s" % tags[TAG_ASG]))
    return list(dict.fromkeys(groups))


def _listing(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (" and %d more" % (len(names) - limit) if len(names) > limit else "")


def inventory_hosts(
    facts_by_region: Mapping[str, list[dict[str, Any]]],
    proxy: ProxySettings = ProxySettings(),
    names: Mapping[tuple[str, str], str] | None = None,
    ssm: SsmSettings | None = None,
) -> tuple[list[HostRecord], list[str]]:
    """Host records for the instances (facts from ``instance_facts``) of all regions, and warnings.

    - names: ``names[(region, instance_id)]`` when given and not empty, else ``default_hostname``; made unique;
    - groups: the role as is (``app``, ``bastion``), region (``eu_north_1``), AZ (``eu_north_1a``), ``env_<env>``,
      ``cluster_<cluster>``, ``asg_<name>`` (characters invalid in group names become ``_``);
    - ``ansible_host``: a bastion's public IP (``proxy.address=public_ip``, falling back to the private IP with a
      warning) or private IP; every other host's private IP;
    - every host that is not a bastion gets ``ansible_ssh_common_args`` through the bastion of its own VPC (region +
      VPC id) and ``megapool_bastion``; a VPC without a bastion gets a warning and no proxy. With several bastions in
      a VPC, the running one launched first is used.
    """
    warnings: list[str] = []
    entries = sorted(
        ((region, facts) for region, instances in facts_by_region.items() for facts in instances),
        key=lambda entry: (entry[0], str(entry[1].get("instance_id"))),
    )
    wanted = []
    for region, facts in entries:
        chosen = (names or {}).get((region, facts["instance_id"]))
        wanted.append(((region, facts["instance_id"]), safe_hostname(chosen) if chosen else default_hostname(facts)))
    unique = unique_hostnames(wanted)

    # Every bastion's address (the public IP unless told otherwise); per VPC the bastion that private hosts go through.
    addresses: dict[tuple[str, str], str | None] = {}
    bastions: dict[tuple[str, str], dict[str, Any]] = {}
    for region, facts in entries:
        if _tags(facts).get(TAG_ROLE) != BASTION_ROLE:
            continue
        key = (region, facts["instance_id"])
        addresses[key] = facts.get("private_ip_address")
        if proxy.address == "public_ip":
            if facts.get("public_ip_address"):
                addresses[key] = facts["public_ip_address"]
            else:
                warnings.append(
                    "bastion %s (%s, %s) has no public IP: using its private IP %s (set bastion_address: private_ip "
                    "when the controller reaches the VPC directly, e.g. over a VPN)."
                    % (unique[key], facts.get("vpc_id"), region, addresses[key])
                )
        vpc_key = (region, facts.get("vpc_id") or "")
        if facts.get("vpc_id") and (vpc_key not in bastions or _bastion_key(facts) < _bastion_key(bastions[vpc_key])):
            bastions[vpc_key] = facts

    hosts: list[HostRecord] = []
    unproxied: dict[tuple[str, str], list[str]] = {}
    for region, facts in entries:
        key = (region, facts["instance_id"])
        tags = _tags(facts)
        variables: dict[str, Any] = {"aws_region": region}
        if tags.get(TAG_ROLE):
            variables["megapool_role"] = tags[TAG_ROLE]
        if ssm is not None and (key not in addresses or ssm.bastions):
            variables.update(ssm_variables(facts["instance_id"], region, ssm))
        elif key in addresses:
            if addresses[key]:
                variables["ansible_host"] = addresses[key]
            variables["ansible_user"] = proxy.user
            variables["ansible_port"] = proxy.port
        else:
            if facts.get("private_ip_address"):
                variables["ansible_host"] = facts["private_ip_address"]
            vpc_key = (region, facts.get("vpc_id") or "")
            bastion = bastions.get(vpc_key)
            bastion_address = addresses.get((region, bastion["instance_id"])) if bastion else None
            if bastion and bastion_address:
                variables["megapool_bastion"] = dict(
                    name=unique[(region, bastion["instance_id"])],
                    instance_id=bastion["instance_id"],
                    address=bastion_address,
                    user=proxy.user,
                    port=proxy.port,
                )
                args = proxy_ssh_args(bastion_address, proxy)
                if args:
                    variables["ansible_ssh_common_args"] = args
            elif proxy.mode != "none":
                unproxied.setdefault(vpc_key, []).append(unique[key])
        hosts.append(
            HostRecord(unique[key], region, facts["instance_id"], facts, variables, _host_groups(facts, region))
        )

    for (region, vpc_id), host_names in sorted(unproxied.items()):
        warnings.append(
            "no running bastion (tag %s=%s) found in VPC %s (%s): %d host%s (%s) get no proxy; ansible_host is the "
            "private IP, reachable only from inside the VPC or over a VPN."
            % (
                TAG_ROLE,
                BASTION_ROLE,
                vpc_id or "(none)",
                region,
                len(host_names),
                "" if len(host_names) == 1 else "s",
                _listing(host_names),
            )
        )
    return hosts, warnings


# ------------------------------------------------------------------------------------------------ discovery


def node_name_part(value: Any) -> str:
    """A tag value made fit for the name part of an Erlang node name (anything but ``[A-Za-z0-9_.-]`` -> ``_``)."""
    return _NODE_NAME_UNSAFE.sub("_", str(value))


def cluster_members(
    facts_by_region: Mapping[str, list[dict[str, Any]]],
    basename: str,
    basename_tag: str | None = None,
    include_release: bool = False,
    release_tag: str = TAG_RELEASE,
) -> list[dict[str, Any]]:
    """The running instances with a private IP as cluster members, sorted by node name then instance id.

    The node name is ``<basename>@<private ip>``; the basename is the value of ``basename_tag`` when set on the
    instance, else ``basename``; with ``include_release`` and a ``release_tag`` value: ``<basename>-<release>@<ip>``.
    """
    members = []
    for region, instances in facts_by_region.items():
        for facts in instances:
            private_ip = facts.get("private_ip_address")
            if _state(facts) != "running" or not private_ip:
                continue
            tags = _tags(facts)
            base = node_name_part(tags[basename_tag]) if basename_tag and tags.get(basename_tag) else basename
            release = tags.get(release_tag) or None
            alive = "%s-%s" % (base, node_name_part(release)) if include_release and release else base
            members.append(
                dict(
                    node="%s@%s" % (alive, private_ip),
                    instance_id=facts.get("instance_id"),
                    region=region,
                    az=(facts.get("placement") or {}).get("availability_zone"),
                    private_ip=private_ip,
                    release=release,
                )
            )
    return sorted(members, key=lambda member: (member["node"], member["instance_id"]))
