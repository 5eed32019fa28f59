"""`make run`'s embedded default: with the in-process Redis stand-in and SQLite, the live
channel works within the one worker (the stand-in's streams are in-process too)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_migrate.cli import db as db_cli

from app import create_app
from app.catalog.service import adjust_stock
from app.extensions import db
from app.models import Product
from tests.app.factories import make_product
from tests.app.live_support import LIVE_TEST_CONFIG, EventStream, ThreadedServer


@pytest.fixture
def embedded_app(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "DATABASE_REPLICA_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(Flask, "auto_find_instance_path",
                        lambda self: str(tmp_path / "instance"))
    app = create_app({"MAIL_BACKEND": "outbox", "RATELIMIT_ENABLED": False,
                      **LIVE_TEST_CONFIG})
    result = app.test_cli_runner().invoke(db_cli, ["upgrade"])
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.engine.dispose()


def test_stock_reaches_a_product_page_with_the_in_process_stand_in(embedded_app):
    assert embedded_app.config["REDIS_URL"] is None
    with embedded_app.app_context(), ThreadedServer(embedded_app) as server:
        product = make_product(stock=4)
        page = EventStream(server.port, f"product={product.id}")
        assert page.status == 200
        adjust_stock(product.id, delta=-2)
        assert page.next_event().json["stock"] == 2
        assert db.session.get(Product, product.id).stock == 2
