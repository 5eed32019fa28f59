"""Monitoring in the dev and prod stacks as their files configure it: kube-prometheus-stack on
the stack's cluster, what it keeps and where its alerts go, what waits for it, and the preview
environments dev's Prometheus watches."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.storefront_pod import HTTP_PORT
from stacks.plan.command import run_plan, stack_config
from stacks.plan.mocks import SECRET, Recorded
from stacks.policy import rules as policies
from stacks.previews import environment as preview
from stacks.settings import Settings, load_from_mapping

RELEASE = "kubernetes:helm.sh/v3:Release"
MONITORING = "shop:monitoring:Monitoring"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def chart_values(plan: Recorded) -> dict[str, Any]:
    return plan.one(RELEASE, "monitoring-stack").inputs["values"]


@pytest.mark.parametrize(("stack", "retention", "volume", "replicas"), [
    ("dev", "7d", "20Gi", 1),
    ("prod", "30d", "100Gi", 2),
])
def test_the_stack_runs_prometheus_with_its_retention_on_the_addons_gp3_class(
        stack: str, retention: str, volume: str, replicas: int,
        request: pytest.FixtureRequest) -> None:
    plan: Recorded = request.getfixturevalue(f"{stack}_plan")
    release = plan.one(RELEASE, "monitoring-stack")
    assert (release.inputs["chart"], release.inputs["namespace"]) == (
        "kube-prometheus-stack", "monitoring")
    # On the stack's own cluster, once the add-ons (the EBS CSI driver, the gp3 class) exist.
    assert release.options.provider == plan.one("pulumi:providers:kubernetes").urn
    storage_class = plan.one(STORAGE_CLASS)
    assert storage_class.urn in plan.one(MONITORING).options.dependencies

    spec = chart_values(plan)["prometheus"]["prometheusSpec"]
    assert spec["retention"] == retention
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["storageClassName"] == (
        storage_class.inputs["metadata"]["name"])
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"] == {
        "requests": {"storage": volume}}
    assert spec["externalLabels"] == {"cluster": f"shop-{stack}", "environment": stack}
    assert spec["replicas"] == replicas
    assert chart_values(plan)["alertmanager"]["alertmanagerSpec"]["replicas"] == replicas


def test_prod_pages_by_email_through_its_relay(prod_plan: Recorded,
                                                prod_settings: Settings) -> None:
    config = chart_values(prod_plan)["alertmanager"]["config"]
    receivers = {receiver["name"]: receiver for receiver in config["receivers"]}
    assert receivers["page"]["email_configs"] == [
        {"to": "platform-alerts@example.com", "send_resolved": True}]
    # No Slack webhook in the repository's file, so no Slack receiver in its plan.
    assert "slack_configs" not in receivers["page"]
    smtp = prod_settings.monitoring.smtp
    assert smtp is not None
    relay = config["global"]
    assert (relay["smtp_smarthost"], relay["smtp_from"], relay["smtp_auth_username"]) == (
        smtp.smarthost, smtp.sender, smtp.username) == (
        "email-smtp.us-east-1.amazonaws.com:587", "alerts@shop.example.com",
        "AKIAIOSFODNN7EXAMPLE")
    assert relay["smtp_require_tls"] is True
    # The password only as a file from the receivers Secret, itself a Pulumi secret.
    assert relay["smtp_auth_password_file"].endswith("/alertmanager-receivers/smtp-password")
    assert prod_plan.named("monitoring-alertmanager-receivers").inputs["stringData"] == SECRET


def test_dev_routes_no_alert_and_holds_no_receiver_secret(dev_plan: Recorded) -> None:
    config = chart_values(dev_plan)["alertmanager"]["config"]
    assert config["receivers"] == [{"name": "null"}]
    secrets = {r.inputs["metadata"]["name"] for r in dev_plan.of_type("kubernetes:core/v1:Secret")
               if r.parent == dev_plan.one(MONITORING).urn}
    assert secrets == {"grafana-admin"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_alert_links_to_its_runbook_under_the_stacks_base_url(
        stack: str, request: pytest.FixtureRequest) -> None:
    plan: Recorded = request.getfixturevalue(f"{stack}_plan")
    base = request.getfixturevalue(f"{stack}_settings").monitoring.runbook_base_url
    alerts = [rule for group in plan.one(RULE).inputs["spec"]["groups"]
              for rule in group["rules"] if "alert" in rule]
    assert len(alerts) >= 10
    assert [rule["alert"] for rule in alerts
            if not rule["annotations"]["runbook_url"].startswith(f"{base}README.md#")] == []


def test_the_storefront_waits_for_monitoring_and_its_crds(dev_plan: Recorded) -> None:
    """Its ServiceMonitor is a Prometheus Operator kind: the release must be in first."""
    waits_for = set(dev_plan.one("shop:storefront:Storefront").options.dependencies)
    assert dev_plan.one(RELEASE, "monitoring-stack").urn in waits_for
    assert dev_plan.one(SERVICE_MONITOR).parent == dev_plan.one(
        "shop:storefront:Storefront").urn


def test_grafana_reads_cloudwatch_through_the_clusters_oidc_provider(
        prod_plan: Recorded) -> None:
    role = prod_plan.one("aws:iam/role:Role", "monitoring-grafana-cloudwatch-role")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Federated": prod_plan.outputs["oidcProviderArn"]}
    assert "system:serviceaccount:monitoring:grafana" in statement["Condition"][
        "StringEquals"].values()
    grafana = chart_values(prod_plan)["grafana"]
    assert grafana["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": f"arn:aws:iam::123456789012:role/{role.id}"}
    (source,) = grafana["additionalDataSources"]
    assert (source["type"], source["jsonData"]["defaultRegion"]) == ("cloudwatch", "us-east-1")


def test_operators_find_monitoring_but_not_its_password(prod_plan: Recorded) -> None:
    outputs = prod_plan.outputs
    assert {key: outputs[key] for key in (
        "monitoringNamespace", "grafanaService", "grafanaAdminSecret", "prometheusUrl",
        "alertmanagerUrl")} == {
        "monitoringNamespace": "monitoring",
        "grafanaService": "kps-grafana",
        "grafanaAdminSecret": "grafana-admin",  # the Secret's name
        "prometheusUrl": "http://kps-prometheus.monitoring.svc:9090",
        "alertmanagerUrl": "http://kps-alertmanager.monitoring.svc:9093",
    }
    assert "mock-secret-" not in json.dumps(outputs)


def test_a_preview_has_no_monitoring_of_its_own_devs_prometheus_scrapes_it(
        dev_plan: Recorded) -> None:
    config = preview.generated_config("preview-42", stack_config("dev"), "acme/shop/dev")
    plan = run_plan(load_from_mapping("preview-42", config))
    assert plan.of_type(MONITORING) == [] and plan.of_type(RELEASE) == []

    # dev's Prometheus selects ServiceMonitors of every namespace: no label filter, and no
    # namespace selector, which the chart renders as {} (all namespaces).
    spec = chart_values(dev_plan)["prometheus"]["prometheusSpec"]
    assert spec["serviceMonitorSelectorNilUsesHelmValues"] is False
    assert "serviceMonitorNamespaceSelector" not in spec
    assert plan.one(SERVICE_MONITOR).inputs["spec"]["namespaceSelector"] == {
        "matchNames": ["preview-42"]}

    # ... and the preview's pods admit dev's Prometheus on the port it scrapes.
    policy = plan.one(NETWORK_POLICY, "storefront-web-ingress").inputs["spec"]
    prometheus = {"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": dev_plan.outputs["monitoringNamespace"]}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}
    assert {"from": [prometheus], "ports": [{"port": HTTP_PORT, "protocol": "TCP"}]} in (
        policy["ingress"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_platform_rules_find_nothing_to_block_with_monitoring_in(
        stack: str, request: pytest.FixtureRequest) -> None:
    """The chart's own pods (node-exporter needs the host) render inside the cluster, out of
    the rules' sight; what the program itself creates for monitoring passes every rule."""
    plan: Recorded = request.getfixturevalue(f"{stack}_plan")
    findings = policies.check(plan, policies.Context(environment=stack))
    assert policies.blocking(findings) == []
    monitoring = plan.one(MONITORING).urn
    assert len([r for r in plan if r.parent == monitoring]) >= 10  # in what the rules saw
