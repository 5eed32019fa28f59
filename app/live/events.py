"""What each state change tells the pages. Every event carries the new state itself (a
status, a stock level, a count), never a delta: replaying one twice, or after a reload
that already shows it, changes nothing.

The functions are called by the services that change the state, with what those services
already hold: none of them reads the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from app.cart.store import CartStore
from app.live import topics
from app.live.publish import Event, publish, queue
from app.models import Order, Product, User


def order_moved(order: Order, status: str) -> None:
    """An order's status changed (queued: sent when the move commits)."""
    data = {"order_id": order.id, "status": status, "label": status.capitalize()}
    queue(Event(topics.user(order.user_id), "order", data),
          Event(topics.ADMIN_ORDERS, "order", data))


def stock_changed(levels: Iterable[tuple[int, int]]) -> None:
    """Products' stock levels, ``(product id, new stock)`` (queued)."""
    queue(*(Event(topics.product(product_id), "stock", _stock(product_id, stock))
            for product_id, stock in levels))


def order_placed(user: User, order: Order, products: Iterable[Product]) -> None:
    """A checkout: the admins' order desk gets a row, the shopper's other tabs an empty
    cart, each bought product its new stock (queued; sent when the checkout commits)."""
    from app.storefront.navigation import money  # (the pages import the services)

    row = {"order_id": order.id, "status": order.status, "label": order.status.capitalize(),
           "email": user.email, "total": money(order.total_amount),
           "placed": datetime.now(UTC).isoformat(timespec="seconds")}
    # Rows a concurrent request added after checkout locked the cart stay in it, so the
    # count is not known here: null tells the page to ask (GET /live/cart).
    queue(Event(topics.ADMIN_ORDERS, "order-placed", row), _cart_to_ask_for(user.id))
    stock_changed((product.id, product.stock) for product in products)


def cart_changed(cart: CartStore, count: int) -> None:
    """A cart now holds ``count`` items (sent at once: the write is already durable)."""
    topic = _cart_topic(cart)
    if topic is not None:
        publish(Event(topic, "cart", {"count": count}))


def cart_merged(user_id: int) -> None:
    """A guest cart joined the account's at sign-in (queued: sent when the merge commits),
    for the shopper's tabs already signed in. The merged count is not read here: null
    tells the page to ask (GET /live/cart)."""
    queue(_cart_to_ask_for(user_id))


def _cart_to_ask_for(user_id: int) -> Event:
    """A cart event without a count: the page asks GET /live/cart."""
    return Event(topics.user(user_id), "cart", {"count": None})


def _cart_topic(cart: CartStore) -> str | None:
    user_id = getattr(cart, "user_id", None)
    if user_id is not None:
        return topics.user(user_id)
    return topics.guest_cart(cart.token) if cart.token else None


def _stock(product_id: int, stock: int) -> dict:
    # The same words as the product page, from the same functions (imported here: the
    # storefront imports the services that call this module).
    from app.storefront.navigation import stock_label, stock_level

    return {"product_id": product_id, "stock": stock, "level": stock_level(stock),
            "label": stock_label(stock)}
