"""Which CPU architecture an EC2 instance type has, and so which node image (AMI type) it boots
and which image platforms the stack's images must be built for.

An image built for `linux/amd64` only cannot start on a Graviton node (`exec format error`), so
the image component builds for every architecture the stack's node groups run, as a multi-arch
manifest when they differ. Everything here is pure: the instance type's name is the only input.

An instance type is `<family><generation><options>.<size>`: `m7g.large`, `c6gn.xlarge`,
`t3.medium`. Graviton (arm64) types carry a `g` among their options (`t4g`, `m7gd`, `c6gn`,
`im4gn`, `hpc7g`), plus the first-generation `a1`. Mac instances run macOS, not EKS nodes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

AMD64 = "amd64"
ARM64 = "arm64"
ARCHITECTURES = (AMD64, ARM64)
# The EKS-optimised Amazon Linux 2023 images the managed node group boots, per architecture.
AMI_TYPES = {AMD64: "AL2023_x86_64_STANDARD", ARM64: "AL2023_ARM_64_STANDARD"}
INSTANCE_TYPE = re.compile(
    r"(?P<family>[a-z]+)(?P<generation>\d+)(?P<options>[a-z-]*)\.(?P<size>[a-z0-9]+)")
_ARM_WITHOUT_OPTION = frozenset({"a1"})
_NOT_EKS_NODES = frozenset({"mac"})


class UnknownArchitecture(ValueError):
    """An instance type that no EKS node group of this stack can run."""


def architecture_of(instance_type: str) -> str:
    """`m7g.large` -> `arm64`, `t3.medium` -> `amd64`; refuses what is not an EKS node type."""
    match = INSTANCE_TYPE.fullmatch(instance_type)
    if match is None:
        raise UnknownArchitecture(
            f"node_instance_type must be an EC2 instance type like 't3.medium' or 'm7g.large', "
            f"got {instance_type!r}")
    family = match["family"]
    if family in _NOT_EKS_NODES:
        raise UnknownArchitecture(
            f"node_instance_type {instance_type!r} is a Mac instance, which cannot be an EKS "
            "node: choose an x86_64 (like 't3.medium') or Graviton (like 'm7g.large') type")
    if f"{family}{match['generation']}" in _ARM_WITHOUT_OPTION or "g" in match["options"]:
        return ARM64
    return AMD64


def ami_type_for(instance_type: str) -> str:
    return AMI_TYPES[architecture_of(instance_type)]


def image_platforms(instance_types: Iterable[str]) -> tuple[str, ...]:
    """The `linux/<arch>` platforms images must be built for so that every node can run them:
    one per architecture among the node groups' instance types, in a stable order."""
    architectures = {architecture_of(instance_type) for instance_type in instance_types}
    if not architectures:
        raise UnknownArchitecture("node_instance_type: at least one node group instance type "
                                  "is needed to know which platforms to build images for")
    return tuple(f"linux/{arch}" for arch in ARCHITECTURES if arch in architectures)
