"""Every Helm chart the program installs comes from the one table (components/helm_charts.py),
and every value the program renders for it is a key that chart version's default values know
(recorded in components/charts/ by scripts/chart-keys.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from components.chart_keys import Allowed, ChartKeys, default_keys, unknown_keys
from components.helm_charts import CHARTS, KEYS_DIR, by_name, every_pinned
from stacks.plan.mocks import Recorded

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "chart-keys.py"
RELEASE = "kubernetes:helm.sh/v3:Release"


def releases(plan: Recorded) -> list:
    return plan.of_type(RELEASE)


def test_every_release_is_a_pinned_chart_from_the_table(dev_plan, prod_plan) -> None:
    installed = {}
    for plan in (dev_plan, prod_plan):
        for release in releases(plan):
            chart = by_name(release.inputs["chart"])
            assert release.inputs["chart"] == chart.reference
            assert release.inputs["version"] == chart.version
            # A chart in an OCI registry is named by its address, with no repository.
            assert release.inputs.get("repositoryOpts") == (
                None if chart.is_oci else {"repo": chart.repository})
            installed[chart.name] = chart.version
    # Between them the two stacks install every chart of the table (dev the Cluster
    # Autoscaler, prod Karpenter), and nothing else.
    assert installed == {chart.name: chart.version for chart in CHARTS}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_rendered_values_only_use_keys_the_chart_version_knows(stack, request) -> None:
    plan: Recorded = request.getfixturevalue(f"{stack}_plan")
    unknown = {release.inputs["chart"]: by_name(release.inputs["chart"]).unknown_keys(
        release.inputs["values"]) for release in releases(plan)}
    assert unknown == dict.fromkeys(unknown, [])


def test_every_pinned_version_has_its_recorded_keys() -> None:
    files = sorted(path.name for path in KEYS_DIR.glob("*.keys.json"))
    assert files == sorted(chart.keys_file.name for chart in every_pinned())
    for chart in every_pinned():
        recorded = chart.recorded_keys()
        assert (recorded.chart, recorded.version) == (chart.name, chart.version)
        assert len(recorded.keys) > 20 and recorded.open <= recorded.keys


DEFAULTS = {"replicaCount": 1, "image": {"repository": "x", "tag": None},
            "podAnnotations": {}, "podDisruptionBudget": {"enabled": False},
            "extraArgs": {"v": 1}, "tolerations": [{"operator": "Exists"}],
            "config": {"global": {"resolve_timeout": "5m"}}}
KNOWN = default_keys("demo", "1.0.0", DEFAULTS)


def test_default_keys_are_dotted_paths_and_empty_maps_are_open() -> None:
    assert KNOWN.keys == {"replicaCount", "image", "image.repository", "image.tag",
                          "podAnnotations", "podDisruptionBudget",
                          "podDisruptionBudget.enabled", "extraArgs", "extraArgs.v",
                          "tolerations", "config", "config.global",
                          "config.global.resolve_timeout"}
    assert KNOWN.open == {"image.tag", "podAnnotations"}
    assert ChartKeys.from_json(json.loads(json.dumps(KNOWN.to_json()))) == KNOWN


@pytest.mark.parametrize(("values", "unknown"), [
    ({"replicaCount": 2, "image": {"tag": "v1"}}, []),
    ({"replicas": 2}, ["replicas"]),  # the chart says replicaCount: silently ignored by Helm
    ({"podDisruptionBudget": {"enabled": True, "maxUnavailabe": 1}},
     ["podDisruptionBudget.maxUnavailabe"]),
    ({"image": {"tag": {"any": "thing"}}}, []),  # null default: the chart takes anything
    ({"podAnnotations": {"a/b": "c"}, "extraArgs": {"expander": "least-waste"}}, []),
    ({"serviceAccount": {"annotations": {"x": "y"}}}, ["serviceAccount"]),
    ({"config": {"route": {"receiver": "x"}}}, ["config.route"]),
])
def test_unknown_keys_are_found_outermost_first(values, unknown) -> None:
    assert list(unknown_keys(values, KNOWN)) == unknown


def test_verbatim_and_commented_keys_and_subcharts() -> None:
    allowed = Allowed(verbatim=frozenset({"config"}), commented=frozenset({"priorityClassName"}))
    values = {"config": {"route": {"receiver": "x"}}, "priorityClassName": "system-node-critical"}
    assert list(unknown_keys(values, KNOWN, allowed)) == []
    sub = default_keys("sub", "2.0.0", {"persistence": {"enabled": False}})
    values = {"sub": {"persistence": {"enabled": True, "size": "1Gi"}}}
    assert list(unknown_keys(values, KNOWN, subcharts={"sub": (sub, Allowed())})) == [
        "sub.persistence.size"]


def run_script(*args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path or os.environ["PATH"]}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, check=False, timeout=60)


def test_the_script_reads_a_values_file(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("replicas: 2\n# a comment\nargs: []\nservice:\n  port: 443\n  labels: {}\n")
    done = run_script("--chart", "metrics-server", "--values-file", str(values),
                      "--out-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    written = json.loads((tmp_path / "metrics-server-3.13.0.keys.json").read_text())
    assert written == {"chart": "metrics-server", "version": "3.13.0",
                       "keys": ["args", "replicas", "service", "service.labels", "service.port"],
                       "open": ["service.labels"]}


def test_the_script_asks_helm_for_each_pinned_version(tmp_path: Path) -> None:
    log = tmp_path / "helm.log"
    helm = tmp_path / "bin" / "helm"
    helm.parent.mkdir()
    helm.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\necho "replicas: 1"\n')
    helm.chmod(0o755)
    done = run_script("--out-dir", str(tmp_path / "out"),
                      path=f"{helm.parent}:{os.environ['PATH']}")
    assert done.returncode == 0, done.stderr
    assert log.read_text().splitlines() == [
        f"show values {chart.name} --repo {chart.repository} --version {chart.version}"
        for chart in every_pinned()]
    assert len(list((tmp_path / "out").glob("*.keys.json"))) == len(every_pinned())


def test_the_script_checks_every_pinned_version_is_recorded() -> None:
    assert run_script("--check").returncode == 0
