"""Replays TCP conversations through network ACLs the way AWS evaluates them: stateless, per
subnet boundary, the lowest-numbered matching rule wins, and no match denies.

A conversation is a request from a client's ephemeral port to a server's port and the reply
back; each packet is checked on the way out of its subnet (egress) and on the way into the
next (ingress). Traffic inside one subnet crosses no ACL. Through a NAT gateway a conversation
has two hops: the node to the gateway (whose interface is in a public subnet, the packet still
addressed to the internet host) and the gateway to the internet, and the reply comes back to
the node with the internet host as its source.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Ends and middle of the ephemeral ranges clients use: NAT and load balancers use all of
# 1024-65535, Linux 32768-60999.
CLIENT_PORTS = (1024, 32768, 60999, 65535)


@dataclass(frozen=True)
class Subnet:
    cidr: str
    ingress: Sequence[Mapping[str, Any]]
    egress: Sequence[Mapping[str, Any]]

    def holds(self, address: str) -> bool:
        return ipaddress.IPv4Address(address) in ipaddress.IPv4Network(self.cidr)


@dataclass(frozen=True)
class Flow:
    """`client` opens `protocol` to `server`:`port`; through `via` (a NAT gateway's address)
    when the server is on the internet."""

    purpose: str
    client: str
    server: str
    port: int
    protocol: str = "tcp"
    via: str | None = None


def subnets_from_plan(resources: Iterable[Any]) -> list[Subnet]:
    """Each subnet of a recorded plan with the rules of the network ACL it is associated with."""
    resources = list(resources)
    cidr_of = {r.id: r.inputs["cidrBlock"] for r in resources
               if r.type == "aws:ec2/subnet:Subnet"}
    subnets = []
    for acl in (r for r in resources if r.type == "aws:ec2/networkAcl:NetworkAcl"):
        for subnet_id in acl.inputs.get("subnetIds", []):
            subnets.append(Subnet(cidr_of[subnet_id], acl.inputs.get("ingress", []),
                                  acl.inputs.get("egress", [])))
    missing = set(cidr_of.values()) - {s.cidr for s in subnets}
    assert not missing, f"subnets with no network ACL of the stack: {sorted(missing)}"
    return subnets


def _matches(rule: Mapping[str, Any], protocol: str, remote: str, port: int) -> bool:
    rule_protocol = str(rule["protocol"])
    if rule_protocol not in ("-1", "all", protocol, {"tcp": "6", "udp": "17"}.get(protocol)):
        return False
    if ipaddress.IPv4Address(remote) not in ipaddress.IPv4Network(rule["cidrBlock"]):
        return False
    return rule_protocol in ("-1", "all") or rule["fromPort"] <= port <= rule["toPort"]


def verdict(rules: Sequence[Mapping[str, Any]], protocol: str, remote: str, port: int) -> str:
    for rule in sorted(rules, key=lambda r: r["ruleNo"]):
        if _matches(rule, protocol, remote, port):
            return str(rule["action"])
    return "deny"


def _subnet_of(subnets: Sequence[Subnet], address: str) -> Subnet | None:
    return next((s for s in subnets if s.holds(address)), None)


def _packet(subnets: Sequence[Subnet], source: str, target: str, hop_from: str, hop_to: str,
            protocol: str, port: int) -> str | None:
    """Why a packet from `source` to `target`:`port`, moving from the subnet of `hop_from` to
    that of `hop_to`, is dropped; None when it passes."""
    leaving, entering = _subnet_of(subnets, hop_from), _subnet_of(subnets, hop_to)
    if leaving is entering:
        return None
    if leaving and verdict(leaving.egress, protocol, target, port) != "allow":
        return f"egress of {leaving.cidr} drops {source} -> {target}:{port}"
    if entering and verdict(entering.ingress, protocol, source, port) != "allow":
        return f"ingress of {entering.cidr} drops {source} -> {target}:{port}"
    return None


def replay(subnets: Sequence[Subnet], flow: Flow,
           client_ports: Sequence[int] = CLIENT_PORTS) -> list[str]:
    """Every drop in `flow`'s requests and replies, over the client ports; empty: it works."""
    problems = []
    for client_port in client_ports:
        hops = ([(flow.client, flow.via), (flow.via, flow.server)] if flow.via
                else [(flow.client, flow.server)])
        for hop_from, hop_to in hops:
            request = _packet(subnets, flow.client, flow.server, hop_from, hop_to,
                              flow.protocol, flow.port)
            reply = _packet(subnets, flow.server, flow.client, hop_to, hop_from,
                            flow.protocol, client_port)
            problems += [f"{flow.purpose}: {p}" for p in (request, reply) if p]
    return sorted(set(problems))


def replay_all(subnets: Sequence[Subnet], flows: Iterable[Flow]) -> list[str]:
    return [problem for flow in flows for problem in replay(subnets, flow)]
