"""``Idempotency-Key``: the one mechanism behind every write a client may safely retry
(checkout, and a signed-in shopper's cart writes).

A key is a row of ``idempotency_keys`` (user, key, a keyed fingerprint of what was asked),
claimed in the transaction of the write it guards, so the two commit together or not at
all. The claim is one ``INSERT ... ON CONFLICT DO NOTHING RETURNING id``: no look-up
first, so a first attempt costs one statement; a concurrent duplicate waits on the unique
index until the first commits (then it is a retry) or rolls back (then it proceeds). A
retry finds the earlier row (``earlier``): the same fingerprint replays what was done, a
different one is refused as ``idempotency_key_reused``.

The fingerprint is an HMAC under ``SECRET_KEY``: the row must not let anyone guess what
was sent (a plain hash of a card number is guessable).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from app.errors import Invalid
from app.extensions import db
from app.models import IdempotencyKey

MAX_KEY_LENGTH = 128


def check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise Invalid.field("Idempotency-Key",
                            f"must be 1 to {MAX_KEY_LENGTH} printable characters")


def fingerprint(request: dict[str, Any]) -> str:
    canonical = json.dumps(request, sort_keys=True)
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, canonical.encode(), hashlib.sha256).hexdigest()


def claim(user_id: int, key: str, request_hash: str) -> int | None:
    """The id of the key's new row, or None when an earlier attempt holds the key."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert  # `make run`
    return db.session.scalar(
        insert(IdempotencyKey).values(user_id=user_id, key=key, request_hash=request_hash)
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(IdempotencyKey.id))


def earlier(user_id: int, key: str, request_hash: str) -> IdempotencyKey | None:
    """The earlier attempt's row (None if it is gone), when it asked the same."""
    row = db.session.scalar(sa.select(IdempotencyKey).where(
        IdempotencyKey.user_id == user_id, IdempotencyKey.key == key))
    if row is not None and not hmac.compare_digest(row.request_hash, request_hash):
        raise reused()
    return row


def reused() -> Invalid:
    return Invalid("this Idempotency-Key was already used for a different request",
                   {"fields": {"Idempotency-Key": ["was used with a different request"]}},
                   code="idempotency_key_reused")
