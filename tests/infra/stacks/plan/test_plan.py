"""`python -m stacks plan`: the real program offline, its tree, counts and JSON plan."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stacks.__main__ import main
from stacks.plan import command as plan
from stacks.plan.mocks import Recorded

SEEDED_SECRETS = {
    "shop:slackWebhookUrl": "https://hooks.slack.com/services/T000/B000/seeded-webhook-secret",
    "shop:alertSmtpPassword": "seeded-smtp-password-secret",
}


# Prod's stateful resources, protected by stacks/protection.py; its read replica is not.
PROD_PROTECTED = {"database-primary", "database-key", "cache-redis", "cache-key", "cdn-assets",
                  "cdn-logs", "cluster-eks", "cluster-secrets", "registry-key",
                  # the safeguards: the trail's bucket and key, the recovery region's copies
                  "security-trail", "security-key", "recovery-key", "recovery-media-replica"}


def run_cli(*argv: str) -> int:
    return main(["plan", *argv])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_plans_succeed_and_are_byte_identical_across_runs(
        stack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    assert run_cli(stack, "--out", str(first)) == 0
    assert run_cli(stack, "--out", str(second)) == 0
    assert first.read_bytes() == second.read_bytes()

    document = json.loads(first.read_text())
    assert set(document) == {"stack", "project", "environment", "mockIds", "resources",
                             "outputs", "findings"}
    assert (document["stack"], document["project"], document["environment"]) == (
        stack, "shop", stack)
    assert document["findings"] == []  # neither stack has a finding, mandatory or advisory
    protected = {r["name"] for r in document["resources"] if r["options"].get("protect")}
    assert protected == (PROD_PROTECTED if stack == "prod" else set())
    urns = [r["urn"] for r in document["resources"]]
    assert urns == sorted(urns)
    assert {"urn", "type", "name", "parent", "inputs"} <= set(document["resources"][0])
    assert document["outputs"]["clusterName"] == f"shop-{stack}"

    printed = capsys.readouterr().out
    assert printed.startswith(f"pulumi:pulumi:Stack  shop-{stack}\n  ")
    network = printed.index("\n  shop:network:Network  network\n")
    assert "\n    aws:ec2/vpc:Vpc  network-vpc\n" in printed[network:]
    assert f"{len(urns)}  resources in all" in printed
    assert "policy: 0 mandatory" in printed


def test_counts_by_type(dev_plan: Recorded) -> None:
    counts = plan.render_counts(dev_plan)
    assert "  6  aws:ec2/subnet:Subnet" in counts
    assert "  1  aws:ec2/natGateway:NatGateway" in counts
    assert counts.endswith(f"{len(dev_plan.resources)}  resources in all")


def test_tree_nests_children_under_their_component(dev_plan: Recorded) -> None:
    lines = plan.render_tree(dev_plan).splitlines()
    assert lines[0] == "pulumi:pulumi:Stack  shop-dev"
    cluster = lines.index("  shop:cluster:Cluster  cluster")
    assert "    eks:index:Cluster  cluster-eks" in lines[cluster:]
    assert len(lines) == len(dev_plan.resources) + 1


def seeded_root(tmp_path: Path, stack: str, extra: dict[str, object]) -> Path:
    shutil.copy(plan.ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    config = {**plan.stack_config("prod"), **extra}
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


def test_the_plan_contains_no_secret_values(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    seeded = {key: {"secure": value} for key, value in SEEDED_SECRETS.items()}
    root = seeded_root(tmp_path, "prod", seeded)
    monkeypatch.setattr(plan, "ROOT", root)
    out = tmp_path / "plan.json"
    assert run_cli("prod", "--out", str(out)) == 0
    printed = capsys.readouterr().out
    text = out.read_text() + printed
    for secret in SEEDED_SECRETS.values():
        assert secret not in text
    assert "placeholder" not in printed  # both were given
    # Generated passwords and tokens (the mocks prefix them) never show either ...
    assert "mock-secret-" not in text
    # ... because every secret input and output is masked.
    document = json.loads(out.read_text())
    assert document["outputs"]["kubeconfig"] == "[secret]"
    versions = [r for r in document["resources"]
                if r["type"] == "aws:secretsmanager/secretVersion:SecretVersion"]
    assert versions and all(v["inputs"]["secretString"] == "[secret]" for v in versions)
    # The webhook and the SMTP password reach Alertmanager only through its Secret.
    (receivers,) = [r for r in document["resources"]
                    if r["name"] == "monitoring-alertmanager-receivers"]
    assert receivers["inputs"]["stringData"] == "[secret]"


def test_a_secret_the_stack_file_lacks_is_planned_with_a_placeholder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """prod routes alerts by e-mail; until its operator sets the SMTP password with `pulumi
    config set --secret`, its stack file lacks it, and the offline plan still runs."""
    shutil.copy(plan.ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    stack_file = yaml.safe_load((plan.ROOT / "Pulumi.prod.yaml").read_text())["config"]
    stack_file.pop("shop:alertSmtpPassword", None)
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump({"config": stack_file}))
    monkeypatch.setattr(plan, "ROOT", tmp_path)
    assert plan.stack_config("prod", tmp_path)["shop:alertSmtpPassword"] == (
        plan.SECRET_PLACEHOLDER)
    assert "shop:alertSmtpPassword" not in plan.stack_config("dev")  # dev mails nobody
    assert run_cli("prod") == 0
    assert capsys.readouterr().out.endswith(
        "planned with a placeholder (not in Pulumi.prod.yaml): shop:alertSmtpPassword; "
        "`pulumi up` needs each set with `pulumi config set --secret`\n")


def test_a_bad_setting_exits_non_zero_with_the_message_and_no_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(plan, "ROOT", seeded_root(tmp_path, "broken", {"shop:azCount": 5}))
    assert run_cli("broken", "--out", str(tmp_path / "plan.json")) == 2
    captured = capsys.readouterr()
    assert captured.err == "stack broken: shop:azCount must be 2 or 3, got 5\n"
    assert captured.out == ""
    assert not (tmp_path / "plan.json").exists()


def test_the_command_line_reports_a_missing_stack_file_plainly() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stacks", "plan", "no-such-stack"], cwd=plan.ROOT,
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert "Pulumi.no-such-stack.yaml not found" in result.stderr
    assert "Traceback" not in result.stderr
