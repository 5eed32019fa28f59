"""Accounts and sessions: sign-up, sign-in, refresh-token rotation with reuse detection,
sign-out. Plain functions over the database, used by the API and the pages alike.

A session is a family of refresh tokens: signing in starts one, every refresh rotates the
presented token into a new one of the same family, and presenting a token that was already
rotated means it was copied, so the whole family is revoked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.auth.tokens import decode, issue_access_token, issue_refresh_token
from app.errors import Conflict, Unauthorized
from app.extensions import commit_keeping_state, db
from app.models import RefreshToken, User
from app.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password

BAD_CREDENTIALS = "invalid email or password"


@dataclass(frozen=True)
class Tokens:
    """What a successful sign-in or refresh hands to the client."""

    access_token: str
    refresh_token: str
    expires_in: int
    user: User
    token_type: str = "Bearer"  # noqa: S105 (the scheme name, not a secret)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def register(email: str, password: str, name: str, phone: str | None = None) -> User:
    """Create a customer account, or raise ``Conflict`` when the e-mail is taken."""
    email = normalize_email(email)
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise _email_taken()
    user = User(email=email, password_hash=hash_password(password), name=name.strip(),
                phone=phone, role="customer", is_active=True)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError as exc:  # a concurrent sign-up with the same e-mail won the race
        db.session.rollback()
        raise _email_taken() from exc
    return user


def _email_taken() -> Conflict:
    return Conflict("an account with this email already exists",
                    {"fields": {"email": ["is already registered"]}}, code="email_taken")


def authenticate(email: str, password: str) -> User:
    """The active user with these credentials, or ``Unauthorized``. An unknown e-mail costs a
    hash verification too, so neither the answer nor its timing tells whether it exists."""
    user = db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))
    if user is None:
        verify_password(DUMMY_HASH, password)
        raise Unauthorized(BAD_CREDENTIALS, code="invalid_credentials")
    if not verify_password(user.password_hash, password):
        raise Unauthorized(BAD_CREDENTIALS, code="invalid_credentials")
    if not user.is_active:
        raise Unauthorized("account is not active", code="inactive_account")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session.commit()
    return user


def start_session(user: User) -> Tokens:
    """Sign ``user`` in: a new refresh-token family and a fresh access token."""
    tokens = _issue(user, family_id=None)
    commit_keeping_state()  # the answer shows the user read for this sign-in
    return tokens


def refresh(refresh_token: str) -> Tokens:
    """Rotate a refresh token. Presenting one that was already rotated revokes its family."""
    claims = decode(refresh_token, "refresh")
    # The row lock serialises two refreshes of the same token: the second sees it rotated.
    row = db.session.scalar(
        sa.select(RefreshToken).where(RefreshToken.id == claims["jti"]).with_for_update())
    try:
        user = _rotatable(row, claims)
    except Unauthorized:
        db.session.commit()  # keeps a reuse revocation, and releases the lock either way
        raise
    row.rotated_at = _now()
    tokens = _issue(user, family_id=row.family_id)
    commit_keeping_state()  # the answer shows the user read with the locked token
    return tokens


def _rotatable(row: RefreshToken | None, claims: dict) -> User:
    """The user whose token ``row`` may be rotated now, or ``Unauthorized``."""
    if row is None or str(row.user_id) != claims["sub"]:
        raise Unauthorized("invalid token", code="invalid_token")
    if row.revoked_at is not None or _family_revoked(row.family_id):
        # A token minted while its family was being revoked escaped that UPDATE; it dies
        # with its family now (the caller commits).
        revoke_family(row.family_id)
        raise Unauthorized("session has been signed out", code="token_revoked")
    if row.rotated_at is not None:
        revoke_family(row.family_id)
        raise Unauthorized("refresh token was already used; sign in again", code="token_reused")
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("account is not active", code="inactive_account")
    return user


def _family_revoked(family_id: str) -> bool:
    return db.session.scalar(sa.select(sa.exists().where(
        RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_not(None))))


def logout(refresh_token: str) -> None:
    """Revoke the session ``refresh_token`` belongs to, whatever state that token is in."""
    claims = decode(refresh_token, "refresh")
    family_id = db.session.scalar(
        sa.select(RefreshToken.family_id).where(RefreshToken.id == claims["jti"],
                                                RefreshToken.user_id == int(claims["sub"])))
    if family_id is not None:
        revoke_family(family_id)
        db.session.commit()


def revoke_family(family_id: str) -> None:
    db.session.execute(
        sa.update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=_now()))


def revoke_user_sessions(user_id: int) -> None:
    """Revoke every refresh token of ``user_id`` (the caller commits)."""
    db.session.execute(
        sa.update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=_now()))


def _issue(user: User, family_id: str | None) -> Tokens:
    now = _now()
    config = current_app.config
    token_id = str(uuid.uuid4())
    row = RefreshToken(id=token_id, family_id=family_id or token_id, user_id=user.id,
                       expires_at=now + timedelta(seconds=config["JWT_REFRESH_TTL_SECONDS"]))
    db.session.add(row)
    return Tokens(
        access_token=issue_access_token(user.id, user.role),
        refresh_token=issue_refresh_token(user.id, row.id, now, row.expires_at),
        expires_in=config["JWT_ACCESS_TTL_SECONDS"],
        user=user,
    )


def _now() -> datetime:
    return datetime.now(UTC)
