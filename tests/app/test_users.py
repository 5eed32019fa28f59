"""Own profile and password change, asserted on the users and refresh_tokens rows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import RefreshToken
from app.passwords import verify_password
from tests.app.conftest import PASSWORD

NEW_PASSWORD = "a brand new passphrase"


def fields_of(response) -> dict:
    assert response.status_code == 422, response.json
    return response.json["error"]["details"]["fields"]


def live_families(user_id: int) -> set[str]:
    return set(db.session.scalars(sa.select(RefreshToken.family_id).where(
        RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))))


def test_profile_is_readable_and_updatable(client, customer, auth_headers):
    assert client.get("/api/v1/users/me", headers=auth_headers(customer)).json["name"] == (
        "Casey Customer")

    response = client.patch("/api/v1/users/me", headers=auth_headers(customer),
                            json={"name": "  Casey C. ", "phone": "(555) 010-9999"})

    assert response.status_code == 200
    assert (response.json["name"], response.json["phone"]) == ("Casey C.", "(555) 010-9999")
    db.session.refresh(customer)
    assert (customer.name, customer.phone) == ("Casey C.", "(555) 010-9999")


def test_profile_update_changes_only_the_fields_sent(client, customer, auth_headers):
    customer.phone = "+1 555 0100"
    db.session.commit()

    client.patch("/api/v1/users/me", headers=auth_headers(customer), json={"name": "Renamed"})
    db.session.refresh(customer)
    assert (customer.name, customer.phone) == ("Renamed", "+1 555 0100")

    client.patch("/api/v1/users/me", headers=auth_headers(customer), json={"phone": None})
    db.session.refresh(customer)
    assert (customer.name, customer.phone) == ("Renamed", None)


@pytest.mark.parametrize(("body", "bad_field"), [
    ({"name": ""}, "name"),
    ({"name": None}, "name"),
    ({"name": "x" * 121}, "name"),
    ({"phone": "12"}, "phone"),
    ({"phone": "not a number"}, "phone"),
    ({"email": "new@example.com"}, "email"),
    ({"role": "admin"}, "role"),
    ({"is_active": False}, "is_active"),
])
def test_profile_update_names_the_bad_field_and_changes_nothing(client, customer,
                                                                auth_headers, body, bad_field):
    response = client.patch("/api/v1/users/me", headers=auth_headers(customer), json=body)

    assert list(fields_of(response)) == [bad_field]
    db.session.refresh(customer)
    assert (customer.email, customer.name, customer.role, customer.is_active) == (
        "customer@example.com", "Casey Customer", "customer", True)


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/v1/users/me"), ("patch", "/api/v1/users/me"),
    ("post", "/api/v1/users/me/password")])
def test_own_account_endpoints_require_a_token(client, method, path):
    response = getattr(client, method)(path, json={})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_password_change_signs_out_every_other_session(client, customer, login,
                                                       auth_headers):
    other_device = login(customer.email).json
    this_device = login(customer.email).json

    response = client.post("/api/v1/users/me/password",
                           headers={"Authorization": f"Bearer {this_device['access_token']}"},
                           json={"old_password": PASSWORD, "new_password": NEW_PASSWORD})

    assert response.status_code == 200
    db.session.refresh(customer)
    assert verify_password(customer.password_hash, NEW_PASSWORD)
    assert not verify_password(customer.password_hash, PASSWORD)
    # Only the session handed back by the change survives.
    assert len(live_families(customer.id)) == 1
    for old in (other_device, this_device):
        assert client.post("/api/v1/auth/refresh",
                           json={"refresh_token": old["refresh_token"]}).status_code == 401
    assert client.post("/api/v1/auth/refresh",
                       json={"refresh_token": response.json["refresh_token"]}).status_code == 200
    assert login(customer.email).status_code == 401
    assert login(customer.email, NEW_PASSWORD).status_code == 200


def test_password_change_with_a_wrong_old_password_changes_nothing(client, customer, login,
                                                                   auth_headers):
    login(customer.email)
    hash_before = customer.password_hash

    response = client.post("/api/v1/users/me/password", headers=auth_headers(customer),
                           json={"old_password": "not my password",
                                 "new_password": NEW_PASSWORD})

    assert fields_of(response) == {"old_password": ["is not the current password"]}
    db.session.refresh(customer)
    assert customer.password_hash == hash_before
    assert len(live_families(customer.id)) == 1


@pytest.mark.parametrize(("body", "bad_fields"), [
    ({}, {"old_password", "new_password"}),
    ({"old_password": PASSWORD, "new_password": "short"}, {"new_password"}),
    ({"old_password": PASSWORD, "new_password": "y" * 129}, {"new_password"}),
    ({"old_password": "", "new_password": NEW_PASSWORD}, {"old_password"}),
    ({"old_password": PASSWORD, "new_password": PASSWORD}, {"new_password"}),
    ({"old_password": PASSWORD, "new_password": NEW_PASSWORD, "x": 1}, {"x"}),
])
def test_password_change_names_the_bad_fields(client, customer, auth_headers, body,
                                              bad_fields):
    hash_before = customer.password_hash

    response = client.post("/api/v1/users/me/password", headers=auth_headers(customer),
                           json=body)

    assert set(fields_of(response)) == bad_fields
    db.session.refresh(customer)
    assert customer.password_hash == hash_before
