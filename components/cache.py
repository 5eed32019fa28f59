"""The storefront's Redis: an ElastiCache replication group in the isolated subnets, reachable
from the cluster nodes only, encrypted at rest and in transit, behind a generated auth token
kept in Secrets Manager.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.arg_checks import (
    require_choice,
    require_pattern,
    require_range,
    require_snapshot_name,
    with_name,
)
from components.data_security import (
    IsolatedStoreArgs,
    encryption_key,
    final_snapshot_name,
    generated_password,
    isolated_placement,
    stored_secret,
    validate_isolated,
)

REDIS_PORT = 6379
# Guest carts and sessions live in this Redis too: under memory pressure only keys with a
# TTL (cached pages, rate-limit windows) may be evicted.
EVICTION_POLICIES = ("volatile-lru", "volatile-lfu", "volatile-ttl", "allkeys-lru", "noeviction")
_ENGINE_VERSION = re.compile(r"7\.\d+")
_NODE_TYPE = re.compile(r"cache\.[a-z0-9]+\.[a-z0-9]+")


@dataclass(frozen=True)
class CacheArgs(IsolatedStoreArgs):
    """Where it sits (IsolatedStoreArgs: the groups admitted on 6379), then Redis itself."""

    engine_version: str = "7.1"
    node_type: str = "cache.t4g.micro"
    # A primary plus (node_count - 1) replicas; two or more turn on failover and multi-AZ.
    node_count: int = 1
    snapshot_retention_days: int = 1
    maxmemory_policy: str = "volatile-lru"
    # A final snapshot, and a month to recover the key and secret after deletion: on outside dev.
    deletion_protection: bool = True


def validate(args: CacheArgs) -> None:
    validate_isolated(args)
    require_pattern("engine_version", args.engine_version, _ENGINE_VERSION,
                    "a Redis 7 version like '7.1'")
    require_pattern("node_type", args.node_type, _NODE_TYPE,
                    "an ElastiCache node type like 'cache.t4g.micro'")
    require_range("node_count", args.node_count, 1, 6)
    require_range("snapshot_retention_days", args.snapshot_retention_days, 0, 35)
    require_choice("maxmemory_policy", args.maxmemory_policy, EVICTION_POLICIES)


def parameter_group_family(engine_version: str) -> str:
    """'7.1' -> 'redis7'."""
    return f"redis{engine_version.split('.')[0]}"


def high_availability(node_count: int) -> bool:
    """Failover needs a replica to promote; multi-AZ needs it in another AZ."""
    return node_count >= 2


def snapshot_keepers(kms_key_arn: pulumi.Input[str], subnet_group: pulumi.Input[str],
                     ) -> dict[str, pulumi.Input[str]]:
    """The group's inputs whose change makes AWS replace it (stacks/review/replacements.py): a new
    group, so a new final snapshot name, never the one its predecessor left behind."""
    return {"kmsKeyId": kms_key_arn, "subnetGroupName": subnet_group,
            "port": str(REDIS_PORT), "atRestEncryptionEnabled": "true"}


def connection_document(auth_token: str, host: str, port: int) -> str:
    return json.dumps({"host": host, "port": port, "auth_token": auth_token, "tls": True},
                      sort_keys=True)


class Cache(pulumi.ComponentResource):
    primary_endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    port: pulumi.Output[int | None]
    auth_token: pulumi.Output[str]
    secret_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: CacheArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        require_snapshot_name(name)
        validate(args)
        super().__init__("shop:cache:Cache", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        key = encryption_key(name, "the storefront cache, its snapshots and secret",
                             args.tags, self, args.deletion_protection)
        group, subnets = isolated_placement(name, args, port=REDIS_PORT, purpose="Redis",
                                            store="cache",
                                            subnet_group=aws.elasticache.SubnetGroup, parent=self)
        params = aws.elasticache.ParameterGroup(
            f"{name}-params", family=parameter_group_family(args.engine_version),
            description="Storefront cache settings",
            parameters=[aws.elasticache.ParameterGroupParameterArgs(
                name="maxmemory-policy", value=args.maxmemory_policy)],
            tags=with_name(args.tags, f"{name}-params"), opts=child)
        token = generated_password(name, "auth-token", 64, self)
        self.auth_token = pulumi.Output.secret(token.result)

        highly_available = high_availability(args.node_count)
        group_of_nodes = aws.elasticache.ReplicationGroup(
            f"{name}-redis",
            description="Storefront cache, guest carts, sessions and rate limits",
            engine="redis",
            engine_version=args.engine_version,
            node_type=args.node_type,
            num_cache_clusters=args.node_count,
            port=REDIS_PORT,
            parameter_group_name=params.name,
            subnet_group_name=subnets.name,
            security_group_ids=[group.id],
            at_rest_encryption_enabled=True,
            kms_key_id=key.arn,
            transit_encryption_enabled=True,
            auth_token=self.auth_token,
            automatic_failover_enabled=highly_available,
            multi_az_enabled=highly_available,
            snapshot_retention_limit=args.snapshot_retention_days,
            final_snapshot_identifier=self._final_snapshot(name, args, key, subnets),
            snapshot_window="03:00-04:00",
            maintenance_window="sun:05:00-sun:06:00",
            auto_minor_version_upgrade=True,
            tags=with_name(args.tags, f"{name}-redis"),
            opts=child,
        )

        self.primary_endpoint = group_of_nodes.primary_endpoint_address
        self.reader_endpoint = group_of_nodes.reader_endpoint_address
        self.port = group_of_nodes.port
        self.security_group_id = group.id
        self.kms_key_arn = key.arn
        document = pulumi.Output.all(self.primary_endpoint, self.port, self.auth_token).apply(
            lambda v: connection_document(v[2], v[0], v[1]))
        self.secret_arn = stored_secret(
            name, value=document, kms_key=key, tags=args.tags, parent=self,
            description="Auth token and endpoint of the storefront cache",
            protect_data=args.deletion_protection).arn

        self.register_outputs({
            "primary_endpoint": self.primary_endpoint,
            "reader_endpoint": self.reader_endpoint,
            "port": self.port,
            "auth_token": self.auth_token,
            "secret_arn": self.secret_arn,
            "security_group_id": self.security_group_id,
            "kms_key_arn": self.kms_key_arn,
        })

    def _final_snapshot(self, name: str, args: CacheArgs, key: aws.kms.Key,
                        subnets: aws.elasticache.SubnetGroup) -> pulumi.Output[str] | None:
        if not args.deletion_protection:
            return None
        return final_snapshot_name(name, name, snapshot_keepers(key.arn, subnets.name), self)
