"""Policy documents as pure functions: plain values in, deterministic JSON out.

Kept free of Pulumi so they are tested directly; components feed them resolved values
through `Output.apply`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

ECR_RELEASE_TAG_PREFIXES: tuple[str, ...] = ("v", "release-")


def _dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def ecr_lifecycle_policy(
    untagged_expiry_days: int = 7,
    release_images_kept: int = 30,
    release_tag_prefixes: Sequence[str] = ECR_RELEASE_TAG_PREFIXES,
) -> str:
    """Expire untagged images after N days; keep only the newest M release images.

    Other tagged images (commit builds a deployment may still run) are never expired here:
    deleting an image a node may pull again is worse than paying for its storage.
    """
    if untagged_expiry_days < 1:
        raise ValueError(f"untagged_expiry_days must be >= 1, got {untagged_expiry_days}")
    if release_images_kept < 1:
        raise ValueError(f"release_images_kept must be >= 1, got {release_images_kept}")
    if not release_tag_prefixes or not all(release_tag_prefixes):
        raise ValueError(f"release_tag_prefixes must be non-empty strings, got "
                         f"{list(release_tag_prefixes)}")
    return _dumps({"rules": [
        {
            "rulePriority": 1,
            "description": f"Expire untagged images after {untagged_expiry_days} days",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": untagged_expiry_days,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": f"Keep the last {release_images_kept} release images",
            "selection": {
                "tagStatus": "tagged",
                "tagPrefixList": list(release_tag_prefixes),
                "countType": "imageCountMoreThan",
                "countNumber": release_images_kept,
            },
            "action": {"type": "expire"},
        },
    ]})


def _deny_insecure_transport(bucket_arn: str) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def tls_only_bucket_policy(bucket_arn: str) -> str:
    """A bucket policy refusing every request not made over TLS."""
    return _dumps({"Version": "2012-10-17", "Statement": [_deny_insecure_transport(bucket_arn)]})


def cloudfront_assets_bucket_policy(bucket_arn: str, distribution_arn: str) -> str:
    """TLS only, and reads by exactly one CloudFront distribution through its OAC."""
    return _dumps({"Version": "2012-10-17", "Statement": [
        _deny_insecure_transport(bucket_arn),
        {
            "Sid": "AllowCloudFrontOriginAccessControlRead",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": f"{bucket_arn}/*",
            "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
        },
    ]})


def service_assume_role_policy(service: str) -> str:
    """A trust policy letting one AWS service principal assume the role."""
    return _dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }]})
