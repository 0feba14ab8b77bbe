# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad load balancer input fails with a message that names the variable and the fix, before any AWS change.

A region (eu-north-1) is built once with the edge order of playbooks/site.yml (validation of every layer first, the
network, the certificate, the alb role); each bad input then runs the same playbook and must fail without changing
anything: the snapshot includes every attribute, listener and health check setting of the load balancer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PORT, REGIONS, ROOT, Inventory, _emulator, client, snapshot

NAME = "megapool-local"  # <cluster>-<env> of inventories/local
REGION = "eu-north-1"

# The edge part of playbooks/site.yml, with the certificate handed in as alb_certificate_arn (the dns role's step).
PLAYBOOK = """
- name: Validate the inputs of every region before anything changes
  hosts: regions
  gather_facts: false
  any_errors_fatal: true
  module_defaults:
    group/megapool.aws.aws: "{{ megapool_aws }}"
  tasks:
    - name: Check the network inputs
      ansible.builtin.import_role:
        name: megapool.aws.network
        tasks_from: validate.yml
    - name: Check the load balancer inputs
      ansible.builtin.import_role:
        name: megapool.aws.alb
        tasks_from: validate.yml

- name: Network (per region, in parallel)
  hosts: regions
  gather_facts: false
  any_errors_fatal: true
  module_defaults:
    group/megapool.aws.aws: "{{ megapool_aws }}"
  roles:
    - role: megapool.aws.network

- name: Load balancer (per region, in parallel)
  hosts: regions
  gather_facts: false
  any_errors_fatal: true
  module_defaults:
    group/megapool.aws.aws: "{{ megapool_aws }}"
  roles:
    - role: megapool.aws.alb
"""


def alb_snapshot() -> dict:
    """conftest.snapshot() plus the details of every load balancer (attributes, listeners with their policy,
    certificates and actions, tags) and target group (health check, attributes, tags) per region."""
    state = snapshot()
    for region in REGIONS:
        elbv2 = client("elbv2", region)
        balancers = elbv2.describe_load_balancers()["LoadBalancers"]
        groups = elbv2.describe_target_groups()["TargetGroups"]
        arns = [b["LoadBalancerArn"] for b in balancers] + [g["TargetGroupArn"] for g in groups]
        tags = (
            {d["ResourceArn"]: d["Tags"] for d in elbv2.describe_tags(ResourceArns=arns)["TagDescriptions"]}
            if arns
            else {}
        )
        state[region]["load_balancer_details"] = {
            b["LoadBalancerName"]: {
                "subnets": sorted(z["SubnetId"] for z in b["AvailabilityZones"]),
                "security_groups": sorted(b["SecurityGroups"]),
                "attributes": elbv2.describe_load_balancer_attributes(LoadBalancerArn=b["LoadBalancerArn"])[
                    "Attributes"
                ],
                "listeners": sorted(
                    json.dumps({k: v for k, v in listener.items() if k != "ListenerArn"}, sort_keys=True, default=str)
                    for listener in elbv2.describe_listeners(LoadBalancerArn=b["LoadBalancerArn"])["Listeners"]
                ),
                "tags": tags.get(b["LoadBalancerArn"]),
            }
            for b in balancers
        }
        state[region]["target_group_details"] = {
            g["TargetGroupName"]: {
                "group": json.dumps(g, sort_keys=True, default=str),
                "attributes": elbv2.describe_target_group_attributes(TargetGroupArn=g["TargetGroupArn"])["Attributes"],
                "tags": tags.get(g["TargetGroupArn"]),
            }
            for g in groups
        }
    return state


def run(playbook: Path, inventory: Path, *extra: dict | str) -> subprocess.CompletedProcess:
    """ansible-playbook on eu-north-1 of the inventory; dicts become extra vars (JSON, so numbers stay numbers)."""
    env = dict(
        os.environ, MEGAPOOL_EMULATOR_PORT=str(PORT), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1"
    )
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        str(playbook),
        "-i",
        str(inventory),
        "--limit",
        REGION,
    ]
    for item in extra:
        command += ["-e", json.dumps(item)] if isinstance(item, dict) else [item]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def flat(output: str) -> str:
    return " ".join(output.split())


def test_check_mode_on_an_empty_emulator_runs_through_and_changes_nothing(tmp_path, empty_emulator):
    # First in the file: the module-scoped `built` region below starts from its own reset.
    playbook = tmp_path / "edge.yml"
    playbook.write_text(PLAYBOOK)
    inventory = Inventory(tmp_path / "inventory")
    before = alb_snapshot()
    result = run(playbook, inventory.path, {}, "--check")
    output = flat(result.stdout + result.stderr)
    assert result.returncode == 0, output[-3000:]
    assert (
        "Check mode: the network of eu-north-1 does not exist yet; the target group megapool-local-app, the load balancer"
        " megapool-local and its listeners (80 redirect, 443 HTTPS) would all be created." in output
    ), output[-3000:]
    assert alb_snapshot() == before, "check mode changed the emulator"


@pytest.fixture(scope="module")
def built(tmp_path_factory, emulator):
    """eu-north-1 built by the edge playbook on a fresh emulator: (playbook, inventory, certificate ARN)."""
    _emulator("reset")
    base = tmp_path_factory.mktemp("alb")
    playbook = base / "edge.yml"
    playbook.write_text(PLAYBOOK)
    inventory = Inventory(base / "inventory")
    certificate = client("acm", REGION).request_certificate(
        DomainName="app.megapool-local.example.com",
        ValidationMethod="DNS",
        Tags=[{"Key": "megapool:env", "Value": "local"}, {"Key": "megapool:cluster", "Value": "megapool"}],
    )["CertificateArn"]
    result = run(playbook, inventory.path, {"alb_certificate_arn": certificate})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    yield playbook, inventory.path, certificate
    _emulator("reset")


def public_subnets() -> list[dict]:
    return client("ec2", REGION).describe_subnets(Filters=[{"Name": "tag:megapool:role", "Values": ["public-subnet"]}])[
        "Subnets"
    ]


# case: (settings, strings the failure message must contain: the variable and the fix)
STATIC_CASES = {
    "health_check_path_without_slash": (
        {"alb_health_check_path": "health"},
        ["alb_health_check_path=health must be an absolute path", "start it with a slash, e.g. /health"],
    ),
    "deregistration_delay_above_3600": (
        {"alb_deregistration_delay": 3601},
        ["alb_deregistration_delay=3601 is outside 0-3600", "set it between 0 and 3600"],
    ),
    "deregistration_delay_negative": (
        {"alb_deregistration_delay": -1},
        ["alb_deregistration_delay=-1 is outside 0-3600"],
    ),
    "stickiness_duration_zero": (
        {"alb_stickiness": True, "alb_stickiness_duration": 0},
        ["alb_stickiness_duration=0 is outside 1-604800", "set it between 1 and 604800"],
    ),
    "stickiness_duration_above_7_days": (
        {"alb_stickiness_duration": 604801},
        ["alb_stickiness_duration=604801 is outside 1-604800"],
    ),
    "unknown_target_type": (
        {"alb_target_type": "lambda"},
        [
            "alb_target_type=lambda is not a target type the role supports",
            "use ip for ECS tasks in awsvpc network mode",
        ],
    ),
    # AWS: the app's keep-alive idle timeout must be larger than the load balancer's, else 502s.
    "idle_timeout_not_below_the_apps": (
        {"alb_idle_timeout": 240},
        [
            "alb_idle_timeout=240 must be below alb_app_idle_timeout=60 (the app's keep-alive idle timeout)",
            "HTTP 502",
            "Lower alb_idle_timeout to 59 or less",
            "protocol_options: [idle_timeout: <ms>]",
        ],
    ),
    "idle_timeout_equal_to_a_raised_app_timeout": (
        {"alb_idle_timeout": 300, "alb_app_idle_timeout": 300},
        ["alb_idle_timeout=300 must be below alb_app_idle_timeout=300"],
    ),
    "idle_timeout_out_of_range": (
        {"alb_idle_timeout": 4001, "alb_app_idle_timeout": 5000},
        ["alb_idle_timeout=4001 is outside 1-4000 seconds"],
    ),
    # Names: the target group name <cluster>-<env>-app may have 32 characters (AWS); refused before the network.
    "target_group_name_too_long": (
        {"megapool_cluster": "megapool-cluster-of-the-shop"},
        [
            "makes the target group name megapool-cluster-of-the-shop-local-app, 38 characters; AWS allows 32",
            "Shorten megapool_cluster or megapool_env by 6 characters",
        ],
    ),
    "security_groups_a_string": (
        {"alb_security_group_ids": "sg-0123456789abcdef0"},
        ["alb_security_group_ids='sg-0123456789abcdef0' is a string, but a list is expected"],
    ),
    "typo_with_strict_vars": (
        {"alb_idle_timout": 30, "megapool_strict_vars": True},
        ["alb_idle_timout is set but role megapool.aws.alb has no such variable: did you mean alb_idle_timeout?"],
    ),
    "certificate_of_another_region": (
        {"alb_certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/0e3f0e4c-0000-4000-8000-000000000000"},
        [
            "alb_certificate_arn is a certificate of us-east-1 but the load balancer is in eu-north-1",
            "use one requested in eu-north-1",
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(STATIC_CASES))
def test_bad_alb_input_fails_before_the_network_and_changes_nothing(case, built):
    playbook, inventory, certificate = built
    settings, expected = STATIC_CASES[case]
    before = alb_snapshot()
    result = run(playbook, inventory, {"alb_certificate_arn": certificate}, settings)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    for text in expected:
        assert text in flat(output), "%r not in output:\n%s" % (text, output[-3000:])
    # Refused by the validation play, before the network play started.
    assert "PLAY [Validate the inputs of every region" in output and "PLAY [Network" not in output
    assert alb_snapshot() == before, "the failed run changed the emulator"


def test_public_subnets_in_one_az_fail_before_any_change(built):
    playbook, inventory, certificate = built
    one = public_subnets()[0]
    before = alb_snapshot()
    result = run(playbook, inventory, {"alb_certificate_arn": certificate, "alb_subnet_ids": [one["SubnetId"]]})
    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0, output[-3000:]
    assert (
        "alb_subnet_ids: the public subnets (%s) are in 1 AZ (%s)" % (one["SubnetId"], one["AvailabilityZone"])
        in output
    ), output[-3000:]
    assert "an ALB needs public subnets in at least 2 AZs" in output
    # Given subnets are checked by the validation play, before the network play started.
    assert "PLAY [Network" not in output
    assert alb_snapshot() == before, "the failed run changed the emulator"


def test_missing_certificate_fails_before_any_change(built):
    playbook, inventory = built[:2]
    before = alb_snapshot()
    result = run(playbook, inventory, {"alb_certificate_arn": ""})
    output = flat(result.stdout + result.stderr)
    assert result.returncode != 0, output[-3000:]
    assert "alb_certificate_arn is empty for eu-north-1: run the dns role's certificate step" in output, output[-3000:]
    assert "TASK [megapool.aws.alb : Target group" not in output
    assert alb_snapshot() == before, "the failed run changed the emulator"


def test_the_built_region_is_what_the_role_promises_and_a_rerun_changes_nothing(built):
    playbook, inventory, certificate = built
    state = alb_snapshot()[REGION]
    assert list(state["load_balancer_details"]) == [NAME] and list(state["target_group_details"]) == [NAME + "-app"]
    before = alb_snapshot()
    result = run(playbook, inventory, {"alb_certificate_arn": certificate})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    assert "changed=0" in result.stdout.split("PLAY RECAP")[-1], result.stdout[-3000:]
    assert alb_snapshot() == before
