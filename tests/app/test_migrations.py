"""The Alembic migrations build, tear down and rebuild the schema on PostgreSQL and on
SQLite, and agree with the models."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate.cli import db as db_cli

from app import create_app
from app.extensions import db
from tests.conftest import DATABASE_URL, TEST_CONFIG

# Created by hand in 0001 on PostgreSQL only (full-text search), so not on the models.
UNMAPPED = {"search_vector", "ix_products_search_vector"}


@contextmanager
def temporary_postgres_database() -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards whatever happens."""
    server = sa.engine.make_url(DATABASE_URL)
    name = f"shop_migrations_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _flask_db(app, *args: str) -> None:
    """Run `flask db ARGS` against ``app``, as an operator would."""
    result = app.test_cli_runner().invoke(db_cli, list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)


def _tables(app) -> set[str]:
    with app.app_context():
        return set(sa.inspect(db.engine).get_table_names())


def _revision(app) -> tuple[str | None, str]:
    with app.app_context(), db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        head = ScriptDirectory.from_config(
            app.extensions["migrate"].migrate.get_config()).get_current_head()
    return current, head


def _round_trip(app) -> None:
    model_tables = {table.name for table in db.metadata.sorted_tables}

    _flask_db(app, "upgrade")
    assert _tables(app) == model_tables | {"alembic_version"}
    current, head = _revision(app)
    assert current == head

    _flask_db(app, "downgrade", "base")
    assert _tables(app) == {"alembic_version"}
    assert _revision(app)[0] is None

    _flask_db(app, "upgrade")
    assert _tables(app) == model_tables | {"alembic_version"}


def _dispose(app) -> None:
    with app.app_context():
        db.engine.dispose()


def test_postgresql_upgrade_downgrade_upgrade():
    with temporary_postgres_database() as url:
        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        try:
            _round_trip(app)
            with app.app_context():
                columns = {c["name"] for c in sa.inspect(db.engine).get_columns("products")}
                indexes = {i["name"] for i in sa.inspect(db.engine).get_indexes("products")}
            assert "search_vector" in columns
            assert "ix_products_search_vector" in indexes
        finally:
            _dispose(app)


def test_sqlite_upgrade_downgrade_upgrade(tmp_path):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.db"})
    try:
        _round_trip(app)
        with app.app_context():
            columns = {c["name"] for c in sa.inspect(db.engine).get_columns("products")}
        assert "search_vector" not in columns  # SQLite searches with LIKE instead
    finally:
        _dispose(app)


def _schema_objects_to_compare(obj, name, type_, reflected, compare_to) -> bool:
    if type_ == "table" and name == "alembic_version":
        return False
    return not (reflected and compare_to is None and name in UNMAPPED)


@pytest.mark.usefixtures("app")
def test_no_model_change_lacks_a_migration():
    """What `flask db migrate` would generate now: it must be nothing."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": _schema_objects_to_compare})
        differences = compare_metadata(context, db.metadata)
    assert differences == []
