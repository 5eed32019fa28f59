"""What every page's header and templates share: the shopper's state and display helpers.

``nav_state`` is a template global, called only by the full header: error pages render a
header without it, so a page about a database outage never needs the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import request, url_for

from app.models import User
from app.storefront import bp
from app.storefront.session import current_shopper, shopper_cart

CURRENCY = "$"
LOW_STOCK = 5  # at or below this, a product page says how many are left


@dataclass(frozen=True)
class NavState:
    user: User | None
    cart_count: int


@bp.app_template_global()
def nav_state() -> NavState:
    return NavState(user=current_shopper(), cart_count=sum(shopper_cart().quantities().values()))


@bp.app_template_global()
def page_url(number: int) -> str:
    """This page's URL with another page number; every other argument (a filter) is kept."""
    args = {key: value for key, value in request.args.items(multi=False) if key != "page"}
    return url_for(request.endpoint, **(request.view_args or {}), **args, page=number)


@bp.app_template_filter()
def money(amount: Decimal | int) -> str:
    return f"{CURRENCY}{Decimal(amount):,.2f}"


@bp.app_template_global()
def stock_level(stock: int) -> str:
    if stock <= 0:
        return "out"
    return "low" if stock <= LOW_STOCK else "in"


@bp.app_template_global()
def stock_label(stock: int) -> str:
    return {"out": "Out of stock", "low": f"Only {stock} left",
            "in": "In stock"}[stock_level(stock)]

