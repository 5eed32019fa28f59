"""Tokens that must not be accepted: expired, unsigned, tampered, foreign or of another kind."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from app.auth.tokens import ISSUER, encode_claims


def claims_for(user, kind: str = "access", **overrides) -> dict:
    now = datetime.now(UTC)
    return {"sub": str(user.id), "role": user.role, "type": kind, "iss": ISSUER,
            "iat": now, "exp": now + timedelta(minutes=5), "jti": "a-token-id", **overrides}


def me(client, token: str):
    return client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_valid_crafted_token_is_accepted(client, customer):
    # The control for the tests below: they fail for their one defect, not for another.
    response = me(client, encode_claims(claims_for(customer)))
    assert response.status_code == 200
    assert response.json["id"] == customer.id


def test_expired_access_token_is_refused_as_expired(client, customer):
    past = datetime.now(UTC) - timedelta(hours=1)
    token = encode_claims(claims_for(customer, iat=past, exp=past + timedelta(minutes=15)))

    response = me(client, token)

    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_expired"


def test_unsigned_none_algorithm_token_is_refused(client, customer):
    claims = claims_for(customer, role="admin", iat=1, exp=4102444800)
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."

    response = me(client, token)

    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"


def test_tampered_payload_is_refused(client, customer, admin):
    header, _, signature = encode_claims(claims_for(customer)).split(".")
    forged = claims_for(admin, iat=1, exp=4102444800)  # claim to be the admin, keep signature

    response = me(client, f"{header}.{b64(forged)}.{signature}")

    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"


def test_token_signed_with_another_key_is_refused(client, customer):
    token = jwt.encode(claims_for(customer), "some-other-key-of-sufficient-length!", "HS256")
    assert me(client, token).json["error"]["code"] == "invalid_token"


@pytest.mark.parametrize("header", ["Bearer", "Basic abc", "Bearer not.a.jwt", "Token x"])
def test_malformed_authorization_is_refused(client, header):
    response = client.get("/api/v1/auth/me", headers={"Authorization": header})
    assert response.status_code == 401


def test_refresh_token_is_not_an_access_token(client, customer, login):
    refresh_token = login(customer.email).json["refresh_token"]
    assert me(client, refresh_token).json["error"]["code"] == "invalid_token"


def test_access_token_is_not_a_refresh_token(client, customer, login):
    access_token = login(customer.email).json["access_token"]
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": access_token})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"


def test_expired_refresh_token_is_refused(client, customer, login):
    login(customer.email)
    past = datetime.now(UTC) - timedelta(days=8)
    token = encode_claims(claims_for(customer, "refresh", iat=past,
                                     exp=past + timedelta(days=7)))

    response = client.post("/api/v1/auth/refresh", json={"refresh_token": token})

    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_expired"


def test_refresh_token_naming_no_issued_row_is_refused(client, customer):
    token = encode_claims(claims_for(customer, "refresh", jti="never-issued"))
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": token})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"
