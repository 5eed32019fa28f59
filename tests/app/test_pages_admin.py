"""The administrators' pages: products (create, edit, stock, off sale) and orders' status."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Order, Product
from tests.app.catalog_factories import make_category, make_product
from tests.app.pages_support import sign_in, submit, text
from tests.app.test_pages_account import place_order


@pytest.fixture
def as_admin(client, admin):
    sign_in(client, admin.email)
    return admin


@pytest.fixture
def kitchen(app):
    return make_category("Kitchen")


def _product(sku: str) -> Product | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Product).where(Product.sku == sku))


def test_guests_are_sent_to_sign_in_and_customers_get_the_403_page(client, customer):
    assert client.get("/admin/products").headers["Location"] == \
        "/signin?next=/admin/products"
    sign_in(client, customer.email)
    for url in ("/admin/products", "/admin/orders", "/admin/products/new"):
        response = client.get(url)
        assert response.status_code == 403
        assert "This page is not for you" in text(response)


def test_a_customer_cannot_post_to_the_admin_forms(client, customer, kitchen):
    product = make_product(kitchen, "Kettle", stock=4)
    sign_in(client, customer.email)
    response = submit(client, f"/admin/products/{product.id}/stock", {"stock": 99}, page="/")
    assert response.status_code == 403
    assert _product(product.sku).stock == 4


def test_admin_lists_every_product_including_those_off_sale(client, as_admin, kitchen):
    make_product(kitchen, "Copper Kettle")
    make_product(kitchen, "Retired Pan", is_active=False)
    html = text(client.get("/admin/products"))
    assert "Copper Kettle" in html and "Retired Pan" in html
    assert "Admin: products" in html  # the header offers the admin pages


def test_admin_creates_a_product(client, as_admin, kitchen):
    response = submit(client, "/admin/products/new", {
        "name": "Enamel Dutch Oven", "description": "Heavy and handsome.", "price": "89.50",
        "sku": "home-0100", "category_id": kitchen.id, "stock": 7, "is_active": "y"})
    product = _product("HOME-0100")
    assert response.headers["Location"] == f"/admin/products/{product.id}"
    assert (product.name, product.price, product.stock, product.category_id, product.is_active) \
        == ("Enamel Dutch Oven", Decimal("89.50"), 7, kitchen.id, True)


@pytest.mark.parametrize(("fields", "message"), [
    ({"price": "19.999"}, "At most two decimal places."),
    ({"price": "0"}, "Number must be between 0.01 and 9999999999.99."),
    ({"sku": "x"}, "3-64 letters, digits or dashes"),
    ({"sku": "TAKEN-1"}, "already exists"),
])
def test_product_form_errors(client, as_admin, kitchen, fields, message):
    make_product(kitchen, "Existing", sku="TAKEN-1")
    data = {"name": "New Thing", "price": "10.00", "sku": "NEW-1", "category_id": kitchen.id,
            "stock": 1, **fields}
    response = submit(client, "/admin/products/new", data)
    assert response.status_code == 422
    assert message in text(response)
    assert _product("NEW-1") is None


def test_admin_edits_a_product_and_takes_it_off_sale(client, as_admin, kitchen):
    product = make_product(kitchen, "Copper Kettle", price="45.00", sku="KET-1")
    url = f"/admin/products/{product.id}"
    submit(client, url, {"name": "Copper Kettle XL", "price": "49.00", "sku": "KET-1",
                         "category_id": kitchen.id, "is_active": "y"})
    assert (_product("KET-1").name, _product("KET-1").price) == \
        ("Copper Kettle XL", Decimal("49.00"))

    response = submit(client, f"{url}/deactivate", page=url)
    assert response.headers["Location"] == "/admin/products"
    assert _product("KET-1").is_active is False
    assert client.get(f"/products/{product.id}").status_code == 404


def test_admin_sets_the_stock_level(client, as_admin, kitchen):
    product = make_product(kitchen, "Copper Kettle", stock=3, sku="KET-2")
    url = f"/admin/products/{product.id}"
    submit(client, f"{url}/stock", {"stock": 40}, page=url)
    assert _product("KET-2").stock == 40
    submit(client, f"{url}/stock", {"stock": -1}, page=url)
    assert _product("KET-2").stock == 40
    assert "Number must be between 0 and 1000000." in text(client.get(url))


def test_admin_marks_an_order_shipped_and_the_shopper_sees_it(client, make_app, admin, customer,
                                                              kitchen):
    order_id = place_order(customer, (make_product(kitchen, "Copper Kettle"), 1))
    sign_in(client, admin.email)
    listing = text(client.get("/admin/orders?status=paid"))
    assert f"Order #{order_id}" in listing and "customer@example.com" in listing
    page = text(client.get(f"/admin/orders/{order_id}"))
    assert '<option value="shipped">Shipped</option>' in page
    assert '<option value="delivered">' not in page  # not a move a paid order can make

    submit(client, f"/admin/orders/{order_id}/status", {"status": "shipped"},
           page=f"/admin/orders/{order_id}")
    db.session.expire_all()
    assert db.session.get(Order, order_id).status == "shipped"

    shopper = make_app().test_client()  # another browser, with its own request contexts
    sign_in(shopper, customer.email)
    assert "status--shipped" in text(shopper.get(f"/account/orders/{order_id}"))


def test_an_impossible_status_move_is_explained(client, as_admin, customer, kitchen):
    order_id = place_order(customer, (make_product(kitchen), 1))
    response = submit(client, f"/admin/orders/{order_id}/status", {"status": "delivered"},
                      page=f"/admin/orders/{order_id}")
    assert "An order cannot go from paid to delivered." in \
        text(client.get(response.headers["Location"]))
    db.session.expire_all()
    assert db.session.get(Order, order_id).status == "paid"


def test_the_order_desk_loads_customers_in_one_query(client, as_admin, make_user, kitchen):
    product = make_product(kitchen, "Kettle", stock=50)

    def user_queries() -> int:
        statements: list[str] = []

        def record(conn, cursor, statement, *args):
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert client.get("/admin/orders").status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
        return sum("FROM users" in statement for statement in statements)

    place_order(make_user(), (product, 1))
    one_customer = user_queries()
    for _ in range(3):
        place_order(make_user(), (product, 1))
    assert user_queries() == one_customer
