"""The account pages: profile, order history and an order's status."""

from __future__ import annotations

import re
import uuid

import pytest

from app.extensions import db
from app.orders.service import checkout
from app.payments import CardDetails
from tests.app.factories import (
    ADDRESS,
    APPROVED_CARD,
    NEXT_YEAR,
    make_product,
    put_in_cart,
    stock_of,
)
from tests.app.pages_support import sign_in, submit, text


def place_order(user, *products_and_quantities) -> int:
    """An order placed through the domain's checkout, as the API or the pages would."""
    for product, quantity in products_and_quantities:
        put_in_cart(user.id, product, quantity)
    card = CardDetails.from_input(APPROVED_CARD, 12, NEXT_YEAR, "123")
    return checkout(user, str(uuid.uuid4()), ADDRESS, card).order.id


@pytest.fixture
def signed_in(client, customer):
    sign_in(client, customer.email)
    return customer


def test_profile_shows_and_saves_the_account(client, signed_in):
    html = text(client.get("/account"))
    assert "customer@example.com" in html and 'value="Casey Customer"' in html
    response = submit(client, "/account", {"name": "Casey C. Customer",
                                           "phone": "+1 (555) 010-0200"})
    assert response.headers["Location"] == "/account"
    db.session.refresh(signed_in)
    assert (signed_in.name, signed_in.phone) == ("Casey C. Customer", "+1 (555) 010-0200")


def test_a_bad_phone_number_is_refused(client, signed_in):
    response = submit(client, "/account", {"name": "Casey", "phone": "call me"})
    assert response.status_code == 422
    assert "6 to 20 digits" in text(response)
    db.session.refresh(signed_in)
    assert signed_in.phone is None


def test_order_history_lists_the_shoppers_orders_newest_first(client, signed_in, make_user):
    kettle = make_product(name="Copper Kettle", price="45.00")
    first = place_order(signed_in, (kettle, 1))
    second = place_order(signed_in, (kettle, 2))
    place_order(make_user(email="other@example.com"), (kettle, 1))

    html = text(client.get("/account/orders"))
    assert re.findall(r'data-order-id="(\d+)"', html) == [str(second), str(first)]
    assert "$90.00" in html and "$45.00" in html


def test_order_detail_shows_status_items_and_address(client, signed_in):
    kettle = make_product(name="Copper Kettle", price="45.00")
    order_id = place_order(signed_in, (kettle, 2))
    html = text(client.get(f"/account/orders/{order_id}"))
    assert f"Order #{order_id}" in html
    assert re.search(r'data-testid="order-status"><span class="status status--paid">Paid<', html)
    assert "Copper Kettle" in html and "1 Market Street" in html
    assert 'data-testid="order-total">$90.00<' in html
    assert "Card ending 4242" in html


def test_an_order_of_someone_else_is_a_404(client, signed_in, make_user):
    other = make_user(email="other@example.com")
    order_id = place_order(other, (make_product(), 1))
    response = client.get(f"/account/orders/{order_id}")
    assert response.status_code == 404
    assert "We could not find that page" in text(response)


def test_a_shopper_cancels_an_unshipped_order(client, signed_in):
    kettle = make_product(name="Copper Kettle", stock=5)
    order_id = place_order(signed_in, (kettle, 2))
    response = submit(client, f"/account/orders/{order_id}/cancel",
                      page=f"/account/orders/{order_id}")
    assert response.headers["Location"] == f"/account/orders/{order_id}"
    html = text(client.get(response.headers["Location"]))
    assert "is cancelled; any payment is refunded" in html
    assert "status--cancelled" in html
    assert stock_of(kettle.id) == 5
    assert "Cancel this order" not in html
