"""The network: subnet maths as pure functions, then the component under the mock engine."""

from __future__ import annotations

import ipaddress
import json
from itertools import combinations

import pytest

from components.network import INTERFACE_ENDPOINTS, Network, NetworkArgs
from components.subnets import az_slot, choose_azs, nat_az_for, nat_azs, plan_subnets
from stacks.plan.mocks import Recorded, run_under_mocks
from tests.infra.component_support import assert_refused
from tests.infra.conftest import TAGS

AZS = ["us-east-1a", "us-east-1b", "us-east-1c"]
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
NAT = "aws:ec2/natGateway:NatGateway"


def network(**overrides: object) -> NetworkArgs:
    fields = {"vpc_cidr": "10.10.0.0/16", "az_count": 2, "nat_mode": "single",
              "region": "us-east-1", "cluster_name": "shop-dev", "tags": TAGS,
              "flow_log_retention_days": 14, **overrides}
    return NetworkArgs(**fields)  # type: ignore[arg-type]


def run(args: NetworkArgs) -> Recorded:
    return run_under_mocks(lambda: Network("network", args))


def cidrs_by_name(recorded: Recorded) -> dict[str, str]:
    return {r.name: r.inputs["cidrBlock"] for r in recorded.of_type(SUBNET)}


@pytest.mark.parametrize("vpc_cidr", ["10.10.0.0/16", "172.16.0.0/18", "192.168.0.0/20"])
def test_subnets_lie_inside_the_vpc_and_never_overlap(vpc_cidr: str) -> None:
    vpc = ipaddress.IPv4Network(vpc_cidr)
    subnets = [ipaddress.IPv4Network(p.cidr) for p in plan_subnets(vpc_cidr, AZS)]
    assert len(subnets) == 9
    assert all(subnet.subnet_of(vpc) for subnet in subnets)
    assert not any(a.overlaps(b) for a, b in combinations(subnets, 2))


def test_the_private_tier_is_the_largest_because_pods_take_vpc_addresses() -> None:
    sizes = {p.tier: ipaddress.IPv4Network(p.cidr).num_addresses
             for p in plan_subnets("10.10.0.0/16", AZS[:1])}
    assert sizes == {"private": 4096, "public": 1024, "isolated": 1024}


def test_adding_an_az_never_renumbers_a_subnet() -> None:
    two = {(p.az, p.tier): p.cidr for p in plan_subnets("10.10.0.0/16", AZS[:2])}
    three = {(p.az, p.tier): p.cidr for p in plan_subnets("10.10.0.0/16", AZS)}
    assert len(three) == 9
    assert {key: three[key] for key in two} == two


def test_an_az_keeps_its_subnets_whichever_zones_are_chosen_with_it() -> None:
    """The slot follows the zone's letter, not its position in the list."""
    with_a = {(p.az, p.tier): p.cidr for p in plan_subnets("10.10.0.0/16", AZS[:3])}
    without_a = {(p.az, p.tier): p.cidr for p in plan_subnets("10.10.0.0/16", AZS[1:])}
    assert {key: with_a[key] for key in without_a} == without_a


def test_az_slots_and_choice() -> None:
    assert [az_slot(az) for az in ("eu-west-1a", "eu-west-1c", "us-east-1f")] == [0, 2, 5]
    with pytest.raises(ValueError, match="must end in one of the letters"):
        az_slot("us-east-1z")
    assert choose_azs(["us-east-1c", "us-east-1a", "us-east-1b"], 2) == AZS[:2]
    with pytest.raises(ValueError, match="az_count must not exceed the 2 zones available"):
        choose_azs(AZS[:2], 3)


def test_nat_placement() -> None:
    assert nat_azs(AZS, "single") == ["us-east-1a"]
    assert nat_azs(AZS, "perAz") == AZS
    assert [nat_az_for(az, AZS, "single") for az in AZS] == ["us-east-1a"] * 3
    assert [nat_az_for(az, AZS, "perAz") for az in AZS] == AZS


def test_subnets_under_mocks_carry_their_cidrs_and_discovery_tags() -> None:
    recorded = run(network())
    assert cidrs_by_name(recorded) == {
        "network-private-us-east-1a": "10.10.0.0/20",
        "network-public-us-east-1a": "10.10.16.0/22",
        "network-isolated-us-east-1a": "10.10.20.0/22",
        "network-private-us-east-1b": "10.10.32.0/20",
        "network-public-us-east-1b": "10.10.48.0/22",
        "network-isolated-us-east-1b": "10.10.52.0/22",
    }
    public = recorded.one(SUBNET, "network-public-us-east-1a").inputs
    private = recorded.one(SUBNET, "network-private-us-east-1b").inputs
    isolated = recorded.one(SUBNET, "network-isolated-us-east-1a").inputs
    assert public["tags"]["kubernetes.io/role/elb"] == "1"
    assert private["tags"]["kubernetes.io/role/internal-elb"] == "1"
    assert public["tags"]["kubernetes.io/cluster/shop-dev"] == "shared"
    assert not any(key.startswith("kubernetes.io") for key in isolated["tags"])
    assert {public["mapPublicIpOnLaunch"], private["mapPublicIpOnLaunch"]} == {False}
    assert private["availabilityZone"] == "us-east-1b"


def test_raising_the_az_count_under_mocks_keeps_every_subnet() -> None:
    two, three = cidrs_by_name(run(network(az_count=2))), cidrs_by_name(run(network(az_count=3)))
    assert len(three) == 9
    assert {name: three[name] for name in two} == two


def private_routes(recorded: Recorded) -> dict[str, str]:
    """Private subnet AZ -> the AZ of the NAT gateway its route table sends 0.0.0.0/0 to."""
    nat_az = {nat.id: nat.name.removeprefix("network-nat-") for nat in recorded.of_type(NAT)}
    routes = {}
    for table in recorded.of_type(ROUTE_TABLE):
        if table.name.startswith("network-private-"):
            (route,) = table.inputs["routes"]
            assert route["cidrBlock"] == "0.0.0.0/0"
            az = table.name.removeprefix("network-private-").removesuffix("-rt")
            routes[az] = nat_az[route["natGatewayId"]]
    return routes


def test_one_nat_gateway_shared_in_single_mode() -> None:
    recorded = run(network(nat_mode="single", az_count=3))
    assert [n.name for n in recorded.of_type(NAT)] == ["network-nat-us-east-1a"]
    assert len(recorded.of_type("aws:ec2/eip:Eip")) == 1
    assert private_routes(recorded) == dict.fromkeys(AZS, "us-east-1a")


def test_one_nat_gateway_per_az_in_per_az_mode() -> None:
    recorded = run(network(nat_mode="perAz", az_count=3))
    assert sorted(n.name for n in recorded.of_type(NAT)) == [f"network-nat-{az}" for az in AZS]
    assert private_routes(recorded) == {az: az for az in AZS}


def test_route_tables_per_tier() -> None:
    recorded = run(network())
    public = recorded.one(ROUTE_TABLE, "network-public-rt").inputs["routes"]
    assert [(r["cidrBlock"], r["gatewayId"][:4]) for r in public] == [("0.0.0.0/0", "igw-")]
    assert recorded.one(ROUTE_TABLE, "network-isolated-rt").inputs["routes"] == []
    assert len(recorded.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")) == 6


def test_vpc_endpoints_keep_aws_traffic_private() -> None:
    recorded = run(network())
    endpoints = {r.name: r.inputs for r in recorded.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    s3 = endpoints.pop("network-endpoint-s3")
    assert (s3["serviceName"], s3["vpcEndpointType"]) == ("com.amazonaws.us-east-1.s3", "Gateway")
    tables = [t for t in recorded.of_type(ROUTE_TABLE) if t.name != "network-public-rt"]
    assert sorted(s3["routeTableIds"]) == sorted(t.id for t in tables)  # private + isolated
    assert sorted(e["serviceName"] for e in endpoints.values()) == sorted(
        f"com.amazonaws.us-east-1.{service}" for service in INTERFACE_ENDPOINTS)
    private_ids = sorted(r.id for r in recorded.of_type(SUBNET) if "private" in r.name)
    for endpoint in endpoints.values():
        assert endpoint["vpcEndpointType"] == "Interface"
        assert endpoint["privateDnsEnabled"] is True
        assert sorted(endpoint["subnetIds"]) == private_ids
    rule = recorded.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").inputs
    assert (rule["cidrIpv4"], rule["fromPort"], rule["toPort"], rule["ipProtocol"]) == (
        "10.10.0.0/16", 443, 443, "tcp")


def test_flow_logs_go_to_a_retained_log_group_through_a_least_privilege_role() -> None:
    recorded = run(network())
    group = recorded.one("aws:cloudwatch/logGroup:LogGroup").inputs
    assert (group["name"], group["retentionInDays"]) == ("/aws/vpc/shop-dev/flow-logs", 14)
    flow = recorded.one("aws:ec2/flowLog:FlowLog").inputs
    assert (flow["trafficType"], flow["logDestinationType"]) == ("ALL", "cloud-watch-logs")
    assert flow["logDestination"].endswith(":log-group:/aws/vpc/shop-dev/flow-logs")
    trust = json.loads(recorded.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    policy = json.loads(recorded.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    (grant,) = policy["Statement"]
    assert grant["Resource"] == [flow["logDestination"], flow["logDestination"] + ":*"]
    assert "logs:CreateLogGroup" not in grant["Action"]


def test_vpc_resolves_names_and_its_default_group_admits_nothing() -> None:
    recorded = run(network())
    vpc = recorded.one("aws:ec2/vpc:Vpc").inputs
    assert (vpc["enableDnsSupport"], vpc["enableDnsHostnames"]) == (True, True)
    default = recorded.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup").inputs
    assert (default["ingress"], default["egress"]) == ([], [])


def test_every_child_belongs_to_the_component() -> None:
    recorded = run(network())
    component = recorded.one("shop:network:Network")
    assert all(r.parent == component.urn for r in recorded if r is not component)


@pytest.mark.parametrize(("overrides", "field"), [
    ({"vpc_cidr": "10.10.0.1/16"}, "vpc_cidr"),
    ({"vpc_cidr": "10.0.0.0/8"}, "vpc_cidr prefix length"),
    ({"az_count": 1}, "az_count"),
    ({"az_count": 5}, "az_count must not exceed"),
    ({"nat_mode": "none"}, "nat_mode"),
    ({"cluster_name": "shop dev"}, "cluster_name"),
    ({"flow_log_retention_days": 10}, "flow_log_retention_days"),
    ({"tags": {"Project": "shop"}}, "tags"),
])
def test_invalid_arguments_are_refused_before_any_resource(overrides: dict, field: str) -> None:
    assert_refused(lambda: Network("network", network(**overrides)), field)
