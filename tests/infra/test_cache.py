"""The cache component under the mock engine: the exact inputs ElastiCache and its companions
get."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from components.cache import (
    Cache,
    CacheArgs,
    connection_document,
    high_availability,
    parameter_group_family,
)
from stacks.plan.mocks import SECRET
from stacks.policy import Context, Resource, check
from tests.infra.component_support import (
    DEV_TAGS,
    NODE_SG,
    PROD_TAGS,
    assert_no_secret_values,
    assert_refused,
    assert_well_formed,
    run_component,
)

GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
OUTPUTS = ("primary_endpoint", "reader_endpoint", "port", "auth_token", "secret_arn",
           "security_group_id", "kms_key_arn")

PROD = CacheArgs(vpc_id="vpc-0data", subnet_ids=["subnet-iso-a", "subnet-iso-b"],
                 allowed_security_group_ids=[NODE_SG], tags=PROD_TAGS,
                 node_type="cache.m7g.large", node_count=2, snapshot_retention_days=7)
DEV = dataclasses.replace(PROD, tags=DEV_TAGS, node_type="cache.t4g.micro", node_count=1,
                          snapshot_retention_days=1, deletion_protection=False)


@pytest.fixture(scope="module")
def prod():
    return run_component(lambda: Cache("cache", PROD), *OUTPUTS)


@pytest.fixture(scope="module")
def dev():
    return run_component(lambda: Cache("cache", DEV), *OUTPUTS)


def test_pure_parts() -> None:
    assert parameter_group_family("7.1") == "redis7"
    assert [high_availability(n) for n in (1, 2, 3)] == [False, True, True]
    assert json.loads(connection_document("t", "h", 6379)) == {
        "host": "h", "port": 6379, "auth_token": "t", "tls": True}


def test_encrypted_at_rest_and_in_transit_with_a_secret_token(prod) -> None:
    group = prod.one(GROUP, "cache-redis").inputs
    assert group["atRestEncryptionEnabled"] is True
    assert group["kmsKeyId"] == prod.outputs["kms_key_arn"]
    assert group["transitEncryptionEnabled"] is True
    assert group["authToken"] == SECRET
    generated = prod.one("random:index/randomPassword:RandomPassword").inputs
    assert generated["length"] == 64 and generated["special"] is False
    assert prod.outputs["auth_token"] == SECRET
    assert prod.one("aws:secretsmanager/secret:Secret").inputs["kmsKeyId"] == (
        prod.outputs["kms_key_arn"])
    assert prod.one("aws:secretsmanager/secretVersion:SecretVersion").inputs[
        "secretString"] == SECRET
    assert prod.one("aws:kms/key:Key").inputs["enableKeyRotation"] is True
    assert_no_secret_values(prod)


def test_two_nodes_fail_over_across_azs(prod) -> None:
    group = prod.one(GROUP, "cache-redis").inputs
    assert group["numCacheClusters"] == 2
    assert group["automaticFailoverEnabled"] is True
    assert group["multiAzEnabled"] is True
    assert group["snapshotRetentionLimit"] == 7
    assert prod.outputs["primary_endpoint"].startswith("master.")
    assert prod.outputs["reader_endpoint"].startswith("replica.")
    assert prod.outputs["port"] == 6379


def test_final_snapshot_is_named_anew_for_each_replaced_group(prod) -> None:
    suffix = prod.one("random:index/randomId:RandomId")
    assert suffix.inputs["byteLength"] == 4
    # Exactly the group's replacement triggers: replacing the group renews the suffix, so a
    # second replacement cannot collide with the snapshot the first one left.
    assert suffix.inputs["keepers"] == {
        "kmsKeyId": prod.outputs["kms_key_arn"],
        "subnetGroupName": prod.one("aws:elasticache/subnetGroup:SubnetGroup").id,
        "port": "6379", "atRestEncryptionEnabled": "true"}
    name = prod.one(GROUP, "cache-redis").inputs["finalSnapshotIdentifier"]
    assert re.fullmatch(r"cache-final-[0-9a-f]{8}", name)


def test_one_node_has_no_failover(dev) -> None:
    group = dev.one(GROUP, "cache-redis").inputs
    assert group["numCacheClusters"] == 1
    assert group["automaticFailoverEnabled"] is False
    assert group["multiAzEnabled"] is False
    assert group["atRestEncryptionEnabled"] is True and group["transitEncryptionEnabled"] is True
    assert "finalSnapshotIdentifier" not in group
    assert dev.of_type("random:index/randomId:RandomId") == []
    assert dev.one("aws:secretsmanager/secret:Secret").inputs["recoveryWindowInDays"] == 0


def test_only_the_nodes_reach_6379_in_the_isolated_subnets(prod) -> None:
    group = prod.one("aws:ec2/securityGroup:SecurityGroup", "cache-sg").inputs
    assert group["ingress"] == [{"description": "Redis clients", "protocol": "tcp",
                                 "fromPort": 6379, "toPort": 6379, "securityGroups": [NODE_SG]}]
    assert group["egress"] == []
    assert prod.one(GROUP).inputs["securityGroupIds"] == [prod.outputs["security_group_id"]]
    subnets = prod.one("aws:elasticache/subnetGroup:SubnetGroup").inputs
    assert subnets["subnetIds"] == ["subnet-iso-a", "subnet-iso-b"]


def test_parameter_group(prod) -> None:
    params = prod.one("aws:elasticache/parameterGroup:ParameterGroup").inputs
    assert params["family"] == "redis7"
    assert params["parameters"] == [{"name": "maxmemory-policy", "value": "volatile-lru"}]
    assert prod.one(GROUP).inputs["parameterGroupName"].startswith("cache-params-")


def test_children_parented_tagged_and_policies_hold(prod, dev) -> None:
    assert_well_formed(prod, "shop:cache:Cache", PROD_TAGS)
    assert_well_formed(dev, "shop:cache:Cache", DEV_TAGS)
    stack = [Resource(urn=r.urn, type=r.type, name=r.name, inputs=r.inputs)
             for r in prod.resources]
    assert check(stack, Context(environment="prod")) == []


@pytest.mark.parametrize(("change", "field"), [
    ({"node_count": 0}, "node_count"),
    ({"node_count": 7}, "node_count"),
    ({"engine_version": "6.2"}, "engine_version"),
    ({"node_type": "t4g.micro"}, "node_type"),
    ({"snapshot_retention_days": 36}, "snapshot_retention_days"),
    ({"maxmemory_policy": "lru"}, "maxmemory_policy"),
    ({"subnet_ids": []}, "subnet_ids"),
    ({"allowed_security_group_ids": []}, "allowed_security_group_ids"),
    ({"tags": {**PROD_TAGS, "Owner": ""}}, "tags"),
])
def test_invalid_args_name_the_field_and_create_nothing(change, field) -> None:
    args = dataclasses.replace(PROD, **change)
    assert field in assert_refused(lambda: Cache("cache", args), field)


def test_name_must_suit_the_final_snapshot() -> None:
    assert_refused(lambda: Cache("Shop_Cache", PROD), "name")
