"""The live channel's Prometheus series (summed over workers like the rest of
``app.metrics``): streams open now, streams refused by reason, events sent and lost."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

REFUSAL_REASONS = ("sync_worker", "worker_full", "too_many_streams", "redis_unavailable")

STREAMS = Gauge("shop_live_streams", "Live update streams open now.",
                multiprocess_mode="livesum")
REFUSED = Counter("shop_live_streams_refused_total", "Live update streams refused, by reason.",
                  ("reason",))
EVENTS = Counter("shop_live_events_total", "Live update events appended to Redis.")
LOST = Counter("shop_live_events_lost_total",
               "Live update events not sent because Redis failed (pages show them on reload).")
for _reason in REFUSAL_REASONS:  # zeros from the first scrape, not gaps
    REFUSED.labels(_reason)
