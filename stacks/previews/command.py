"""`python -m stacks preview up ID | destroy ID | list`: preview environments, driven through
Pulumi's Automation API with the Pulumi CLI and the project in this directory.

`up` creates (or updates) the stack `preview-<ID>`, sets its config from the base stack's file
(stacks.preview.generated_config: region, owner, cost center, preview domain, plus the base
stack, the image version and, on creation only, the creation time the expiry counts from),
runs `pulumi up` with its output streamed, and prints the URL. `destroy` destroys the stack's
resources and removes the stack. `list` shows every preview stack with its URL and expiry.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from stacks.git import GitError, commit_version
from stacks.plan.command import PlanError, stack_config
from stacks.previews import environment as preview
from stacks.settings.fields import TIMESTAMP_FORMAT

ROOT = Path(__file__).resolve().parents[2]
NO_CLI = ("the Pulumi CLI is not installed: install it (see the Pulumi docs), log in with "
          "`pulumi login`, and run this again")
# Where `up` finds the stack whose cluster previews run on, unless --base-stack says.
BASE_STACK_VARIABLE = "SHOP_PREVIEW_BASE_STACK"


class PreviewError(Exception):
    """A preview command that cannot go on; its message is the whole story."""


def _require_cli() -> None:
    """The Automation API drives the Pulumi CLI: say what to install before it fails."""
    if shutil.which("pulumi") is None:
        raise PreviewError(NO_CLI)


def up(id_: str, base_stack: str, image_version: str | None, root: Path = ROOT,
       now: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
       ) -> str:
    """Create or update the preview; returns its URL."""
    _require_cli()
    name = _stack_name(id_)
    version = image_version or _commit_version(root)
    stack = auto.create_or_select_stack(stack_name=name, work_dir=str(root))
    created_at = _created_at(stack) or now().strftime(TIMESTAMP_FORMAT)
    config = {**preview.generated_config(name, _base_config(root), base_stack, created_at),
              "shop:imageVersion": version}
    stack.set_all_config({key: auto.ConfigValue(value=str(value))
                          for key, value in config.items()})
    result = stack.up(on_output=print)
    return str(result.outputs["url"].value)


def _created_at(stack: Any) -> str:
    """When the first `up` ran, for the expiry to count from: in the stack's config, or, on
    a fresh checkout (CI) without its stack file, in its outputs."""
    configured = stack.get_all_config().get("shop:previewCreatedAt")
    if configured is not None:
        return str(configured.value)
    exported = stack.outputs().get("createdAt")
    return str(exported.value) if exported is not None else ""


def destroy(id_: str, root: Path = ROOT) -> None:
    _require_cli()
    name = _stack_name(id_)
    try:
        stack = auto.select_stack(stack_name=name, work_dir=str(root))
    except auto.errors.StackNotFoundError:
        raise PreviewError(f"there is no preview {id_} (no stack {name})") from None
    stack.destroy(on_output=print)
    stack.workspace.remove_stack(name)


def list_previews(root: Path = ROOT) -> list[dict[str, str]]:
    """Every preview stack: its name, URL and expiry (empty until its first `up`)."""
    _require_cli()
    workspace = auto.LocalWorkspace(work_dir=str(root))
    found = []
    for summary in workspace.list_stacks():
        name = summary.name.rsplit("/", 1)[-1]
        if preview.preview_id(name) is None:
            continue
        outputs = workspace.stack_outputs(summary.name)
        found.append({"stack": name, **{key: str(outputs[key].value) if key in outputs else ""
                                        for key in ("url", "expiresAt")}})
    return found


def _stack_name(id_: str) -> str:
    try:
        return preview.stack_name(id_)
    except ValueError as error:
        raise PreviewError(str(error)) from None


def _commit_version(root: Path) -> str:
    try:
        return commit_version(root)
    except GitError as error:
        raise PreviewError(f"cannot name the image build: {error}") from None


def _base_config(root: Path) -> Mapping[str, Any]:
    try:
        return stack_config(preview.BASE_STACK, root)
    except PlanError as error:
        raise PreviewError(str(error)) from None


def _expired(expires_at: str, now: datetime.datetime) -> bool:
    if not expires_at:
        return False
    moment = datetime.datetime.strptime(expires_at, TIMESTAMP_FORMAT)
    return moment.replace(tzinfo=datetime.UTC) <= now


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "up":
            url = up(args.id, args.base_stack, args.image_version)
            print(f"preview {args.id} is up: {url}")
        elif args.action == "destroy":
            destroy(args.id)
            print(f"preview {args.id} is destroyed and its stack removed")
        else:
            _print_list(list_previews())
    except PreviewError as error:
        print(f"preview: {error}", file=sys.stderr)
        return 1
    except auto.errors.CommandError as error:
        # Pulumi's own output, streamed above, holds the details.
        print(f"preview: pulumi {args.action} failed: {_first_line(error)}", file=sys.stderr)
        return 1
    return 0


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _print_list(previews: list[dict[str, str]]) -> None:
    if not previews:
        print("no preview environments")
        return
    now = datetime.datetime.now(datetime.UTC)
    for item in previews:
        state = "expired" if _expired(item["expiresAt"], now) else "expires"
        expiry = f"{state} {item['expiresAt']}" if item["expiresAt"] else "never deployed"
        print(f"{item['stack']:<24} {item['url'] or '-':<48} {expiry}")


def add_parser(
        subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Registers `preview` on the `python -m stacks` parser."""
    command = subparsers.add_parser(
        "preview", help="preview environments on the dev cluster (needs the Pulumi CLI)",
        description=__doc__.split("\n\n")[1] if __doc__ else None)
    actions = command.add_subparsers(dest="action", required=True, metavar="ACTION")
    up_parser = actions.add_parser("up", help="create or update preview-<ID>, print its URL")
    up_parser.add_argument("id", help="the preview's id, like a pull request number")
    up_parser.add_argument(
        "--base-stack", default=os.environ.get(BASE_STACK_VARIABLE, preview.BASE_STACK),
        help=f"the stack whose cluster it runs on, like acme/shop/dev (default: "
             f"${BASE_STACK_VARIABLE}, else {preview.BASE_STACK})")
    up_parser.add_argument("--image-version", metavar="TAG",
                           help="the storefront build's tag (default: git-<commit>)")
    destroy_parser = actions.add_parser("destroy", help="destroy preview-<ID>, remove its stack")
    destroy_parser.add_argument("id")
    actions.add_parser("list", help="every preview stack with its URL and expiry")
    command.set_defaults(func=run)
    return command
