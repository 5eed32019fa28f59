"""Sign-up, sign-in and the refresh-token lifecycle, asserted on the refresh_tokens rows."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from app.auth import service as auth_service
from app.extensions import db
from app.models import RefreshToken, User
from app.passwords import verify_password
from tests.app.conftest import PASSWORD

REGISTRATION = {"email": "  New.Shopper@Example.COM ", "password": PASSWORD,
                "name": " Nova Shopper ", "phone": "+44 20 7946 0958"}


def rows_of(user_id: int) -> list[RefreshToken]:
    db.session.expire_all()
    return list(db.session.scalars(
        sa.select(RefreshToken).where(RefreshToken.user_id == user_id)
        .order_by(RefreshToken.created_at, RefreshToken.rotated_at.nulls_last())))


def refresh(client, token: str):
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_register_stores_a_normalised_customer_and_signs_in(client):
    response = client.post("/api/v1/auth/register", json=REGISTRATION)

    assert response.status_code == 201
    body = response.json
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    user = db.session.scalars(sa.select(User)).one()
    assert (user.email, user.name, user.phone) == (
        "new.shopper@example.com", "Nova Shopper", "+44 20 7946 0958")
    assert (user.role, user.is_active) == ("customer", True)
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, PASSWORD)
    assert body["user"] == {"id": user.id, "email": "new.shopper@example.com",
                            "name": "Nova Shopper", "phone": "+44 20 7946 0958",
                            "role": "customer", "is_active": True,
                            "created_at": body["user"]["created_at"]}
    [row] = rows_of(user.id)
    assert row.family_id == row.id and row.rotated_at is None and row.revoked_at is None


def test_register_rejects_a_taken_email_whatever_its_case(client, customer):
    response = client.post("/api/v1/auth/register",
                           json={**REGISTRATION, "email": "CUSTOMER@example.com"})

    assert response.status_code == 409
    assert response.json["error"]["code"] == "email_taken"
    assert response.json["error"]["details"] == {"fields": {"email": ["is already registered"]}}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_whole_session_lifecycle_with_reuse_detection(client, customer, login):
    signed_in = login("Customer@Example.com")
    assert signed_in.status_code == 200
    first = signed_in.json

    me = client.get("/api/v1/auth/me", headers=bearer(first["access_token"]))
    assert me.status_code == 200
    assert me.json["email"] == "customer@example.com"

    rotated = refresh(client, first["refresh_token"])
    assert rotated.status_code == 200
    second = rotated.json
    assert second["refresh_token"] != first["refresh_token"]
    assert second["user"]["id"] == customer.id
    old_row, new_row = rows_of(customer.id)
    assert old_row.rotated_at is not None and old_row.revoked_at is None
    assert new_row.family_id == old_row.family_id
    assert new_row.rotated_at is None and new_row.revoked_at is None

    # Someone replays the first refresh token: the whole family dies, the new token too.
    replay = refresh(client, first["refresh_token"])
    assert replay.status_code == 401
    assert replay.json["error"]["code"] == "token_reused"
    assert all(row.revoked_at is not None for row in rows_of(customer.id))
    dead = refresh(client, second["refresh_token"])
    assert dead.status_code == 401
    assert dead.json["error"]["code"] == "token_revoked"
    assert len(rows_of(customer.id)) == 2  # nothing issued after the reuse

    # A new sign-in is a new family, which logout revokes.
    third = login("customer@example.com").json
    family = [r for r in rows_of(customer.id) if r.revoked_at is None]
    assert len(family) == 1 and family[0].family_id != old_row.family_id
    assert client.post("/api/v1/auth/logout",
                       json={"refresh_token": third["refresh_token"]}).status_code == 204
    assert all(row.revoked_at is not None for row in rows_of(customer.id))
    assert refresh(client, third["refresh_token"]).json["error"]["code"] == "token_revoked"


def test_logout_with_an_already_rotated_token_still_ends_the_session(client, customer, login):
    first = login(customer.email).json
    second = refresh(client, first["refresh_token"]).json

    assert client.post("/api/v1/auth/logout",
                       json={"refresh_token": first["refresh_token"]}).status_code == 204
    assert all(row.revoked_at is not None for row in rows_of(customer.id))
    assert refresh(client, second["refresh_token"]).status_code == 401


def test_logout_leaves_other_sessions_alone(client, customer, login):
    phone = login(customer.email).json
    laptop = login(customer.email).json

    client.post("/api/v1/auth/logout", json={"refresh_token": phone["refresh_token"]})

    assert refresh(client, laptop["refresh_token"]).status_code == 200
    assert refresh(client, phone["refresh_token"]).status_code == 401


def test_failed_login_says_the_same_for_unknown_email_and_wrong_password(
        client, customer, login, monkeypatch):
    from app.auth import service
    checked_hashes = []
    real_verify = service.verify_password
    monkeypatch.setattr(service, "verify_password",
                        lambda h, p: checked_hashes.append(h) or real_verify(h, p))

    unknown = login("nobody@example.com")
    wrong = login(customer.email, "not the password")

    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json == wrong.json == {"error": {
        "code": "invalid_credentials", "message": "invalid email or password", "details": {}}}
    # The unknown e-mail still paid for a hash verification (against the dummy hash).
    assert checked_hashes == [service.DUMMY_HASH, customer.password_hash]
    assert rows_of(customer.id) == []


def test_deactivated_user_cannot_log_in_refresh_or_use_an_access_token(client, customer, login):
    tokens = login(customer.email).json
    customer.is_active = False
    db.session.commit()

    assert login(customer.email).json["error"]["code"] == "inactive_account"
    denied_refresh = refresh(client, tokens["refresh_token"])
    assert denied_refresh.status_code == 401
    assert denied_refresh.json["error"]["code"] == "inactive_account"
    denied_me = client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
    assert denied_me.status_code == 401
    assert denied_me.json["error"]["code"] == "inactive_account"
    [row] = rows_of(customer.id)
    assert row.rotated_at is None  # the refused refresh issued nothing


def test_sign_in_merges_the_guest_cart_given_in_x_cart_token(client, customer, login,
                                                               monkeypatch):
    calls = []

    def merge(user_id: int, cart_token: str) -> dict:
        calls.append((user_id, cart_token))
        return {"merged": [{"product_id": 7, "quantity": 2}], "clamped": []}

    monkeypatch.setattr("app.cart.service.merge_guest_cart", merge)

    signed_in = login(customer.email, headers={"X-Cart-Token": "guest-cart-token"})
    registered = client.post("/api/v1/auth/register", json=REGISTRATION,
                             headers={"X-Cart-Token": "another-guest-cart"})
    plain = login(customer.email)

    new_user = db.session.scalar(sa.select(User).where(User.email == "new.shopper@example.com"))
    assert calls == [(customer.id, "guest-cart-token"), (new_user.id, "another-guest-cart")]
    assert signed_in.json["cart_merge"] == {"merged": [{"product_id": 7, "quantity": 2}],
                                            "clamped": []}
    assert registered.status_code == 201 and "cart_merge" in registered.json
    assert "cart_merge" not in plain.json


def test_login_rehashes_a_password_hashed_with_weaker_parameters(client, make_user, login):
    from argon2 import PasswordHasher
    user = make_user(email="legacy@example.com")
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    db.session.commit()
    legacy_hash = user.password_hash

    assert login("legacy@example.com").status_code == 200

    db.session.refresh(user)
    assert user.password_hash != legacy_hash
    assert verify_password(user.password_hash, PASSWORD)


def test_two_concurrent_refreshes_of_one_token_never_fork_the_session(client, customer,
                                                                      login):
    token = login(customer.email).json["refresh_token"]
    barrier = threading.Barrier(2)

    def attempt(_):
        barrier.wait()
        return refresh(client, token)

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(attempt, range(2)))

    # One rotates; the other presents a token that is now rotated: reuse, family revoked.
    assert sorted(r.status_code for r in responses) == [200, 401]
    assert [r.json["error"]["code"] for r in responses if r.status_code == 401] == [
        "token_reused"]
    rows = rows_of(customer.id)
    assert len(rows) == 2 and all(row.revoked_at is not None for row in rows)


def test_login_merges_a_real_guest_cart_into_the_account(client, customer, login):
    from app.models import CartItem
    from tests.app.factories import make_product

    product = make_product(stock=5)
    guest = client.post("/api/v1/cart/items", json={"product_id": product.id, "quantity": 2})
    cart_token = guest.headers["X-Cart-Token"]

    signed_in = login(customer.email, headers={"X-Cart-Token": cart_token})

    assert signed_in.status_code == 200
    assert signed_in.json["cart_merge"]["clamped"] == []
    assert [line["product_id"] for line in signed_in.json["cart_merge"]["merged"]] == [
        product.id]
    assert [(item.product_id, item.quantity) for item in db.session.scalars(
        sa.select(CartItem).where(CartItem.user_id == customer.id))] == [(product.id, 2)]


def test_a_token_minted_while_its_family_was_revoked_dies_with_it(client, customer, login):
    first = login(customer.email).json
    [row] = rows_of(customer.id)
    auth_service.revoke_family(row.family_id)
    db.session.commit()
    # A refresh that committed just after the revocation's UPDATE: its new token is active.
    escaped = auth_service._issue(db.session.get(User, customer.id), family_id=row.family_id)
    db.session.commit()

    refused = refresh(client, escaped.refresh_token)

    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "token_revoked"
    assert all(token.revoked_at is not None and token.rotated_at is None
               for token in rows_of(customer.id))
    assert refresh(client, escaped.refresh_token).status_code == 401
    assert refresh(client, first["refresh_token"]).status_code == 401
