"""The storefront as production runs it: gunicorn (two workers, bench/server.py's launcher)
on a free loopback port, on PostgreSQL with the migrated schema and the demo catalog, and
on Redis.

The browser tests get a database of their own (the test database's name + ``_e2e``): the
app tests truncate theirs before every test, which must never pull rows from under a
running browser journey.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app import create_app
from app.catalog.seed import load_demo_catalog
from app.extensions import db
from app.models import User
from app.passwords import hash_password
from bench.server import free_port, gunicorn
from tests.conftest import DATABASE_URL, REDIS_URL, TEST_CONFIG, reset_schema

ROOT = Path(__file__).resolve().parents[2]
ADMIN_EMAIL = "admin@shop.test"
ADMIN_PASSWORD = "admin passphrase for the e2e run"


@dataclass(frozen=True)
class LiveServer:
    url: str
    database_url: str
    log: Path


def e2e_database_url() -> str:
    url = make_url(DATABASE_URL)
    return url.set(database=f"{url.database}_e2e").render_as_string(hide_password=False)


def prepare_database(url: str, media_root: Path) -> None:
    """A fresh schema by the migrations, the demo catalog and an administrator."""
    _create_database(url)
    reset_schema(url)
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url,
                      "MEDIA_ROOT": str(media_root)})
    with app.app_context():
        upgrade()
        load_demo_catalog()
        db.session.add(User(email=ADMIN_EMAIL, name="Ada Admin", role="admin",
                            password_hash=hash_password(ADMIN_PASSWORD)))
        db.session.commit()
        app.extensions["redis"].flushdb()
        db.engine.dispose()


def _create_database(url: str) -> None:
    target = make_url(url)
    server = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                             {"name": target.database})
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    server.dispose()


def server_environment(database_url: str, metrics_dir: str,
                       media_root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "APP_ENV": "test",  # plain HTTP on loopback: no Secure cookie, no HSTS
        "SECRET_KEY": secrets.token_urlsafe(32),
        "JWT_SECRET_KEY": secrets.token_urlsafe(32),
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "MAIL_BACKEND": "console",
        # The journeys sign up several shoppers from one address within a minute.
        "RATELIMIT_ENABLED": "false",
        "WEB_CONCURRENCY": "2",
        # Every open page holds a live stream, and a stream a thread (at most half of them,
        # app/live/capacity.py): room for the windows a journey keeps open.
        "GUNICORN_THREADS": "16",
        # Every window of every test comes from one address, often as one shopper, and a page
        # left quickly frees its stream only within a second: the per-shopper and
        # per-address caps (tested in tests/app/test_live_limits.py) would refuse a journey
        # that clicks through pages faster than that.
        "LIVE_STREAMS_PER_USER": "100",
        "LIVE_STREAMS_PER_ADDRESS": "100",
        "LOG_LEVEL": "WARNING",
        # Our own metrics directory: gunicorn empties it at start, and other runs use theirs.
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
        # The demo pictures are drawn here on first request, never into the repository.
        "MEDIA_ROOT": str(media_root),
    }


@contextmanager
def serve(workdir: Path) -> Iterator[LiveServer]:
    database_url = e2e_database_url()
    media_root = workdir / "media"
    prepare_database(database_url, media_root)
    port = free_port()
    log = workdir / "gunicorn.log"
    metrics_dir = tempfile.mkdtemp(prefix="metrics-", dir=workdir)
    env = {**server_environment(database_url, metrics_dir, media_root),
           # Absolute URLs (canonical, JSON-LD, sitemap) must reach this server.
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    with gunicorn(env, port, log, app="app:create_app()", ready_path="/healthz",
                  extra_args=("--workers", "2")):
        yield LiveServer(url=f"http://127.0.0.1:{port}", database_url=database_url, log=log)
