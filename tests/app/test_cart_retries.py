"""Cart writes with an Idempotency-Key (app/cart/retries.py): a retried request changes
the cart once, for signed-in shoppers (PostgreSQL) and guests (Redis), through the API and
the pages' add-to-cart form."""

from __future__ import annotations

import re
import threading

import sqlalchemy as sa

from app.cart.guest import cart_key
from app.extensions import db, get_redis
from app.models import CartItem, IdempotencyKey
from tests.app.factories import make_product
from tests.app.pages_support import csrf_token, text
from tests.app.test_commit_then_disconnect import shop_killed_after_commit  # noqa: F401

ITEMS = "/api/v1/cart/items"


def _line_quantity(user_id: int) -> int | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(CartItem.quantity).where(CartItem.user_id == user_id))


def _key_rows() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey))


def test_a_signed_in_retry_with_the_same_key_adds_once(client, customer, auth_headers):
    product = make_product(stock=5)
    headers = {**auth_headers(customer), "Idempotency-Key": "add-1"}
    body = {"product_id": product.id, "quantity": 2}

    first = client.post(ITEMS, json=body, headers=headers)
    retry = client.post(ITEMS, json=body, headers=headers)

    assert (first.status_code, first.headers["Idempotent-Replayed"]) == (200, "false")
    assert (retry.status_code, retry.headers["Idempotent-Replayed"]) == (200, "true")
    assert retry.json["items"][0]["quantity"] == 2
    assert _line_quantity(customer.id) == 2
    assert _key_rows() == 1
    # Without a key, a second request is a second addition, as before.
    assert client.post(ITEMS, json=body, headers=auth_headers(customer)).status_code == 200
    assert _line_quantity(customer.id) == 4


def test_a_guest_retry_with_the_same_key_adds_once(client):
    product = make_product(stock=5)
    token = client.post(ITEMS, json={"product_id": product.id}).headers["X-Cart-Token"]
    headers = {"X-Cart-Token": token, "Idempotency-Key": "guest-add-1"}

    first = client.post(ITEMS, json={"product_id": product.id}, headers=headers)
    retry = client.post(ITEMS, json={"product_id": product.id}, headers=headers)

    assert [first.headers["Idempotent-Replayed"], retry.headers["Idempotent-Replayed"]] == [
        "false", "true"]
    assert get_redis().hgetall(cart_key(token)) == {str(product.id): "2"}


def test_the_same_key_for_another_request_is_refused(client, customer, auth_headers):
    kettle, pan = make_product(stock=5), make_product(stock=5)
    headers = {**auth_headers(customer), "Idempotency-Key": "add-2"}
    assert client.post(ITEMS, json={"product_id": kettle.id}, headers=headers).status_code == 200

    other = client.post(ITEMS, json={"product_id": pan.id}, headers=headers)

    assert other.status_code == 422
    assert other.json["error"]["code"] == "idempotency_key_reused"
    assert list(other.json["error"]["details"]["fields"]) == ["Idempotency-Key"]
    assert _line_quantity(customer.id) == 1


def test_a_refused_write_releases_its_key_so_the_retry_is_judged_anew(
        client, customer, auth_headers):
    product = make_product(stock=1)
    headers = {**auth_headers(customer), "Idempotency-Key": "add-3"}
    body = {"product_id": product.id, "quantity": 2}
    assert client.post(ITEMS, json=body, headers=headers).status_code == 409
    assert _key_rows() == 0

    product.stock = 5
    db.session.commit()
    retry = client.post(ITEMS, json=body, headers=headers)
    assert (retry.status_code, retry.headers["Idempotent-Replayed"]) == (200, "false")
    assert _line_quantity(customer.id) == 2


def test_a_retried_removal_is_answered_as_the_first_one_was(client, customer, auth_headers):
    product = make_product(stock=5)
    signed_in = auth_headers(customer)
    client.post(ITEMS, json={"product_id": product.id}, headers=signed_in)
    headers = {**signed_in, "Idempotency-Key": "remove-1"}

    first = client.delete(f"{ITEMS}/{product.id}", headers=headers)
    retry = client.delete(f"{ITEMS}/{product.id}", headers=headers)

    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert client.delete(f"{ITEMS}/{product.id}", headers=signed_in).status_code == 404


def test_concurrent_duplicates_add_once(app, customer, auth_headers):
    product_id = make_product(stock=50).id
    headers = {**auth_headers(customer), "Idempotency-Key": "race-1"}
    barrier = threading.Barrier(4)
    results: list[tuple[int, str | None]] = []

    def add():
        client = app.test_client()
        barrier.wait()  # released together: they meet on the key's unique index
        response = client.post(ITEMS, json={"product_id": product_id}, headers=headers)
        results.append((response.status_code, response.headers.get("Idempotent-Replayed")))

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [(200, "false")] + [(200, "true")] * 3
    assert _line_quantity(customer.id) == 1


def test_the_retry_after_a_connection_lost_past_the_commit_does_not_duplicate(
        app, shop_killed_after_commit, customer, auth_headers):  # noqa: F811
    shop, killed = shop_killed_after_commit
    product = make_product(stock=5)
    headers = {**auth_headers(customer), "Idempotency-Key": "restart-1"}
    body = {"product_id": product.id, "quantity": 1}

    first = shop.test_client().post(ITEMS, json=body, headers=headers)
    retry = shop.test_client().post(ITEMS, json=body, headers=headers)  # a cautious client

    assert len(killed) == 2
    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert _line_quantity(customer.id) == 1


# --- pages -----------------------------------------------------------------------------

_KEY = re.compile(r'name="idempotency_key" type="hidden" value="([^"]+)"')


def test_the_add_to_cart_form_carries_a_new_key_per_rendering_and_a_resubmit_adds_once(
        client, customer):
    product = make_product(stock=5)
    page = f"/products/{product.id}"
    keys = [_KEY.search(text(client.get(page))).group(1) for _ in range(2)]
    assert keys[0] != keys[1]
    form = {"quantity": 1, "idempotency_key": keys[0], "csrf_token": csrf_token(client, page)}

    for _ in range(2):  # the browser resubmits the same page
        response = client.post(f"/cart/items/{product.id}", data=form)
        assert (response.status_code, response.headers["Location"]) == (302, "/cart")

    assert 'data-testid="cart-count">1<' in text(client.get("/cart"))
