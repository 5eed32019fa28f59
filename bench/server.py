"""gunicorn serving the benchmark app, exactly as the container image runs the storefront
(app/gunicorn_conf.py), on a free loopback port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(env: Mapping[str, str], port: int, log: Path) -> Iterator[str]:
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603 (our own command line)
            [sys.executable, "-m", "gunicorn", "--config", "app/gunicorn_conf.py",
             "--bind", f"127.0.0.1:{port}", "bench.app:create_bench_app()"],
            cwd=ROOT, env=dict(env), stdout=output, stderr=subprocess.STDOUT)
        try:
            _wait_until_serving(f"{base}/readyz", server, log)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=60)


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
