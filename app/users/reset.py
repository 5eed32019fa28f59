"""Password reset by e-mailed link.

The link carries a signed JWT (type ``password_reset``) that expires after
PASSWORD_RESET_TTL_SECONDS and names a keyed fingerprint of the password hash current when
it was issued. Setting a password changes the hash, so a used link, and every other link
issued before it, stops working: single use without storing anything.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import current_app

from app.auth.service import normalize_email
from app.auth.tokens import ISSUER, decode, encode_claims
from app.errors import Invalid, Unauthorized
from app.extensions import db
from app.mail import send_mail_later
from app.models import User
from app.users.service import set_password

TOKEN_TYPE = "password_reset"  # noqa: S105 (a JWT "type" claim, not a secret)
SUBJECT = "Reset your password"


def request_password_reset(email: str) -> None:
    """Mail a reset link to the active account with this e-mail, if there is one. Returns
    the same nothing either way, so callers cannot tell whether the account exists."""
    user = db.session.scalar(
        sa.select(User).where(User.email == normalize_email(email), User.is_active))
    if user is None:
        return
    # Off the request path: waiting for the mail server (or failing with it) would let the
    # answer's timing tell which accounts exist.
    send_mail_later(user.email, SUBJECT, _mail_body(user, reset_link(user)))


def reset_link(user: User) -> str:
    now = datetime.now(UTC)
    ttl = timedelta(seconds=current_app.config["PASSWORD_RESET_TTL_SECONDS"])
    token = encode_claims({"sub": str(user.id), "type": TOKEN_TYPE, "iss": ISSUER, "iat": now,
                           "exp": now + ttl, "jti": str(uuid.uuid4()),
                           "pwd": password_fingerprint(user.password_hash)})
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/reset-password?{urlencode({'token': token})}"


def reset_password(token: str, new_password: str) -> User:
    """Set the password of the account ``token`` was issued for; signs out its sessions."""
    user = _user_for(token)
    set_password(user, new_password)
    return user


def password_fingerprint(password_hash: str) -> str:
    # Keyed, so the token (readable by anyone holding it) reveals nothing about the hash.
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def _user_for(token: str) -> User:
    try:
        claims = decode(token, TOKEN_TYPE)
    except Unauthorized as exc:
        raise _invalid_token() from exc
    user = db.session.get(User, int(claims["sub"]))
    if user is None or not user.is_active or not hmac.compare_digest(
            str(claims.get("pwd", "")), password_fingerprint(user.password_hash)):
        raise _invalid_token()
    return user


def _invalid_token() -> Invalid:
    return Invalid.field("token", "is invalid, expired or already used")


def _mail_body(user: User, link: str) -> str:
    minutes = current_app.config["PASSWORD_RESET_TTL_SECONDS"] // 60
    return (
        f"Hello {user.name},\n\n"
        "Someone asked to reset the password of your shop account. Open this link within "
        f"{minutes} minutes to choose a new one:\n\n{link}\n\n"
        "The link works once. If you did not ask for it, ignore this mail: your password "
        "stays as it is.\n"
    )
