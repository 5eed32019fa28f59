"""Accounts after sign-up: profile, password change, administration.

Password reset lives in ``app.users.reset``.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.auth import service as auth
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.models import User
from app.pagination import Page, paginate
from app.passwords import hash_password, verify_password

PROFILE_FIELDS = ("name", "phone")


def update_profile(user: User, changes: dict) -> User:
    """Apply ``changes`` to the profile fields present in it."""
    for name in PROFILE_FIELDS:
        if name in changes:
            setattr(user, name, changes[name])
    db.session.commit()
    return user


def change_password(user: User, old_password: str, new_password: str) -> auth.Tokens:
    """Set a new password and sign out every session; the caller gets a fresh one, so the
    device that changed the password stays signed in and every other one is signed out."""
    replace_password(user, old_password, new_password)
    return auth.start_session(user)


def replace_password(user: User, old_password: str, new_password: str) -> None:
    """Check the current password, then set the new one and sign out every session. The
    pages keep their own session afterwards; the API's callers want new tokens instead."""
    if not verify_password(user.password_hash, old_password):
        raise Invalid.field("old_password", "is not the current password")
    if old_password == new_password:
        raise Invalid.field("new_password", "must differ from the current password")
    set_password(user, new_password)


def set_password(user: User, password: str) -> None:
    """Replace the password and revoke every refresh token of ``user``."""
    user.password_hash = hash_password(password)
    auth.revoke_user_sessions(user.id)
    db.session.commit()


def list_users(page: int, per_page: int, email: str | None = None) -> Page:
    statement = sa.select(User).order_by(User.id)
    if email:
        statement = statement.where(User.email.contains(email.lower(), autoescape=True))
    return paginate(statement, page, per_page)


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


def deactivate(user_id: int, acting_admin: User) -> User:
    """Lock an account out: no sign-in, no refresh, and its access tokens stop working."""
    user = get_user(user_id)
    if user.id == acting_admin.id:
        raise Conflict("administrators cannot deactivate their own account",
                       code="cannot_deactivate_self")
    user.is_active = False
    user.end_page_sessions()  # reactivating it later does not revive old cookies
    auth.revoke_user_sessions(user.id)
    db.session.commit()
    return user


def activate(user_id: int) -> User:
    user = get_user(user_id)
    user.is_active = True
    db.session.commit()
    return user
