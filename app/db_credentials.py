"""The database password apart from DATABASE_URL, for a platform that keeps it elsewhere.

On AWS, RDS owns the master password in Secrets Manager and rotates it; the Secrets Store
CSI driver mounts it into the pod as a file (components/secret_store.py). DATABASE_URL then
carries no password, and DATABASE_PASSWORD_FILE names that file. It is read on every new
connection, not once at start: after a rotation the driver rewrites the file, and the next
connection the pool opens (pre-ping drops the ones the server closed) uses the new password
with no restart. DATABASE_PASSWORD is the same thing from the environment, for a process
manager that injects it. Either one overrides a password in the URL, for the primary and the
replica alike (a replica shares its primary's credentials).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event


def read_password_file(path: str) -> str:
    """The file's content without its trailing newline; a clear error naming the setting
    (never the content) when it is missing, unreadable or empty."""
    try:
        password = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as error:
        raise RuntimeError(f"DATABASE_PASSWORD_FILE {path!r} cannot be read: "
                           f"{error.strerror}") from None
    if not password:
        raise RuntimeError(f"DATABASE_PASSWORD_FILE {path!r} is empty")
    return password


def password_source(config: Mapping[str, Any]) -> Callable[[], str] | None:
    """What supplies the password for each new connection, or None (the URL's own)."""
    password, path = config.get("DATABASE_PASSWORD"), config.get("DATABASE_PASSWORD_FILE")
    if password and path:
        raise RuntimeError("set DATABASE_PASSWORD or DATABASE_PASSWORD_FILE, not both")
    if path:
        read_password_file(path)  # fail at start, not at the first request
        return lambda: read_password_file(path)
    if password:
        return lambda: password
    return None


def init_db_credentials(app: Flask, db: SQLAlchemy) -> None:
    source = password_source(app.config)
    if source is None:
        return

    def supply_password(dialect: Any, record: Any, cargs: Any, cparams: dict) -> None:
        cparams["password"] = source()

    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "postgresql":
                event.listen(engine, "do_connect", supply_password)
