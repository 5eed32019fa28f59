"""The cart, for guests and signed-in shoppers alike: add, change, remove."""

from __future__ import annotations

from contextlib import suppress

from flask import flash, redirect, render_template, url_for

from app.cart import service
from app.errors import Conflict, Invalid, NotFound
from app.storefront import bp
from app.storefront.forms.catalog import QuantityForm
from app.storefront.forms.common import error_text
from app.storefront.session import remember_cart, shopper_cart

# Refusals a shopper can act on; anything else is an error page.
FIXABLE = (Conflict, Invalid)


@bp.get("/cart")
def cart():
    return render_template("storefront/cart.html", cart=service.view_cart(shopper_cart()))


@bp.post("/cart/items/<int:product_id>")
def add_to_cart(product_id: int):
    form = QuantityForm()
    if not form.validate():
        flash(_first_error(form), "error")
        return redirect(url_for("storefront.product", product_id=product_id))
    store = shopper_cart()
    try:
        service.add_item(store, product_id, form.quantity.data)
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
    return form.quantity.errors[0] if form.quantity.errors else "Enter a quantity."
