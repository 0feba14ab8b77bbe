# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emulator extension: a local DNS resolver that answers Cloud Map service names and Route 53 private-zone A records,
the local stand-in for the VPC's Route 53 Resolver.

What moto 5.2 does
    Cloud Map and Route 53 are control plane only: ``RegisterInstance`` stores an instance with its
    ``AWS_INSTANCE_IPV4``, but no name resolves anywhere, so a node that discovers its peers by DNS finds nobody.

What AWS does
    - For a service in a DNS namespace, "AWS Cloud Map creates a Route 53 record" per instance from the service's
      ``DnsConfig`` (an ``A`` record with ``AWS_INSTANCE_IPV4``); with the ``MULTIVALUE`` routing policy "Route 53
      returns up to eight healthy records" chosen at random (AWS Cloud Map API, DnsConfig.RoutingPolicy,
      https://docs.aws.amazon.com/cloud-map/latest/api/API_DnsConfig.html; RegisterInstance,
      https://docs.aws.amazon.com/cloud-map/latest/api/API_RegisterInstance.html). Unhealthy instances are left out.
    - A private DNS namespace's names (and any private hosted zone's records) resolve only "within the VPCs that you
      associated with the hosted zone", through the VPC's resolver at the VPC base + 2 (Route 53 developer guide,
      Working with private hosted zones,
      https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zones-private.html). A name that does not exist
      answers NXDOMAIN; a name that exists without records of the asked type answers NOERROR without answers.

How this extension imitates it (emulator process only; stdlib; ``apply()`` is idempotent, ``restore()`` undoes it)
    - :func:`resolver` ``(vpc_id=None)`` -> ``(host, port)``: a UDP DNS server on 127.0.0.1, an ephemeral port, started
      on first use. With a ``vpc_id`` it answers what that VPC's resolver would: Cloud Map namespaces and private
      zones associated with the VPC (in any region; a cross-region association is how a zone reaches another
      region's VPC). Without one it answers every private name of every region and account (a tooling view; no VPC
      on AWS sees that).
    - A queries for ``<service>.<namespace name>`` answer the ``AWS_INSTANCE_IPV4`` of the service's instances that
      are not ``UNHEALTHY`` (at most 8, chosen at random when there are more), with the TTL of the service's A
      record; A records of a private zone (not aliases) answer their values. Other types of a known name answer
      NOERROR without records; unknown names NXDOMAIN. One question per query, answers within 512 bytes, no TCP, no
      recursion to the internet (the emulator has none).
    - :func:`inetrc` ``(vpc_id=None)``: the ``ERL_INETRC`` content for a BEAM node of a local task (``{resolv_conf,
      ""}`` first, or Erlang replaces the nameserver with the host's at the first lookup).
    - ``GET /megapool-api/dns`` on the emulator's port answers ``{"host": ..., "port": ...}`` of the tooling view.
    - ``POST /moto-api/reset`` closes every server (the next :func:`resolver` call starts a new one); the
      emulator's stop ends them with the process.
"""

from __future__ import annotations

import functools
import ipaddress
import random
import socket
import struct
import threading
from typing import Any
from typing import Callable

from moto.moto_api._internal.models import MotoAPIBackend
from moto.route53.models import route53_backends
from moto.servicediscovery.models import servicediscovery_backends

from .patching import MethodPatches

HOST = "127.0.0.1"
MAX_ANSWERS = 8
TYPE_A = 1
CLASS_IN = 1
RCODE_FORMERR = 1
RCODE_NXDOMAIN = 3
RCODE_NOTIMP = 4
DEFAULT_TTL = 60


def _name(value: str) -> str:
    return value.strip().rstrip(".").lower()


def _backends(backend_dict: Any) -> list[Any]:
    try:
        return [backend for _account, _region, backend in list(backend_dict.iter_backends())]
    except RuntimeError:  # changed while read
        return []


def _zones() -> dict[str, Any]:
    """Every hosted zone by id, all accounts."""
    zones: dict[str, Any] = {}
    for backend in _backends(route53_backends):
        zones.update(dict(backend.zones))
    return zones


def _visible(zone: Any, vpc_id: str | None) -> bool:
    if vpc_id is None:
        return True
    return any(vpc.get("vpc_id") == vpc_id for vpc in (getattr(zone, "vpcs", None) or []))


def _ip(value: Any) -> str | None:
    try:
        return str(ipaddress.IPv4Address(str(value)))
    except ValueError:
        return None


def lookup(name: str, vpc_id: str | None = None) -> tuple[list[str], int] | None:
    """(A record values, TTL) of a name as the resolver of ``vpc_id`` (None: every private name) sees it; None when
    the name does not exist there."""
    wanted = _name(name)
    zones = _zones()
    found = False
    addresses: list[str] = []
    ttl = DEFAULT_TTL
    for backend in _backends(servicediscovery_backends):
        for namespace in list(backend.namespaces.values()):
            if namespace.type not in ("DNS_PRIVATE", "DNS_PUBLIC"):
                continue
            zone_id = ((namespace.dns_properties or {}).get("HostedZoneId") or "").rsplit("/", 1)[-1]
            zone = zones.get(zone_id)
            if namespace.type == "DNS_PRIVATE" and vpc_id is not None:
                if not (_visible(zone, vpc_id) if zone is not None else namespace.vpc == vpc_id):
                    continue
            for service in list(backend.services.values()):
                if service.namespace_id != namespace.id or _name("%s.%s" % (service.name, namespace.name)) != wanted:
                    continue
                found = True
                records = [
                    record
                    for record in ((service.dns_config or {}).get("DnsRecords") or [])
                    if record.get("Type") == "A"
                ]
                if not records:
                    continue
                ttl = int(records[0].get("TTL") or DEFAULT_TTL)
                for instance in list(service.instances):
                    if getattr(instance, "health_status", "HEALTHY") == "UNHEALTHY":
                        continue
                    address = _ip((instance.attributes or {}).get("AWS_INSTANCE_IPV4"))
                    if address and address not in addresses:
                        addresses.append(address)
    for zone in zones.values():
        if not getattr(zone, "private_zone", False) or not _visible(zone, vpc_id):
            continue
        for rrset in list(zone.rrsets):
            if _name(rrset.name) != wanted:
                continue
            found = True
            if rrset.type != "A" or rrset.alias_target:
                continue
            ttl = int(rrset.ttl or DEFAULT_TTL)
            for value in rrset.records or []:
                address = _ip(value.get("Value") if isinstance(value, dict) else value)
                if address and address not in addresses:
                    addresses.append(address)
    if not found:
        return None
    if len(addresses) > MAX_ANSWERS:
        addresses = random.sample(addresses, MAX_ANSWERS)
    return addresses, ttl


# --- the wire format (RFC 1035) -----------------------------------------------------------------------------------


def parse_query(message: bytes) -> tuple[int, int, str, int, int, bytes]:
    """(id, flags, name, type, class, the question's bytes) of a one-question query; ValueError when malformed."""
    if len(message) < 12:
        raise ValueError("short message")
    query_id, flags, questions = struct.unpack("!HHH", message[:6])
    if flags & 0x8000 or questions != 1:
        raise ValueError("not one question")
    labels = []
    offset = 12
    while True:
        if offset >= len(message):
            raise ValueError("truncated name")
        length = message[offset]
        offset += 1
        if length == 0:
            break
        if length & 0xC0 or offset + length > len(message):
            raise ValueError("bad label")
        labels.append(message[offset : offset + length].decode("ascii", "replace"))
        offset += length
    if offset + 4 > len(message):
        raise ValueError("truncated question")
    qtype, qclass = struct.unpack("!HH", message[offset : offset + 4])
    return query_id, flags, ".".join(labels), qtype, qclass, message[12 : offset + 4]


def build_response(query_id: int, flags: int, question: bytes, rcode: int, addresses: list[str], ttl: int) -> bytes:
    """A response: QR, the query's opcode and RD, RA; the question; one A record per address (name: pointer to the
    question)."""
    response_flags = 0x8000 | (flags & 0x7900) | 0x0080 | (rcode & 0xF)
    header = struct.pack("!HHHHHH", query_id, response_flags, 1 if question else 0, len(addresses), 0, 0)
    answers = b"".join(
        struct.pack("!HHHIH", 0xC00C, TYPE_A, CLASS_IN, ttl, 4) + socket.inet_aton(address) for address in addresses
    )
    return header + question + answers


def answer(message: bytes, vpc_id: str | None) -> bytes | None:
    """The response to a query message (None: not even an id to answer to)."""
    try:
        query_id, flags, name, qtype, qclass, question = parse_query(message)
    except ValueError:
        if len(message) < 4:
            return None
        query_id, flags = struct.unpack("!HH", message[:4])
        return build_response(query_id, flags, b"", RCODE_FORMERR, [], 0)
    if (flags >> 11) & 0xF:  # only standard queries
        return build_response(query_id, flags, question, RCODE_NOTIMP, [], 0)
    found = lookup(name, vpc_id)
    if found is None:
        return build_response(query_id, flags, question, RCODE_NXDOMAIN, [], 0)
    addresses, ttl = found
    if qtype != TYPE_A or qclass != CLASS_IN:
        addresses = []
    return build_response(query_id, flags, question, 0, addresses, ttl)


# --- the servers --------------------------------------------------------------------------------------------------


class _Server:
    def __init__(self, vpc_id: str | None) -> None:
        self.vpc_id = vpc_id
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind((HOST, 0))
        self.socket.settimeout(0.2)
        self.address = self.socket.getsockname()[:2]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, name="dns-dataplane", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                message, client = self.socket.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                response = answer(message, self.vpc_id)
                if response is not None:
                    self.socket.sendto(response, client)
            except Exception:  # pylint: disable=broad-except
                continue  # moto's dicts changed under us; the client asks again

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=2)
        self.socket.close()


_LOCK = threading.Lock()
_SERVERS: dict[str | None, _Server] = {}


def resolver(vpc_id: str | None = None) -> tuple[str, int] | None:
    """(host, port) of the resolver of a VPC (None: every private name), started on first use; None when no socket
    can be opened."""
    with _LOCK:
        server = _SERVERS.get(vpc_id)
        if server is None:
            try:
                server = _SERVERS[vpc_id] = _Server(vpc_id)
            except OSError:
                return None
        return server.address


def inetrc(vpc_id: str | None = None) -> str | None:
    """The content of an Erlang ``ERL_INETRC`` file that makes a BEAM node resolve through :func:`resolver` (the
    local equivalent of the VPC resolver in /etc/resolv.conf); None when no resolver can be started.

    ``{resolv_conf, ""}`` comes first: otherwise inet_db reads the host's /etc/resolv.conf at the first lookup and
    its nameservers replace the configured one (seen with OTP 25), and the node asks the host's DNS instead."""
    address = resolver(vpc_id)
    if address is None:
        return None
    host, port = address
    return '{resolv_conf, ""}.\n{nameserver, {%s}, %d}.\n{lookup, [dns]}.\n' % (host.replace(".", ","), port)


def shutdown() -> None:
    """Close every server (moto reset)."""
    with _LOCK:
        servers = list(_SERVERS.values())
        _SERVERS.clear()
    for server in servers:
        server.close()


def _describe() -> dict[str, Any]:
    address = resolver()
    return {"host": address[0], "port": address[1]} if address else {}


def _reset(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        shutdown()
        return original(self, *args, **kwargs)

    return method


# moto's reset is wrapped by other extensions too: the wrappers chain, each recognised by its own mark
# (patching.MethodPatches).
_PATCHES = MethodPatches([(MotoAPIBackend, "reset", _reset)])


def apply() -> None:
    """Install the reset hook and the ``/megapool-api/dns`` route (idempotent)."""
    from . import elbv2_dataplane  # pylint: disable=import-outside-toplevel

    elbv2_dataplane.ROUTES["dns"] = _describe
    _PATCHES.apply()


applied = _PATCHES.applied  # whether the reset hook is installed


def restore() -> None:
    """Close every server and put moto's reset back (for tests; the emulator never calls it)."""
    from . import elbv2_dataplane  # pylint: disable=import-outside-toplevel

    shutdown()
    elbv2_dataplane.ROUTES.pop("dns", None)
    _PATCHES.restore()
