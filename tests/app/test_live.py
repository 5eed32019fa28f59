"""The live channel against the real PostgreSQL and Redis, served by a threaded server:
events reach the shopper they belong to and nobody else, after the commit only, and a
reconnecting browser resumes where it stopped."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from flask import g

from app.catalog.service import adjust_stock
from app.errors import Conflict
from app.extensions import db
from app.live import events as live_events
from app.live import topics
from app.models import Order
from app.orders.lifecycle import change_status
from tests.app.conftest import PASSWORD
from tests.app.factories import checkout_body, make_product, put_in_cart
from tests.app.live_support import (
    LIVE_TEST_CONFIG,
    EventStream,
    ThreadedServer,
    paid_order,
    session_cookie,
    signed_in_cookie,
)
from tests.app.pages_support import add_to_cart
from tests.conftest import truncate_all

QUIET = 1.5  # three heartbeats: long enough for a stray event to have arrived


@pytest.fixture
def app(live_app):
    return live_app


@pytest.fixture
def server(live_server):
    return live_server


def test_a_shipped_order_reaches_its_shopper_and_no_other(app, server, make_user):
    alice, bob = make_user(), make_user()
    product = make_product()
    order = paid_order(alice, product)
    to_alice = EventStream(server.port, cookie=signed_in_cookie(app, alice))
    to_bob = EventStream(server.port, cookie=signed_in_cookie(app, bob))
    assert to_alice.status == to_bob.status == 200
    assert to_alice.headers["content-type"].startswith("text/event-stream")
    assert "no-store" in to_alice.headers["cache-control"]
    assert to_alice.headers["x-accel-buffering"] == "no"

    change_status(order.id, "shipped")

    event = to_alice.next_event()
    assert (event.event, event.json) == ("order", {"order_id": order.id, "status": "shipped",
                                                   "label": "Shipped"})
    assert to_bob.events_within(QUIET) == []


def test_the_admin_desk_hears_new_orders_and_a_product_page_its_stock(
        app, server, make_user, client, auth_headers, admin):
    shopper = make_user()
    product = make_product(stock=6)
    put_in_cart(shopper.id, product, 2)
    desk = EventStream(server.port, "admin=orders", cookie=signed_in_cookie(app, admin))
    page = EventStream(server.port, f"product={product.id}")  # a guest: stock is public
    own = EventStream(server.port, cookie=signed_in_cookie(app, shopper))

    placed = client.post("/api/v1/orders/checkout", json=checkout_body(),
                         headers={**auth_headers(shopper), "Idempotency-Key": "live-1"})
    assert placed.status_code == 201
    order_id = placed.json["id"]

    row = desk.next_event()
    assert row.event == "order-placed"
    assert row.json["order_id"] == order_id
    assert (row.json["email"], row.json["total"], row.json["status"]) == (
        shopper.email, "$39.98", "paid")
    stock = page.next_event()
    assert (stock.event, stock.json) == ("stock", {"product_id": product.id, "stock": 4,
                                                   "level": "low", "label": "Only 4 left"})
    cart = own.next_event()
    assert (cart.event, cart.json) == ("cart", {"count": None})  # the page asks /live/cart


def test_stock_adjusted_by_an_admin_reaches_the_product_page_only(app, server):
    watched, other = make_product(stock=3), make_product(stock=3)
    page = EventStream(server.port, f"product={watched.id}")

    adjust_stock(other.id, delta=-1)
    adjust_stock(watched.id, set_to=0)

    event = page.next_event()
    assert event.json == {"product_id": watched.id, "stock": 0, "level": "out",
                          "label": "Out of stock"}
    assert page.events_within(QUIET) == []


def test_nothing_is_sent_for_a_change_that_rolled_back(app, server):
    product = make_product(stock=1)
    page = EventStream(server.port, f"product={product.id}")

    with pytest.raises(Conflict):
        adjust_stock(product.id, delta=-5)  # refused: the transaction rolls back
    live_events.stock_changed([(product.id, 99)])
    db.session.rollback()

    assert page.events_within(QUIET) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_a_guest_cart_change_reaches_the_guests_other_tabs(app, server):
    product = make_product()
    browser = app.test_client()
    add_to_cart(browser, product.id, 1)  # the session now holds the cart's token
    other_tab = EventStream(server.port, cookie=session_cookie(browser))
    stranger = app.test_client()
    # The test's app context outlives requests, and Flask-WTF keeps the CSRF token in g.
    g.pop(app.config["WTF_CSRF_FIELD_NAME"], None)
    add_to_cart(stranger, product.id, 1)
    strangers_tab = EventStream(server.port, cookie=session_cookie(stranger))

    g.pop(app.config["WTF_CSRF_FIELD_NAME"], None)
    add_to_cart(browser, product.id, 2)

    assert other_tab.next_event().json == {"count": 3}
    assert strangers_tab.events_within(QUIET) == []
    assert not any("cart" in key and browser.get_cookie("session").value in key
                   for key in app.extensions["redis"].keys("live:*"))


def test_a_reconnect_with_last_event_id_gets_what_it_missed_and_nothing_twice(
        app, server, make_user):
    shopper = make_user()
    first, second = (paid_order(shopper, make_product()) for _ in range(2))
    cookie = signed_in_cookie(app, shopper)
    stream = EventStream(server.port, cookie=cookie)
    change_status(first.id, "shipped")
    seen = stream.next_event()
    stream.close()

    change_status(first.id, "delivered")  # while the browser is away
    change_status(second.id, "cancelled")

    again = EventStream(server.port, cookie=cookie, last_event_id=seen.id)
    replayed = [again.next_event().json for _ in range(2)]
    assert [(e["order_id"], e["status"]) for e in replayed] == [
        (first.id, "delivered"), (second.id, "cancelled")]
    assert again.events_within(QUIET) == []


def test_an_event_between_rendering_and_connecting_is_not_lost(app, server, make_user):
    shopper = make_user()
    order = paid_order(shopper, make_product())
    rendered_at = int(time.time() * 1000)
    change_status(order.id, "shipped")  # before the page's script connects

    stream = EventStream(server.port, f"since={rendered_at}",
                         cookie=signed_in_cookie(app, shopper))
    assert stream.next_event().json["status"] == "shipped"


def test_quiet_streams_send_heartbeats_and_end_after_their_lifetime(make_app):
    app = make_app(**{**LIVE_TEST_CONFIG, "LIVE_MAX_STREAM_SECONDS": 1.5})
    truncate_all(app)
    with app.app_context(), ThreadedServer(app) as server:
        product = make_product()
        stream = EventStream(server.port, f"product={product.id}")
        first = stream.next_message()
        assert first.retry == 3000 and first.comments == ["connected"]
        assert stream.next_message(timeout=1).comments == ["heartbeat"]
        started = time.monotonic()
        messages = []
        with pytest.raises(EOFError):
            while True:
                messages.append(stream.next_message(timeout=3))
        assert time.monotonic() - started < 2
        assert messages[-1].retry == 3000  # the browser comes back on its own
        wait = app.extensions["live"].workers
        assert wait.open == 0


def test_every_topic_key_is_one_of_the_live_ones(app, make_user):
    user = make_user()
    assert topics.user(user.id) == f"live:u:{user.id}"
    with app.test_request_context():
        assert topics.guest_cart("x" * 43).startswith("live:g:")
        assert "x" * 8 not in topics.guest_cart("x" * 43)


def test_a_page_server_clock_ahead_of_redis_does_not_make_the_stream_skip_events(
        app, server, make_user):
    shopper = make_user()
    order = paid_order(shopper, make_product())
    ahead = int(time.time() * 1000) + 60_000
    stream = EventStream(server.port, f"since={ahead}", cookie=signed_in_cookie(app, shopper))
    change_status(order.id, "shipped")
    assert stream.next_event().json["status"] == "shipped"


def test_a_guest_cart_merged_at_sign_in_reaches_the_accounts_open_tabs(app, server,
                                                                      make_user):
    shopper, product = make_user(), make_product(stock=5)
    tab = EventStream(server.port, cookie=signed_in_cookie(app, shopper))
    assert tab.status == 200
    guest = app.test_client()
    token = guest.get("/api/v1/cart").headers["X-Cart-Token"]
    assert guest.post("/api/v1/cart/items", json={"product_id": product.id, "quantity": 2},
                      headers={"X-Cart-Token": token}).status_code == 200

    signed_in = guest.post("/api/v1/auth/login", headers={"X-Cart-Token": token},
                           json={"email": shopper.email, "password": PASSWORD})

    assert signed_in.json["cart_merge"]["merged"] == [{"product_id": product.id,
                                                       "quantity": 2}]
    event = tab.next_event()
    assert (event.event, event.json) == ("cart", {"count": None})  # the page asks /live/cart


def test_signing_in_without_a_guest_cart_tells_the_open_tabs_nothing(app, server, make_user):
    shopper = make_user()
    tab = EventStream(server.port, cookie=signed_in_cookie(app, shopper))
    empty = app.test_client()
    token = empty.get("/api/v1/cart").headers["X-Cart-Token"]
    assert empty.post("/api/v1/auth/login", headers={"X-Cart-Token": token},
                      json={"email": shopper.email, "password": PASSWORD}).status_code == 200
    assert [message.event for message in tab.events_within(QUIET)] == []
