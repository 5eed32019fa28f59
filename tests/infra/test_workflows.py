"""The CI/CD pipelines: every workflow is valid against GitHub's schema (check-jsonschema,
offline), and says what the project relies on: tests before deploys, an approval before prod,
least-privilege tokens, pinned actions, and the same stages on Jenkins."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
FILES = ("ci.yml", "preview.yml", "deploy.yml", "preview-env.yml")
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$")
ALLOWED_SCOPES = {"contents", "pull-requests", "id-token"}


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHECK_JSONSCHEMA, "--builtin-schema", "vendor.github-workflows",
                           str(path)], capture_output=True, text=True, check=False, timeout=120)


def workflow(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as the boolean True.
    document["on"] = document.pop(True, document.get("on"))
    return document


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in steps(job))


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in steps(job) if step.get("uses", "").startswith(f"{action}@")]


def test_the_workflow_set_is_complete():
    assert sorted(path.name for path in WORKFLOWS.glob("*.yml")) == sorted(FILES)


@pytest.mark.parametrize("name", FILES)
def test_workflow_matches_githubs_schema(name):
    done = validate(WORKFLOWS / name)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
                      "    steps:\n      - usess: actions/checkout@v4\n")
    assert validate(broken).returncode != 0


@pytest.mark.parametrize("name", FILES)
def test_permissions_are_declared_and_least_privilege(name):
    document = workflow(name)
    assert document["permissions"] == {"contents": "read"}
    for job_name, job in document["jobs"].items():
        granted = job.get("permissions", {})
        assert isinstance(granted, dict), f"{job_name}: permissions must be a mapping"
        assert set(granted) <= ALLOWED_SCOPES, f"{job_name}: {granted}"
        if uses(job, "aws-actions/configure-aws-credentials"):
            assert granted.get("id-token") == "write", f"{job_name} needs OIDC"
        else:
            assert "id-token" not in granted, f"{job_name} has OIDC it does not use"


@pytest.mark.parametrize("name", FILES)
def test_actions_are_pinned_and_checkouts_keep_no_token(name):
    for job in workflow(name)["jobs"].values():
        for step in steps(job):
            if "uses" in step:
                assert PINNED.match(step["uses"]), step["uses"]
        for checkout in uses(job, "actions/checkout"):
            assert checkout["with"]["persist-credentials"] is False


def test_ci_lints_and_runs_make_test_against_postgres_and_redis():
    document = workflow("ci.yml")
    assert set(document["on"]) == {"pull_request", "workflow_call"}
    assert "ruff check ." in runs(document["jobs"]["lint"])
    test = document["jobs"]["test"]
    assert re.search(r"^make test\b", runs(test), re.MULTILINE)
    assert set(test["services"]) == {"postgres", "redis"}
    assert test["env"]["DATABASE_URL"].startswith("postgresql://postgres:")
    assert "@postgres:5432/" in test["env"]["DATABASE_URL"]
    assert test["env"]["REDIS_URL"] == "redis://redis:6379/0"
    assert "prometheus" in runs(test)  # promtool, which the suite runs on the alert rules


def test_deploys_run_after_ci_dev_from_main_and_prod_from_tags_behind_approval():
    document = workflow("deploy.yml")
    assert document["on"]["push"] == {"branches": ["main"], "tags": ["v*"]}
    jobs = document["jobs"]
    assert jobs["ci"]["uses"] == "./.github/workflows/ci.yml"
    dev, prod = jobs["dev"], jobs["prod"]
    assert dev["if"] == "github.ref == 'refs/heads/main'"
    assert prod["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert dev["needs"] == prod["needs"] == "ci"
    assert prod["environment"]["name"] == "production"
    for stack, job in (("dev", dev), ("prod", prod)):
        assert job["concurrency"] == {"group": f"deploy-{stack}", "cancel-in-progress": False}
        [aws] = uses(job, "aws-actions/configure-aws-credentials")
        assert aws["with"]["role-to-assume"] == "${{ secrets.AWS_DEPLOY_ROLE_ARN }}"
        up = [step["with"] for step in uses(job, "pulumi/actions") if "with" in step]
        assert up == [{**up[0], "command": "up", "stack-name": stack,
                       "policyPacks": "platform/policy"}]
        assert f"stacks ops sync-static --stack {stack}" in runs(job)
    assert "stacks ops snapshot --stack prod" in runs(prod)


def test_pull_requests_get_the_offline_diff_and_a_credentialed_preview_only_with_secrets():
    jobs = workflow("preview.yml")["jobs"]
    diff = jobs["plan-diff"]
    assert 'stacks diff --base "origin/${BASE_REF}" "${STACK}"' in runs(diff)
    assert "--format markdown" in runs(diff)
    assert diff["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    [comment] = uses(diff, "marocchino/sticky-pull-request-comment")
    assert comment["with"]["header"] == "plan-diff-${{ matrix.stack }}"

    gate = jobs["credentials"]["steps"][0]["env"]
    assert gate["ROLE_ARN"] == "${{ secrets.AWS_PREVIEW_ROLE_ARN }}"
    preview = jobs["pulumi-preview"]
    assert preview["if"] == "needs.credentials.outputs.available == 'true'"
    [pulumi] = uses(preview, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["diff"] is True


def test_preview_environments_follow_the_pull_request():
    document = workflow("preview-env.yml")
    assert document["on"]["pull_request"]["types"] == [
        "opened", "reopened", "synchronize", "closed"]
    up, destroy = document["jobs"]["up"], document["jobs"]["destroy"]
    assert "github.event.action != 'closed'" in up["if"]
    assert "github.event.action == 'closed'" in destroy["if"]
    assert 'stacks preview up "$PR_NUMBER"' in runs(up)
    assert 'stacks preview destroy "$PR_NUMBER"' in runs(destroy)
    assert "steps.preview.outputs.url" in uses(up, "marocchino/sticky-pull-request-comment")[0][
        "with"]["message"]


def test_jenkins_has_the_same_stages_and_gates_prod_on_an_approval():
    jenkinsfile = (ROOT / "Jenkinsfile").read_text()
    assert re.findall(r"stage\('([^']+)'\)", jenkinsfile) == [
        "Lint", "Test", "Plan diff", "Pulumi preview", "Deploy dev", "Approve prod",
        "Deploy prod"]
    approve = jenkinsfile[jenkinsfile.index("stage('Approve prod')"):]
    assert "when { tag 'v*' }" in approve and "input message:" in approve
    assert "make test" in jenkinsfile
    assert "--base origin/${env.CHANGE_TARGET}" in jenkinsfile
    assert jenkinsfile.count("--policy-pack platform/policy") == 4
