"""The embedded default of `make run`: with no DATABASE_URL and no REDIS_URL the storefront
uses SQLite under its instance folder and an in-process Redis stand-in, and serves the
catalog. The one test of the suite that runs on SQLite and fakeredis, on purpose."""

from __future__ import annotations

from decimal import Decimal

import fakeredis
import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate.cli import db as db_cli

from app import create_app
from app.catalog.seed import seed_demo
from app.extensions import db
from app.models import Product


@pytest.fixture
def embedded_app(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "DATABASE_REPLICA_URL"):
        monkeypatch.delenv(name, raising=False)
    instance = tmp_path / "instance"
    # Flask asks this hook where the instance folder is; keep it out of the work tree.
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(instance))
    app = create_app()
    yield app
    with app.app_context():
        db.engine.dispose()


def _cli(app, command, *args: str) -> str:
    result = app.test_cli_runner().invoke(command, list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_embedded_default_serves_the_catalog(embedded_app, tmp_path):
    app = embedded_app
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/instance/shop.db"
    assert isinstance(app.extensions["redis"], fakeredis.FakeRedis)

    _cli(app, db_cli, "upgrade")
    assert "Loaded 10 categories and 250 products." in _cli(app, seed_demo, "--if-empty")
    assert "nothing to do" in _cli(app, seed_demo, "--if-empty")
    assert (tmp_path / "instance" / "shop.db").is_file()

    client = app.test_client()
    listing = client.get("/api/v1/products", query_string={"per_page": 100})
    assert listing.status_code == 200
    assert listing.json["meta"]["total"] == 250

    cheap = client.get("/api/v1/products", query_string={
        "category": "books", "max_price": "20", "sort": "price"}).json["items"]
    prices = [Decimal(item["price"]) for item in cheap]
    assert prices and prices == sorted(prices) and max(prices) <= 20

    with app.app_context():
        target = db.session.scalar(sa.select(Product).where(Product.sku == "HOME-0002"))
        expected_id, name = target.id, target.name
    found = client.get("/api/v1/search", query_string={"q": name.lower()})
    assert found.status_code == 200
    assert found.json["items"][0]["id"] == expected_id
    assert client.get("/api/v1/products/sku/home-0002").json["name"] == name


def test_sqlite_fallback_needs_every_word_and_ranks_name_hits(embedded_app):
    app = embedded_app
    _cli(app, db_cli, "upgrade")
    _cli(app, seed_demo)
    client = app.test_client()
    items = client.get("/api/v1/search", query_string={"q": "cast iron",
                                                       "per_page": 100}).json["items"]
    assert items
    for item in items:
        text = f"{item['name']} {item['description']}".lower()
        assert "cast" in text and "iron" in text
    name_hits = ["cast iron" in item["name"].lower() for item in items]
    assert name_hits == sorted(name_hits, reverse=True)  # name matches come first
    assert client.get("/api/v1/search", query_string={"q": "50%_off"}).json["items"] == []
