"""Checkout: one transaction from cart to paid order, idempotent per Idempotency-Key."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.mail import MailError
from app.models import CartItem, IdempotencyKey, Order, OrderItem
from tests.app.factories import (
    ADDRESS,
    NEXT_YEAR,
    checkout_body,
    make_product,
    put_in_cart,
    stock_of,
)

CHECKOUT = "/api/v1/orders/checkout"


@pytest.fixture
def checkout(client, customer, auth_headers):
    def action(body: dict | None = None, key: str = "key-1", user=None):
        headers = {**auth_headers(user or customer), "Idempotency-Key": key}
        body = checkout_body() if body is None else body
        return client.post(CHECKOUT, json=body, headers=headers)

    return action


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _cart_of(user_id: int) -> dict[int, int]:
    db.session.expire_all()
    rows = db.session.execute(sa.select(CartItem.product_id, CartItem.quantity)
                              .where(CartItem.user_id == user_id))
    return dict(rows.all())


def test_checkout_places_a_paid_order_with_snapshots(app, checkout, customer):
    kettle = make_product(name="Copper Kettle", price="24.50", stock=5)
    mug = make_product(name="Stoneware Mug", price="7.25", stock=10)
    put_in_cart(customer.id, kettle, 2)
    put_in_cart(customer.id, mug, 4)

    response = checkout()

    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/orders/{body['id']}"
    assert response.headers["Idempotent-Replayed"] == "false"
    assert body["status"] == "paid" and body["payment_status"] == "approved"
    assert body["total_amount"] == "78.00"
    assert body["payment_method"] == "card ending 4242"
    assert body["shipping_address"] == ADDRESS
    assert "payment" not in body
    order = db.session.get(Order, body["id"])
    assert order.user_id == customer.id and order.total_amount == Decimal("78.00")
    assert order.payment_reference.startswith("test_")
    items = db.session.scalars(sa.select(OrderItem).order_by(OrderItem.product_id)).all()
    assert [(i.product_id, i.product_name, i.sku, i.quantity, i.price) for i in items] == [
        (kettle.id, "Copper Kettle", kettle.sku, 2, Decimal("24.50")),
        (mug.id, "Stoneware Mug", mug.sku, 4, Decimal("7.25"))]
    assert (stock_of(kettle.id), stock_of(mug.id)) == (3, 6)
    assert _cart_of(customer.id) == {}
    [mail] = app.extensions["mail_outbox"]
    assert mail.to == customer.email and mail.subject == f"Your order #{order.id}"
    assert "2 x Copper Kettle" in mail.body and "78.00" in mail.body
    assert "4242424242424242" not in mail.body


def test_the_order_keeps_its_snapshot_when_the_catalog_changes(checkout, client, customer,
                                                               auth_headers):
    product = make_product(name="Kettle", price="10.00", stock=5)
    put_in_cart(customer.id, product, 1)
    order_id = checkout().get_json()["id"]

    product.name, product.price = "Renamed Kettle", Decimal("99.00")
    db.session.commit()

    item = client.get(f"/api/v1/orders/{order_id}",
                      headers=auth_headers(customer)).get_json()["items"][0]
    assert (item["product_name"], item["price"], item["line_total"]) == (
        "Kettle", "10.00", "10.00")


def test_checkout_charges_the_price_of_the_moment_not_of_the_cart(checkout, customer):
    product = make_product(price="10.00", stock=5)
    put_in_cart(customer.id, product, 2)
    product.price = Decimal("12.00")
    db.session.commit()

    assert checkout().get_json()["total_amount"] == "24.00"


@pytest.mark.parametrize(("card", "reason"), [
    ("4000000000000002", "card_declined"),
    ("4000000000009995", "insufficient_funds"),
    ("4000000000000069", "expired_card"),
    ("4000000000000127", "incorrect_cvc"),
])
def test_a_declined_card_changes_nothing_and_says_why(app, checkout, customer, card, reason):
    product = make_product(stock=5)
    put_in_cart(customer.id, product, 2)

    response = checkout(checkout_body(card))

    assert response.status_code == 402
    error = response.get_json()["error"]
    assert error["code"] == "payment_declined" and error["details"] == {"reason": reason}
    assert stock_of(product.id) == 5
    assert _cart_of(customer.id) == {product.id: 2}
    assert (_count(Order), _count(IdempotencyKey)) == (0, 0)
    assert app.extensions["mail_outbox"] == []


def test_after_a_decline_the_same_key_can_pay_with_another_card(checkout, customer):
    product = make_product(stock=5)
    put_in_cart(customer.id, product, 1)
    assert checkout(checkout_body("4000000000000002")).status_code == 402

    response = checkout(checkout_body("4242424242424242"))

    assert response.status_code == 201
    assert stock_of(product.id) == 4


def test_a_retry_with_the_same_key_returns_the_same_order(app, checkout, customer):
    product = make_product(stock=5)
    put_in_cart(customer.id, product, 2)
    first = checkout()
    put_in_cart(customer.id, product, 1)  # a new cart must not turn the retry into an order

    retry = checkout()

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.get_json()["id"] == first.get_json()["id"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert _count(Order) == 1 and _count(IdempotencyKey) == 1
    assert stock_of(product.id) == 3
    assert _cart_of(customer.id) == {product.id: 1}
    assert len(app.extensions["mail_outbox"]) == 1


def test_the_same_key_with_a_different_body_is_refused(checkout, customer):
    product = make_product(stock=5)
    put_in_cart(customer.id, product, 1)
    checkout()
    put_in_cart(customer.id, product, 1)

    response = checkout(checkout_body(city="Shelbyville"))

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in error["details"]["fields"]
    assert _count(Order) == 1 and stock_of(product.id) == 4


def test_keys_are_per_user(checkout, customer, make_user):
    other = make_user()
    product = make_product(stock=5)
    put_in_cart(customer.id, product, 1)
    put_in_cart(other.id, product, 1)

    first, second = checkout(key="shared"), checkout(key="shared", user=other)

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json()["id"] != second.get_json()["id"]


def test_checkout_is_for_signed_in_shoppers_only(client):
    response = client.post(CHECKOUT, json={}, headers={"Idempotency-Key": "k"})

    assert response.status_code == 401


@pytest.mark.parametrize("headers", [{}, {"Idempotency-Key": ""},
                                     {"Idempotency-Key": "k" * 129}])
def test_the_idempotency_key_header_is_required_and_bounded(client, customer, auth_headers,
                                                            headers):
    put_in_cart(customer.id, make_product(), 1)

    response = client.post(CHECKOUT, json=checkout_body(),
                           headers={**auth_headers(customer), **headers})

    assert response.status_code == 422
    assert "Idempotency-Key" in response.get_json()["error"]["details"]["fields"]
    assert _count(Order) == 0


def _without(mapping: dict, key: str) -> dict:
    return {name: value for name, value in mapping.items() if name != key}


def _card(**changes) -> dict:
    return {**checkout_body()["payment"], **changes}


@pytest.mark.parametrize(("body", "fields"), [
    ({}, {"shipping_address": ["Missing data for required field."],
          "payment": ["Missing data for required field."]}),
    ({"shipping_address": _without(ADDRESS, "city"), "payment": _card()},
     {"shipping_address": {"city": ["Missing data for required field."]}}),
    ({"shipping_address": {**ADDRESS, "country": "ZZ"}, "payment": _card()},
     {"shipping_address": {"country": ["must be an ISO 3166-1 alpha-2 country code"]}}),
    ({"shipping_address": {**ADDRESS, "country": "USA"}, "payment": _card()},
     {"shipping_address": {"country": ["Length must be 2."]}}),
    ({"shipping_address": {**ADDRESS, "name": "  "}, "payment": _card()},
     {"shipping_address": {"name": ["is required"]}}),
    ({"shipping_address": ADDRESS, "payment": _card(card_number="4242424242424241")},
     {"payment": {"card_number": ["is not a valid card number"]}}),
    ({"shipping_address": ADDRESS, "payment": _card(exp_year=2001)},
     {"payment": {"exp_year": ["the card has expired"]}}),
    ({"shipping_address": ADDRESS, "payment": _card(exp_month=13)},
     {"payment": {"exp_month": ["Must be greater than or equal to 1 and less than or "
                                "equal to 12."]}}),
    ({"shipping_address": ADDRESS, "payment": _card(cvc="12x")},
     {"payment": {"cvc": ["must be 3 or 4 digits"]}}),
    ({"shipping_address": ADDRESS, "payment": _without(_card(), "cvc")},
     {"payment": {"cvc": ["Missing data for required field."]}}),
    ({"shipping_address": ADDRESS, "payment": _card(), "coupon": "FREE"},
     {"coupon": ["Unknown field."]}),
])
def test_checkout_validation_names_each_bad_field(checkout, customer, body, fields):
    product = make_product(stock=5)
    put_in_cart(customer.id, product, 1)

    response = checkout(body)

    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["fields"] == fields
    assert stock_of(product.id) == 5 and _count(Order) == 0


def test_an_empty_cart_cannot_be_checked_out(checkout):
    response = checkout()

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "cart_empty"
    assert _count(IdempotencyKey) == 0


def test_stock_is_re_read_at_checkout(checkout, customer):
    scarce, withdrawn = make_product(stock=5), make_product(stock=5)
    put_in_cart(customer.id, scarce, 4)
    put_in_cart(customer.id, withdrawn, 1)
    scarce.stock, withdrawn.is_active = 3, False
    db.session.commit()

    response = checkout()

    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "insufficient_stock"
    assert error["details"]["items"] == [
        {"product_id": scarce.id, "reason": "insufficient_stock", "requested": 4,
         "available": 3},
        {"product_id": withdrawn.id, "reason": "unavailable", "requested": 1,
         "available": 0}]
    assert stock_of(scarce.id) == 3 and _count(Order) == 0
    assert _cart_of(customer.id) == {scarce.id: 4, withdrawn.id: 1}


def test_a_mail_failure_does_not_undo_the_order(checkout, customer, monkeypatch):
    product = make_product(stock=5)
    put_in_cart(customer.id, product, 1)

    def failing_mail(*args):
        raise MailError("smtp down")

    monkeypatch.setattr("app.orders.service.send_mail", failing_mail)
    response = checkout()

    assert response.status_code == 201
    assert _count(Order) == 1 and stock_of(product.id) == 4


def test_card_numbers_are_never_stored(checkout, customer):
    put_in_cart(customer.id, make_product(stock=5), 1)
    checkout(checkout_body("4242 4242 4242 4242"))

    dump = " ".join(str(row) for row in db.session.execute(sa.text(
        "SELECT o.*, k.* FROM orders o CROSS JOIN idempotency_keys k")).all())
    assert "4242424242424242" not in dump and "4242 4242" not in dump
    assert str(NEXT_YEAR) not in dump


def test_checkout_reads_nothing_again_after_its_commit(app, checkout, customer):
    for product in (make_product(price="2.00", stock=5), make_product(price="3.00", stock=5)):
        put_in_cart(customer.id, product, 1)
    sent: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        sent.append(" ".join(statement.split()))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = checkout()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)

    assert response.status_code == 201 and len(response.json["items"]) == 2
    assert app.extensions["mail_outbox"][-1].subject == f"Your order #{response.json['id']}"
    # The last statement writes the stock, the cart rows and the key's order id at once;
    # the response and the mail read what the session holds.
    assert "UPDATE idempotency_keys" in sent[-1] and "DELETE FROM cart_items" in sent[-1]
    assert "UPDATE products" in sent[-1]
    assert _cart_of(customer.id) == {}
