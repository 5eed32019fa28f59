"""A product whose name is markup is shown as text on every page that names it."""

from __future__ import annotations

from tests.app.catalog_factories import make_category, make_product
from tests.app.factories import ADDRESS, APPROVED_CARD, NEXT_YEAR
from tests.app.pages_support import add_to_cart, checkout_key, sign_in, text, token_in

MARKUP = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _shows_it_escaped(html: str, page: str) -> None:
    assert MARKUP not in html, f"{page} renders the product name as markup"
    assert ESCAPED in html, f"{page} does not show the product name"


def test_a_name_made_of_markup_is_escaped_everywhere(client, make_app, customer, admin):
    category = make_category("Gadgets <b>bold</b>")
    product = make_product(category, MARKUP, price="9.99", stock=10,
                           description=f"Description with {MARKUP} inside.")
    sign_in(client, customer.email)
    add_to_cart(client, product.id, 1)

    shopper_pages = ["/", "/products", f"/products?q={product.name}",
                     f"/products/{product.id}", "/cart", "/checkout"]
    for page in shopper_pages:
        _shows_it_escaped(text(client.get(page)), page)

    form = text(client.get("/checkout"))
    placed = client.post("/checkout", data={
        "csrf_token": token_in(form), "idempotency_key": checkout_key(form), **ADDRESS,
        "name": MARKUP, "card_number": APPROVED_CARD, "exp_month": "12",
        "exp_year": str(NEXT_YEAR), "cvc": "123"})
    confirmation = placed.headers["Location"]
    order_id = confirmation.rsplit("/", 1)[1]
    for page in (confirmation, "/account/orders", f"/account/orders/{order_id}"):
        _shows_it_escaped(text(client.get(page)), page)

    desk = make_app().test_client()
    sign_in(desk, admin.email)
    for page in ("/admin/products", f"/admin/products/{product.id}",
                 f"/admin/orders/{order_id}"):
        _shows_it_escaped(text(desk.get(page)), page)
    assert "Gadgets &lt;b&gt;bold&lt;/b&gt;" in text(desk.get("/products"))
