"""Checkout on the pages: one order per form however often it is sent, a declined card
that keeps the cart, and a confirmation with the order number."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import CartItem, Order
from tests.app.catalog_factories import make_category, make_product
from tests.app.factories import ADDRESS, APPROVED_CARD, NEXT_YEAR, stock_of
from tests.app.pages_support import add_to_cart, checkout_key, sign_in, text, token_in

DECLINED_CARD = "4000000000000002"


@pytest.fixture
def shopper(client, customer):
    """A signed-in shopper with two products in the cart."""
    category = make_category("Kitchen")
    kettle = make_product(category, "Copper Kettle", price="45.00", stock=5)
    pan = make_product(category, "Cast Iron Pan", price="30.00", stock=2)
    sign_in(client, customer.email)
    add_to_cart(client, kettle.id, 2)
    add_to_cart(client, pan.id, 1)
    return {"user": customer, "kettle": kettle, "pan": pan}


def _form(client, card: str = APPROVED_CARD, **overrides) -> dict:
    page = client.get("/checkout")
    assert page.status_code == 200
    return {"csrf_token": token_in(text(page)), "idempotency_key": checkout_key(text(page)),
            **ADDRESS, "card_number": card, "exp_month": "12", "exp_year": str(NEXT_YEAR),
            "cvc": "123", **overrides}


def _orders() -> list[Order]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Order).order_by(Order.id)))


def _cart_count(user_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(CartItem)
                             .where(CartItem.user_id == user_id))


def test_checkout_needs_a_signed_in_shopper(client, app):
    response = client.get("/checkout")
    assert response.headers["Location"] == "/signin?next=/checkout"


def test_an_empty_cart_goes_back_to_the_cart(client, customer):
    sign_in(client, customer.email)
    assert client.get("/checkout").headers["Location"] == "/cart"


def test_the_form_shows_the_order_and_a_key_kept_for_reloads(client, shopper):
    first, reload = client.get("/checkout"), client.get("/checkout")
    html = text(first)
    assert 'data-testid="checkout-total">$120.00<' in html
    assert "2 × Copper Kettle" in html
    assert checkout_key(html) == checkout_key(text(reload))
    assert 'value="Casey Customer"' in html  # the account's name, as a start


def test_an_approved_card_places_the_order(client, shopper, app):
    response = client.post("/checkout", data=_form(client))
    (order,) = _orders()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/checkout/confirmation/{order.id}"
    assert order.user_id == shopper["user"].id
    assert str(order.total_amount) == "120.00"
    assert order.status == "paid" and order.payment_method == "card ending 4242"
    assert order.shipping_address["city"] == "Springfield"
    assert stock_of(shopper["kettle"].id) == 3 and stock_of(shopper["pan"].id) == 1
    assert _cart_count(shopper["user"].id) == 0

    confirmation = text(client.get(response.headers["Location"]))
    assert f'data-testid="order-number">#{order.id}<' in confirmation
    assert "Copper Kettle" in confirmation and "$120.00" in confirmation
    (mail,) = app.extensions["mail_outbox"]
    assert mail.subject == f"Your order #{order.id}"


def test_a_double_click_places_one_order(client, shopper):
    data = _form(client)
    # Both clicks leave before the first answer arrives, with the same cookie.
    cookie = client.get_cookie("session").value
    first = client.post("/checkout", data=data)
    client.set_cookie("session", cookie)
    second = client.post("/checkout", data=data)

    (order,) = _orders()
    assert first.headers["Location"] == second.headers["Location"] == \
        f"/checkout/confirmation/{order.id}"
    assert stock_of(shopper["kettle"].id) == 3


def test_resending_the_form_after_the_order_places_nothing(client, shopper):
    data = _form(client)
    client.post("/checkout", data=data)
    add_to_cart(client, shopper["kettle"].id, 1)  # shopping goes on

    again = client.post("/checkout", data=data)  # the back button, then submit
    assert again.status_code == 422
    assert "This form was already used for an order" in text(again)
    assert len(_orders()) == 1
    assert checkout_key(text(again)) != data["idempotency_key"]


def test_a_declined_card_keeps_the_cart_and_says_why(client, shopper):
    response = client.post("/checkout", data=_form(client, card=DECLINED_CARD))
    html = text(response)
    assert response.status_code == 422
    assert "Your payment was declined: the card was declined." in html
    assert _orders() == []
    assert _cart_count(shopper["user"].id) == 2
    assert stock_of(shopper["kettle"].id) == 5
    assert DECLINED_CARD not in html and 'value="123"' not in html  # card data not echoed
    assert 'value="1 Market Street"' in html  # the address need not be typed again

    retry = client.post("/checkout", data={**_form(client), "idempotency_key":
                                           checkout_key(html)})
    assert retry.status_code == 302
    assert len(_orders()) == 1


@pytest.mark.parametrize(("overrides", "message"), [
    ({"card_number": "4242424242424241"}, "is not a valid card number"),
    ({"country": "XX"}, "must be an ISO 3166-1 alpha-2 country code"),
    ({"city": ""}, "This field is required."),
    ({"exp_year": str(NEXT_YEAR - 2)}, "Not a valid choice."),
])
def test_invalid_details_are_shown_on_their_fields(client, shopper, overrides, message):
    response = client.post("/checkout", data=_form(client, **overrides))
    assert response.status_code == 422
    assert message in text(response)
    assert _orders() == []


def test_stock_sold_meanwhile_sends_the_shopper_to_the_cart(client, shopper):
    data = _form(client)
    shopper["pan"].stock = 0
    db.session.commit()
    response = client.post("/checkout", data=data)
    assert response.headers["Location"] == "/cart"
    assert "Some products in the cart cannot be bought in that quantity." in \
        text(client.get("/cart"))
    assert _orders() == []


def test_checkout_without_a_csrf_token_is_refused(client, shopper):
    data = _form(client)
    del data["csrf_token"]
    assert client.post("/checkout", data=data).status_code == 400
    assert _orders() == []


def test_someone_elses_confirmation_is_a_404(client, shopper, make_user):
    client.post("/checkout", data=_form(client))
    (order,) = _orders()
    other = make_user(email="other@example.com")
    client.post("/signout", data={"csrf_token": token_in(text(client.get("/")))})
    sign_in(client, other.email)
    assert client.get(f"/checkout/confirmation/{order.id}").status_code == 404
