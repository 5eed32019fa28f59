"""`python -m stacks diff BEFORE AFTER` or `python -m stacks diff --base GIT_REF STACK`.

Compares two plan files (`python -m stacks plan STACK --out FILE`), or plans STACK at GIT_REF
(in a temporary git worktree) and in the working tree and compares those. Prints what would be
created (+), updated (~), deleted (-) and replaced (+-), replacements first, with each changed
property before and after and secrets masked; `--format markdown` gives a pull request
comment. Exit code: 0 without changes, 2 with changes, 1 on an error. No credentials, no
Pulumi CLI.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any, NoReturn

from stacks.review.diff import DiffError, diff_plans, load_plan
from stacks.review.render import render_markdown, render_text
from stacks.review.worktree import plan_at_ref, plan_tree

ROOT = Path(__file__).resolve().parents[2]
NO_CHANGES, ERROR, CHANGES = 0, 1, 2


def plans_since(ref: str, stack: str, root: Path = ROOT) -> tuple[dict[str, Any], dict[str, Any]]:
    """The plan of `stack` at `ref` and in the working tree at `root`."""
    with tempfile.TemporaryDirectory(prefix="shop-diff-") as tmp:
        before, after = Path(tmp) / "before.json", Path(tmp) / "after.json"
        plan_at_ref(ref, stack, before, root)
        plan_tree(stack, after, root, "the working tree")
        return load_plan(before), load_plan(after)


def _plans(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    if args.base is not None:
        if len(args.plans) != 1:
            raise DiffError("with --base give one STACK, like: python -m stacks diff --base "
                            "main prod")
        return plans_since(args.base, args.plans[0])
    if len(args.plans) != 2:
        raise DiffError("give two plan files, BEFORE and AFTER, or --base GIT_REF STACK")
    return load_plan(Path(args.plans[0])), load_plan(Path(args.plans[1]))


def _title(args: argparse.Namespace, stack: str) -> str | None:
    if args.base is None:
        return None
    return f"Plan diff of `{stack}`: `{args.base}` \u2192 this change"


def run(args: argparse.Namespace) -> int:
    try:
        before, after = _plans(args)
    except DiffError as error:
        print(f"diff: {error}", file=sys.stderr)
        return ERROR
    diff = diff_plans(before, after)
    if args.format == "markdown":
        print(render_markdown(diff, _title(args, diff.after_stack)), end="")
    else:
        print(render_text(diff))
    return CHANGES if diff.has_changes else NO_CHANGES


def add_parser(
        subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Registers `diff` on the `python -m stacks` parser."""
    diff = subparsers.add_parser(
        "diff", help="what changes between two plans, or since a git ref",
        description=__doc__.split("\n\n")[1] if __doc__ else None)
    diff.add_argument("plans", nargs="*", metavar="PLAN|STACK",
                      help="BEFORE and AFTER plan files; with --base, the STACK to plan")
    diff.add_argument("--base", metavar="GIT_REF",
                      help="plan STACK at this commit and in the working tree, and compare")
    diff.add_argument("--format", choices=("text", "markdown"), default="text")
    diff.set_defaults(func=run)

    def usage_error(message: str) -> NoReturn:
        # Exit code 2 means "changes" here, so a usage error is 1, like any other error.
        diff.print_usage(sys.stderr)
        print(f"diff: {message}", file=sys.stderr)
        sys.exit(ERROR)

    diff.error = usage_error  # type: ignore[method-assign]
    return diff
