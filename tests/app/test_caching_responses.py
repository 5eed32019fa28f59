"""Anonymous catalog reads answered from their kept JSON body: no SQL on a hit, the same
body and headers as the fill, never for a signed-in reader, never an error, never a body
from a release whose schema differed. (Staleness after writes: test_caching.py.)"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from marshmallow import fields
from prometheus_client import REGISTRY

from app.catalog import cache
from app.catalog.schemas import ProductSchema
from app.extensions import db
from tests.app.factories import make_category, make_product

PRODUCTS = "/api/v1/products"


@pytest.fixture
def product(app):
    return make_product(make_category("Tea"), name="Green tea", price="19.99", stock=10)


@pytest.fixture
def statements(app):
    """The SQL statements run while the test is inside ``with statements as seen:``."""

    class Recorder:
        def __enter__(self) -> list[str]:
            self.seen: list[str] = []
            sa.event.listen(db.engine, "before_cursor_execute", self._record)
            return self.seen

        def __exit__(self, *exc) -> None:
            sa.event.remove(db.engine, "before_cursor_execute", self._record)

        def _record(self, conn, cursor, statement, *args) -> None:
            self.seen.append(statement)

    return Recorder()


@pytest.mark.parametrize("first, again", [
    ("/products/{id}", "/products/{id}"),
    ("/products/sku/{sku}", "/products/sku/{sku}"),
    ("/products?per_page=100&in_stock=true", "/products?in_stock=true&per_page=100"),
    ("/search?q=green&per_page=5", "/search?per_page=5&q=green"),
    ("/categories", "/categories"),
    ("/categories/{category_id}", "/categories/{category_id}"),
])
def test_an_anonymous_read_is_answered_from_its_kept_body_without_sql(client, product,
                                                                     statements, first,
                                                                     again):
    names = {"id": product.id, "sku": product.sku, "category_id": product.category_id}
    filled = client.get("/api/v1" + first.format(**names))

    with statements as seen:
        hit = client.get("/api/v1" + again.format(**names))

    assert seen == []
    assert hit.status_code == 200 and hit.json == filled.json
    assert hit.headers["ETag"] == filled.headers["ETag"] and hit.cache_control.public


def api_product_lookups() -> float:
    return sum(REGISTRY.get_sample_value(name, {"cache": "api-product"}) or 0.0
               for name in ("shop_cache_hits_total", "shop_cache_misses_total"))


def test_signed_in_reads_do_not_use_the_kept_bodies(client, product, customer, auth_headers):
    client.get(f"{PRODUCTS}/{product.id}")
    before = api_product_lookups()

    signed_in = client.get(f"{PRODUCTS}/{product.id}", headers=auth_headers(customer))

    assert signed_in.json["price"] == "19.99"
    assert api_product_lookups() == before  # served through the cached rows instead


def test_only_successful_answers_are_kept(client, app):
    assert client.get(f"{PRODUCTS}/999999").status_code == 404
    assert client.get(f"{PRODUCTS}?sort=bogus").status_code == 422

    assert app.extensions["redis"].keys("cache:api-*") == []


def test_a_body_kept_by_a_release_with_another_schema_is_never_served():
    class Wider(ProductSchema):
        rating = fields.Integer()

    assert cache._shape_digest(Wider) != cache._shape_digest(ProductSchema)
