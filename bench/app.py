"""The application the benchmark serves: the real storefront plus one route of its own."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, jsonify

from app import create_app

BARE_ROUTE = "/bench/bare"


def create_bench_app(config: Mapping | None = None) -> Flask:
    """The storefront, unchanged, with a route that returns a constant JSON: the app's
    floor. It passes the same hooks and middleware (metrics, request log, security headers,
    sessions, CSRF, limits), so its distance to a bare Flask app (bench/bare.py) is the
    storefront's fixed cost per request."""
    app = create_app(config)

    @app.get(BARE_ROUTE)
    def bare():
        return jsonify(status="ok")

    return app
