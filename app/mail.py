"""Outgoing e-mail, through the backend ``MAIL_BACKEND`` names.

- ``smtp``: production; STARTTLS (unless SMTP_STARTTLS is off) and login when configured.
- ``console``: development; logs recipient and subject only, because bodies carry secrets
  such as password-reset links and logs are read by more people than mailboxes are.
- ``outbox``: tests; every mail is appended to ``app.extensions["mail_outbox"]``.

Everything else calls ``send_mail(to, subject, body)``, or ``send_mail_later(...)`` when
the caller's answer must not wait for (or be timed by) the mail server.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage

from flask import Flask, current_app

from app.config import MAIL_BACKENDS

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 10
MAIL_THREADS = 2
_EXECUTOR = "mail_executor"


class MailError(Exception):
    """The mail could not be handed to the mail server."""


@dataclass(frozen=True)
class Mail:
    sender: str
    to: str
    subject: str
    body: str

    def __post_init__(self) -> None:
        # A line break in a header value would let its author add headers of their own.
        for header in (self.sender, self.to, self.subject):
            if "\r" in header or "\n" in header:
                raise ValueError("mail headers may not contain line breaks")


def init_mail(app: Flask) -> None:
    backend = app.config["MAIL_BACKEND"]
    if backend not in MAIL_BACKENDS:
        raise ValueError(f"MAIL_BACKEND must be one of {', '.join(MAIL_BACKENDS)}, not {backend!r}")
    if backend == "outbox":
        app.extensions["mail_outbox"] = []
    else:  # starts no thread until the first mail, so a pre-forking server can share it
        app.extensions[_EXECUTOR] = ThreadPoolExecutor(MAIL_THREADS, thread_name_prefix="mail")


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a plain-text mail, or raise ``MailError``."""
    config = current_app.config
    mail = Mail(sender=config["MAIL_FROM"], to=to, subject=subject, body=body)
    backend = config["MAIL_BACKEND"]
    if backend == "outbox":
        current_app.extensions["mail_outbox"].append(mail)
    elif backend == "console":
        log.info("mail to %s: %s", mail.to, mail.subject)
    else:
        _send_smtp(mail, config)


def send_mail_later(to: str, subject: str, body: str) -> None:
    """Hand the mail to a background thread and return at once; failures are logged. The
    outbox backend sends right away, so tests read their outbox without waiting."""
    # The app itself, not the context-bound proxy, for the thread; Flask types the proxy as
    # the app, so the proxy's own method is unknown to the checker.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    Mail(sender=app.config["MAIL_FROM"], to=to, subject=subject, body=body)  # checks headers now
    if app.config["MAIL_BACKEND"] == "outbox":
        send_mail(to, subject, body)
    else:
        app.extensions[_EXECUTOR].submit(_send_in_background, app, to, subject, body)


def _send_in_background(app: Flask, to: str, subject: str, body: str) -> None:
    with app.app_context():
        try:
            send_mail(to, subject, body)
        except Exception:  # nobody waits for this thread: the log is the only report
            log.exception("mail %r was not sent", subject)


def _message(mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message.set_content(mail.body)
    return message


def _send_smtp(mail: Mail, config) -> None:
    message = _message(mail)
    try:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"],
                          timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if config["SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"could not hand the mail to {config['SMTP_HOST']}:{config['SMTP_PORT']}: "
                        f"{exc.__class__.__name__}") from exc
