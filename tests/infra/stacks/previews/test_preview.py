"""Preview environments: the program of a `preview-<id>` stack under the mock engine (only
namespaced Kubernetes objects on the base stack's cluster, no AWS resource), its config, the
base stack's side of the contract, and `python -m stacks preview` over the Automation API."""

from __future__ import annotations

import datetime
import json
from typing import Any

import kubernetes_validate
import pytest

from stacks.__main__ import main
from stacks.plan.command import ROOT, run_plan, stack_config
from stacks.plan.mocks import Recorded, run_under_mocks
from stacks.policy import rules as policies
from stacks.previews import environment as preview
from stacks.settings import SettingsError, load_from_mapping
from tests.infra.test_k8s_schema import CUSTOM_RESOURCE_GROUPS, NOT_OBJECTS, api_group, manifest

PROVIDER = "urn:pulumi:preview-42::shop::pulumi:providers:kubernetes::base-cluster"
NAMESPACES = {"preview-42", "preview-42-data"}
BASE_REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-dev/storefront"
CREATED_AT = "2026-05-01T12:00:00Z"
# What the preview reads from its base stack, besides the kubeconfig.
BASE_OUTPUTS = {"kubeconfig", "repositoryUrl", "vpcCidr", "loadBalancerCidrs", "postgresImage",
                "redisImage"}


def preview_settings(stack: str = "preview-42", **config: Any):
    base = {**preview.generated_config(stack, stack_config("dev"), "acme/shop/dev", CREATED_AT),
            "shop:imageVersion": "git-0123456789ab", **config}
    return load_from_mapping(stack, base)


@pytest.fixture(scope="module")
def plan(tmp_path_factory) -> dict[str, Any]:
    """`python -m stacks plan preview-42 --out FILE`: no stack file, a config derived from
    Pulumi.dev.yaml."""
    out = tmp_path_factory.mktemp("plan") / "preview-42.json"
    assert not (ROOT / "Pulumi.preview-42.yaml").exists()
    assert main(["plan", "preview-42", "--out", str(out)]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return run_plan(preview_settings())


def kubernetes_objects(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if r["type"].startswith("kubernetes:")]


def test_no_aws_resource_and_no_platform_of_its_own(plan):
    types = {r["type"] for r in plan["resources"]}
    assert not {t for t in types if t.startswith(("aws:", "eks:"))}
    components = {t for t in types if t.startswith("shop:")}
    assert components == {"shop:image:StorefrontImage", "shop:in-cluster-data:InClusterData",
                          "shop:storefront:Storefront"}
    others = types - components - {t for t in types if t.startswith("kubernetes:")}
    assert others == {"pulumi:providers:kubernetes", "random:index/randomPassword:RandomPassword",
                      "docker-build:index:Image"}


def test_every_kubernetes_object_is_namespaced_on_the_base_cluster(plan):
    objects = kubernetes_objects(plan)
    assert len(objects) > 20
    for record in objects:
        assert record["options"]["provider"] == PROVIDER, record["name"]
        metadata = record["inputs"]["metadata"]
        if record["type"] == "kubernetes:core/v1:Namespace":
            continue
        assert metadata["namespace"] in NAMESPACES, record["name"]
    namespaces = [r for r in objects if r["type"] == "kubernetes:core/v1:Namespace"]
    assert sorted(r["inputs"]["metadata"]["name"] for r in namespaces) == sorted(NAMESPACES)
    (provider,) = [r for r in plan["resources"] if r["type"] == "pulumi:providers:kubernetes"]
    assert provider["inputs"] == {"kubeconfig": "[secret]"}
    assert provider["options"]["dependencies"] == [
        "urn:pulumi:preview-42::shop::pulumi:pulumi:StackReference::base"]


def test_namespaces_carry_the_preview_and_its_expiry(recorded):
    for namespace in recorded.of_type("kubernetes:core/v1:Namespace"):
        labels = namespace.inputs["metadata"]["labels"]
        assert labels["shop/preview"] == "42"
        assert labels["shop/expires-at"] == "20260508T120000Z"  # created + 7 days
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert recorded.outputs["createdAt"] == CREATED_AT
    assert recorded.outputs["expiresAt"] == "2026-05-08T12:00:00Z"


def test_the_storefront_answers_at_its_preview_host(recorded):
    ingress = recorded.one("kubernetes:networking.k8s.io/v1:Ingress").inputs
    assert [rule["host"] for rule in ingress["spec"]["rules"]] == [
        "pr-42.preview.shop.example.com"]
    assert ingress["metadata"]["namespace"] == "preview-42"
    config = recorded.one("kubernetes:core/v1:ConfigMap").inputs["data"]
    assert config["PUBLIC_BASE_URL"] == "http://pr-42.preview.shop.example.com"
    # Only the ALB sits in front of a preview; no assets bucket, so no AWS access at all.
    assert config["TRUSTED_PROXY_COUNT"] == "1"
    assert "MEDIA_BUCKET" not in config
    account = recorded.one("kubernetes:core/v1:ServiceAccount").inputs["metadata"]
    assert "annotations" not in account
    assert recorded.outputs["url"] == "http://pr-42.preview.shop.example.com"
    assert recorded.outputs["namespace"] == "preview-42"
    assert recorded.outputs["baseStack"] == "acme/shop/dev"


def test_images_come_from_the_base_stacks_registry(recorded):
    build = recorded.one("docker-build:index:Image").inputs
    assert build["tags"] == [f"{BASE_REPOSITORY}:preview-42-git-0123456789ab"]
    assert build["push"] is True
    images = {container["name"]: container["image"]
              for record in recorded.resources if record.type.startswith("kubernetes:apps")
              for container in record.inputs["spec"]["template"]["spec"]["containers"]}
    for name in ("storefront", "postgres", "redis"):
        assert images[name].startswith(f"{BASE_REPOSITORY}@sha256:"), name
    assert recorded.outputs["storefrontImage"] == images["storefront"]


def test_the_network_policies_use_the_base_vpc(recorded):
    policies_by_name = {r.name: r.inputs["spec"] for r in recorded.of_type(
        "kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    web = policies_by_name["storefront-web-ingress"]["ingress"][0]["from"]
    # The base VPC's public subnets (two AZs), the first repeated for the missing third.
    assert [peer["ipBlock"]["cidr"] for peer in web] == [
        "10.10.16.0/22", "10.10.48.0/22", "10.10.16.0/22"]
    data = policies_by_name["data-postgres-ingress"]["ingress"][0]["from"][0]
    assert data["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "preview-42"}


def test_every_kubernetes_object_validates_strictly(recorded):
    version = preview_settings().cluster.kubernetes_version
    objects = [r for r in recorded.resources if r.type.startswith("kubernetes:")
               and r.type not in NOT_OBJECTS and api_group(r) not in CUSTOM_RESOURCE_GROUPS]
    failures = {}
    for resource in objects:
        try:
            kubernetes_validate.validate(manifest(resource), version, strict=True)
        except (kubernetes_validate.ValidationError,
                kubernetes_validate.SchemaNotFoundError) as error:
            failures[resource.name] = getattr(error, "message", str(error))
    assert len(objects) > 20
    assert failures == {}


def test_the_preview_passes_the_policies(recorded):
    findings = policies.check(recorded, policies.Context(environment="preview"))
    assert policies.blocking(findings) == []


def test_another_base_stack_is_another_cluster_and_registry():
    recorded = run_plan(preview_settings(**{"shop:baseStack": "acme/shop/staging"}))
    build = recorded.one("docker-build:index:Image").inputs
    assert build["tags"] == [BASE_REPOSITORY.replace("shop-dev", "shop-staging")
                             + ":preview-42-git-0123456789ab"]


def test_the_dev_stack_exports_what_previews_read(dev_plan: Recorded):
    """The other side of the StackReference: what the mock base stack answers must be what
    compose.py exports from a stack that hosts previews."""
    assert set(dev_plan.outputs) >= BASE_OUTPUTS
    assert dev_plan.outputs["vpcCidr"] == "10.10.0.0/16"
    assert dev_plan.outputs["loadBalancerCidrs"] == ["10.10.16.0/22", "10.10.48.0/22"]
    mirrors = {r.name for r in dev_plan.of_type("shop:image:MirroredImage")}
    assert mirrors == {"postgres-image", "redis-image"}
    assert dev_plan.outputs["postgresImage"].startswith(
        f"{BASE_REPOSITORY}@sha256:")


@pytest.mark.parametrize(("stack", "config", "problems"), [
    ("preview-42", {"shop:previewDomain": "", "shop:previewCreatedAt": ""}, [
        "shop:previewDomain must be set for a preview",
        "shop:previewCreatedAt must be set for a preview"]),
    ("preview-Not_An_Id", {}, ["stack 'preview-Not_An_Id' is a preview environment, so its "
                               "name must be preview-<id>"]),
])
def test_an_incomplete_preview_defines_no_resource(stack, config, problems):
    raised: list[SettingsError] = []

    def program() -> None:
        from stacks import compose

        base = {**preview.generated_config("preview-1", stack_config("dev"), "dev",
                                           CREATED_AT), **config}
        try:
            compose.build(load_from_mapping(stack, base))
        except SettingsError as error:
            raised.append(error)

    assert run_under_mocks(program, stack=stack).resources == []
    for found, expected in zip(raised[0].problems, problems, strict=True):
        assert found.startswith(expected)


def test_the_generated_config_comes_from_the_base_stack_file():
    config = preview.generated_config("preview-7", stack_config("dev"), "acme/shop/dev",
                                      CREATED_AT)
    assert config == {
        "aws:region": "us-east-1", "shop:owner": "platform-team", "shop:costCenter": "shop-dev",
        "shop:previewDomain": "preview.shop.example.com", "shop:environment": "preview",
        "shop:baseStack": "acme/shop/dev", "shop:previewCreatedAt": CREATED_AT}
    with pytest.raises(ValueError, match="'staging' is not a preview stack"):
        preview.generated_config("staging", {}, "dev")


@pytest.mark.parametrize(("id_", "valid"), [
    ("42", True), ("feature-x", True), ("a", True), ("-1", False), ("A1", False),
    ("x" * 21, False), ("1_2", False),
])
def test_preview_ids_are_short_dns_labels(id_: str, valid: bool):
    assert (preview.preview_id(f"preview-{id_}") == id_) is valid


def test_settings_accept_a_yaml_timestamp():
    moment = datetime.datetime(2026, 5, 1, 12, 0, tzinfo=datetime.UTC)
    settings = preview_settings(**{"shop:previewCreatedAt": moment})
    assert settings.preview.created_at == CREATED_AT
    with pytest.raises(SettingsError, match="shop:previewCreatedAt must be a UTC time"):
        preview_settings(**{"shop:previewCreatedAt": "2026-13-01T00:00:00Z"})
