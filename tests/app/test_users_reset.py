"""Password reset by e-mailed link, end to end through the outbox."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from app.auth.tokens import ISSUER, encode_claims
from app.extensions import db
from app.models import RefreshToken
from app.passwords import verify_password
from app.users.reset import password_fingerprint

NEW_PASSWORD = "reset to something new"
LINK = re.compile(r"http://shop\.test/reset-password\?token=\S+")


def ask_for_reset(client, email: str):
    return client.post("/api/v1/users/password-reset", json={"email": email})


def confirm(client, token: str, password: str = NEW_PASSWORD):
    return client.post("/api/v1/users/password-reset/confirm",
                       json={"token": token, "new_password": password})


def token_from(mail) -> str:
    [link] = LINK.findall(mail.body)
    return parse_qs(urlsplit(link).query)["token"][0]


def test_reset_link_works_once(app, client, customer, login):
    login(customer.email)  # a session that the reset must end

    response = ask_for_reset(client, "  CUSTOMER@example.com")

    assert response.status_code == 202
    [mail] = app.extensions["mail_outbox"]
    assert (mail.to, mail.subject) == ("customer@example.com", "Reset your password")
    assert "Casey Customer" in mail.body and "60 minutes" in mail.body
    token = token_from(mail)

    assert confirm(client, token).status_code == 204
    db.session.refresh(customer)
    assert verify_password(customer.password_hash, NEW_PASSWORD)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RefreshToken).where(
        RefreshToken.revoked_at.is_(None))) == 0
    assert login(customer.email, NEW_PASSWORD).status_code == 200

    hash_after_first_use = customer.password_hash
    again = confirm(client, token, "and yet another password")
    assert again.status_code == 422
    assert again.json["error"]["details"]["fields"] == {
        "token": ["is invalid, expired or already used"]}
    db.session.refresh(customer)
    assert customer.password_hash == hash_after_first_use


def test_unknown_email_gets_the_same_answer_and_no_mail(app, client, customer, make_user):
    make_user(email="gone@example.com", is_active=False)

    known = ask_for_reset(client, customer.email)
    unknown = ask_for_reset(client, "nobody@example.com")
    inactive = ask_for_reset(client, "gone@example.com")

    assert known.status_code == unknown.status_code == inactive.status_code == 202
    assert known.get_data() == unknown.get_data() == inactive.get_data()
    assert [mail.to for mail in app.extensions["mail_outbox"]] == ["customer@example.com"]


def test_a_failing_mail_server_does_not_change_the_answer(make_app, client, customer):
    # Nothing listens on port 1: sending fails, which must not reveal the account exists.
    smtp_client = make_app(MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=1).test_client()

    known = ask_for_reset(smtp_client, customer.email)

    assert known.status_code == 202
    assert known.get_data() == ask_for_reset(client, "nobody@example.com").get_data()


class BlockingSMTP:
    """An SMTP server that holds every connection until the test lets it go."""

    def __init__(self, release: threading.Event, delivered: list):
        self.release, self.delivered = release, delivered

    def __call__(self, *args, **kwargs):
        if not self.release.wait(timeout=10):  # a safety net, so a regression cannot hang
            raise OSError("the test never released the SMTP server")
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def send_message(self, message):
        self.delivered.append(message["To"])


def test_the_answer_never_waits_for_the_mail_server(make_app, customer):
    app = make_app(MAIL_BACKEND="smtp", SMTP_HOST="mail.test", SMTP_STARTTLS=False)
    client = app.test_client()
    release, delivered = threading.Event(), []
    executor = app.extensions["mail_executor"]

    with mock.patch("app.mail.smtplib.SMTP", BlockingSMTP(release, delivered)):
        known = ask_for_reset(client, customer.email)
        unknown = ask_for_reset(client, "nobody@example.com")
        # Had either answer waited for the server, its connection would have given up
        # before this line, and nothing would be delivered below.
        release.set()
        executor.shutdown(wait=True)

    assert known.status_code == unknown.status_code == 202
    assert known.get_data() == unknown.get_data()
    assert delivered == ["customer@example.com"]


def test_expired_reset_token_is_refused(client, customer):
    past = datetime.now(UTC) - timedelta(hours=2)
    token = encode_claims({"sub": str(customer.id), "type": "password_reset", "iss": ISSUER,
                           "iat": past, "exp": past + timedelta(hours=1), "jti": "j",
                           "pwd": password_fingerprint(customer.password_hash)})
    hash_before = customer.password_hash

    response = confirm(client, token)

    assert response.status_code == 422
    assert list(response.json["error"]["details"]["fields"]) == ["token"]
    db.session.refresh(customer)
    assert customer.password_hash == hash_before


def test_a_crafted_token_with_the_right_fingerprint_is_accepted(client, customer):
    # The control for the expiry test above: the same token, unexpired, works.
    now = datetime.now(UTC)
    token = encode_claims({"sub": str(customer.id), "type": "password_reset", "iss": ISSUER,
                           "iat": now, "exp": now + timedelta(hours=1), "jti": "j",
                           "pwd": password_fingerprint(customer.password_hash)})
    assert confirm(client, token).status_code == 204
    db.session.refresh(customer)
    assert verify_password(customer.password_hash, NEW_PASSWORD)


def test_a_link_dies_when_the_password_changes_another_way(app, client, customer,
                                                           auth_headers):
    ask_for_reset(client, customer.email)
    token = token_from(app.extensions["mail_outbox"][0])
    client.post("/api/v1/users/me/password", headers=auth_headers(customer),
                json={"old_password": "correct horse battery staple",
                      "new_password": "changed in the meantime"})

    assert confirm(client, token).status_code == 422
    db.session.refresh(customer)
    assert verify_password(customer.password_hash, "changed in the meantime")


def test_an_access_token_is_not_a_reset_token(client, customer, login):
    access_token = login(customer.email).json["access_token"]
    response = confirm(client, access_token)
    assert response.status_code == 422
    assert list(response.json["error"]["details"]["fields"]) == ["token"]


def test_deactivated_account_cannot_be_reset_with_an_earlier_link(app, client, customer):
    ask_for_reset(client, customer.email)
    token = token_from(app.extensions["mail_outbox"][0])
    customer.is_active = False
    db.session.commit()
    hash_before = customer.password_hash

    assert confirm(client, token).status_code == 422
    db.session.refresh(customer)
    assert customer.password_hash == hash_before


@pytest.mark.parametrize(("body", "bad_fields"), [
    ({}, {"email"}),
    ({"email": "not-an-email"}, {"email"}),
    ({"email": None}, {"email"}),
    ({"email": "a@example.com", "extra": 1}, {"extra"}),
])
def test_reset_request_names_the_bad_fields(app, client, body, bad_fields):
    response = client.post("/api/v1/users/password-reset", json=body)
    assert response.status_code == 422
    assert set(response.json["error"]["details"]["fields"]) == bad_fields
    assert app.extensions["mail_outbox"] == []


@pytest.mark.parametrize(("body", "bad_fields"), [
    ({}, {"token", "new_password"}),
    ({"token": "", "new_password": NEW_PASSWORD}, {"token"}),
    ({"token": "garbage", "new_password": NEW_PASSWORD}, {"token"}),
    ({"token": "t", "new_password": "short"}, {"new_password"}),
    ({"token": "t", "new_password": "z" * 129}, {"new_password"}),
])
def test_reset_confirm_names_the_bad_fields(client, body, bad_fields):
    response = client.post("/api/v1/users/password-reset/confirm", json=body)
    assert response.status_code == 422
    assert set(response.json["error"]["details"]["fields"]) == bad_fields
