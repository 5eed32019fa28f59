"""gunicorn serving the storefront with a chosen worker class, for the live channel's
worker tests and its connection benchmark: the container's settings (app/gunicorn_conf.py)
with the worker class and thread count given on the command line, one worker."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.server import free_port

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 30


@dataclass(frozen=True)
class Served:
    port: int
    master_pid: int
    log: Path

    def worker_pid(self) -> int:
        """The one worker's pid (the master's only child)."""
        children = Path(f"/proc/{self.master_pid}/task/{self.master_pid}/children")
        pids = children.read_text().split()
        if len(pids) != 1:
            raise RuntimeError(f"expected one worker, found {pids}")
        return int(pids[0])


def environment(database_url: str, redis_url: str, workdir: Path,
                extra: Mapping[str, str] | None = None) -> dict[str, str]:
    metrics = workdir / "metrics"
    metrics.mkdir(exist_ok=True)
    return {
        **os.environ,
        "APP_ENV": "test",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "JWT_SECRET_KEY": secrets.token_urlsafe(32),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "MAIL_BACKEND": "console",
        "RATELIMIT_ENABLED": "false",
        "WEB_CONCURRENCY": "1",
        "LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        **(extra or {}),
    }


@contextmanager
def gunicorn(worker_class: str, env: Mapping[str, str], workdir: Path,
             threads: int = 4) -> Iterator[Served]:
    port = free_port()
    log = workdir / f"gunicorn-{worker_class}.log"
    command = [sys.executable, "-m", "gunicorn", "--config", "app/gunicorn_conf.py",
               "--bind", f"127.0.0.1:{port}", "--workers", "1",
               "--worker-class", worker_class, "--threads", str(threads),
               "--worker-connections", "2000", "app:create_app()"]
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            command, cwd=ROOT, env={**env, "GUNICORN_THREADS": str(threads)},
            stdout=output, stderr=subprocess.STDOUT)
        try:
            _wait_until_healthy(port, process, log)
            yield Served(port=port, master_pid=process.pid, log=log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_healthy(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):  # noqa: S310
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer:\n{log.read_text()[-3000:]}")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")
