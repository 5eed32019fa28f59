"""The database's own ceiling on this machine: pgbench's built-in ``tpcb-like`` (five
statements, three updates, one transaction) and ``select-only`` scripts against the
benchmark's database, at the benchmark's concurrency, in the same run."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from sqlalchemy.engine import make_url


@dataclass(frozen=True)
class PgbenchResult:
    script: str
    tps: float
    latency_ms: float


def find() -> str | None:
    """pgbench on PATH, else where Debian's PostgreSQL packages keep it (not on PATH)."""
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"),
                        key=lambda path: int(re.search(r"/(\d+)/bin/", path).group(1)))
    return candidates[-1] if candidates else None


def connection_args(url: str) -> tuple[list[str], dict[str, str]]:
    """pgbench's connection options and password (in the environment, never argv)."""
    parts = make_url(url)
    args = ["-h", parts.host or "127.0.0.1", "-p", str(parts.port or 5432),
            "-U", parts.username or "postgres", parts.database]
    env = {**os.environ, "PGPASSWORD": parts.password} if parts.password else dict(os.environ)
    return args, env


def initialise(pgbench: str, url: str, scale: int) -> None:
    """pgbench's own tables (``pgbench_*``) in the benchmark database, next to the shop's."""
    args, env = connection_args(url)
    subprocess.run([pgbench, "-i", "-q", "-s", str(scale), *args], env=env,  # noqa: S603
                   check=True, capture_output=True, text=True)


def run(pgbench: str, url: str, script: str, connections: int, threads: int,
        seconds: int) -> PgbenchResult:
    args, env = connection_args(url)
    completed = subprocess.run(  # noqa: S603 (our own command line)
        [pgbench, "-b", script, "-c", str(connections), "-j", str(threads),
         "-T", str(seconds), "-n", *args],
        env=env, check=True, capture_output=True, text=True)
    return parse(script, completed.stdout)


def parse(script: str, output: str) -> PgbenchResult:
    tps = re.search(r"^tps = ([\d.]+)", output, re.MULTILINE)
    latency = re.search(r"^latency average = ([\d.]+) ms", output, re.MULTILINE)
    if tps is None or latency is None:
        raise ValueError(f"not a pgbench report:\n{output}")
    return PgbenchResult(script, float(tps.group(1)), float(latency.group(1)))
