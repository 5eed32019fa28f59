"""Catalog reads on a read replica, when ``DATABASE_REPLICA_URL`` is set.

The replica is a Flask-SQLAlchemy bind no table belongs to, so nothing reaches it unless a
view asks: ``@reads_from_replica`` marks a read-only view (the catalog's GETs, the catalog
pages), and during that view the session sends plain SELECTs to the replica. Writes,
flushes and locking reads (``FOR UPDATE``) always go to the primary, as does every other
view: a cart, a checkout, an admin's edit never reads what a lagging replica says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask_sqlalchemy.session import Session

from app.config import engine_options, normalize_database_url

REPLICA_BIND = "replica"

# Per thread (gthread workers serve one request per thread), so one request's choice never
# leaks into another's.
_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)

View = TypeVar("View", bound=Callable[..., Any])


def configure_replica(config: MutableMapping[str, Any]) -> None:
    """Add the replica bind, with the same pool, timeouts and pre-ping as the primary."""
    url = config.get("DATABASE_REPLICA_URL")
    if not url:
        return
    url = normalize_database_url(url)
    binds = dict(config.get("SQLALCHEMY_BINDS") or {})
    binds.setdefault(REPLICA_BIND, {"url": url, **engine_options(url, config)})
    config["SQLALCHEMY_BINDS"] = binds


def reads_from_replica(view: View) -> View:
    """Run ``view`` with its SELECTs on the replica (when one is configured). Put it right
    under the route decorator, so that serialising the response (lazy loads) is covered."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = _replica_reads.set(True)
        try:
            return view(*args, **kwargs)
        finally:
            _replica_reads.reset(token)

    return wrapper  # type: ignore[return-value]


@contextmanager
def reads_from_primary() -> Iterator[None]:
    """Inside a replica-reading view, read from the primary what must never lag: who the
    shopper is (a sign-out or deactivation just committed) and their cart."""
    token = _replica_reads.set(False)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def _is_plain_read(clause: Any) -> bool:
    return isinstance(clause, sa.Select) and clause._for_update_arg is None


class RoutingSession(Session):
    """Flask-SQLAlchemy's session, plus: inside ``reads_from_replica``, a plain SELECT
    is executed on the replica engine."""

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None,
                 **kwargs: Any) -> sa.engine.Engine | sa.engine.Connection:
        if bind is None and _replica_reads.get() and not self._flushing \
                and _is_plain_read(clause):
            replica = self._db.engines.get(REPLICA_BIND)
            if replica is not None:
                return replica
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
