"""The JWT algorithm is pinned: unsigned, other-algorithm and tampered tokens are refused on
every endpoint that takes one (access, refresh, password reset)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.auth import service as accounts
from app.auth.tokens import ALGORITHM, ISSUER, encode_claims
from app.extensions import db
from app.models import RefreshToken
from app.users.reset import reset_link


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(user, kind: str = "access", **overrides) -> dict:
    now = datetime.now(UTC)
    return {"sub": str(user.id), "role": user.role, "type": kind, "iss": ISSUER,
            "iat": int(now.timestamp()), "exp": int((now + timedelta(minutes=5)).timestamp()),
            "jti": "a-token-id", **overrides}


def hand_signed(header: dict, claims: dict, key: bytes, digest=hashlib.sha256) -> str:
    """A token signed by hand, so the header can say anything."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(key, signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64(signature)}"


def me(client, token: str):
    return client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})


def refused(response) -> bool:
    return response.status_code == 401 and response.json["error"]["code"] == "invalid_token"


@pytest.fixture
def jwt_key(app) -> bytes:
    return app.config["JWT_SECRET_KEY"].encode()


def test_the_algorithm_is_hs256(client, customer, jwt_key):
    token = encode_claims(claims_for(customer))
    assert ALGORITHM == "HS256"
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    # Control: a correct hand-signed token is accepted, so the refusals below are real.
    assert me(client, hand_signed({"alg": "HS256", "typ": "JWT"}, claims_for(customer),
                                  jwt_key)).status_code == 200


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_unsigned_tokens_are_refused_however_none_is_spelt(client, admin, alg):
    header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims_for(admin)).encode())
    for token in (f"{header}.{payload}.", f"{header}.{payload}"):
        assert refused(me(client, token))


@pytest.mark.parametrize(("alg", "digest"), [("HS384", hashlib.sha384),
                                             ("HS512", hashlib.sha512)])
def test_other_hmac_algorithms_with_the_right_key_are_refused(client, customer, jwt_key,
                                                               alg, digest):
    token = hand_signed({"alg": alg, "typ": "JWT"}, claims_for(customer), jwt_key, digest)
    assert refused(me(client, token))


def test_rs256_tokens_are_refused(client, customer):
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims_for(customer), private_key, algorithm="RS256")
    assert refused(me(client, token))


def test_rs256_header_over_an_hmac_signature_is_refused(client, customer, jwt_key):
    """Key confusion: a verifier trusting the header would check this HMAC against the
    key as if it were a public key; ours never reads the algorithm from the token."""
    assert refused(me(client, hand_signed({"alg": "RS256", "typ": "JWT"},
                                          claims_for(customer), jwt_key)))
    public_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key() \
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert refused(me(client, hand_signed({"alg": "HS256", "typ": "JWT"},
                                          claims_for(customer), public_pem)))


def test_a_tampered_role_is_refused(client, customer, jwt_key):
    header, payload, signature = hand_signed(
        {"alg": "HS256", "typ": "JWT"}, claims_for(customer), jwt_key).split(".")
    forged = b64(json.dumps(claims_for(customer, role="admin")).encode())
    assert refused(me(client, f"{header}.{forged}.{signature}"))
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert refused(me(client, f"{header}.{payload}.{flipped}"))


def test_header_key_hints_are_ignored(client, customer, jwt_key):
    """jku/jwk/kid cannot point verification at an attacker's key."""
    attacker_key = b"attacker-controlled-key-of-32-bytes!!"
    for hint in ({"kid": "../../dev/null"}, {"jku": "https://evil.example/jwks.json"},
                 {"jwk": {"kty": "oct", "k": b64(attacker_key)}}):
        token = hand_signed({"alg": "HS256", "typ": "JWT", **hint}, claims_for(customer),
                            attacker_key)
        assert refused(me(client, token))


def test_wrong_issuer_and_missing_claims_are_refused(client, customer):
    assert refused(me(client, encode_claims(claims_for(customer, iss="someone-else"))))
    for claim in ("exp", "sub", "jti", "type"):
        claims = claims_for(customer)
        del claims[claim]
        assert refused(me(client, encode_claims(claims)))


def unsigned(claims: dict) -> str:
    return f"{b64(json.dumps({'alg': 'none'}).encode())}.{b64(json.dumps(claims).encode())}."


def genuine_claims(token: str) -> dict:
    """The claims of a token the app issued: a forgery of them differs only by its signature."""
    return jwt.decode(token, options={"verify_signature": False})


def _refresh_rows() -> list[tuple]:
    db.session.expire_all()
    return db.session.execute(sa.select(RefreshToken.id, RefreshToken.rotated_at)).all()


def test_refresh_refuses_forged_tokens_and_issues_nothing(client, customer, jwt_key):
    genuine = accounts.start_session(customer).refresh_token
    claims = genuine_claims(genuine)  # a real row's jti: only the signature can refuse them
    before = _refresh_rows()
    hs512 = hand_signed({"alg": "HS512"}, claims, jwt_key, hashlib.sha512)
    for token in (unsigned(claims), hs512):
        response = client.post("/api/v1/auth/refresh", json={"refresh_token": token})
        assert refused(response)
    assert _refresh_rows() == before  # nothing issued, the real token not rotated
    # Control: the same claims, properly signed, are accepted.
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": genuine}).status_code == 200


def test_password_reset_refuses_an_unsigned_token(client, customer):
    original_hash = customer.password_hash
    genuine = parse_qs(urlsplit(reset_link(customer)).query)["token"][0]
    forged = unsigned(genuine_claims(genuine))  # the real ``pwd`` fingerprint and all

    response = client.post("/api/v1/users/password-reset/confirm",
                           json={"token": forged, "new_password": "an entirely new password"})

    assert response.status_code == 422
    assert response.json["error"]["details"]["fields"]["token"]
    db.session.refresh(customer)
    assert customer.password_hash == original_hash
    # Control: the genuine token does reset it.
    assert client.post("/api/v1/users/password-reset/confirm", json={
        "token": genuine, "new_password": "an entirely new password"}).status_code == 204
    db.session.refresh(customer)
    assert customer.password_hash != original_hash
