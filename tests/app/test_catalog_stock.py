"""Stock adjustment: atomic, never below zero, admins only."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Product
from tests.app.catalog_factories import make_category, make_product


@pytest.fixture
def product(app):
    return make_product(make_category("Toys"), stock=5)


def _url(product_id: int) -> str:
    return f"/api/v1/products/{product_id}/stock"


def _stock(product_id: int) -> int:
    return db.session.scalar(sa.select(Product.stock).where(Product.id == product_id))


def test_delta_adds_and_removes_stock(client, admin, auth_headers, product):
    added = client.post(_url(product.id), json={"delta": 7}, headers=auth_headers(admin))
    assert added.status_code == 200
    assert added.json["stock"] == 12
    removed = client.post(_url(product.id), json={"delta": -12}, headers=auth_headers(admin))
    assert removed.json["stock"] == 0
    assert removed.json["in_stock"] is False
    assert _stock(product.id) == 0


def test_a_delta_that_would_go_negative_is_a_conflict_and_changes_nothing(
        client, admin, auth_headers, product):
    response = client.post(_url(product.id), json={"delta": -6}, headers=auth_headers(admin))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "insufficient_stock"
    assert _stock(product.id) == 5


def test_set_replaces_the_level(client, admin, auth_headers, product):
    response = client.post(_url(product.id), json={"set": 0}, headers=auth_headers(admin))
    assert response.json["stock"] == 0
    client.post(_url(product.id), json={"set": 40}, headers=auth_headers(admin))
    assert _stock(product.id) == 40


@pytest.mark.parametrize("body, field", [
    ({}, "delta"),
    ({"delta": 1, "set": 3}, "delta"),
    ({"delta": 0}, "delta"),
    ({"delta": 1.5}, "delta"),
    ({"delta": "3"}, "delta"),
    ({"delta": 1_000_001}, "delta"),
    ({"set": -1}, "set"),
    ({"set": None}, "set"),
    ({"stock": 3}, "stock"),
])
def test_stock_validation_names_the_field(client, admin, auth_headers, product, body, field):
    response = client.post(_url(product.id), json=body, headers=auth_headers(admin))
    assert response.status_code == 422
    assert field in response.json["error"]["details"]["fields"]
    assert _stock(product.id) == 5


def test_stock_of_unknown_product_is_404(client, admin, auth_headers):
    response = client.post(_url(4242), json={"delta": 1}, headers=auth_headers(admin))
    assert response.status_code == 404


def test_stock_is_for_admins_only(client, customer, auth_headers, product):
    assert client.post(_url(product.id), json={"delta": 1},
                       headers=auth_headers(customer)).status_code == 403
    assert client.post(_url(product.id), json={"delta": 1}).status_code == 401
    assert _stock(product.id) == 5


def test_concurrent_removals_never_take_stock_below_zero(app, admin, auth_headers, product):
    """Twelve admins remove one unit each from five at the same moment: exactly five win."""
    headers, url = auth_headers(admin), _url(product.id)
    barrier = threading.Barrier(12)
    statuses: list[int] = []

    def remove_one() -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post(url, json={"delta": -1}, headers=headers).status_code)

    threads = [threading.Thread(target=remove_one) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 5 + [409] * 7
    db.session.expire_all()
    assert _stock(product.id) == 0
