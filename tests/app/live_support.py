"""The live channel's tests need a real HTTP server (a stream is read while it is being
written) and a client that reads Server-Sent Events as a browser does."""

from __future__ import annotations

import socket
import threading
import time

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from app.extensions import db
from app.models import Order, Product, User
from bench.sse_client import EventStream, Message  # noqa: F401  (the tests' client)
from tests.app.factories import ADDRESS
from tests.app.pages_support import sign_in

# Short enough for a test to see heartbeats and ends of life; limits a test can reach.
LIVE_TEST_CONFIG = {
    "LIVE_HEARTBEAT_SECONDS": 0.5,
    "LIVE_MAX_STREAM_SECONDS": 30,
    "LIVE_WORKER_THREADS": 16,
    "LIVE_STREAMS_PER_WORKER": 8,
    "LIVE_STREAMS_PER_USER": 3,
}


class ThreadedServer:
    """``app`` behind Werkzeug's threaded server on a free loopback port (a thread per
    request, as gunicorn's gthread worker serves it)."""

    def __init__(self, app: Flask):
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ThreadedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "the client has no session cookie"
    return cookie.value


def wait_for(condition, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def http_get(port: int, path: str) -> str:
    """A plain HTTP/1.0 GET: the whole answer, head and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer.decode()


def status_of(answer: str) -> int:
    return int(answer.split(" ", 2)[1])


# --- helpers of the live tests (their fixtures, live_app and live_server, are in conftest) -

def signed_in_cookie(app: Flask, user: User) -> str:
    """The session cookie of ``user`` signed in through the sign-in page."""
    client = app.test_client()
    sign_in(client, user.email)
    return session_cookie(client)


def paid_order(user: User, product: Product) -> Order:
    order = Order(user_id=user.id, total_amount=product.price, status="paid",
                  shipping_address=ADDRESS, payment_method="card ending 4242",
                  payment_status="approved", payment_reference="test-ref")
    db.session.add(order)
    db.session.commit()
    return order
