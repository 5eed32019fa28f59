"""The cart, for guests and signed-in shoppers alike: add, change, remove."""

from __future__ import annotations

from contextlib import suppress

from flask import flash, redirect, render_template, url_for

from app.cart import service
from app.cart.retries import once
from app.errors import Conflict, Invalid, NotFound
from app.storefront import bp
from app.storefront.forms.catalog import AddToCartForm, QuantityForm
from app.storefront.forms.common import error_text
from app.storefront.session import remember_cart, shopper_cart

# Refusals a shopper can act on; anything else is an error page.
FIXABLE = (Conflict, Invalid)


@bp.get("/cart")
def cart():
    return render_template("storefront/cart.html", cart=service.view_cart(shopper_cart()))


@bp.post("/cart/items/<int:product_id>")
def add_to_cart(product_id: int):
    form = AddToCartForm()
    if not form.validate():
        flash(_first_error(form), "error")
        return redirect(url_for("storefront.product", product_id=product_id))
    store = shopper_cart()
    quantity = form.quantity.data
    try:
        # The form's key: a resubmitted page adds once (checkout's mechanism, for carts).
        once(store, form.idempotency_key.data or None,
             {"op": "add", "product_id": product_id, "quantity": quantity},
             lambda: service.add_item(store, product_id, quantity))
    except FIXABLE as error:
        flash(error_text(error), "error")
        return redirect(url_for("storefront.product", product_id=product_id))
    remember_cart(store)
    flash("Added to your cart.", "success")
    return redirect(url_for("storefront.cart"))


@bp.post("/cart/items/<int:product_id>/quantity")
def update_quantity(product_id: int):
    form = QuantityForm()
    if not form.validate():
        flash(_first_error(form), "error")
        return redirect(url_for("storefront.cart"))
    try:
        service.set_quantity(shopper_cart(), product_id, form.quantity.data)
    except (*FIXABLE, NotFound) as error:
        flash(error_text(error), "error")
    else:
        flash("Quantity updated.", "success")
    return redirect(url_for("storefront.cart"))


@bp.post("/cart/items/<int:product_id>/remove")
def remove_from_cart(product_id: int):
    # Already gone (a second click, another tab) is fine: the cart page shows the truth.
    with suppress(NotFound):
        service.remove_item(shopper_cart(), product_id)
    flash("Removed from your cart.", "success")
    return redirect(url_for("storefront.cart"))


def _first_error(form: QuantityForm) -> str:
    if form.quantity.errors:
        return form.quantity.errors[0]
    others = [message for messages in form.errors.values() for message in messages]
    return str(others[0]) if others else "Enter a quantity."
