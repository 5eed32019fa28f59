"""What the storefront tells its operators about each request: Prometheus metrics
(app/metrics.py) and one structured log line, tied together by a request id.

A WSGI middleware around the Flask app sees every request, even one that fails before
Flask's own hooks run: it assigns the request id (an incoming ``X-Request-ID`` when it is
sane), counts the request in flight, times it, and afterwards records it. Flask only adds
what it alone knows, at teardown: the route template and the signed-in user.

The log line carries ids, the route template, the status and the latency; never a body,
a header, a query string or even the path (a path can hold a reset token).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import Pool

from app import metrics
from app.extensions import db

log = logging.getLogger("app.request")

REQUEST_ID_HEADER = "X-Request-ID"
UNMATCHED_ROUTE = "<unmatched>"
# Probes and scrapes show in the metrics; logging each success would bury the real traffic.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
# Enough for a UUID or a load balancer's trace id; nothing that could forge a log field.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=-]{0,127}")
_ROUTE_KEY, _USER_KEY = "shop.route", "shop.user_id"
# SQLSTATEs of a statement cancelled by statement_timeout, and of lock_timeout.
_TIMEOUT_SQLSTATES = frozenset({"57014", "55P03"})

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def init_observability(app: Flask) -> None:
    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        event.listen(engine, "handle_error", _count_database_error)
    # Flask's documented way to add WSGI middleware; mypy sees a method being replaced.
    app.wsgi_app = RequestObserver(  # type: ignore[method-assign]
        app.wsgi_app, [engine.pool for engine in engines])
    app.teardown_request(_note_route_and_user)
    app.register_blueprint(metrics.metrics_bp)
    _tag_log_records_with_request_id()


class RequestObserver:
    """WSGI middleware: request id, in-flight gauge, request metrics, the request log line,
    and a sample of the connection pools once the request has given its connection back."""

    def __init__(self, wsgi_app: Callable, pools: list[Pool]):
        self.wsgi_app = wsgi_app
        self.pools = pools

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request_id = _incoming_request_id(environ) or uuid.uuid4().hex
        token = _request_id.set(request_id)
        status = ["500"]  # what an exception escaping the app becomes
        sent: list[str | None] = [None]

        def start(status_line: str, headers: list, exc_info: Any = None) -> Callable:
            status[0] = status_line.split(" ", 1)[0]
            sent[0] = next((v for k, v in headers if k.lower() == "content-length"), None)
            headers.append((REQUEST_ID_HEADER, request_id))
            return start_response(status_line, headers, exc_info)

        metrics.IN_FLIGHT.inc()
        started = time.perf_counter()
        try:
            return self.wsgi_app(environ, start)
        finally:
            seconds = time.perf_counter() - started
            metrics.IN_FLIGHT.dec()
            self._record(environ, status[0], sent[0], seconds)
            _request_id.reset(token)

    def _record(self, environ: dict, status: str, content_length: str | None,
                seconds: float) -> None:
        route = environ.get(_ROUTE_KEY, UNMATCHED_ROUTE)
        method = environ.get("REQUEST_METHOD", "")
        metrics.observe_request(route, method, status, seconds)
        metrics.observe_pools(self.pools)
        if route in QUIET_ROUTES and int(status) < 400:
            return
        log.info("request", extra={
            "method": metrics.method_label(method), "route": route, "status": int(status),
            "duration_ms": round(seconds * 1000, 2), "user_id": environ.get(_USER_KEY),
            # REMOTE_ADDR is the client's once ProxyFix (TRUSTED_PROXY_COUNT) has run.
            "remote_addr": environ.get("REMOTE_ADDR"),
            "bytes": int(content_length) if content_length else None})


def _incoming_request_id(environ: dict) -> str | None:
    candidate = environ.get("HTTP_X_REQUEST_ID", "")
    return candidate if _SANE_REQUEST_ID.fullmatch(candidate) else None


def _note_route_and_user(_exc: BaseException | None) -> None:
    """Teardown runs for every request Flask handled, whatever answered it."""
    rule = request.url_rule
    request.environ[_ROUTE_KEY] = rule.rule if rule is not None else UNMATCHED_ROUTE
    # app.auth.guards caches the user it authenticated on the request. Its id is read from
    # the identity map: after a commit, ``user.id`` would cost a SELECT to refresh the row.
    user = getattr(request, "_current_user", None)
    if user is not None:
        request.environ[_USER_KEY] = sa.inspect(user).identity[0]


def record_unhandled_exception(exc: BaseException) -> None:
    """For the 500 handler: the route of the failing request and the exception's type."""
    rule = request.url_rule
    metrics.record_exception(rule.rule if rule is not None else UNMATCHED_ROUTE, exc)


def _count_database_error(context: ExceptionContext) -> None:
    """Count each database error once, where SQLAlchemy first sees it. A failed pre-ping
    is not counted: the pool replaces the connection and the request never notices. A
    unique-constraint race is an expected outcome the services turn into a 409."""
    if context.is_pre_ping or isinstance(context.sqlalchemy_exception, IntegrityError):
        return
    metrics.record_db_error(database_error_kind(context))


def database_error_kind(context: ExceptionContext) -> str:
    if getattr(context.original_exception, "pgcode", None) in _TIMEOUT_SQLSTATES:
        return "timeout"
    if context.is_disconnect or context.connection is None:
        return "connection"  # dropped, or never made (refused, connect_timeout)
    return "other"


_factory_installed = False


def _tag_log_records_with_request_id() -> None:
    """Every record logged while a request is served carries its ``request_id``, so the
    JSON formatter prints it on the application's own lines too. Installed once per
    process, around whatever record factory was there before."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        request_id = _request_id.get()
        if request_id is not None:
            record.request_id = request_id
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True
