"""The CI/CD pipelines: every workflow is valid against GitHub's schema (check-jsonschema,
offline), and says what the project relies on: tests before deploys, an approval before prod,
least-privilege tokens, pinned actions, and the same stages on Jenkins. The shell the pipelines
run before each `pulumi up|preview` (naming the image, configuring the policy pack) is run
here too, against stand-ins for `pulumi` and the project's Python that record their calls."""

from __future__ import annotations

import json
import os
import re
import shutil
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
SHA = "0123456789abcdef0123456789abcdef01234567"
PACK_CONFIG = "${{ runner.temp }}/policy-pack-config.json"
PROD_RUNNER = ["self-hosted", "shop-prod"]


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


def pulumi_runs(job: dict[str, Any]) -> list[dict[str, Any]]:
    """The pulumi/actions steps that run a command (the others only install the CLI)."""
    return [step for step in uses(job, "pulumi/actions") if "with" in step]


def run_step(job: dict[str, Any], needle: str) -> tuple[int, str]:
    """The position and script of the one `run` step containing `needle`."""
    [found] = [(index, step["run"]) for index, step in enumerate(steps(job))
               if needle in step.get("run", "")]
    return found


def record_calls(script: str, tmp_path: Path, interpreter: str = "bash", **env: str,
                 ) -> list[str]:
    """Runs `script` with stand-ins for `pulumi` and `.venv/bin/python` that log their
    arguments (python also prints a URL, as `stacks preview up` does); returns the log."""
    log = tmp_path / "calls.log"
    log.unlink(missing_ok=True)
    fake = f'#!/bin/sh\necho "$(basename "$0") $*" >> "{log}"\necho https://pr.example.com\n'
    for path in (tmp_path / "bin" / "pulumi", tmp_path / ".venv" / "bin" / "python"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(fake)
        path.chmod(0o755)
    environment = {"PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "GITHUB_SHA": SHA,
                   "RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(tmp_path / "out"), **env}
    subprocess.run([shutil.which(interpreter) or interpreter, "-e", "-c", script], cwd=tmp_path,
                   env=environment, check=True, timeout=30, capture_output=True)
    return log.read_text().splitlines()


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
    assert re.search(r"^mypy$", runs(document["jobs"]["lint"]), re.MULTILINE)
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
        up = [step["with"] for step in pulumi_runs(job)]
        assert up == [{**up[0], "command": "up", "stack-name": stack,
                       "policyPacks": "platform/policy", "policyPackConfigs": PACK_CONFIG}]
        assert f"stacks ops sync-static --stack {stack}" in runs(job)
    assert "stacks ops snapshot --stack prod" in runs(prod)


@pytest.mark.parametrize(("stack", "env", "version"), [
    ("dev", {}, f"git-{SHA[:12]}"),
    ("prod", {"GITHUB_REF_NAME": "v1.4.0"}, "v1.4.0"),
])
def test_each_deploy_names_its_image_and_configures_the_policy_pack_first(
        tmp_path, stack, env, version):
    job = workflow("deploy.yml")["jobs"][stack]
    up = steps(job).index(pulumi_runs(job)[0])
    named, naming = run_step(job, "shop:imageVersion")
    configured, configuring = run_step(job, "pack_config.py")
    assert named < up and configured < up
    assert record_calls(naming, tmp_path, **env) == [
        f"pulumi config set --stack {stack} shop:imageVersion {version}"]
    assert record_calls(configuring, tmp_path) == [
        f"python platform/policy/pack_config.py {stack}"]
    assert (tmp_path / "policy-pack-config.json").read_text().strip() == "https://pr.example.com"


def test_prod_deploys_from_inside_its_vpc_and_dev_from_githubs_runners():
    jobs = workflow("deploy.yml")["jobs"]
    assert jobs["prod"]["runs-on"] == PROD_RUNNER
    assert jobs["dev"]["runs-on"] == "ubuntu-latest"
    header = (WORKFLOWS / "deploy.yml").read_text().split("\nname:")[0]
    assert "self-hosted" in header and "private" in header


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
    [pulumi] = pulumi_runs(preview)
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["diff"] is True
    assert pulumi["with"]["policyPackConfigs"] == PACK_CONFIG


def test_pulumi_preview_runs_prod_inside_its_vpc_named_and_configured_as_a_deploy(tmp_path):
    preview = workflow("preview.yml")["jobs"]["pulumi-preview"]
    assert preview["runs-on"] == "${{ fromJSON(matrix.runner) }}"
    runners = {entry["stack"]: json.loads(entry["runner"])
               for entry in preview["strategy"]["matrix"]["include"]}
    assert runners == {"dev": ["ubuntu-latest"], "prod": PROD_RUNNER}
    up = steps(preview).index(pulumi_runs(preview)[0])
    named, naming = run_step(preview, "shop:imageVersion")
    configured, configuring = run_step(preview, "pack_config.py")
    assert named < up and configured < up
    assert record_calls(naming, tmp_path, STACK="prod") == [
        f"pulumi config set --stack prod shop:imageVersion git-{SHA[:12]}"]
    assert record_calls(configuring, tmp_path, STACK="prod") == [
        "python platform/policy/pack_config.py prod"]


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


def test_preview_environments_run_pull_request_code_only_behind_the_preview_environment(
        tmp_path):
    document = workflow("preview-env.yml")
    assert set(document["on"]) == {"pull_request"}
    for job in document["jobs"].values():
        assert job["environment"] == "preview"  # its reviewers approve each run
        [aws] = uses(job, "aws-actions/configure-aws-credentials")
        assert aws["with"]["role-to-assume"] == "${{ secrets.AWS_PREVIEW_DEPLOY_ROLE_ARN }}"
    text = (WORKFLOWS / "preview-env.yml").read_text()
    assert "AWS_DEPLOY_ROLE_ARN" not in text.replace("AWS_PREVIEW_DEPLOY_ROLE_ARN", "")
    header = text.split("\nname:")[0]
    assert "ECR" in header and "preview-*" in header and "nothing in prod" in header
    _, script = run_step(document["jobs"]["up"], "stacks preview up")
    assert record_calls(script, tmp_path, PR_NUMBER="7")[0] == (
        f"python -m stacks preview up 7 --image-version git-{SHA[:12]}")
    assert (tmp_path / "out").read_text() == "url=https://pr.example.com\n"


@pytest.mark.parametrize("name", FILES)
def test_no_workflow_hands_secrets_to_a_pull_requests_head(name):
    document = workflow(name)
    assert "pull_request_target" not in document["on"]
    for job in document["jobs"].values():
        for checkout in uses(job, "actions/checkout"):
            assert "pull_request.head" not in str(checkout["with"].get("ref", ""))


def test_jenkins_has_the_same_stages_and_gates_prod_on_an_approval():
    jenkinsfile = (ROOT / "Jenkinsfile").read_text()
    assert re.findall(r"stage\('([^']+)'\)", jenkinsfile) == [
        "Lint", "Test", "Security scans", "Plan diff", "Pulumi preview", "Pulumi preview dev",
        "Pulumi preview prod", "Deploy dev", "Approve prod", "Deploy prod"]
    approve = jenkinsfile[jenkinsfile.index("stage('Approve prod')"):]
    assert "when { tag 'v*' }" in approve and "input message:" in approve
    assert "make test" in jenkinsfile
    lint = jenkinsfile[jenkinsfile.index("stage('Lint')"):jenkinsfile.index("stage('Test')")]
    assert ".venv/bin/ruff check ." in lint and ".venv/bin/mypy'" in lint
    assert "--base origin/${env.CHANGE_TARGET}" in jenkinsfile
    # Every update and preview goes through pulumiRun; prod's run inside its VPC.
    assert re.findall(r"pulumiRun\('([^']+)', '(\w+)'\)", jenkinsfile) == [
        ("preview", "dev"), ("preview", "prod"), ("up --yes", "dev"), ("up --yes", "prod")]
    for stage in ("Pulumi preview prod", "Deploy prod"):
        body = jenkinsfile[jenkinsfile.index(f"stage('{stage}')"):]
        assert re.search(r"agent \{[^\n]*label 'shop-prod'", body.split("steps")[0])


@pytest.mark.parametrize(("tag", "version"), [("", f"git-{SHA[:12]}"), ("v1.4.0", "v1.4.0")])
def test_jenkins_names_the_image_and_configures_the_policy_pack(tmp_path, tag, version):
    jenkinsfile = (ROOT / "Jenkinsfile").read_text()
    body = re.search(r'def pulumiRun\(String command, String stack\) \{\n\s+withPulumi """'
                     r'(.*?)"""', jenkinsfile, re.DOTALL).group(1)
    # As Groovy renders the GString for pulumiRun('up --yes', 'prod'); sh is POSIX here.
    script = (body.replace("${stack}", "prod").replace("${command}", "up --yes")
              .replace("\\$", "$"))
    assert record_calls(script, tmp_path, interpreter="dash", GIT_COMMIT=SHA, TAG_NAME=tag) == [
        f"pulumi config set --stack prod shop:imageVersion {version}",
        "python platform/policy/pack_config.py prod",
        "pulumi up --yes --stack prod --diff --policy-pack platform/policy "
        "--policy-pack-config policy-pack-config.json"]


# --- security scans and the image gate ----------------------------------------------------

def test_ci_scans_dependencies_dockerfile_kubernetes_objects_and_plans():
    job = workflow("ci.yml")["jobs"]["security"]
    script = runs(job)
    # Pinned scanners, in a venv of their own (checkov is not a project dependency).
    assert "pip-audit==2.10.1 checkov==3.3.30" in script
    assert "checkov" not in (ROOT / "requirements.txt").read_text()
    assert re.search(r"pip-audit\" --requirement requirements.txt --no-deps \\\s+--disable-pip",
                     script)
    assert ".venv/bin/hadolint --failure-threshold warning Dockerfile" in script
    assert 'stacks manifests "$stack" --out "$RUNNER_TEMP/k8s/$stack"' in script
    assert "for stack in dev prod" in script
    assert 'checkov" --config-file .checkov.yaml -d "$RUNNER_TEMP/k8s"' in script
    assert "stacks plan prod" in script
    # The Python code's static analysis: ruff's flake8-bandit rules, in the lint job.
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^select = \[[^\]]*"S"', pyproject, re.MULTILINE)


def test_checkov_fails_on_every_check_but_the_accepted_ones():
    config = yaml.safe_load((ROOT / ".checkov.yaml").read_text())
    assert config["framework"] == ["kubernetes"]
    assert config["skip-check"] == ["CKV_K8S_35"]
    text = (ROOT / ".checkov.yaml").read_text()
    assert "accepted risk" in text and "soft-fail" not in text


@pytest.mark.parametrize(("stack", "env", "version"), [
    ("dev", {}, f"git-{SHA[:12]}"),
    ("prod", {"GITHUB_REF_NAME": "v1.4.0"}, "v1.4.0"),
])
def test_each_deploy_pushes_the_image_alone_and_gates_on_its_scan_first(
        tmp_path, stack, env, version):
    job = workflow("deploy.yml")["jobs"][stack]
    up = steps(job).index(pulumi_runs(job)[0])
    named, _ = run_step(job, "shop:imageVersion")
    configured, _ = run_step(job, "pack_config.py")
    pushed, pushing = run_step(job, "stacks image-targets \"$STACK\")".replace(
        '"$STACK"', stack))
    gated, gating = run_step(job, "stacks ops scan-gate")
    assert named < pushed and configured < pushed < gated < up
    assert record_calls(pushing, tmp_path, **env) == [
        f"python -m stacks image-targets {stack}",
        f"pulumi up --stack {stack} --yes --skip-preview https://pr.example.com --policy-pack "
        f"platform/policy --policy-pack-config {tmp_path}/policy-pack-config.json"]
    gate_env = steps(job)[gated]["env"]
    assert gate_env["SCAN_FAIL_ON"] == "${{ vars.SCAN_FAIL_ON || 'HIGH' }}"
    assert record_calls(gating, tmp_path, SCAN_FAIL_ON="HIGH", **env) == [
        f"python -m stacks image-targets {stack} --repository",
        f"python -m stacks ops scan-gate --stack {stack} --tag {version} "
        "--repository https://pr.example.com --fail-on HIGH"]


def test_jenkins_scans_and_gates_each_deploy_on_the_image_scan(tmp_path):
    jenkinsfile = (ROOT / "Jenkinsfile").read_text()
    scans = jenkinsfile[jenkinsfile.index("stage('Security scans')"):
                        jenkinsfile.index("stage('Plan diff')")]
    for needle in ("pip-audit --requirement requirements.txt", "hadolint --failure-threshold",
                   "stacks manifests", "checkov --config-file .checkov.yaml", "stacks plan prod"):
        assert needle in scans
    for stack in ("dev", "prod"):
        deploy = jenkinsfile[jenkinsfile.index(f"stage('Deploy {stack}')"):]
        assert deploy.index(f"gateImage('{stack}')") < deploy.index(
            f"pulumiRun('up --yes', '{stack}')")
    body = re.search(r'def gateImage\(String stack\) \{\n\s+withPulumi """(.*?)"""',
                     jenkinsfile, re.DOTALL).group(1)
    script = body.replace("${stack}", "prod").replace("\\$", "$")
    calls = record_calls(script, tmp_path, interpreter="dash", GIT_COMMIT=SHA, TAG_NAME="v1.4.0")
    assert calls == [
        "pulumi config set --stack prod shop:imageVersion v1.4.0",
        "python platform/policy/pack_config.py prod",
        "python -m stacks image-targets prod",
        "pulumi up --yes --skip-preview --stack prod --policy-pack platform/policy "
        "--policy-pack-config policy-pack-config.json https://pr.example.com",
        "python -m stacks image-targets prod --repository",
        "python -m stacks ops scan-gate --stack prod --repository https://pr.example.com "
        "--tag v1.4.0 --fail-on HIGH"]


def test_ci_runs_the_program_from_a_venv_of_requirements_alone():
    """What `pulumi install` gives a fresh clone; tests/infra/test_fresh_clone.py is the same
    check with the suite's own site-packages, here a venv with nothing but requirements.txt."""
    script = runs(workflow("ci.yml")["jobs"]["fresh-clone"])
    assert 'python -m venv "$RUNNER_TEMP/fresh"' in script
    assert '"$RUNNER_TEMP/fresh/bin/pip" install -q --disable-pip-version-check -r ' \
        "requirements.txt" in script
    assert " -e " not in script and "install ." not in script
    assert ('"$RUNNER_TEMP/fresh/bin/python" -I tests/infra/language_host.py '
            "platform/__main__.py dev") in script
    assert (ROOT / "tests" / "infra" / "language_host.py").is_file()


def diff_step(name: str) -> dict[str, Any]:
    [step] = [s for s in workflow("preview.yml")["jobs"]["plan-diff"]["steps"]
              if s.get("name") == name]
    return step


@pytest.mark.parametrize(("status", "step_fails", "recorded"), [
    (0, False, "0"), (2, False, "2"), (3, False, "3"), (4, False, "4"), (1, True, None)])
def test_the_diff_step_keeps_the_comment_for_3_and_4_and_stops_on_an_error(
        tmp_path: Path, status: int, step_fails: bool, recorded: str | None):
    """The step's own script, run with `python -m stacks diff` replaced by one exiting
    `status`: an error stops the job at once; 3 and 4 go on to comment, then fail."""
    fake = tmp_path / ".venv" / "bin" / "python"
    fake.parent.mkdir(parents=True)
    fake.write_text(f"#!/bin/sh\necho '### Plan diff'\nexit {status}\n")
    fake.chmod(0o755)
    output, summary = tmp_path / "output", tmp_path / "summary"
    step = diff_step("python -m stacks diff")
    env = {"PATH": "/usr/bin:/bin", "BASE_REF": "main", "STACK": "dev",
           "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    result = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env,
                            capture_output=True, text=True, check=False)
    assert (result.returncode != 0) is step_fails
    if recorded is not None:
        assert output.read_text() == f"status={recorded}\n"
        assert summary.read_text() == "### Plan diff\n"
    fail = diff_step("Fail on a new mandatory finding or a destructive change")
    assert fail["if"] == "steps.diff.outputs.status == '3' || steps.diff.outputs.status == '4'"
    assert step["env"]["DIFF_COMMIT_SHA"] == "${{ github.event.pull_request.head.sha }}"


def test_jenkins_archives_the_diffs_then_fails_on_3_or_4():
    stage = (ROOT / "Jenkinsfile").read_text().split("stage('Plan diff')")[1].split("stage(")[0]
    assert "status == 3 || status == 4" in stage
    assert stage.index("archiveArtifacts") < stage.index("if (blocked)")
