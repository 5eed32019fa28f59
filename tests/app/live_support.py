"""The live channel's tests need a real HTTP server (a stream is read while it is being
written) and a client that reads Server-Sent Events as a browser does."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

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


@dataclass
class Message:
    event: str | None = None
    data: str | None = None
    id: str | None = None
    retry: int | None = None
    comments: list[str] = field(default_factory=list)

    @property
    def json(self) -> dict:
        return json.loads(self.data)


class EventStream:
    """One ``GET /live/events`` over a raw socket: the status, headers and the messages as
    they arrive (each blank-line-terminated block, comments and ``retry`` included)."""

    def __init__(self, port: int, query: str = "", cookie: str | None = None,
                 last_event_id: str | None = None, timeout: float = 5):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        headers = ["GET /live/events" + (f"?{query}" if query else "") + " HTTP/1.1",
                   f"Host: 127.0.0.1:{port}", "Accept: text/event-stream",
                   "Connection: close"]
        if cookie:
            headers.append(f"Cookie: session={cookie}")
        if last_event_id:
            headers.append(f"Last-Event-ID: {last_event_id}")
        self.sock.sendall(("\r\n".join(headers) + "\r\n\r\n").encode())
        self._buffer = b""
        head = self._read_until(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.lower(): v.strip() for k, v in
                        (line.split(":", 1) for line in lines[1:] if ":" in line)}
        self.chunked = self.headers.get("transfer-encoding") == "chunked"
        self._body = b""
        self.ended = False

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self._buffer += chunk
        head, self._buffer = self._buffer.split(marker, 1)
        return head

    def _more_body(self) -> None:
        if self.chunked:
            size = int(self._read_until(b"\r\n"), 16)
            if size == 0:
                raise EOFError("stream ended")
            while len(self._buffer) < size + 2:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise EOFError("connection closed")
                self._buffer += chunk
            self._body += self._buffer[:size]
            self._buffer = self._buffer[size + 2:]
        else:
            if self._buffer:
                self._body, self._buffer = self._body + self._buffer, b""
                return
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("stream ended")
            self._body += chunk

    def next_message(self, timeout: float = 5) -> Message:
        """The next block; EOFError when the server ended the stream."""
        self.sock.settimeout(timeout)
        while b"\n\n" not in self._body:
            try:
                self._more_body()
            except EOFError:
                self.ended = True
                raise
        block, self._body = self._body.split(b"\n\n", 1)
        message = Message()
        for line in block.decode().split("\n"):
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "":
                message.comments.append(value)
            elif name == "retry":
                message.retry = int(value)
            elif name in ("event", "data", "id"):
                setattr(message, name, value)
        return message

    def next_event(self, timeout: float = 5) -> Message:
        """The next block that is an event (heartbeats and hints are skipped)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self.next_message(left)
            if message.event:
                return message
        raise TimeoutError("no event within the time")

    def events_within(self, seconds: float) -> list[Message]:
        """Every event that arrives within ``seconds`` (the stream staying open)."""
        found, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = self.next_message(left)
            except TimeoutError:
                break
            if message.event:
                found.append(message)
        return found

    def close(self) -> None:
        self.sock.close()


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
