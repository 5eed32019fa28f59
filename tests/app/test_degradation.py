"""Degradation and recovery against real servers: a Redis of the test's own that stops and
starts again, and PostgreSQL cut off behind a proxy, its connections killed, a server that
never answers, and a row lock held past the statement timeout. The app under test is never
restarted; recovery has to happen by itself."""

from __future__ import annotations

import logging
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.auth.tokens import issue_access_token
from app.extensions import db
from app.models import CartItem
from app.storefront.session import CART_KEY
from tests.app.factories import make_product, put_in_cart, stock_of
from tests.app.outages import Blackhole, TcpProxy, ThrowawayRedis
from tests.app.test_metrics import Delta
from tests.conftest import DATABASE_URL

pytestmark = pytest.mark.timeout(120)


# --- Redis -------------------------------------------------------------------------------

@pytest.fixture
def own_redis(tmp_path):
    server = ThrowawayRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_redis_outage_degrades_and_recovers_without_a_restart(
        app, make_app, own_redis, customer, auth_headers, caplog):
    caplog.set_level(logging.WARNING)
    product = make_product(name="Enamel Teapot", price="31.00", stock=8)
    shop = make_app(REDIS_URL=own_redis.url, RATELIMIT_ENABLED=True).test_client()
    signed_in = auth_headers(customer)
    assert shop.get("/readyz").status_code == 200
    assert shop.get(f"/api/v1/products/{product.id}").status_code == 200

    own_redis.stop()

    # The catalog comes from PostgreSQL.
    listed = shop.get("/api/v1/products")
    assert listed.status_code == 200
    assert [item["name"] for item in listed.json["items"]] == ["Enamel Teapot"]
    assert shop.get(f"/api/v1/products/{product.id}").json["price"] == "31.00"
    # Signed-in carts live in PostgreSQL and keep working.
    added = shop.post("/api/v1/cart/items", json={"product_id": product.id, "quantity": 2},
                      headers=signed_in)
    assert added.status_code == 200
    assert db.session.scalar(sa.select(CartItem.quantity).where(
        CartItem.user_id == customer.id)) == 2
    # Rate limits cannot count in Redis: requests pass, and the operators are told.
    login = shop.post("/api/v1/auth/login", json={"email": customer.email,
                                                  "password": "correct horse battery staple"})
    assert login.status_code == 200
    assert any(record.name == "app.ratelimit_store" and record.levelno >= logging.WARNING
               for record in caplog.records)
    # Readiness names Redis; what only Redis can hold (a guest's cart) is a clean 503.
    ready = shop.get("/readyz")
    assert (ready.status_code, ready.json["checks"]) == (503, {"database": "up",
                                                               "redis": "down"})
    guest = shop.post("/api/v1/cart/items", json={"product_id": product.id, "quantity": 1})
    assert guest.status_code == 503
    assert guest.json["error"]["code"] == "service_unavailable"

    own_redis.start()

    assert shop.get("/readyz").status_code == 200
    guest = shop.post("/api/v1/cart/items", json={"product_id": product.id, "quantity": 1})
    assert guest.status_code == 200
    assert guest.json["items"][0]["quantity"] == 1
    assert shop.get(f"/api/v1/products/{product.id}").json["name"] == "Enamel Teapot"


# --- PostgreSQL ----------------------------------------------------------------------------

def _postgres_address() -> tuple[str, int]:
    url = make_url(DATABASE_URL)
    return url.host or "127.0.0.1", url.port or 5432


def _via(host: str, port: int) -> str:
    return make_url(DATABASE_URL).set(host=host, port=port).render_as_string(
        hide_password=False)


def _terminate_backends(application_name: str) -> int:
    engine = sa.create_engine(DATABASE_URL)
    try:
        with engine.begin() as connection:
            return len(connection.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name"), {"name": application_name}).all())
    finally:
        engine.dispose()


def test_killed_connections_are_replaced_by_pre_ping_without_an_error(
        app, make_app, customer, auth_headers):
    put_in_cart(customer.id, make_product(name="Linen Apron"), 1)
    name = f"storefront-test-{uuid.uuid4().hex[:8]}"
    shop = make_app(DATABASE_APPLICATION_NAME=name).test_client()
    signed_in = auth_headers(customer)  # a signed-in cart is read from PostgreSQL, never a cache
    assert shop.get("/api/v1/cart", headers=signed_in).status_code == 200

    assert _terminate_backends(name) >= 1  # the pooled connection was killed

    with Delta("shop_db_errors_total", kind="connection") as errors:
        response = shop.get("/api/v1/cart", headers=signed_in)
    assert response.status_code == 200
    assert [line["name"] for line in response.json["items"]] == ["Linen Apron"]
    assert errors.change == 0


@pytest.fixture
def proxy():
    proxy = TcpProxy(_postgres_address())
    proxy.start()
    yield proxy
    proxy.stop()


def test_database_outage_is_a_503_and_the_app_reconnects_when_it_returns(
        app, make_app, proxy, customer, auth_headers):
    product = make_product(name="Oak Bread Board")
    put_in_cart(customer.id, product, 2)
    shop = make_app(SQLALCHEMY_DATABASE_URI=_via("127.0.0.1", proxy.port)).test_client()
    signed_in = auth_headers(customer)
    assert shop.get("/api/v1/cart", headers=signed_in).status_code == 200

    proxy.stop()  # every connection reset, every new one refused

    with Delta("shop_db_errors_total", kind="connection") as errors:
        cart = shop.get("/api/v1/cart", headers=signed_in)
        orders = shop.get("/api/v1/orders/mine", headers=signed_in)
    for response in (cart, orders):
        assert response.status_code == 503
        assert response.json["error"]["code"] == "service_unavailable"
        assert response.headers["Retry-After"] == "5"
    assert errors.change >= 2
    ready = shop.get("/readyz")
    assert (ready.status_code, ready.json["checks"]["database"]) == (503, "down")

    proxy.start()

    back = shop.get("/api/v1/cart", headers=signed_in)
    assert back.status_code == 200
    assert [(line["name"], line["quantity"]) for line in back.json["items"]] == [
        ("Oak Bread Board", 2)]
    assert shop.get("/readyz").status_code == 200


@pytest.mark.timeout(60)
def test_a_database_that_never_answers_costs_a_request_the_connect_timeout(make_app):
    silent = Blackhole()
    try:
        app = make_app(SQLALCHEMY_DATABASE_URI=_via("127.0.0.1", silent.port),
                       DATABASE_CONNECT_TIMEOUT=2)
        with app.app_context():
            token = issue_access_token(1, "customer")  # looking its user up needs the database
        with Delta("shop_db_errors_total", kind="connection") as errors:
            response = app.test_client().get("/api/v1/cart",
                                             headers={"Authorization": f"Bearer {token}"})
    finally:
        silent.close()
    # It came back at all (the timeout marker would have failed a hang), and as a 503.
    assert response.status_code == 503
    assert response.json["error"]["code"] == "service_unavailable"
    assert errors.change == 1


def test_a_statement_stuck_behind_a_lock_is_cancelled_by_the_statement_timeout(
        app, make_app, admin, auth_headers):
    product = make_product(stock=10)
    shop = make_app(DATABASE_STATEMENT_TIMEOUT_MS=300).test_client()
    adjust = f"/api/v1/products/{product.id}/stock"
    locker = sa.create_engine(DATABASE_URL)
    try:
        with locker.connect() as holder:
            holder.execute(sa.text("SELECT id FROM products WHERE id = :id FOR UPDATE"),
                           {"id": product.id})  # a checkout that never finishes
            with Delta("shop_db_errors_total", kind="timeout") as timeouts:
                stuck = shop.post(adjust, json={"delta": 5}, headers=auth_headers(admin))
            holder.rollback()
    finally:
        locker.dispose()
    assert stuck.status_code == 503
    assert stuck.json["error"]["code"] == "service_unavailable"
    assert timeouts.change == 1
    assert stock_of(product.id) == 10  # the cancelled statement changed nothing

    retried = shop.post(adjust, json={"delta": 5}, headers=auth_headers(admin))
    assert (retried.status_code, retried.json["stock"]) == (200, 15)
    assert stock_of(product.id) == 15


def test_shop_pages_serve_guests_while_redis_is_down(app, make_app, own_redis, caplog):
    caplog.set_level(logging.WARNING)
    product = make_product(name="Copper Kettle", price="42.00", stock=3)
    shop = make_app(REDIS_URL=own_redis.url).test_client()
    with_cart = make_app(REDIS_URL=own_redis.url).test_client()  # a guest who has a cart
    added = with_cart.post("/api/v1/cart/items", json={"product_id": product.id, "quantity": 1})
    with with_cart.session_transaction() as session:
        session[CART_KEY] = added.json["token"]
    assert 'data-testid="cart-count">1<' in with_cart.get("/").get_data(as_text=True)

    own_redis.stop()

    for browser in (shop, with_cart):
        for page in ("/", "/products", f"/products/{product.id}"):
            response = browser.get(page)
            assert response.status_code == 200, page
            assert "Copper Kettle" in response.get_data(as_text=True)
    # The header leaves the unknown cart count out rather than showing a wrong one.
    assert "cart-count" not in with_cart.get("/").get_data(as_text=True)
    assert any(record.name == "app.storefront.navigation" for record in caplog.records)
