"""The rate limits' fail-open path under a real outage: a Redis that accepts connections
and never answers, met by several requests at once (as gunicorn's threads meet it). Every
request passes and is counted in memory (a metric), the outage is one warning, not one per
request in flight, and after Redis returns a later outage is warned about again."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from app import ratelimit_store
from tests.app.outages import Blackhole, ThrowawayRedis
from tests.app.test_metrics import Delta

pytestmark = pytest.mark.timeout(120)

LIMITER_LOGGERS = ("app.ratelimit_store",)


def _limiter_records(caplog, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name in LIMITER_LOGGERS and r.levelno >= level]


@pytest.fixture
def silent_redis():
    hole = Blackhole()
    yield f"redis://127.0.0.1:{hole.port}/0"
    hole.close()


def test_requests_in_flight_when_redis_stops_answering_log_one_warning(
        app, make_app, silent_redis, customer, auth_headers, caplog):
    caplog.set_level(logging.INFO)
    shop = make_app(REDIS_URL=silent_redis, RATELIMIT_ENABLED=True)
    signed_in = auth_headers(customer)  # a signed-in cart needs no Redis but the limiter's
    statuses: list[int] = []

    def get_cart():
        statuses.append(shop.test_client().get("/api/v1/cart", headers=signed_in).status_code)

    with Delta("shop_rate_limit_fail_open_total", mode="memory") as in_memory:
        # Each waits out Redis' 1 s socket timeout. The first to give up switches the
        # limits to memory; the others, started a quarter second apart and so still
        # waiting on Redis then, fail after the switch: they must not warn again.
        threads = [threading.Thread(target=get_cart) for _ in range(4)]
        for thread in threads:
            thread.start()
            time.sleep(0.25)
        for thread in threads:
            thread.join()
        for _ in range(5):
            get_cart()

    assert statuses == [200] * 9
    assert _limiter_records(caplog, logging.ERROR) == []
    assert len(_limiter_records(caplog, logging.WARNING)) == 1
    assert in_memory.change == 9  # every request counted, once


def test_a_second_outage_is_warned_about_again_after_redis_came_back(
        app, make_app, tmp_path, customer, auth_headers, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(ratelimit_store, "FIRST_RETRY_SECONDS", 0)  # probe Redis at once
    redis_server = ThrowawayRedis(tmp_path)
    redis_server.start()
    try:
        shop = make_app(REDIS_URL=redis_server.url, RATELIMIT_ENABLED=True).test_client()
        signed_in = auth_headers(customer)
        for _outage in range(2):
            assert shop.get("/api/v1/cart", headers=signed_in).status_code == 200
            redis_server.stop()
            for _ in range(3):
                assert shop.get("/api/v1/cart", headers=signed_in).status_code == 200
            redis_server.start()
    finally:
        redis_server.stop()
    assert _limiter_records(caplog, logging.ERROR) == []
    assert len(_limiter_records(caplog, logging.WARNING)) == 2
    assert sum("answers again" in r.getMessage() for r in _limiter_records(
        caplog, logging.INFO)) == 1  # the first outage's end; the second ends unseen
