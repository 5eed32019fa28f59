"""``flask`` commands for operators: one registration point for every concern's CLI."""

from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    commands = []
    for command in commands:
        app.cli.add_command(command)
