"""Signing in with a guest cart token merges the guest cart into the durable cart."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.cart.guest import cart_key
from app.cart.service import merge_guest_cart
from app.extensions import db, get_redis
from app.models import CartItem
from tests.app.factories import make_category, make_product, put_in_cart


def _guest_cart(client, lines: dict) -> str:
    token = client.get("/api/v1/cart").headers["X-Cart-Token"]
    for product, quantity in lines.items():
        response = client.post("/api/v1/cart/items", json={"product_id": product.id,
                                                           "quantity": quantity},
                               headers={"X-Cart-Token": token})
        assert response.status_code == 200
    return token


def _durable(user_id: int) -> dict[int, int]:
    db.session.expire_all()
    rows = db.session.execute(sa.select(CartItem.product_id, CartItem.quantity)
                              .where(CartItem.user_id == user_id))
    return dict(rows.all())


def test_login_merges_the_guest_cart_and_deletes_it(client, customer, login):
    kettle, mug = make_product(stock=10), make_product(stock=10)
    put_in_cart(customer.id, kettle, 2)
    token = _guest_cart(client, {kettle: 3, mug: 1})

    response = login(customer.email, headers={"X-Cart-Token": token})

    assert response.status_code == 200
    assert response.get_json()["cart_merge"] == {
        "merged": sorted([{"product_id": kettle.id, "quantity": 5},
                          {"product_id": mug.id, "quantity": 1}],
                         key=lambda line: line["product_id"]),
        "clamped": [], "skipped": []}
    assert _durable(customer.id) == {kettle.id: 5, mug.id: 1}
    assert not get_redis().exists(cart_key(token))


def test_a_merge_beyond_stock_is_clamped_and_reported_not_refused(client, customer, login):
    scarce = make_product(stock=4)
    put_in_cart(customer.id, scarce, 3)
    token = _guest_cart(client, {scarce: 3})

    response = login(customer.email, headers={"X-Cart-Token": token})

    assert response.status_code == 200
    merge = response.get_json()["cart_merge"]
    assert merge["clamped"] == [{"product_id": scarce.id, "requested": 6, "available": 4}]
    assert merge["merged"] == [{"product_id": scarce.id, "quantity": 4}]
    assert _durable(customer.id) == {scarce.id: 4}


def test_a_held_line_over_the_stock_is_lowered_to_what_the_merge_reports(client, customer,
                                                                         login):
    scarce = make_product(stock=10)
    put_in_cart(customer.id, scarce, 8)
    token = _guest_cart(client, {scarce: 1})
    scarce.stock = 5  # sold elsewhere since the account put 8 in its cart
    db.session.commit()

    merge = login(customer.email, headers={"X-Cart-Token": token}).get_json()["cart_merge"]

    assert merge["clamped"] == [{"product_id": scarce.id, "requested": 9, "available": 5}]
    assert merge["merged"] == [{"product_id": scarce.id, "quantity": 5}]
    assert _durable(customer.id) == {scarce.id: 5}


def test_a_merge_skips_withdrawn_products_and_sold_out_lines(client, customer, login):
    withdrawn, sold_out = make_product(stock=5), make_product(stock=5)
    token = _guest_cart(client, {withdrawn: 1, sold_out: 2})
    withdrawn.is_active = False
    sold_out.stock = 0
    db.session.commit()

    merge = login(customer.email, headers={"X-Cart-Token": token}).get_json()["cart_merge"]

    assert merge["skipped"] == [{"product_id": withdrawn.id, "reason": "unavailable"}]
    assert merge["clamped"] == [{"product_id": sold_out.id, "requested": 2, "available": 0}]
    assert merge["merged"] == []
    assert _durable(customer.id) == {}


def test_login_without_a_cart_token_reports_no_merge(client, customer, login):
    response = login(customer.email)

    assert response.status_code == 200
    assert "cart_merge" not in response.get_json()


def test_merging_an_unknown_or_malformed_token_merges_nothing(customer):
    empty = {"merged": [], "clamped": [], "skipped": []}

    assert merge_guest_cart(customer.id, "x" * 43) == empty
    assert merge_guest_cart(customer.id, "not a token") == empty
    assert _durable(customer.id) == {}


def test_a_failed_merge_puts_the_guest_cart_back(client, customer, monkeypatch):
    product = make_product(stock=5)
    token = _guest_cart(client, {product: 2})

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("app.cart.durable.UserCart.merge", broken)
    with pytest.raises(RuntimeError):
        merge_guest_cart(customer.id, token)

    assert get_redis().hgetall(cart_key(token)) == {str(product.id): "2"}
    assert _durable(customer.id) == {}


def test_a_merge_into_a_full_cart_skips_new_lines_but_tops_up_held_ones(client, customer):
    category = make_category()
    held = [make_product(category, stock=10) for _ in range(50)]
    for product in held:
        put_in_cart(customer.id, product, 1)
    extra = make_product(category, stock=10)
    token = _guest_cart(client, {held[0]: 2, extra: 1})

    merge = merge_guest_cart(customer.id, token)

    assert merge["merged"] == [{"product_id": held[0].id, "quantity": 3}]
    assert merge["skipped"] == [{"product_id": extra.id, "reason": "cart_full"}]
    durable = _durable(customer.id)
    assert len(durable) == 50 and durable[held[0].id] == 3
