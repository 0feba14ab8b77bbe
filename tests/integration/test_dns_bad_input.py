# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad DNS input (role megapool.aws.dns) fails with a message that names the variable and the fix, before any AWS
change: playbooks/site.yml's validation play refuses it, and the emulator (including Route 53, ACM and Cloud Map)
is unchanged."""

from __future__ import annotations

import pytest
import yaml

from conftest import REGIONS, Inventory, client, run_playbook, snapshot


def dns_snapshot() -> dict:
    """conftest.snapshot() plus what the edge DNS creates: Route 53 hosted zones with their records and health checks
    (global), ACM certificates and Cloud Map namespaces and services per region."""
    state = snapshot()
    for region in REGIONS:
        acm, discovery = client("acm", region), client("servicediscovery", region)
        state[region].update(
            {
                "certificates": sorted(
                    "%s:%s" % (c["DomainName"], c.get("Status")) for c in acm.list_certificates()["CertificateSummaryList"]
                ),
                "namespaces": sorted(n["Name"] for n in discovery.list_namespaces()["Namespaces"]),
                "services": sorted(s["Name"] for s in discovery.list_services()["Services"]),
            }
        )
    route53 = client("route53", REGIONS[0])
    zones = route53.list_hosted_zones()["HostedZones"]
    state["global"] = {
        "zones": sorted(z["Name"] for z in zones),
        "records": sorted(
            "%s %s %s" % (r["Name"], r["Type"], r.get("SetIdentifier", ""))
            for z in zones
            for r in route53.list_resource_record_sets(HostedZoneId=z["Id"])["ResourceRecordSets"]
        ),
        "health_checks": sorted(h["Id"] for h in route53.list_health_checks()["HealthChecks"]),
    }
    return state


def set_dns(inventory: Inventory, **values) -> None:
    """Override DNS settings in the inventory copy's group_vars/all/dns.yml."""
    file = inventory.path / "group_vars" / "all" / "dns.yml"
    data = yaml.safe_load(file.read_text()) or {}
    data.update(values)
    file.write_text(yaml.safe_dump(data, sort_keys=False))


def flat(output: str) -> str:
    return " ".join(output.split())


CASES = {
    # case: (DNS settings, strings the failure message must contain: the variable and the fix)
    "app_domain_outside_the_zone": (
        {"dns_app_domain": "app.megapool.example"},
        [
            "dns_app_domain=app.megapool.example is not inside the hosted zone dns_zone_name=megapool.test",
            "Use a name ending in .megapool.test (e.g. app.megapool.test), or set dns_zone_name to the zone that holds",
        ],
    ),
    "app_domain_only_ends_like_the_zone": (
        {"dns_app_domain": "app.notmegapool.test"},
        ["dns_app_domain=app.notmegapool.test is not inside the hosted zone dns_zone_name=megapool.test"],
    ),
    "san_outside_the_zone": (
        {"dns_extra_names": ["megapool.test", "www.megapool.example"]},
        [
            "dns_extra_names has www.megapool.example, outside the hosted zone dns_zone_name=megapool.test",
            "List only the apex megapool.test or names ending in .megapool.test",
        ],
    ),
    "zone_name_not_a_domain": (
        {"dns_zone_name": "megapool test"},
        ['dns_zone_name="megapool test" is not a domain name', "set it to the public Route 53 hosted zone"],
    ),
    "health_check_path_without_slash": (
        {"dns_health_check_path": "health"},
        ['dns_health_check_path="health" must start with a slash, e.g. /health'],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_dns_input_fails_early_and_changes_nothing(case, inventory, empty_emulator):
    settings, expected = CASES[case]
    set_dns(inventory, **settings)
    before = dns_snapshot()
    result = run_playbook("site.yml", inventory.path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    for text in expected:
        assert text in flat(output), "%r not in output:\n%s" % (text, output[-3000:])
    # Refused by the validation play, before the network play started.
    assert "PLAY [Validate the inputs of every region" in output and "PLAY [Network" not in output
    assert dns_snapshot() == before, "the failed run changed the emulator"
