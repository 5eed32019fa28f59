"""The VPC: public, private (workload) and isolated (data) subnets in each AZ, NAT gateways,
route tables per tier, a network ACL per tier (components/network_acls.py), private endpoints
for the AWS APIs the nodes call, and flow logs.

Subnet CIDRs come from components/subnets.py, where each AZ owns a fixed slot of the VPC, so
raising the AZ count adds subnets without renumbering any.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.arg_checks import (
    require_choice,
    require_pattern,
    require_range,
    require_tags,
    with_name,
)
from components.log_groups import require_retention, retained_log_group
from components.network_acls import AclLayout, AclTable, acl_tables, numbered, tier_cidrs_of
from components.subnets import (
    NAT_MODES,
    SLOT_LETTERS,
    choose_azs,
    nat_az_for,
    nat_azs,
    plan_subnets,
)

# Interface endpoints keep image pulls, IRSA token exchanges and log shipping off the NAT.
INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "sts", "logs")
_CLUSTER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
# The subnets by (AZ, tier).
Subnets = Mapping[tuple[str, str], aws.ec2.Subnet]


@dataclass(frozen=True)
class NetworkArgs:
    vpc_cidr: str
    az_count: int
    nat_mode: str  # "single": one NAT gateway (cheap); "perAz": one per AZ (no shared fate)
    region: str
    # The EKS cluster that will use the subnets: its name goes into the discovery tags.
    cluster_name: str
    tags: Mapping[str, str]
    flow_log_retention_days: int = 90
    # What the network ACLs let cross the tiers (components/network_acls.py).
    listener_ports: tuple[int, ...] = (443,)
    workload_ports: tuple[int, ...] = (8000,)
    egress_ports: tuple[int, ...] = (443,)
    data_ports: tuple[int, ...] = (5432, 6379)
    managed_endpoint_ports: tuple[int, ...] = ()


def acl_layout(args: NetworkArgs, azs: list[str]) -> AclLayout:
    cidrs = tier_cidrs_of(plan_subnets(args.vpc_cidr, azs))
    return AclLayout(cidrs["public"], cidrs["private"], cidrs["isolated"],
                     args.listener_ports, args.workload_ports, args.egress_ports,
                     args.data_ports, args.managed_endpoint_ports)


def validate(args: NetworkArgs) -> None:
    require_tags(args.tags)
    try:
        vpc = ipaddress.IPv4Network(args.vpc_cidr, strict=True)
    except ValueError:
        raise ValueError(f"vpc_cidr must be an IPv4 network like '10.0.0.0/16', "
                         f"got {args.vpc_cidr!r}") from None
    require_range("vpc_cidr prefix length", vpc.prefixlen, 16, 20)
    require_range("az_count", args.az_count, 2, len(SLOT_LETTERS))
    require_choice("nat_mode", args.nat_mode, NAT_MODES)
    require_pattern("cluster_name", args.cluster_name, _CLUSTER_NAME,
                    "letters, digits, _ and -, at most 100")
    require_retention("flow_log_retention_days", args.flow_log_retention_days)


def subnet_tags(tier: str, cluster_name: str) -> dict[str, str]:
    """What EKS and the AWS Load Balancer Controller look for to place load balancers."""
    if tier == "isolated":
        return {"Tier": tier}
    role = "elb" if tier == "public" else "internal-elb"
    return {"Tier": tier, f"kubernetes.io/role/{role}": "1",
            f"kubernetes.io/cluster/{cluster_name}": "shared"}


def flow_logs_trust_policy(account_id: str, region: str) -> str:
    """Only the flow-logs service, acting for this account's flow logs, may assume the role."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:{region}:{account_id}:vpc-flow-log/*"},
        },
    }]}, sort_keys=True)


def flow_logs_write_policy(log_group_arn: str) -> str:
    """Write to one log group, nothing else."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
        "Resource": [log_group_arn, f"{log_group_arn}:*"],
    }]}, sort_keys=True)


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    availability_zones: list[str]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]
    isolated_subnet_ids: pulumi.Output[list[str]]
    nat_gateway_ids: pulumi.Output[list[str]]
    endpoint_security_group_id: pulumi.Output[str]
    flow_log_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        validate(args)
        zones = aws.get_availability_zones(
            state="available",
            filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status",
                                                         values=["opt-in-not-required"])])
        azs = choose_azs(zones.names, args.az_count)
        acls = acl_tables(acl_layout(args, azs))  # refuses too many rules before any resource
        super().__init__("shop:network:Network", name, None, opts)
        self._name, self._args = name, args
        child = self._child()

        vpc = aws.ec2.Vpc(
            f"{name}-vpc", cidr_block=args.vpc_cidr, enable_dns_support=True,
            enable_dns_hostnames=True, tags=with_name(args.tags, f"{name}-vpc"), opts=child)
        # The default group allows all traffic between its members: strip it, so nothing can
        # lean on it by accident.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg", vpc_id=vpc.id, ingress=[], egress=[],
            tags=with_name(args.tags, f"{name}-default-sg"), opts=child)
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags=with_name(args.tags, f"{name}-igw"), opts=child)

        subnets = {
            (plan.az, plan.tier): aws.ec2.Subnet(
                f"{name}-{plan.tier}-{plan.az}",
                vpc_id=vpc.id,
                cidr_block=plan.cidr,
                availability_zone=plan.az,
                map_public_ip_on_launch=False,
                tags={**with_name(args.tags, f"{name}-{plan.tier}-{plan.az}"),
                      **subnet_tags(plan.tier, args.cluster_name)},
                opts=child)
            for plan in plan_subnets(args.vpc_cidr, azs)
        }
        self._public_routes(vpc, igw, azs, subnets)
        nats = self._nat_gateways(igw, azs, subnets)
        private_tables = self._private_routes(vpc, azs, nats, subnets)
        isolated_table = self._isolated_routes(vpc, azs, subnets)
        self._network_acls(vpc, azs, subnets, acls)
        endpoint_sg = self._endpoints(vpc, [*private_tables, isolated_table],
                                      [subnets[az, "private"].id for az in azs])
        log_group = self._flow_logs(vpc)

        self.vpc_id = vpc.id
        self.availability_zones = azs
        self.public_subnet_ids = pulumi.Output.all(*[subnets[az, "public"].id for az in azs])
        self.private_subnet_ids = pulumi.Output.all(*[subnets[az, "private"].id for az in azs])
        self.isolated_subnet_ids = pulumi.Output.all(*[subnets[az, "isolated"].id for az in azs])
        self.nat_gateway_ids = pulumi.Output.all(*[nat.id for nat in nats.values()])
        self.endpoint_security_group_id = endpoint_sg.id
        self.flow_log_group_name = log_group.name
        self.register_outputs({
            "vpc_id": self.vpc_id,
            "availability_zones": self.availability_zones,
            "public_subnet_ids": self.public_subnet_ids,
            "private_subnet_ids": self.private_subnet_ids,
            "isolated_subnet_ids": self.isolated_subnet_ids,
            "nat_gateway_ids": self.nat_gateway_ids,
            "endpoint_security_group_id": self.endpoint_security_group_id,
            "flow_log_group_name": self.flow_log_group_name,
        })

    def _child(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _table(self, role: str, vpc: aws.ec2.Vpc,
               routes: list[aws.ec2.RouteTableRouteArgs]) -> aws.ec2.RouteTable:
        return aws.ec2.RouteTable(
            f"{self._name}-{role}-rt", vpc_id=vpc.id, routes=routes,
            tags=with_name(self._args.tags, f"{self._name}-{role}-rt"), opts=self._child())

    def _associate(self, table: aws.ec2.RouteTable, subnet: aws.ec2.Subnet, key: str) -> None:
        aws.ec2.RouteTableAssociation(
            f"{self._name}-{key}-rta", route_table_id=table.id, subnet_id=subnet.id,
            opts=self._child())

    def _public_routes(self, vpc: aws.ec2.Vpc, igw: aws.ec2.InternetGateway, azs: list[str],
                       subnets: Subnets) -> None:
        table = self._table("public", vpc, [aws.ec2.RouteTableRouteArgs(
            cidr_block="0.0.0.0/0", gateway_id=igw.id)])
        for az in azs:
            self._associate(table, subnets[az, "public"], f"public-{az}")

    def _nat_gateways(self, igw: aws.ec2.InternetGateway, azs: list[str],
                      subnets: Subnets) -> dict[str, aws.ec2.NatGateway]:
        nats = {}
        for az in nat_azs(azs, self._args.nat_mode):
            eip = aws.ec2.Eip(f"{self._name}-nat-{az}", domain="vpc",
                              tags=with_name(self._args.tags, f"{self._name}-nat-{az}"),
                              opts=self._child(depends_on=[igw]))
            nats[az] = aws.ec2.NatGateway(
                f"{self._name}-nat-{az}", allocation_id=eip.id,
                subnet_id=subnets[az, "public"].id,
                tags=with_name(self._args.tags, f"{self._name}-nat-{az}"),
                opts=self._child(depends_on=[igw]))
        return nats

    def _private_routes(self, vpc: aws.ec2.Vpc, azs: list[str],
                        nats: dict[str, aws.ec2.NatGateway],
                        subnets: Subnets) -> list[aws.ec2.RouteTable]:
        """One table per AZ even with a single NAT, so switching NAT mode changes a route,
        never a table."""
        tables = []
        for az in azs:
            nat = nats[nat_az_for(az, azs, self._args.nat_mode)]
            table = self._table(f"private-{az}", vpc, [aws.ec2.RouteTableRouteArgs(
                cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)])
            self._associate(table, subnets[az, "private"], f"private-{az}")
            tables.append(table)
        return tables

    def _isolated_routes(self, vpc: aws.ec2.Vpc, azs: list[str],
                         subnets: Subnets) -> aws.ec2.RouteTable:
        """No route out: the data tier only answers the VPC."""
        table = self._table("isolated", vpc, [])
        for az in azs:
            self._associate(table, subnets[az, "isolated"], f"isolated-{az}")
        return table

    def _network_acls(self, vpc: aws.ec2.Vpc, azs: list[str], subnets: Subnets,
                      tables: Mapping[str, AclTable]) -> None:
        """One ACL per tier; the VPC's default ACL (allow all) is stripped, so a subnet that
        misses its tier's ACL admits nothing rather than everything."""
        name, tags = self._name, self._args.tags
        aws.ec2.DefaultNetworkAcl(
            f"{name}-default-acl", default_network_acl_id=vpc.default_network_acl_id,
            ingress=[], egress=[], tags=with_name(tags, f"{name}-default-acl"),
            opts=self._child())
        for tier, table in tables.items():
            aws.ec2.NetworkAcl(
                f"{name}-{tier}-acl", vpc_id=vpc.id,
                subnet_ids=[subnets[az, tier].id for az in azs],
                ingress=[aws.ec2.NetworkAclIngressArgs(**rule)
                         for rule in numbered(table.ingress)],
                egress=[aws.ec2.NetworkAclEgressArgs(**rule) for rule in numbered(table.egress)],
                tags=with_name(tags, f"{name}-{tier}-acl"), opts=self._child())

    def _endpoints(self, vpc: aws.ec2.Vpc, route_tables: list[aws.ec2.RouteTable],
                   private_subnet_ids: list[pulumi.Output[str]]) -> aws.ec2.SecurityGroup:
        aws.ec2.VpcEndpoint(
            f"{self._name}-endpoint-s3", vpc_id=vpc.id,
            service_name=f"com.amazonaws.{self._args.region}.s3", vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in route_tables],
            tags=with_name(self._args.tags, f"{self._name}-endpoint-s3"), opts=self._child())
        sg = aws.ec2.SecurityGroup(
            f"{self._name}-endpoints-sg", vpc_id=vpc.id,
            description="HTTPS to the VPC's interface endpoints, from inside the VPC only",
            tags=with_name(self._args.tags, f"{self._name}-endpoints-sg"), opts=self._child())
        aws.vpc.SecurityGroupIngressRule(
            f"{self._name}-endpoints-https", security_group_id=sg.id,
            cidr_ipv4=self._args.vpc_cidr, ip_protocol="tcp", from_port=443, to_port=443,
            description="HTTPS from the VPC",
            tags=with_name(self._args.tags, f"{self._name}-endpoints-https"), opts=self._child())
        for service in INTERFACE_ENDPOINTS:
            role = f"endpoint-{service.replace('.', '-')}"
            aws.ec2.VpcEndpoint(
                f"{self._name}-{role}", vpc_id=vpc.id,
                service_name=f"com.amazonaws.{self._args.region}.{service}",
                vpc_endpoint_type="Interface", private_dns_enabled=True,
                subnet_ids=private_subnet_ids, security_group_ids=[sg.id],
                tags=with_name(self._args.tags, f"{self._name}-{role}"), opts=self._child())
        return sg

    def _flow_logs(self, vpc: aws.ec2.Vpc) -> aws.cloudwatch.LogGroup:
        name, args = self._name, self._args
        log_group = retained_log_group(
            f"{name}-flow-logs", f"/aws/vpc/{args.cluster_name}/flow-logs",
            args.flow_log_retention_days, args.tags, self)
        account_id = aws.get_caller_identity().account_id
        role = aws.iam.Role(
            f"{name}-flow-logs",
            assume_role_policy=flow_logs_trust_policy(account_id, args.region),
            description="Lets VPC flow logs write to their log group",
            tags=with_name(args.tags, f"{name}-flow-logs"), opts=self._child())
        aws.iam.RolePolicy(
            f"{name}-flow-logs", role=role.id,
            policy=log_group.arn.apply(flow_logs_write_policy), opts=self._child())
        aws.ec2.FlowLog(
            f"{name}-flow-logs", vpc_id=vpc.id, traffic_type="ALL",
            log_destination_type="cloud-watch-logs", log_destination=log_group.arn,
            iam_role_arn=role.arn, max_aggregation_interval=60,
            tags=with_name(args.tags, f"{name}-flow-logs"), opts=self._child())
        return log_group
