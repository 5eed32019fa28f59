"""`python -m stacks <command>`: the platform's offline and day-2 tools.

Each command module registers itself with `add_parser(subparsers)` and sets `func`, which takes
the parsed arguments and returns the exit code.
"""

from __future__ import annotations

import argparse
import sys

from stacks import diff_command, ops, plan, preview_command

COMMANDS = (plan, diff_command, preview_command, ops)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m stacks", description=__doc__.splitlines()[0])
    subparsers = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
