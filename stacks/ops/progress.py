"""Waiting for RDS with progress on stderr: a snapshot of a large database takes minutes, and a
silent terminal looks hung. stdout keeps only the result line, for scripts."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from stacks.ops.base import OpsError

POLL_SECONDS = 15
# RDS snapshots of big instances take hours; this only stops a stuck one from hanging CI.
TIMEOUT_SECONDS = 4 * 3600


def wait_for_snapshot(rds: Any, name: str, *, out: TextIO | None = None,
                      sleep: Callable[[float], None] = time.sleep,
                      clock: Callable[[], float] = time.monotonic,
                      poll_seconds: float = POLL_SECONDS,
                      timeout_seconds: float = TIMEOUT_SECONDS) -> str:
    """Polls the snapshot until it is available, one progress line per poll."""
    out = sys.stderr if out is None else out
    started = clock()
    while True:
        found = rds.describe_db_snapshots(DBSnapshotIdentifier=name)["DBSnapshots"][0]
        status: str = found.get("Status", "?")
        percent = found.get("PercentProgress", 0)
        elapsed = clock() - started
        print(f"snapshot {name}: {status}, {percent}% ({elapsed:.0f}s)", file=out, flush=True)
        if status == "available":
            return status
        if status in ("failed", "deleted", "deleting") or elapsed > timeout_seconds:
            raise OpsError(f"snapshot {name} is {status} after {elapsed:.0f}s")
        sleep(poll_seconds)
