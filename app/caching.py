"""Read-through caching in Redis with versioned keys, and the HTTP caching headers.

Data: every entry's key embeds the current token of each *version* it depends on (say
``products`` and ``product:42``). A write replaces those tokens after its commit, so the
old entries are never read again and expire on their own; a reader that filled an entry
from data older than the write stored it under the old token, where nobody looks. Tokens
are random, not counters: a token lost to eviction or a Redis restart is replaced by a new
one, never by a value an old entry was stored under.

When a read replica serves reads, the database may answer a moment behind a write, so for
``CACHE_REPLICA_LAG_SECONDS`` after a write the fills of what it touched are served but
not stored.

Redis trouble never fails a request: reads go to the database (with one warning, then
quiet for ``BREAKER_SECONDS``), and a failed invalidation is logged as an error (the
entries it missed expire within CACHE_TTL_SECONDS).

HTTP: anonymous GETs of the catalog endpoints are public (``max-age`` and
``stale-while-revalidate`` for CloudFront and browsers) with an ``ETag`` answered by 304;
everything else a view did not mark itself is ``private, no-store``, and so is anything
asked with credentials, so no shared cache ever keeps a personal answer.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request
from redis.exceptions import RedisError

from app.extensions import get_redis
from app.metrics import record_cache

log = logging.getLogger(__name__)

T = TypeVar("T")

BREAKER_SECONDS = 5.0
# Anonymous GETs of these endpoints answer the same to everyone: shared caches may keep them.
PUBLIC_ENDPOINTS = frozenset({
    "categories.list_categories", "categories.get_category", "categories.get_category_by_slug",
    "products.list_products", "products.get_product", "products.get_product_by_sku",
    "search.search",
})
CREDENTIAL_HEADERS = ("Authorization", "Cookie")


def init_caching(app: Flask) -> None:
    app.extensions["cache_breaker"] = _Breaker()
    app.after_request(_http_caching)


# --- data ------------------------------------------------------------------------------

def cached(kind: str, ident: str, versions: Sequence[str], load: Callable[[], T],
           encode: Callable[[T], Any], decode: Callable[[Any], T],
           keep: Callable[[T], bool] = lambda value: True) -> T:
    """``load()``, through the cache entry ``kind``/``ident`` that depends on ``versions``.
    ``encode`` makes the value JSON-ready, ``decode`` rebuilds it; a value ``keep`` refuses
    is answered but not stored."""
    breaker: _Breaker = current_app.extensions["cache_breaker"]
    if breaker.is_open():
        return load()
    try:
        key, storable = _entry_key(kind, ident, versions)
        raw = get_redis().get(key)
    except RedisError as exc:
        breaker.trip(exc)
        return load()
    record_cache(kind, hit=raw is not None)
    if raw is not None:
        try:
            return decode(json.loads(raw))
        except (KeyError, TypeError, ValueError):
            # Written by another release (a column added or removed): refill it.
            log.info("cache entry %s is in an older format; refilling it", key)
    value = load()
    if storable and keep(value):
        try:
            get_redis().set(key, json.dumps(encode(value), separators=(",", ":")),
                            ex=current_app.config["CACHE_TTL_SECONDS"])
        except RedisError as exc:
            breaker.trip(exc)
    return value


def invalidate(versions: Iterable[str]) -> None:
    """Give each of ``versions`` a new token: call after the commit that changed them."""
    names = sorted(set(versions))
    if not names:
        return
    lag = _replica_lag_ms()
    try:
        pipe = get_redis().pipeline(transaction=False)
        for name in names:
            pipe.set(_version_key(name), _new_token())
            if lag:
                pipe.set(_written_key(name), 1, px=lag)
        pipe.execute()
    except RedisError:
        log.error("cache invalidation of %s failed; those entries may be stale until "
                  "they expire", ", ".join(names), exc_info=True)


def _entry_key(kind: str, ident: str, versions: Sequence[str]) -> tuple[str, bool]:
    """The entry's key under the current tokens, and whether a fill may be stored."""
    redis = get_redis()
    keys = [_version_key(name) for name in versions]
    written = [_written_key(name) for name in versions] if _replica_lag_ms() else []
    values = redis.mget(keys + written)
    tokens, recent_writes = values[:len(keys)], values[len(keys):]
    for index, token in enumerate(tokens):
        if token is None:  # never set, evicted or lost: start a new one, never reuse one
            redis.set(keys[index], _new_token(), nx=True)
            tokens[index] = redis.get(keys[index])
    if None in tokens:
        raise RedisError("a cache version token vanished while being read")
    return f"cache:{kind}:{ident}:{'.'.join(tokens)}", not any(recent_writes)


def _version_key(name: str) -> str:
    return f"cache:version:{name}"


def _written_key(name: str) -> str:
    return f"cache:written:{name}"


def _new_token() -> str:
    return secrets.token_hex(8)


def _replica_lag_ms() -> int:
    if not current_app.config.get("DATABASE_REPLICA_URL"):
        return 0
    return int(current_app.config["CACHE_REPLICA_LAG_SECONDS"] * 1000)


class _Breaker:
    """After a Redis error, reads skip the cache for a few seconds: a Redis that is down
    costs one failed call and one warning, not one of each per request."""

    def __init__(self) -> None:
        self._open_until = 0.0

    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def trip(self, exc: RedisError) -> None:
        self._open_until = time.monotonic() + BREAKER_SECONDS
        log.warning("cache unavailable (%s); reading from the database for %.0f s",
                    type(exc).__name__, BREAKER_SECONDS)


# --- HTTP ------------------------------------------------------------------------------

def is_anonymous_read() -> bool:
    """A GET or HEAD without credentials: the answer is the same for every such request."""
    return request.method in ("GET", "HEAD") and not _has_credentials()


def _has_credentials() -> bool:
    return "Authorization" in request.headers or (
        current_app.config["SESSION_COOKIE_NAME"] in request.cookies)


def _shareable(response: Response) -> bool:
    return (request.endpoint in PUBLIC_ENDPOINTS and response.status_code == 200
            and is_anonymous_read() and "Set-Cookie" not in response.headers)


def _http_caching(response: Response) -> Response:
    if response.cache_control.public:
        return response  # declared shareable by its view (static files, API doc assets)
    if _shareable(response):
        config = current_app.config
        response.cache_control.public = True
        response.cache_control.max_age = config["CACHE_MAX_AGE_SECONDS"]
        response.cache_control.stale_while_revalidate = (
            config["CACHE_STALE_WHILE_REVALIDATE_SECONDS"])
        response.vary.update(CREDENTIAL_HEADERS)
        response.add_etag()
        return response.make_conditional(request)
    if "Cache-Control" in response.headers and is_anonymous_read():
        return response  # a view's own policy for an anonymous read (no-cache + ETag)
    response.headers["Cache-Control"] = "private, no-store"
    if _has_credentials() or request.endpoint in PUBLIC_ENDPOINTS:
        response.vary.update(CREDENTIAL_HEADERS)
    return response
