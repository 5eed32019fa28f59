"""The mail backends. SMTP is the one external part: its client is replaced by a recorder,
and the tests assert the exact calls the server would have seen."""

from __future__ import annotations

import logging
import smtplib
import ssl
from unittest import mock

import pytest

from app.mail import Mail, MailError, send_mail

SMTP_CONFIG = {"MAIL_BACKEND": "smtp", "SMTP_HOST": "smtp.example.net", "SMTP_PORT": 2525,
               "SMTP_USERNAME": "mailer", "SMTP_PASSWORD": "smtp-secret",
               "MAIL_FROM": "Shop <orders@shop.example>"}


def test_outbox_keeps_every_mail_for_the_tests(app):
    send_mail("a@example.com", "Hello", "First body")
    send_mail("b@example.com", "Again", "Second body")

    assert app.extensions["mail_outbox"] == [
        Mail("Shop <no-reply@shop.local>", "a@example.com", "Hello", "First body"),
        Mail("Shop <no-reply@shop.local>", "b@example.com", "Again", "Second body"),
    ]


def test_console_logs_recipient_and_subject_but_never_the_body(make_app, caplog):
    app = make_app(MAIL_BACKEND="console")
    with app.app_context(), caplog.at_level(logging.INFO, logger="app.mail"):
        send_mail("a@example.com", "Reset your password", "secret link: token=abc123")

    assert "a@example.com" in caplog.text and "Reset your password" in caplog.text
    assert "abc123" not in caplog.text
    assert "mail_outbox" not in app.extensions


def test_smtp_sends_over_starttls_with_login(make_app):
    app = make_app(**SMTP_CONFIG)
    with app.app_context(), mock.patch("app.mail.smtplib.SMTP") as smtp_class:
        send_mail("a@example.com", "Your order", "Thanks for your order.")

    smtp_class.assert_called_once_with("smtp.example.net", 2525, timeout=10)
    smtp = smtp_class.return_value.__enter__.return_value
    [starttls] = smtp.starttls.call_args_list
    context = starttls.kwargs["context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    smtp.login.assert_called_once_with("mailer", "smtp-secret")
    [call] = smtp.send_message.call_args_list
    message = call.args[0]
    assert (message["From"], message["To"], message["Subject"]) == (
        "Shop <orders@shop.example>", "a@example.com", "Your order")
    assert message.get_content().strip() == "Thanks for your order."
    # TLS first, then credentials, then the mail.
    assert [c[0] for c in smtp.method_calls] == ["starttls", "login", "send_message"]


def test_smtp_without_starttls_or_credentials_just_sends(make_app):
    app = make_app(**{**SMTP_CONFIG, "SMTP_STARTTLS": False, "SMTP_USERNAME": None})
    with app.app_context(), mock.patch("app.mail.smtplib.SMTP") as smtp_class:
        send_mail("a@example.com", "Hi", "Body")

    smtp = smtp_class.return_value.__enter__.return_value
    assert [c[0] for c in smtp.method_calls] == ["send_message"]


@pytest.mark.parametrize("failure", [smtplib.SMTPAuthenticationError(535, b"no"),
                                     ConnectionRefusedError(111, "refused")])
def test_smtp_failures_become_mail_errors_without_the_secret(make_app, failure):
    app = make_app(**SMTP_CONFIG)
    with app.app_context(), mock.patch("app.mail.smtplib.SMTP") as smtp_class:
        smtp_class.return_value.__enter__.return_value.login.side_effect = failure
        with pytest.raises(MailError) as raised:
            send_mail("a@example.com", "Hi", "Body")

    assert "smtp-secret" not in str(raised.value)
    assert "smtp.example.net:2525" in str(raised.value)


def test_a_real_refused_connection_is_a_mail_error(make_app):
    app = make_app(MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=1)
    with app.app_context(), pytest.raises(MailError):
        send_mail("a@example.com", "Hi", "Body")


@pytest.mark.parametrize(("to", "subject"), [
    ("a@example.com", "Hi\r\nBcc: victim@example.com"),
    ("a@example.com\nBcc: victim@example.com", "Hi"),
])
def test_line_breaks_in_headers_are_refused(app, to, subject):
    with pytest.raises(ValueError, match="line breaks"):
        send_mail(to, subject, "Body")
    assert app.extensions["mail_outbox"] == []


def test_an_unknown_backend_is_refused_at_startup(make_app):
    with pytest.raises(ValueError, match="MAIL_BACKEND must be one of"):
        make_app(MAIL_BACKEND="pigeon")
