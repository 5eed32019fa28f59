"""Who hears what: each topic is one Redis stream, ``live:<kind>:<id>``.

- ``u:<user id>``: a signed-in shopper's own orders and cart (private);
- ``g:<digest>``: a guest's cart, named by a keyed digest of its token: the token is the
  cart's only credential, so it never becomes a key name, a stream id or a log line;
- ``p:<product id>``: a product's stock (public);
- ``admin:orders``: every order placed or moved (administrators only).

A connection's topics are decided by the server from the session and the page (never
by a client-chosen key), in a fixed order, so a reconnect names the same list.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app

PREFIX = "live:"
ADMIN_ORDERS = f"{PREFIX}admin:orders"
MAX_PRODUCTS = 24  # a catalog page shows 12; more in one stream is not a page's need


def user(user_id: int) -> str:
    return f"{PREFIX}u:{user_id}"


def guest_cart(token: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, f"live-cart:{token}".encode(), hashlib.sha256).hexdigest()
    return f"{PREFIX}g:{digest[:32]}"


def product(product_id: int) -> str:
    return f"{PREFIX}p:{product_id}"
