"""One error shape for every failure: ``{"error": {"code", "message", "details"}}``.

Domain code raises ``DomainError`` subclasses; the API turns them into that JSON and the
pages into messages, so the rules live once, in the domain functions.
"""

from __future__ import annotations

import logging
from contextlib import suppress

import redis
from flask import Flask, Response, has_request_context, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.metrics import record_db_error
from app.observability import record_unhandled_exception

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    402: "payment_declined",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code:
            self.code = code


class Unauthorized(DomainError):
    status, code = 401, "unauthorized"


class PaymentDeclined(DomainError):
    status, code = 402, "payment_declined"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class Invalid(DomainError):
    """A request that is well-formed but breaks a rule; ``details["fields"]`` names the fields."""

    status, code = 422, "validation_error"

    @classmethod
    def field(cls, name: str, message: str) -> Invalid:
        return cls(f"{name}: {message}", {"fields": {name: [message]}})


def error_response(status: int, message: str, code: str | None = None,
                   details: dict | None = None, headers: dict | None = None):
    """The one JSON error shape; a browser asking for a page gets the shop's error page."""
    if wants_page():
        response = _error_page(status, message)
    else:
        response = jsonify({"error": {"code": code or CODES.get(status, "error"),
                                      "message": message, "details": details or {}}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def wants_page() -> bool:
    """Pages answer with HTML unless the client prefers JSON; the API always with JSON."""
    if not has_request_context() or request.path == "/api" or request.path.startswith("/api/"):
        return False
    preferred = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return preferred != "application/json"


def _error_page(status: int, message: str) -> Response:
    try:
        body = render_template([f"errors/{status}.html", "errors/error.html"],
                               status=status, message=message)
    except Exception:  # the error page must not fail the error; the log says why it did
        log.exception("the error page for status %s could not be rendered", status)
        body = f"<!DOCTYPE html><title>Error {status}</title><h1>Error {status}</h1>"
    return Response(body, mimetype="text/html")


def _field_details(exc: HTTPException) -> dict:
    """webargs puts ``{"json": {"field": ["msg"]}}`` on 422s; flatten to ``fields``."""
    messages = (getattr(exc, "data", None) or {}).get("messages") or {}
    fields: dict = {}
    for location_errors in messages.values():
        if isinstance(location_errors, dict):
            fields.update(location_errors)
    return {"fields": fields} if fields else {}


def handle_http_exception(exc: HTTPException):
    status = exc.code or 500
    details = _field_details(exc) if status == 422 else {}
    message = "invalid input" if details else (exc.description or CODES.get(status, "error"))
    headers = {}
    valid_methods = getattr(exc, "valid_methods", None)
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    return error_response(status, message, details=details, headers=headers)


def handle_domain_error(exc: DomainError):
    return error_response(exc.status, exc.message, exc.code, exc.details)


def handle_unexpected(exc: Exception):
    # Never leak a stack trace to a client; the log keeps it for us.
    db.session.rollback()
    record_unhandled_exception(exc)
    # The route template, never the path: a path can carry a token (reset links).
    route = request.url_rule.rule if request.url_rule else "<unmatched>"
    log.exception("unhandled error on %s %s", request.method, route)
    return error_response(500, "internal error")


def handle_database_error(exc: DBAPIError):
    """An unreachable database, a dropped connection or a statement that ran past its
    timeout is a 503 the client may retry; any other database error is a bug (500)."""
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        return _unavailable(exc)
    return handle_unexpected(exc)


def handle_pool_timeout(exc: PoolTimeout):
    # Every pooled connection stayed busy for pool_timeout: the database is too slow.
    record_db_error("timeout")
    return _unavailable(exc)


def _unavailable(exc: Exception):
    """503 without naming the component to the client; the log names it (type only: a
    driver's message can quote the statement)."""
    with suppress(SQLAlchemyError):
        db.session.rollback()
    log.warning("dependency unavailable: %s.%s", type(exc).__module__, type(exc).__name__)
    return error_response(503, "the service is temporarily unavailable; retry shortly",
                          headers={"Retry-After": "5"})


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(PoolTimeout, handle_pool_timeout)
    # Redis down: what cannot fall back to PostgreSQL (a guest cart) answers 503.
    app.register_error_handler(redis.ConnectionError, _unavailable)
    app.register_error_handler(redis.TimeoutError, _unavailable)
