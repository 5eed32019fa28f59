"""`python -m stacks <command>`: the platform's offline and day-2 tools.

Each command module registers itself with `add_parser(subparsers)` and sets `func`, which takes
the parsed arguments and returns the exit code.
"""

from __future__ import annotations

import argparse
import sys

from stacks.ops import command as ops
from stacks.plan import artifacts
from stacks.plan import command as plan
from stacks.previews import command as previews
from stacks.review import command as review

COMMANDS = (plan, review, previews, ops, artifacts)


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 1: argparse's default 2 would read as "changes" to a script
    calling `diff` (0 none, 2 changes, 1 error)."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def parser() -> argparse.ArgumentParser:
    root = _Parser(prog="python -m stacks", description=__doc__.splitlines()[0])
    subparsers = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
