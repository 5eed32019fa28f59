"""Access tokens: short-lived HS256 JWTs. The algorithm is pinned on decode, so a token
signed with ``none`` or another algorithm is rejected whatever its header says."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
from flask import current_app, has_request_context, request

from app.errors import Unauthorized

ALGORITHM = "HS256"
ISSUER = "shop"


def _key() -> str:
    return current_app.config["JWT_SECRET_KEY"]


def issue_access_token(user_id: int, role: str) -> str:
    now = datetime.now(UTC)
    ttl = timedelta(seconds=current_app.config["JWT_ACCESS_TTL_SECONDS"])
    claims = {"sub": str(user_id), "role": role, "type": "access", "iss": ISSUER,
              "iat": now, "exp": now + ttl, "jti": str(uuid.uuid4())}
    return jwt.encode(claims, _key(), algorithm=ALGORITHM)


def issue_refresh_token(user_id: int, token_id: str, issued_at: datetime,
                        expires_at: datetime) -> str:
    """A refresh JWT whose ``jti`` is the id of its ``RefreshToken`` row."""
    claims = {"sub": str(user_id), "type": "refresh", "iss": ISSUER,
              "iat": issued_at, "exp": expires_at, "jti": token_id}
    return jwt.encode(claims, _key(), algorithm=ALGORITHM)


def encode_claims(claims: dict) -> str:
    return jwt.encode(claims, _key(), algorithm=ALGORITHM)


def decode(token: str, expected_type: str) -> dict:
    """Verify signature, expiry, issuer and token type, or raise 401. Within a request a
    token verified once is not verified again (the rate limit's identity and the view's
    guard both ask): the verified claims are kept in the request's environ."""
    verified = request.environ.setdefault(_VERIFIED, {}) if has_request_context() else {}
    claims = verified.get((token, expected_type))
    if claims is None:
        claims = verified[(token, expected_type)] = _verify(token, expected_type)
    return dict(claims)


_VERIFIED = "shop.verified_tokens"


def _verify(token: str, expected_type: str) -> dict:
    try:
        claims = jwt.decode(token, _key(), algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub", "type", "jti"]})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("token expired", code="token_expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("invalid token", code="invalid_token") from exc
    if claims.get("type") != expected_type:
        raise Unauthorized("invalid token", code="invalid_token")
    return claims
