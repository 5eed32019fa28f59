"""Rate limits: each limit holds, answers 429 with Retry-After in the one error shape, is
counted before any work is done, resets, and fails open when Redis is away."""

from __future__ import annotations

import logging
import time

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import RefreshToken, User
from app.passwords import verify_password
from app.ratelimit import rate_limits
from tests.app.conftest import PASSWORD

LOGIN = "/api/v1/auth/login"
REGISTER = "/api/v1/auth/register"
CHANGE_PASSWORD = "/api/v1/users/me/password"
RESET = "/api/v1/users/password-reset"
RESET_CONFIRM = "/api/v1/users/password-reset/confirm"
GENEROUS = "1000/minute"
NEW_PASSWORD = "a brand new passphrase"
WRONG_PASSWORD = "not the password"


@pytest.fixture
def limited(make_app, app):
    """A client of an app with rate limits on; every limit generous unless given."""
    def factory(**limits: str):
        settings = {name: GENEROUS for name in (
            "RATELIMIT_SIGN_IN_PER_IP", "RATELIMIT_SIGN_IN_PER_EMAIL", "RATELIMIT_SIGN_UP",
            "RATELIMIT_PASSWORD_CHANGE", "RATELIMIT_PASSWORD_RESET", "RATELIMIT_API")}
        limited_app = make_app(RATELIMIT_ENABLED=True, **{**settings, **limits})
        return limited_app.test_client()

    return factory


def from_ip(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def sign_in(client, email: str, password: str = WRONG_PASSWORD, ip: str = "10.0.0.1"):
    return client.post(LOGIN, json={"email": email, "password": password}, **from_ip(ip))


def assert_rate_limited(response, limit: str) -> None:
    assert response.status_code == 429
    error = response.json["error"]
    assert error["code"] == "rate_limited"
    assert error["details"]["limit"] == limit
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert error["details"]["retry_after"] == retry_after


def sessions_of(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(RefreshToken)
                             .where(RefreshToken.user_id == user.id))


# --- sign-in ---------------------------------------------------------------------------

def test_sign_in_is_limited_per_address(limited, customer):
    client = limited(RATELIMIT_SIGN_IN_PER_IP="3/minute")
    for number in range(3):
        assert sign_in(client, f"guess{number}@example.com").status_code == 401

    blocked = sign_in(client, customer.email, PASSWORD)

    assert_rate_limited(blocked, "3 per 1 minute")
    assert sessions_of(customer) == 0  # refused before the password was even checked
    assert sign_in(client, customer.email, PASSWORD, ip="10.0.0.2").status_code == 200


def test_sign_in_is_limited_per_email_across_addresses(limited, customer):
    client = limited(RATELIMIT_SIGN_IN_PER_EMAIL="2/minute")
    assert sign_in(client, customer.email, ip="10.0.0.1").status_code == 401
    assert sign_in(client, f"  {customer.email.upper()} ", ip="10.0.0.2").status_code == 401

    blocked = sign_in(client, customer.email, PASSWORD, ip="10.0.0.3")

    assert_rate_limited(blocked, "2 per 1 minute")
    assert sessions_of(customer) == 0
    assert sign_in(client, "someone.else@example.com", ip="10.0.0.3").status_code == 401


def test_the_sign_in_limit_resets(limited, customer):
    client = limited(RATELIMIT_SIGN_IN_PER_EMAIL="1/minute")
    sign_in(client, customer.email)
    assert sign_in(client, customer.email, PASSWORD).status_code == 429

    rate_limits(client.application).reset()

    assert sign_in(client, customer.email, PASSWORD).status_code == 200
    assert sessions_of(customer) == 1


def test_the_window_ends_by_itself(limited, customer):
    client = limited(RATELIMIT_SIGN_IN_PER_IP="2 per 2 seconds")

    def malformed():  # counted like any attempt, but answered before any hashing: quick
        return client.post(LOGIN, json={}, **from_ip("10.0.0.1"))

    assert [malformed().status_code, malformed().status_code] == [422, 422]
    assert malformed().status_code == 429

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and malformed().status_code == 429:
        time.sleep(0.1)

    assert sign_in(client, customer.email, PASSWORD).status_code == 200


def test_a_forged_forwarded_for_does_not_escape_the_limit(limited, customer):
    client = limited(RATELIMIT_SIGN_IN_PER_IP="1/minute")
    sign_in(client, "a@example.com")
    response = client.post(LOGIN, json={"email": "b@example.com", "password": "x"},
                           headers={"X-Forwarded-For": "198.51.100.9"}, **from_ip("10.0.0.1"))
    assert response.status_code == 429


def test_behind_trusted_proxies_each_client_has_its_own_budget(make_app, app, customer):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SIGN_IN_PER_IP="1/minute",
                      TRUSTED_PROXY_COUNT=1).test_client()

    def via_proxy(client_address: str):
        return client.post(LOGIN, json={"email": customer.email, "password": "x"},
                           headers={"X-Forwarded-For": client_address}, **from_ip("10.0.0.1"))

    assert via_proxy("198.51.100.1").status_code == 401
    assert via_proxy("198.51.100.2").status_code == 401
    assert via_proxy("198.51.100.1").status_code == 429


# --- sign-up, password change, password reset ------------------------------------------

def test_sign_up_is_limited_per_address(limited):
    client = limited(RATELIMIT_SIGN_UP="2/minute")

    def register(number: int):
        return client.post(REGISTER, json={"email": f"new{number}@example.com",
                                           "password": NEW_PASSWORD, "name": "New"},
                           **from_ip("10.0.0.7"))

    assert [register(1).status_code, register(2).status_code] == [201, 201]
    assert_rate_limited(register(3), "2 per 1 minute")
    emails = set(db.session.scalars(sa.select(User.email)))
    assert emails == {"new1@example.com", "new2@example.com"}


def test_password_change_is_limited_per_account(limited, customer, make_user, auth_headers):
    client = limited(RATELIMIT_PASSWORD_CHANGE="2/minute")
    headers = auth_headers(customer)

    def change(old: str, headers=headers, ip: str = "10.0.0.1"):
        return client.post(CHANGE_PASSWORD, json={"old_password": old,
                                                  "new_password": NEW_PASSWORD},
                           headers=headers, **from_ip(ip))

    assert change("wrong one").status_code == 422
    assert change("wrong two", ip="10.0.0.2").status_code == 422
    assert_rate_limited(change(PASSWORD, ip="10.0.0.3"), "2 per 1 minute")
    db.session.refresh(customer)
    assert verify_password(customer.password_hash, PASSWORD)  # unchanged

    other = make_user()
    assert change(PASSWORD, headers=auth_headers(other)).status_code == 200


def test_password_reset_requests_are_limited_per_email(limited, customer):
    client = limited(RATELIMIT_PASSWORD_RESET="2/minute")
    outbox = client.application.extensions["mail_outbox"]

    answers = [client.post(RESET, json={"email": customer.email}, **from_ip(f"10.0.0.{n}"))
               for n in range(1, 4)]

    assert [answer.status_code for answer in answers[:2]] == [202, 202]
    assert_rate_limited(answers[2], "2 per 1 minute")
    assert [mail.to for mail in outbox] == [customer.email, customer.email]


def test_password_reset_is_limited_per_address(limited):
    client = limited(RATELIMIT_PASSWORD_RESET="2/minute")
    for number in range(2):
        assert client.post(RESET, json={"email": f"x{number}@example.com"}).status_code == 202
    assert client.post(RESET, json={"email": "x9@example.com"}).status_code == 429
    confirm = client.post(RESET_CONFIRM, json={"token": "t", "new_password": NEW_PASSWORD})
    assert confirm.status_code == 429  # confirmations share the address's budget


# --- the general API limit -------------------------------------------------------------

def test_the_api_is_limited_per_address_for_guests(limited):
    client = limited(RATELIMIT_API="3/minute")
    paths = ["/api/v1/categories", "/api/v1/products", "/api/v1/search?q=tea"]
    assert [client.get(path).status_code for path in paths] == [200, 200, 200]

    assert_rate_limited(client.get("/api/v1/categories"), "3 per 1 minute")
    assert client.get("/api/v1/categories", **from_ip("10.0.0.9")).status_code == 200
    assert client.get("/healthz").status_code == 200  # not part of the API


def test_the_api_is_limited_per_account_when_signed_in(limited, customer, make_user,
                                                       auth_headers):
    client = limited(RATELIMIT_API="2/minute")
    headers = auth_headers(customer)
    assert client.get("/api/v1/users/me", headers=headers, **from_ip("10.0.0.1")).status_code \
        == 200
    assert client.get("/api/v1/users/me", headers=headers, **from_ip("10.0.0.2")).status_code \
        == 200

    blocked = client.get("/api/v1/users/me", headers=headers, **from_ip("10.0.0.3"))

    assert_rate_limited(blocked, "2 per 1 minute")
    other = auth_headers(make_user())
    assert client.get("/api/v1/users/me", headers=other, **from_ip("10.0.0.3")).status_code \
        == 200
    # An invalid token is keyed by address (the account it names is unverified): no 500.
    forged = {"Authorization": "Bearer not-a-token"}
    assert client.get("/api/v1/users/me", headers=forged, **from_ip("10.0.0.4")).status_code \
        == 401


def test_limits_are_settings(make_app):
    with pytest.raises(ValueError, match="RATELIMIT_SIGN_UP"):
        make_app(RATELIMIT_SIGN_UP="lots")


# --- Redis away ------------------------------------------------------------------------

@pytest.fixture
def unreachable_limit_storage(make_app, app):
    return make_app(RATELIMIT_ENABLED=True, REDIS_URL="redis://127.0.0.1:9/0",
                    RATELIMIT_SIGN_IN_PER_IP="2/minute").test_client()


def test_without_redis_limits_fail_open_with_a_warning(unreachable_limit_storage, customer,
                                                       caplog):
    client = unreachable_limit_storage
    caplog.set_level(logging.WARNING)

    response = sign_in(client, customer.email, PASSWORD)

    assert response.status_code == 200
    assert any("counting in this process's memory" in record.getMessage()
               for record in caplog.records if record.levelno == logging.WARNING)
    # Limits still hold per process meanwhile.
    sign_in(client, customer.email)
    assert sign_in(client, customer.email).status_code == 429


# --- the pages share the budgets -------------------------------------------------------

def test_the_sign_in_form_and_the_api_share_one_budget(limited, customer):
    client = limited(RATELIMIT_SIGN_IN_PER_EMAIL="2/minute", WTF_CSRF_ENABLED=False)

    def sign_in_page(password: str = WRONG_PASSWORD):
        return client.post("/signin", data={"email": customer.email, "password": password},
                           **from_ip("10.0.0.5"))

    assert client.get("/signin").status_code == 200  # showing the form costs nothing
    assert sign_in(client, customer.email).status_code == 401
    assert sign_in_page().status_code == 422  # a failed attempt, made through the page
    assert sign_in(client, customer.email, PASSWORD).status_code == 429
    assert sign_in_page(PASSWORD).status_code == 429
    assert client.get("/signin").status_code == 200


def test_page_sessions_are_limited_per_account(limited, customer):
    client = limited(RATELIMIT_SIGN_IN_PER_IP="1000/minute", WTF_CSRF_ENABLED=False,
                     RATELIMIT_PASSWORD_CHANGE="1/minute")
    signed_in = client.post("/signin", data={"email": customer.email, "password": PASSWORD})
    assert signed_in.status_code == 302

    def change_on_page(ip: str):
        return client.post("/account/password", data={
            "old_password": WRONG_PASSWORD, "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD}, **from_ip(ip))

    assert change_on_page("10.0.0.1").status_code != 429
    assert change_on_page("10.0.0.2").status_code == 429  # same account, other address
