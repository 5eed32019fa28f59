"""gunicorn serving the storefront with a chosen worker class, for the live channel's
worker tests and its connection benchmark: the container's settings (app/gunicorn_conf.py)
with the worker class and thread count given on the command line, one worker."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import server
from bench.server import free_port


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
    options = ("--workers", "1", "--worker-class", worker_class, "--threads", str(threads),
               "--worker-connections", "2000")
    with server.gunicorn({**env, "GUNICORN_THREADS": str(threads)}, port, log,
                         app="app:create_app()", ready_path="/healthz",
                         extra_args=options) as served:
        yield Served(port=port, master_pid=served.pid, log=log)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")
