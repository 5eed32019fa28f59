"""What the Monitoring component hands kube-prometheus-stack, as pure functions: the chart's
values, Alertmanager's configuration, and the storefront's rule groups from their file.

No secret ever appears here. Alertmanager reads the Slack webhook and the SMTP password from
files (`slack_api_url_file`, `smtp_auth_password_file`) that a Kubernetes Secret mounts, so
the values, which Helm keeps readable in its release record, stay clean.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ASSETS = Path(__file__).parent / "monitoring_assets"
RULE_FILE = ASSETS / "storefront.rules.yml"
DASHBOARDS = ASSETS / "dashboards"
# Dashboards reading CloudWatch; loaded only when Grafana may read CloudWatch.
CLOUDWATCH_DASHBOARDS = frozenset({"aws-data-tier"})

RELEASE = "kps"  # short: the chart prefixes every object's name with it
RECEIVERS_SECRET = "alertmanager-receivers"  # noqa: S105 - a Secret's name
GRAFANA_ADMIN_SECRET = "grafana-admin"  # noqa: S105 - a Secret's name
GRAFANA_SERVICE_ACCOUNT = "grafana"
DASHBOARD_LABEL = "grafana_dashboard"
DASHBOARD_FOLDER_ANNOTATION = "grafana_folder"
SLACK_WEBHOOK_KEY = "slack-webhook-url"
SMTP_PASSWORD_KEY = "smtp-password"  # noqa: S105 - a key name, not a password
# Pinned, as the chart's default for its CRD upgrade Job's helper is busybox:latest.
BUSYBOX_TAG = "1.37.0"


@dataclass(frozen=True)
class Receivers:
    """Where alerts go: a Slack channel, e-mail, both or (dev) nowhere but Alertmanager's UI."""

    slack_channel: str | None = None
    email_to: str | None = None
    smtp_smarthost: str | None = None
    smtp_from: str | None = None
    smtp_username: str | None = None

    @property
    def any(self) -> bool:
        return bool(self.slack_channel or self.email_to)


def secret_file(key: str) -> str:
    """Where the operator mounts a key of the receivers Secret in the Alertmanager pods."""
    return f"/etc/alertmanager/secrets/{RECEIVERS_SECRET}/{key}"


# --- rules ---------------------------------------------------------------------------------

def rule_groups(runbook_base_url: str) -> list[dict[str, Any]]:
    """The rule file's groups, each relative `runbook_url` (README.md#anchor) made absolute."""
    groups: list[dict[str, Any]] = copy.deepcopy(yaml.safe_load(RULE_FILE.read_text())["groups"])
    for group in groups:
        for rule in group["rules"]:
            annotations = rule.get("annotations", {})
            if "runbook_url" in annotations:
                annotations["runbook_url"] = runbook_base_url + annotations["runbook_url"]
    return groups


def dashboards(include_cloudwatch: bool) -> dict[str, str]:
    """Dashboard JSON by name (file stem), as the repository keeps it."""
    return {path.stem: path.read_text() for path in sorted(DASHBOARDS.glob("*.json"))
            if include_cloudwatch or path.stem not in CLOUDWATCH_DASHBOARDS}


# --- Alertmanager --------------------------------------------------------------------------

_SLACK_TITLE = ('[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}'
                '{{ end }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.namespace }})')
_SLACK_TEXT = ("{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\n"
               "<{{ .Annotations.runbook_url }}|Runbook>\n{{ end }}")


def _receiver(name: str, slack_channel: str | None, email_to: str | None) -> dict[str, Any]:
    receiver: dict[str, Any] = {"name": name}
    if slack_channel:
        receiver["slack_configs"] = [{"channel": slack_channel, "send_resolved": True,
                                      "title": _SLACK_TITLE, "text": _SLACK_TEXT}]
    if email_to:
        receiver["email_configs"] = [{"to": email_to, "send_resolved": True}]
    return receiver


def _global(receivers: Receivers) -> dict[str, Any]:
    settings: dict[str, Any] = {"resolve_timeout": "5m"}
    if receivers.slack_channel:
        settings["slack_api_url_file"] = secret_file(SLACK_WEBHOOK_KEY)
    if receivers.email_to:
        settings.update({
            "smtp_smarthost": receivers.smtp_smarthost,
            "smtp_from": receivers.smtp_from,
            "smtp_auth_username": receivers.smtp_username,
            "smtp_auth_password_file": secret_file(SMTP_PASSWORD_KEY),
            "smtp_require_tls": True,
        })
    return settings


def _inhibitions() -> list[dict[str, Any]]:
    return [
        # A critical alert silences the warning of the same name and namespace.
        {"source_matchers": ['severity = "critical"'],
         "target_matchers": ['severity =~ "warning|info"'],
         "equal": ["namespace", "alertname"]},
        # The page already says the budget burns: no ticket for the same errors.
        {"source_matchers": ['alertname = "StorefrontErrorBudgetFastBurn"'],
         "target_matchers": ['alertname =~ "StorefrontErrorBudgetSlowBurn|StorefrontHigh5xxRatio"'],
         "equal": ["namespace"]},
        # kube-prometheus-stack's InfoInhibitor mutes info alerts while nothing worse fires.
        {"source_matchers": ['alertname = "InfoInhibitor"'],
         "target_matchers": ['severity = "info"'], "equal": ["namespace"]},
    ]


def alertmanager_config(receivers: Receivers) -> dict[str, Any]:
    """Critical alerts page (Slack and e-mail), warnings open a ticket (Slack, or e-mail when
    there is no Slack). With no receiver at all, alerts stay in Alertmanager's UI."""
    default = "ticket" if receivers.any else "null"
    page = "page" if receivers.any else "null"
    routes = [
        # Watchdog always fires, to prove the pipeline works; point it at a dead man's
        # switch service when there is one.
        {"receiver": "null", "matchers": ['alertname =~ "Watchdog|InfoInhibitor"']},
        {"receiver": "null", "matchers": ['severity = "info"']},
        {"receiver": page, "matchers": ['severity = "critical"'], "repeat_interval": "1h"},
    ]
    config_receivers = [{"name": "null"}]
    if receivers.any:
        ticket_email = None if receivers.slack_channel else receivers.email_to
        config_receivers += [
            _receiver("page", receivers.slack_channel, receivers.email_to),
            _receiver("ticket", receivers.slack_channel, ticket_email),
        ]
    return {
        "global": _global(receivers),
        "route": {"receiver": default, "group_by": ["alertname", "namespace"],
                  "group_wait": "30s", "group_interval": "5m", "repeat_interval": "12h",
                  "routes": routes},
        "receivers": config_receivers,
        "inhibit_rules": _inhibitions(),
        "templates": ["/etc/alertmanager/config/*.tmpl"],
    }


# --- the chart's values --------------------------------------------------------------------

@dataclass(frozen=True)
class Storage:
    storage_class: str
    prometheus_gib: int
    alertmanager_gib: int = 2


def volume_claim(storage_class: str, gib: int) -> dict[str, Any]:
    return {"volumeClaimTemplate": {"spec": {
        "storageClassName": storage_class,
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": f"{gib}Gi"}},
    }}}


def disruption_budget(replicas: int) -> dict[str, Any]:
    """With more than one replica, a node drain must leave one running."""
    return {"enabled": replicas > 1, "minAvailable": 1}


def prometheus_values(storage: Storage, retention_days: int, replicas: int,
                      external_labels: Mapping[str, str], resources: Mapping[str, Any]
                      ) -> dict[str, Any]:
    return {"podDisruptionBudget": disruption_budget(replicas), "prometheusSpec": {
        "retention": f"{retention_days}d",
        # Size-based retention keeps compaction headroom: a full volume stops ingestion.
        "retentionSize": f"{int(storage.prometheus_gib * 0.85)}GiB",
        "replicas": replicas,
        "externalLabels": dict(external_labels),
        # Select every ServiceMonitor, PodMonitor, Probe, ScrapeConfig and PrometheusRule,
        # not only those carrying this release's label (the storefront's don't).
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "podMonitorSelectorNilUsesHelmValues": False,
        "probeSelectorNilUsesHelmValues": False,
        "scrapeConfigSelectorNilUsesHelmValues": False,
        "ruleSelectorNilUsesHelmValues": False,
        "resources": dict(resources),
        "storageSpec": volume_claim(storage.storage_class, storage.prometheus_gib),
    }}


def alertmanager_values(storage: Storage, replicas: int, receivers: Receivers) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": replicas,
        # Silences and the notification log survive a restart.
        "storage": volume_claim(storage.storage_class, storage.alertmanager_gib),
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                      "limits": {"cpu": "200m", "memory": "256Mi"}},
    }
    if receivers.any:
        spec["secrets"] = [RECEIVERS_SECRET]
    return {"alertmanagerSpec": spec, "config": alertmanager_config(receivers),
            "podDisruptionBudget": disruption_budget(replicas)}


def grafana_values(enabled: bool, namespace: str, cloudwatch_role_arn: Any | None,
                   region: str, irsa: bool = True) -> dict[str, Any]:
    """`irsa`: the role is IRSA's (annotated); with Pod Identity its association binds it."""
    service_account: dict[str, Any] = {"create": True, "name": GRAFANA_SERVICE_ACCOUNT}
    values: dict[str, Any] = {
        "enabled": enabled,
        "admin": {"existingSecret": GRAFANA_ADMIN_SECRET, "userKey": "admin-user",
                  "passwordKey": "admin-password"},
        # Dashboards and data sources come from this repository, not from clicks.
        "persistence": {"enabled": False},
        "defaultDashboardsTimezone": "utc",
        # Dashboards only from this namespace, with a Role rather than a ClusterRole that
        # could read every Secret of the cluster.
        "rbac": {"namespaced": True},
        "sidecar": {"dashboards": {
            "enabled": True, "label": DASHBOARD_LABEL, "labelValue": "1",
            "searchNamespace": namespace,
            "folderAnnotation": DASHBOARD_FOLDER_ANNOTATION,
            "provider": {"foldersFromFilesStructure": True, "allowUiUpdates": False},
        }},
        "grafana.ini": {
            "analytics": {"reporting_enabled": False, "check_for_updates": False},
            "users": {"allow_sign_up": False},
            "auth.anonymous": {"enabled": False},
        },
        "serviceAccount": service_account,
    }
    if cloudwatch_role_arn is not None:
        if irsa:
            service_account["annotations"] = {"eks.amazonaws.com/role-arn": cloudwatch_role_arn}
        values["additionalDataSources"] = [{
            "name": "CloudWatch", "uid": "cloudwatch", "type": "cloudwatch",
            "access": "proxy", "editable": False,
            # The AWS SDK's default chain: IRSA's web identity token or Pod Identity's agent.
            "jsonData": {"authType": "default", "defaultRegion": region},
        }]
    return values


def eks_values() -> dict[str, Any]:
    """EKS runs the control plane out of reach: no scrape targets or rules for it."""
    off = {"enabled": False}
    return {
        "kubeControllerManager": off, "kubeScheduler": off, "kubeEtcd": off,
        # kube-proxy binds its metrics to 127.0.0.1 on EKS nodes.
        "kubeProxy": off,
        "defaultRules": {"rules": {
            "etcd": False, "kubeControllerManager": False, "kubeSchedulerAlerting": False,
            "kubeSchedulerRecording": False, "kubeProxy": False, "windows": False,
        }},
    }


def kubectl_tag(kubernetes_version: str) -> str:
    """The kubectl image of the cluster's minor version. The chart would otherwise derive it
    from the API server's version, which on EKS carries a suffix ("v1.33.5-eks-113cf36")
    that no kubectl image is tagged with."""
    return f"v{kubernetes_version}.0"


def crd_values(kubernetes_version: str) -> dict[str, Any]:
    """Helm creates the CRDs on install but never upgrades them, and they are too large for
    client-side apply (the last-applied annotation exceeds 256 KiB). The chart's upgrade Job
    applies them server-side before every install and upgrade."""
    return {"crds": {"enabled": True, "upgradeJob": {
        "enabled": True, "forceConflicts": True,
        "image": {"busybox": {"tag": BUSYBOX_TAG},
                  "kubectl": {"tag": kubectl_tag(kubernetes_version)}},
    }}}
