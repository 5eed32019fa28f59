"""``flask create-admin EMAIL``: make an administrator, for the first sign-in of a new shop
and for operators recovering access."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from app.auth.service import normalize_email, revoke_user_sessions
from app.extensions import db
from app.models import User
from app.passwords import MAX_LENGTH, MIN_LENGTH, hash_password


def _check_password(password: str | None) -> str | None:
    if password is not None and not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise click.BadParameter(f"must be {MIN_LENGTH} to {MAX_LENGTH} characters",
                                 param_hint="password")
    return password


def _check_email(email: str) -> str:
    email = normalize_email(email)
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254:
        raise click.BadParameter("must be an e-mail address", param_hint="EMAIL")
    return email


@click.command("create-admin")
@click.argument("email")
@click.option("--password", envvar="ADMIN_PASSWORD", default=None,
              help="Password (default: $ADMIN_PASSWORD, else asked for). Sets the password "
                   "of an existing account too.")
@click.option("--name", default="Administrator", show_default=True,
              help="Name of a new account.")
@with_appcontext
def create_admin(email: str, password: str | None, name: str) -> None:
    """Promote the account EMAIL to administrator (reactivating it), or create it."""
    email = _check_email(email)
    password = _check_password(password)
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        password = password or _check_password(
            click.prompt("Password", hide_input=True, confirmation_prompt=True))
        user = User(email=email, name=name, password_hash=hash_password(password))
        db.session.add(user)
        action = "created"
    else:
        action = "promoted"
        if password:
            user.password_hash = hash_password(password)
            revoke_user_sessions(user.id)
    user.role = "admin"
    user.is_active = True
    db.session.commit()
    click.echo(f"{action} administrator {email}")
