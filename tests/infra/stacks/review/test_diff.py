"""`python -m stacks diff`: hand-made plans through each kind of change, the replacement
table, secret masking, both output formats and the exit codes; `--base` against git."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stacks.__main__ import main
from stacks.review.diff import MISSING, PropertyChange, compare, diff_plans, looks_secret
from stacks.review.render import MARKDOWN_BUDGET, render_markdown, render_text
from stacks.review.replacements import forces_replacement

ROOT = Path(__file__).resolve().parents[4]
STACK = "urn:pulumi:dev::shop::"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-dev/storefront@sha256:"


def resource(type_: str, name: str, inputs: dict[str, Any], **options: Any) -> dict[str, Any]:
    return {"urn": f"{STACK}{type_}::{name}", "type": type_, "name": name, "parent": "",
            "inputs": inputs, "options": options}


def before_plan() -> dict[str, Any]:
    return {"stack": "dev", "project": "shop", "outputs": {"vpcId": "vpc-1", "kubeconfig":
                                                           "[secret]"},
            "resources": [
        resource("aws:ec2/subnet:Subnet", "network-private-us-east-1a", {
            "cidrBlock": "10.10.0.0/20", "vpcId": "vpc-1",
            "tags": {"Owner": "platform-team", "Name": "network-private-us-east-1a"}}),
        resource("aws:rds/instance:Instance", "database-primary", {
            "identifier": "shop-dev", "instanceClass": "db.t4g.micro", "password": "hunter2-old",
            "tags": {"Owner": "platform-team"}}),
        resource("kubernetes:apps/v1:Deployment", "storefront-deployment", {
            "metadata": {"name": "storefront", "namespace": "shop",
                         "annotations": {"app.kubernetes.io/version": "1"}},
            "spec": {"selector": {"matchLabels": {"app": "storefront"}}, "template": {"spec": {
                "containers": [{"name": "web", "image": IMAGE + "a" * 64, "env": [
                    {"name": "LOG_LEVEL", "value": "INFO"},
                    {"name": "DB_PASSWORD", "value": "clear-old-password"}]}]}}}}),
        resource("kubernetes:core/v1:Secret", "storefront-secrets", {
            "metadata": {"namespace": "shop"}, "stringData": {"DATABASE_URL": "[secret]",
                                                              "EXTRA": "visible-before"}}),
        resource("aws:iam/rolePolicy:RolePolicy", "assets-policy", {"policy": json.dumps(
            {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]})}),
        resource("aws:s3/bucket:Bucket", "old-logs", {"bucket": "old-logs"}),
    ]}


def after_plan() -> dict[str, Any]:
    plan = copy.deepcopy(before_plan())
    subnet, database, deployment, secret, policy, _old_logs = plan["resources"]
    subnet["inputs"]["cidrBlock"] = "10.10.32.0/20"
    database["inputs"]["tags"]["Owner"] = "data-team"
    database["inputs"]["password"] = "hunter2-new"
    container = deployment["inputs"]["spec"]["template"]["spec"]["containers"][0]
    container["image"] = IMAGE + "b" * 64
    container["env"][1]["value"] = "clear-new-password"
    deployment["inputs"]["metadata"]["annotations"]["app.kubernetes.io/version"] = "2"
    secret["inputs"]["stringData"]["EXTRA"] = "visible-after"
    policy["inputs"]["policy"] = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"}]})
    plan["resources"] = [r for r in plan["resources"] if r["name"] != "old-logs"]
    plan["resources"] += [
        resource("aws:s3/bucket:Bucket", "assets", {"bucket": "shop-dev-assets",
                                                    "tags": {"Owner": "platform-team"}}),
        resource("random:index/randomPassword:RandomPassword", "jwt", {"length": 64}),
    ]
    plan["outputs"]["vpcId"] = "vpc-2"
    return plan


@pytest.fixture(scope="module")
def diff():
    return diff_plans(before_plan(), after_plan())


def write(tmp_path: Path, name: str, plan: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(plan), encoding="utf-8")
    return str(path)


def test_each_resource_lands_in_its_category(diff):
    by_operation = {op: sorted(c.name for c in diff.of(op))
                    for op in ("create", "update", "delete", "replace")}
    assert by_operation == {
        "create": ["assets", "jwt"],
        "update": ["assets-policy", "database-primary", "storefront-deployment"],
        "delete": ["old-logs"],
        "replace": ["network-private-us-east-1a", "storefront-secrets"],
    }
    assert diff.summary() == "+2 ~3 -1 +-2"
    assert diff.unchanged == 0


def test_property_changes_carry_nested_paths_before_and_after(diff):
    (deployment,) = [c for c in diff.resources if c.name == "storefront-deployment"]
    changes = {c.path: (c.before, c.after) for c in deployment.changes}
    assert changes["spec.template.spec.containers[0].image"] == (IMAGE + "a" * 64,
                                                                  IMAGE + "b" * 64)
    assert changes['metadata.annotations["app.kubernetes.io/version"]'] == ("1", "2")
    (database,) = [c for c in diff.resources if c.name == "database-primary"]
    assert PropertyChange("tags.Owner", "platform-team", "data-team") in database.changes
    (policy,) = [c for c in diff.resources if c.name == "assets-policy"]
    # A JSON policy document is compared as a document, not as one long string.
    assert policy.changes == (PropertyChange("policy.Statement[0].Action[1]", MISSING,
                                             "s3:PutObject"),)
    assert [(c.path, c.before, c.after) for c in diff.outputs] == [("vpcId", "vpc-1", "vpc-2")]


def test_a_subnet_cidr_change_is_a_replacement_called_out_at_the_top(diff):
    text = render_text(diff)
    lines = text.splitlines()
    # The deleted bucket loses data: that comes right under the title, then the verdict.
    assert lines[2:4] == [
        "\u2716 DESTRUCTIVE CHANGE: 1 resource is stateful or protected, and replaced or deleted",
        "  - aws:s3/bucket:Bucket  old-logs"]
    assert lines[5] == "policy: 1 new finding(s) (0 mandatory), 0 resolved"
    warning = lines.index("\u26a0 replacements: 2 resources are deleted and created again")
    assert warning == 8
    assert lines[warning + 1] == (
        "  +- aws:ec2/subnet:Subnet  network-private-us-east-1a  (cidrBlock)")
    assert ('        ~ cidrBlock: "10.10.0.0/20" => "10.10.32.0/20"  (forces replacement)'
            in lines)
    # Replacements come first in the body too, then deletes, updates and creates.
    grouped = lines[lines.index("(stack)") + 1:lines.index("Outputs:")]
    body = [line.strip().split("  ")[0] for line in grouped
            if line[2:4] in ("+-", "- ", "~ ", "+ ")]
    assert body == ["+- aws:ec2/subnet:Subnet", "+- kubernetes:core/v1:Secret",
                    "- aws:s3/bucket:Bucket", "~ aws:iam/rolePolicy:RolePolicy",
                    "~ aws:rds/instance:Instance", "~ kubernetes:apps/v1:Deployment",
                    "+ aws:s3/bucket:Bucket", "+ random:index/randomPassword:RandomPassword"]
    assert lines[-1] == "Resources: +2 ~3 -1 +-2 (0 unchanged)"


def test_secrets_never_show(diff):
    for output in (render_text(diff), render_markdown(diff)):
        for clear in ("hunter2", "clear-old-password", "clear-new-password", "visible-before",
                      "visible-after"):
            assert clear not in output
        assert '~ password: "[secret]" => "[secret]"' in output or (
            '- password: "[secret]"' in output)
        assert 'containers[0].env[1].value: "[secret]"' in output
        # The env var that is not secret still shows.
        assert "LOG_LEVEL" not in output  # unchanged, so not listed at all


@pytest.mark.parametrize(("key", "secret"), [
    ("password", True), ("masterPassword", True), ("authToken", True), ("SECRET_KEY", True),
    ("kubeconfig", True), ("secretArn", False), ("secretKeyRef", False), ("secretName", False),
    ("tags", False), ("automountServiceAccountToken", True),
])
def test_which_keys_look_secret(key: str, secret: bool):
    assert looks_secret(key) is secret


def test_flags_under_a_secret_looking_key_still_show():
    changes = list(compare({"automountServiceAccountToken": True},
                           {"automountServiceAccountToken": False}, ""))
    assert changes == [("automountServiceAccountToken", True, False)]
    # Anything else under a secret key is masked, numbers and JSON documents included.
    assert list(compare({"apiKey": 1234, "secretJson": '{"pin": 1}'},
                        {"apiKey": 4321, "secretJson": '{"pin": 2}'}, "")) == [
        ("apiKey", "[secret]", "[secret]"), ("secretJson", "[secret]", "[secret]")]


@pytest.mark.parametrize(("type_", "path", "replaces"), [
    ("aws:ec2/subnet:Subnet", "cidrBlock", True),
    ("aws:ec2/subnet:Subnet", "availabilityZone", True),
    ("aws:ec2/subnet:Subnet", "tags.Owner", False),
    ("aws:rds/instance:Instance", "identifier", True),
    ("aws:rds/instance:Instance", "storageEncrypted", True),
    ("aws:rds/instance:Instance", "instanceClass", False),
    ("aws:ec2/vpc:Vpc", "cidrBlock", True),
    ("aws:elasticache/replicationGroup:ReplicationGroup", "atRestEncryptionEnabled", True),
    ("aws:s3/bucketPolicy:BucketPolicy", "bucket", True),
    ("aws:s3/bucket:Bucket", "tags.Name", False),
    ("kubernetes:core/v1:Service", "metadata.name", True),
    ("kubernetes:core/v1:Service", "metadata.namespace", True),
    ("kubernetes:core/v1:Service", "metadata.labels.app", False),
    ("kubernetes:apps/v1:Deployment", "spec.selector.matchLabels.app", True),
    ("kubernetes:apps/v1:Deployment", "spec.selectorX", False),
    ("kubernetes:apps/v1:Deployment", "spec.template.spec.containers[0].image", False),
    ("random:index/randomPassword:RandomPassword", "length", True),
])
def test_the_replacement_table(type_: str, path: str, replaces: bool):
    assert forces_replacement(type_, path) is replaces


def test_replace_on_changes_and_a_new_provider_force_replacement():
    before = {"resources": [
        resource("kubernetes:core/v1:ConfigMap", "a", {"metadata": {"labels": {"x": "1"}}},
                 replaceOnChanges=["metadata.labels"]),
        resource("kubernetes:core/v1:Namespace", "b", {"metadata": {"name": "b"}},
                 provider="urn:pulumi:dev::shop::pulumi:providers:kubernetes::one"),
        resource("aws:s3/bucket:Bucket", "c", {"bucket": "c"}, protect=True),
    ]}
    after = copy.deepcopy(before)
    after["resources"][0]["inputs"]["metadata"]["labels"]["x"] = "2"
    after["resources"][1]["options"]["provider"] = (
        "urn:pulumi:dev::shop::pulumi:providers:kubernetes::two")
    after["resources"][2]["options"] = {}
    diff = diff_plans(before, after)
    assert [(c.name, c.operation) for c in diff.resources] == [
        ("a", "replace"), ("b", "replace"), ("c", "update")]
    assert diff.resources[2].changes == (PropertyChange("(options).protect", True, MISSING),)


def test_markdown_is_ready_for_a_pull_request(diff):
    markdown = render_markdown(diff, "Plan diff of `dev`: `main` \u2192 this change")
    lines = markdown.splitlines()
    assert lines[0] == "<!-- shop-plan-diff: dev -->"
    assert lines[1] == "### Plan diff of `dev`: `main` \u2192 this change"
    assert lines[3].startswith("**+2 ~3 -1 +-2**")
    warning = lines.index("> [!WARNING]")
    assert "> - `aws:ec2/subnet:Subnet` **network-private-us-east-1a**: `cidrBlock`" in lines
    first_details = next(i for i, line in enumerate(lines) if line.startswith("<details>"))
    assert warning < first_details  # replacements before any resource
    assert markdown.count("<details>") == len(diff.resources) + 1  # + the outputs
    assert markdown.count("</details>") == markdown.count("<details>")
    assert ("<details><summary><code>+-</code> replace <code>aws:ec2/subnet:Subnet</code> "
            "network-private-us-east-1a</summary>") in lines
    assert '- cidrBlock: "10.10.0.0/20"' in lines
    assert '+ cidrBlock: "10.10.32.0/20"  (forces replacement)' in lines


def test_markdown_stays_under_the_comment_limit():
    big = {"resources": [resource("aws:s3/bucket:Bucket", f"b{i}", {"tags": {
        f"k{j}": "v" * 50 for j in range(40)}}) for i in range(60)]}
    markdown = render_markdown(diff_plans({"resources": []}, big))
    assert len(markdown) < MARKDOWN_BUDGET + 1000
    assert "more change(s) not shown here (comment size limit)" in markdown


def test_exit_codes(tmp_path: Path, capsys):
    before, after = write(tmp_path, "a.json", before_plan()), write(tmp_path, "b.json",
                                                                    after_plan())
    assert main(["diff", before, before]) == 0
    assert "No changes. Resources: +0 ~0 -0 +-0 (6 unchanged)" in capsys.readouterr().out
    # The deleted bucket is a destructive change: 4, unless told not to fail.
    assert main(["diff", before, after]) == 4
    assert "Resources: +2 ~3 -1 +-2" in capsys.readouterr().out
    assert main(["diff", before, after, "--format", "markdown"]) == 4
    assert capsys.readouterr().out.startswith("<!-- shop-plan-diff: dev -->")
    assert main(["diff", before, after, "--no-fail"]) == 2
    kept = after_plan()
    kept["resources"].append(before_plan()["resources"][-1])  # the bucket stays
    kept_path = write(tmp_path, "c.json", kept)
    assert main(["diff", before, kept_path]) == 2
    # A new mandatory finding in the after plan: 3, whatever else changes.
    kept["findings"] = [{"policy": "rds-encrypted", "urn": kept["resources"][1]["urn"],
                         "name": "database-primary", "enforcement": "mandatory",
                         "message": "storage is not encrypted at rest"}]
    assert main(["diff", before, write(tmp_path, "d.json", kept)]) == 3
    printed = capsys.readouterr().out
    assert ("  new [mandatory] rds-encrypted: database-primary: storage is not encrypted at rest"
            in printed)
    # ...and once fixed, the finding shows as resolved and the exit code is back to 2.
    assert main(["diff", write(tmp_path, "d.json", kept), kept_path]) == 2
    assert ("  resolved [mandatory] rds-encrypted: database-primary: storage is not encrypted "
            "at rest") in capsys.readouterr().out


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such plan file"),
    ("{not json", "not a readable JSON plan"),
    ('{"resources": [{"urn": 1}]}', "not a plan"),
    ('["a list"]', "not a plan"),
])
def test_a_bad_plan_file_exits_1_with_one_line(tmp_path: Path, capsys, content, message):
    good = write(tmp_path, "good.json", before_plan())
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content, encoding="utf-8")
    assert main(["diff", good, str(bad)]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"diff: {bad}: {message}")
    assert len(error.strip().splitlines()) == 1
    assert "Traceback" not in error


def test_wrong_arguments_exit_1(tmp_path: Path, capsys):
    good = write(tmp_path, "good.json", before_plan())
    assert main(["diff", good]) == 1
    assert "give two plan files" in capsys.readouterr().err
    assert main(["diff", "--base", "HEAD", good, good]) == 1
    assert "with --base give one STACK" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["diff", good, good, "--format", "html"])
    assert exited.value.code == 1


def test_an_unknown_git_ref_exits_1(capsys):
    assert main(["diff", "--base", "no-such-ref-anywhere", "dev"]) == 1
    assert capsys.readouterr().err == "diff: unknown git ref 'no-such-ref-anywhere'\n"


# `--base`: the real program planned in a git worktree, in a throwaway repository holding a
# copy of the project (this checkout's history may not contain it yet). The preview stack is
# the quickest real plan.
PROJECT_PARTS = ("stacks", "components", "Pulumi.yaml", "Pulumi.dev.yaml")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                          check=True).stdout


def copy_project(repo: Path) -> Path:
    for part in PROJECT_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, repo / part,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, repo / part)
    git(repo, "init", "--quiet")
    git(repo, "add", ".")
    return repo


@pytest.fixture(scope="module")
def project_repo(tmp_path_factory) -> Path:
    repo = copy_project(tmp_path_factory.mktemp("project"))
    git(repo, "-c", "user.name=Test", "-c", "user.email=test@example.com",
        "commit", "--quiet", "-m", "the project")
    return repo


def stacks_cli(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(repo)}
    return subprocess.run([sys.executable, "-m", "stacks", *args], cwd=repo, env=env,
                          capture_output=True, text=True, check=False)


@pytest.mark.slow
def test_base_head_without_changes_exits_0_and_leaves_no_worktree(project_repo: Path):
    result = stacks_cli(project_repo, "diff", "--base", "HEAD", "preview-42")
    assert result.returncode == 0, result.stderr
    title, blank, summary = result.stdout.splitlines()
    assert (title, blank) == ("Plan diff of stack preview-42", "")
    assert re.fullmatch(r"No changes\. Resources: \+0 ~0 -0 \+-0 \(\d+ unchanged\)", summary)
    assert len(git(project_repo, "worktree", "list").splitlines()) == 1
    # Progress goes to stderr, one line as each plan starts and one as it ends.
    progress = result.stderr.splitlines()
    assert progress[0] == "diff: planning preview-42 at HEAD..."
    assert re.fullmatch(r"diff: planning preview-42 at HEAD: done in \d+\.\ds", progress[1])
    assert progress[2] == "diff: planning preview-42 in the working tree..."
    assert re.fullmatch(r"diff: planning preview-42 in the working tree: done in \d+\.\ds",
                        progress[3])


@pytest.mark.slow
def test_base_head_shows_an_uncommitted_change(project_repo: Path):
    stack_file = project_repo / "Pulumi.dev.yaml"
    committed = stack_file.read_text(encoding="utf-8")
    stack_file.write_text(committed.replace("preview.shop.example.com", "pr.example.org"),
                          encoding="utf-8")
    try:
        result = stacks_cli(project_repo, "diff", "--base", "HEAD", "preview-42",
                            "--format", "markdown")
    finally:
        stack_file.write_text(committed, encoding="utf-8")
    assert result.returncode == 2, result.stderr
    assert ('+ spec.rules[0].host: "pr-42.pr.example.org"' in result.stdout.splitlines())
    assert "### Plan diff of `preview-42`: `HEAD` \u2192 this change" in result.stdout
    assert len(git(project_repo, "worktree", "list").splitlines()) == 1


def test_a_plan_that_fails_at_the_base_exits_1(project_repo: Path):
    result = stacks_cli(project_repo, "diff", "--base", "HEAD", "staging")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == "diff: planning staging at HEAD..."
    assert result.stderr.splitlines()[-1].startswith("diff: planning staging at HEAD failed: ")
    assert "Traceback" not in result.stderr
    assert len(git(project_repo, "worktree", "list").splitlines()) == 1


def test_a_commit_is_planned_with_its_own_code_only(tmp_path: Path):
    """A module the commit lacks is not borrowed from elsewhere (an editable install of the
    project would otherwise supply this checkout's copy)."""
    repo = copy_project(tmp_path)
    git(repo, "rm", "--cached", "--quiet", "stacks/previews/environment.py")
    git(repo, "-c", "user.name=Test", "-c", "user.email=test@example.com",
        "commit", "--quiet", "-m", "without the preview module")
    result = stacks_cli(repo, "diff", "--base", "HEAD", "preview-42")
    assert result.returncode == 1
    assert ("diff: planning preview-42 at HEAD failed: ModuleNotFoundError: "
            "No module named 'stacks.previews.environment'") in result.stderr


def test_a_usage_error_exits_1_never_2_which_means_changes(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["diff", "--no-such-flag", "a.json", "b.json"])
    assert exited.value.code == 1
    assert "unrecognized arguments: --no-such-flag" in capsys.readouterr().err
