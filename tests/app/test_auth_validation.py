"""Every way a request to /api/v1/auth can be malformed: each bad field is named."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import RefreshToken, User
from tests.app.conftest import PASSWORD

VALID = {"email": "valid@example.com", "password": PASSWORD, "name": "Val Id"}


def fields_of(response) -> dict:
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_error"
    return response.json["error"]["details"]["fields"]


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize(("change", "bad_field"), [
    ({"email": "not-an-email"}, "email"),
    ({"email": ""}, "email"),
    ({"email": "a" * 250 + "@example.com"}, "email"),
    ({"email": 42}, "email"),
    ({"password": "seven77"}, "password"),
    ({"password": "x" * 129}, "password"),
    ({"password": None}, "password"),
    ({"name": "   "}, "name"),
    ({"name": "n" * 121}, "name"),
    ({"phone": "call me maybe"}, "phone"),
    ({"phone": "+1" + "2" * 40}, "phone"),
    ({"role": "admin"}, "role"),  # no self-promotion through unknown fields
])
def test_register_names_the_bad_field(client, change, bad_field):
    response = client.post("/api/v1/auth/register", json={**VALID, **change})

    assert list(fields_of(response)) == [bad_field]
    assert count(User) == 0


def test_register_names_every_missing_field(client):
    assert set(fields_of(client.post("/api/v1/auth/register", json={}))) == {
        "email", "password", "name"}


def test_register_accepts_the_password_length_bounds(client):
    for n, password in enumerate(("8" * 8, "x" * 128)):
        response = client.post("/api/v1/auth/register",
                               json={**VALID, "email": f"edge{n}@example.com",
                                     "password": password})
        assert response.status_code == 201, response.json
    assert count(User) == 2


def test_register_rejects_a_cart_token_header_that_is_too_long(client):
    response = client.post("/api/v1/auth/register", json=VALID,
                           headers={"X-Cart-Token": "t" * 300})
    assert list(fields_of(response)) == ["X-Cart-Token"]
    assert count(User) == 0


@pytest.mark.parametrize(("body", "bad_fields"), [
    ({}, {"email", "password"}),
    ({"email": "nope", "password": PASSWORD}, {"email"}),
    ({"email": "a@example.com", "password": ""}, {"password"}),
    ({"email": "a@example.com", "password": "x" * 129}, {"password"}),
    ({"email": "a@example.com", "password": PASSWORD, "remember": True}, {"remember"}),
])
def test_login_names_the_bad_fields(client, body, bad_fields):
    assert set(fields_of(client.post("/api/v1/auth/login", json=body))) == bad_fields
    assert count(RefreshToken) == 0


@pytest.mark.parametrize("endpoint", ["/api/v1/auth/refresh", "/api/v1/auth/logout"])
@pytest.mark.parametrize(("body", "bad_fields"), [
    ({}, {"refresh_token"}),
    ({"refresh_token": ""}, {"refresh_token"}),
    ({"refresh_token": 12}, {"refresh_token"}),
    ({"refresh_token": "x", "extra": 1}, {"extra"}),
])
def test_refresh_and_logout_name_the_bad_fields(client, endpoint, body, bad_fields):
    assert set(fields_of(client.post(endpoint, json=body))) == bad_fields


@pytest.mark.parametrize("endpoint", ["/api/v1/auth/register", "/api/v1/auth/login",
                                      "/api/v1/auth/refresh", "/api/v1/auth/logout"])
def test_bodies_must_be_json(client, endpoint):
    response = client.post(endpoint, data="email=a@example.com",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json["error"]["code"] == "unsupported_media_type"


def test_invalid_refresh_token_on_logout_is_unauthorized(client):
    response = client.post("/api/v1/auth/logout", json={"refresh_token": "not-a-token"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"


def test_me_requires_a_token(client):
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
