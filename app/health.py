"""Liveness and readiness for Kubernetes probes and load balancers."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
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
    """Ready to serve: PostgreSQL and Redis both answer. 503 names the one that failed."""
    failures = {name: error for name, error in
                (("database", _check_database()), ("redis", _check_redis())) if error}
    checks = {name: ("down" if name in failures else "up") for name in ("database", "redis")}
    if failures:
        log.warning("readiness failed: %s", failures)
        body = {"status": "unavailable", "checks": checks,
                "error": {"code": "service_unavailable",
                          "message": "not ready: " + ", ".join(sorted(failures)) + " down",
                          "details": {"failed": sorted(failures)}}}
        return jsonify(body), 503
    return jsonify(status="ok", checks=checks)
