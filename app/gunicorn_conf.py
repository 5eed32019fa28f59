"""gunicorn settings for `make run` and the container image.

Sized from the CPUs the container may really use, logging one JSON object per line, safe on
a read-only root filesystem (only /tmp and /dev/shm are written), and running the
Prometheus client in multiprocess mode so /metrics sums every worker.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

# Multiprocess mode is decided when prometheus_client is first imported, so the directory is
# named here, before any worker imports the app. `flask` commands (the migration Job) don't
# read this file and keep the ordinary single-process registry.
METRICS_DIR = Path(os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), "prometheus_multiproc")))

def available_cpus(cgroup_cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """The CPUs this process may use: the cgroup v2 quota (a Kubernetes CPU limit) when one
    is set, else the CPUs it may be scheduled on. `os.cpu_count()` would report the whole
    node and start a worker per node core inside a one-core pod."""
    try:
        quota, period = cgroup_cpu_max.read_text().split()
        if quota != "max":
            return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return len(os.sched_getaffinity(0))


def worker_count(env: Mapping[str, str], cpus: int) -> int:
    """WEB_CONCURRENCY when set; otherwise one process per CPU plus one, since each
    gthread worker already overlaps I/O waits with its threads."""
    if env.get("WEB_CONCURRENCY"):
        return max(1, int(env["WEB_CONCURRENCY"]))
    return cpus + 1


def _json_logging(level: str) -> dict:
    """One JSON formatter on stdout for gunicorn's own loggers and the root logger, which
    the application's loggers propagate to."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger",
                              "process": "pid"},
        }},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json",
                                 "stream": "ext://sys.stdout"}},
        "root": {"level": level, "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["console"], "propagate": False},
        },
    }


def on_starting(server) -> None:
    """A fresh metrics directory per master: files left by a previous container in the same
    pod (an emptyDir survives restarts) would otherwise be summed into today's counters."""
    METRICS_DIR.mkdir(parents=True, exist_ok=True)
    for stale in METRICS_DIR.glob("*.db"):
        stale.unlink()


def post_fork(server, worker) -> None:
    """Under ``--worker-class gevent`` (the benchmark compares it; psycogreen is not a
    dependency of the image), psycopg2 must yield to other greenlets while it waits on
    PostgreSQL, or one query blocks the whole worker."""
    if server.cfg.worker_class_str == "gevent":
        from psycogreen.gevent import patch_psycopg

        patch_psycopg()


def child_exit(server, worker) -> None:
    """A dead worker's live gauges (in-flight requests, pool connections) must stop counting."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = worker_count(os.environ, available_cpus())
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Each worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new
# connections over them. On one shared socket, whichever worker's main thread wakes first
# accepts a whole burst, and keep-alive holds the connections there: in one wrk run of ten
# (2 workers, 32 connections) all 32 went to one worker, at 767 req/s against 2,050.
reuse_port = True
# The heartbeat file lives in memory: a disk-backed tmp can stall a worker into a timeout,
# and the root filesystem is read-only. (gunicorn creates it with mkstemp and unlinks it.)
SHARED_MEMORY = "/dev/shm"  # noqa: S108
worker_tmp_dir = SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) else None
timeout = 30
# Below Kubernetes' default 30 s grace period, so in-flight requests finish before SIGKILL.
graceful_timeout = 25
# Longer than the ALB's 60 s idle timeout: the balancer must close idle connections first,
# or it sends a request on a socket gunicorn is closing and answers 502.
keepalive = 75
# gunicorn answers requests over its own limits with an HTML page the API's clients cannot
# read. So its limits sit above the app's (app/request_limits.py: 8190 bytes for the URL
# and for each header), and the app refuses in its own JSON shape. gunicorn caps a positive
# request-line limit at 8190, so the line is left to the app (0); in the cloud the load
# balancer refuses lines and headers over 16 KiB before they get here. Headers keep a
# bound: 100 fields of at most 32 KiB.
limit_request_line = 0
limit_request_field_size = 32768
limit_request_fields = 100
# The runtime control socket would be created under $HOME, which the image doesn't have.
control_socket_disable = True
# One line per request, written by the application (app/observability.py): it knows the
# route template and the user as well as the client, and never logs the path. gunicorn's
# own access line would only repeat it.
accesslog = None
errorlog = "-"
logconfig_dict = _json_logging(os.environ.get("LOG_LEVEL", "INFO").upper())
