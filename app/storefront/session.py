"""Who is shopping: the signed session cookie of the pages.

The cookie carries the user's id and a keyed fingerprint of their password hash and their
``session_epoch``. Changing the password changes the hash, so every other browser's cookie
stops matching and is signed out; signing out and deactivation bump the epoch, so a copy
of the cookie kept from before (stolen, or in another browser) is worthless too. The
state lives in the database, not Redis, so signing out works while Redis is down. A
guest's cart token lives in the same cookie until signing in merges that cart into the
account.
"""

from __future__ import annotations

import hmac
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, request, session, url_for

from app.cart.service import cart_for, merge_guest_cart
from app.cart.store import CartStore
from app.catalog.service import get_product
from app.db_routing import reads_from_primary
from app.errors import Forbidden, NotFound
from app.extensions import db
from app.models import User
from app.users.reset import password_fingerprint

USER_KEY = "uid"
FINGERPRINT_KEY = "pwd"
CART_KEY = "cart"
_UNSET = object()


def current_shopper() -> User | None:
    """The signed-in shopper, or None. Cached on the request, where the request log looks
    for the user (as it does for the API's Bearer tokens)."""
    cached = getattr(request, "_current_user", _UNSET)
    if cached is not _UNSET:
        return cached
    with reads_from_primary():
        user = _user_from_session()
    request._current_user = user
    return user


def _user_from_session() -> User | None:
    user_id = session.get(USER_KEY)
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or not hmac.compare_digest(
            str(session.get(FINGERPRINT_KEY, "")), _fingerprint(user)):
        _forget_session()
        return None
    return user


def begin_session(user: User) -> None:
    """Start a page session for ``user``: the guest cart merges into the account's, and
    anything that could not come along is flashed."""
    cart_token = session.get(CART_KEY)
    # A fresh cookie: nothing a guest's session held (or was handed) survives signing in.
    _forget_session()
    remember_password(user)
    session[USER_KEY] = user.id
    session.permanent = True
    request._current_user = user
    if cart_token:
        _flash_merge(merge_guest_cart(user.id, cart_token))


def remember_password(user: User) -> None:
    """Keep this browser signed in after it changed the password itself."""
    session[FINGERPRINT_KEY] = _fingerprint(user)


def _fingerprint(user: User) -> str:
    return password_fingerprint(f"{user.session_epoch}:{user.password_hash}")


def end_session() -> None:
    """Sign out: this cookie and every copy of it (the user's other browsers too)."""
    user = current_shopper()
    if user is not None:
        user.end_page_sessions()
        db.session.commit()
    _forget_session()
    request._current_user = None


def _forget_session() -> None:
    session.clear()
    # The CSRF token Flask-WTF cached for this request belongs to the cleared session.
    g.pop(current_app.config["WTF_CSRF_FIELD_NAME"], None)


def _flash_merge(result: dict) -> None:
    for line in result["clamped"]:
        flash(f"Only {line['available']} of {_name(line['product_id'])} could stay in your "
              "cart: that is all we have.", "warning")
    for line in result["skipped"]:
        reason = ("is no longer sold" if line["reason"] == "unavailable"
                  else "did not fit: a cart holds a limited number of products")
        flash(f"{_name(line['product_id'])} {reason}, so it was left out of your cart.",
              "warning")


def _name(product_id: int) -> str:
    try:
        return get_product(product_id, include_inactive=True).name
    except NotFound:
        return "A product"


# --- the cart of whoever is shopping ---------------------------------------------------

def shopper_cart() -> CartStore:
    """The signed-in shopper's cart, else the guest cart of this session (a new, still
    empty one when the session has none: nothing is stored until something is added)."""
    user = current_shopper()
    return cart_for(user.id if user else None, session.get(CART_KEY))


def remember_cart(cart: CartStore) -> None:
    """Keep a guest's cart token, across browser restarts too (a signed-in cart has none)."""
    if cart.token is not None and session.get(CART_KEY) != cart.token:
        session[CART_KEY] = cart.token
        session.permanent = True


# --- guards ----------------------------------------------------------------------------

def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site; anything else (another host, a
    protocol-relative ``//host`` or a backslash trick) falls back to ``default``."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target


def sign_in_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_shopper() is None:
            flash("Please sign in to continue.", "info")
            # Only a page can be returned to; a form post would need its fields again.
            back = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("storefront.sign_in", next=back))
        return view(*args, **kwargs)

    return wrapper


def admin_required(view):
    @wraps(view)
    @sign_in_required
    def wrapper(*args, **kwargs):
        if not current_shopper().is_admin:
            raise Forbidden("administrator role required")
        return view(*args, **kwargs)

    return wrapper


def signed_in_user() -> User:
    """The shopper of a view behind ``sign_in_required``."""
    user = current_shopper()
    if user is None:
        raise Forbidden("sign in required")
    return user
