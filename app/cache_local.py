"""An in-process layer in front of the Redis cache, for the hottest anonymous reads: a hit
costs no Redis round trip at all.

Each process keeps copies of the version tokens (``app.caching``) it last read, and of the
entries it last read or stored under them. A write still shows at once everywhere:

- in the writing process, ``invalidate`` drops the tokens it replaces from every layer
  before it returns;
- every other process hears of it on the Redis pub/sub channel ``cache:invalidations``,
  published in the same round trip as the new tokens, and drops them too;
- a token is trusted only while the process is subscribed (from the confirmation of its
  subscription on; a lost connection drops every copy and turns the layer off until it is
  subscribed again, since messages may have been missed), and for ``CACHE_LOCAL_TTL_SECONDS``
  at most, which bounds what a message lost without a broken connection could cost;
- a token read from Redis is kept only when no invalidation arrived while it was read
  (a generation counter), so a reader racing a write never keeps the old token.

Entries are keyed by their tokens, so an entry is never stale: once its tokens change it
is not found again, and the oldest is dropped past ``MAX_ENTRIES``.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import redis

log = logging.getLogger(__name__)

CHANNEL = "cache:invalidations"
MAX_ENTRIES = 512
MAX_ENTRY_CHARS = 256 * 1024  # a huge body stays in Redis only
MISSING = object()
RETRY_SECONDS = 1.0


class LocalLayer:
    def __init__(self, ttl_seconds: float):
        self.ttl = ttl_seconds
        self._tokens: dict[str, tuple[str, float]] = {}
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0
        self.subscribed = False

    # --- tokens --------------------------------------------------------------------

    def tokens(self, names: Sequence[str]) -> list[str] | None:
        """The kept tokens of ``names``, or None unless every one is kept and fresh."""
        if not self.subscribed:
            return None
        now = time.monotonic()
        found = []
        for name in names:
            kept = self._tokens.get(name)
            if kept is None or now - kept[1] > self.ttl:
                return None
            found.append(kept[0])
        return found

    def generation(self) -> int:
        return self._generation

    def keep_tokens(self, names: Sequence[str], tokens: Sequence[str], generation: int) -> None:
        """Keep tokens read from Redis, unless an invalidation arrived since ``generation``."""
        now = time.monotonic()
        with self._lock:
            if generation != self._generation or not self.subscribed:
                return
            for name, token in zip(names, tokens, strict=True):
                self._tokens[name] = (token, now)

    def forget(self, names: Sequence[str]) -> None:
        with self._lock:
            self._generation += 1
            for name in names:
                self._tokens.pop(name, None)

    def forget_all(self, subscribed: bool) -> None:
        with self._lock:
            self._generation += 1
            self._tokens.clear()
            self._entries.clear()
            self.subscribed = subscribed

    # --- entries -------------------------------------------------------------------

    def get(self, key: str) -> Any:
        with self._lock:
            value = self._entries.get(key, MISSING)
            if value is not MISSING:
                self._entries.move_to_end(key)
            return value

    def put(self, key: str, value: Any) -> None:
        if isinstance(value, str) and len(value) > MAX_ENTRY_CHARS:
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)


# --- the process's layers and their listener -------------------------------------------

_layers: dict[str, weakref.WeakSet[LocalLayer]] = {}  # by Redis URL
_listeners: dict[str, _Listener] = {}
_registry_lock = threading.Lock()


def attach(layer: LocalLayer, redis_url: str) -> None:
    """Make ``layer`` hear the invalidations published on the Redis at ``redis_url``: one
    listener thread per process and Redis, started on first use (after gunicorn's fork)."""
    with _registry_lock:
        _layers.setdefault(redis_url, weakref.WeakSet()).add(layer)
        listener = _listeners.get(redis_url)
        if listener is None or not listener.is_alive():
            listener = _listeners[redis_url] = _Listener(redis_url)
            listener.start()
        layer.subscribed = listener.subscribed


def forget_everywhere(names: Sequence[str]) -> None:
    """This process's own write: every layer drops the tokens before the write returns
    (those of another Redis too: forgetting costs a refill, never a stale read)."""
    for layers in list(_layers.values()):
        for layer in list(layers):
            layer.forget(names)


def publish(pipe: redis.client.Pipeline, names: Sequence[str]) -> None:
    pipe.publish(CHANNEL, ",".join(names))


class _Listener(threading.Thread):
    def __init__(self, redis_url: str):
        super().__init__(name="cache-invalidations", daemon=True)
        self.url = redis_url
        self.subscribed = False

    def run(self) -> None:
        while True:
            try:
                self._listen()
            except Exception as exc:  # any connection trouble: off until subscribed again
                self._set_subscribed(False)
                log.info("local cache layer off until it can subscribe again (%s)",
                         type(exc).__name__)
            time.sleep(RETRY_SECONDS)

    def _listen(self) -> None:
        client = redis.Redis.from_url(self.url, decode_responses=True,
                                      socket_connect_timeout=1, socket_keepalive=True)
        pubsub = client.pubsub()
        try:
            pubsub.subscribe(CHANNEL)
            for message in pubsub.listen():
                if message["type"] == "subscribe":
                    self._set_subscribed(True)
                elif message["type"] == "message":
                    forget_everywhere(str(message["data"]).split(","))
        finally:
            pubsub.close()
            client.close()

    def _set_subscribed(self, subscribed: bool) -> None:
        self.subscribed = subscribed
        for layer in list(_layers.get(self.url, ())):
            layer.forget_all(subscribed)
