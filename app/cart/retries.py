"""Cart writes that are safe to retry: an optional ``Idempotency-Key`` makes a repeated
request (a client that never heard the answer, a browser resubmitting a form) change the
cart at most once.

A retry with the same key and request replays the answer (the cart as it now is,
``Idempotent-Replayed: true``) without writing, and the same key with another request is
refused as ``idempotency_key_reused``.

- A signed-in shopper's key is checkout's mechanism (app/idempotency.py): a row claimed
  in the transaction that writes the cart line, so the two commit together or not at
  all; a concurrent duplicate waits on the row's unique index and then replays.
- A guest's key is a Redis value beside the guest cart, "pending" while the write runs
  and "done" after it. A crash between the two leaves "pending", which a retry is told
  to wait out (409 ``request_in_progress``) until it expires.

A refused write (out of stock, a bad quantity) releases its key: the retry is judged anew.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from contextlib import suppress
from typing import cast

import sqlalchemy as sa
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from app import idempotency
from app.cart.durable import UserCart
from app.cart.service import CartView, view_cart
from app.cart.store import CartStore
from app.errors import Conflict
from app.extensions import db, get_redis
from app.models import IdempotencyKey

log = logging.getLogger(__name__)

GUEST_KEY_TTL_SECONDS = 24 * 3600
PENDING_TTL_SECONDS = 30  # longer than any cart write takes; then a retry may run again


def once(cart: CartStore, key: str | None, request: dict,
         write: Callable[[], CartView]) -> tuple[CartView, bool]:
    """``write()`` at most once per ``key``; returns the cart and whether this was a
    replay. ``request`` identifies what was asked (operation, product, quantity)."""
    if key is None:
        return write(), False
    idempotency.check_key(key)
    ledger = _UserLedger(cart.user_id) if isinstance(cart, UserCart) else \
        _GuestLedger(cart.token or "")
    if not ledger.claim(key, idempotency.fingerprint({"scope": "cart", **request})):
        return view_cart(cart), True
    try:
        view = write()
    except Exception:
        ledger.release(key)
        raise
    ledger.done(key)
    return view, False


class _UserLedger:
    def __init__(self, user_id: int):
        self.user_id = user_id

    def claim(self, key: str, request_hash: str) -> bool:
        """True when this request may write; False when it is a retry to replay."""
        if idempotency.claim(self.user_id, key, request_hash) is not None:
            return True
        row = idempotency.earlier(self.user_id, key, request_hash)
        if row is None or row.order_id is not None:  # released meanwhile, or a checkout's
            raise idempotency.reused()
        return False

    def release(self, key: str) -> None:
        """Forget the key of a write that was refused (or failed): nothing was written,
        whether or not the store had already committed the row with its refusal."""
        with suppress(SQLAlchemyError):
            db.session.rollback()
            db.session.execute(sa.delete(IdempotencyKey).where(
                IdempotencyKey.user_id == self.user_id, IdempotencyKey.key == key,
                IdempotencyKey.order_id.is_(None)))
            db.session.commit()

    def done(self, key: str) -> None:
        """Nothing to do: the row was committed with the cart line."""


class _GuestLedger:
    def __init__(self, token: str):
        self.token = token
        self.redis = get_redis()

    def _name(self, key: str) -> str:
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        return f"cart-idempotency:{self.token}:{digest}"

    def claim(self, key: str, request_hash: str) -> bool:
        self.request_hash = request_hash
        name = self._name(key)
        if self.redis.set(name, f"pending:{request_hash}", nx=True, ex=PENDING_TTL_SECONDS):
            return True
        stored = cast(str | None, self.redis.get(name))  # the client decodes responses
        state, _, seen = (stored or "pending:").partition(":")
        if seen and not hmac.compare_digest(seen, request_hash):
            raise idempotency.reused()
        if state != "done":
            raise Conflict("a request with this Idempotency-Key is in progress; retry",
                           code="request_in_progress")
        return False

    def release(self, key: str) -> None:
        with suppress(RedisError):
            self.redis.delete(self._name(key))

    def done(self, key: str) -> None:
        """The write stands even if this fails (Redis gone since): the client gets its
        answer, and the "pending" left behind only expires."""
        try:
            self.redis.set(self._name(key), f"done:{self.request_hash}",
                           ex=GUEST_KEY_TTL_SECONDS)
        except RedisError as error:
            log.warning("a guest cart write's Idempotency-Key was not marked done (%s)",
                        type(error).__name__)
