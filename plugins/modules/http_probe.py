#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: http_probe
short_description: Probe an HTTP(S) endpoint N times and report the success ratio and latency percentiles
version_added: 0.1.0
description:
  - Sends O(requests) sequential C(GET) requests to O(url), waiting O(interval) seconds between them, and returns
    every sample (success, HTTP status, seconds to the complete answer, error) together with a summary - the success
    ratio, the nearest-rank p50 and p95 and the maximum latency in milliseconds, the count of each outcome, and
    whether the ratio reaches O(min_success_ratio).
  - A request succeeds when its final status (after redirects) is one of O(status_codes), or any 2xx status when
    O(status_codes) is not set. Latencies count every request that got an HTTP answer, whatever its status; a
    request without an answer (connection refused, timeout, TLS or DNS failure) has no latency.
  - The module only measures. It does not fail when the endpoint is down or the ratio is under
    O(min_success_ratio); test RV(passed) (for example with M(ansible.builtin.assert)) to fail a play. It fails
    only on invalid options, before any request.
  - It makes no AWS call and is not a member of the C(megapool.aws.aws) action group. The availability probe of
    C(playbooks/verify.yml) uses it against each region's load balancer.
options:
  url:
    description:
      - The C(http://) or C(https://) URL to request, for example the health endpoint of a load balancer.
    type: str
    required: true
  requests:
    description: How many requests to send, one after the other; 1 or more.
    type: int
    default: 20
  timeout:
    description: Seconds each request may take to connect and to receive each part of the answer; above 0.
    type: float
    default: 5
  interval:
    description: Seconds to wait between two requests; 0 or more.
    type: float
    default: 0
  validate_certs:
    description:
      - Whether to check the server's TLS certificate (its chain and that it names the host of O(url), or
        O(server_name) when set).
      - To probe a load balancer by its AWS DNS name, whose certificate names the site, keep V(true) and set
        O(server_name) to the site's name instead of turning the check off.
    type: bool
    default: true
  server_name:
    description:
      - Connect to the host of O(url) (its addresses, its port) but present this name, like
        C(curl --resolve <server_name>:<port>:<address>) - as the TLS server name (SNI), which the server uses to pick
        its certificate; as the name the certificate is checked against; and as the HTTP C(Host) header, which
        listener rules and the app see.
      - For example O(url=https://megapool-prod-123.eu-north-1.elb.amazonaws.com/health) with
        O(server_name=app.example.com) probes that region's load balancer exactly as a user of C(app.example.com)
        reaches it, certificate check included (the load balancer's own DNS name is on no certificate it serves).
      - A redirect to the same name goes to the same address again. Proxies from the environment are not used then
        (a proxy would resolve the name itself).
      - A DNS name without scheme, port or path.
    type: str
  ca_path:
    description:
      - A PEM file of CA certificates to trust instead of the system's, for an endpoint whose certificate a private CA
        issued.
    type: path
  status_codes:
    description:
      - The HTTP statuses that count as a success. Not set means any 2xx status.
    type: list
    elements: int
  min_success_ratio:
    description: The share of successful requests (0-1) that RV(passed) requires.
    type: float
    default: 0.99
notes:
  - Redirects are followed; the status of the final answer counts, and the latency includes the redirects.
  - The body of each answer is read completely and then discarded.
author:
  - megapool.aws maintainers (@megapool)
extends_documentation_fragment:
  - megapool.aws.attributes
attributes:
  check_mode:
    support: full
    details:
      - The module only reads (it sends C(GET) requests), so check mode probes too and returns the same result.
  diff_mode:
    support: none
    details:
      - Nothing changes, so there is no diff.
  action_group:
    description: The action group the module belongs to, for C(module_defaults).
    support: none
    membership: []
    details:
      - It makes no AWS call; C(module_defaults) for C(group/megapool.aws.aws) do not reach it.
"""

EXAMPLES = r"""
- name: Probe a region's load balancer 20 times, as a user of app.example.com reaches it (SNI, Host, certificate)
  megapool.aws.http_probe:
    url: "https://{{ alb_outputs.dns_name }}/health"
    server_name: app.example.com  # the certificate names the site, not the load balancer
  register: probe

- name: Fail under 99 % success
  ansible.builtin.assert:
    that: probe.passed
    fail_msg: "{{ probe.succeeded }}/{{ probe.requests }} ok ({{ probe.outcomes }}), p95 {{ probe.p95_ms }} ms"

- name: 100 requests, one every half second, where a redirect to the login page is fine
  megapool.aws.http_probe:
    url: https://shop.example.com/
    requests: 100
    interval: 0.5
    timeout: 2
    status_codes: [200, 302]
    min_success_ratio: 0.95
  register: probe
"""

RETURN = r"""
url:
  description: The URL probed.
  returned: always
  type: str
  sample: https://shop.example.com/health
server_name:
  description: The name presented to the server (O(server_name)); null when it is the host of RV(url).
  returned: always
  type: str
  sample: app.example.com
samples:
  description: One entry per request, in the order they were sent.
  returned: always
  type: list
  elements: dict
  contains:
    ok:
      description: Whether the request succeeded (its status is expected).
      type: bool
    status:
      description: The HTTP status of the answer; null when there was no answer.
      type: int
    seconds:
      description: Seconds to the complete answer; null when there was no answer.
      type: float
    error:
      description: Why there was no answer (C(Connection refused), C(timed out), ...); null when there was one.
      type: str
  sample:
    - {"ok": true, "status": 200, "seconds": 0.012345, "error": null}
    - {"ok": false, "status": 503, "seconds": 0.004101, "error": null}
    - {"ok": false, "status": null, "seconds": null, "error": "Connection refused"}
requests:
  description: Requests sent.
  returned: always
  type: int
  sample: 20
succeeded:
  description: Requests that succeeded.
  returned: always
  type: int
  sample: 19
failures:
  description: Requests that did not succeed (RV(requests) - RV(succeeded)).
  returned: always
  type: int
  sample: 1
success_ratio:
  description: RV(succeeded) / RV(requests), rounded to 4 digits.
  returned: always
  type: float
  sample: 0.95
p50_ms:
  description: Median latency in milliseconds (nearest rank); null when nothing answered.
  returned: always
  type: float
  sample: 12.3
p95_ms:
  description: 95th percentile latency in milliseconds (nearest rank); null when nothing answered.
  returned: always
  type: float
  sample: 40.1
max_ms:
  description: Highest latency in milliseconds; null when nothing answered.
  returned: always
  type: float
  sample: 52.0
outcomes:
  description:
    - How many requests had each outcome - C(ok), C(HTTP <status>) for an answer that does not count as a success,
      or the error of a request without an answer.
  returned: always
  type: dict
  sample: {"HTTP 503": 1, "ok": 19}
passed:
  description: Whether RV(success_ratio) >= O(min_success_ratio).
  returned: always
  type: bool
  sample: false
"""

import contextlib
import http.client
import socket
import time
import urllib.error
from typing import Any
from typing import Iterator

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import open_url

from ansible_collections.megapool.aws.plugins.module_utils.http_probe import PinnedUrl
from ansible_collections.megapool.aws.plugins.module_utils.http_probe import ProbeError
from ansible_collections.megapool.aws.plugins.module_utils.http_probe import ProbeRequest
from ansible_collections.megapool.aws.plugins.module_utils.http_probe import answered
from ansible_collections.megapool.aws.plugins.module_utils.http_probe import error_text
from ansible_collections.megapool.aws.plugins.module_utils.http_probe import latency_summary
from ansible_collections.megapool.aws.plugins.module_utils.http_probe import pinned_url
from ansible_collections.megapool.aws.plugins.module_utils.http_probe import unanswered
from ansible_collections.megapool.aws.plugins.module_utils.http_probe import validate_probe

ARGUMENT_SPEC: dict[str, dict[str, Any]] = dict(
    url=dict(type="str", required=True),
    requests=dict(type="int", default=20),
    timeout=dict(type="float", default=5.0),
    interval=dict(type="float", default=0.0),
    validate_certs=dict(type="bool", default=True),
    status_codes=dict(type="list", elements="int"),
    min_success_ratio=dict(type="float", default=0.99),
    server_name=dict(type="str"),
    ca_path=dict(type="path"),
)

_HTTP_AGENT = "megapool.aws.http_probe"
# What a request without an HTTP answer raises: socket errors and timeouts (OSError, also inside urllib's
# URLError), a broken answer (http.client), ansible's own TLS/proxy errors.
_NO_ANSWER = (urllib.error.URLError, OSError, http.client.HTTPException, UrlsConnectionError)
# Module-level so that tests can replace them.
_clock = time.perf_counter
_sleep = time.sleep


@contextlib.contextmanager
def _resolving(pinned: PinnedUrl | None) -> Iterator[None]:
    """While probing, resolve ``pinned.name`` to the addresses of ``pinned.address`` (``curl --resolve``); every
    other name resolves as usual. The module runs in its own process, so nothing else sees it."""
    if pinned is None:
        yield
        return
    original = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host or "")
        return original(pinned.address if name.rstrip(".").lower() == pinned.name else host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.getaddrinfo = original


def _probe_once(request: ProbeRequest, url: str) -> dict[str, Any]:
    """One GET request -> its sample."""
    start = _clock()
    try:
        response = open_url(
            url,
            method="GET",
            timeout=request.timeout,
            validate_certs=request.validate_certs,
            http_agent=_HTTP_AGENT,
            use_netrc=False,
            ca_path=request.ca_path,
            use_proxy=request.server_name is None,
        )
        try:
            response.read()
            status = response.status
        finally:
            response.close()
    except urllib.error.HTTPError as exc:  # an answer with a status urllib does not take for success
        try:
            exc.read()
        except _NO_ANSWER:
            pass
        finally:
            exc.close()
        return answered(exc.code, _clock() - start, request.status_codes)
    except _NO_ANSWER as exc:
        return unanswered(error_text(exc))
    return answered(status, _clock() - start, request.status_codes)


def _probe(request: ProbeRequest) -> list[dict[str, Any]]:
    pinned = pinned_url(request.url, request.server_name) if request.server_name else None
    samples = []
    with _resolving(pinned):
        for index in range(request.requests):
            if index and request.interval:
                _sleep(request.interval)
            samples.append(_probe_once(request, pinned.url if pinned else request.url))
    return samples


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)  # a read: check mode probes too
    try:
        request = validate_probe(module.params)
    except ProbeError as exc:
        module.fail_json(msg=str(exc))
    samples = _probe(request)
    module.exit_json(
        changed=False,
        url=request.url,
        server_name=request.server_name,
        samples=samples,
        **latency_summary(samples, request.min_success_ratio),
    )


if __name__ == "__main__":
    main()
