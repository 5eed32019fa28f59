"""The registry component, and its lifecycle policy as a pure function."""

from __future__ import annotations

import dataclasses
import json

import pytest

from components.policies_json import ecr_lifecycle_policy
from components.registry import Registry, RegistryArgs
from tests.infra.component_support import (
    DEV_TAGS,
    PROD_TAGS,
    assert_refused,
    assert_well_formed,
    run_component,
)

REPOSITORY = "aws:ecr/repository:Repository"
OUTPUTS = ("repository_url", "repository_arn", "repository_name", "registry_id", "kms_key_arn")
PROD = RegistryArgs(repository_name="shop-prod/storefront", tags=PROD_TAGS)
DEV = RegistryArgs(repository_name="shop-dev/storefront", tags=DEV_TAGS, force_delete=True)


@pytest.fixture(scope="module")
def prod():
    return run_component(lambda: Registry("registry", PROD), *OUTPUTS)


def expire(priority: int, description: str, **selection) -> dict:
    return {"rulePriority": priority, "description": description, "selection": selection,
            "action": {"type": "expire"}}


def test_lifecycle_expires_untagged_keeps_releases_and_commits_and_ages_out_previews() -> None:
    rules = json.loads(ecr_lifecycle_policy())["rules"]
    assert rules == [
        expire(1, "Expire untagged images after 7 days", tagStatus="untagged",
               countType="sinceImagePushed", countUnit="days", countNumber=7),
        # One prefix per rule: ECR would select only images carrying both prefixes.
        expire(2, "Keep the last 30 release images tagged v*", tagStatus="tagged",
               tagPrefixList=["v"], countType="imageCountMoreThan", countNumber=30),
        expire(3, "Keep the last 30 release images tagged release-*", tagStatus="tagged",
               tagPrefixList=["release-"], countType="imageCountMoreThan", countNumber=30),
        expire(4, "Keep the last 50 commit builds", tagStatus="tagged",
               tagPrefixList=["git-"], countType="imageCountMoreThan", countNumber=50),
        expire(5, "Expire preview builds after 14 days", tagStatus="tagged",
               tagPrefixList=["preview-"], countType="sinceImagePushed", countUnit="days",
               countNumber=14),
    ]


def test_lifecycle_is_deterministic_and_parameterised() -> None:
    assert ecr_lifecycle_policy() == ecr_lifecycle_policy()
    rules = json.loads(ecr_lifecycle_policy(3, 10, ("rel-",), commit_images_kept=20,
                                            preview_expiry_days=5))["rules"]
    assert [(r["selection"].get("tagPrefixList"), r["selection"]["countNumber"])
            for r in rules] == [(None, 3), (["rel-"], 10), (["git-"], 20), (["preview-"], 5)]
    assert [r["rulePriority"] for r in rules] == [1, 2, 3, 4]


@pytest.mark.parametrize(("args", "options", "field"), [
    ((0, 30, ("v",)), {}, "untagged_expiry_days"),
    ((7, 0, ("v",)), {}, "release_images_kept"),
    ((7, 30, ()), {}, "release_tag_prefixes"),
    ((7, 30, ("v", "")), {}, "release_tag_prefixes"),
    ((7, 30, ("v", "git-")), {}, "release_tag_prefixes"),
    ((7, 30, ("v",)), {"commit_images_kept": 0}, "commit_images_kept"),
    ((7, 30, ("v",)), {"preview_expiry_days": 0}, "preview_expiry_days"),
])
def test_lifecycle_refuses_nonsense(args, options, field) -> None:
    with pytest.raises(ValueError, match=field):
        ecr_lifecycle_policy(*args, **options)


def test_repository_is_immutable_scanned_and_kms_encrypted(prod) -> None:
    repository = prod.one(REPOSITORY, "registry-repository").inputs
    assert repository["name"] == "shop-prod/storefront"
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository["encryptionConfigurations"] == [
        {"encryptionType": "KMS", "kmsKey": prod.outputs["kms_key_arn"]}]
    assert repository["forceDelete"] is False
    assert prod.one("aws:kms/key:Key").inputs["enableKeyRotation"] is True


def test_lifecycle_policy_is_attached(prod) -> None:
    policy = prod.one("aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs
    assert policy["policy"] == ecr_lifecycle_policy()
    assert policy["repository"] == prod.outputs["repository_name"]


def test_lifecycle_follows_the_registry_args() -> None:
    args = dataclasses.replace(DEV, commit_images_kept=25, preview_expiry_days=7)
    policy = run_component(lambda: Registry("registry", args)).one(
        "aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"]
    assert policy == ecr_lifecycle_policy(commit_images_kept=25, preview_expiry_days=7)
    counts = {r["selection"].get("tagPrefixList", [None])[0]: r["selection"]["countNumber"]
              for r in json.loads(policy)["rules"]}
    assert (counts["git-"], counts["preview-"]) == (25, 7)


def test_outputs(prod) -> None:
    assert prod.outputs["repository_url"].endswith(".amazonaws.com/shop-prod/storefront")
    assert prod.outputs["registry_id"] == prod.outputs["repository_url"].split(".")[0]
    assert prod.outputs["repository_arn"].startswith("arn:aws:ecr:")


def test_force_delete_only_where_asked() -> None:
    dev = run_component(lambda: Registry("registry", DEV))
    assert dev.one(REPOSITORY).inputs["forceDelete"] is True
    assert dev.one("aws:kms/key:Key").inputs["deletionWindowInDays"] == 7
    assert_well_formed(dev, "shop:registry:Registry", DEV_TAGS)


def test_children_parented_and_tagged(prod) -> None:
    assert_well_formed(prod, "shop:registry:Registry", PROD_TAGS)


@pytest.mark.parametrize(("change", "field"), [
    ({"repository_name": "Shop/Storefront"}, "repository_name"),
    ({"repository_name": "shop//storefront"}, "repository_name"),
    ({"repository_name": "-shop"}, "repository_name"),
    ({"untagged_expiry_days": 0}, "untagged_expiry_days"),
    ({"release_images_kept": 0}, "release_images_kept"),
    ({"commit_images_kept": 0}, "commit_images_kept"),
    ({"preview_expiry_days": 0}, "preview_expiry_days"),
    ({"tags": {}}, "tags"),
])
def test_invalid_args_name_the_field_and_create_nothing(change, field) -> None:
    args = dataclasses.replace(PROD, **change)
    assert field in assert_refused(lambda: Registry("registry", args), field)
