"""Building blocks the database and the cache share: where they sit (the isolated subnets,
a security group open to named groups on one port), a customer managed KMS key, a generated
credential and the Secrets Manager secret operators read it from.

They create children of the calling component, so they take its `parent`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.arg_checks import require_items, require_tags, with_name


@dataclass(frozen=True)
class IsolatedStoreArgs:
    """What a managed data store needs to sit in the isolated subnets, reachable from named
    security groups only. The database's and the cache's Args extend it."""

    vpc_id: pulumi.Input[str]
    # The isolated (data) subnets.
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    # The only groups admitted on the store's port: the EKS nodes' security group.
    allowed_security_group_ids: Sequence[pulumi.Input[str]]
    tags: Mapping[str, str]


def validate_isolated(args: IsolatedStoreArgs, minimum_subnets: int = 1) -> None:
    require_tags(args.tags)
    require_items("subnet_ids", args.subnet_ids, minimum=minimum_subnets)
    require_items("allowed_security_group_ids", args.allowed_security_group_ids)


def isolated_placement(
    name: str, args: IsolatedStoreArgs, *, port: int, purpose: str, store: str,
    subnet_group: Callable[..., Any], parent: pulumi.Resource,
) -> tuple[aws.ec2.SecurityGroup, Any]:
    """The store's security group (``port`` from the allowed groups only) and its subnet group
    over the isolated subnets; ``subnet_group`` is the service's class (``aws.rds.SubnetGroup``,
    ``aws.elasticache.SubnetGroup``), which take the same inputs."""
    group = ingress_only_from(name, vpc_id=args.vpc_id, port=port,
                              source_security_group_ids=args.allowed_security_group_ids,
                              purpose=purpose, tags=args.tags, parent=parent)
    subnets = subnet_group(
        f"{name}-subnets", subnet_ids=args.subnet_ids,
        description=f"Isolated subnets of the storefront {store}",
        tags=with_name(args.tags, f"{name}-subnets"), opts=pulumi.ResourceOptions(parent=parent))
    return group, subnets


def encryption_key(
    name: str, purpose: str, tags: Mapping[str, str], parent: pulumi.Resource,
    protect_data: bool,
) -> aws.kms.Key:
    # A protected key waits the longest window before deletion: losing it loses every
    # snapshot encrypted with it.
    return aws.kms.Key(
        f"{name}-key",
        description=f"Encrypts {purpose}",
        enable_key_rotation=True,
        deletion_window_in_days=30 if protect_data else 7,
        tags=with_name(tags, f"{name}-key"),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def ingress_only_from(
    name: str, *, vpc_id: pulumi.Input[str], port: int,
    source_security_group_ids: Sequence[pulumi.Input[str]], purpose: str,
    tags: Mapping[str, str], parent: pulumi.Resource,
) -> aws.ec2.SecurityGroup:
    """One TCP port from the given security groups only: no CIDR, and no egress at all
    (a managed database or cache only answers connections, which a stateful group allows)."""
    return aws.ec2.SecurityGroup(
        f"{name}-sg",
        description=f"{purpose}: port {port} from the cluster nodes only",
        vpc_id=vpc_id,
        ingress=[aws.ec2.SecurityGroupIngressArgs(
            description=f"{purpose} clients",
            protocol="tcp",
            from_port=port,
            to_port=port,
            security_groups=list(source_security_group_ids),
        )],
        egress=[],
        tags=with_name(tags, f"{name}-sg"),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def generated_password(name: str, role: str, length: int, parent: pulumi.Resource,
                       ) -> random.RandomPassword:
    # Letters and digits only: nothing to escape in a connection URL, none of the characters
    # RDS or ElastiCache refuse; the length carries the entropy (40 chars ~ 238 bits).
    return random.RandomPassword(
        f"{name}-{role}",
        length=length,
        special=False,
        min_lower=1,
        min_upper=1,
        min_numeric=1,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def stored_secret(
    name: str, *, value: pulumi.Input[str], kms_key: aws.kms.Key, description: str,
    tags: Mapping[str, str], parent: pulumi.Resource, protect_data: bool,
) -> aws.secretsmanager.Secret:
    """A Secrets Manager secret (encrypted with `kms_key`) holding `value`, a secret Output."""
    secret = aws.secretsmanager.Secret(
        f"{name}-credentials",
        description=description,
        kms_key_id=kms_key.arn,
        # Unprotected stacks are torn down often; their secrets need no month of recovery.
        recovery_window_in_days=30 if protect_data else 0,
        tags=with_name(tags, f"{name}-credentials"),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.secretsmanager.SecretVersion(
        f"{name}-credentials-value",
        secret_id=secret.id,
        secret_string=pulumi.Output.secret(value),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return secret


def final_snapshot_name(name: str, prefix: str, keepers: Mapping[str, pulumi.Input[str]],
                        parent: pulumi.Resource) -> pulumi.Output[str]:
    """`<prefix>-final-<8 hex>`, the hex renewed whenever ``keepers`` (the inputs that
    force the data store's replacement) change: a second replacement must not collide with
    the snapshot the first one left behind."""
    suffix = random.RandomId(f"{name}-final-snapshot", byte_length=4, keepers=keepers,
                             opts=pulumi.ResourceOptions(parent=parent))
    return suffix.hex.apply(lambda hex_: f"{prefix}-final-{hex_}")
