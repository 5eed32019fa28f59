"""Real outages on demand, for the degradation tests: a TCP proxy in front of the machine's
PostgreSQL that can be cut and restored on the same port, a port that accepts connections
and never answers, and a throwaway redis-server that can be shut down and started again.
The shared servers other test runs use are never touched."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from contextlib import suppress
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``upstream``. ``stop()`` is a server going away: open
    connections are reset and new ones refused, until ``start()`` listens again."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            doomed, self._sockets = self._sockets, set()
        for sock in doomed:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets |= {client, server}
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        with suppress(OSError):
            while chunk := source.recv(65536):
                target.sendall(chunk)
        for sock in (source, target):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class Blackhole:
    """A port whose backlog accepts TCP connections that nobody ever answers: a server
    that hangs, or a network path that drops everything after the handshake."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]

    def close(self) -> None:
        self._listener.close()


class ThrowawayRedis:
    """A redis-server of its own on a free port, without persistence."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        subprocess.run(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "yes", "--dir", str(self.directory),
             "--pidfile", str(self.directory / "redis.pid")], check=True,
            stdout=subprocess.DEVNULL)
        client = self._client()
        for _ in range(100):
            with suppress(redis.ConnectionError):
                if client.ping():
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        client = self._client()
        with suppress(redis.ConnectionError):
            client.shutdown(nosave=True)
        for _ in range(100):
            try:
                client.ping()
            except redis.ConnectionError:
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not stop")

    def _client(self) -> redis.Redis:
        # No retries: the point is to see the server's state at once.
        return redis.Redis(port=self.port, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
