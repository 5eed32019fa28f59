"""A connection lost after the commit (PostgreSQL restarting between a write and the end
of its request) must not turn the saved write into an error: Flask-SQLAlchemy's teardown
rollback then fails on a dead socket, outside Flask's error handlers, which gunicorn
answered with its HTML 500 and the client's retry duplicated the line. The connection is
killed with pg_terminate_backend once the view has committed and answered."""

from __future__ import annotations

import logging
import uuid

import pytest
import sqlalchemy as sa

from app.config import engine_options
from app.extensions import db
from app.models import CartItem
from tests.app.factories import make_product
from tests.app.test_degradation import _terminate_backends
from tests.conftest import DATABASE_URL

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def shop_killed_after_commit(make_app):
    """An app whose database connection is killed after each cart write has committed,
    its response computed, and before its teardown closes the session."""
    name = f"storefront-test-{uuid.uuid4().hex[:8]}"
    shop = make_app(DATABASE_APPLICATION_NAME=name)
    killed: list[int] = []

    @shop.after_request
    def kill_connection(response):
        if response.status_code == 200 and "items" in (response.get_json(silent=True) or {}):
            # The cart write reads nothing after its commit any more; a read after a commit
            # (as it once did) holds a connection into the teardown, which then meets the
            # dead socket: the case under test.
            db.session.execute(sa.text("SELECT 1"))
            killed.append(_terminate_backends(name))
        return response

    return shop, killed


def test_a_write_committed_before_the_connection_died_answers_its_success(
        app, shop_killed_after_commit, customer, auth_headers, caplog):
    shop, killed = shop_killed_after_commit
    product = make_product(stock=5)
    signed_in = auth_headers(customer)
    caplog.set_level(logging.WARNING)

    response = shop.test_client().post("/api/v1/cart/items",
                                       json={"product_id": product.id, "quantity": 1},
                                       headers=signed_in)

    assert killed and killed[0] >= 1  # the request's own connection was terminated
    assert response.status_code == 200
    assert [line["quantity"] for line in response.json["items"]] == [1]
    assert db.session.scalar(sa.select(CartItem.quantity).where(
        CartItem.user_id == customer.id)) == 1
    teardown = [r for r in caplog.records if r.name == "app.extensions"]
    assert [r.levelno for r in teardown] == [logging.WARNING]
    assert teardown[0].exc_info is None  # one line, not a traceback

    # The next request gets a fresh connection and sees the line once.
    again = shop.test_client().get("/api/v1/cart", headers=signed_in)
    assert (again.status_code, again.json["item_count"]) == (200, 1)


def test_a_connection_lost_before_the_commit_is_still_a_503_with_retry_after(
        app, make_app, customer, auth_headers):
    name = f"storefront-test-{uuid.uuid4().hex[:8]}"
    settings = {"DATABASE_CONNECT_TIMEOUT": 5, "DATABASE_STATEMENT_TIMEOUT_MS": 5000,
                "DATABASE_APPLICATION_NAME": name}
    # No pre-ping: the request itself meets the dead socket, before its commit.
    shop = make_app(SQLALCHEMY_ENGINE_OPTIONS={
        **engine_options(DATABASE_URL, settings), "pool_pre_ping": False})
    product = make_product(stock=5)
    signed_in = auth_headers(customer)
    client = shop.test_client()
    assert client.get("/api/v1/cart", headers=signed_in).status_code == 200
    assert _terminate_backends(name) >= 1

    response = client.post("/api/v1/cart/items", json={"product_id": product.id},
                           headers=signed_in)

    assert response.status_code == 503
    assert response.json["error"]["code"] == "service_unavailable"
    assert response.headers["Retry-After"] == "5"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CartItem)) == 0
