"""Policy documents as pure functions: plain values in, deterministic JSON out.

Kept free of Pulumi so they are tested directly; components feed them resolved values
through `Output.apply`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

ECR_RELEASE_TAG_PREFIXES: tuple[str, ...] = ("v", "release-")
# What the pipelines tag the storefront's builds with (stacks/previews/, .github/workflows).
ECR_COMMIT_TAG_PREFIX = "git-"
ECR_PREVIEW_TAG_PREFIX = "preview-"


def _dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def _expire_rule(description: str, tag_prefix: str | None, **count: int | str) -> dict[str, Any]:
    selection: dict[str, Any] = (
        {"tagStatus": "untagged"} if tag_prefix is None
        # One prefix per rule: ECR selects an image only when it carries every listed prefix.
        else {"tagStatus": "tagged", "tagPrefixList": [tag_prefix]})
    return {"description": description, "selection": {**selection, **count},
            "action": {"type": "expire"}}


def ecr_lifecycle_policy(
    untagged_expiry_days: int = 7,
    release_images_kept: int = 30,
    release_tag_prefixes: Sequence[str] = ECR_RELEASE_TAG_PREFIXES,
    *,
    commit_images_kept: int = 50,
    preview_expiry_days: int = 14,
) -> str:
    """Expire untagged images after N days; keep the newest M images of each release prefix
    and the newest `commit_images_kept` commit builds (`git-`); expire preview environments'
    builds (`preview-`) `preview_expiry_days` after their push.

    Other tagged images (mirrored third-party images the cluster runs) are never expired here:
    deleting an image a node may pull again is worse than paying for its storage.
    """
    for field, value in (("untagged_expiry_days", untagged_expiry_days),
                         ("release_images_kept", release_images_kept),
                         ("commit_images_kept", commit_images_kept),
                         ("preview_expiry_days", preview_expiry_days)):
        if value < 1:
            raise ValueError(f"{field} must be >= 1, got {value}")
    if not release_tag_prefixes or not all(release_tag_prefixes):
        raise ValueError(f"release_tag_prefixes must be non-empty strings, got "
                         f"{list(release_tag_prefixes)}")
    reserved = {ECR_COMMIT_TAG_PREFIX, ECR_PREVIEW_TAG_PREFIX} & set(release_tag_prefixes)
    if reserved:
        raise ValueError(f"release_tag_prefixes must not include the commit or preview "
                         f"prefixes, got {sorted(reserved)}")
    rules = [
        _expire_rule(f"Expire untagged images after {untagged_expiry_days} days", None,
                     countType="sinceImagePushed", countUnit="days",
                     countNumber=untagged_expiry_days),
        *(_expire_rule(f"Keep the last {release_images_kept} release images tagged {prefix}*",
                       prefix, countType="imageCountMoreThan", countNumber=release_images_kept)
          for prefix in release_tag_prefixes),
        _expire_rule(f"Keep the last {commit_images_kept} commit builds",
                     ECR_COMMIT_TAG_PREFIX, countType="imageCountMoreThan",
                     countNumber=commit_images_kept),
        _expire_rule(f"Expire preview builds after {preview_expiry_days} days",
                     ECR_PREVIEW_TAG_PREFIX, countType="sinceImagePushed", countUnit="days",
                     countNumber=preview_expiry_days),
    ]
    return _dumps({"rules": [{"rulePriority": priority, **rule}
                             for priority, rule in enumerate(rules, start=1)]})


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
