"""One Server-Sent Events stream: the entries of a few Redis streams, as they arrive.

The loop is a blocking ``XREAD`` over the connection's topics, from a cursor per topic,
for at most a heartbeat interval: an event is written as soon as Redis has it; a quiet
interval writes a comment line (the heartbeat that keeps the ALB, CloudFront and any
proxy from calling the connection idle, and that notices a vanished client at the next
write). Each SSE ``id`` is the cursor of every topic, so a browser that reconnects with
``Last-Event-ID`` resumes exactly where it stopped, from Redis, whichever worker or pod
it reaches. Nothing is buffered in the process beyond one read (at most BATCH entries):
a client that falls behind is behind in Redis, and the backlog there is capped.

After LIVE_MAX_STREAM_SECONDS (with jitter, so browsers do not come back in a herd) the
stream ends with a ``retry`` hint and the browser reconnects: no connection is held for
ever, and a deploy's new pods take their share of the streams within that time.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from typing import Any

import redis
from redis.exceptions import RedisError
from redis.typing import KeyT, StreamIdT

log = logging.getLogger(__name__)

BATCH = 50
CLIENT_CHECK_SECONDS = 1.0  # how often a quiet stream looks whether its client left
RETRY_MS = 3000  # the browser's reconnection delay after a normal end
OUTAGE_RETRY_MS = 10_000  # after Redis failed mid-stream
_STREAM_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")
_CURSOR_SEPARATOR = "."


def parse_cursor(value: str | None, topic_count: int) -> list[str] | None:
    """The per-topic ids of a ``Last-Event-ID``, or None when it is not one of ours for
    this list of topics (another page's, or malformed)."""
    if not value or len(value) > 44 * topic_count:
        return None
    parts = value.split(_CURSOR_SEPARATOR)
    if len(parts) != topic_count or not all(_STREAM_ID.fullmatch(p) for p in parts):
        return None
    return parts


def cursor_from_time(milliseconds: int, topic_count: int) -> list[str]:
    """Every topic from a moment on: entries appended at or after ``milliseconds``."""
    return [f"{max(0, milliseconds - 1)}-18446744073709551615"] * topic_count


def format_event(event_id: str, name: str, data: str) -> bytes:
    return f"id: {event_id}\nevent: {name}\ndata: {data}\n\n".encode()


def events(reader: redis.Redis, keys: Sequence[str], cursor: list[str], *,
           heartbeat: float, lifetime: float, on_close: Callable[[], None],
           client_gone: Callable[[], bool] = lambda: False,
           clock: Callable[[], float] = time.monotonic) -> Generator[bytes, None, None]:
    """The body of one stream. ``on_close`` runs however it ends (a client gone, the
    lifetime over, Redis failing). ``client_gone`` is asked between reads, so a closed tab
    frees its thread within CLIENT_CHECK_SECONDS instead of at the next failed write."""
    try:
        yield f"retry: {RETRY_MS}\n: connected\n\n".encode()
        deadline = clock() + lifetime * random.uniform(0.8, 1.0)  # noqa: S311 (jitter)
        positions = dict(zip(keys, cursor, strict=True))
        written = clock()
        while (left := deadline - clock()) > 0:
            block = min(heartbeat, CLIENT_CHECK_SECONDS, left)
            try:
                streams: dict[KeyT, StreamIdT] = {key: at for key, at in positions.items()}
                batch = reader.xread(streams, count=BATCH, block=max(1, int(block * 1000)))
            except RedisError as exc:
                log.warning("live stream ended: Redis failed (%s)", type(exc).__name__)
                yield f"retry: {OUTAGE_RETRY_MS}\n\n".encode()
                return
            if batch:
                yield from _entries(batch, keys, positions)
                written = clock()
            elif client_gone():
                return
            elif clock() - written >= heartbeat * 0.99:
                yield b": heartbeat\n\n"
                written = clock()
        yield f"retry: {RETRY_MS}\n: lifetime over, reconnect\n\n".encode()
    finally:
        on_close()


class Body:
    """The WSGI body: the server calls ``close()`` however the response ends, also when
    it never started iterating (a client gone before the headers), where a generator's
    ``finally`` would never run and the stream's slots would stay taken."""

    def __init__(self, chunks: Generator[bytes, None, None], on_close: Callable[[], None]):
        self._chunks = chunks
        self._on_close = on_close

    def __iter__(self) -> Body:
        return self

    def __next__(self) -> bytes:
        return next(self._chunks)

    def close(self) -> None:
        try:
            self._chunks.close()
        finally:
            self._on_close()


def _entries(batch: Iterable[Any], keys: Sequence[str], positions: dict[str, str]
             ) -> Iterator[bytes]:
    """Entries as SSE events (the reader decodes responses to str)."""
    for key, entries in batch:
        for entry_id, fields in entries:
            positions[key] = entry_id
            event_id = _CURSOR_SEPARATOR.join(positions[k] for k in keys)
            if fields.get("t") and fields.get("d"):
                yield format_event(event_id, fields["t"], _one_line(fields["d"]))


def _one_line(data: str) -> str:
    """SSE ends a field at a newline; json.dumps never writes one, but the data came
    from Redis, so it is re-encoded rather than trusted."""
    return json.dumps(json.loads(data), separators=(",", ":"))
