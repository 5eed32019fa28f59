"""Fixtures shared by the whole suite.

Database and cache tests talk to the real PostgreSQL and Redis (``DATABASE_URL`` /
``REDIS_URL``, else the machine's 127.0.0.1 defaults); the schema is built once per run by
the Alembic migrations, exactly as `flask db upgrade` builds it in production.
"""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from app import create_app
from app.config import normalize_database_url
from app.extensions import db

DATABASE_URL = normalize_database_url(
    os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

TEST_CONFIG = {
    "APP_ENV": "test",
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "JWT_SECRET_KEY": "test-jwt-secret-key-of-decent-length",
    "SQLALCHEMY_DATABASE_URI": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "MAIL_BACKEND": "outbox",
    "PUBLIC_BASE_URL": "http://shop.test",
    # Tests sign in as often as they like; test_rate_limits.py turns the limits on.
    "RATELIMIT_ENABLED": False,
}


def reset_schema(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_database() -> str:
    """A fresh schema, built by the migrations, once per test run."""
    from flask_migrate import upgrade

    reset_schema(DATABASE_URL)
    app = create_app(TEST_CONFIG)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return DATABASE_URL


def truncate_all(app) -> None:
    with app.app_context():
        tables = ", ".join(t.name for t in db.metadata.sorted_tables)
        db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.commit()
        app.extensions["redis"].flushdb()


@pytest.fixture
def make_app(migrated_database):
    """Build an app on the migrated test database, with per-test config overrides."""
    made = []

    def factory(**overrides):
        app = create_app({**TEST_CONFIG, **overrides})
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    app = make_app()
    truncate_all(app)
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()
