"""How many streams a worker may hold, and how many one shopper may open.

A stream holds what serves it for its whole life: under gunicorn's ``gthread`` worker a
thread of the worker's pool, under ``gevent`` a greenlet, under ``sync`` the whole worker
(which then serves nobody else and is killed by gunicorn's timeout). So:

- ``sync``: no streams at all (503): a stream would take the worker;
- ``gthread``: at most half the threads (``GUNICORN_THREADS``), so pages always keep the
  other half however many browsers are open;
- ``gevent``: LIVE_STREAMS_PER_WORKER, default 500, bounded by memory and file
  descriptors, not by threads.

Per shopper (signed in: the account; guest: the client address) a Redis sorted set holds
the open streams with an expiry each, so a worker that died never leaves a slot taken for
longer than a stream's lifetime.
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections.abc import Mapping

import redis

GEVENT_DEFAULT = 500

# KEYS[1] the principal's set; ARGV: now, expiry, limit, member.
_CLAIM = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) - tonumber(ARGV[1])) + 1)
return 1
"""


def worker_mode(environ: Mapping) -> str:
    """``gevent``, ``threads`` or ``sync``: what a stream would hold in this server."""
    gevent_monkey = sys.modules.get("gevent.monkey")
    if gevent_monkey is not None and gevent_monkey.is_module_patched("socket"):
        return "gevent"
    return "threads" if environ.get("wsgi.multithread") else "sync"


def streams_per_worker(mode: str, config: Mapping) -> int:
    configured = config["LIVE_STREAMS_PER_WORKER"]
    if mode == "sync":
        return 0  # whatever is configured: one stream would be the whole worker
    if configured is not None:
        if mode == "threads":  # never every thread, whatever is configured
            return min(configured, config["LIVE_WORKER_THREADS"] - 1)
        return configured
    return GEVENT_DEFAULT if mode == "gevent" else config["LIVE_WORKER_THREADS"] // 2


class WorkerSlots:
    """The streams this process holds now (each worker process has its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open = 0

    def claim(self, limit: int) -> bool:
        with self._lock:
            if self.open >= limit:
                return False
            self.open += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.open -= 1


class PrincipalSlots:
    """Open streams per shopper, across every worker and pod."""

    def __init__(self, client: redis.Redis):
        self._claim = client.register_script(_CLAIM)
        self._client = client

    def claim(self, principal: str, limit: int, lifetime: float) -> str | None:
        """A member id while a slot is free, else None. Raises RedisError."""
        member = uuid.uuid4().hex
        now = time.time()
        taken = self._claim(keys=[_key(principal)], args=[now, now + lifetime + 30, limit,
                                                          member])
        return member if taken else None

    def release(self, principal: str, member: str) -> None:
        self._client.zrem(_key(principal), member)


def _key(principal: str) -> str:
    return f"live:streams:{principal}"
