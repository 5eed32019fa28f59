"""The cart page: a guest's cart in Redis, a shopper's in PostgreSQL, and stock warnings."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.cart.guest import cart_key
from app.extensions import db, get_redis
from app.models import CartItem
from app.storefront.session import CART_KEY
from tests.app.catalog_factories import make_category, make_product
from tests.app.pages_support import add_to_cart, csrf_token, sign_in, submit, text


@pytest.fixture
def products(app):
    category = make_category("Kitchen")
    return {"kettle": make_product(category, "Copper Kettle", price="45.00", stock=5),
            "pan": make_product(category, "Cast Iron Pan", price="30.00", stock=2)}


def _guest_token(client) -> str:
    with client.session_transaction() as session:
        return session[CART_KEY]


def test_a_guest_adds_to_the_cart_kept_in_redis(client, products):
    kettle = products["kettle"]
    response = add_to_cart(client, kettle.id, 2)
    assert response.status_code == 302
    assert response.headers["Location"] == "/cart"

    token = _guest_token(client)
    assert get_redis().hgetall(cart_key(token)) == {str(kettle.id): "2"}
    html = text(client.get("/cart"))
    assert "Copper Kettle" in html
    assert 'data-testid="cart-total">$90.00<' in html
    assert 'data-testid="cart-count">2<' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CartItem)) == 0


def test_adding_again_adds_up_and_the_total_follows(client, products):
    add_to_cart(client, products["kettle"].id, 1)
    add_to_cart(client, products["kettle"].id, 2)
    add_to_cart(client, products["pan"].id, 1)
    html = text(client.get("/cart"))
    assert 'data-testid="cart-total">$165.00<' in html
    assert 'data-testid="cart-count">4<' in html


def test_more_than_in_stock_is_refused_with_the_reason(client, products):
    response = add_to_cart(client, products["pan"].id, 3)
    assert response.headers["Location"] == f"/products/{products['pan'].id}"
    html = text(client.get(response.headers["Location"]))
    assert "Only 2 of this product in stock." in html
    assert text(client.get("/cart")).count("Your cart is empty.") == 1


def test_a_bad_quantity_is_refused(client, products):
    response = add_to_cart(client, products["kettle"].id, 0)
    html = text(client.get(response.headers["Location"]))
    assert "Choose between 1 and 99." in html
    assert "Your cart is empty." in text(client.get("/cart"))


def test_change_quantity_and_remove(client, products):
    kettle, pan = products["kettle"], products["pan"]
    add_to_cart(client, kettle.id, 1)
    add_to_cart(client, pan.id, 1)

    submit(client, f"/cart/items/{kettle.id}/quantity", {"quantity": 4}, page="/cart")
    submit(client, f"/cart/items/{pan.id}/remove", page="/cart")

    assert get_redis().hgetall(cart_key(_guest_token(client))) == {str(kettle.id): "4"}
    html = text(client.get("/cart"))
    assert "Cast Iron Pan" not in html
    assert 'data-testid="cart-total">$180.00<' in html


def test_a_signed_in_cart_is_rows_in_the_database(client, products, customer):
    sign_in(client, customer.email)
    add_to_cart(client, products["kettle"].id, 2)
    rows = db.session.execute(sa.select(CartItem.product_id, CartItem.quantity)
                              .where(CartItem.user_id == customer.id)).all()
    assert rows == [(products["kettle"].id, 2)]


def test_stock_that_dropped_below_the_cart_blocks_checkout(client, products, customer):
    sign_in(client, customer.email)
    add_to_cart(client, products["kettle"].id, 4)
    products["kettle"].stock = 1
    db.session.commit()

    html = text(client.get("/cart"))
    assert "Only 1 left: lower the quantity to check out." in html
    assert 'href="/checkout"' not in html
    assert "Fix the products marked above to check out." in html
    response = client.get("/checkout")
    assert response.headers["Location"] == "/cart"


def test_a_product_taken_off_sale_is_flagged(client, products):
    add_to_cart(client, products["kettle"].id, 1)
    products["kettle"].is_active = False
    db.session.commit()
    assert "No longer sold: remove it to check out." in text(client.get("/cart"))


def test_cart_forms_without_a_csrf_token_are_refused(client, products):
    csrf_token(client)  # a session exists, as it would in a browser
    response = client.post(f"/cart/items/{products['kettle'].id}", data={"quantity": 1})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "The CSRF token is missing." in text(response)
    with client.session_transaction() as session:
        assert CART_KEY not in session


def test_a_forged_csrf_token_is_refused(client, products):
    csrf_token(client)
    response = client.post(f"/cart/items/{products['kettle'].id}",
                           data={"quantity": 1, "csrf_token": "forged"})
    assert response.status_code == 400
    assert get_redis().keys("cart:*") == []
