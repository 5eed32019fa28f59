"""Live updates: order status, stock and cart changes pushed to open pages.

Services record what changed (``app.live.events``); it reaches Redis streams after the
commit (``app.live.publish``); ``GET /live/events`` (``app.live.views``) turns a page's
topics into a Server-Sent Events stream (``app.live.stream``), within the worker's and
the shopper's limits (``app.live.capacity``); ``static/js/live.js`` applies the events to
the page. Why SSE over WebSocket, and what each stream costs: README, "Live updates".
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
from flask import Flask, current_app, request, session, url_for
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.live.capacity import PrincipalSlots, WorkerSlots, streams_per_worker, worker_mode


@dataclass
class LiveChannel:
    reader: redis.Redis  # blocking XREADs: its own pool, with a timeout above the block
    workers: WorkerSlots
    principals: PrincipalSlots


def init_live(app: Flask) -> None:
    from app.live import publish  # noqa: F401  (registers the after-commit listeners)
    from app.live.views import bp

    client = app.extensions["redis"]
    url = app.config.get("REDIS_URL")
    reader = client
    if url:
        # Each open stream holds one of these connections in its blocking XREAD, so the
        # pool is as large as the most streams this worker could hold (redis-py: 100).
        most = max(streams_per_worker(mode, app.config) for mode in ("threads", "gevent"))
        reader = redis.Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=1,
            socket_timeout=app.config["LIVE_HEARTBEAT_SECONDS"] + 5,
            health_check_interval=30, retry=Retry(NoBackoff(), 0), max_connections=most + 8)
    app.extensions["live"] = LiveChannel(reader, WorkerSlots(), PrincipalSlots(client))
    app.register_blueprint(bp)
    app.jinja_env.globals["live_script"] = live_script


def live_script() -> dict | None:
    """What the page's live.js tag needs, or None where this server cannot stream (a
    sync worker, the channel switched off): the page then does not try."""
    config = current_app.config
    if not config["LIVE_ENABLED"] or not streams_per_worker(worker_mode(request.environ),
                                                             config):
        return None
    from app.storefront.session import CART_KEY, USER_KEY

    return {
        "url": url_for("live.events"),
        "cart_url": url_for("live.cart_count"),
        # The stream replays from here, so nothing between rendering and connecting is lost.
        "since": int(time.time() * 1000),
        # Whether the session itself has something to hear (an account or a guest cart).
        "session": bool(session.get(USER_KEY) or session.get(CART_KEY)),
    }
