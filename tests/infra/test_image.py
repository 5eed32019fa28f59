"""The image builds under the mock engine: what BuildKit is asked to build and push, and the
digest reference workloads get back."""

from __future__ import annotations

import os

import pytest

from components.image import (
    REPO_ROOT,
    ImageArgs,
    MirrorArgs,
    MirroredImage,
    StorefrontImage,
    digest_ref,
    is_digest_ref,
    mirror_tag,
    registry_host,
)
from stacks.plan.mocks import ACCOUNT_ID, SECRET
from tests.infra.component_support import assert_no_secret_values, assert_refused, run_component

BUILD = "docker-build:index:Image"
HOST = f"{ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com"
REPO = f"{HOST}/shop-prod/storefront"
ARGS = ImageArgs(repository_url=REPO, registry_id=ACCOUNT_ID, version="git-3f2c1ab")


@pytest.fixture(scope="module")
def storefront():
    return run_component(lambda: StorefrontImage("image", ARGS), "ref", "digest", "tag")


@pytest.fixture(scope="module")
def mirror():
    return run_component(lambda: MirroredImage("postgres-image", MirrorArgs(
        source="postgres:17.6-bookworm", repository_url=REPO, registry_id=ACCOUNT_ID)), "ref")


def test_pure_parts() -> None:
    digest = "sha256:" + "ab" * 32
    assert digest_ref(REPO, digest) == f"{REPO}@{digest}"
    assert is_digest_ref(f"{REPO}@{digest}")
    assert not is_digest_ref(f"{REPO}:v1")
    with pytest.raises(ValueError, match="sha256 digest"):
        digest_ref(REPO, "")
    assert registry_host(REPO) == HOST
    assert mirror_tag("postgres:17.6-bookworm") == "mirror-postgres-17.6-bookworm"
    assert mirror_tag("bitnami/redis:8.2") == "mirror-bitnami-redis-8.2"
    for source in ("postgres", "postgres:latest", "Postgres:17"):
        with pytest.raises(ValueError, match="source"):
            mirror_tag(source)


def test_builds_the_repository_dockerfile_for_amd64_and_pushes_the_version_tag(storefront):
    build = storefront.one(BUILD).inputs
    assert build["context"] == {"location": os.path.relpath(REPO_ROOT)}
    assert build["dockerfile"] == {"location": os.path.join(os.path.relpath(REPO_ROOT),
                                                            "Dockerfile")}
    assert build["platforms"] == ["linux/amd64"]
    assert build["push"] is True
    assert build["tags"] == [f"{REPO}:git-3f2c1ab"]
    assert build["labels"] == {"org.opencontainers.image.version": "git-3f2c1ab"}
    assert build["buildOnPreview"] is False
    # No registry cache: the repository's tags are immutable, a moving cache tag can't exist.
    assert "cacheTo" not in build and "cacheFrom" not in build


def test_pushes_with_the_ecr_token_kept_secret(storefront):
    registry, = storefront.one(BUILD).inputs["registries"]
    assert registry == {"address": HOST, "username": "AWS", "password": SECRET}
    assert_no_secret_values(storefront)


def test_ref_is_the_pushed_digest(storefront):
    ref = storefront.outputs["ref"]
    assert is_digest_ref(ref)
    assert ref == f"{REPO}@{storefront.outputs['digest']}"
    assert storefront.outputs["tag"] == f"{REPO}:git-3f2c1ab"


def test_mirror_copies_the_upstream_image_into_the_stack_registry(mirror):
    build = mirror.one(BUILD).inputs
    assert build["dockerfile"] == {"inline": "FROM postgres:17.6-bookworm\n"}
    assert build["context"]["location"].endswith("mirror_context")
    assert build["tags"] == [f"{REPO}:mirror-postgres-17.6-bookworm"]
    assert build["platforms"] == ["linux/amd64"]
    assert is_digest_ref(mirror.outputs["ref"]) and mirror.outputs["ref"].startswith(REPO + "@")
    assert mirror.one(BUILD).parent == mirror.one("shop:image:MirroredImage").urn


@pytest.mark.parametrize(("version", "field"), [
    ("latest", "version"), ("mirror-x", "version"), ("-v1", "version"), ("v 1", "version")])
def test_refuses_versions_that_do_not_name_one_build(version, field):
    assert_refused(lambda: StorefrontImage(
        "image", ImageArgs(repository_url=REPO, registry_id=ACCOUNT_ID, version=version)), field)


@pytest.mark.parametrize("platforms", [("linux/arm64",), ("linux/amd64", "linux/arm64")])
def test_builds_and_copies_for_the_platforms_the_nodes_run(platforms):
    """Graviton nodes need arm64 images; mixed node groups one multi-arch manifest, whose
    digest is what workloads pin."""
    built = run_component(lambda: StorefrontImage(
        "image", ImageArgs(repository_url=REPO, registry_id=ACCOUNT_ID, version="v1",
                           platforms=platforms)), "ref")
    assert built.one(BUILD).inputs["platforms"] == list(platforms)
    assert is_digest_ref(built.outputs["ref"])
    copied = run_component(lambda: MirroredImage("redis-image", MirrorArgs(
        source="redis:8.2", repository_url=REPO, registry_id=ACCOUNT_ID, platforms=platforms)))
    assert copied.one(BUILD).inputs["platforms"] == list(platforms)


@pytest.mark.parametrize("platforms", [(), ("linux/s390x",), "linux/arm64", ("arm64",)])
def test_refuses_platforms_the_nodes_cannot_run(platforms):
    assert_refused(lambda: StorefrontImage("image", ImageArgs(
        repository_url=REPO, registry_id=ACCOUNT_ID, version="v1", platforms=platforms)),
        "platforms")
    assert_refused(lambda: MirroredImage("redis-image", MirrorArgs(
        source="redis:8.2", repository_url=REPO, registry_id=ACCOUNT_ID, platforms=platforms)),
        "platforms")
