"""The network ACLs: their rule tables as pure functions, what the Network component hands
AWS, and a replay of the platform's real conversations through the prod plan's ACLs."""

from __future__ import annotations

import ipaddress

import pytest

from components.network import Network
from components.network_acls import (
    EPHEMERAL,
    AclLayout,
    acl_tables,
    isolated_table,
    numbered,
    private_table,
    public_table,
)
from components.subnets import plan_subnets
from stacks.plan.mocks import Recorded, run_under_mocks
from tests.infra.acl_replay import Flow, Subnet, replay, replay_all, subnets_from_plan
from tests.infra.component_support import assert_refused
from tests.infra.test_network import network

ACL = "aws:ec2/networkAcl:NetworkAcl"
LAYOUT = AclLayout(public_cidrs=["10.10.16.0/22", "10.10.48.0/22"],
                   private_cidrs=["10.10.0.0/20", "10.10.32.0/20"],
                   isolated_cidrs=["10.10.20.0/22", "10.10.52.0/22"])
INTERNET_HOST = "52.94.236.248"  # an AWS API endpoint's public address
VIEWER = "130.176.0.10"  # a CloudFront origin-facing address


def rows(rules) -> set[tuple]:
    return {(r.protocol, r.cidr_block, r.from_port, r.to_port) for r in rules}


def test_the_isolated_tier_answers_the_workload_tier_on_5432_and_6379_only() -> None:
    # Without GuardDuty's runtime agent (LAYOUT has no AWS-placed endpoint ports).
    table = isolated_table(LAYOUT)
    assert rows(table.ingress) == {("tcp", cidr, port, port) for cidr in LAYOUT.private_cidrs
                                   for port in (5432, 6379)}
    assert rows(table.egress) == {("tcp", cidr, *EPHEMERAL) for cidr in LAYOUT.private_cidrs}


def test_the_public_tier_admits_viewers_nat_traffic_and_replies() -> None:
    table = public_table(LAYOUT)
    assert rows(table.ingress) == {
        ("tcp", "0.0.0.0/0", 443, 443),
        *{("tcp", cidr, 443, 443) for cidr in LAYOUT.private_cidrs},
        ("tcp", "0.0.0.0/0", 1024, 65535),
        ("icmp", "0.0.0.0/0", 0, 0),
    }
    assert rows(table.egress) == {
        ("tcp", "0.0.0.0/0", 1024, 65535), ("tcp", "0.0.0.0/0", 443, 443),
        *{("tcp", cidr, 8000, 8000) for cidr in LAYOUT.private_cidrs},
    }
    (icmp,) = [r for r in table.ingress if r.protocol == "icmp"]
    assert (icmp.icmp_type, icmp.icmp_code) == (3, 4)


def test_the_private_tier_reaches_the_data_tier_and_the_internet_on_named_ports() -> None:
    table = private_table(LAYOUT)
    assert ("tcp", "0.0.0.0/0", 443, 443) in rows(table.egress)
    assert {r for r in rows(table.egress) if r[1] in LAYOUT.isolated_cidrs} == {
        ("tcp", cidr, port, port) for cidr in LAYOUT.isolated_cidrs for port in (5432, 6379)}
    assert {r for r in rows(table.ingress) if r[1] in LAYOUT.public_cidrs} == {
        ("tcp", cidr, 8000, 8000) for cidr in LAYOUT.public_cidrs}
    # Nothing but the tier itself gets all protocols.
    assert {r[1] for r in rows(table.ingress) | rows(table.egress) if r[0] == "-1"} == set(
        LAYOUT.private_cidrs)


def test_alert_mail_port_and_preview_listener_are_added_only_when_asked() -> None:
    layout = AclLayout(LAYOUT.public_cidrs, LAYOUT.private_cidrs, LAYOUT.isolated_cidrs,
                       listener_ports=(443, 80), egress_ports=(443, 587))
    public = rows(public_table(layout).ingress)
    assert ("tcp", "0.0.0.0/0", 80, 80) in public
    assert ("tcp", LAYOUT.private_cidrs[0], 587, 587) in public
    assert ("tcp", "0.0.0.0/0", 587, 587) in rows(private_table(layout).egress)
    assert ("tcp", "0.0.0.0/0", 587, 587) not in rows(private_table(LAYOUT).egress)


def test_aws_placed_endpoints_are_reachable_in_the_isolated_tier_only_when_asked() -> None:
    layout = AclLayout(LAYOUT.public_cidrs, LAYOUT.private_cidrs, LAYOUT.isolated_cidrs,
                       managed_endpoint_ports=(443,))
    assert {("tcp", cidr, 443, 443) for cidr in LAYOUT.private_cidrs} <= rows(
        isolated_table(layout).ingress)
    assert {("tcp", cidr, 443, 443) for cidr in LAYOUT.isolated_cidrs} <= rows(
        private_table(layout).egress)
    assert not any(r[2] == 443 for r in rows(isolated_table(LAYOUT).ingress))


def test_rule_numbers_step_by_ten_and_every_rule_allows() -> None:
    numbered_rules = numbered(public_table(LAYOUT).ingress)
    assert [r["rule_no"] for r in numbered_rules] == list(range(100, 100 + 10 * len(
        numbered_rules), 10))
    assert {r["action"] for r in numbered_rules} == {"allow"}


def test_tables_that_would_exceed_the_aws_quota_are_refused() -> None:
    cidrs = [str(net) for net in ipaddress.IPv4Network("10.0.0.0/16").subnets(new_prefix=22)]
    wide = AclLayout(cidrs[:8], cidrs[8:16], cidrs[16:24])
    with pytest.raises(ValueError, match="private network ACL would need 33 egress rules"):
        acl_tables(wide)


@pytest.mark.parametrize(("field", "value"), [("egress_ports", ()), ("data_ports", (5432, 0)),
                                              ("listener_ports", (443, 443))])
def test_bad_ports_are_refused_before_any_resource(field: str, value: tuple) -> None:
    assert_refused(lambda: Network("network", network(**{field: value})), field)


def run(**overrides: object) -> Recorded:
    return run_under_mocks(lambda: Network("network", network(**overrides)))


def test_each_tier_gets_its_acl_with_exactly_the_tables_rules() -> None:
    recorded = run(az_count=2)
    subnet_ids = {r.name: r.id for r in recorded.of_type("aws:ec2/subnet:Subnet")}
    azs = ["us-east-1a", "us-east-1b"]
    plans = plan_subnets("10.10.0.0/16", azs)
    layout = AclLayout(*[[p.cidr for p in plans if p.tier == tier]
                         for tier in ("public", "private", "isolated")])
    for tier, table in acl_tables(layout).items():
        acl = recorded.one(ACL, f"network-{tier}-acl").inputs
        assert acl["subnetIds"] == [subnet_ids[f"network-{tier}-{az}"] for az in azs]
        assert acl["ingress"] == [_camel(rule) for rule in numbered(table.ingress)]
        assert acl["egress"] == [_camel(rule) for rule in numbered(table.egress)]
        assert acl["vpcId"].startswith("vpc-")
    default = recorded.one("aws:ec2/defaultNetworkAcl:DefaultNetworkAcl").inputs
    assert (default["ingress"], default["egress"]) == ([], [])
    assert default["defaultNetworkAclId"].startswith("acl-")


def _camel(rule: dict) -> dict:
    names = {"rule_no": "ruleNo", "cidr_block": "cidrBlock", "from_port": "fromPort",
             "to_port": "toPort", "icmp_type": "icmpType", "icmp_code": "icmpCode"}
    return {names.get(key, key): value for key, value in rule.items()}


# --- Replay of the platform's conversations through the prod plan's ACLs --------------------

def _host(cidr: str, offset: int = 10) -> str:
    return str(ipaddress.IPv4Network(cidr)[offset])


def prod_flows(subnets: list[Subnet], egress_ports: tuple[int, ...]) -> list[Flow]:
    """What the platform does across its tiers, in every pair of AZs it does it in."""
    tiers = _tier_cidrs(subnets)
    flows = []
    for public in tiers["public"]:
        alb, nat = _host(public), _host(public, 20)
        flows.append(Flow("CloudFront -> ALB", VIEWER, alb, 443))
        for private in tiers["private"]:
            node = _host(private)
            flows.append(Flow("ALB -> storefront pod", alb, node, 8000))
            flows += [Flow(f"node -> internet :{port} via NAT", node, INTERNET_HOST, port,
                           via=nat) for port in egress_ports]
    for private in tiers["private"]:
        pod = _host(private)
        for isolated in tiers["isolated"]:
            flows.append(Flow("pod -> PostgreSQL", pod, _host(isolated), 5432))
            flows.append(Flow("pod -> Redis", pod, _host(isolated), 6379))
        for other in tiers["private"]:
            flows.append(Flow("control plane -> kubelet", _host(other, 30), pod, 10250))
            flows.append(Flow("pod -> CoreDNS", pod, _host(other, 40), 53, protocol="udp"))
            flows.append(Flow("node -> interface endpoint", pod, _host(other, 50), 443))
        # GuardDuty places its runtime agent's endpoint in any subnet with addresses to spare.
        for tier in ("public", "isolated", "private"):
            flows += [Flow("node -> GuardDuty endpoint", pod, _host(cidr, 60), 443)
                      for cidr in tiers[tier]]
    return flows


def _tier_cidrs(subnets: list[Subnet]) -> dict[str, list[str]]:
    """Tier by position in its AZ's slot: private is the slot's first half, then public,
    then isolated (components/subnets.py)."""
    tiers: dict[str, list[str]] = {"public": [], "private": [], "isolated": []}
    for subnet in subnets:
        network = ipaddress.IPv4Network(subnet.cidr)
        if network.prefixlen == 20:
            tiers["private"].append(subnet.cidr)
        elif int(network.network_address) % (1 << 13) == 1 << 12:
            tiers["public"].append(subnet.cidr)
        else:
            tiers["isolated"].append(subnet.cidr)
    return tiers


def test_every_conversation_of_the_prod_platform_passes_its_acls(prod_plan: Recorded) -> None:
    subnets = subnets_from_plan(prod_plan.resources)
    assert len(subnets) == 9
    assert replay_all(subnets, prod_flows(subnets, (443, 587))) == []


def test_the_replay_catches_a_missing_ephemeral_range(prod_plan: Recorded) -> None:
    subnets = subnets_from_plan(prod_plan.resources)
    isolated = [s for s in subnets if s.cidr in _tier_cidrs(subnets)["isolated"]]
    broken = [Subnet(s.cidr, s.ingress, [r for r in s.egress if r["fromPort"] != 1024])
              if s in isolated else s for s in subnets]
    problems = replay_all(broken, prod_flows(broken, (443,)))
    isolated_cidrs = {s.cidr for s in isolated}
    assert problems and all(any(f"egress of {cidr} drops" in p for cidr in isolated_cidrs)
                            for p in problems)
    assert {p.split(":")[0] for p in problems} == {"pod -> PostgreSQL", "pod -> Redis",
                                                   "node -> GuardDuty endpoint"}
    # A range that stops short (Linux's 32768-60999 instead of 1024-65535) is caught too.
    short = [Subnet(s.cidr, [{**r, "toPort": 60999} if r["fromPort"] == 1024 else r
                             for r in s.ingress], s.egress) for s in subnets]
    assert any(":65535" in p for p in replay_all(short, prod_flows(short, (443,))))


@pytest.mark.parametrize(("purpose", "client", "server", "port"), [
    ("internet -> pod", INTERNET_HOST, "10.20.0.10", 22),
    ("ALB tier -> database", "10.20.16.10", "10.20.20.10", 5432),
    ("ALB tier -> node ssh", "10.20.16.10", "10.20.0.10", 22),
    ("pod -> database ssh", "10.20.0.10", "10.20.20.10", 22),
    ("database -> internet", "10.20.20.10", INTERNET_HOST, 443),
    ("node -> internet smtp 25", "10.20.0.10", INTERNET_HOST, 25),
])
def test_what_the_platform_does_not_do_is_dropped(prod_plan: Recorded, purpose: str,
                                                   client: str, server: str, port: int) -> None:
    subnets = subnets_from_plan(prod_plan.resources)
    via = "10.20.16.20" if server == INTERNET_HOST else None
    assert replay(subnets, Flow(purpose, client, server, port, via=via)), purpose
