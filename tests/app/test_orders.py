"""Order history, cancellation, and the admins' lifecycle moves."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Order
from app.orders import lifecycle
from app.payments import TestCardProvider
from tests.app.factories import checkout_body, make_product, put_in_cart, stock_of

ORDERS = "/api/v1/orders"
_keys = itertools.count(1)


@pytest.fixture
def place_order(client, auth_headers):
    def action(user, product, quantity: int = 1) -> dict:
        put_in_cart(user.id, product, quantity)
        response = client.post(f"{ORDERS}/checkout", json=checkout_body(),
                               headers={**auth_headers(user),
                                        "Idempotency-Key": f"key-{next(_keys)}"})
        assert response.status_code == 201
        return response.get_json()

    return action


def _set_status(order_id: int, status: str) -> None:
    db.session.execute(sa.update(Order).where(Order.id == order_id).values(status=status))
    db.session.commit()


def _order(order_id: int) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order_id)


# --- a shopper's own orders ---------------------------------------------------------------

def test_my_orders_are_paginated_newest_first_and_only_mine(client, customer, make_user,
                                                            auth_headers, place_order):
    other = make_user()
    product = make_product(stock=50)
    mine = [place_order(customer, product)["id"] for _ in range(3)]
    place_order(other, product)

    first = client.get(f"{ORDERS}/mine?per_page=2", headers=auth_headers(customer)).get_json()
    second = client.get(f"{ORDERS}/mine?per_page=2&page=2",
                        headers=auth_headers(customer)).get_json()

    assert [o["id"] for o in first["items"]] == [mine[2], mine[1]]
    assert [o["id"] for o in second["items"]] == [mine[0]]
    assert first["meta"] == {"page": 1, "per_page": 2, "total": 3, "pages": 2}
    assert first["items"][0]["items"][0]["product_id"] == product.id


@pytest.mark.parametrize("query", ["page=0", "per_page=101", "per_page=x"])
def test_my_orders_paging_is_validated(client, customer, auth_headers, query):
    response = client.get(f"{ORDERS}/mine?{query}", headers=auth_headers(customer))

    assert response.status_code == 422
    assert set(response.get_json()["error"]["details"]["fields"]) <= {"page", "per_page"}


def test_order_detail_for_its_owner(client, customer, auth_headers, place_order):
    product = make_product(price="3.50", stock=5)
    placed = place_order(customer, product, 2)

    body = client.get(f"{ORDERS}/{placed['id']}", headers=auth_headers(customer)).get_json()

    assert body["id"] == placed["id"] and body["user_id"] == customer.id
    assert body["items"] == [{"product_id": product.id, "product_name": product.name,
                              "sku": product.sku, "quantity": 2, "price": "3.50",
                              "line_total": "7.00"}]


def test_another_customers_order_is_a_404_like_a_missing_one(client, customer, make_user,
                                                            auth_headers, place_order):
    other = make_user()
    theirs = place_order(other, make_product(stock=5))["id"]
    headers = auth_headers(customer)

    for response in (client.get(f"{ORDERS}/{theirs}", headers=headers),
                     client.post(f"{ORDERS}/{theirs}/cancel", headers=headers),
                     client.get(f"{ORDERS}/999999", headers=headers)):
        assert response.status_code == 404
        assert response.get_json()["error"] == {"code": "not_found",
                                                "message": "order not found", "details": {}}
    assert _order(theirs).status == "paid"


def test_order_endpoints_require_sign_in(client):
    for response in (client.get(f"{ORDERS}/mine"), client.get(f"{ORDERS}/1"),
                     client.post(f"{ORDERS}/1/cancel"), client.get(ORDERS),
                     client.post(f"{ORDERS}/1/status", json={"status": "shipped"})):
        assert response.status_code == 401


# --- cancelling -----------------------------------------------------------------------

def test_cancelling_a_paid_order_returns_stock_and_refunds(client, customer, auth_headers,
                                                           place_order):
    product = make_product(stock=5)
    order_id = place_order(customer, product, 3)["id"]
    assert stock_of(product.id) == 2

    response = client.post(f"{ORDERS}/{order_id}/cancel", headers=auth_headers(customer))

    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"
    order = _order(order_id)
    assert (order.status, order.payment_status) == ("cancelled", "refunded")
    assert stock_of(product.id) == 5


def test_cancelling_a_pending_order_returns_stock_without_a_refund(client, customer,
                                                                   auth_headers, place_order):
    product = make_product(stock=5)
    order_id = place_order(customer, product, 1)["id"]
    db.session.execute(sa.update(Order).where(Order.id == order_id)
                       .values(status="pending", payment_status="pending"))
    db.session.commit()

    client.post(f"{ORDERS}/{order_id}/cancel", headers=auth_headers(customer))

    order = _order(order_id)
    assert (order.status, order.payment_status) == ("cancelled", "pending")
    assert stock_of(product.id) == 5


@pytest.mark.parametrize("status", ["shipped", "delivered", "cancelled", "refunded"])
def test_an_order_that_left_the_warehouse_or_ended_cannot_be_cancelled(
        client, customer, auth_headers, place_order, status):
    product = make_product(stock=5)
    order_id = place_order(customer, product, 1)["id"]
    _set_status(order_id, status)

    response = client.post(f"{ORDERS}/{order_id}/cancel", headers=auth_headers(customer))

    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "invalid_transition"
    assert error["details"] == {"from": status, "to": "cancelled"}
    assert stock_of(product.id) == 4


def test_the_provider_is_asked_to_refund_the_charge(customer, place_order):
    refunds = []

    class RecordingProvider(TestCardProvider):
        def refund(self, payment_reference, amount):
            refunds.append((payment_reference, amount))

    product = make_product(price="8.00", stock=5)
    placed = place_order(customer, product, 2)

    lifecycle.cancel_order(placed["id"], customer, RecordingProvider())

    assert refunds == [(_order(placed["id"]).payment_reference, 16)]


# --- admins ---------------------------------------------------------------------------

def test_admins_list_every_order_and_filter_by_status(client, admin, customer, make_user,
                                                      auth_headers, place_order):
    product = make_product(stock=50)
    a = place_order(customer, product)["id"]
    b = place_order(make_user(), product)["id"]
    _set_status(a, "shipped")

    everything = client.get(ORDERS, headers=auth_headers(admin)).get_json()
    shipped = client.get(f"{ORDERS}?status=shipped", headers=auth_headers(admin)).get_json()

    assert [o["id"] for o in everything["items"]] == [b, a]
    assert [o["id"] for o in shipped["items"]] == [a]
    bad = client.get(f"{ORDERS}?status=lost", headers=auth_headers(admin))
    assert bad.status_code == 422 and "status" in bad.get_json()["error"]["details"]["fields"]


def test_admin_endpoints_are_403_for_customers(client, customer, auth_headers, place_order):
    order_id = place_order(customer, make_product(stock=5))["id"]
    headers = auth_headers(customer)

    for response in (client.get(ORDERS, headers=headers),
                     client.post(f"{ORDERS}/{order_id}/status", json={"status": "shipped"},
                                 headers=headers)):
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"
    assert _order(order_id).status == "paid"


def test_admins_see_any_order(client, admin, customer, auth_headers, place_order):
    order_id = place_order(customer, make_product(stock=5))["id"]

    response = client.get(f"{ORDERS}/{order_id}", headers=auth_headers(admin))

    assert response.status_code == 200 and response.get_json()["user_id"] == customer.id


def test_an_order_walks_its_whole_lifecycle(client, admin, customer, auth_headers,
                                            place_order):
    product = make_product(stock=5)
    order_id = place_order(customer, product, 1)["id"]
    headers = auth_headers(admin)

    for status in ("shipped", "delivered", "refunded"):
        response = client.post(f"{ORDERS}/{order_id}/status", json={"status": status},
                               headers=headers)
        assert response.status_code == 200 and response.get_json()["status"] == status

    order = _order(order_id)
    assert (order.status, order.payment_status) == ("refunded", "refunded")
    assert stock_of(product.id) == 4  # shipped goods come back by a stock adjustment


def test_pending_to_paid_marks_the_payment_approved(client, admin, customer, auth_headers,
                                                    place_order):
    order_id = place_order(customer, make_product(stock=5))["id"]
    db.session.execute(sa.update(Order).where(Order.id == order_id)
                       .values(status="pending", payment_status="pending"))
    db.session.commit()

    client.post(f"{ORDERS}/{order_id}/status", json={"status": "paid"},
                headers=auth_headers(admin))

    order = _order(order_id)
    assert (order.status, order.payment_status) == ("paid", "approved")


@pytest.mark.parametrize("to", ["cancelled", "refunded"])
def test_admin_cancel_or_refund_before_shipping_returns_stock(
        client, admin, customer, auth_headers, place_order, to):
    product = make_product(stock=5)
    order_id = place_order(customer, product, 2)["id"]

    client.post(f"{ORDERS}/{order_id}/status", json={"status": to},
                headers=auth_headers(admin))

    order = _order(order_id)
    assert (order.status, order.payment_status) == (to, "refunded")
    assert stock_of(product.id) == 5


@pytest.mark.parametrize(("start", "to"), [
    ("pending", "shipped"), ("pending", "delivered"), ("pending", "refunded"),
    ("paid", "delivered"), ("paid", "pending"), ("paid", "paid"),
    ("shipped", "cancelled"), ("shipped", "paid"), ("delivered", "shipped"),
    ("delivered", "cancelled"), ("cancelled", "paid"), ("cancelled", "refunded"),
    ("refunded", "paid"), ("refunded", "cancelled"),
])
def test_invalid_transitions_are_409_naming_from_and_to(client, admin, customer,
                                                        auth_headers, place_order, start, to):
    product = make_product(stock=5)
    order_id = place_order(customer, product, 1)["id"]
    _set_status(order_id, start)

    response = client.post(f"{ORDERS}/{order_id}/status", json={"status": to},
                           headers=auth_headers(admin))

    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["details"] == {"from": start, "to": to}
    assert start in error["message"] and to in error["message"]
    assert _order(order_id).status == start and stock_of(product.id) == 4


@pytest.mark.parametrize(("body", "field"), [
    ({}, "status"), ({"status": "lost"}, "status"), ({"status": 3}, "status"),
    ({"status": "paid", "note": "x"}, "note"),
])
def test_status_change_validation_names_the_field(client, admin, auth_headers, body, field):
    response = client.post(f"{ORDERS}/1/status", json=body, headers=auth_headers(admin))

    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]


def test_a_status_change_of_a_missing_order_is_404(client, admin, auth_headers):
    response = client.post(f"{ORDERS}/999999/status", json={"status": "shipped"},
                           headers=auth_headers(admin))

    assert response.status_code == 404
