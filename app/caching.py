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

from app import cache_local
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
    app.extensions["cache_read_script"] = app.extensions["redis"].register_script(_READ_ENTRY)
    ttl = app.config["CACHE_LOCAL_TTL_SECONDS"]
    # The in-process stand-in (no REDIS_URL) has no other process to hear from.
    if ttl > 0 and app.config.get("REDIS_URL"):
        layer = cache_local.LocalLayer(ttl)
        cache_local.attach(layer, app.config["REDIS_URL"])
        app.extensions["cache_local"] = layer
    app.after_request(_http_caching)


# --- data ------------------------------------------------------------------------------

def cached(kind: str, ident: str, versions: Sequence[str], load: Callable[[], T],
           encode: Callable[[T], Any], decode: Callable[[Any], T],
           keep: Callable[[T], bool] = lambda value: True, local: bool = False) -> T:
    """``load()``, through the cache entry ``kind``/``ident`` that depends on ``versions``.
    ``encode`` makes the value JSON-ready, ``decode`` rebuilds it; a value ``keep`` refuses
    is answered but not stored. ``local``: also keep it in this process
    (``app.cache_local``), where a hit costs no Redis round trip."""
    breaker: _Breaker = current_app.extensions["cache_breaker"]
    if breaker.is_open():
        return load()
    layer = _local_layer() if local else None
    if layer is not None:
        tokens = layer.tokens(versions)
        if tokens is not None:
            data = layer.get(_key(kind, ident, tokens))
            if data is not cache_local.MISSING:
                record_cache(kind, hit=True)
                return decode(data)
    generation = layer.generation() if layer is not None else 0
    try:
        key, raw, storable, tokens = _read_entry(kind, ident, versions)
    except RedisError as exc:
        breaker.trip(exc)
        return load()
    if layer is not None:
        layer.keep_tokens(versions, tokens, generation)
    record_cache(kind, hit=raw is not None)
    if raw is not None:
        try:
            data = json.loads(raw)
            value = decode(data)
        except (KeyError, TypeError, ValueError):
            # Written by another release (a column added or removed): refill it.
            log.info("cache entry %s is in an older format; refilling it", key)
        else:
            if layer is not None:
                layer.put(key, data)
            return value
    value = load()
    if storable and keep(value):
        data = encode(value)
        try:
            get_redis().set(key, json.dumps(data, separators=(",", ":")),
                            ex=current_app.config["CACHE_TTL_SECONDS"])
        except RedisError as exc:
            breaker.trip(exc)
        else:
            if layer is not None:
                layer.put(key, data)
    return value


def invalidate(versions: Iterable[str]) -> None:
    """Give each of ``versions`` a new token: call after the commit that changed them.
    The same round trip tells every process's local layer (``app.cache_local``)."""
    names = sorted(set(versions))
    if not names:
        return
    cache_local.forget_everywhere(names)
    lag = _replica_lag_ms()
    try:
        pipe = get_redis().pipeline(transaction=False)
        for name in names:
            pipe.set(_version_key(name), _new_token())
            if lag:
                pipe.set(_written_key(name), 1, px=lag)
        cache_local.publish(pipe, names)
        pipe.execute()
    except RedisError:
        log.error("cache invalidation of %s failed; those entries may be stale until "
                  "they expire", ", ".join(names), exc_info=True)


# KEYS: the version tokens, then (with a replica) the recent-write markers. ARGV[1]: how
# many tokens, ARGV[2]: the entry key's prefix, then one new token per version, used where
# a token is missing (never set, evicted or lost: a new one, never an old one reused). The
# entry's key is built here from the tokens, so the look-up is one round trip; it is not
# declared in KEYS, which Redis Cluster would refuse, and ElastiCache here runs without
# cluster mode (components/cache.py: one node group).
_READ_ENTRY = """
local n = tonumber(ARGV[1])
local tokens = {}
for i = 1, n do
  local token = redis.call('GET', KEYS[i])
  if not token then
    token = ARGV[2 + i]
    redis.call('SET', KEYS[i], token)
  end
  tokens[i] = token
end
local recent = 0
for i = n + 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then recent = 1 end
end
local key = ARGV[2] .. table.concat(tokens, '.')
return {key, redis.call('GET', key) or false, recent, unpack(tokens)}
"""


def _read_entry(kind: str, ident: str, versions: Sequence[str]
                ) -> tuple[str, str | None, bool, list[str]]:
    """The entry under the current tokens (None when absent), its key, whether a fill may
    be stored, and the tokens: one round trip."""
    keys = [_version_key(name) for name in versions]
    written = [_written_key(name) for name in versions] if _replica_lag_ms() else []
    script = current_app.extensions["cache_read_script"]
    key, raw, recent, *tokens = script(
        keys=keys + written,
        args=[len(keys), _key(kind, ident, []), *(_new_token() for _ in keys)])
    return key, raw, not recent, tokens


def _key(kind: str, ident: str, tokens: Sequence[str]) -> str:
    return f"cache:{kind}:{ident}:{'.'.join(tokens)}"


def _local_layer() -> cache_local.LocalLayer | None:
    return current_app.extensions.get("cache_local")


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


_PUBLIC = "public, max-age={}, stale-while-revalidate={}"
# Headers that can make an answer a 304, a 412 or a part; without them it is the 200 as is.
_CONDITIONAL_HEADERS = ("If-None-Match", "If-Modified-Since", "If-Match",
                        "If-Unmodified-Since", "Range")


def _shareable(response: Response) -> bool:
    return (request.endpoint in PUBLIC_ENDPOINTS and response.status_code == 200
            and is_anonymous_read() and "Set-Cookie" not in response.headers)


def _http_caching(response: Response) -> Response:
    own_policy = "Cache-Control" in response.headers
    if own_policy and response.cache_control.public:
        return response  # declared shareable by its view (static files, API doc assets)
    if _shareable(response):
        max_age = current_app.config["CACHE_MAX_AGE_SECONDS"]
        stale = current_app.config["CACHE_STALE_WHILE_REVALIDATE_SECONDS"]
        if own_policy:  # the view's directives, completed (rare: through the parser)
            control = response.cache_control
            control.public, control.max_age, control.stale_while_revalidate = (
                True, max_age, stale)
        else:  # a hot read: one string, not a parsed structure re-serialised per directive
            response.headers["Cache-Control"] = _PUBLIC.format(max_age, stale)
        response.vary.update(CREDENTIAL_HEADERS)
        response.add_etag()
        if any(name in request.headers for name in _CONDITIONAL_HEADERS):
            return response.make_conditional(request)
        return response
    if own_policy and is_anonymous_read():
        return response  # a view's own policy for an anonymous read (no-cache + ETag)
    response.headers["Cache-Control"] = "private, no-store"
    if _has_credentials() or request.endpoint in PUBLIC_ENDPOINTS:
        response.vary.update(CREDENTIAL_HEADERS)
    return response
