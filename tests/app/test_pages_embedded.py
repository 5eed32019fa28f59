"""`make run`'s embedded default (SQLite and the in-process Redis stand-in) lets a person shop
from the home page to an order confirmation. The one page test that is not on PostgreSQL
and Redis, on purpose."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask_migrate.cli import db as db_cli

from app import create_app
from app.catalog.seed import seed_demo
from app.extensions import db
from tests.app.factories import NEXT_YEAR
from tests.app.pages_support import add_to_cart, checkout_key, submit, text, token_in


@pytest.fixture
def embedded_app(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "DATABASE_REPLICA_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(Flask, "auto_find_instance_path",
                        lambda self: str(tmp_path / "instance"))
    app = create_app({"MAIL_BACKEND": "outbox", "RATELIMIT_ENABLED": False})
    runner = app.test_cli_runner()
    for command, args in ((db_cli, ["upgrade"]), (seed_demo, [])):
        result = runner.invoke(command, args)
        assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.engine.dispose()


def test_a_shopper_goes_from_the_home_page_to_a_confirmation(embedded_app):
    assert embedded_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    client = embedded_app.test_client()
    home = text(client.get("/"))
    first, second = re.findall(r'href="/products/(\d+)"', home)[:2]
    add_to_cart(client, int(first), 1)
    add_to_cart(client, int(second), 2)
    assert 'data-testid="cart-count">3<' in text(client.get("/cart"))

    signed_up = submit(client, "/signup", {"name": "Make Run", "email": "run@example.com",
                                           "password": "long enough pass",
                                           "confirm": "long enough pass",
                                           "next": "/checkout"}, page="/signup?next=/checkout")
    assert signed_up.headers["Location"] == "/checkout"
    form = text(client.get("/checkout"))
    placed = client.post("/checkout", data={
        "csrf_token": token_in(form), "idempotency_key": checkout_key(form),
        "name": "Make Run", "line1": "1 Main Street", "city": "Town", "postal_code": "1000",
        "country": "DE", "card_number": "4242 4242 4242 4242", "exp_month": "12",
        "exp_year": str(NEXT_YEAR), "cvc": "123"})
    assert re.fullmatch(r"/checkout/confirmation/\d+", placed.headers["Location"])
    confirmation = text(client.get(placed.headers["Location"]))
    assert "Thank you! Your order number is" in confirmation
    assert 'data-testid="cart-count">0<' in confirmation
