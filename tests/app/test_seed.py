"""`flask seed-demo`: a deterministic, realistic demo catalog, loaded in bulk."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Category, Product
from tests.app.catalog_factories import make_category
from tests.conftest import truncate_all


def _seed(app, *args: str):
    return app.test_cli_runner().invoke(args=["seed-demo", *args])


def _catalog() -> list[tuple]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(Product.sku, Product.name, Product.price, Product.stock, Category.slug)
        .join(Product.category).order_by(Product.sku))
    return [tuple(row) for row in rows]


def _counts() -> tuple[int, int]:
    return (db.session.scalar(sa.select(sa.func.count()).select_from(Category)),
            db.session.scalar(sa.select(sa.func.count()).select_from(Product)))


@pytest.fixture
def seeded(app):
    result = _seed(app)
    assert result.exit_code == 0, result.output
    return _catalog()


def test_demo_catalog_has_enough_realistic_rows(app, seeded):
    assert _counts() == (10, 250)
    assert len({sku for sku, *_ in seeded}) == 250
    assert len({name for _, name, *_ in seeded}) == 250
    assert len({slug for *_, slug in seeded}) == 10  # every category has products
    prices = [price for _, _, price, _, _ in seeded]
    assert all(isinstance(p, Decimal) and p > 0 and p == p.quantize(Decimal("0.01"))
               for p in prices)
    stocks = [stock for _, _, _, stock, _ in seeded]
    assert sum(stock == 0 for stock in stocks) >= 3  # a few sold out
    assert sum(1 <= stock <= 4 for stock in stocks) >= 10  # some running low
    assert max(stocks) > 100
    descriptions = db.session.scalars(sa.select(Product.description)).all()
    assert all(len(text) > 40 for text in descriptions)


def test_seed_reports_what_it_loaded(app):
    result = _seed(app)
    assert "Loaded 10 categories and 250 products." in result.output


def test_two_loads_into_empty_databases_are_identical(app, seeded):
    db.session.rollback()  # end our read transaction, or TRUNCATE waits on it forever
    truncate_all(app)
    assert _counts() == (0, 0)
    assert _seed(app).exit_code == 0
    assert _catalog() == seeded


def test_if_empty_does_nothing_when_products_exist(app, seeded):
    result = _seed(app, "--if-empty")
    assert result.exit_code == 0
    assert "nothing to do" in result.output
    assert _catalog() == seeded


def test_without_if_empty_a_non_empty_catalog_is_refused(app, seeded):
    result = _seed(app)
    assert result.exit_code != 0
    assert "--if-empty" in result.output
    assert _counts() == (10, 250)


def test_if_empty_loads_an_empty_catalog(app):
    assert _seed(app, "--if-empty").exit_code == 0
    assert _counts() == (10, 250)


def test_existing_categories_are_reused(app):
    books = make_category("Books")
    assert _seed(app).exit_code == 0
    assert _counts() == (10, 250)
    in_books = db.session.scalar(sa.select(sa.func.count()).select_from(Product)
                                 .where(Product.category_id == books.id))
    assert in_books == 25


def test_search_ranks_an_exact_name_match_first_in_the_demo_catalog(app, client, seeded):
    for sku in ("ELEC-0001", "BOOK-0003", "GROC-0007"):
        product = db.session.scalar(sa.select(Product).where(Product.sku == sku))
        response = client.get("/api/v1/search", query_string={"q": product.name.upper()})
        assert response.json["items"][0]["id"] == product.id
        assert response.json["meta"]["total"] >= 1


def test_demo_catalog_is_browsable_through_the_api(client, seeded):
    response = client.get("/api/v1/products", query_string={"category": "books",
                                                             "sort": "price", "per_page": 50})
    assert response.json["meta"]["total"] == 25
    prices = [Decimal(item["price"]) for item in response.json["items"]]
    assert prices == sorted(prices)
    assert len(client.get("/api/v1/categories").json["items"]) == 10


def test_seeding_replaces_what_the_cache_held_of_the_empty_catalog(app, client):
    # Cached while the catalog is empty: listings, categories, and a miss of a product id.
    assert client.get("/api/v1/products").json["meta"]["total"] == 0
    assert client.get("/api/v1/categories").json["items"] == []
    assert client.get("/api/v1/products/1").status_code == 404
    assert "No products" in client.get("/products").get_data(as_text=True)

    assert _seed(app).exit_code == 0

    assert client.get("/api/v1/products").json["meta"]["total"] == 250
    assert len(client.get("/api/v1/categories").json["items"]) == 10
    assert client.get("/api/v1/products/1").status_code == 200
    assert "No products" not in client.get("/products").get_data(as_text=True)
