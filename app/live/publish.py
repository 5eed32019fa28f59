"""Putting events on the live channel, only once the change they describe is committed.

State changes made in a database transaction ``queue`` their events on the session; they
are sent after its commit (one Redis round trip for all of them) and dropped on rollback,
so no browser ever hears of an order or a stock level that was rolled back. Changes that
are already durable when known (a guest cart lives in Redis, a signed-in cart's write
commits inside the store) ``publish`` at once.

Each event is appended to its topic's Redis stream (``XADD``, capped at LIVE_BACKLOG
entries, expiring LIVE_RETENTION_SECONDS after the last one): the stream is the fan-out
to every worker and pod and the replay buffer for a reconnecting ``Last-Event-ID``. The
live channel is a convenience: with Redis down the change stands, the event is logged as
lost and the page shows the truth on its next load.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db, get_redis
from app.live.metrics import EVENTS, LOST

log = logging.getLogger(__name__)
_PENDING = "live_events"  # key in Session.info


@dataclass(frozen=True)
class Event:
    topic: str  # a key from app.live.topics
    type: str  # the SSE event name the page listens for
    data: dict[str, Any]


def queue(*events: Event) -> None:
    """Send ``events`` when the current transaction commits; forget them on rollback."""
    db.session().info.setdefault(_PENDING, []).extend(events)


def publish(*events: Event) -> None:
    """Send ``events`` now: for changes that are already durable."""
    if events and has_app_context() and current_app.config["LIVE_ENABLED"]:
        _send(events)


def _send(events: Sequence[Event]) -> None:
    config = current_app.config
    try:
        pipe = get_redis().pipeline(transaction=False)
        for item in events:
            pipe.xadd(item.topic, {"t": item.type, "d": json.dumps(item.data)},
                      maxlen=config["LIVE_BACKLOG"], approximate=True)
            pipe.expire(item.topic, config["LIVE_RETENTION_SECONDS"])
        pipe.execute()
        EVENTS.inc(len(events))
    except RedisError as exc:
        LOST.inc(len(events))
        log.warning("live events not sent (%s): pages show the change on their next load",
                    type(exc).__name__)


@event.listens_for(Session, "after_commit")
def _send_committed(session: Session) -> None:
    events = session.info.pop(_PENDING, None)
    if events:
        publish(*events)


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
