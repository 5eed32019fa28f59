"""The composition of the dev and prod stacks, as their stack files configure them."""

from __future__ import annotations

import pytest

from stacks.plan.mocks import SECRET, Recorded, RecordedResource
from stacks.policy.facts import is_taggable
from stacks.settings import Settings

NAT = "aws:ec2/natGateway:NatGateway"
REQUIRED_TAGS = ("Project", "Environment", "Owner", "CostCenter")


def subnet_ids(plan: Recorded, tier: str) -> list[str]:
    return sorted(r.id for r in plan.of_type("aws:ec2/subnet:Subnet") if f"-{tier}-" in r.name)


def test_one_nat_gateway_in_dev(dev_plan: Recorded) -> None:
    assert [nat.name for nat in dev_plan.of_type(NAT)] == ["network-nat-us-east-1a"]


def test_one_nat_gateway_per_az_in_prod(prod_plan: Recorded) -> None:
    nats = prod_plan.of_type(NAT)
    assert sorted(nat.name for nat in nats) == [
        "network-nat-us-east-1a", "network-nat-us-east-1b", "network-nat-us-east-1c"]
    assert len({nat.inputs["subnetId"] for nat in nats}) == 3
    assert set(subnet_ids(prod_plan, "public")) == {nat.inputs["subnetId"] for nat in nats}


def taggable(plan: Recorded) -> list[RecordedResource]:
    return [r for r in plan if is_taggable(r.type) or r.type == "eks:index:Cluster"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_taggable_resource_carries_the_four_tags(
        stack: str, request: pytest.FixtureRequest) -> None:
    plan: Recorded = request.getfixturevalue(f"{stack}_plan")
    settings: Settings = request.getfixturevalue(f"{stack}_settings")
    resources = taggable(plan)
    assert len(resources) > 40
    untagged = [r.name for r in resources
                if {k: r.inputs.get("tags", {}).get(k) for k in REQUIRED_TAGS} != settings.tags]
    assert untagged == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_data_tier_sits_in_isolated_subnets_open_to_the_nodes_only(
        stack: str, request: pytest.FixtureRequest) -> None:
    plan: Recorded = request.getfixturevalue(f"{stack}_plan")
    isolated = subnet_ids(plan, "isolated")
    for group in ("aws:rds/subnetGroup:SubnetGroup", "aws:elasticache/subnetGroup:SubnetGroup"):
        assert sorted(plan.one(group).inputs["subnetIds"]) == isolated
    nodes = plan.outputs["nodeSecurityGroupId"]
    for name, port in (("database-sg", 5432), ("cache-sg", 6379)):
        (rule,) = plan.one("aws:ec2/securityGroup:SecurityGroup", name).inputs["ingress"]
        assert (rule["securityGroups"], rule["fromPort"], rule["toPort"]) == ([nodes], port, port)
        assert "cidrBlocks" not in rule


def test_cluster_uses_the_private_subnets_its_name_tags(dev_plan: Recorded) -> None:
    eks = dev_plan.one("eks:index:Cluster").inputs
    assert sorted(eks["privateSubnetIds"]) == subnet_ids(dev_plan, "private")
    for subnet in dev_plan.of_type("aws:ec2/subnet:Subnet"):
        if "-isolated-" not in subnet.name:
            assert subnet.inputs["tags"][f"kubernetes.io/cluster/{eks['name']}"] == "shared"


def test_prod_is_highly_available_and_protected(prod_plan: Recorded) -> None:
    primary = prod_plan.one("aws:rds/instance:Instance", "database-primary").inputs
    assert (primary["multiAz"], primary["deletionProtection"]) == (True, True)
    assert primary["publiclyAccessible"] is False
    assert len(prod_plan.of_type("aws:rds/instance:Instance")) == 2  # and a read replica
    redis = prod_plan.one("aws:elasticache/replicationGroup:ReplicationGroup").inputs
    assert (redis["numCacheClusters"], redis["automaticFailoverEnabled"]) == (2, True)
    assert prod_plan.one("eks:index:Cluster").inputs["deletionProtection"] is True
    assert prod_plan.one("aws:ecr/repository:Repository").inputs.get("forceDelete") is not True


def test_dev_is_cheap_and_disposable(dev_plan: Recorded) -> None:
    primary = dev_plan.one("aws:rds/instance:Instance").inputs
    assert (primary["multiAz"], primary["deletionProtection"]) == (False, False)
    redis = dev_plan.one("aws:elasticache/replicationGroup:ReplicationGroup").inputs
    assert redis["numCacheClusters"] == 1
    assert dev_plan.one("aws:ecr/repository:Repository").inputs["forceDelete"] is True


def test_waf_guards_cloudfront_in_prod_only(prod_plan: Recorded, dev_plan: Recorded) -> None:
    acl = prod_plan.one("aws:wafv2/webAcl:WebAcl")
    assert acl.inputs["scope"] == "CLOUDFRONT"
    distribution = prod_plan.one("aws:cloudfront/distribution:Distribution").inputs
    assert distribution["webAclId"].endswith(f"/{acl.id}")
    assert dev_plan.of_type("aws:wafv2/webAcl:WebAcl") == []
    assert "webAclId" not in dev_plan.one("aws:cloudfront/distribution:Distribution").inputs


def test_cloudfront_reaches_the_storefront_at_its_origin_name(prod_plan: Recorded) -> None:
    distribution = prod_plan.one("aws:cloudfront/distribution:Distribution").inputs
    origins = {o["originId"]: o["domainName"] for o in distribution["origins"]}
    assert origins["storefront"] == "origin.shop.example.com"
    assert distribution["aliases"] == ["shop.example.com"]


def test_operators_get_the_outputs_they_need(prod_plan: Recorded) -> None:
    outputs = prod_plan.outputs
    assert outputs["kubeconfig"] == SECRET
    assert outputs["clusterName"] == "shop-prod"
    assert outputs["region"] == "us-east-1"
    assert outputs["databaseEndpoint"].endswith(".rds.amazonaws.com")
    assert outputs["databaseReaderEndpoint"] != outputs["databaseEndpoint"]
    assert outputs["databaseIdentifier"] == outputs["databaseEndpoint"].split(".")[0]
    assert outputs["cacheEndpoint"].endswith(".cache.amazonaws.com")
    assert outputs["repositoryUrl"].endswith(".amazonaws.com/shop-prod/storefront")
    assert outputs["ecrRepositoryName"] == "shop-prod/storefront"
    assert outputs["cloudfrontDomain"].endswith(".cloudfront.net")
    assert outputs["cdnDistributionId"] and outputs["assetsBucketName"]


def test_every_resource_hangs_off_the_stack_or_a_component(dev_plan: Recorded) -> None:
    components = {r.urn for r in dev_plan if not r.custom}
    stack = "urn:pulumi:dev::shop::pulumi:pulumi:Stack::shop-dev"
    assert {r.parent for r in dev_plan} <= components | {stack}
    assert {r.name for r in dev_plan if r.parent == stack} >= {
        "network", "cluster", "database", "cache", "registry", "edge", "cdn", "dns"}



def test_the_alb_only_answers_requests_carrying_cloudfronts_origin_secret(
        prod_plan: Recorded) -> None:
    ingress = prod_plan.one("kubernetes:networking.k8s.io/v1:Ingress",
                            name="storefront-ingress")
    annotations = ingress.inputs["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/conditions.storefront"] == SECRET
    assert ingress.inputs["spec"]["defaultBackend"]["service"]["name"] == "forbidden"


def test_database_log_groups_keep_the_stacks_retention(
        dev_plan: Recorded, dev_settings: Settings) -> None:
    # dev keeps 14 days, not the component's default of 90: the setting must reach RDS.
    groups = [g for g in dev_plan.of_type("aws:cloudwatch/logGroup:LogGroup")
              if "/aws/rds/" in str(g.inputs.get("name", ""))]
    assert groups
    assert dev_settings.log_retention_days == 14
    assert {g.inputs["retentionInDays"] for g in groups} == {14}
