"""gunicorn serving an app exactly as the container image runs the storefront
(app/gunicorn_conf.py), on a free loopback port, and the CPU its workers spend: the one
launcher of the benchmark, the live channel's worker tests and the browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STOREFRONT = "bench.app:create_bench_app()"
BARE_FLASK = "bench.bare:create_bare_app()"
_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Server:
    base: str
    pid: int

    def worker_cpu_seconds(self) -> float:
        """User and system CPU the workers have used so far (the master only forks)."""
        return sum(_cpu_seconds(pid) for pid in _children(self.pid))


@contextmanager
def gunicorn(env: Mapping[str, str], port: int, log: Path, app: str = STOREFRONT,
             ready_path: str = "/readyz", extra_args: tuple[str, ...] = ()) -> Iterator[Server]:
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603 (our own command line)
            [sys.executable, "-m", "gunicorn", "--config", "app/gunicorn_conf.py",
             "--bind", f"127.0.0.1:{port}", *extra_args, app],
            cwd=ROOT, env=dict(env), stdout=output, stderr=subprocess.STDOUT)
        try:
            _wait_until_serving(f"{base}{ready_path}", server, log)
            yield Server(base, server.pid)
        finally:
            _stop(server)


def _stop(server: subprocess.Popen) -> None:
    """A graceful stop (in-flight requests finish), then a kill past graceful_timeout."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command name: state is field 3, utime 14 and stime 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _wait_until_serving(url: str, server: subprocess.Popen, log: Path) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited; its log:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 (loopback)
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer {url}")


def get(url: str) -> tuple[int, str]:
    """Status and content type of one GET (errors included)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status, response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", "")
