"""`python -m stacks preview up | destroy | list`, with a fake Automation API standing in for
the Pulumi CLI: the message without the CLI, the config `up` sets, what `destroy` removes, what
`list` shows; and the image version named after the commit."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from stacks.__main__ import main
from stacks.git import GitError, commit_version
from stacks.plan.command import ROOT
from stacks.previews import command as preview_command
from stacks.settings import load_from_mapping

CREATED_AT = "2026-05-01T12:00:00Z"


class FakeStack:
    def __init__(self, name: str, config: dict[str, Any] | None = None,
                 exported: dict[str, Any] | None = None) -> None:
        self.name = name
        self.config = dict(config or {})
        self.exported = dict(exported or {})
        self.calls: list[str] = []
        self.workspace = SimpleNamespace(
            remove_stack=lambda stack_name: self.calls.append(f"remove {stack_name}"))

    def get_all_config(self) -> dict[str, Any]:
        return self.config

    def outputs(self) -> dict[str, Any]:
        return self.exported

    def set_all_config(self, config: dict[str, Any]) -> None:
        self.calls.append("set_all_config")
        self.config.update(config)

    def up(self, on_output) -> SimpleNamespace:
        self.calls.append("up")
        on_output("Updating (preview-42)")
        host = f"pr-{self.name.removeprefix('preview-')}.preview.shop.example.com"
        return SimpleNamespace(outputs={"url": SimpleNamespace(value=f"http://{host}")})

    def destroy(self, on_output) -> None:
        self.calls.append("destroy")


class CommandError(Exception):
    pass


class StackNotFoundError(CommandError):
    pass


def fake_automation(stacks: dict[str, FakeStack], outputs: dict[str, dict[str, Any]]):
    def create_or_select_stack(stack_name: str, work_dir: str) -> FakeStack:
        assert Path(work_dir) == ROOT
        return stacks.setdefault(stack_name, FakeStack(stack_name))

    def select_stack(stack_name: str, work_dir: str) -> FakeStack:
        if stack_name not in stacks:
            raise StackNotFoundError(stack_name)
        return stacks[stack_name]

    workspace = SimpleNamespace(
        list_stacks=lambda: [SimpleNamespace(name=name) for name in ["dev", "prod", *outputs]],
        stack_outputs=lambda name: {key: SimpleNamespace(value=value)
                                    for key, value in outputs[name].items()})
    return SimpleNamespace(
        create_or_select_stack=create_or_select_stack, select_stack=select_stack,
        LocalWorkspace=lambda work_dir: workspace,
        ConfigValue=lambda value, secret=False: SimpleNamespace(value=value, secret=secret),
        errors=SimpleNamespace(CommandError=CommandError, StackNotFoundError=StackNotFoundError))


@pytest.fixture
def with_cli(monkeypatch):
    monkeypatch.setattr(preview_command.shutil, "which", lambda name: name)


@pytest.mark.parametrize("argv", [["up", "42"], ["destroy", "42"], ["list"]])
def test_without_the_pulumi_cli_it_says_what_to_install(monkeypatch, capsys, argv):
    monkeypatch.setattr(preview_command.shutil, "which", lambda name: None)
    monkeypatch.setattr(preview_command, "auto", SimpleNamespace())  # never reached
    assert main(["preview", *argv]) == 1
    error = capsys.readouterr().err
    assert error == ("preview: the Pulumi CLI is not installed: install it (see the Pulumi "
                     "docs), log in with `pulumi login`, and run this again\n")


def test_up_sets_the_preview_config_and_prints_the_url(monkeypatch, capsys, with_cli):
    stacks: dict[str, FakeStack] = {}
    monkeypatch.setattr(preview_command, "auto", fake_automation(stacks, {}))
    assert main(["preview", "up", "42", "--base-stack", "acme/shop/dev",
                 "--image-version", "git-0123456789ab"]) == 0
    stack = stacks["preview-42"]
    assert stack.calls == ["set_all_config", "up"]
    config = {key: value.value for key, value in stack.config.items()}
    created_at = config.pop("shop:previewCreatedAt")
    assert config == {
        "aws:region": "us-east-1", "shop:environment": "preview",
        "shop:baseStack": "acme/shop/dev", "shop:previewDomain": "preview.shop.example.com",
        "shop:owner": "platform-team", "shop:costCenter": "shop-dev",
        "shop:imageVersion": "git-0123456789ab"}
    assert not any(value.secret for value in stack.config.values())
    # What up sets, the settings accept: a preview of this very config loads.
    settings = load_from_mapping("preview-42", {**config, "shop:previewCreatedAt": created_at})
    assert settings.preview.created_at == created_at
    out = capsys.readouterr().out
    assert out.splitlines() == ["Updating (preview-42)",
                                "preview 42 is up: http://pr-42.preview.shop.example.com"]


@pytest.mark.parametrize("where", ["config", "outputs"])
def test_up_again_keeps_the_creation_time(monkeypatch, with_cli, where):
    """From the stack file locally, from the stack's outputs on a fresh CI checkout."""
    created = SimpleNamespace(value=CREATED_AT, secret=False)
    existing = (FakeStack("preview-42", {"shop:previewCreatedAt": created}) if where == "config"
                else FakeStack("preview-42", exported={"createdAt": created}))
    stacks = {"preview-42": existing}
    monkeypatch.setattr(preview_command, "auto", fake_automation(stacks, {}))
    url = preview_command.up("42", "dev", "git-1")
    assert url == "http://pr-42.preview.shop.example.com"
    assert existing.config["shop:previewCreatedAt"].value == CREATED_AT
    assert existing.config["shop:imageVersion"].value == "git-1"


def test_a_failed_up_exits_1_with_one_line(monkeypatch, capsys, with_cli):
    stacks = {"preview-42": FakeStack("preview-42")}

    def failing_up(on_output):
        raise CommandError("code: 255\n stdout: ...\n stderr: error: update failed")

    stacks["preview-42"].up = failing_up
    monkeypatch.setattr(preview_command, "auto", fake_automation(stacks, {}))
    assert main(["preview", "up", "42", "--image-version", "v1"]) == 1
    assert capsys.readouterr().err == "preview: pulumi up failed: code: 255\n"


def test_a_bad_id_exits_1(monkeypatch, capsys, with_cli):
    monkeypatch.setattr(preview_command, "auto", fake_automation({}, {}))
    assert main(["preview", "up", "Bad_Id", "--image-version", "v1"]) == 1
    assert "a preview id must be 1-20 lowercase letters" in capsys.readouterr().err


def test_destroy_removes_the_stack_too(monkeypatch, capsys, with_cli):
    stacks = {"preview-42": FakeStack("preview-42")}
    monkeypatch.setattr(preview_command, "auto", fake_automation(stacks, {}))
    assert main(["preview", "destroy", "42"]) == 0
    assert stacks["preview-42"].calls == ["destroy", "remove preview-42"]
    assert main(["preview", "destroy", "43"]) == 1
    assert "there is no preview 43 (no stack preview-43)" in capsys.readouterr().err


def test_list_shows_preview_stacks_with_url_and_expiry(monkeypatch, capsys, with_cli):
    outputs = {
        "acme/preview-42": {"url": "http://pr-42.preview.shop.example.com",
                            "expiresAt": "2000-01-08T00:00:00Z"},
        "preview-43": {"url": "http://pr-43.preview.shop.example.com",
                       "expiresAt": "2999-01-01T00:00:00Z"},
        "preview-44": {},
    }
    monkeypatch.setattr(preview_command, "auto", fake_automation({}, outputs))
    assert main(["preview", "list"]) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert lines == [
        ["preview-42", "http://pr-42.preview.shop.example.com", "expired",
         "2000-01-08T00:00:00Z"],
        ["preview-43", "http://pr-43.preview.shop.example.com", "expires",
         "2999-01-01T00:00:00Z"],
        ["preview-44", "-", "never", "deployed"],
    ]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, capture_output=True, check=True)


def test_the_image_version_names_the_commit(tmp_path: Path):
    git(tmp_path, "init", "--quiet")
    (tmp_path / "file").write_text("one", encoding="utf-8")
    git(tmp_path, "add", "file")
    git(tmp_path, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", "1")
    version = commit_version(tmp_path)
    assert len(version) == len("git-") + 12 and version.startswith("git-")
    (tmp_path / "file").write_text("two", encoding="utf-8")
    with pytest.raises(GitError, match="uncommitted changes"):
        commit_version(tmp_path)
