"""Where an order can go from where it is, and what each move does to stock and payment.

pending -> paid -> shipped -> delivered; pending/paid -> cancelled; paid/shipped/delivered
-> refunded. Goods that never left the warehouse (cancelled, or refunded while still
``paid``) go back into stock; goods already shipped come back only through a stock
adjustment after someone has inspected the return.
"""

from __future__ import annotations

import logging
from decimal import Decimal

import sqlalchemy as sa

from app.catalog.cache import note_product_writes
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.live import events as live_events
from app.models import ORDER_STATUSES, Order, Product, User
from app.orders.service import get_order
from app.payments import PaymentProvider, payment_provider

log = logging.getLogger(__name__)

TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"shipped", "cancelled", "refunded"}),
    "shipped": frozenset({"delivered", "refunded"}),
    "delivered": frozenset({"refunded"}),
    "cancelled": frozenset(),
    "refunded": frozenset(),
}
_RESTOCKING_FROM = frozenset({"pending", "paid"})
_MONEY_BACK = frozenset({"cancelled", "refunded"})


def cancel_order(order_id: int, user: User,
                 provider: PaymentProvider | None = None) -> Order:
    """A shopper cancels their own order while it has not shipped."""
    order = _locked_order(order_id)
    if order.user_id != user.id:
        db.session.rollback()
        raise NotFound("order not found")
    return _move(order, "cancelled", provider)


def change_status(order_id: int, status: str,
                  provider: PaymentProvider | None = None) -> Order:
    """An administrator moves any order along its lifecycle."""
    if status not in ORDER_STATUSES:
        raise Invalid.field("status", f"must be one of {', '.join(ORDER_STATUSES)}")
    return _move(_locked_order(order_id), status, provider)


def _locked_order(order_id: int) -> Order:
    # Locked so two concurrent moves (say, a double-clicked cancel) cannot both return
    # the stock: the second one waits, then sees the first one's status.
    order = db.session.scalar(
        sa.select(Order).where(Order.id == order_id).with_for_update()
        .execution_options(populate_existing=True))
    if order is None:
        raise NotFound("order not found")
    return order


def _move(order: Order, status: str, provider: PaymentProvider | None) -> Order:
    current = order.status
    if status not in TRANSITIONS.get(current, frozenset()):
        db.session.rollback()
        raise Conflict(f"an order cannot go from {current} to {status}",
                       {"from": current, "to": status}, code="invalid_transition")
    refunding = status in _MONEY_BACK and order.payment_status == "approved"
    reference, amount = order.payment_reference or "", order.total_amount
    try:
        if status in _MONEY_BACK and current in _RESTOCKING_FROM:
            _return_stock(order)
        if refunding:
            order.payment_status = "refunded"
        if status == "paid":
            order.payment_status = "approved"
        order.status = status
        live_events.order_moved(order, status)  # sent after the commit
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if refunding:  # only once the move is saved: a failed commit must not give money back
        _refund(provider or payment_provider(), order.id, reference, amount)
    return get_order(order.id, order.user)


def _refund(provider: PaymentProvider, order_id: int, reference: str, amount: Decimal) -> None:
    try:
        provider.refund(reference, amount)
    except Exception:
        # The order is already cancelled; the money has to be returned by hand.
        log.exception("refund of charge %s for order %s failed", reference, order_id)
        raise


def _return_stock(order: Order) -> None:
    """Increments in SQL, product by product in id order (the order checkout locks them
    in), so a concurrent checkout never deadlocks with it."""
    levels = []
    for item in sorted(order.items, key=lambda item: item.product_id):
        levels.append((item.product_id, db.session.execute(
            sa.update(Product).where(Product.id == item.product_id)
            .values(stock=Product.stock + item.quantity).returning(Product.stock)).scalar_one()))
    live_events.stock_changed(levels)
    note_product_writes(item.product_id for item in order.items)  # for the catalog cache
