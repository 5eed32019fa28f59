"""A private S3 bucket with the companions every bucket here needs: all four public access
blocks, object ownership, default encryption and a lifecycle; the caller adds the policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.arg_checks import with_name


@dataclass(frozen=True)
class PrivateBucket:
    bucket: aws.s3.Bucket
    # What a bucket policy, or a service writing to the bucket, waits for: S3 refuses
    # concurrent configuration of one bucket, and ownership decides whether ACLs work.
    companions: list[pulumi.Resource]


def private_bucket(
    name: str, *, parent: pulumi.Resource, tags: Mapping[str, str], force_destroy: bool,
    object_ownership: str, versioned: bool, expire_after_days: int | None = None,
    glacier_after_days: int | None = None, object_lock: bool = False,
) -> PrivateBucket:
    """`name` is the resource name of the bucket; companions are `f"{name}-<role>"`.

    Old versions of a versioned bucket expire after 30 days, current objects after
    `expire_after_days` when given (and move to Glacier after `glacier_after_days`), and
    unfinished uploads after 7 days. `object_lock` can only be chosen when the bucket is made
    (the caller adds the retention rule)."""
    opts = pulumi.ResourceOptions(parent=parent)
    bucket = aws.s3.Bucket(name, force_destroy=force_destroy, tags=with_name(tags, name),
                           object_lock_enabled=True if object_lock else None, opts=opts)
    block = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access", bucket=bucket.id, block_public_acls=True,
        block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
        opts=opts)
    ownership = aws.s3.BucketOwnershipControls(
        f"{name}-ownership", bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership=object_ownership),
        opts=opts)
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption", bucket=bucket.id,
        rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=aws.s3.
            BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="AES256"))],
        opts=opts)
    companions: list[pulumi.Resource] = [block, ownership, encryption]
    if versioned:
        companions.append(aws.s3.BucketVersioning(
            f"{name}-versioning", bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"),
            opts=opts))
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle", bucket=bucket.id,
        rules=[_lifecycle_rule(versioned, expire_after_days, glacier_after_days)],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=companions))
    return PrivateBucket(bucket, companions)


def _lifecycle_rule(versioned: bool, expire_after_days: int | None,
                    glacier_after_days: int | None = None,
                    ) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
    return aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="housekeeping",
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        abort_incomplete_multipart_upload=aws.s3.
        BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
            days_after_initiation=7),
        expiration=(aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=expire_after_days)
                    if expire_after_days else None),
        transitions=([aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
            days=glacier_after_days, storage_class="GLACIER")] if glacier_after_days else None),
        noncurrent_version_expiration=(
            aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=30) if versioned else None),
    )
