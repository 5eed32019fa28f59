"""Prometheus, Alertmanager and Grafana on the cluster: kube-prometheus-stack as one Helm
release in the `monitoring` namespace, with the storefront's alerting rules and dashboards
from components/monitoring_assets (files kept in the repository, never copied into Python).

EKS specifics:
- The Prometheus Operator's CRDs are too large for client-side apply (their last-applied
  annotation would exceed 256 KiB). Helm creates them on install without that annotation, and
  the chart's CRD upgrade Job applies them server-side before every upgrade, which Helm by
  itself never does.
- EKS runs the control plane out of reach, so the controller-manager, scheduler and etcd
  targets, and kube-proxy's (bound to 127.0.0.1 on EKS nodes), are off with their rules.

Secrets (the Slack webhook, the SMTP password, Grafana's generated admin password) live in
Kubernetes Secrets built from Pulumi secrets; the chart's values only name them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components import k8s as kube
from components import monitoring_values as mv
from components.arg_checks import require_pattern, require_range, require_tags
from components.helm_charts import KUBE_PROMETHEUS_STACK
from components.irsa import IrsaRoleArgs, OidcProvider, irsa_role

# Pinned in components/helm_charts.py, with every other chart.
CHART = KUBE_PROMETHEUS_STACK.name
CHART_VERSION = KUBE_PROMETHEUS_STACK.version
CHART_REPOSITORY = KUBE_PROMETHEUS_STACK.repository
RULE_NAME = "storefront"
DASHBOARD_FOLDER = "Shop"
# Grafana's CloudWatch data source reads metrics and nothing else.
CLOUDWATCH_READ_ACTIONS = ("cloudwatch:GetMetricData", "cloudwatch:ListMetrics",
                           "ec2:DescribeRegions")

_EMAILS = re.compile(r"[^@\s,]+@[^@\s,]+\.[a-z]{2,}(,[^@\s,]+@[^@\s,]+\.[a-z]{2,})*")
_EMAIL = re.compile(r"[^@\s,<>]+@[^@\s,<>]+\.[a-z]{2,}")
_SMARTHOST = re.compile(r"[a-z0-9.-]+\.[a-z]{2,}:\d{2,5}")
_HTTPS_BASE = re.compile(r"https://[^\s#?]+/")
_SLACK_CHANNEL = re.compile(r"[#@][\w.-]{1,80}")
_LABEL_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_REGION = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-\d")
_MINOR_VERSION = re.compile(r"1\.\d{2}")


@dataclass(frozen=True)
class SmtpRelay:
    """The mail relay Alertmanager sends through, e.g. SES's SMTP endpoint."""

    smarthost: str  # "email-smtp.us-east-1.amazonaws.com:587"; STARTTLS is required
    sender: str  # "alerts@shop.example.com"
    username: str
    password: pulumi.Input[str]


@dataclass(frozen=True)
class CloudWatchAccess:
    """Lets Grafana read CloudWatch (RDS and ElastiCache panels) through an IRSA role."""

    oidc: OidcProvider
    region: str


@dataclass(frozen=True)
class MonitoringArgs:
    cluster_name: str  # an external label on every series and alert
    environment: str  # likewise: "dev", "prod"
    kubernetes_version: str  # the cluster's minor version, "1.33"
    storage_class: str  # the gp3 class the add-ons create
    # Where the README lives, ending in "/": each alert's README.md#anchor is appended.
    runbook_base_url: str
    tags: Mapping[str, str]
    namespace: str = "monitoring"
    retention_days: int = 15
    prometheus_volume_gib: int = 50
    prometheus_replicas: int = 1
    alertmanager_replicas: int = 1
    prometheus_resources: kube.Resources = kube.Resources("250m", "1Gi", "1", "2Gi")
    slack_webhook_url: pulumi.Input[str] | None = None  # a secret
    slack_channel: str = "#shop-alerts"
    alert_email: str = ""  # comma-separated; needs `smtp`
    smtp: SmtpRelay | None = None
    grafana_enabled: bool = True
    cloudwatch: CloudWatchAccess | None = None


def validate(args: MonitoringArgs) -> None:
    require_tags(args.tags)
    kube.require_dns_label("namespace", args.namespace)
    kube.require_dns_label("storage_class", args.storage_class)
    require_pattern("cluster_name", args.cluster_name, _LABEL_VALUE, "a cluster name")
    require_pattern("environment", args.environment, _LABEL_VALUE, "an environment name")
    require_pattern("kubernetes_version", args.kubernetes_version, _MINOR_VERSION,
                    "a Kubernetes minor version like '1.33'")
    require_pattern("runbook_base_url", args.runbook_base_url, _HTTPS_BASE,
                    "an https:// URL ending in '/', like 'https://github.com/acme/shop/blob/main/'")
    require_range("retention_days", args.retention_days, 1, 365)
    require_range("prometheus_volume_gib", args.prometheus_volume_gib, 10, 16384)
    require_range("prometheus_replicas", args.prometheus_replicas, 1, 3)
    require_range("alertmanager_replicas", args.alertmanager_replicas, 1, 5)
    args.prometheus_resources.validate("prometheus_resources")
    if args.slack_webhook_url is not None:
        require_pattern("slack_channel", args.slack_channel, _SLACK_CHANNEL,
                        "a Slack channel like '#shop-alerts'")
        if isinstance(args.slack_webhook_url, str) and not args.slack_webhook_url.startswith(
                "https://"):
            raise ValueError("slack_webhook_url must be an https:// webhook URL")
    if args.alert_email:
        require_pattern("alert_email", args.alert_email, _EMAILS,
                        "e-mail addresses separated by commas")
        if args.smtp is None:
            raise ValueError("smtp must name a mail relay when alert_email is set")
    if args.smtp is not None:
        require_pattern("smtp.smarthost", args.smtp.smarthost, _SMARTHOST,
                        "host:port, like 'email-smtp.us-east-1.amazonaws.com:587'")
        require_pattern("smtp.sender", args.smtp.sender, _EMAIL, "an e-mail address")
        if not args.smtp.username:
            raise ValueError("smtp.username must not be empty")
    if args.cloudwatch is not None:
        require_pattern("cloudwatch.region", args.cloudwatch.region, _REGION,
                        "an AWS region like 'us-east-1'")


def receivers(args: MonitoringArgs) -> mv.Receivers:
    smtp = args.smtp if args.alert_email else None
    return mv.Receivers(
        slack_channel=args.slack_channel if args.slack_webhook_url is not None else None,
        email_to=args.alert_email or None,
        smtp_smarthost=smtp.smarthost if smtp else None,
        smtp_from=smtp.sender if smtp else None,
        smtp_username=smtp.username if smtp else None,
    )


def receivers_secret_data(args: MonitoringArgs) -> dict[str, pulumi.Input[str]]:
    """The receivers Secret's keys: the files Alertmanager's configuration reads."""
    data: dict[str, pulumi.Input[str]] = {}
    if args.slack_webhook_url is not None:
        data[mv.SLACK_WEBHOOK_KEY] = args.slack_webhook_url
    if args.alert_email and args.smtp is not None:
        data[mv.SMTP_PASSWORD_KEY] = args.smtp.password
    return data


def cloudwatch_read_policy() -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "ReadMetrics", "Effect": "Allow",
        "Action": list(CLOUDWATCH_READ_ACTIONS), "Resource": "*",
    }]}, sort_keys=True)


class Monitoring(pulumi.ComponentResource):
    """Outputs: `namespace`, `release_name`, `prometheus_url`, `alertmanager_url`,
    `grafana_service` and `grafana_url` (empty without Grafana), `grafana_admin_secret` (the
    Secret's name, empty without Grafana), `rule_name`, `cloudwatch_role_arn` (empty without
    CloudWatch)."""

    namespace: pulumi.Output[str]
    release_name: pulumi.Output[str | None]
    prometheus_url: pulumi.Output[str]
    alertmanager_url: pulumi.Output[str]
    grafana_service: pulumi.Output[str]
    grafana_url: pulumi.Output[str]
    grafana_admin_secret: pulumi.Output[str]
    rule_name: pulumi.Output[str]
    cloudwatch_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: MonitoringArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        validate(args)
        super().__init__("shop:monitoring:Monitoring", name, None, opts)
        routing = receivers(args)
        grafana = args.grafana_enabled
        namespace = self._namespace(name, args).metadata.name
        secrets = [self._receivers_secret(name, args, namespace)] if routing.any else []
        if grafana:
            secrets.append(self._grafana_admin_secret(name, namespace))
        role_arn = (self._cloudwatch_role(name, args)
                    if grafana and args.cloudwatch is not None else None)
        release = self._release(name, args, routing, namespace, role_arn, secrets)
        rule = self._rule(name, args, namespace, release)
        if grafana:
            self._dashboards(name, args, namespace)

        def service_url(service: str, port: int) -> pulumi.Output[str]:
            return pulumi.Output.concat("http://", mv.RELEASE, "-", service, ".", namespace,
                                        f".svc:{port}")

        self.namespace = namespace
        self.release_name = release.name
        self.prometheus_url = service_url("prometheus", 9090)
        self.alertmanager_url = service_url("alertmanager", 9093)
        self.grafana_service = pulumi.Output.from_input(
            f"{mv.RELEASE}-grafana" if grafana else "")
        self.grafana_url = service_url("grafana", 80) if grafana else pulumi.Output.from_input("")
        self.grafana_admin_secret = pulumi.Output.from_input(
            mv.GRAFANA_ADMIN_SECRET if grafana else "")
        self.rule_name = rule.id.apply(lambda _: RULE_NAME)
        self.cloudwatch_role_arn = pulumi.Output.from_input(role_arn or "")
        self.register_outputs({
            "namespace": self.namespace,
            "release_name": self.release_name,
            "prometheus_url": self.prometheus_url,
            "alertmanager_url": self.alertmanager_url,
            "grafana_service": self.grafana_service,
            "grafana_url": self.grafana_url,
            "grafana_admin_secret": self.grafana_admin_secret,
            "rule_name": self.rule_name,
            "cloudwatch_role_arn": self.cloudwatch_role_arn,
        })

    def _child(self, **extra: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **extra)

    def _namespace(self, name: str, args: MonitoringArgs) -> k8s.core.v1.Namespace:
        # Not "restricted" like the shop's namespaces: node-exporter needs the host's network,
        # PID namespace and filesystem, which every stricter Pod Security level refuses.
        return k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.namespace, labels={
                "pod-security.kubernetes.io/enforce": "privileged",
                "app.kubernetes.io/part-of": kube.PART_OF,
                "app.kubernetes.io/managed-by": kube.MANAGED_BY,
            }),
            opts=self._child(),
        )

    def _secret(self, name: str, secret_name: str, namespace: pulumi.Input[str],
                data: Mapping[str, pulumi.Input[str]]) -> k8s.core.v1.Secret:
        return k8s.core.v1.Secret(
            name,
            metadata=kube.metadata(secret_name, namespace, {"app.kubernetes.io/part-of":
                                                            kube.PART_OF}),
            type="Opaque",
            string_data={key: pulumi.Output.secret(value) for key, value in data.items()},
            opts=self._child(additional_secret_outputs=["data", "stringData"]),
        )

    def _receivers_secret(self, name: str, args: MonitoringArgs,
                          namespace: pulumi.Input[str]) -> k8s.core.v1.Secret:
        return self._secret(f"{name}-alertmanager-receivers", mv.RECEIVERS_SECRET, namespace,
                            receivers_secret_data(args))

    def _grafana_admin_secret(self, name: str, namespace: pulumi.Input[str]
                              ) -> k8s.core.v1.Secret:
        password = random.RandomPassword(
            f"{name}-grafana-admin-password", length=32, special=False, opts=self._child())
        return self._secret(f"{name}-grafana-admin", mv.GRAFANA_ADMIN_SECRET, namespace,
                            {"admin-user": "admin", "admin-password": password.result})

    def _cloudwatch_role(self, name: str, args: MonitoringArgs) -> pulumi.Output[str]:
        assert args.cloudwatch is not None
        role = irsa_role(f"{name}-grafana-cloudwatch", IrsaRoleArgs(
            oidc=args.cloudwatch.oidc, namespace=args.namespace,
            service_account=mv.GRAFANA_SERVICE_ACCOUNT, tags=args.tags,
            inline_policy=cloudwatch_read_policy()), self)
        return role.arn

    def _release(self, name: str, args: MonitoringArgs, routing: mv.Receivers,
                 namespace: pulumi.Input[str], cloudwatch_role_arn: pulumi.Output[str] | None,
                 secrets: list[k8s.core.v1.Secret]) -> k8s.helm.v3.Release:
        storage = mv.Storage(args.storage_class, args.prometheus_volume_gib)
        resources = args.prometheus_resources
        values = {
            "fullnameOverride": mv.RELEASE,
            **mv.crd_values(args.kubernetes_version),
            **mv.eks_values(),
            "prometheus": mv.prometheus_values(
                storage, args.retention_days, args.prometheus_replicas,
                {"cluster": args.cluster_name, "environment": args.environment},
                {"requests": {"cpu": resources.cpu_request, "memory": resources.memory_request},
                 "limits": {"cpu": resources.cpu_limit, "memory": resources.memory_limit}}),
            "alertmanager": mv.alertmanager_values(storage, args.alertmanager_replicas, routing),
            "grafana": mv.grafana_values(
                args.grafana_enabled, args.namespace, cloudwatch_role_arn,
                args.cloudwatch.region if args.cloudwatch else "",
                irsa=not (args.cloudwatch and args.cloudwatch.oidc.pod_identity)),
        }
        return k8s.helm.v3.Release(
            f"{name}-stack",
            k8s.helm.v3.ReleaseArgs(
                name=mv.RELEASE,
                chart=CHART,
                version=CHART_VERSION,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPOSITORY),
                namespace=namespace,
                values=values,
                skip_crds=False,
                # A failed upgrade rolls back instead of leaving a half-applied stack.
                atomic=True,
                cleanup_on_fail=True,
                max_history=5,
                timeout=900,
            ),
            # The pods mount these Secrets: they must exist before the chart starts them.
            opts=self._child(depends_on=list(secrets)),
        )

    def _rule(self, name: str, args: MonitoringArgs, namespace: pulumi.Input[str],
              release: k8s.helm.v3.Release) -> k8s.apiextensions.CustomResource:
        # After the release: the PrometheusRule kind exists once its CRD does.
        return k8s.apiextensions.CustomResource(
            f"{name}-storefront-rules",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata=kube.metadata(RULE_NAME, namespace,
                                   kube.labels("storefront", "alerting-rules")),
            spec={"groups": mv.rule_groups(args.runbook_base_url)},
            opts=self._child(depends_on=[release]),
        )

    def _dashboards(self, name: str, args: MonitoringArgs, namespace: pulumi.Input[str]
                    ) -> list[k8s.core.v1.ConfigMap]:
        # Grafana's sidecar loads every ConfigMap of the namespace carrying the label.
        return [
            k8s.core.v1.ConfigMap(
                f"{name}-dashboard-{stem}",
                metadata=kube.metadata(
                    f"dashboard-{stem}", namespace,
                    {mv.DASHBOARD_LABEL: "1", "app.kubernetes.io/part-of": kube.PART_OF},
                    {mv.DASHBOARD_FOLDER_ANNOTATION: DASHBOARD_FOLDER}),
                data={f"{stem}.json": body},
                opts=self._child(),
            )
            for stem, body in mv.dashboards(args.cloudwatch is not None).items()
        ]
