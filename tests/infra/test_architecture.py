"""Which architecture an instance type has, which node image and which image platforms follow,
and the stack as a whole on Graviton nodes: the node group boots the ARM image and every image
the cluster runs is built for linux/arm64 (an amd64-only image would not start there)."""

from __future__ import annotations

import pytest

from components.architecture import (
    AMD64,
    ARM64,
    UnknownArchitecture,
    ami_type_for,
    architecture_of,
    image_platforms,
)
from stacks.plan.command import ROOT, stack_config
from stacks.plan.mocks import Recorded, run_under_mocks
from stacks.settings import Settings, SettingsError, load_from_mapping

BUILD = "docker-build:index:Image"


@pytest.mark.parametrize(("instance_type", "architecture"), [
    ("t3.medium", AMD64), ("m6i.large", AMD64), ("c7i-flex.large", AMD64), ("m7a.xlarge", AMD64),
    ("g5.xlarge", AMD64), ("g4dn.xlarge", AMD64), ("inf2.xlarge", AMD64),
    ("t4g.large", ARM64), ("m7gd.xlarge", ARM64), ("c6gn.2xlarge", ARM64), ("im4gn.large", ARM64),
    ("hpc7g.4xlarge", ARM64), ("g5g.xlarge", ARM64), ("a1.large", ARM64), ("m8g.large", ARM64),
])
def test_architecture_follows_the_instance_type(instance_type: str, architecture: str) -> None:
    assert architecture_of(instance_type) == architecture
    expected_ami = "AL2023_ARM_64_STANDARD" if architecture == ARM64 else "AL2023_x86_64_STANDARD"
    assert ami_type_for(instance_type) == expected_ami


@pytest.mark.parametrize(("types", "platforms"), [
    (["t3.medium"], ("linux/amd64",)),
    (["m7g.large"], ("linux/arm64",)),
    (["m7g.large", "t4g.small"], ("linux/arm64",)),
    # Mixed node groups: one multi-arch manifest, amd64 listed first whatever the order given.
    (["m7g.large", "t3.medium"], ("linux/amd64", "linux/arm64")),
])
def test_image_platforms_cover_every_node_groups_architecture(types, platforms) -> None:
    assert image_platforms(types) == platforms


@pytest.mark.parametrize("instance_type", ["mac2.metal", "large", "t3", ""])
def test_types_no_eks_node_can_be_are_refused_naming_the_field(instance_type: str) -> None:
    with pytest.raises(UnknownArchitecture, match="node_instance_type"):
        architecture_of(instance_type)
    with pytest.raises(UnknownArchitecture, match="node_instance_type"):
        image_platforms([])


def dev_with(**config: object) -> Settings:
    base = stack_config("dev", ROOT)
    return load_from_mapping("dev", {**base, **{f"shop:{k}": v for k, v in config.items()}})


def test_settings_refuse_a_mac_node_type_naming_the_setting_and_what_it_accepts() -> None:
    with pytest.raises(SettingsError) as raised:
        dev_with(nodeInstanceType="mac2.metal")
    assert str(raised.value) == (
        "shop:nodeInstanceType must be an x86_64 or Graviton (arm64) EC2 instance type an EKS "
        "node can be, like 't3.medium' or 'm7g.large', got 'mac2.metal'")


@pytest.fixture(scope="module")
def graviton_dev() -> Recorded:
    settings = dev_with(nodeInstanceType="t4g.medium")
    from stacks import compose
    return run_under_mocks(lambda: compose.build(settings), stack="dev")


def test_graviton_nodes_boot_the_arm_image(graviton_dev: Recorded) -> None:
    group = graviton_dev.one("aws:eks/nodeGroup:NodeGroup").inputs
    assert group["instanceTypes"] == ["t4g.medium"]
    assert group["amiType"] == "AL2023_ARM_64_STANDARD"


def test_every_image_is_built_for_the_graviton_nodes(graviton_dev: Recorded) -> None:
    builds = {r.name: r.inputs["platforms"] for r in graviton_dev.of_type(BUILD)}
    # The storefront, and dev's copies of PostgreSQL and Redis its previews run.
    assert builds == {"storefront-image-build": ["linux/arm64"],
                      "postgres-image-build": ["linux/arm64"],
                      "redis-image-build": ["linux/arm64"]}
    # What the previews on this cluster build their own image for.
    assert graviton_dev.outputs["imagePlatforms"] == ["linux/arm64"]


def test_x86_nodes_keep_amd64_images(dev_plan: Recorded) -> None:
    assert {tuple(r.inputs["platforms"]) for r in dev_plan.of_type(BUILD)} == {("linux/amd64",)}
    assert dev_plan.outputs["imagePlatforms"] == ["linux/amd64"]


@pytest.mark.parametrize(("base_platforms", "built"), [
    (["linux/arm64"], ["linux/arm64"]),
    (["linux/amd64", "linux/arm64"], ["linux/amd64", "linux/arm64"]),
    # A base stack deployed before it exported imagePlatforms ran x86_64 nodes only.
    (None, ["linux/amd64"]),
])
def test_a_preview_builds_for_its_base_clusters_platforms(monkeypatch, base_platforms, built):
    """A preview's own settings know nothing of dev's nodes: the base stack's output decides."""
    from stacks.plan import mocks
    from stacks.previews import environment as preview

    real = mocks._OUTPUTS["pulumi:pulumi:StackReference"]

    def base_stack(fake, resource_id):
        state = real(fake, resource_id)
        outputs = {k: v for k, v in state["outputs"].items() if k != "imagePlatforms"}
        if base_platforms is not None:
            outputs["imagePlatforms"] = base_platforms
        return {**state, "outputs": outputs}

    monkeypatch.setitem(mocks._OUTPUTS, "pulumi:pulumi:StackReference", base_stack)
    settings = load_from_mapping("preview-42", stack_config("preview-42", ROOT))
    plan = run_under_mocks(lambda: preview.build(settings), stack="preview-42")
    assert plan.one(BUILD).inputs["platforms"] == built
