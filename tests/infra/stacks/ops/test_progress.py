"""`ops snapshot --wait`: progress on stderr while RDS works, the result alone on stdout."""

from __future__ import annotations

import io
from typing import Any

import pytest

from stacks.ops.base import OpsError
from stacks.ops.progress import wait_for_snapshot


class SlowSnapshot:
    """An RDS client whose snapshot takes three polls, as a big instance's would."""

    def __init__(self, states: list[tuple[str, int]]) -> None:
        self.states, self.calls = states, 0

    def describe_db_snapshots(self, DBSnapshotIdentifier: str) -> dict[str, Any]:  # noqa: N803
        status, percent = self.states[min(self.calls, len(self.states) - 1)]
        self.calls += 1
        return {"DBSnapshots": [{"DBSnapshotIdentifier": DBSnapshotIdentifier,
                                 "Status": status, "PercentProgress": percent}]}


def test_each_poll_prints_status_and_percent_until_available():
    rds = SlowSnapshot([("creating", 0), ("creating", 40), ("available", 100)])
    out, slept, ticks = io.StringIO(), [], iter([0, 0, 15, 30])
    assert wait_for_snapshot(rds, "before-upgrade", out=out, sleep=slept.append,
                             clock=lambda: next(ticks)) == "available"
    assert out.getvalue().splitlines() == [
        "snapshot before-upgrade: creating, 0% (0s)",
        "snapshot before-upgrade: creating, 40% (15s)",
        "snapshot before-upgrade: available, 100% (30s)"]
    assert slept == [15, 15] and rds.calls == 3


def test_a_failed_snapshot_stops_the_wait():
    with pytest.raises(OpsError, match="snapshot s1 is failed"):
        wait_for_snapshot(SlowSnapshot([("failed", 10)]), "s1", out=io.StringIO(),
                          sleep=lambda _: None)

