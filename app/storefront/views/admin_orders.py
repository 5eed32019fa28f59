"""The administrators' order desk: every order, and moving one along its lifecycle."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.errors import Conflict
from app.models import ORDER_STATUSES
from app.orders import lifecycle
from app.orders.service import get_order, list_orders
from app.pagination import page_number
from app.storefront import bp
from app.storefront.forms.admin import OrderStatusForm
from app.storefront.forms.common import error_text
from app.storefront.session import admin_required, signed_in_user

PER_PAGE = 25


@bp.get("/admin/orders")
@admin_required
def admin_orders():
    status = request.args.get("status") or None
    if status not in ORDER_STATUSES:
        status = None
    page = list_orders(page_number(request.args), PER_PAGE, status=status)
    return render_template("storefront/admin/orders.html", page=page, status=status,
                           statuses=ORDER_STATUSES)


@bp.get("/admin/orders/<int:order_id>")
@admin_required
def admin_order(order_id: int):
    order = get_order(order_id, signed_in_user())
    # In lifecycle order, so the usual next step (paid -> shipped) is the one offered first.
    allowed = lifecycle.TRANSITIONS[order.status]
    form = OrderStatusForm([status for status in ORDER_STATUSES if status in allowed])
    return render_template("storefront/admin/order.html", order=order, form=form)


@bp.post("/admin/orders/<int:order_id>/status")
@admin_required
def admin_order_status(order_id: int):
    form = OrderStatusForm(list(ORDER_STATUSES))
    if not form.validate():
        flash("Choose a status.", "error")
    else:
        try:
            lifecycle.change_status(order_id, form.status.data)
        except Conflict as error:
            flash(error_text(error), "error")
        else:
            flash(f"Order #{order_id} is now {form.status.data}.", "success")
    return redirect(url_for("storefront.admin_order", order_id=order_id))
