"""Cross-region recovery: copies of the database's backups and of the media bucket in a second
region, kept by AWS without anything of ours running.

Why RDS automated backups replication rather than AWS Backup: the replicated automated
backups carry the transaction logs, so the recovery region can restore to any second of the
retention window (an RPO of minutes); AWS Backup's cross-region copy rule copies snapshots,
so a restore there can only go back to the last copied snapshot (an RPO of the copy schedule,
hours), and it adds a vault, a plan and a selection to keep.

- `aws.rds.InstanceAutomatedBackupsReplication`, created in the recovery region through a
  provider of its own, encrypted with a KMS key of that region (a KMS key never leaves its
  region, so the copy needs one there);
- the media bucket (the CDN's `/static/*`, product images under `static/media/`) replicated
  by S3 Replication Time Control to a versioned, encrypted, private bucket in that region,
  through a role that may read the source's versions and write replicas, nothing else;
  CloudFront may read the replica too, so `stacks ops recovery-media` can point it there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import recovery_policies as policies
from components.arg_checks import require_pattern, require_range, require_tags, with_name
from components.buckets import private_bucket
from components.policies_json import cloudfront_assets_bucket_policy

_REGION = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-\d")


@dataclass(frozen=True)
class RecoveryArgs:
    region: str  # where the copies live
    primary_region: str  # the stack's
    tags: Mapping[str, str]
    database_arn: pulumi.Input[str]  # the primary instance
    backup_retention_days: int  # of the copies; the source's own retention, at most
    media_bucket_arn: pulumi.Input[str]
    media_bucket_name: pulumi.Input[str]
    distribution_arn: pulumi.Input[str]  # may read the replica once pointed at it
    # Keeps the replica bucket and its key through a `pulumi destroy` attempt.
    protect: bool = True


def validate(args: RecoveryArgs) -> None:
    require_tags(args.tags)
    require_pattern("region", args.region, _REGION, "an AWS region like 'us-west-2'")
    require_pattern("primary_region", args.primary_region, _REGION,
                    "an AWS region like 'us-east-1'")
    if args.region == args.primary_region:
        raise ValueError(f"region must differ from primary_region ({args.primary_region}): a "
                         "copy in the same region survives nothing the original does not")
    require_range("backup_retention_days", args.backup_retention_days, 1, 35)


class Recovery(pulumi.ComponentResource):
    region: str
    database_backup_arn: pulumi.Output[str]
    media_replica_bucket_name: pulumi.Output[str]
    media_replica_domain_name: pulumi.Output[str]
    key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: RecoveryArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        validate(args)
        super().__init__("shop:recovery:Recovery", name, None, opts)
        self._name, self._args = name, args
        provider = aws.Provider(f"{name}-provider", region=args.region,
                                opts=pulumi.ResourceOptions(parent=self))
        # Everything parented here is made in the recovery region: children inherit the
        # provider, the shared bucket helper included.
        there = _RecoveryRegion(f"{name}-region", args.region, opts=pulumi.ResourceOptions(
            parent=self, providers=[provider]))
        in_region = pulumi.ResourceOptions(parent=there)

        key = aws.kms.Key(
            f"{name}-key", description=f"Encrypts the recovery copies in {args.region}",
            enable_key_rotation=True, deletion_window_in_days=30,
            tags=with_name(args.tags, f"{name}-key"), opts=in_region)
        backups = aws.rds.InstanceAutomatedBackupsReplication(
            f"{name}-database-backups", source_db_instance_arn=args.database_arn,
            kms_key_id=key.arn, retention_period=args.backup_retention_days, opts=in_region)
        replica = self._media_replica(there)

        self.region = args.region
        self.database_backup_arn = backups.id  # the replicated backups' ARN in that region
        self.media_replica_bucket_name = replica.bucket
        self.media_replica_domain_name = replica.bucket_regional_domain_name
        self.key_arn = key.arn
        there.register_outputs({"region": args.region})
        self.register_outputs({
            "region": self.region,
            "database_backup_arn": self.database_backup_arn,
            "media_replica_bucket_name": self.media_replica_bucket_name,
            "media_replica_domain_name": self.media_replica_domain_name,
            "key_arn": self.key_arn,
        })

    def _media_replica(self, there: pulumi.ComponentResource) -> aws.s3.Bucket:
        name, args = self._name, self._args
        replica = private_bucket(
            f"{name}-media-replica", parent=there, tags=args.tags,
            force_destroy=not args.protect, object_ownership="BucketOwnerEnforced",
            versioned=True)
        aws.s3.BucketPolicy(
            f"{name}-media-replica-policy", bucket=replica.bucket.id,
            policy=pulumi.Output.all(replica.bucket.arn, args.distribution_arn).apply(
                lambda arns: cloudfront_assets_bucket_policy(arns[0], arns[1])),
            opts=pulumi.ResourceOptions(parent=there, depends_on=replica.companions))

        account_id = aws.get_caller_identity().account_id
        role = aws.iam.Role(
            f"{name}-media-replication",
            description="Lets S3 replicate the media bucket to the recovery region",
            assume_role_policy=pulumi.Output.from_input(args.media_bucket_arn).apply(
                lambda arn: policies.replication_trust_policy(account_id, arn)),
            tags=with_name(args.tags, f"{name}-media-replication"),
            opts=pulumi.ResourceOptions(parent=self))
        aws.iam.RolePolicy(
            f"{name}-media-replication", role=role.id,
            policy=pulumi.Output.all(args.media_bucket_arn, replica.bucket.arn).apply(
                lambda arns: policies.replication_policy(arns[0], arns[1])),
            opts=pulumi.ResourceOptions(parent=self))
        aws.s3.BucketReplicationConfig(
            f"{name}-media-replication", bucket=args.media_bucket_name, role=role.arn,
            rules=[_replication_rule(replica.bucket.arn)],
            # The replica must be versioned before S3 accepts it as a destination.
            opts=pulumi.ResourceOptions(parent=self, depends_on=replica.companions))
        return replica.bucket


def _replication_rule(replica_arn: pulumi.Input[str]) -> aws.s3.BucketReplicationConfigRuleArgs:
    minutes = policies.REPLICATION_MINUTES
    return aws.s3.BucketReplicationConfigRuleArgs(
        id="media-to-recovery-region", status="Enabled", priority=1,
        filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
        delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
            status="Disabled"),
        destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
            bucket=replica_arn, storage_class="STANDARD",
            replication_time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs(
                status="Enabled",
                time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(
                    minutes=minutes)),
            metrics=aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
                status="Enabled",
                event_threshold=aws.s3.
                BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(
                    minutes=minutes))))


class _RecoveryRegion(pulumi.ComponentResource):
    """The recovery region's resources, under the provider for that region."""

    def __init__(self, name: str, region: str, opts: pulumi.ResourceOptions) -> None:
        super().__init__("shop:recovery:Region", name, {"region": region}, opts)
