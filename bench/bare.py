"""The reference row: a bare Flask app, a constant JSON from one route and nothing else
(no extension, no hook, no middleware). gunicorn serves it with the storefront's own
settings (app/gunicorn_conf.py), so every row's ratio to it is what the storefront adds
on top of Flask itself."""

from __future__ import annotations

from flask import Flask, jsonify

ROUTE = "/bare"


def create_bare_app() -> Flask:
    app = Flask(__name__)

    @app.get(ROUTE)
    def bare():
        return jsonify(status="ok")

    return app
