"""Signing out of the pages ends the session for every copy of its cookie, and so does a
deactivation: the state is a per-user epoch in the database, not in the cookie."""

from __future__ import annotations

from flask.testing import FlaskClient

from app.extensions import db
from app.users.service import activate, deactivate
from tests.app.pages_support import csrf_token, sign_in


def _cookie_of(client: FlaskClient, app) -> str:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return cookie.value


def _browser_with(app, cookie: str) -> FlaskClient:
    """Another browser. Give it an app of its own: requests to one app share the test's
    app context, and with it Flask-WTF's cached CSRF token."""
    browser = app.test_client()
    browser.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    return browser


def test_a_cookie_copied_before_sign_out_is_signed_out(app, make_app, client, customer):
    elsewhere = make_app()
    sign_in(client, customer.email)
    copied = _cookie_of(client, app)
    assert _browser_with(elsewhere, copied).get("/account").status_code == 200  # control

    signed_out = client.post("/signout", data={"csrf_token": csrf_token(client, "/")})
    assert signed_out.headers["Location"] == "/"

    replayed = _browser_with(elsewhere, copied).get("/account")
    assert replayed.status_code == 302
    assert replayed.headers["Location"].startswith("/signin")
    db.session.refresh(customer)
    assert customer.session_epoch == 1
    # Signing in again works, with a fresh cookie.
    sign_in(client, customer.email)
    assert client.get("/account").status_code == 200


def test_reactivating_an_account_does_not_revive_its_old_cookies(
        app, make_app, client, customer, admin):
    elsewhere = make_app()
    sign_in(client, customer.email)
    copied = _cookie_of(client, app)
    assert _browser_with(elsewhere, copied).get("/account").status_code == 200  # control

    deactivate(customer.id, admin)
    activate(customer.id)

    assert _browser_with(elsewhere, copied).get("/account").status_code == 302
