"""Checkouts racing each other on real PostgreSQL connections from real threads."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.auth.tokens import issue_access_token
from app.extensions import db
from app.models import Order, User
from tests.app.factories import checkout_body, make_product, put_in_cart, stock_of

pytestmark = pytest.mark.slow

SHOPPERS = 50
UNITS = 10
# Enough connections for many checkouts at once, few enough to share the server.
POOL = {"pool_size": 20, "max_overflow": 0, "pool_timeout": 120, "pool_pre_ping": True}


def _race(app, requests: list[tuple[dict, str]]) -> list:
    """Each request on its own thread with its own test client, all released together."""
    barrier = threading.Barrier(len(requests))
    responses: list = [None] * len(requests)

    def attempt(index: int, headers: dict, key: str):
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/orders/checkout", json=checkout_body(),
                               headers={**headers, "Idempotency-Key": key})
        responses[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=attempt, args=(index, headers, key))
               for index, (headers, key) in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def _shoppers(count: int) -> list[User]:
    # Password hashes are irrelevant here; skipping Argon2 keeps the setup quick.
    users = [User(email=f"racer{n}@example.com", password_hash="-", name=f"Racer {n}")
             for n in range(count)]
    db.session.add_all(users)
    db.session.commit()
    return users


def _bearer(user: User) -> dict:
    return {"Authorization": f"Bearer {issue_access_token(user.id, user.role)}"}


@pytest.fixture
def race_app(make_app):
    from tests.conftest import truncate_all

    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=POOL)
    truncate_all(app)
    with app.app_context():
        yield app


def test_fifty_checkouts_for_the_last_ten_units_make_exactly_ten_orders(race_app):
    product = make_product(stock=UNITS)
    shoppers = _shoppers(SHOPPERS)
    for shopper in shoppers:
        put_in_cart(shopper.id, product, 1)

    responses = _race(race_app, [(_bearer(shopper), "race") for shopper in shoppers])

    statuses = sorted(status for status, _ in responses)
    assert statuses == [201] * UNITS + [409] * (SHOPPERS - UNITS)
    refusals = {body["error"]["code"] for status, body in responses if status == 409}
    assert refusals == {"insufficient_stock"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == UNITS
    assert stock_of(product.id) == 0
    owners = db.session.scalars(sa.select(Order.user_id)).all()
    assert len(set(owners)) == UNITS


def test_concurrent_retries_of_one_checkout_make_one_order(race_app):
    product = make_product(stock=UNITS)
    [shopper] = _shoppers(1)
    put_in_cart(shopper.id, product, 2)

    responses = _race(race_app, [(_bearer(shopper), "double-click")] * 8)

    statuses = sorted(status for status, _ in responses)
    assert statuses == [200] * 7 + [201]
    assert {body["id"] for _, body in responses} == {
        db.session.scalar(sa.select(Order.id))}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1
    assert stock_of(product.id) == UNITS - 2
