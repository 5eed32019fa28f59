"""The network ACL of each subnet tier, as pure functions: the second layer beside the
security groups.

Security groups say which workload talks to which; the ACLs say which *tier* may talk to which
on which ports, so a security group opened by mistake still cannot reach past its tier. ACLs
are stateless: every conversation needs a rule each way, and the answering side replies to
the caller's ephemeral port. AWS recommends 1024-65535 for that range because NAT gateways
and load balancers pick from all of it (Linux alone would use 32768-60999).

What crosses a tier boundary, and nothing else:

- viewers (CloudFront) -> the ALB in the public tier on its listener ports;
- the ALB -> pods in the private tier on the storefront's port (traffic and health checks);
- nodes and pods -> the internet through the NAT gateways in the public tier, on the egress
  ports only (HTTPS for AWS APIs, registries and webhooks; the SMTP relay's port for alerts);
- pods -> PostgreSQL (5432) and Redis (6379) in the isolated tier;
- with GuardDuty's runtime monitoring, nodes -> its interface endpoint on 443, which GuardDuty
  places in any subnet of the VPC (by free addresses), the isolated ones included;
- the replies to each of these, on the ephemeral range.

Inside the private tier everything is allowed: the EKS control plane's interfaces, the nodes,
the pods and the interface endpoints all live there, and they talk on many ports (kubelet,
webhooks, CoreDNS, scraping); the security groups and the NetworkPolicies narrow that. The
Amazon DNS resolver, the instance metadata service and the time service are not filtered by
ACLs at all, so they need no rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NotRequired, TypedDict

ANYWHERE = "0.0.0.0/0"
EPHEMERAL = (1024, 65535)
# ICMP type 3 code 4 ("fragmentation needed"): path MTU discovery breaks without it.
ICMP_FRAGMENTATION_NEEDED = (3, 4)
# AWS's default quota of rules per ACL and direction.
MAX_RULES_PER_DIRECTION = 20
FIRST_RULE_NUMBER = 100
RULE_NUMBER_STEP = 10


@dataclass(frozen=True)
class AclLayout:
    """What the tables are computed from: each tier's subnet CIDRs and the ports in use."""

    public_cidrs: Sequence[str]
    private_cidrs: Sequence[str]
    isolated_cidrs: Sequence[str]
    listener_ports: Sequence[int] = (443,)  # the ALB's, from viewers
    workload_ports: Sequence[int] = (8000,)  # the pods' the ALB targets
    egress_ports: Sequence[int] = (443,)  # to the internet, through the NAT gateways
    data_ports: Sequence[int] = (5432, 6379)  # PostgreSQL and Redis in the isolated tier
    # Interface endpoints AWS places itself, in whichever subnet has addresses to spare:
    # GuardDuty's `guardduty-data` for its runtime agent (443). The nodes must reach them in
    # the isolated tier too (the public tier already admits 443 from them, for NAT).
    managed_endpoint_ports: Sequence[int] = ()


class AclRuleArgs(TypedDict):
    """The keyword arguments of aws.ec2.NetworkAclIngressArgs / NetworkAclEgressArgs that a
    rule sets, typed so the SDK constructors check them."""

    rule_no: int
    action: str
    protocol: str
    cidr_block: str
    from_port: int
    to_port: int
    icmp_type: NotRequired[int | None]
    icmp_code: NotRequired[int | None]


@dataclass(frozen=True)
class AclRule:
    """One entry, in the shape of aws.ec2.NetworkAcl's ingress/egress arguments."""

    protocol: str  # "tcp", "icmp" or "-1" (all)
    cidr_block: str
    from_port: int
    to_port: int
    purpose: str
    icmp_type: int | None = None
    icmp_code: int | None = None

    def as_args(self, rule_no: int) -> AclRuleArgs:
        args: AclRuleArgs = {"rule_no": rule_no, "action": "allow",
                             "protocol": self.protocol, "cidr_block": self.cidr_block,
                             "from_port": self.from_port, "to_port": self.to_port}
        if self.icmp_type is not None:
            args["icmp_type"] = self.icmp_type
            args["icmp_code"] = self.icmp_code
        return args


@dataclass(frozen=True)
class AclTable:
    ingress: tuple[AclRule, ...]
    egress: tuple[AclRule, ...]


def _tcp(cidrs: Sequence[str], ports: Sequence[int] | tuple[int, int], purpose: str,
         *, span: bool = False) -> list[AclRule]:
    """TCP rules for each CIDR: one per port, or one for the range `ports` when `span`."""
    ranges = [tuple(ports)] if span else [(port, port) for port in ports]
    return [AclRule("tcp", cidr, low, high, purpose) for low, high in ranges for cidr in cidrs]


def _ephemeral(cidrs: Sequence[str], purpose: str) -> list[AclRule]:
    return _tcp(cidrs, EPHEMERAL, purpose, span=True)


def _everything(cidrs: Sequence[str], purpose: str) -> list[AclRule]:
    return [AclRule("-1", cidr, 0, 0, purpose) for cidr in cidrs]


def _path_mtu() -> list[AclRule]:
    icmp_type, icmp_code = ICMP_FRAGMENTATION_NEEDED
    return [AclRule("icmp", ANYWHERE, 0, 0, "path MTU discovery", icmp_type, icmp_code)]


def public_table(layout: AclLayout) -> AclTable:
    """The ALB's nodes and the NAT gateways."""
    return AclTable(
        ingress=(*_tcp([ANYWHERE], layout.listener_ports, "viewers to the load balancer"),
                 *_tcp(layout.private_cidrs, layout.egress_ports,
                       "nodes to the internet, into the NAT gateways"),
                 *_ephemeral([ANYWHERE], "replies to the NAT gateways and the load balancer"),
                 *_path_mtu()),
        egress=(*_ephemeral([ANYWHERE], "replies to viewers, and through NAT to the nodes"),
                *_tcp([ANYWHERE], layout.egress_ports, "the NAT gateways to the internet"),
                *_tcp(layout.private_cidrs, layout.workload_ports,
                      "the load balancer to the pods")),
    )


def private_table(layout: AclLayout) -> AclTable:
    """The EKS control plane's interfaces, the nodes, the pods and the interface endpoints."""
    return AclTable(
        ingress=(*_everything(layout.private_cidrs, "within the workload tier"),
                 *_tcp(layout.public_cidrs, layout.workload_ports,
                       "the load balancer to the pods"),
                 # From anywhere: a reply through NAT keeps the internet host as its source.
                 *_ephemeral([ANYWHERE], "replies from the internet, the load balancer's "
                             "tier and the data tier"),
                 *_path_mtu()),
        egress=(*_everything(layout.private_cidrs, "within the workload tier"),
                *_ephemeral(layout.public_cidrs, "replies to the load balancer"),
                *_tcp([ANYWHERE], layout.egress_ports, "to the internet through NAT"),
                *_tcp(layout.isolated_cidrs, layout.data_ports, "to PostgreSQL and Redis"),
                *_tcp(layout.isolated_cidrs, layout.managed_endpoint_ports,
                      "to an AWS-placed interface endpoint")),
    )


def isolated_table(layout: AclLayout) -> AclTable:
    """RDS and ElastiCache: they answer the workload tier and start nothing."""
    return AclTable(
        ingress=(*_tcp(layout.private_cidrs, layout.data_ports, "pods to PostgreSQL and Redis"),
                 *_tcp(layout.private_cidrs, layout.managed_endpoint_ports,
                       "nodes to an AWS-placed interface endpoint")),
        egress=tuple(_ephemeral(layout.private_cidrs, "replies to the pods")),
    )


def acl_tables(layout: AclLayout) -> dict[str, AclTable]:
    """Every tier's table, refused when one would exceed AWS's rules-per-ACL quota."""
    validate_layout(layout)
    tables = {"public": public_table(layout), "private": private_table(layout),
              "isolated": isolated_table(layout)}
    for tier, table in tables.items():
        for direction, rules in (("ingress", table.ingress), ("egress", table.egress)):
            if len(rules) > MAX_RULES_PER_DIRECTION:
                raise ValueError(
                    f"the {tier} network ACL would need {len(rules)} {direction} rules, over "
                    f"AWS's default {MAX_RULES_PER_DIRECTION}: lower az_count or the ports")
    return tables


def validate_layout(layout: AclLayout) -> None:
    for field in ("public_cidrs", "private_cidrs", "isolated_cidrs"):
        if not getattr(layout, field):
            raise ValueError(f"{field} must list at least one subnet CIDR")
    for field in ("listener_ports", "workload_ports", "egress_ports", "data_ports",
                  "managed_endpoint_ports"):
        ports = getattr(layout, field)
        required = field != "managed_endpoint_ports"
        if (required and not ports) or any(not 1 <= port <= 65535 for port in ports):
            raise ValueError(f"{field} must list ports from 1 to 65535, got {list(ports)}")
        if len(set(ports)) != len(ports):
            raise ValueError(f"{field} must not repeat a port, got {list(ports)}")


def numbered(rules: Sequence[AclRule]) -> list[AclRuleArgs]:
    """Rule numbers in steps of 10 from 100, leaving room to insert a rule by hand."""
    return [rule.as_args(FIRST_RULE_NUMBER + RULE_NUMBER_STEP * index)
            for index, rule in enumerate(rules)]


def tier_cidrs_of(plans: Sequence[object]) -> Mapping[str, list[str]]:
    """{tier: [cidr, ...]} from components.subnets.SubnetPlan entries, in AZ order."""
    found: dict[str, list[str]] = {"public": [], "private": [], "isolated": []}
    for plan in plans:
        found[plan.tier].append(plan.cidr)  # type: ignore[attr-defined]
    return found
