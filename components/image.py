"""Images the cluster runs, all pushed to the stack's ECR repository and referred to by
digest, never by a mutable tag:

- `StorefrontImage`: the repository's Dockerfile built with BuildKit;
- `MirroredImage`: a third-party image (PostgreSQL, Redis for in-cluster data) copied into
  the stack's registry, so nodes pull only from ECR and the platform's image policy holds.

The repository's tags are immutable: a `version` names one build (a commit or a release).
Both are built for the platforms the cluster's nodes run (components/architecture.py): one, or
a multi-arch manifest when the node groups mix x86_64 and Graviton. A multi-arch build on an
x86_64 machine emulates arm64 with QEMU (binfmt), which the deploying machine must register.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build

# The build context is the repository root, expressed relative to the working directory so
# no machine's absolute path ends up in a plan or in the state.
REPO_ROOT = Path(__file__).resolve().parent.parent
MIRROR_CONTEXT = Path(__file__).resolve().parent / "mirror_context"
DEFAULT_PLATFORMS = ("linux/amd64",)
SUPPORTED_PLATFORMS = ("linux/amd64", "linux/arm64")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST_REF = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")
_SOURCE = re.compile(r"^[a-z0-9]+(?:[._/-][a-z0-9]+)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class ImageArgs:
    repository_url: pulumi.Input[str]
    # The ECR registry (account) id, for the registry credentials.
    registry_id: pulumi.Input[str]
    # The image tag: a release ("v1.4.0") or a commit ("git-3f2c1ab"), unique per build.
    version: str
    context: str = field(default_factory=lambda: os.path.relpath(REPO_ROOT))
    dockerfile: str = "Dockerfile"
    labels: Mapping[str, str] = field(default_factory=dict)
    # What the nodes run (Cluster.image_platforms); a preview reads its base stack's.
    platforms: pulumi.Input[Sequence[str]] = DEFAULT_PLATFORMS


def validate_platforms(platforms: pulumi.Input[Sequence[str]]) -> None:
    """Known only when given as a list (a preview's come from its base stack, already checked)."""
    if isinstance(platforms, pulumi.Output):
        return
    if (isinstance(platforms, str) or not isinstance(platforms, Sequence) or not platforms
            or any(platform not in SUPPORTED_PLATFORMS for platform in platforms)):
        raise ValueError(f"platforms must be one or more of {', '.join(SUPPORTED_PLATFORMS)}, "
                         f"got {platforms!r}")


def validate(args: ImageArgs) -> None:
    validate_platforms(args.platforms)
    if not _TAG.fullmatch(args.version):
        raise ValueError("version must be a Docker tag (letters, digits, '_', '.', '-', at most "
                         f"128 characters, not starting with '.' or '-'), got {args.version!r}")
    if args.version == "latest" or args.version.startswith("mirror-"):
        raise ValueError("version must name a storefront build, not 'latest' or a 'mirror-' "
                         f"tag, got {args.version!r}")


def digest_ref(repository_url: str, digest: str) -> str:
    """`<repo>@sha256:<hex>`: the exact image the registry stored, whatever the tags do."""
    ref = f"{repository_url}@{digest}"
    if not _DIGEST_REF.fullmatch(ref):
        raise ValueError(f"expected a sha256 digest for {repository_url}, got {digest!r}")
    return ref


def registry_host(repository_url: str) -> str:
    """`1234.dkr.ecr.eu-west-1.amazonaws.com/shop` -> `1234.dkr.ecr.eu-west-1.amazonaws.com`."""
    return repository_url.split("/", 1)[0]


def is_digest_ref(ref: str) -> bool:
    return bool(_DIGEST_REF.fullmatch(ref))


def mirror_tag(source: str) -> str:
    """`postgres:17.6-bookworm` -> `mirror-postgres-17.6-bookworm`."""
    if not _SOURCE.fullmatch(source):
        raise ValueError(f"source must be an image with a version tag like "
                         f"'postgres:17.6-bookworm', got {source!r}")
    if source.endswith(":latest"):
        raise ValueError(f"source must pin a version, not 'latest', got {source!r}")
    return "mirror-" + re.sub(r"[/:]", "-", source)


def _push(name: str, parent: pulumi.Resource, repository_url: pulumi.Input[str],
          registry_id: pulumi.Input[str], tag: str, context: str,
          dockerfile: docker_build.DockerfileArgs, labels: Mapping[str, str],
          platforms: pulumi.Input[Sequence[str]],
          ) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
    """Build for the nodes' platforms and push `<repo>:<tag>` (a manifest list when there are
    several, whose digest is what workloads pin); returns (ref, digest)."""
    auth = aws.ecr.get_authorization_token_output(registry_id=registry_id)
    image = docker_build.Image(
        f"{name}-build",
        context=docker_build.BuildContextArgs(location=context),
        dockerfile=dockerfile,
        labels=dict(labels),
        platforms=pulumi.Output.from_input(platforms).apply(
            lambda names: [docker_build.Platform(name) for name in names]),
        tags=[pulumi.Output.concat(repository_url, ":", tag)],
        push=True,
        # A preview needs no Docker daemon: the digest is unknown until the push anyway.
        build_on_preview=False,
        registries=[docker_build.RegistryArgs(
            address=pulumi.Output.from_input(repository_url).apply(registry_host),
            username=auth.user_name,
            password=pulumi.Output.secret(auth.password),
        )],
        opts=pulumi.ResourceOptions(parent=parent),
    )
    ref = pulumi.Output.all(repository_url, image.digest).apply(
        lambda values: digest_ref(values[0], values[1]))
    return ref, image.digest


class StorefrontImage(pulumi.ComponentResource):
    """Outputs: `ref` (repo@sha256:..., what workloads run), `digest`, `tag` (repo:version)."""

    ref: pulumi.Output[str]
    digest: pulumi.Output[str]
    tag: pulumi.Output[str]

    def __init__(self, name: str, args: ImageArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        validate(args)
        super().__init__("shop:image:StorefrontImage", name, None, opts)
        self.tag = pulumi.Output.concat(args.repository_url, ":", args.version)
        self.ref, self.digest = _push(
            name, self, args.repository_url, args.registry_id, args.version,
            context=args.context,
            dockerfile=docker_build.DockerfileArgs(
                location=os.path.join(args.context, args.dockerfile)),
            labels={"org.opencontainers.image.version": args.version, **args.labels},
            platforms=args.platforms)
        self.register_outputs({"ref": self.ref, "digest": self.digest, "tag": self.tag})


@dataclass(frozen=True)
class MirrorArgs:
    # A public image with a version tag, e.g. "postgres:17.6-bookworm".
    source: str
    repository_url: pulumi.Input[str]
    registry_id: pulumi.Input[str]
    platforms: Sequence[str] = DEFAULT_PLATFORMS


class MirroredImage(pulumi.ComponentResource):
    """Outputs: `ref` (repo@sha256:...) and `digest` of the copy in the stack's registry."""

    ref: pulumi.Output[str]
    digest: pulumi.Output[str]

    def __init__(self, name: str, args: MirrorArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        tag = mirror_tag(args.source)
        validate_platforms(args.platforms)
        super().__init__("shop:image:MirroredImage", name, None, opts)
        self.ref, self.digest = _push(
            name, self, args.repository_url, args.registry_id, tag,
            # The copy is the upstream image, layer for layer; its context never changes.
            context=os.path.relpath(MIRROR_CONTEXT),
            dockerfile=docker_build.DockerfileArgs(inline=f"FROM {args.source}\n"),
            labels={"org.opencontainers.image.base.name": args.source},
            platforms=args.platforms)
        self.register_outputs({"ref": self.ref, "digest": self.digest})
