"""Extension objects, created unbound and attached in ``create_app`` (init_app pattern)."""

from __future__ import annotations

import logging
from contextlib import suppress

import fakeredis
import redis
from flask import Flask, current_app
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import MetaData
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase

from app.db_routing import RoutingSession

# Deterministic constraint names, so Alembic migrations are the same on every database.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


log = logging.getLogger(__name__)


class ShopSQLAlchemy(SQLAlchemy):
    def _teardown_session(self, exc: BaseException | None) -> None:
        """End the request's session without letting a dead connection fail the request.

        Teardown runs after the response exists, outside Flask's error handlers: when
        PostgreSQL went away after the view committed, the closing rollback raised and
        the server answered 500 for a write that was saved (and the client's retry made
        it twice). Whatever the view committed stands; what was left open dies with the
        connection anyway, which the pool discards."""
        try:
            self.session.remove()
        except SQLAlchemyError as error:
            log.warning("the database connection failed while the request's session was "
                        "closed (%s); its committed work stands", type(error).__name__)
            with suppress(SQLAlchemyError):  # hand nothing broken back to the pool
                self.session.registry().invalidate()
            self.session.registry.clear()


# RoutingSession sends the SELECTs of replica-read views to DATABASE_REPLICA_URL.
db = ShopSQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})
migrate = Migrate(render_as_batch=True)


def commit_keeping_state() -> None:
    """Commit without expiring what the session holds, for a request that answers with the
    rows it has just read or written in this transaction: the response reads them as they
    are instead of loading each one again (a SELECT per row) after the commit."""
    session = db.session()
    expiring, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expiring


def init_redis(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    if url:
        # One immediate retry replaces a pooled connection Redis closed (a restart); the
        # client's default, ten retries with backoff, would hold every request for seconds
        # while Redis is down instead of letting callers fall back at once.
        client = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=2, socket_connect_timeout=1,
            health_check_interval=30, retry=Retry(NoBackoff(), 1),
        )
    else:
        # In-process stand-in so `make run` works with no Redis installed; never used by tests.
        client = fakeredis.FakeRedis(decode_responses=True)
    app.extensions["redis"] = client


def get_redis() -> redis.Redis:
    return current_app.extensions["redis"]
