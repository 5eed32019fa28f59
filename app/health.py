"""Liveness and readiness for Kubernetes probes and load balancers."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request
from sqlalchemy import text

from app.extensions import db, get_redis

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    """The process is alive: no dependency is consulted, so a database outage never
    gets healthy pods killed."""
    return jsonify(status="ok")


def _check_database() -> str | None:
    try:
        db.session.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any driver error means "not ready"
        db.session.rollback()
        return type(exc).__name__


def _check_redis() -> str | None:
    try:
        get_redis().ping()
        return None
    except Exception as exc:
        return type(exc).__name__


@bp.get("/readyz")
def readyz():
    """Ready to serve: PostgreSQL and Redis both answer; 503 names the one that failed.

    ``?optional=redis`` is what the Kubernetes readiness probe and the load balancer ask:
    the storefront degrades gracefully without Redis (catalog from PostgreSQL, limits fail
    open), so a Redis outage must not pull every pod out of service. It answers 200 with
    ``status: degraded`` and still reports Redis down."""
    optional = set(request.args.get("optional", "").split(",")) & {"redis"}
    checks_run = (("database", _check_database()), ("redis", _check_redis()))
    down = sorted(name for name, error in checks_run if error)
    checks = {name: ("down" if name in down else "up") for name, _ in checks_run}
    blocking = [name for name in down if name not in optional]
    if down:
        log.warning("readiness: %s down", ", ".join(down))
    if blocking:
        body = {"status": "unavailable", "checks": checks,
                "error": {"code": "service_unavailable",
                          "message": "not ready: " + ", ".join(blocking) + " down",
                          "details": {"failed": blocking}}}
        return jsonify(body), 503
    return jsonify(status="degraded" if down else "ok", checks=checks)
