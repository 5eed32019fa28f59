"""What every page's header and templates share: the shopper's state and display helpers.

``nav_state`` is a template global, called only by the full header: error pages render a
header without it, so a page about a database outage never needs the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from flask import request, session, url_for
from redis.exceptions import RedisError

from app.db_routing import reads_from_primary
from app.models import User
from app.storefront import bp
from app.storefront.session import CART_KEY, current_shopper, shopper_cart

log = logging.getLogger(__name__)
CURRENCY = "$"
LOW_STOCK = 5  # at or below this, a product page says how many are left


@dataclass(frozen=True)
class NavState:
    user: User | None
    cart_count: int | None  # None: unknown right now (a guest's cart while Redis is down)


@bp.app_template_global()
def nav_state() -> NavState:
    user = current_shopper()
    return NavState(user=user, cart_count=_cart_count(user))


def _cart_count(user: User | None) -> int | None:
    if user is None and not session.get(CART_KEY):
        return 0  # a guest who never added anything: no need to ask Redis
    try:
        with reads_from_primary():  # a signed-in cart is rows in cart_items
            return sum(shopper_cart().quantities().values())
    except RedisError as exc:
        # A guest's cart lives only in Redis; the page is still worth showing without it.
        log.warning("guest cart unavailable for the header (%s)", type(exc).__name__)
        return None


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

