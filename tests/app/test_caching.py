"""Catalog reads cached in Redis: served from the cache, never stale after a write, precise
about what a write invalidates, silent about a Redis outage; and the HTTP caching headers."""

from __future__ import annotations

import json
import logging
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.catalog import service
from app.extensions import db
from tests.app.factories import checkout_body, make_category, make_product, put_in_cart

PRODUCTS = "/api/v1/products"
CATEGORIES = "/api/v1/categories"


def behind_the_cache(sql: str, **params) -> None:
    """Change a row without the application knowing: only a cache explains an old answer."""
    with db.engine.begin() as connection:
        connection.execute(sa.text(sql), params)


def sneak_price(product_id: int, price: str) -> None:
    behind_the_cache("UPDATE products SET price = :price WHERE id = :id", price=price,
                     id=product_id)


def price_in_list(client, product_id: int, query: str = "") -> str | None:
    items = client.get(f"{PRODUCTS}?per_page=100{query}").json["items"]
    return next((item["price"] for item in items if item["id"] == product_id), None)


@pytest.fixture
def admin_headers(admin, auth_headers):
    return auth_headers(admin)


@pytest.fixture
def product(app):
    return make_product(make_category("Tea"), name="Green tea", price="19.99", stock=10)


# --- served from the cache -------------------------------------------------------------

def test_product_reads_come_from_the_cache(client, product):
    assert client.get(f"{PRODUCTS}/{product.id}").json["price"] == "19.99"
    assert price_in_list(client, product.id) == "19.99"

    sneak_price(product.id, "5.00")

    assert client.get(f"{PRODUCTS}/{product.id}").json["price"] == "19.99"
    assert price_in_list(client, product.id) == "19.99"


def test_category_reads_come_from_the_cache(client, product):
    category_id = product.category_id
    assert client.get(f"{CATEGORIES}/{category_id}").json["name"] == "Tea"
    assert client.get(CATEGORIES).json["items"][0]["name"] == "Tea"

    behind_the_cache("UPDATE categories SET name = 'Coffee' WHERE id = :id", id=category_id)

    assert client.get(f"{CATEGORIES}/{category_id}").json["name"] == "Tea"
    assert client.get(CATEGORIES).json["items"][0]["name"] == "Tea"


def test_a_cached_product_reads_like_a_fresh_one(client, product):
    fresh = client.get(f"{PRODUCTS}/{product.id}").json
    cached = client.get(f"{PRODUCTS}/{product.id}").json
    assert cached == fresh
    assert cached["category"]["name"] == "Tea"
    assert (cached["price"], cached["stock"], cached["in_stock"]) == ("19.99", 10, True)


# --- never stale after a write ---------------------------------------------------------

def warm(client, product) -> None:
    """Every cached read that shows the product."""
    client.get(f"{PRODUCTS}/{product.id}")
    client.get(f"{PRODUCTS}/sku/{product.sku}")
    client.get(f"{PRODUCTS}?per_page=100")
    client.get(f"{PRODUCTS}?per_page=100&in_stock=true")
    client.get("/api/v1/search?q=green")


def test_a_price_change_shows_everywhere_at_once(client, product, admin_headers):
    warm(client, product)

    response = client.patch(f"{PRODUCTS}/{product.id}", json={"price": "24.50"},
                            headers=admin_headers)

    assert response.status_code == 200
    assert client.get(f"{PRODUCTS}/{product.id}").json["price"] == "24.50"
    assert client.get(f"{PRODUCTS}/sku/{product.sku}").json["price"] == "24.50"
    assert price_in_list(client, product.id) == "24.50"
    assert client.get("/api/v1/search?q=green").json["items"][0]["price"] == "24.50"


def test_a_stock_adjustment_shows_everywhere_at_once(client, product, admin_headers):
    warm(client, product)

    response = client.post(f"{PRODUCTS}/{product.id}/stock", json={"set": 0},
                           headers=admin_headers)

    assert response.status_code == 200
    detail = client.get(f"{PRODUCTS}/{product.id}").json
    assert (detail["stock"], detail["in_stock"]) == (0, False)
    assert price_in_list(client, product.id, "&in_stock=true") is None
    assert price_in_list(client, product.id, "&in_stock=false") == "19.99"


def test_checkout_and_cancel_show_in_stock_levels(client, product, customer, auth_headers):
    warm(client, product)
    put_in_cart(customer.id, product, 3)
    headers = auth_headers(customer)

    order = client.post("/api/v1/orders/checkout", json=checkout_body(),
                        headers={**headers, "Idempotency-Key": "cache-1"})

    assert order.status_code == 201
    assert client.get(f"{PRODUCTS}/{product.id}").json["stock"] == 7
    listed = client.get(f"{PRODUCTS}?per_page=100").json["items"]
    assert [item["stock"] for item in listed if item["id"] == product.id] == [7]

    cancelled = client.post(f"/api/v1/orders/{order.json['id']}/cancel", headers=headers)

    assert cancelled.json["status"] == "cancelled"
    assert client.get(f"{PRODUCTS}/{product.id}").json["stock"] == 10
    listed = client.get(f"{PRODUCTS}?per_page=100").json["items"]
    assert [item["stock"] for item in listed if item["id"] == product.id] == [10]


def test_a_category_change_shows_in_categories_and_products(client, product, admin_headers):
    category_id = product.category_id
    warm(client, product)
    client.get(CATEGORIES)
    client.get(f"{CATEGORIES}/{category_id}")

    client.patch(f"{CATEGORIES}/{category_id}", json={"name": "Fine tea", "slug": "fine-tea"},
                 headers=admin_headers)

    assert client.get(CATEGORIES).json["items"][0]["name"] == "Fine tea"
    assert client.get(f"{CATEGORIES}/{category_id}").json["slug"] == "fine-tea"
    assert client.get(f"{CATEGORIES}/slug/fine-tea").json["id"] == category_id
    assert client.get(f"{PRODUCTS}/{product.id}").json["category"]["name"] == "Fine tea"
    assert price_in_list(client, product.id, "&category=fine-tea") == "19.99"


def test_deactivated_and_new_products_show_at_once(client, product, admin_headers):
    warm(client, product)

    client.delete(f"{PRODUCTS}/{product.id}", headers=admin_headers)
    created = client.post(PRODUCTS, json={"name": "Black tea", "price": "7.00", "sku": "BLK-1",
                                          "category_id": product.category_id},
                          headers=admin_headers)

    assert client.get(f"{PRODUCTS}/{product.id}").status_code == 404
    assert client.get(f"{PRODUCTS}/sku/{product.sku}").status_code == 404
    assert price_in_list(client, product.id) is None
    assert price_in_list(client, created.json["id"]) == "7.00"


def test_a_failed_write_invalidates_nothing_it_did_not_change(client, product, admin_headers):
    warm(client, product)
    sneak_price(product.id, "5.00")

    refused = client.post(f"{PRODUCTS}/{product.id}/stock", json={"delta": -11},
                          headers=admin_headers)

    assert refused.status_code == 409
    assert client.get(f"{PRODUCTS}/{product.id}").json["price"] == "19.99"


def test_a_write_leaves_other_products_cached(client, product, admin_headers):
    other = make_product(make_category("Cups"), name="Cup", price="3.00")
    client.get(f"{PRODUCTS}/{product.id}")
    client.get(f"{PRODUCTS}/{other.id}")
    sneak_price(product.id, "5.00")
    sneak_price(other.id, "4.00")

    client.patch(f"{PRODUCTS}/{product.id}", json={"name": "Sencha"}, headers=admin_headers)

    assert client.get(f"{PRODUCTS}/{product.id}").json["price"] == "5.00"  # re-read
    assert client.get(f"{PRODUCTS}/{other.id}").json["price"] == "3.00"  # still cached


def test_fills_are_not_kept_while_a_replica_may_lag(make_app, admin, auth_headers):
    app = make_app(DATABASE_REPLICA_URL=db.engine.url.render_as_string(hide_password=False),
                   CACHE_REPLICA_LAG_SECONDS=60)
    client = app.test_client()
    product = make_product(make_category("Tea"), price="19.99")
    client.patch(f"{PRODUCTS}/{product.id}", json={"price": "20.00"},
                 headers=auth_headers(admin))

    assert client.get(f"{PRODUCTS}/{product.id}").json["price"] == "20.00"
    sneak_price(product.id, "21.00")
    assert client.get(f"{PRODUCTS}/{product.id}").json["price"] == "21.00"  # not kept

    redis = app.extensions["redis"]
    redis.delete(*redis.keys("cache:written:*"))  # the lag window has passed
    assert client.get(f"{PRODUCTS}/{product.id}").json["price"] == "21.00"
    sneak_price(product.id, "22.00")
    assert client.get(f"{PRODUCTS}/{product.id}").json["price"] == "21.00"  # kept now


def test_lost_version_tokens_never_resurrect_old_entries(client, app, product, admin_headers):
    client.get(f"{PRODUCTS}/{product.id}")
    client.patch(f"{PRODUCTS}/{product.id}", json={"price": "30.00"}, headers=admin_headers)
    client.get(f"{PRODUCTS}/{product.id}")
    redis = app.extensions["redis"]

    redis.delete(*redis.keys("cache:version:*"))  # evicted, or Redis restarted with data

    assert client.get(f"{PRODUCTS}/{product.id}").json["price"] == "30.00"


def test_a_row_entry_from_another_release_is_refilled(app, product):
    service.get_product(product.id)
    redis = app.extensions["redis"]
    [key] = redis.keys(f"cache:product:{product.id}:*")
    entry = json.loads(redis.get(key))
    del entry["price"]  # as written by a release whose model had no such column
    redis.set(key, json.dumps(entry))

    assert service.get_product(product.id).price == Decimal("19.99")
    assert "price" in json.loads(redis.get(key))


# --- Redis down ------------------------------------------------------------------------

def test_without_redis_the_catalog_is_read_from_the_database(make_app, app, product, admin,
                                                             auth_headers, caplog):
    broken = make_app(REDIS_URL="redis://127.0.0.1:9/0").test_client()  # nothing listens
    caplog.set_level(logging.WARNING, logger="app.caching")

    first = broken.get(f"{PRODUCTS}/{product.id}")
    listed = broken.get(f"{PRODUCTS}?per_page=100")
    renamed = broken.patch(f"{PRODUCTS}/{product.id}", json={"name": "Sencha"},
                           headers=auth_headers(admin))

    assert first.status_code == 200 and first.json["price"] == "19.99"
    assert listed.status_code == 200 and listed.json["items"][0]["id"] == product.id
    assert renamed.status_code == 200
    assert broken.get(f"{PRODUCTS}/{product.id}").json["name"] == "Sencha"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # then quiet while the breaker is open
    assert "cache unavailable" in warnings[0].getMessage()
    assert any(r.levelno == logging.ERROR and "invalidation" in r.getMessage()
               for r in caplog.records)


# --- HTTP caching ----------------------------------------------------------------------

def test_anonymous_catalog_reads_are_public_with_an_etag(client, product):
    response = client.get(f"{PRODUCTS}/{product.id}")

    assert response.status_code == 200
    control = response.cache_control
    assert control.public and control.max_age == 60
    assert control.stale_while_revalidate == 30
    assert not control.private and not control.no_store
    assert {"Authorization", "Cookie"} <= set(response.vary)
    assert response.headers["ETag"]


def test_if_none_match_is_answered_with_304_until_the_product_changes(client, product,
                                                                       admin_headers):
    etag = client.get(f"{PRODUCTS}/{product.id}").headers["ETag"]

    unchanged = client.get(f"{PRODUCTS}/{product.id}", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.data == b""
    assert unchanged.headers["ETag"] == etag
    assert unchanged.cache_control.public

    client.patch(f"{PRODUCTS}/{product.id}", json={"price": "1.00"}, headers=admin_headers)
    changed = client.get(f"{PRODUCTS}/{product.id}", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json["price"] == "1.00"
    assert changed.headers["ETag"] != etag


@pytest.mark.parametrize("path", [PRODUCTS, CATEGORIES, "/api/v1/search?q=tea"])
def test_every_catalog_listing_is_public(client, product, path):
    response = client.get(path)
    assert response.cache_control.public and response.headers["ETag"]


def test_signed_in_reads_are_never_stored_by_shared_caches(client, product, customer,
                                                           auth_headers):
    response = client.get(f"{PRODUCTS}/{product.id}", headers=auth_headers(customer))

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert {"Authorization", "Cookie"} <= set(response.vary)


def test_a_session_cookie_makes_a_read_private(app, client, product):
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], "some-session")
    response = client.get(f"{PRODUCTS}/{product.id}")
    assert response.headers["Cache-Control"] == "private, no-store"


def test_writes_errors_and_personal_reads_are_not_stored(client, product, admin_headers):
    patched = client.patch(f"{PRODUCTS}/{product.id}", json={"name": "Sencha"},
                           headers=admin_headers)
    missing = client.get(f"{PRODUCTS}/999999")
    guest_cart = client.post("/api/v1/cart/items", json={"product_id": product.id,
                                                         "quantity": 1})
    cart = client.get("/api/v1/cart",
                      headers={"X-Cart-Token": guest_cart.headers.get("X-Cart-Token", "")})
    health = client.get("/healthz")

    assert cart.status_code == 200
    for response in (patched, missing, guest_cart, cart, health):
        assert response.cache_control.no_store, response.request.path
        assert not response.cache_control.public
        assert "ETag" not in response.headers


def test_a_views_own_public_policy_is_kept(client):
    response = client.get("/api/docs/assets/swagger-ui.css", headers={"Cookie": "session=x"})
    assert response.status_code == 200
    assert response.cache_control.public and response.cache_control.max_age == 86400
