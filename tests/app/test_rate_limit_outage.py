"""The rate limits' fail-open path under a real outage: a Redis that accepts connections
and never answers, met by several requests at once (as gunicorn's threads meet it). Before,
every request already in flight when the limiter switched to memory logged a traceback at
ERROR ("Failed to rate limit. Swallowing error"); now the outage is one warning and the
requests that passed uncounted are a metric."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from app.ratelimit import limiter
from tests.app.outages import Blackhole, ThrowawayRedis
from tests.app.test_metrics import Delta

pytestmark = pytest.mark.timeout(120)

LIMITER_LOGGERS = ("flask-limiter", "app.ratelimit_failopen")


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

    with Delta("shop_rate_limit_fail_open_total", mode="unlimited") as unlimited, \
            Delta("shop_rate_limit_fail_open_total", mode="memory") as in_memory:
        # Each waits out Redis' 1 s socket timeout. The first to give up switches the
        # limiter to memory; the others, started a quarter second apart and so still
        # waiting on Redis then, fail after the switch: the path that logged tracebacks.
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
    assert unlimited.change >= 1  # 3 unless the machine stalls a thread for 0.25 s
    assert unlimited.change + in_memory.change == 9  # every request counted once


def test_a_second_outage_is_warned_about_again_after_redis_came_back(
        app, make_app, tmp_path, customer, auth_headers, caplog):
    caplog.set_level(logging.INFO)
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
            limiter._storage_dead = False  # as the limiter's next back-off check would find
    finally:
        redis_server.stop()
    assert _limiter_records(caplog, logging.ERROR) == []
    assert len(_limiter_records(caplog, logging.WARNING)) == 2
