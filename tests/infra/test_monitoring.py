"""The monitoring stack under the mock engine (the Helm release's values, its Secrets, the
PrometheusRule and the dashboards' ConfigMaps), and the dashboard files themselves."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
import yaml

from components.irsa import OidcProvider, trust_policy
from components.monitoring import (
    CHART_VERSION,
    CLOUDWATCH_READ_ACTIONS,
    CloudWatchAccess,
    Monitoring,
    MonitoringArgs,
    SmtpRelay,
    receivers_secret_data,
)
from components.monitoring_values import secret_file
from stacks.plan.mocks import ACCOUNT_ID, SECRET
from tests.infra.component_support import (
    PROD_TAGS,
    all_inputs,
    assert_no_secret_values,
    assert_refused,
    assert_well_formed,
    run_component,
)
from tests.infra.test_alert_rules import CONTRACT_METRICS, metric_names

TOKEN = "shop:monitoring:Monitoring"
RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET_TYPE = "kubernetes:core/v1:Secret"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
ASSETS = Path(__file__).resolve().parents[2] / "components" / "monitoring_assets"
DASHBOARD_FILES = sorted((ASSETS / "dashboards").glob("*.json"))

# Known values fed in as plain strings: the component must make them secret on its own.
WEBHOOK = "https://hooks.slack.com/services/T0SHOP/B0ALERTS/known-webhook-token-123"
SMTP_PASSWORD = "known-smtp-password-456"  # noqa: S105 - a test value to search leaks for
RUNBOOKS = "https://github.com/acme/shop/blob/main/"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
OIDC_ARN = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{ISSUER}"
OUTPUTS = ("namespace", "release_name", "prometheus_url", "alertmanager_url", "grafana_service",
           "grafana_url", "grafana_admin_secret", "rule_name", "cloudwatch_role_arn")

PROD = MonitoringArgs(
    cluster_name="shop-prod", environment="prod", kubernetes_version="1.33", storage_class="gp3",
    runbook_base_url=RUNBOOKS, tags=PROD_TAGS, retention_days=30, prometheus_volume_gib=100,
    prometheus_replicas=2, alertmanager_replicas=2,
    slack_webhook_url=WEBHOOK, slack_channel="#shop-alerts",
    alert_email="oncall@example.com,platform@example.com",
    smtp=SmtpRelay("email-smtp.us-east-1.amazonaws.com:587", "alerts@shop.example.com",
                   "AKIAEXAMPLESMTPUSER", SMTP_PASSWORD),
    cloudwatch=CloudWatchAccess(OidcProvider(arn=OIDC_ARN, issuer_url=ISSUER), "us-east-1"),
)
DEV = MonitoringArgs(cluster_name="shop-dev", environment="dev", kubernetes_version="1.33",
                     storage_class="gp3",
                     runbook_base_url=RUNBOOKS, tags={**PROD_TAGS, "Environment": "dev"},
                     grafana_enabled=False)


@pytest.fixture(scope="module")
def prod():
    return run_component(lambda: Monitoring("monitoring", PROD), *OUTPUTS)


@pytest.fixture(scope="module")
def dev():
    return run_component(lambda: Monitoring("monitoring", DEV), *OUTPUTS)


def values(recorded) -> dict:
    return recorded.one(RELEASE).inputs["values"]


def secret(recorded, name):
    (found,) = [r for r in recorded.of_type(SECRET_TYPE)
                if r.inputs["metadata"]["name"] == name]
    return found


# --- the release ---------------------------------------------------------------------------

def test_children_belong_to_the_component_and_aws_ones_are_tagged(prod):
    assert_well_formed(prod, TOKEN, PROD_TAGS)


def test_release_is_the_pinned_chart_in_the_monitoring_namespace(prod):
    release = prod.one(RELEASE).inputs
    assert re.fullmatch(r"\d+\.\d+\.\d+", CHART_VERSION)
    assert (release["chart"], release["version"]) == ("kube-prometheus-stack", CHART_VERSION)
    assert release["repositoryOpts"] == {
        "repo": "https://prometheus-community.github.io/helm-charts"}
    assert release["namespace"] == "monitoring" and release["atomic"] is True
    namespace = prod.one("kubernetes:core/v1:Namespace").inputs["metadata"]
    assert namespace["name"] == "monitoring"
    # node-exporter needs host access; no other namespace of ours allows it.
    assert namespace["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def test_prometheus_keeps_its_data_on_a_gp3_volume_for_the_retention(prod):
    spec = values(prod)["prometheus"]["prometheusSpec"]
    assert (spec["retention"], spec["retentionSize"], spec["replicas"]) == ("30d", "85GiB", 2)
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"] == {
        "storageClassName": "gp3", "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "100Gi"}}}
    assert spec["externalLabels"] == {"cluster": "shop-prod", "environment": "prod"}


def test_replicated_prometheus_and_alertmanager_keep_one_pod_through_a_drain(prod, dev):
    for recorded, enabled in ((prod, True), (dev, False)):
        for component in ("prometheus", "alertmanager"):
            assert values(recorded)[component]["podDisruptionBudget"] == {
                "enabled": enabled, "minAvailable": 1}, component
    assert values(prod)["alertmanager"]["alertmanagerSpec"]["replicas"] == 2


def test_prometheus_selects_monitors_and_rules_of_every_release(prod):
    spec = values(prod)["prometheus"]["prometheusSpec"]
    for kind in ("serviceMonitor", "podMonitor", "probe", "scrapeConfig", "rule"):
        assert spec[f"{kind}SelectorNilUsesHelmValues"] is False, kind


def test_eks_control_plane_targets_and_their_rules_are_off(prod):
    chart = values(prod)
    for component in ("kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"):
        assert chart[component] == {"enabled": False}, component
    rules = chart["defaultRules"]["rules"]
    assert not any(rules[key] for key in ("etcd", "kubeControllerManager", "kubeProxy",
                                          "kubeSchedulerAlerting", "kubeSchedulerRecording"))


def test_crds_are_upgraded_server_side_by_the_chart_job_with_pinned_images(prod):
    crds = values(prod)["crds"]
    assert crds["enabled"] is True
    assert crds["upgradeJob"]["enabled"] is True and crds["upgradeJob"]["forceConflicts"]
    assert crds["upgradeJob"]["image"]["busybox"]["tag"] != "latest"
    # Not the API server's "v1.33.5-eks-..." version, which no kubectl image carries.
    assert crds["upgradeJob"]["image"]["kubectl"]["tag"] == "v1.33.0"
    assert prod.one(RELEASE).inputs.get("skipCrds") is False
    assert '"latest"' not in json.dumps(values(prod))


# --- secrets -------------------------------------------------------------------------------

def test_no_secret_value_appears_in_clear_anywhere(prod):
    for recorded_text in (all_inputs(prod), json.dumps(prod.outputs, default=str)):
        assert WEBHOOK not in recorded_text and "known-webhook-token" not in recorded_text
        assert SMTP_PASSWORD not in recorded_text
    assert_no_secret_values(prod)


def test_receiver_secrets_are_in_a_secret_the_alertmanager_pods_mount(prod):
    receivers = secret(prod, "alertmanager-receivers")
    assert receivers.inputs["stringData"] == SECRET
    assert set(receivers.options.additional_secret_outputs) == {"data", "stringData"}
    assert receivers_secret_data(PROD) == {"slack-webhook-url": WEBHOOK,
                                           "smtp-password": SMTP_PASSWORD}
    chart = values(prod)["alertmanager"]
    assert chart["alertmanagerSpec"]["secrets"] == ["alertmanager-receivers"]
    # Alertmanager reads each key as a file where the operator mounts the Secret.
    settings = chart["config"]["global"]
    assert settings["slack_api_url_file"] == secret_file("slack-webhook-url") == (
        "/etc/alertmanager/secrets/alertmanager-receivers/slack-webhook-url")
    assert settings["smtp_auth_password_file"] == secret_file("smtp-password")
    assert (settings["smtp_smarthost"], settings["smtp_from"], settings["smtp_require_tls"]) == (
        "email-smtp.us-east-1.amazonaws.com:587", "alerts@shop.example.com", True)
    # The release waits for the Secret its pods mount.
    assert receivers.urn in prod.one(RELEASE).options.dependencies


def test_grafana_admin_password_is_generated_and_kept_in_a_secret(prod):
    password = prod.one("random:index/randomPassword:RandomPassword")
    assert password.inputs["length"] >= 32
    admin = secret(prod, "grafana-admin")
    assert admin.inputs["stringData"] == SECRET
    assert password.urn in admin.options.dependencies
    assert values(prod)["grafana"]["admin"] == {
        "existingSecret": "grafana-admin", "userKey": "admin-user",
        "passwordKey": "admin-password"}
    assert "adminPassword" not in values(prod)["grafana"]
    assert admin.urn in prod.one(RELEASE).options.dependencies


# --- routing -------------------------------------------------------------------------------

def test_critical_alerts_page_slack_and_email_warnings_go_to_slack(prod):
    config = values(prod)["alertmanager"]["config"]
    receivers = {receiver["name"]: receiver for receiver in config["receivers"]}
    assert receivers["page"]["slack_configs"][0]["channel"] == "#shop-alerts"
    assert receivers["page"]["email_configs"] == [
        {"to": "oncall@example.com,platform@example.com", "send_resolved": True}]
    assert "email_configs" not in receivers["ticket"] and receivers["ticket"]["slack_configs"]
    assert config["route"]["receiver"] == "ticket"
    critical = [route for route in config["route"]["routes"]
                if route["matchers"] == ['severity = "critical"']]
    assert [route["receiver"] for route in critical] == ["page"]


def test_without_receivers_or_grafana_nothing_secret_is_created(dev):
    assert dev.of_type(SECRET_TYPE) == [] and dev.of_type(CONFIG_MAP) == []
    assert dev.of_type("random:index/randomPassword:RandomPassword") == []
    chart = values(dev)
    assert chart["grafana"]["enabled"] is False
    assert "secrets" not in chart["alertmanager"]["alertmanagerSpec"]
    config = chart["alertmanager"]["config"]
    assert config["route"]["receiver"] == "null" and config["receivers"] == [{"name": "null"}]
    assert dev.outputs["grafana_url"] == "" and dev.outputs["grafana_admin_secret"] == ""
    assert dev.outputs["grafana_service"] == ""


# --- rules and dashboards ------------------------------------------------------------------

def test_prometheus_rule_carries_the_rule_file_with_absolute_runbooks(prod):
    rule = prod.one(RULE)
    expected = yaml.safe_load((ASSETS / "storefront.rules.yml").read_text())["groups"]
    for group in expected:
        for entry in group["rules"]:
            if "runbook_url" in entry.get("annotations", {}):
                entry["annotations"]["runbook_url"] = RUNBOOKS + entry["annotations"]["runbook_url"]
    assert rule.inputs["spec"]["groups"] == expected
    assert rule.inputs["metadata"]["namespace"] == "monitoring"
    assert prod.one(RELEASE).urn in rule.options.dependencies
    assert prod.outputs["rule_name"] == "storefront"


def test_dashboards_are_configmaps_the_grafana_sidecar_loads(prod):
    maps = {m.inputs["metadata"]["name"]: m.inputs for m in prod.of_type(CONFIG_MAP)}
    assert set(maps) == {f"dashboard-{path.stem}" for path in DASHBOARD_FILES}
    sidecar = values(prod)["grafana"]["sidecar"]["dashboards"]
    for path in DASHBOARD_FILES:
        config_map = maps[f"dashboard-{path.stem}"]
        assert config_map["metadata"]["labels"][sidecar["label"]] == sidecar["labelValue"]
        assert config_map["metadata"]["annotations"] == {sidecar["folderAnnotation"]: "Shop"}
        assert json.loads(config_map["data"][f"{path.stem}.json"]) == json.loads(
            path.read_text())
    assert sidecar["searchNamespace"] == "monitoring"
    assert values(prod)["grafana"]["rbac"] == {"namespaced": True}


def test_grafana_reads_cloudwatch_through_its_own_irsa_role(prod):
    role = prod.one("aws:iam/role:Role").inputs
    assert json.loads(role["assumeRolePolicy"]) == json.loads(
        trust_policy(OIDC_ARN, ISSUER, "monitoring", "grafana"))
    policy = json.loads(prod.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert [statement["Action"] for statement in policy["Statement"]] == [
        list(CLOUDWATCH_READ_ACTIONS)]
    grafana = values(prod)["grafana"]
    assert grafana["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": prod.outputs["cloudwatch_role_arn"]}
    (source,) = grafana["additionalDataSources"]
    assert (source["uid"], source["type"], source["jsonData"]) == (
        "cloudwatch", "cloudwatch", {"authType": "default", "defaultRegion": "us-east-1"})


def test_without_cloudwatch_the_aws_dashboard_and_role_are_left_out():
    args = dataclasses.replace(PROD, cloudwatch=None)
    recorded = run_component(lambda: Monitoring("monitoring", args), *OUTPUTS)
    names = {m.inputs["metadata"]["name"] for m in recorded.of_type(CONFIG_MAP)}
    assert "dashboard-aws-data-tier" not in names and "dashboard-storefront" in names
    assert recorded.of_type("aws:iam/role:Role") == []
    assert "additionalDataSources" not in values(recorded)["grafana"]


def test_outputs_name_the_in_cluster_services(prod):
    assert prod.outputs["prometheus_url"] == "http://kps-prometheus.monitoring.svc:9090"
    assert prod.outputs["alertmanager_url"] == "http://kps-alertmanager.monitoring.svc:9093"
    assert prod.outputs["grafana_url"] == "http://kps-grafana.monitoring.svc:80"
    assert prod.outputs["grafana_service"] == "kps-grafana"
    assert prod.outputs["grafana_admin_secret"] == "grafana-admin"


# --- argument checks -----------------------------------------------------------------------

@pytest.mark.parametrize(("change", "field"), [
    ({"namespace": "Monitoring"}, "namespace"),
    ({"kubernetes_version": "1.33.5-eks"}, "kubernetes_version"),
    ({"storage_class": ""}, "storage_class"),
    ({"runbook_base_url": "http://example.com/shop"}, "runbook_base_url"),
    ({"retention_days": 0}, "retention_days"),
    ({"prometheus_volume_gib": 5}, "prometheus_volume_gib"),
    ({"slack_channel": "shop-alerts"}, "slack_channel"),
    ({"slack_webhook_url": "http://hooks.slack.com/x"}, "slack_webhook_url"),
    ({"alert_email": "not-an-address"}, "alert_email"),
    ({"smtp": None}, "smtp"),
    ({"smtp": SmtpRelay("smtp.example.com", "a@example.com", "u", "p")}, "smtp.smarthost"),
    ({"cloudwatch": CloudWatchAccess(OidcProvider(OIDC_ARN, ISSUER), "mars")},
     "cloudwatch.region"),
    ({"tags": {"Project": "shop"}}, "tags"),
])
def test_invalid_arguments_are_refused_before_any_resource(change, field):
    args = dataclasses.replace(PROD, **change)
    assert_refused(lambda: Monitoring("monitoring", args), field)


# --- the dashboard files -------------------------------------------------------------------

def dashboard_targets(board: dict):
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            yield panel, target


def recorded_series() -> set[str]:
    groups = yaml.safe_load((ASSETS / "storefront.rules.yml").read_text())["groups"]
    return {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda path: path.stem)
def test_dashboard_is_a_valid_model_on_a_data_source_variable(path):
    board = json.loads(path.read_text())
    assert board["uid"].startswith("shop-") and board["title"].startswith("Shop / ")
    assert isinstance(board["schemaVersion"], int) and board["editable"] is False
    variables = {variable["name"]: variable for variable in board["templating"]["list"]}
    sources = {name for name, variable in variables.items() if variable["type"] == "datasource"}
    assert sources, "a data source variable lets the dashboard work on any Grafana"
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]
    for panel, target in dashboard_targets(board):
        uid = target["datasource"]["uid"]
        assert uid.startswith("${") and uid[2:-1] in sources, panel["title"]
        assert panel["datasource"]["uid"] == uid, panel["title"]


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda path: path.stem)
def test_dashboard_queries_read_only_the_metrics_contract(path):
    board = json.loads(path.read_text())
    allowed = CONTRACT_METRICS | recorded_series()
    for panel, target in dashboard_targets(board):
        if target["datasource"]["type"] == "prometheus":
            unknown = metric_names(target["expr"]) - allowed
            assert not unknown, f"{panel['title']} queries {unknown}"
            assert 'job="storefront"' in target["expr"] or ":" in target["expr"], panel["title"]


def test_dashboards_cover_requests_business_and_data_tier():
    boards = {path.stem: json.loads(path.read_text()) for path in DASHBOARD_FILES}
    assert len({board["uid"] for board in boards.values()}) == len(boards)

    def queried(stem: str) -> set[str]:
        return {name for _, target in dashboard_targets(boards[stem]) if "expr" in target
                for name in metric_names(target["expr"])}

    assert {"shop_http_requests_total", "shop_http_request_duration_seconds_bucket"} <= (
        queried("storefront"))
    assert {"shop_orders_created_total", "shop_revenue_total", "shop_checkout_failures_total",
            "shop_cart_additions_total"} <= queried("business")
    assert {"shop_db_pool_connections", "shop_db_errors_total", "shop_cache_hits_total",
            "shop_cache_misses_total"} <= queried("data-tier")
    cloudwatch = {target["namespace"] for _, target in dashboard_targets(boards["aws-data-tier"])}
    assert cloudwatch == {"AWS/RDS", "AWS/ElastiCache"}
