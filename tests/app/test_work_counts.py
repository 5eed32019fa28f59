"""What one request costs, counted rather than timed: SQL statements, connection checkouts
(each a pre-ping) and Redis round trips. These guard the speed work of `python -m bench`:
a change that makes a hot path do more fails here, whatever the machine's speed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import redis
import sqlalchemy as sa
from redis.connection import Connection

from app import cache_local
from app.extensions import db
from tests.app.conftest import PASSWORD
from tests.app.factories import checkout_body, make_category, make_product, put_in_cart, stock_of
from tests.conftest import REDIS_URL

PRODUCTS = "/api/v1/products"


@dataclass
class Work:
    statements: list[str] = field(default_factory=list)
    checkouts: int = 0  # connections taken from the pool: each is pre-pinged
    redis_trips: int = 0  # packets sent to Redis: a command, a pipeline or a script each


@contextmanager
def counted() -> Iterator[Work]:
    work = Work()
    engine = db.engine
    send = Connection.send_packed_command

    def statement(conn, cursor, sql, *args) -> None:
        work.statements.append(" ".join(sql.split()))

    def checkout(*args) -> None:
        work.checkouts += 1

    def counted_send(self, command, check_health=True):
        work.redis_trips += 1
        return send(self, command, check_health)

    sa.event.listen(engine, "before_cursor_execute", statement)
    sa.event.listen(engine.pool, "checkout", checkout)
    Connection.send_packed_command = counted_send
    try:
        yield work
    finally:
        Connection.send_packed_command = send
        sa.event.remove(engine.pool, "checkout", checkout)
        sa.event.remove(engine, "before_cursor_execute", statement)


def wait_until_subscribed(app) -> None:
    """The local layer trusts nothing until its listener has subscribed."""
    layer = app.extensions["cache_local"]
    deadline = time.monotonic() + 5
    while not layer.subscribed:
        assert time.monotonic() < deadline, "the invalidation listener never subscribed"
        time.sleep(0.02)


@pytest.fixture
def product(app):
    return make_product(make_category("Tea"), name="Green tea", price="19.99", stock=10)


# --- anonymous catalog reads -----------------------------------------------------------

@pytest.mark.parametrize("path", ["/products", "/products/{id}", "/search?q=green",
                                  "/categories"])
def test_a_hot_anonymous_read_costs_no_sql_and_no_redis_round_trip(app, client, product,
                                                                    path):
    wait_until_subscribed(app)
    url = "/api/v1" + path.format(id=product.id)
    first = client.get(url)  # the fill: tokens and body kept in Redis and in this process
    with counted() as work:
        again = client.get(url)
    assert again.status_code == 200 and again.get_data() == first.get_data()
    assert work.statements == [] and work.checkouts == 0
    assert work.redis_trips == 0


def test_a_cold_anonymous_read_costs_one_round_trip_to_find_its_entry(app, client, product):
    client.get(f"{PRODUCTS}/{product.id}")
    app.extensions["cache_local"].forget_all(subscribed=True)  # another process, say
    with counted() as work:
        assert client.get(f"{PRODUCTS}/{product.id}").status_code == 200
    assert work.statements == []
    assert work.redis_trips == 1  # tokens and entry in one script


def test_the_api_rate_limit_is_one_round_trip_and_still_counts_cached_reads(make_app, app,
                                                                            product):
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_API="3/minute")
    wait_until_subscribed(limited)
    client = limited.test_client()
    assert client.get(PRODUCTS).status_code == 200
    with counted() as work:
        assert client.get(PRODUCTS).status_code == 200  # a local hit
    assert work.redis_trips == 1 and work.statements == []
    assert client.get(PRODUCTS).status_code == 200
    assert client.get(PRODUCTS).status_code == 429  # hits count against the limit too


def test_every_limit_of_a_sign_in_is_counted_in_one_round_trip(make_app, app, customer):
    """Three budgets (the API's, the address's, the e-mail's), one script."""
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SIGN_IN_PER_EMAIL="2/minute")
    client = limited.test_client()
    attempt = {"email": customer.email, "password": "not the password"}
    warm_up = {**attempt, "email": "someone.else@example.com"}  # connects to Redis
    assert client.post("/api/v1/auth/login", json=warm_up).status_code == 401
    with counted() as work:
        assert client.post("/api/v1/auth/login", json=attempt).status_code == 401
    assert work.redis_trips == 1
    assert client.post("/api/v1/auth/login", json=attempt).status_code == 401
    assert client.post("/api/v1/auth/login", json=attempt).status_code == 429


def test_a_write_in_another_process_shows_at_once(app, client, product):
    """Another worker's write: new tokens and a message, as ``invalidate`` sends them."""
    wait_until_subscribed(app)
    url = f"{PRODUCTS}/{product.id}"
    assert client.get(url).json["price"] == "19.99"
    with db.engine.begin() as connection:
        connection.execute(sa.text("UPDATE products SET price = 25 WHERE id = :id"),
                           {"id": product.id})
    db.session.expire_all()  # this test's session, shared with its requests, forgets too
    other_process = redis.Redis.from_url(REDIS_URL)
    with other_process.pipeline(transaction=False) as pipe:
        pipe.set(f"cache:version:product:{product.id}", "a-new-token")
        pipe.publish(cache_local.CHANNEL, f"product:{product.id}")
        pipe.execute()
    deadline = time.monotonic() + 2
    while client.get(url).json["price"] != "25.00":
        assert time.monotonic() < deadline, "the invalidation was never heard"
        time.sleep(0.01)


def test_a_lost_subscription_turns_the_local_layer_off(app, client, product):
    wait_until_subscribed(app)
    client.get(PRODUCTS)
    layer = app.extensions["cache_local"]
    layer.forget_all(subscribed=False)  # what the listener does when its connection drops
    with counted() as work:
        assert client.get(PRODUCTS).status_code == 200
    assert work.redis_trips == 1  # answered through Redis, where invalidations never lag
    assert layer.tokens(["categories", "products"]) is None  # and nothing new trusted


def test_a_first_visit_home_page_is_kept_whole_and_shows_writes_at_once(
        app, client, product, admin, auth_headers):
    wait_until_subscribed(app)
    client.get("/")
    with counted() as work:
        page = client.get("/")
    assert page.status_code == 200 and "Green tea" in page.get_data(as_text=True)
    assert work.statements == [] and work.redis_trips == 0
    assert "Cookie" in page.headers["Vary"] and page.headers["Cache-Control"] == "private, no-store"
    assert "nonce-" in page.headers["Content-Security-Policy"]  # a new one per response

    renamed = client.patch(f"{PRODUCTS}/{product.id}", json={"name": "Sencha"},
                           headers=auth_headers(admin))
    assert renamed.status_code == 200
    assert "Sencha" in client.get("/").get_data(as_text=True)


def test_a_visitor_with_a_cookie_gets_a_page_rendered_for_them(app, client, product):
    wait_until_subscribed(app)
    client.get("/")
    client.set_cookie("session", "not-a-signed-session")
    with counted() as work:
        page = client.get("/")
    assert page.status_code == 200 and "Green tea" in page.get_data(as_text=True)
    assert work.redis_trips >= 1  # its catalog rows read again: the page was rendered


# --- accounts --------------------------------------------------------------------------

def test_a_sign_in_takes_two_statements_and_a_refresh_three(client, customer):
    credentials = {"email": customer.email, "password": PASSWORD}
    client.post("/api/v1/auth/login", json=credentials)  # connects, warms the pool
    with counted() as signing_in:
        signed_in = client.post("/api/v1/auth/login", json=credentials)
    assert signed_in.status_code == 200 and signed_in.json["user"]["email"] == customer.email
    # The shopper by e-mail, the new refresh token: nothing read again after the commit.
    assert [sql.split(" ")[0] for sql in signing_in.statements] == ["SELECT", "INSERT"]
    with counted() as refreshing:
        refreshed = client.post("/api/v1/auth/refresh",
                                json={"refresh_token": signed_in.json["refresh_token"]})
    assert refreshed.status_code == 200 and refreshed.json["user"]["email"] == customer.email
    # The token locked and its family checked, then the rotation and the new token; no
    # read after the writes (the answer's user is the one read with the token).
    verbs = [sql.split(" ")[0] for sql in refreshing.statements]
    assert verbs[-2:] == ["UPDATE", "INSERT"] and "SELECT" not in verbs[verbs.index("UPDATE"):]


# --- cart and checkout -----------------------------------------------------------------

def test_add_to_cart_takes_four_statements_on_one_connection(client, customer, auth_headers,
                                                             product):
    headers = auth_headers(customer)
    client.post("/api/v1/cart/items", json={"product_id": product.id, "quantity": 1},
                headers=headers)
    with counted() as work:
        response = client.post("/api/v1/cart/items",
                               json={"product_id": product.id, "quantity": 2}, headers=headers)
    assert response.status_code == 200 and response.json["items"][0]["quantity"] == 3
    # The shopper, the product, the guarded upsert, the lines joined with their products.
    assert len(work.statements) == 4, work.statements
    assert work.checkouts == 1

def test_an_idempotency_key_costs_a_cart_write_one_statement_and_a_replay_no_write(
        client, customer, auth_headers, product):
    signed_in = auth_headers(customer)
    body = {"product_id": product.id, "quantity": 1}
    client.post("/api/v1/cart/items", json=body, headers=signed_in)
    with counted() as unkeyed:
        client.post("/api/v1/cart/items", json=body, headers=signed_in)
    with counted() as keyed:
        first = client.post("/api/v1/cart/items", json=body,
                            headers={**signed_in, "Idempotency-Key": "add-once"})
    assert first.status_code == 200 and first.json["items"][0]["quantity"] == 3
    claims = [sql for sql in keyed.statements if sql.startswith("INSERT INTO idempotency_keys")]
    assert len(claims) == 1 and "ON CONFLICT" in claims[0]  # no look-up before the claim
    assert len(keyed.statements) == len(unkeyed.statements) + 1
    with counted() as replayed:
        again = client.post("/api/v1/cart/items", json=body,
                            headers={**signed_in, "Idempotency-Key": "add-once"})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json["items"][0]["quantity"] == 3
    assert not [sql for sql in replayed.statements if sql.startswith("INSERT INTO cart_items")]


def test_checkout_takes_six_statements_on_one_connection(client, customer, auth_headers):
    products = [make_product(price="2.00", stock=5), make_product(price="3.00", stock=5)]
    for item in products:
        put_in_cart(customer.id, item, 2)
    with counted() as work:
        response = client.post("/api/v1/orders/checkout", json=checkout_body(),
                               headers={**auth_headers(customer), "Idempotency-Key": "count"})
    assert response.status_code == 201 and response.json["total_amount"] == "10.00"
    # The shopper; the key claimed; lines and products locked together; the order; its
    # items in one INSERT; stock, cart rows and the key's order in one statement.
    assert len(work.statements) == 6, work.statements
    assert sum("FOR UPDATE" in sql for sql in work.statements) == 1
    assert work.checkouts == 1
    assert [stock_of(item.id) for item in products] == [3, 3]


def test_a_replayed_checkout_places_nothing_and_writes_nothing(client, customer,
                                                               auth_headers):
    put_in_cart(customer.id, make_product(stock=5), 1)
    headers = {**auth_headers(customer), "Idempotency-Key": "replay"}
    first = client.post("/api/v1/orders/checkout", json=checkout_body(), headers=headers)
    with counted() as work:
        again = client.post("/api/v1/orders/checkout", json=checkout_body(), headers=headers)
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    writes = [sql for sql in work.statements
              if sql.split()[0] in ("UPDATE", "DELETE", "WITH")]
    assert writes == []
