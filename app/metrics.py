"""The storefront's Prometheus metrics: the names and labels the alert rules and dashboards
query (components/monitoring_assets), and one small function per thing worth counting.

Under gunicorn, ``PROMETHEUS_MULTIPROC_DIR`` is set before any worker imports this module,
so every worker writes its values to files there and ``/metrics`` sums them; gauges say how
(``livesum``: the sum over live workers). Without it, the default in-process registry.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from decimal import Decimal

from flask import Blueprint, Response, abort, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy.pool import Pool, QueuePool

# 5 ms .. 10 s: the default buckets, spelt out because dashboards depend on them.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
                   7.5, 10.0)
CHECKOUT_FAILURE_REASONS = ("payment_declined", "out_of_stock", "validation", "error")
DB_ERROR_KINDS = ("connection", "timeout", "other")
# Any other method a client invents is counted under one label, not one per spelling.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter("shop_http_requests_total", "HTTP requests answered.",
                   ("route", "method", "status"))
REQUEST_DURATION = Histogram("shop_http_request_duration_seconds",
                             "Time from receiving a request to having its response.",
                             ("route", "method", "status"), buckets=LATENCY_BUCKETS)
IN_FLIGHT = Gauge("shop_http_requests_in_flight", "Requests being served now.",
                  multiprocess_mode="livesum")
EXCEPTIONS = Counter("shop_http_exceptions_total", "Exceptions no handler expected (500s).",
                     ("route", "exception"))
ORDERS_CREATED = Counter("shop_orders_created_total", "Orders placed (paid).")
REVENUE = Counter("shop_revenue_total", "Sum of placed orders' totals, in currency units.")
CHECKOUT_FAILURES = Counter("shop_checkout_failures_total", "Checkouts that placed no order.",
                            ("reason",))
CART_ADDITIONS = Counter("shop_cart_additions_total", "Products added to a cart.")
DB_POOL = Gauge("shop_db_pool_connections", "Database connections in the pools, by state.",
                ("state",), multiprocess_mode="livesum")
DB_ERRORS = Counter("shop_db_errors_total", "Database errors, by kind.", ("kind",))
CACHE_HITS = Counter("shop_cache_hits_total", "Cache look-ups answered by the cache.",
                     ("cache",))
CACHE_MISSES = Counter("shop_cache_misses_total", "Cache look-ups that went to the source.",
                       ("cache",))
RATE_LIMITED = Counter("shop_rate_limited_total", "Requests refused by a rate limit.",
                       ("limit",))
RATE_LIMIT_FAIL_OPEN = Counter(
    "shop_rate_limit_fail_open_total",
    "Requests the rate limits could not count in Redis: counted in this process's memory "
    "(mode=memory) instead.", ("mode",))

# Series that exist from the first scrape, so rate() and absent() see zeros, not gaps.
for _reason in CHECKOUT_FAILURE_REASONS:
    CHECKOUT_FAILURES.labels(_reason)
for _kind in DB_ERROR_KINDS:
    DB_ERRORS.labels(_kind)
RATE_LIMIT_FAIL_OPEN.labels("memory")


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else "other"


def observe_request(route: str, method: str, status: str, seconds: float) -> None:
    labels = (route, method_label(method), status)
    children = _request_children.get(labels)
    if children is None:
        children = _request_children[labels] = (REQUESTS.labels(*labels),
                                                REQUEST_DURATION.labels(*labels))
    children[0].inc()
    children[1].observe(seconds)


# The labelled children of the request metrics, found once per (route, method, status):
# ``labels()`` takes a lock and builds its key on every call, and this runs per request.
# Bounded: routes are URL rule templates, methods and statuses short lists.
_request_children: dict[tuple[str, str, str], tuple] = {}


def record_exception(route: str, exception: BaseException) -> None:
    EXCEPTIONS.labels(route, type(exception).__name__).inc()


def record_order(total: Decimal) -> None:
    ORDERS_CREATED.inc()
    REVENUE.inc(float(total))


def record_checkout_failure(reason: str) -> None:
    if reason not in CHECKOUT_FAILURE_REASONS:
        raise ValueError(f"unknown checkout failure reason {reason!r}")
    CHECKOUT_FAILURES.labels(reason).inc()


def record_cart_addition() -> None:
    CART_ADDITIONS.inc()


def record_db_error(kind: str) -> None:
    if kind not in DB_ERROR_KINDS:
        raise ValueError(f"unknown database error kind {kind!r}")
    DB_ERRORS.labels(kind).inc()


def record_cache(cache: str, hit: bool) -> None:
    """One look-up in the cache named ``cache`` (e.g. "product", "catalog")."""
    (CACHE_HITS if hit else CACHE_MISSES).labels(cache).inc()


def record_rate_limited(limit: str) -> None:
    """A request refused by the limit named ``limit`` (e.g. "login_ip", "api")."""
    RATE_LIMITED.labels(limit).inc()


def record_rate_limit_counted_in_memory() -> None:
    """A request the rate limits counted in this process's memory, Redis not answering
    (the ``mode`` label keeps the series the dashboards and alert already query)."""
    RATE_LIMIT_FAIL_OPEN.labels("memory").inc()


def observe_pools(pools: Iterable[Pool]) -> None:
    """Sample the connection pools (QueuePool's counters; pools without them, such as
    SQLite's in-memory one, are skipped). Overflow counts connections open beyond
    ``pool_size``, which the pool reports as a negative number while there are none."""
    checked_out = idle = overflow = 0
    for pool in pools:
        if not isinstance(pool, QueuePool):
            continue
        checked_out += pool.checkedout()
        idle += pool.checkedin()
        overflow += max(0, pool.overflow())
    DB_POOL.labels("checked_out").set(checked_out)
    DB_POOL.labels("idle").set(idle)
    DB_POOL.labels("overflow").set(overflow)


# --- exposition ------------------------------------------------------------------------

metrics_bp = Blueprint("metrics", __name__)


def _registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


@metrics_bp.get("/metrics")
def expose():
    """For Prometheus, which scrapes pods directly. A request that came through the load
    balancer carries X-Forwarded-For: the public never sees revenue or error counts."""
    if request.headers.get("X-Forwarded-For"):
        abort(404)
    return Response(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
