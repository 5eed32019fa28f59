"""Every Kubernetes object the program renders for dev and prod (and dev with its data in the
cluster) validates against the Kubernetes JSON schema of the stack's configured version, in
strict mode: an unknown or misspelt field fails, not just a wrong type.

The manifest is rebuilt from the inputs the mock engine recorded, which are what the
Kubernetes provider would receive (camelCase, apiVersion/kind/metadata/spec).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import kubernetes_validate
import pytest

from stacks.plan.command import run_plan
from stacks.plan.mocks import SECRET
from stacks.plan.recorded import UNKNOWN, RecordedResource
from tests.infra.conftest import stack_settings

# Not Kubernetes objects: the provider itself, and Helm releases (their charts render the
# objects inside the cluster).
NOT_OBJECTS = frozenset({"pulumi:providers:kubernetes", "kubernetes:helm.sh/v3:Release"})
# CustomResources have no schema in Kubernetes' own; their CRDs come with the charts.
# The SecretProviderClass's fields are checked in tests/infra/test_storefront_secrets.py,
# Karpenter's NodePool and EC2NodeClass in tests/infra/test_karpenter.py.
CUSTOM_RESOURCE_GROUPS = frozenset({"monitoring.coreos.com", "secrets-store.csi.x-k8s.io",
                                    "karpenter.sh", "karpenter.k8s.aws"})
VARIANTS = ("dev", "prod", "dev-in-cluster-data")


def render(request: pytest.FixtureRequest, variant: str
           ) -> tuple[str, list[RecordedResource]]:
    """The dev and prod plans the other platform tests share, and dev with its data in the
    cluster (shop:inClusterData), rendered here."""
    if variant == "dev-in-cluster-data":
        settings = dataclasses.replace(stack_settings("dev"), in_cluster_data=True)
        recorded = run_plan(settings)
    else:
        settings = request.getfixturevalue(f"{variant}_settings")
        recorded = request.getfixturevalue(f"{variant}_plan")
    kubernetes = [r for r in recorded.resources
                  if r.type.startswith(("kubernetes:", "pulumi:providers:kubernetes"))]
    return settings.cluster.kubernetes_version, kubernetes


def api_group(resource: RecordedResource) -> str:
    api_version = str(resource.inputs.get("apiVersion", ""))
    return api_version.split("/")[0] if "/" in api_version else ""


def manifest(resource: RecordedResource) -> dict[str, Any]:
    """The object as the API server would receive it. A Secret's data is masked in the
    recording (it is a Pulumi secret), so it is checked as an empty map; a secret annotation
    (the Ingress's origin-verify condition) is still a string, so a stand-in string."""
    document = json.loads(json.dumps(resource.inputs))
    annotations = document.get("metadata", {}).get("annotations", {})
    for key, value in annotations.items():
        if value == SECRET:
            annotations[key] = "masked-secret"
    if document.get("kind") == "Secret":
        for field in ("stringData", "data"):
            if document.get(field) == SECRET:
                document[field] = {}
    text = json.dumps(document)
    assert SECRET not in text and UNKNOWN not in text, f"{resource.name} has a masked value"
    return document


@pytest.fixture(scope="module", params=VARIANTS)
def rendered(request):
    return request.param, *render(request, request.param)


def test_every_kubernetes_object_validates_strictly(rendered):
    variant, version, resources = rendered
    objects = [r for r in resources if r.type not in NOT_OBJECTS
               and api_group(r) not in CUSTOM_RESOURCE_GROUPS]
    failures = {}
    for resource in objects:
        try:
            kubernetes_validate.validate(manifest(resource), version, strict=True)
        except (kubernetes_validate.ValidationError,
                kubernetes_validate.SchemaNotFoundError) as error:
            failures[resource.name] = getattr(error, "message", str(error))
    assert failures == {}
    kinds = {r.inputs["kind"] for r in objects}
    assert {"Namespace", "ConfigMap", "Secret", "ServiceAccount", "Job", "Deployment",
            "Service", "Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget",
            "NetworkPolicy", "StorageClass"} <= kinds, variant
    # Monitoring's own objects (its chart renders the rest inside the cluster).
    assert {"monitoring-namespace", "monitoring-grafana-admin",
            "monitoring-dashboard-storefront"} <= {r.name for r in objects}, variant
    if variant == "dev-in-cluster-data":
        assert "StatefulSet" in kinds


def test_only_known_custom_resources_are_skipped(rendered):
    _, _, resources = rendered
    skipped = {(api_group(r), r.inputs.get("kind")) for r in resources
               if r.type not in NOT_OBJECTS and api_group(r) in CUSTOM_RESOURCE_GROUPS}
    assert {("monitoring.coreos.com", "ServiceMonitor"),
            ("monitoring.coreos.com", "PrometheusRule")} <= skipped
    assert {group for group, _ in skipped} <= CUSTOM_RESOURCE_GROUPS


def test_the_validator_rejects_what_kubernetes_would():
    """The check has teeth: a misspelt field and a wrong type both fail."""
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
              "data": {"A": "1"}}
    kubernetes_validate.validate(config, "1.33", strict=True)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate({**config, "datta": {}}, "1.33", strict=True)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate({**config, "data": {"A": 1}}, "1.33", strict=True)
