"""`python -m stacks <command>`: the platform's offline and day-2 tools.

Each command module registers itself with `add_parser(subparsers)` and sets `func`, which takes
the parsed arguments and returns the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType
from typing import NoReturn

# Imported on demand: `plan` need not pay for boto3 (ops) or the Automation API (previews).
COMMANDS = {"plan": "stacks.plan.command", "diff": "stacks.review.command",
            "preview": "stacks.previews.command", "ops": "stacks.ops.command",
            "manifests": "stacks.plan.artifacts", "image-targets": "stacks.plan.artifacts"}


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 1: argparse's default 2 would read as "changes" to a script
    calling `diff` (0 none, 2 changes, 1 error)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def parser(only: str | None = None) -> argparse.ArgumentParser:
    """Every command's parser; with `only` (a command's name), just that one's."""
    root = _Parser(prog="python -m stacks", description=(__doc__ or "").splitlines()[0])
    subparsers = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _commands(only):
        command.add_parser(subparsers)
    return root


def _commands(only: str | None) -> list[ModuleType]:
    # One module may hold several commands (plan/artifacts.py: manifests, image-targets).
    names = [COMMANDS[only]] if only in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    return [importlib.import_module(name) for name in names]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parser(argv[0] if argv else None).parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
