"""The cart API for guests (Redis) and signed-in shoppers (cart_items rows)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.cart.guest import cart_key
from app.extensions import db, get_redis
from app.models import CartItem, Product
from tests.app.factories import make_category, make_product, put_in_cart

CART = "/api/v1/cart"


def _add(client, product_id, quantity=1, headers=None):
    return client.post(f"{CART}/items", json={"product_id": product_id, "quantity": quantity},
                       headers=headers or {})


def _durable(user_id: int) -> dict[int, int]:
    rows = db.session.execute(sa.select(CartItem.product_id, CartItem.quantity)
                              .where(CartItem.user_id == user_id))
    return dict(rows.all())


# --- guests ----------------------------------------------------------------------------

def test_a_guest_without_a_token_gets_a_fresh_token_and_an_empty_cart(client):
    response = client.get(CART)

    body = response.get_json()
    assert response.status_code == 200
    assert body["items"] == [] and body["total"] == "0.00" and body["item_count"] == 0
    assert len(body["token"]) == 43  # 32 random bytes, URL-safe base64
    assert response.headers["X-Cart-Token"] == body["token"]
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get(CART).get_json()["token"] != body["token"]


def test_guest_add_stores_the_line_in_redis_and_returns_prices(client, app):
    product = make_product(name="Copper Kettle", price="24.50", stock=5)

    response = _add(client, product.id, 2)

    body = response.get_json()
    token = response.headers["X-Cart-Token"]
    assert body["token"] == token
    assert get_redis().hgetall(cart_key(token)) == {str(product.id): "2"}
    assert body["items"] == [{"product_id": product.id, "name": "Copper Kettle",
                              "sku": product.sku, "unit_price": "24.50", "quantity": 2,
                              "line_total": "49.00", "available": 5,
                              "stock_state": "in_stock"}]
    assert body["total"] == "49.00" and body["item_count"] == 2
    assert body["ready_for_checkout"] is True


def test_guest_cart_expires_after_the_configured_idle_time_and_writes_refresh_it(make_app):
    app = make_app(CART_TTL_SECONDS=600)
    client = app.test_client()
    with app.app_context():
        product = make_product(stock=10)
        token = _add(client, product.id).headers["X-Cart-Token"]
        redis = get_redis()
        assert 590 < redis.ttl(cart_key(token)) <= 600
        redis.expire(cart_key(token), 5)

        client.put(f"{CART}/items/{product.id}", json={"quantity": 3},
                   headers={"X-Cart-Token": token})

        assert 590 < redis.ttl(cart_key(token)) <= 600
        redis.delete(cart_key(token))


def test_guest_token_round_trip_updates_removes_and_clears(client):
    kettle, mug = make_product(stock=9), make_product(price="5.00", stock=9)
    token = _add(client, kettle.id).headers["X-Cart-Token"]
    headers = {"X-Cart-Token": token}
    _add(client, mug.id, 2, headers)
    _add(client, kettle.id, 2, headers)

    assert client.get(CART, headers=headers).get_json()["item_count"] == 5
    put = client.put(f"{CART}/items/{mug.id}", json={"quantity": 7}, headers=headers)
    assert {i["product_id"]: i["quantity"] for i in put.get_json()["items"]} == {
        kettle.id: 3, mug.id: 7}

    removed = client.delete(f"{CART}/items/{kettle.id}", headers=headers)
    assert [i["product_id"] for i in removed.get_json()["items"]] == [mug.id]
    assert get_redis().hgetall(cart_key(token)) == {str(mug.id): "7"}

    cleared = client.delete(CART, headers=headers)
    assert cleared.get_json()["items"] == [] and cleared.headers["X-Cart-Token"] == token
    assert not get_redis().exists(cart_key(token))


def test_a_malformed_cart_token_is_a_422_naming_the_header(client):
    response = client.get(CART, headers={"X-Cart-Token": "guessable"})

    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["fields"] == {
        "X-Cart-Token": ["is not a cart token issued by this shop"]}


# --- signed-in shoppers ---------------------------------------------------------------

def test_signed_in_adds_are_durable_rows_and_add_up(client, customer, auth_headers):
    product = make_product(stock=10)
    headers = auth_headers(customer)

    _add(client, product.id, 2, headers)
    response = _add(client, product.id, 3, headers)

    assert response.get_json()["token"] is None
    assert "X-Cart-Token" not in response.headers
    assert _durable(customer.id) == {product.id: 5}
    assert client.get(CART, headers=headers).get_json()["items"][0]["quantity"] == 5


def test_signed_in_set_remove_and_clear_change_the_rows(client, customer, auth_headers):
    kettle, mug = make_product(stock=10), make_product(stock=10)
    headers = auth_headers(customer)
    _add(client, kettle.id, 1, headers)
    _add(client, mug.id, 1, headers)

    client.put(f"{CART}/items/{kettle.id}", json={"quantity": 4}, headers=headers)
    assert _durable(customer.id) == {kettle.id: 4, mug.id: 1}
    client.delete(f"{CART}/items/{mug.id}", headers=headers)
    assert _durable(customer.id) == {kettle.id: 4}
    client.delete(CART, headers=headers)
    assert _durable(customer.id) == {}


def test_a_signed_in_cart_ignores_a_guest_token(client, customer, auth_headers):
    product = make_product()
    guest_token = _add(client, product.id).headers["X-Cart-Token"]

    body = client.get(CART, headers={**auth_headers(customer),
                                     "X-Cart-Token": guest_token}).get_json()

    assert body["items"] == [] and body["token"] is None


def test_an_invalid_bearer_token_is_a_401_not_a_guest_cart(client):
    response = client.get(CART, headers={"Authorization": "Bearer not-a-jwt"})

    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_lines_whose_stock_dropped_or_product_was_withdrawn_are_flagged(
        client, customer, auth_headers):
    low, gone, fine = make_product(stock=10), make_product(stock=10), make_product(stock=10)
    for product in (low, gone, fine):
        put_in_cart(customer.id, product, 3)
    db.session.execute(sa.update(Product).where(Product.id == low.id).values(stock=2))
    db.session.execute(sa.update(Product).where(Product.id == gone.id).values(is_active=False))
    db.session.commit()

    body = client.get(CART, headers=auth_headers(customer)).get_json()

    states = {item["product_id"]: (item["stock_state"], item["available"])
              for item in body["items"]}
    assert states == {low.id: ("insufficient_stock", 2), gone.id: ("unavailable", 10),
                      fine.id: ("in_stock", 10)}
    assert body["ready_for_checkout"] is False


def test_reading_a_cart_loads_its_products_in_one_query(client, customer, auth_headers):
    category = make_category()
    for _ in range(12):
        put_in_cart(customer.id, make_product(category), 1)
    headers = auth_headers(customer)
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        body = client.get(CART, headers=headers).get_json()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)

    assert len(body["items"]) == 12
    product_queries = [s for s in statements if "products" in s]
    assert len(product_queries) == 1
    assert len(statements) <= 2  # the user, the cart lines joined with their products


# --- validation, bounds and stock --------------------------------------------------------

@pytest.mark.parametrize(("body", "field"), [
    ({}, "product_id"),
    ({"product_id": "7"}, "product_id"),
    ({"product_id": 0}, "product_id"),
    ({"product_id": 1, "quantity": 0}, "quantity"),
    ({"product_id": 1, "quantity": 100}, "quantity"),
    ({"product_id": 1, "quantity": 1.5}, "quantity"),
    ({"product_id": 1, "colour": "red"}, "colour"),
])
def test_add_item_validation_names_the_field(client, body, field):
    response = client.post(f"{CART}/items", json=body)

    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]


@pytest.mark.parametrize(("body", "field"), [
    ({}, "quantity"), ({"quantity": 0}, "quantity"), ({"quantity": 100}, "quantity"),
    ({"quantity": "3"}, "quantity"), ({"quantity": 2, "extra": 1}, "extra"),
])
def test_set_quantity_validation_names_the_field(client, body, field):
    product = make_product()

    response = client.put(f"{CART}/items/{product.id}", json=body)

    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]


def test_a_non_json_body_is_a_415(client):
    response = client.post(f"{CART}/items", data="product_id=1",
                           content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415


def test_unknown_or_withdrawn_products_are_404(client):
    withdrawn = make_product(is_active=False)

    for product_id in (withdrawn.id, 999999):
        response = _add(client, product_id)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
    assert client.put(f"{CART}/items/{withdrawn.id}", json={"quantity": 1}).status_code == 404


def test_removing_a_product_not_in_the_cart_is_404(client, customer, auth_headers):
    product = make_product()

    response = client.delete(f"{CART}/items/{product.id}", headers=auth_headers(customer))

    assert response.status_code == 404


@pytest.mark.parametrize("signed_in", [False, True])
def test_more_than_in_stock_is_a_409_and_leaves_the_line(client, customer, auth_headers,
                                                         signed_in):
    product = make_product(stock=4)
    headers = auth_headers(customer) if signed_in else {}
    first = _add(client, product.id, 3, headers)
    headers = headers or {"X-Cart-Token": first.headers["X-Cart-Token"]}

    response = _add(client, product.id, 2, headers)

    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "insufficient_stock"
    assert error["details"] == {"product_id": product.id, "requested": 5, "available": 4,
                                "in_cart": 3}
    assert client.get(CART, headers=headers).get_json()["items"][0]["quantity"] == 3
    assert client.put(f"{CART}/items/{product.id}", json={"quantity": 5},
                      headers=headers).status_code == 409


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_line_cannot_exceed_99_units_even_in_two_adds(client, customer, auth_headers,
                                                        signed_in):
    product = make_product(stock=500)
    headers = auth_headers(customer) if signed_in else {}
    first = _add(client, product.id, 60, headers)
    headers = headers or {"X-Cart-Token": first.headers["X-Cart-Token"]}

    response = _add(client, product.id, 40, headers)

    assert response.status_code == 422
    assert list(response.get_json()["error"]["details"]["fields"]) == ["quantity"]
    assert client.get(CART, headers=headers).get_json()["items"][0]["quantity"] == 60


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_cart_holds_at_most_50_products(client, customer, auth_headers, signed_in):
    category = make_category()
    products = [make_product(category) for _ in range(51)]
    headers = auth_headers(customer) if signed_in else {}
    first = _add(client, products[0].id, 1, headers)
    headers = headers or {"X-Cart-Token": first.headers["X-Cart-Token"]}
    for product in products[1:50]:
        assert _add(client, product.id, 1, headers).status_code == 200

    response = _add(client, products[50].id, 1, headers)

    assert response.status_code == 422
    assert list(response.get_json()["error"]["details"]["fields"]) == ["product_id"]
    assert _add(client, products[0].id, 1, headers).status_code == 200  # existing line
    assert len(client.get(CART, headers=headers).get_json()["items"]) == 50
