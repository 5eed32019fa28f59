"""Where the rate limits count: one Redis round trip per request for all of its limits, and
each process's memory while Redis does not answer.

Every limit is a fixed window that opens at its first hit: the counter's key expires when
the window ends, and a hit over the limit still counts (a client that keeps knocking does
not get a fresh window sooner). All the counters a request touches are incremented by one
Lua script, so a sign-in with three limits (API, address, e-mail) costs one round trip, as
an API read with one does. The keys of one script need not share a hash slot: ElastiCache
runs with cluster mode disabled (components/cache.py).

A Redis that fails is met once: the failing request and every request after it count in
this process's memory (``shop_rate_limit_fail_open_total{mode="memory"}``), one warning
says so, and after a back-off (doubling from one second to thirty) a single request probes
Redis again while the others keep counting in memory; when the probe answers, counting
returns to Redis and a later outage is warned about again. A Redis outage never fails or
holds up more than the probing request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.retry import Retry

from app.metrics import record_rate_limit_counted_in_memory

log = logging.getLogger(__name__)

KEY_PREFIX = "ratelimit/"
FIRST_RETRY_SECONDS = 1.0
LAST_RETRY_SECONDS = 30.0

# KEYS: the counters; ARGV: each counter's window in milliseconds. Returns, per counter,
# its count and the milliseconds left in its window.
_HIT = """
local answer = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('PEXPIRE', key, ARGV[i]) end
  local left = redis.call('PTTL', key)
  if left < 0 then
    redis.call('PEXPIRE', key, ARGV[i])
    left = tonumber(ARGV[i])
  end
  answer[#answer + 1] = count
  answer[#answer + 1] = left
end
return answer
"""


@dataclass(frozen=True)
class Hit:
    """A counter after this request's hit: how many hits its window holds, and how long
    the window has left."""

    count: int
    seconds_left: float


class MemoryCounters:
    """Fixed windows in this process (a stand-in per process, not shared)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, float]] = {}

    def hit(self, keys: Sequence[str], windows: Sequence[float]) -> list[Hit]:
        now = time.monotonic()
        hits = []
        with self._lock:
            if len(self._windows) > 10_000:
                self._windows = {k: v for k, v in self._windows.items() if v[1] > now}
            for key, window in zip(keys, windows, strict=True):
                count, ends = self._windows.get(key, (0, 0.0))
                if ends <= now:
                    count, ends = 0, now + window
                self._windows[key] = (count + 1, ends)
                hits.append(Hit(count + 1, ends - now))
        return hits

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


class Counters:
    """Redis first, memory while Redis fails (see the module's docstring)."""

    def __init__(self, redis_url: str | None) -> None:
        self.memory = MemoryCounters()
        self._redis = _client(redis_url) if redis_url else None
        self._script = self._redis.register_script(_HIT) if self._redis else None
        self._lock = threading.Lock()
        self._failing_since: float | None = None
        self._retry_at = 0.0
        self._retry_after = FIRST_RETRY_SECONDS
        self._probing = False

    def hit(self, keys: Sequence[str], windows: Sequence[float]) -> list[Hit]:
        """One hit on each counter, in one round trip."""
        if self._script is None:
            return self.memory.hit(keys, windows)  # no Redis configured (`make run`)
        if not self._claim_redis():
            return self._in_memory(keys, windows)
        try:
            answer = self._script(keys=list(keys),
                                  args=[max(1, int(window * 1000)) for window in windows])
        except RedisError as error:
            self._failed(error)
            return self._in_memory(keys, windows)
        self._answered()
        return [Hit(int(answer[i]), int(answer[i + 1]) / 1000)
                for i in range(0, len(answer), 2)]

    def _in_memory(self, keys: Sequence[str], windows: Sequence[float]) -> list[Hit]:
        record_rate_limit_counted_in_memory()
        return self.memory.hit(keys, windows)

    def reset(self) -> None:
        """Forget every window (operators: after a false alarm; tests: between cases)."""
        self.memory.reset()
        if self._redis is not None:
            keys = list(self._redis.scan_iter(match=KEY_PREFIX + "*", count=1000))
            if keys:
                self._redis.delete(*keys)

    def _claim_redis(self) -> bool:
        """Whether this request may ask Redis: always while it answers; during an outage,
        one request (the probe) once the back-off has passed."""
        if self._failing_since is None:
            return True
        with self._lock:
            if self._probing or time.monotonic() < self._retry_at:
                return False
            self._probing = True
            return True

    def _failed(self, error: RedisError) -> None:
        now = time.monotonic()
        with self._lock:
            first = self._failing_since is None
            if first:
                self._failing_since, self._retry_after = now, FIRST_RETRY_SECONDS
            elif self._probing:
                self._retry_after = min(self._retry_after * 2, LAST_RETRY_SECONDS)
            else:
                return  # a request already waiting on Redis when the outage began
            self._retry_at, self._probing = now + self._retry_after, False
        if first:
            log.warning("rate limit storage unreachable (%s); counting in this process's "
                        "memory until Redis answers", type(error).__name__)

    def _answered(self) -> None:
        if self._failing_since is None:
            return
        with self._lock:
            since, self._failing_since, self._probing = self._failing_since, None, False
        if since is not None:
            log.info("rate limit storage answers again after %.0f s; counting in Redis",
                     time.monotonic() - since)


def _client(url: str) -> redis.Redis:
    # A Redis that stops answering costs the probing request one second (a timeout is not
    # retried); one immediate retry replaces a pooled connection a Redis restart closed.
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1,
                                health_check_interval=30,
                                retry=Retry(NoBackoff(), 1, (RedisConnectionError,)))
