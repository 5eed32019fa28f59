"""Signing up, in and out on the pages: the API's accounts, a cookie session that a password
change or a deactivation ends elsewhere, a guest cart that survives signing in."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.config import settings_from_env
from app.extensions import db, get_redis
from app.models import CartItem, User
from app.passwords import verify_password
from app.storefront.session import CART_KEY, USER_KEY
from tests.app.catalog_factories import make_category, make_product
from tests.app.conftest import PASSWORD
from tests.app.pages_support import add_to_cart, csrf_token, sign_in, submit, text, token_in

NEW_PASSWORD = "a different long passphrase"


def _signed_in_user_id(client) -> int | None:
    with client.session_transaction() as session:
        return session.get(USER_KEY)


def _cart_rows(user_id: int) -> list[tuple[int, int]]:
    return db.session.execute(sa.select(CartItem.product_id, CartItem.quantity)
                              .where(CartItem.user_id == user_id)
                              .order_by(CartItem.product_id)).all()


def test_sign_up_creates_a_customer_and_signs_in(client, app):
    response = submit(client, "/signup", {"name": "Robin Shopper", "email": " Robin@Example.com",
                                          "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "robin@example.com"))
    assert user.role == "customer" and user.name == "Robin Shopper"
    assert verify_password(user.password_hash, PASSWORD)
    assert _signed_in_user_id(client) == user.id
    assert "Welcome, Robin Shopper" in text(client.get("/"))


@pytest.mark.parametrize(("fields", "message"), [
    ({"password": "short", "confirm": "short"}, "Field must be between 8 and 128 characters"),
    ({"confirm": "something else"}, "The two passwords differ."),
    ({"email": "not-an-email"}, "Invalid email address."),
    ({"name": ""}, "This field is required."),
])
def test_sign_up_explains_what_is_wrong(client, app, fields, message):
    data = {"name": "Robin", "email": "robin@example.com", "password": PASSWORD,
            "confirm": PASSWORD, **fields}
    response = submit(client, "/signup", data)
    assert response.status_code == 422
    assert message in text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_sign_up_with_a_taken_email_says_so(client, customer):
    response = submit(client, "/signup", {"name": "Other", "email": customer.email,
                                          "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 422
    assert "is already registered" in text(response)
    assert _signed_in_user_id(client) is None


def test_sign_in_failures_do_not_reveal_whether_the_email_exists(client, customer):
    wrong_password = submit(client, "/signin", {"email": customer.email, "password": "nope nope"})
    unknown_email = submit(client, "/signin", {"email": "nobody@example.com",
                                               "password": "nope nope"})
    for response in (wrong_password, unknown_email):
        assert response.status_code == 422
        assert "Invalid email or password." in text(response)
    page = re.compile(r'<main.*</main>', re.S)
    strip_token = re.compile(r'value="[^"]*"')
    assert strip_token.sub("", page.search(text(wrong_password)).group()) == \
        strip_token.sub("", page.search(text(unknown_email)).group()).replace(
            "nobody@example.com", customer.email)
    assert _signed_in_user_id(client) is None


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(client, customer):
    response = submit(client, "/signin", {"email": customer.email, "password": PASSWORD,
                                          "next": "/account/orders"})
    assert response.headers["Location"] == "/account/orders"
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        client.post("/signout", data={"csrf_token": csrf_token(client, "/")})
        response = submit(client, "/signin", {"email": customer.email, "password": PASSWORD,
                                              "next": target})
        assert response.headers["Location"] == "/"


def test_pages_behind_sign_in_redirect_with_the_way_back(client, app):
    response = client.get("/account/orders?page=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/signin?next=/account/orders?page%3D2"


def test_a_guest_cart_survives_signing_in(client, customer):
    category = make_category("Kitchen")
    kettle = make_product(category, "Copper Kettle", stock=5)
    pan = make_product(category, "Cast Iron Pan", stock=2)
    add_to_cart(client, kettle.id, 2)
    add_to_cart(client, pan.id, 2)
    with client.session_transaction() as session:
        guest_token = session[CART_KEY]
    pan.stock = 1  # sold while the guest was browsing
    db.session.commit()

    sign_in(client, customer.email)

    assert _cart_rows(customer.id) == [(kettle.id, 2), (pan.id, 1)]
    assert get_redis().exists(f"cart:{guest_token}") == 0
    with client.session_transaction() as session:
        assert CART_KEY not in session
    html = text(client.get("/cart"))
    assert "Only 1 of Cast Iron Pan could stay in your cart" in html
    assert 'data-testid="cart-count">3<' in html


def test_sign_out_ends_the_session(client, customer):
    sign_in(client, customer.email)
    response = client.post("/signout", data={"csrf_token": csrf_token(client, "/")})
    assert response.headers["Location"] == "/"
    assert _signed_in_user_id(client) is None
    assert client.get("/account").status_code == 302


def test_sign_out_without_a_csrf_token_is_refused(client, customer):
    sign_in(client, customer.email)
    assert client.post("/signout").status_code == 400
    assert _signed_in_user_id(client) == customer.id


def test_sign_in_without_a_csrf_token_is_refused(client, customer):
    csrf_token(client)
    response = client.post("/signin", data={"email": customer.email, "password": PASSWORD})
    assert response.status_code == 400
    assert _signed_in_user_id(client) is None


def test_a_password_change_signs_out_every_other_browser(make_app, app, customer):
    here, elsewhere = app.test_client(), make_app().test_client()  # two browsers
    sign_in(here, customer.email)
    sign_in(elsewhere, customer.email)

    response = submit(here, "/account/password", {"old_password": PASSWORD,
                                                  "new_password": NEW_PASSWORD,
                                                  "confirm": NEW_PASSWORD})
    assert response.headers["Location"] == "/account"
    db.session.refresh(customer)
    assert verify_password(customer.password_hash, NEW_PASSWORD)
    assert here.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302
    assert _signed_in_user_id(elsewhere) is None


def test_a_wrong_current_password_changes_nothing(client, customer):
    sign_in(client, customer.email)
    response = submit(client, "/account/password", {"old_password": "not it at all",
                                                     "new_password": NEW_PASSWORD,
                                                     "confirm": NEW_PASSWORD})
    assert response.status_code == 422
    assert "is not the current password" in text(response)
    db.session.refresh(customer)
    assert verify_password(customer.password_hash, PASSWORD)


def test_a_deactivated_account_is_signed_out(client, customer):
    sign_in(client, customer.email)
    customer.is_active = False
    db.session.commit()
    assert client.get("/account").status_code == 302
    assert _signed_in_user_id(client) is None


def test_session_cookie_flags(client, customer):
    response = sign_in(client, customer.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # tests and development run over plain HTTP


def test_the_session_cookie_is_secure_in_production(tmp_path):
    assert settings_from_env({"APP_ENV": "production"}, str(tmp_path))["SESSION_COOKIE_SECURE"]
    assert not settings_from_env({}, str(tmp_path))["SESSION_COOKIE_SECURE"]


def test_forgotten_password_by_mail_link(client, app, customer):
    response = submit(client, "/forgot-password", {"email": customer.email})
    assert response.headers["Location"] == "/signin"
    (mail,) = app.extensions["mail_outbox"]
    link = re.search(r"http://shop\.test(/reset-password\?token=\S+)", mail.body).group(1)

    form = client.get(link)
    token = re.search(r'name="token"[^>]*value="([^"]+)"', text(form)).group(1)
    response = submit(client, "/reset-password", {"token": token, "password": NEW_PASSWORD,
                                                  "confirm": NEW_PASSWORD}, page=link)
    assert response.headers["Location"] == "/signin"
    db.session.refresh(customer)
    assert verify_password(customer.password_hash, NEW_PASSWORD)

    again = submit(client, "/reset-password", {"token": token, "password": PASSWORD,
                                               "confirm": PASSWORD}, page=link)
    assert again.status_code == 422
    assert "This link is invalid, expired or already used." in text(again)


def test_forgot_password_answers_the_same_for_an_unknown_address(client, app):
    response = submit(client, "/forgot-password", {"email": "nobody@example.com"})
    assert response.headers["Location"] == "/signin"
    assert app.extensions["mail_outbox"] == []


def test_sign_in_is_rate_limited_with_a_page(make_app, app, customer):
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SIGN_IN_PER_IP="2/minute")
    client = limited.test_client()
    for _ in range(2):
        assert submit(client, "/signin", {"email": customer.email,
                                          "password": "wrong guess"}).status_code == 422
    response = submit(client, "/signin", {"email": customer.email, "password": PASSWORD})
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert "Too many attempts" in text(response)
    assert int(response.headers["Retry-After"]) > 0


def test_replace_password_signs_out_api_sessions_and_issues_no_tokens(app, customer):
    from app.auth.service import start_session
    from app.models import RefreshToken
    from app.users.service import replace_password

    start_session(customer)
    assert replace_password(customer, PASSWORD, NEW_PASSWORD) is None
    tokens = db.session.scalars(sa.select(RefreshToken)).all()
    assert len(tokens) == 1 and tokens[0].revoked_at is not None
    assert verify_password(customer.password_hash, NEW_PASSWORD)


def test_forms_work_over_https_behind_a_cdn_that_rewrites_the_host(client, customer):
    """CloudFront forwards to the origin under the origin's own name, while the browser's
    Referer names the shop."""
    origin = "https://origin.shop.internal"
    page = client.get("/signin", base_url=origin)
    response = client.post("/signin", base_url=origin, data={
        "csrf_token": token_in(text(page)), "email": customer.email, "password": PASSWORD},
        headers={"Referer": "https://shop.example.com/signin"})
    assert response.status_code == 302
    assert client.get("/account", base_url=origin).status_code == 200
