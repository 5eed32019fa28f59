"""``flask`` commands for operators: one registration point for every concern's CLI."""

from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    from app.auth.cli import create_admin
    from app.catalog.seed import seed_demo

    commands = [create_admin, seed_demo]
    for command in commands:
        app.cli.add_command(command)
