"""Concurrent adds of the same product all count, on both cart stores."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from app.cart.guest import cart_key
from app.extensions import db, get_redis
from app.models import CartItem
from tests.app.factories import make_product

THREADS = 16


def _add_concurrently(app, product_id: int, headers: dict) -> list[int]:
    """THREADS real threads, each with its own test client, released together."""
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []

    def add_one():
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/cart/items", json={"product_id": product_id,
                                                            "quantity": 1}, headers=headers)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=add_one) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_concurrent_guest_adds_all_count_in_redis(app, client):
    product = make_product(stock=100)
    token = client.get("/api/v1/cart").headers["X-Cart-Token"]

    statuses = _add_concurrently(app, product.id, {"X-Cart-Token": token})

    assert statuses == [200] * THREADS
    assert get_redis().hget(cart_key(token), str(product.id)) == str(THREADS)


def test_concurrent_guest_adds_never_pass_the_stock_together(app, client):
    product = make_product(stock=5)
    token = client.get("/api/v1/cart").headers["X-Cart-Token"]

    statuses = _add_concurrently(app, product.id, {"X-Cart-Token": token})

    assert sorted(statuses) == [200] * 5 + [409] * (THREADS - 5)
    assert get_redis().hget(cart_key(token), str(product.id)) == "5"


def test_concurrent_signed_in_adds_all_count_in_postgresql(app, customer, auth_headers):
    product = make_product(stock=100)

    statuses = _add_concurrently(app, product.id, auth_headers(customer))

    assert statuses == [200] * THREADS
    quantity = db.session.scalar(sa.select(CartItem.quantity).where(
        CartItem.user_id == customer.id, CartItem.product_id == product.id))
    assert quantity == THREADS


def test_concurrent_signed_in_adds_never_pass_the_stock_together(app, customer, auth_headers):
    product = make_product(stock=5)

    statuses = _add_concurrently(app, product.id, auth_headers(customer))

    assert sorted(statuses) == [200] * 5 + [409] * (THREADS - 5)
    rows = db.session.scalars(sa.select(CartItem).where(CartItem.user_id == customer.id))
    assert [row.quantity for row in rows] == [5]
