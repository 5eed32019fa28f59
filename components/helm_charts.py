"""Every Helm chart the program installs, in one table: name, repository, version and the
version of the application it ships. The add-ons (addons.py) and monitoring (monitoring.py)
read their chart from here; nothing else names a chart version.

Each pinned version's default values keys are recorded beside this file, in
`charts/<chart>-<version>.keys.json`, by `scripts/chart-keys.py` (from `helm show values`, or
from the chart's values.yaml): tests/infra/test_chart_values.py checks that every value the
program renders is a key that chart version knows. How to bump a chart: README.md, "Helm
charts". A subchart whose values the program sets through its parent (kube-prometheus-stack's
grafana) is listed with the parent, at the version the parent's Chart.yaml depends on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.chart_keys import Allowed, ChartKeys, unknown_keys

KEYS_DIR = Path(__file__).resolve().parent / "charts"
EKS_CHARTS = "https://aws.github.io/eks-charts"


@dataclass(frozen=True)
class Chart:
    name: str
    repository: str
    version: str
    app_version: str
    # The service account the chart creates, when it needs an IAM role.
    service_account: str = ""
    # Subcharts whose values the program sets, by the key they sit under in the parent's values.
    subcharts: Mapping[str, Chart] = field(default_factory=dict)
    # Keys handed on verbatim as another program's configuration, and keys values.yaml
    # documents only in a comment (each checked in the chart's templates at this version):
    # re-check both on every bump.
    verbatim: tuple[str, ...] = ()
    commented: tuple[str, ...] = ()

    @property
    def reference(self) -> str:
        """What a Helm release names: the chart, or its full address in an OCI registry."""
        return f"{self.repository}/{self.name}" if self.is_oci else self.name

    @property
    def is_oci(self) -> bool:
        return self.repository.startswith("oci://")

    @property
    def keys_file(self) -> Path:
        return KEYS_DIR / f"{self.name}-{self.version}.keys.json"

    def recorded_keys(self) -> ChartKeys:
        return ChartKeys.from_json(json.loads(self.keys_file.read_text(encoding="utf-8")))

    @property
    def allowed(self) -> Allowed:
        return Allowed(frozenset(self.verbatim), frozenset(self.commented))

    def unknown_keys(self, values: Mapping[str, Any]) -> list[str]:
        """The keys of `values` this chart version does not know (chart_keys.py)."""
        subcharts = {key: (chart.recorded_keys(), chart.allowed)
                     for key, chart in self.subcharts.items()}
        return list(unknown_keys(values, self.recorded_keys(), self.allowed, subcharts))


LOAD_BALANCER_CONTROLLER = Chart("aws-load-balancer-controller", EKS_CHARTS, "1.14.0", "v2.14.0",
                                 "aws-load-balancer-controller")
METRICS_SERVER = Chart("metrics-server", "https://kubernetes-sigs.github.io/metrics-server/",
                       "3.13.0", "0.8.0")
CLUSTER_AUTOSCALER = Chart("cluster-autoscaler", "https://kubernetes.github.io/autoscaler",
                           "9.53.0", "1.34.2", "cluster-autoscaler")
# 0.2.0 is the newest release of the chart (0.2.1 was never published).
FLUENT_BIT = Chart("aws-for-fluent-bit", EKS_CHARTS, "0.2.0", "3.2.1", "aws-for-fluent-bit",
                   # "# priorityClassName: system-node-critical"; templates/daemonset.yaml
                   commented=("priorityClassName",))
GRAFANA = Chart("grafana", "https://grafana.github.io/helm-charts", "10.2.0", "12.3.0",
                verbatim=("grafana.ini",))  # Grafana's own settings, rendered to grafana.ini
KUBE_PROMETHEUS_STACK = Chart(
    "kube-prometheus-stack", "https://prometheus-community.github.io/helm-charts", "79.7.1",
    "v0.86.2", subcharts={"grafana": GRAFANA},
    # Alertmanager's configuration file, as Alertmanager reads it.
    verbatim=("alertmanager.config",))

# The AWS provider of the Secrets Store CSI driver, with the driver as its subchart (its
# Chart.yaml asks for "^1"; 1.5.3 is what its Chart.lock resolves at 2.1.1).
SECRETS_STORE_DRIVER = Chart(
    "secrets-store-csi-driver", "https://kubernetes-sigs.github.io/secrets-store-csi-driver/charts",
    "1.5.3", "v1.5.3")
SECRETS_STORE = Chart(
    "secrets-store-csi-driver-provider-aws",
    "https://aws.github.io/secrets-store-csi-driver-provider-aws", "2.1.1", "2.1.0",
    subcharts={"secrets-store-csi-driver": SECRETS_STORE_DRIVER})
# Served from an OCI registry: the release names it by its full address (`reference`).
KARPENTER = Chart("karpenter", "oci://public.ecr.aws/karpenter", "1.14.1", "1.14.1",
                  "karpenter")

CHARTS: tuple[Chart, ...] = (LOAD_BALANCER_CONTROLLER, METRICS_SERVER, CLUSTER_AUTOSCALER,
                             FLUENT_BIT, KUBE_PROMETHEUS_STACK, SECRETS_STORE, KARPENTER)


def by_name(name: str) -> Chart:
    for chart in CHARTS:
        if name in (chart.name, chart.reference):
            return chart
    raise KeyError(f"no chart named {name!r} in components/helm_charts.py")


def every_pinned() -> tuple[Chart, ...]:
    """The installed charts and the subcharts whose keys are recorded too."""
    return tuple({f"{c.name}-{c.version}": c for chart in CHARTS
                  for c in (chart, *chart.subcharts.values())}.values())
