"""The signed-in shopper's account: profile, password, order history and one order."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.errors import Conflict, Invalid
from app.orders import lifecycle
from app.orders.service import get_order, list_orders
from app.pagination import page_number
from app.ratelimit import limit_password_change
from app.storefront import bp
from app.storefront.forms.account import PasswordChangeForm, ProfileForm
from app.storefront.forms.common import error_text, form_status, show_field_errors
from app.storefront.session import remember_password, sign_in_required, signed_in_user
from app.users import service as users

ORDERS_PER_PAGE = 10
CANCELLABLE = frozenset({"pending", "paid"})


@bp.route("/account", methods=["GET", "POST"])
@sign_in_required
def account():
    user = signed_in_user()
    form = ProfileForm(obj=user)
    if form.validate_on_submit():
        users.update_profile(user, {"name": form.name.data, "phone": form.phone.data})
        flash("Your profile is saved.", "success")
        return redirect(url_for("storefront.account"))
    return render_template("storefront/account/profile.html", form=form,
                           user=user), form_status(form)


@bp.route("/account/password", methods=["GET", "POST"])
@limit_password_change
@sign_in_required
def change_password():
    user = signed_in_user()
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            users.replace_password(user, form.old_password.data, form.new_password.data)
        except Invalid as error:
            show_field_errors(form, error)
        else:
            remember_password(user)  # this browser stays in; every other one is signed out
            flash("Your password is changed. Other devices have been signed out.", "success")
            return redirect(url_for("storefront.account"))
    return render_template("storefront/account/password.html", form=form), form_status(form)


@bp.get("/account/orders")
@sign_in_required
def orders():
    page = list_orders(page_number(request.args), ORDERS_PER_PAGE,
                       user_id=signed_in_user().id)
    return render_template("storefront/account/orders.html", page=page)


@bp.get("/account/orders/<int:order_id>")
@sign_in_required
def order(order_id: int):
    found = get_order(order_id, signed_in_user())
    return render_template("storefront/account/order.html", order=found,
                           cancellable=found.status in CANCELLABLE)


@bp.post("/account/orders/<int:order_id>/cancel")
@sign_in_required
def cancel_order(order_id: int):
    try:
        lifecycle.cancel_order(order_id, signed_in_user())
    except Conflict as error:
        flash(error_text(error), "error")
    else:
        flash(f"Order #{order_id} is cancelled; any payment is refunded.", "success")
    return redirect(url_for("storefront.order", order_id=order_id))
