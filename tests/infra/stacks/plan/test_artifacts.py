"""What the pipelines take from the offline plan: the Kubernetes objects as manifests for
checkov, and the --target URNs that push the storefront image alone before its scan gates the
deploy."""

from __future__ import annotations

import yaml

from stacks.__main__ import main
from stacks.plan.artifacts import image_targets, kubernetes_objects, manifest_name
from stacks.plan.mocks import Recorded

PROD = "urn:pulumi:prod::shop::"


def test_every_kubernetes_object_is_written_once_and_reads_back(prod_plan: Recorded,
                                                                tmp_path, capsys) -> None:
    assert main(["manifests", "prod", "--out", str(tmp_path)]) == 0
    files = sorted(tmp_path.glob("*.yaml"))
    objects = kubernetes_objects(prod_plan)
    assert capsys.readouterr().out.strip().startswith(f"{len(objects)} Kubernetes object(s)")
    assert sorted(path.name for path in files) == sorted(manifest_name(o) for o in objects)
    documents = [yaml.safe_load(path.read_text()) for path in files]
    kinds = {document["kind"] for document in documents}
    assert {"Deployment", "Service", "Ingress", "NetworkPolicy", "Secret", "Job"} <= kinds
    assert all(document["metadata"]["name"] for document in documents)
    # Helm releases are no objects; secrets are masked, never written.
    assert not any(document.get("kind") == "Release" for document in documents)
    written = "".join(path.read_text() for path in files)
    assert "[secret]" not in written and "mock-secret-" not in written


def test_image_targets_are_the_image_what_it_needs_and_their_parents(prod_plan: Recorded) -> None:
    assert image_targets(prod_plan) == [
        f"{PROD}shop:image:StorefrontImage$docker-build:index:Image::storefront-image-build",
        f"{PROD}shop:image:StorefrontImage::storefront-image",
        f"{PROD}shop:registry:Registry$aws:ecr/repository:Repository::registry-repository",
        f"{PROD}shop:registry:Registry$aws:kms/key:Key::registry-key",
        f"{PROD}shop:registry:Registry::registry",
    ]


def test_image_targets_command_prints_flags_and_the_repository(capsys) -> None:
    assert main(["image-targets", "dev"]) == 0
    lines = capsys.readouterr().out.split()
    assert lines[0] == ("--target=urn:pulumi:dev::shop::shop:image:StorefrontImage"
                        "$docker-build:index:Image::storefront-image-build")
    assert all(line.startswith("--target=urn:pulumi:dev::shop::") for line in lines)
    assert main(["image-targets", "dev", "--repository"]) == 0
    assert capsys.readouterr().out == "shop-dev/storefront\n"
