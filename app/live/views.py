"""``GET /live/events``: the pages' live channel, and ``GET /live/cart``: the badge's count.

The stream authenticates with the page's session cookie, which EventSource sends on its
own (same origin, HttpOnly): no token in the URL, where it would reach logs. What a
connection hears is decided here from that session and the page's public parameters:

- always the signed-in shopper's own topic (their orders and cart), or a guest's cart;
- ``product=<id>`` (repeatable): those products' stock, public;
- ``admin=orders``: every order, for administrators only (403 otherwise).

Refusals come before anything is held: 403 for the admin topic, 400 for bad parameters,
503 + Retry-After where the server cannot hold a stream (a sync worker, every slot of
this worker taken, Redis down), 429 + Retry-After past a shopper's open streams.
"""

from __future__ import annotations

import select
import socket
from contextlib import suppress

from flask import Blueprint, Response, current_app, jsonify, request, session
from redis.exceptions import RedisError

from app.cart.guest import is_valid_token
from app.errors import Forbidden, Invalid
from app.live import stream, topics
from app.live.capacity import streams_per_worker, worker_mode
from app.live.metrics import REFUSED, STREAMS
from app.models import User
from app.storefront.session import CART_KEY, current_shopper, shopper_cart

bp = Blueprint("live", __name__, template_folder="templates")
STREAM_HEADERS = {
    # Nothing between here and the browser may keep, transform (compress) or buffer it.
    # (A signed-in answer becomes "private, no-store" in app.caching: still never kept.)
    "Cache-Control": "no-store, no-transform",
    "X-Accel-Buffering": "no",
}


@bp.get("/live/events")
def events():
    config = current_app.config
    if not config["LIVE_ENABLED"]:
        return _refuse(503, "live updates are switched off", retry_after=300)
    user = current_shopper()
    keys = connection_topics(user)
    if not keys:
        return Response(status=204)  # nothing to hear: EventSource stops trying
    mode = worker_mode(request.environ)
    live = current_app.extensions["live"]
    if not live.workers.claim(streams_per_worker(mode, config)):
        if mode == "sync":
            return _refuse(503, "this server's workers cannot hold streams", retry_after=300,
                           reason="sync_worker")
        return _refuse(503, "this server holds as many live connections as it can",
                       retry_after=30, reason="worker_full")
    try:
        return _open(live, user, keys)
    except BaseException:
        live.workers.release()
        raise


def connection_topics(user: User | None) -> list[str]:
    """The topics of this connection, in a fixed order (the cursor's order)."""
    keys = []
    token = session.get(CART_KEY)
    if user is not None:
        keys.append(topics.user(user.id))
    elif token and is_valid_token(token):
        keys.append(topics.guest_cart(token))
    if request.args.get("admin") == "orders":
        if user is None or not user.is_admin:
            raise Forbidden("administrator role required")
        keys.append(topics.ADMIN_ORDERS)
    return keys + [topics.product(product_id) for product_id in _product_ids()]


def _product_ids() -> list[int]:
    values = request.args.getlist("product")
    if len(values) > topics.MAX_PRODUCTS:
        raise Invalid.field("product", f"at most {topics.MAX_PRODUCTS} products per stream")
    if not all(value.isdigit() and len(value) <= 12 for value in values):
        raise Invalid.field("product", "must be product ids")
    return sorted({int(value) for value in values})


def _open(live, user: User | None, keys: list[str]) -> Response:
    config = current_app.config
    principal, limit = ((f"u:{user.id}", config["LIVE_STREAMS_PER_USER"]) if user else
                        (f"a:{request.remote_addr}", config["LIVE_STREAMS_PER_ADDRESS"]))
    lifetime = config["LIVE_MAX_STREAM_SECONDS"]
    try:
        member = live.principals.claim(principal, limit, lifetime)
        cursor = _cursor(live.reader, len(keys)) if member else None
    except RedisError:
        live.workers.release()
        return _refuse(503, "live updates are unavailable right now", retry_after=10,
                       reason="redis_unavailable")
    if member is None or cursor is None:  # (a member always has a cursor)
        live.workers.release()
        return _refuse(429, "too many live connections are open; close a tab",
                       retry_after=int(lifetime), reason="too_many_streams")
    client_socket = _client_socket(config["LIVE_SEND_TIMEOUT_SECONDS"])

    STREAMS.inc()
    released: list[bool] = []

    def on_close() -> None:
        if released:  # both the body's end and the server's close() call it
            return
        released.append(True)
        STREAMS.dec()
        live.workers.release()
        with suppress(RedisError):  # the slot expires by itself anyway
            live.principals.release(principal, member)

    def client_gone() -> bool:
        return client_socket is not None and peer_closed(client_socket)

    body = stream.events(live.reader, keys, cursor, heartbeat=config["LIVE_HEARTBEAT_SECONDS"],
                         lifetime=lifetime, on_close=on_close, client_gone=client_gone)
    return Response(stream.Body(body, on_close), mimetype="text/event-stream",
                    headers=STREAM_HEADERS)


def _cursor(reader, topic_count: int) -> list[str]:
    """Where to start: the browser's Last-Event-ID (its own reconnect) or ``cursor``
    (live.js reconnecting after a refusal, which a new EventSource cannot put in a
    header); else from the moment the page was rendered (``since``), so nothing that
    happened between rendering and connecting is lost; else from now."""
    resumed = stream.parse_cursor(
        request.headers.get("Last-Event-ID") or request.args.get("cursor"), topic_count)
    if resumed is not None:
        return resumed
    seconds, micros = reader.time()
    now_ms = seconds * 1000 + micros // 1000
    since = request.args.get("since", "")
    retention_ms = current_app.config["LIVE_RETENTION_SECONDS"] * 1000
    if since.isdigit() and len(since) <= 15 and int(since) >= now_ms - retention_ms:
        # Never later than Redis's now: a page server whose clock runs ahead must not make
        # the stream skip what Redis appends meanwhile.
        return stream.cursor_from_time(min(int(since), now_ms), topic_count)
    return stream.cursor_from_time(now_ms, topic_count)


def _client_socket(send_timeout: float) -> socket.socket | None:
    """The connection's socket (gunicorn's, or Werkzeug's in development), with a send
    timeout: a client that stops reading fills its socket buffer, and a send would then
    block for ever, holding a thread. (gunicorn sets its own blocking mode again before
    the connection's next request.)"""
    sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    if sock is not None:
        sock.settimeout(send_timeout)
    return sock


def peer_closed(sock: socket.socket) -> bool:
    """Whether the client hung up: its socket reads as end-of-file. A browser sends
    nothing more on a connection while its event stream is open."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def _refuse(status: int, message: str, retry_after: int, reason: str | None = None
            ) -> Response:
    if reason is not None:
        REFUSED.labels(reason).inc()
    codes = {429: "too_many_streams", 503: "service_unavailable"}
    response = jsonify({"error": {"code": codes[status], "message": message, "details": {}}})
    response.status_code = status
    response.headers["Retry-After"] = str(retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/live/cart")
def cart_count():
    """The badge's number after an event that could not carry it (a checkout)."""
    try:
        count = sum(shopper_cart().quantities().values())
    except RedisError:
        return _refuse(503, "the cart is unavailable right now", retry_after=10)
    response = jsonify({"count": count})
    response.headers["Cache-Control"] = "no-store"
    return response
