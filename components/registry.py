"""The storefront's image registry: one ECR repository with immutable tags, scanned on push,
encrypted with its own KMS key and pruned by a lifecycle policy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.arg_checks import require_pattern, require_range, require_tags, with_name
from components.data_security import encryption_key
from components.policies_json import ECR_RELEASE_TAG_PREFIXES, ecr_lifecycle_policy

_REPOSITORY_NAME = re.compile(
    r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")


@dataclass(frozen=True)
class RegistryArgs:
    # Repository names are unique per account and region: include the stack ("shop-dev/storefront").
    repository_name: str
    tags: Mapping[str, str]
    # Lets `pulumi destroy` remove a repository that still holds images: never in prod.
    force_delete: bool = False
    untagged_expiry_days: int = 7
    release_images_kept: int = 30
    release_tag_prefixes: Sequence[str] = ECR_RELEASE_TAG_PREFIXES
    # Commit builds (git-<sha>): the newest are kept for rollbacks.
    commit_images_kept: int = 50
    # Preview environments' builds (preview-<id>-...): longer than a preview lives unchanged
    # (shop:previewTtlDays), as a rescheduled pod pulls its image again.
    preview_expiry_days: int = 14


def validate(args: RegistryArgs) -> None:
    require_tags(args.tags)
    require_pattern("repository_name", args.repository_name, _REPOSITORY_NAME,
                    "lowercase path segments of letters, digits and . _ - like 'shop/storefront'")
    require_range("repository_name length", len(args.repository_name), 2, 256)


class Registry(pulumi.ComponentResource):
    repository_url: pulumi.Output[str]
    repository_arn: pulumi.Output[str]
    repository_name: pulumi.Output[str]
    registry_id: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: RegistryArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        validate(args)
        # Built (and so checked) before any resource exists.
        lifecycle = ecr_lifecycle_policy(args.untagged_expiry_days, args.release_images_kept,
                                         args.release_tag_prefixes,
                                         commit_images_kept=args.commit_images_kept,
                                         preview_expiry_days=args.preview_expiry_days)
        super().__init__("shop:registry:Registry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        key = encryption_key(name, f"the images of ECR repository {args.repository_name}",
                             args.tags, self, protect_data=not args.force_delete)
        repository = aws.ecr.Repository(
            f"{name}-repository",
            name=args.repository_name,
            # A tag names one image forever, so a rollout or a rollback runs what was tested.
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                scan_on_push=True),
            encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(
                encryption_type="KMS", kms_key=key.arn)],
            force_delete=args.force_delete,
            tags=with_name(args.tags, f"{name}-repository"),
            opts=child,
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=repository.name,
            policy=lifecycle,
            opts=child,
        )

        self.repository_url = repository.repository_url
        self.repository_arn = repository.arn
        self.repository_name = repository.name
        self.registry_id = repository.registry_id
        self.kms_key_arn = key.arn
        self.register_outputs({
            "repository_url": self.repository_url,
            "repository_arn": self.repository_arn,
            "repository_name": self.repository_name,
            "registry_id": self.registry_id,
            "kms_key_arn": self.kms_key_arn,
        })
