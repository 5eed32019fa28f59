"""Where each endpoint's time goes, counted in-process: the app's CPU per request, SQL
statements (and pool pre-pings) per request, and Redis round trips per request.

The requests go through Flask's test client against the benchmark's own database and
Redis, with the same production settings gunicorn serves, so the counts are exactly what
one request of the wrk run costs the app (wrk, gunicorn and the network excluded).
``python -m bench profile`` prints the same table on its own, with cProfile's top
functions per endpoint when ``--top`` is given.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count

import sqlalchemy as sa
from flask import Flask
from redis.connection import Connection

from app.extensions import db


@dataclass(frozen=True)
class Profile:
    name: str
    requests: int
    cpu_ms: float  # process CPU per request
    statements: float  # SQL statements per request
    pings: float  # pool pre-pings per request
    redis_trips: float  # Redis round trips per request
    statuses: tuple[int, ...]


@dataclass(frozen=True)
class Call:
    """One endpoint, as ``send(client, index)``: the index lets a call use a fresh shopper
    or product each time."""

    name: str
    send: Callable
    requests: int = 200
    # A read is warmed with the very requests it is then measured with, so the profile
    # shows cache hits, as under wrk; a write is warmed with a few requests of its own.
    repeatable: bool = True


class _Counts:
    def __init__(self) -> None:
        self.statements = 0
        self.pings = 0
        self.redis_trips = 0


@contextmanager
def counting(app: Flask) -> Iterator[_Counts]:
    """Count SQL statements and pings on every engine of ``app``, and every packet sent to
    Redis (one command, a pipeline or a script each: a round trip)."""
    counts = _Counts()

    def statement(*_args) -> None:
        counts.statements += 1

    def ping(*_args) -> None:
        counts.pings += 1

    with app.app_context():
        engines = list(db.engines.values())
    dialects = {engine.dialect for engine in engines}
    originals = {dialect: dialect.do_ping for dialect in dialects}
    send = Connection.send_packed_command

    def counted_send(self, command, check_health=True):
        counts.redis_trips += 1
        return send(self, command, check_health)

    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", statement)
    for dialect, original in originals.items():
        dialect.do_ping = _counted(original, ping)
    Connection.send_packed_command = counted_send
    try:
        yield counts
    finally:
        Connection.send_packed_command = send
        for dialect, original in originals.items():
            dialect.do_ping = original
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", statement)


def _counted(original: Callable, count: Callable) -> Callable:
    def wrapper(*args):
        count()
        return original(*args)

    return wrapper


def measure(app: Flask, call: Call, indexes: Iterator[int], top: int = 0) -> Profile:
    """Warm the endpoint up (its first requests fill caches and pools), then time
    ``call.requests`` requests."""
    client = app.test_client()
    if call.repeatable:
        chosen = [next(indexes) for _ in range(call.requests)]
        for index in chosen:
            call.send(client, index)
        indexes = iter(chosen)
    else:
        for _ in range(3):
            call.send(client, next(indexes))
    statuses: set[int] = set()
    profiler = cProfile.Profile() if top else None
    with counting(app) as counts:
        started = time.process_time()
        if profiler:
            profiler.enable()
        for _ in range(call.requests):
            statuses.add(call.send(client, next(indexes)).status_code)
        if profiler:
            profiler.disable()
        cpu = time.process_time() - started
    if profiler:
        _print_top(call.name, profiler, top)
    n = call.requests
    return Profile(call.name, n, cpu * 1000 / n, counts.statements / n, counts.pings / n,
                   counts.redis_trips / n, tuple(sorted(statuses)))


def run(app: Flask, calls: list[Call], top: int = 0) -> list[Profile]:
    indexes = count()
    return [measure(app, call, indexes, top) for call in calls]


def print_table(profiles: list[Profile]) -> None:
    print(f"\nprofile (in-process, Flask test client; per request){'':4}")
    print(f"{'endpoint':<16}{'app CPU ms':>11}{'SQL':>7}{'pings':>7}{'Redis':>7}  status")
    for p in profiles:
        print(f"{p.name:<16}{p.cpu_ms:>11.2f}{p.statements:>7.1f}{p.pings:>7.1f}"
              f"{p.redis_trips:>7.1f}  {','.join(map(str, p.statuses))}")


def _print_top(name: str, profiler: cProfile.Profile, top: int) -> None:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    print(f"\n--- {name}: top {top} functions by own time ---")
    print("\n".join(out.getvalue().splitlines()[6:]))
