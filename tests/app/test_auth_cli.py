"""``flask create-admin``, through Flask's CLI runner."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import RefreshToken, User
from app.passwords import verify_password
from tests.app.conftest import PASSWORD

ADMIN_PASSWORD = "admin password long enough"


def run(app, *args: str, env: dict | None = None, **kwargs):
    # ADMIN_PASSWORD of the shell running the tests must not leak into them.
    env = {"ADMIN_PASSWORD": None, **(env or {})}
    return app.test_cli_runner().invoke(args=["create-admin", *args], env=env, **kwargs)


def user_by_email(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))


def test_creates_an_admin_with_the_password_option(app):
    result = run(app, "Root@Example.com", "--password", ADMIN_PASSWORD, "--name", "Rita Root")

    assert result.exit_code == 0, result.output
    assert result.output == "created administrator root@example.com\n"
    user = user_by_email("root@example.com")
    assert (user.role, user.is_active, user.name) == ("admin", True, "Rita Root")
    assert verify_password(user.password_hash, ADMIN_PASSWORD)


def test_takes_the_password_from_the_environment(app):
    result = run(app, "ops@example.com", env={"ADMIN_PASSWORD": ADMIN_PASSWORD})

    assert result.exit_code == 0, result.output
    assert verify_password(user_by_email("ops@example.com").password_hash, ADMIN_PASSWORD)


def test_prompts_for_the_password_twice_without_echoing_it(app):
    result = run(app, "asked@example.com", input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert ADMIN_PASSWORD not in result.output
    assert verify_password(user_by_email("asked@example.com").password_hash, ADMIN_PASSWORD)


def test_promotes_an_existing_customer_and_keeps_their_password(app, make_user):
    make_user(email="casey@example.com", is_active=False)

    result = run(app, "casey@example.com")

    assert result.exit_code == 0, result.output
    assert result.output == "promoted administrator casey@example.com\n"
    user = user_by_email("casey@example.com")
    assert (user.role, user.is_active) == ("admin", True)
    assert verify_password(user.password_hash, PASSWORD)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_a_given_password_replaces_an_existing_one_and_ends_its_sessions(app, make_user,
                                                                         login):
    user = make_user(email="locked-out@example.com", role="admin")
    login("locked-out@example.com")

    result = run(app, "locked-out@example.com", "--password", ADMIN_PASSWORD)

    assert result.exit_code == 0, result.output
    assert verify_password(user_by_email("locked-out@example.com").password_hash,
                           ADMIN_PASSWORD)
    assert db.session.scalar(sa.select(RefreshToken.revoked_at).where(
        RefreshToken.user_id == user.id)) is not None


def test_refuses_a_short_password_and_creates_nothing(app):
    result = run(app, "weak@example.com", "--password", "short")

    assert result.exit_code == 2
    assert "must be 8 to 128 characters" in result.output
    assert user_by_email("weak@example.com") is None


def test_refuses_something_that_is_not_an_email(app):
    result = run(app, "not-an-email", "--password", ADMIN_PASSWORD)

    assert result.exit_code == 2
    assert "must be an e-mail address" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
