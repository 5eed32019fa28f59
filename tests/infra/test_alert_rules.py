"""The storefront's alerting rules: promtool checks the rule file and runs its unit tests, and
the file is held to the house rules (labels, annotations, runbooks, metrics it may query,
a firing and a silent test for every alert).

promtool comes from Debian's `prometheus` package (`make test` installs it when root). When it
is missing the promtool tests skip, except under CI, where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "components" / "monitoring_assets"
RULES = ASSETS / "storefront.rules.yml"
RULE_TESTS = ASSETS / "storefront.rules.test.yml"
README = ROOT / "README.md"

# The storefront's metrics contract, as exposed at /metrics (histograms by their series).
CONTRACT_METRICS = frozenset({
    "shop_http_requests_total",
    "shop_http_request_duration_seconds_bucket",
    "shop_http_request_duration_seconds_count",
    "shop_http_request_duration_seconds_sum",
    "shop_http_requests_in_flight",
    "shop_http_exceptions_total",
    "shop_orders_created_total",
    "shop_revenue_total",
    "shop_checkout_failures_total",
    "shop_cart_additions_total",
    "shop_db_pool_connections",
    "shop_db_errors_total",
    "shop_cache_hits_total",
    "shop_cache_misses_total",
    "shop_rate_limited_total",
    "shop_rate_limit_fail_open_total",
})
# What kube-prometheus-stack collects that the rules may read: Prometheus' own `up`,
# kube-state-metrics and the kubelet's cAdvisor.
PLATFORM_METRICS = frozenset({
    "up",
    "kube_pod_container_resource_limits",
    "kube_pod_container_status_restarts_total",
    "kube_pod_container_status_waiting_reason",
    "container_cpu_usage_seconds_total",
    "container_memory_working_set_bytes",
})
SEVERITIES = ("critical", "warning")
_PROMQL_WORDS = frozenset({"and", "or", "unless", "by", "without", "on", "ignoring", "bool",
                           "offset", "group_left", "group_right", "inf", "nan"})


def metric_names(expr: str) -> set[str]:
    """Series names a PromQL expression selects: identifiers that are neither functions,
    keywords, label names (inside braces or grouping clauses) nor durations."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    return {match.group(1) for match in
            re.finditer(r"(?<![\w.])([a-zA-Z_:][\w:]*)\b(?!\s*\()", text)
            if match.group(1).lower() not in _PROMQL_WORDS}


def groups() -> list[dict]:
    return yaml.safe_load(RULES.read_text())["groups"]


def rules() -> Iterator[dict]:
    for group in groups():
        yield from group["rules"]


def alerts() -> list[dict]:
    return [rule for rule in rules() if "alert" in rule]


def github_anchor(heading: str) -> str:
    """The fragment GitHub gives a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


# --- promtool ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        reason = ("promtool is not installed: it comes with the Debian package 'prometheus' "
                  "(`make test` installs it when run as root)")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def run(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *args], cwd=ASSETS, capture_output=True, text=True,
                          check=False, timeout=300)


def test_promtool_accepts_the_rule_file(promtool):
    result = run(promtool, "check", "rules", RULES.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(list(rules()))} rules found" in result.stdout


def test_promtool_rejects_a_broken_rule_file(promtool, tmp_path):
    broken = tmp_path / "broken.rules.yml"
    broken.write_text("groups:\n  - name: g\n    rules:\n      - alert: A\n"
                      "        expr: sum by (namespace (up)\n")
    result = run(promtool, "check", "rules", str(broken))
    assert result.returncode != 0


def test_promtool_unit_tests_pass(promtool):
    result = run(promtool, "test", "rules", RULE_TESTS.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


# --- the rule file's own rules -------------------------------------------------------------

def test_alerts_cover_the_issue():
    assert {alert["alert"] for alert in alerts()} == {
        "StorefrontErrorBudgetFastBurn", "StorefrontErrorBudgetSlowBurn",
        "StorefrontHigh5xxRatio", "StorefrontHighLatencyP95",
        "StorefrontDatabaseConnectionErrors", "StorefrontDown", "StorefrontPodCrashLooping",
        "StorefrontPodRestarting", "StorefrontHighCPU", "StorefrontHighMemory",
        "StorefrontRateLimitsFailingOpen"}


def test_error_ratio_is_recorded_for_every_burn_rate_window():
    recorded = {rule["record"] for rule in rules() if "record" in rule}
    windows = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
    assert {f"namespace:shop_http_request_errors:ratio_rate{w}" for w in windows} <= recorded


@pytest.mark.parametrize(("alert", "pairs"), [
    ("StorefrontErrorBudgetFastBurn", [("1h", "5m", "14.4 * 0.001"), ("6h", "30m", "6 * 0.001")]),
    ("StorefrontErrorBudgetSlowBurn", [("1d", "2h", "3 * 0.001"), ("3d", "6h", "0.001")]),
])
def test_burn_rate_alerts_pair_the_workbook_windows(alert, pairs):
    (rule,) = [rule for rule in alerts() if rule["alert"] == alert]
    expr = " ".join(rule["expr"].split())
    for long, short, threshold in pairs:
        bound = f"({threshold})" if "*" in threshold else threshold
        assert (f"ratio_rate{long} > {bound} and "
                f"namespace:shop_http_request_errors:ratio_rate{short} > {bound}") in expr


def test_every_alert_has_severity_summary_description_and_a_readme_runbook():
    headings = {github_anchor(line.lstrip("#")) for line in README.read_text().splitlines()
                if line.startswith("### ")}
    for alert in alerts():
        name = alert["alert"]
        assert alert["labels"]["severity"] in SEVERITIES, name
        annotations = alert["annotations"]
        assert annotations["summary"].strip() and annotations["description"].strip(), name
        assert annotations["runbook_url"] == f"README.md#{github_anchor(name)}", name
        assert github_anchor(name) in headings, f"README has no runbook section for {name}"


def test_rules_query_only_contract_platform_or_recorded_metrics():
    recorded = {rule["record"] for rule in rules() if "record" in rule}
    for rule in rules():
        unknown = metric_names(rule["expr"]) - CONTRACT_METRICS - PLATFORM_METRICS - recorded
        assert not unknown, f"{rule.get('alert') or rule.get('record')} queries {unknown}"


def test_recorded_series_are_read_in_the_group_that_records_them_after_recording():
    """Groups run concurrently; only inside one group does a rule see this evaluation's
    value of a series recorded before it."""
    for group in groups():
        recorded_so_far: set[str] = set()
        for rule in group["rules"]:
            for name in metric_names(rule["expr"]):
                if ":" in name:
                    assert name in recorded_so_far, f"{name} read before it is recorded"
            if "record" in rule:
                recorded_so_far.add(rule["record"])


def test_metric_name_extraction_ignores_functions_labels_and_keywords():
    expr = ('sum by (namespace, le) (rate(shop_http_requests_total{route!~"/a|/b"}[5m])) '
            '/ on(namespace) group_left up > bool 0.5 and absent(x:y:z offset 1h)')
    assert metric_names(expr) == {"shop_http_requests_total", "up", "x:y:z"}


# --- the unit tests ------------------------------------------------------------------------

def test_every_alert_is_tested_firing_and_silent():
    fired: set[str] = set()
    silent: set[str] = set()
    for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (fired if check.get("exp_alerts") else silent).add(check["alertname"])
    names = {alert["alert"] for alert in alerts()}
    assert names - fired == set(), "alerts without a firing test"
    assert names - silent == set(), "alerts without a not-firing test"
