"""A client that reads Server-Sent Events as a browser does, over a raw socket: for the
live channel's tests and its benchmark (a stream is read while it is being written)."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field


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
