"""Actions the page tests repeat, done as a browser does them: read the form's CSRF token
from the page, post the form with it, follow the redirect."""

from __future__ import annotations

import re
from html import unescape

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.app.conftest import PASSWORD

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_CHECKOUT_KEY = re.compile(r'name="idempotency_key"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, page: str = "/signin") -> str:
    """The session's CSRF token, as a form on ``page`` carries it."""
    return token_in(client.get(page).get_data(as_text=True))


def token_in(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return unescape(match.group(1))


def submit(client: FlaskClient, url: str, data: dict | None = None, *, page: str | None = None,
           follow: bool = False) -> TestResponse:
    """POST ``data`` to ``url`` with the CSRF token of ``page`` (``url`` by default)."""
    token = csrf_token(client, page or url)
    return client.post(url, data={**(data or {}), "csrf_token": token},
                       follow_redirects=follow)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    response = submit(client, "/signin", {"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def add_to_cart(client: FlaskClient, product_id: int, quantity: int = 1) -> TestResponse:
    return submit(client, f"/cart/items/{product_id}", {"quantity": quantity},
                  page=f"/products/{product_id}")


def checkout_key(html: str) -> str:
    match = _CHECKOUT_KEY.search(html)
    assert match, "no idempotency key on the checkout form"
    return unescape(match.group(1))


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)
