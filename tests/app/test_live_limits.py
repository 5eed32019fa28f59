"""Who may open a live stream, how many, on which server; and what a Redis outage does
to the channel (a throwaway redis-server: the shared one is never stopped)."""

from __future__ import annotations

import re
import time

import pytest
from prometheus_client import REGISTRY

from app.live.capacity import streams_per_worker
from app.live.stream import parse_cursor
from app.live.views import events
from app.orders.lifecycle import change_status
from tests.app.factories import make_product
from tests.app.live_support import (
    LIVE_TEST_CONFIG,
    EventStream,
    ThreadedServer,
    http_get,
    paid_order,
    session_cookie,
    signed_in_cookie,
    status_of,
    wait_for,
)
from tests.app.outages import ThrowawayRedis
from tests.app.pages_support import sign_in
from tests.conftest import truncate_all


@pytest.fixture
def app(live_app):
    return live_app


@pytest.fixture
def server(live_server):
    return live_server


def test_the_admin_stream_is_refused_to_shoppers_and_guests(app, server, make_user):
    shopper = EventStream(server.port, "admin=orders", cookie=signed_in_cookie(app, make_user()))
    guest = EventStream(server.port, "admin=orders")
    assert (shopper.status, guest.status) == (403, 403)
    assert app.extensions["live"].workers.open == 0  # refused before anything was held


def test_a_stream_with_nothing_to_hear_is_a_204_and_bad_parameters_a_422(app, server):
    assert EventStream(server.port).status == 204  # a guest without a cart, no product
    assert EventStream(server.port, "product=abc").status == 422
    many = "&".join(f"product={n}" for n in range(1, 26))
    assert EventStream(server.port, many).status == 422


def test_a_shopper_may_hold_only_so_many_streams(app, server, make_user):
    cookie = signed_in_cookie(app, make_user())
    held = [EventStream(server.port, cookie=cookie) for _ in range(3)]
    assert [stream.status for stream in held] == [200, 200, 200]

    refused = EventStream(server.port, cookie=cookie)
    assert refused.status == 429
    assert int(refused.headers["retry-after"]) > 0
    assert EventStream(server.port, cookie=signed_in_cookie(app, make_user())).status == 200

    held[0].close()  # the server notices at its next heartbeat and frees the slot
    wait_for(lambda: EventStream(server.port, cookie=cookie).status == 200)


def test_a_worker_never_gives_all_its_threads_to_streams(make_app):
    app = make_app(**{**LIVE_TEST_CONFIG, "LIVE_STREAMS_PER_WORKER": 2,
                      "LIVE_STREAMS_PER_USER": 10})
    truncate_all(app)
    with app.app_context(), ThreadedServer(app) as server:
        product = make_product()
        refusals = REGISTRY.get_sample_value("shop_live_streams_refused_total",
                                             {"reason": "worker_full"})
        held = [EventStream(server.port, f"product={product.id}") for _ in range(2)]
        refused = EventStream(server.port, f"product={product.id}")
        assert [s.status for s in held] + [refused.status] == [200, 200, 503]
        assert REGISTRY.get_sample_value("shop_live_streams_refused_total",
                                         {"reason": "worker_full"}) == refusals + 1
        assert REGISTRY.get_sample_value("shop_live_streams") >= 2
        assert refused.headers["retry-after"] == "30"
        assert refused.headers["content-type"] == "application/json"
        # Pages are still served meanwhile.
        assert status_of(http_get(server.port, "/healthz")) == 200


def test_the_worker_cap_is_below_the_thread_count_and_zero_for_sync_workers():
    config = {"LIVE_STREAMS_PER_WORKER": None, "LIVE_WORKER_THREADS": 8}
    assert streams_per_worker("threads", config) == 4
    assert streams_per_worker("gevent", config) == 500
    assert streams_per_worker("sync", config) == 0
    assert streams_per_worker("threads", {**config, "LIVE_STREAMS_PER_WORKER": 50}) == 7
    assert streams_per_worker("sync", {**config, "LIVE_STREAMS_PER_WORKER": 50}) == 0


def test_a_sync_worker_refuses_streams_and_its_pages_do_not_try(app, make_user):
    client = app.test_client()  # not multithreaded: what a sync worker reports
    sign_in(client, make_user().email)
    refused = client.get("/live/events")
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "300"
    assert "live.js" not in client.get("/").get_data(as_text=True)


def test_a_threaded_server_pages_load_the_script_with_its_nonce_free_tag(app, server):
    product = make_product()
    html = http_get(server.port, f"/products/{product.id}")
    tag = re.search(r'<script src="/static/js/live\.js[^>]*>', html).group(0)
    assert 'data-live-url="/live/events"' in tag and "data-live-since=" in tag
    assert f'data-live-product="{product.id}"' in html
    assert "unsafe-inline" not in html.split("\r\n\r\n")[0]


def test_cursors_that_are_not_ours_are_ignored():
    assert parse_cursor("1-0.2-3", 2) == ["1-0", "2-3"]
    assert parse_cursor("1-0.2-3", 3) is None
    assert parse_cursor("1-0.x", 2) is None
    assert parse_cursor("", 1) is None
    assert parse_cursor("9" * 2000, 1) is None


@pytest.fixture
def own_redis(tmp_path):
    server = ThrowawayRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_a_redis_restart_mid_stream_ends_the_stream_and_the_channel_recovers(
        make_app, own_redis, make_user):
    app = make_app(**LIVE_TEST_CONFIG, REDIS_URL=own_redis.url)
    truncate_all(app)
    with app.app_context(), ThreadedServer(app) as server:
        shopper = make_user()
        order = paid_order(shopper, make_product())
        client = app.test_client()
        sign_in(client, shopper.email)
        cookie = session_cookie(client)
        stream = EventStream(server.port, cookie=cookie)
        assert stream.status == 200

        own_redis.stop()
        with pytest.raises(EOFError):
            while True:
                last = stream.next_message(timeout=5)
        assert last.retry == 10_000  # the browser waits before it comes back
        assert app.extensions["live"].workers.open == 0
        refused = EventStream(server.port, cookie=cookie)
        assert (refused.status, refused.headers["retry-after"]) == (503, "10")
        change_status(order.id, "shipped")  # the page's action works; the event is lost
        assert client.get(f"/account/orders/{order.id}").status_code == 200

        own_redis.start()
        again = EventStream(server.port, cookie=cookie)
        assert again.status == 200
        change_status(order.id, "delivered")
        assert again.next_event().json["status"] == "delivered"


def test_a_closed_tab_frees_its_slot_before_the_next_heartbeat(make_app, monkeypatch):
    monkeypatch.setattr("app.live.stream.CLIENT_CHECK_SECONDS", 0.2)
    app = make_app(**{**LIVE_TEST_CONFIG, "LIVE_HEARTBEAT_SECONDS": 30})
    truncate_all(app)
    with app.app_context(), ThreadedServer(app) as server:
        product = make_product()
        stream = EventStream(server.port, f"product={product.id}")
        slots = app.extensions["live"].workers
        wait_for(lambda: slots.open == 1)
        started = time.monotonic()
        stream.close()
        wait_for(lambda: slots.open == 0, seconds=3)
        assert time.monotonic() - started < 3  # not the 30 s heartbeat's failed write


def test_a_response_closed_before_it_started_still_frees_its_slots(app, make_user):
    cookie_client = app.test_client()
    sign_in(cookie_client, make_user().email)
    threaded = {"wsgi.multithread": True}  # as gthread reports it
    with app.test_request_context("/live/events", environ_overrides=threaded,
                                  headers={"Cookie": f"session={session_cookie(cookie_client)}"}):
        response = events()
        live = app.extensions["live"]
        assert response.status_code == 200 and live.workers.open == 1
        response.close()  # what the server does when the client left before any byte
        assert live.workers.open == 0
        response.close()
        assert live.workers.open == 0  # released once, however often it is closed
