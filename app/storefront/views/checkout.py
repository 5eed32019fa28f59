"""Checkout: one order per submitted form, however often it arrives.

The form carries an idempotency key issued with it and kept in the session; the domain's
checkout places at most one order per key. A double click or a reload of the POST
replays the key and lands on the same confirmation; only after an order is placed does
the session get a fresh key, so the next checkout is a new order.
"""

from __future__ import annotations

import secrets

from flask import flash, redirect, render_template, session, url_for

from app.cart.service import view_cart
from app.errors import Conflict, Invalid, PaymentDeclined
from app.orders.service import checkout as place_order
from app.orders.service import get_order
from app.storefront import bp
from app.storefront.forms.checkout import CheckoutForm
from app.storefront.forms.common import error_text, form_status, show_field_errors
from app.storefront.session import shopper_cart, sign_in_required, signed_in_user

KEY = "checkout_key"
SPENT_KEY = "This form was already used for an order: see your orders, or check the " \
            "details and submit again to place a new one."


def _checkout_key() -> str:
    if KEY not in session:
        session[KEY] = secrets.token_urlsafe(24)
    return session[KEY]


@bp.route("/checkout", methods=["GET", "POST"])
@sign_in_required
def checkout():
    user = signed_in_user()
    cart = view_cart(shopper_cart())
    form = CheckoutForm()
    if not form.is_submitted():
        if not cart.ready_for_checkout:
            flash("Your cart is empty." if not cart.lines else
                  "Some products in your cart need your attention first.", "info")
            return redirect(url_for("storefront.cart"))
        form.idempotency_key.data = _checkout_key()
        form.name.data = user.name
    elif form.validate():
        outcome = _place(form)
        if outcome is not None:
            return outcome
    form.idempotency_key.data = _checkout_key()
    return render_template("storefront/checkout.html", form=form, cart=cart), form_status(form)


def _place(form: CheckoutForm):
    """Redirect to the confirmation, or to the cart when it must change; None when the
    form is shown again with the reason on it."""
    if form.idempotency_key.data != session.get(KEY):
        # A form from before the last order (the back button): its key is spent.
        form.form_errors.append(SPENT_KEY)
        return None
    try:
        result = place_order(signed_in_user(), form.idempotency_key.data, form.address(),
                             form.card())
    except PaymentDeclined as error:
        form.form_errors.append(f"Your payment was declined: {error.message}. Your cart is "
                                "unchanged; try another card.")
    except Invalid as error:
        if error.code == "idempotency_key_reused":  # placed, but this browser never heard
            session.pop(KEY, None)
            form.form_errors.append(SPENT_KEY)
        elif not show_field_errors(form, error):
            form.form_errors.append(error_text(error))
    except Conflict as error:
        flash(error_text(error), "error")
        return redirect(url_for("storefront.cart"))
    else:
        session.pop(KEY, None)
        return redirect(url_for("storefront.confirmation", order_id=result.order.id))
    return None


@bp.get("/checkout/confirmation/<int:order_id>")
@sign_in_required
def confirmation(order_id: int):
    return render_template("storefront/confirmation.html",
                           order=get_order(order_id, signed_in_user()))
