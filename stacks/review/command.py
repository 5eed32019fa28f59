"""`python -m stacks diff BEFORE AFTER` or `python -m stacks diff --base GIT_REF STACK`.

Compares two plan files (`python -m stacks plan STACK --out FILE`), or plans STACK at GIT_REF
(in a temporary git worktree) and in the working tree and compares those. Prints what would be
created (+), updated (~), deleted (-) and replaced (+-), replacements first, with each changed
property before and after and secrets masked; `--format markdown` gives a pull request
comment. A stateful or protected resource replaced or deleted comes first, then the policy
findings the change brings and resolves. Exit code: 0 without changes, 2 with changes, 3 with a
new mandatory policy finding (a replaced stateful resource in prod is one), 4 with a destructive
change (a stateful or protected resource replaced or deleted) and no new mandatory finding,
1 on an error; `--no-fail` exits 2 instead of 3 or 4. Colour when stdout is a terminal (not
with NO_COLOR); progress on stderr. No credentials, no Pulumi CLI.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn, TextIO

from stacks.review.diff import DiffError, diff_plans, load_plan
from stacks.review.diff_model import PlanDiff
from stacks.review.render import render_markdown, render_text
from stacks.review.sections import RunInfo
from stacks.review.worktree import commit_of, plan_at_ref, plan_tree

ROOT = Path(__file__).resolve().parents[2]
NO_CHANGES, ERROR, CHANGES, NEW_MANDATORY, DESTRUCTIVE = 0, 1, 2, 3, 4


def plans_since(ref: str, stack: str, root: Path = ROOT) -> tuple[dict[str, Any], dict[str, Any]]:
    """The plan of `stack` at `ref` and in the working tree at `root`."""
    commit_of(ref, root)  # an unknown ref fails before any progress is shown
    with tempfile.TemporaryDirectory(prefix="shop-diff-") as tmp:
        before, after = Path(tmp) / "before.json", Path(tmp) / "after.json"
        _timed(f"planning {stack} at {ref}", lambda: plan_at_ref(ref, stack, before, root))
        _timed(f"planning {stack} in the working tree",
               lambda: plan_tree(stack, after, root, "the working tree"))
        return load_plan(before), load_plan(after)


def _timed(what: str, step: Callable[[], object]) -> None:
    """Progress on stderr, so stdout stays the diff alone (a comment, a pipe)."""
    started = time.monotonic()
    print(f"diff: {what}...", file=sys.stderr, flush=True)
    step()
    print(f"diff: {what}: done in {time.monotonic() - started:.1f}s", file=sys.stderr, flush=True)


def use_colour(stream: TextIO | None = None, env: Mapping[str, str] | None = None) -> bool:
    """Colour for a terminal, never for a pipe or a file, never with NO_COLOR set
    (https://no-color.org: any value but the empty string)."""
    stream = sys.stdout if stream is None else stream
    env = os.environ if env is None else env
    return bool(getattr(stream, "isatty", lambda: False)()) and not env.get("NO_COLOR")


def exit_code(diff: PlanDiff, fail: bool = True) -> int:
    if fail and diff.new_mandatory:
        return NEW_MANDATORY
    # Plans with differently made mock ids show replacements that may not be real (the
    # diff's note says so): they are reported, not failed on.
    if fail and diff.destructive and not diff.warnings:
        return DESTRUCTIVE
    return CHANGES if diff.has_changes or diff.resolved_findings else NO_CHANGES


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
    run = RunInfo.from_env()
    if args.format == "markdown":
        print(render_markdown(diff, _title(args, diff.after_stack), run), end="")
    else:
        print(render_text(diff, run, colour=use_colour()))
    return exit_code(diff, fail=not args.no_fail)


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
    diff.add_argument("--no-fail", action="store_true",
                      help="exit 2, not 3 or 4, on a new mandatory finding or destructive change")
    diff.set_defaults(func=run)

    def usage_error(message: str) -> NoReturn:
        # Exit code 2 means "changes" here, so a usage error is 1, like any other error.
        diff.print_usage(sys.stderr)
        print(f"diff: {message}", file=sys.stderr)
        sys.exit(ERROR)

    diff.error = usage_error  # type: ignore[method-assign]
    return diff
