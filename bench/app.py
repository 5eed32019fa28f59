"""The application the benchmark serves: the real storefront plus one bare route."""

from __future__ import annotations

from flask import Flask, jsonify

from app import create_app

BARE_ROUTE = "/bench/bare"


def create_bench_app() -> Flask:
    """The storefront, unchanged, with a route that returns a constant JSON. It passes the
    same middleware (metrics, request log, security headers), so each endpoint's ratio to
    it measures what the endpoint itself costs."""
    app = create_app()

    @app.get(BARE_ROUTE)
    def bare():
        return jsonify(status="ok")

    return app
