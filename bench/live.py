"""`python -m bench.live`: how many live streams one gunicorn worker holds, and what each
costs, on this machine (loopback only).

One worker (the container's settings, the worker class chosen here) serves the storefront;
the benchmark opens N public streams (a product's stock: no database row is read), then
measures the worker's resident memory against its idle baseline, the Redis connections the
streams hold, the time one event takes to reach every stream, how fast the worker still
answers a plain request, and what it answers the stream after its cap.

    python -m bench.live --worker-class gthread --threads 64 --connections 32
    python -m bench.live --worker-class gevent --connections 500

Settings: BENCH_REDIS_URL (default redis://127.0.0.1:6379/15; only live:bench:* keys
are written). The database is a throwaway SQLite file: the streams never read it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

import redis

from bench.live_server import environment, gunicorn, rss_kib
from bench.sse_client import EventStream

MAX_CONNECTIONS = 2000  # the loop is bounded whatever is asked
PRODUCT_ID = 990_001  # a topic of its own: live:p:990001 ("product" ids are only names here)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.live", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--worker-class", choices=("gthread", "gevent"), default="gthread")
    parser.add_argument("--threads", type=int, default=64)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    if not 1 <= args.connections <= MAX_CONNECTIONS:
        parser.error(f"--connections must be between 1 and {MAX_CONNECTIONS}")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    with tempfile.TemporaryDirectory(prefix="bench-live-") as workdir:
        results = measure(args.worker_class, args.threads, args.connections, redis_url,
                          Path(workdir))
    print(json.dumps(results, indent=2))
    return 0


def measure(worker_class: str, threads: int, connections: int, redis_url: str,
            workdir: Path) -> dict:
    env = environment(f"sqlite:///{workdir / 'bench.db'}", redis_url, workdir, {
        "LIVE_STREAMS_PER_ADDRESS": str(MAX_CONNECTIONS + 1),
        "LIVE_STREAMS_PER_WORKER": str(connections),
        "LIVE_HEARTBEAT_SECONDS": "15",
    })
    client = redis.Redis.from_url(redis_url)
    query = f"product={PRODUCT_ID}"
    with gunicorn(worker_class, env, workdir, threads=threads) as served:
        EventStream(served.port, query).close()  # warm the code paths once
        time.sleep(3)  # the warm-up stream notices its client left
        worker = served.worker_pid()
        idle_kib, idle_clients = rss_kib(worker), _redis_clients(client)
        streams = []
        for _ in range(connections):
            streams.append(_open(served.port, query, len(streams)))
        time.sleep(1)
        held_kib, held_clients = rss_kib(worker), _redis_clients(client)
        beyond = EventStream(served.port, query)
        beyond.close()  # at once: gunicorn lingers up to 2 s on a connection left open
        fan_out_ms = _fan_out(client, streams)
        page_ms = _page_latency(served.port)
        for stream in streams:
            stream.close()
    return {
        "worker_class": worker_class, "threads": threads if worker_class == "gthread" else None,
        "streams_held": len(streams),
        "worker_rss_idle_mib": round(idle_kib / 1024, 1),
        "worker_rss_with_streams_mib": round(held_kib / 1024, 1),
        "rss_per_stream_kib": round((held_kib - idle_kib) / len(streams), 1),
        "redis_connections_per_stream": round((held_clients - idle_clients) / len(streams), 2),
        "answer_beyond_the_cap": beyond.status,
        "event_to_every_stream_ms": fan_out_ms,
        "healthz_ms_while_held": page_ms,
    }


def _open(port: int, query: str, already: int) -> EventStream:
    stream = EventStream(port, query, timeout=30)
    if stream.status != 200:
        raise RuntimeError(f"stream refused with {stream.status} after {already} streams "
                           f"(Retry-After {stream.headers.get('retry-after')})")
    stream.next_message(timeout=30)  # "connected": the worker holds it
    return stream


def _redis_clients(client: redis.Redis) -> int:
    return int(client.info("clients")["connected_clients"])


def _fan_out(client: redis.Redis, streams: list[EventStream]) -> dict:
    """One event appended as the app appends it; when each stream had it."""
    started = time.perf_counter()
    client.xadd(f"live:p:{PRODUCT_ID}", {"t": "stock", "d": json.dumps(
        {"product_id": PRODUCT_ID, "stock": 1, "level": "low", "label": "Only 1 left"})},
        maxlen=10)
    arrivals = []
    for stream in streams:
        stream.next_event(timeout=30)
        arrivals.append((time.perf_counter() - started) * 1000)
    client.delete(f"live:p:{PRODUCT_ID}")
    return {"median": round(statistics.median(arrivals), 1), "max": round(max(arrivals), 1)}


def _page_latency(port: int, samples: int = 20) -> dict:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10):  # noqa: S310
            times.append((time.perf_counter() - started) * 1000)
    return {"median": round(statistics.median(times), 1), "max": round(max(times), 1)}


if __name__ == "__main__":
    raise SystemExit(main())
