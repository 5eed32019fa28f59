"""No password, token, card number or key in any log line, through a whole journey: sign-up,
sign-in, refresh, cart, checkout (declined, then paid), password change, password reset,
and the failures along the way. Logs are read as a JSON formatter would write them
(message, extra fields and tracebacks), in process at DEBUG and from a real gunicorn."""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa
from pythonjsonlogger.json import JsonFormatter

from app.extensions import db
from app.models import User
from app.users.reset import reset_link
from tests.app.factories import NEXT_YEAR, make_product
from tests.conftest import DATABASE_URL, REDIS_URL, TEST_CONFIG

EMAIL = "journey@example.com"
PASSWORDS = ("first passphrase 4c1d", "second passphrase 9e2f", "third passphrase 7a0b")
WRONG_PASSWORD = "wrong passphrase 5b3c"
CARD_AS_TYPED = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
# Four digits no log line has a reason to carry (a 3-digit one matches traceback line numbers).
CVC = "9731"
ADDRESS = {"name": "Jo Journey", "line1": "1 Main Street", "city": "Springfield",
           "postal_code": "12345", "country": "US"}


@dataclass(frozen=True)
class Reply:
    status_code: int
    body: Any


class Journey:
    """A shopper's whole visit over ``send(method, path, json=, headers=)``; it collects
    every secret it handles, to be looked for in the logs afterwards."""

    def __init__(self, send, reset_token_for):
        self.send = send
        self.reset_token_for = reset_token_for
        self.secrets: set[str] = {*PASSWORDS, WRONG_PASSWORD, CARD_AS_TYPED,
                                  CARD_AS_TYPED.replace(" ", ""), DECLINED_CARD,
                                  DECLINED_CARD.replace(" ", ""), CVC}

    def keep(self, tokens: dict) -> dict:
        for name in ("access_token", "refresh_token"):
            self.secrets.add(tokens[name])
            self.secrets.add(tokens[name].rsplit(".", 1)[1])  # the signature alone
        return {"Authorization": f"Bearer {tokens['access_token']}"}

    def run(self, product_id: int) -> None:
        send = self.send
        tokens = send("POST", "/api/v1/auth/register", json={
            "email": EMAIL, "password": PASSWORDS[0], "name": "Jo Journey"}).body
        self.keep(tokens)
        assert send("POST", "/api/v1/auth/login",
                    json={"email": EMAIL, "password": WRONG_PASSWORD}).status_code == 401
        tokens = send("POST", "/api/v1/auth/login",
                      json={"email": EMAIL, "password": PASSWORDS[0]}).body
        self.keep(tokens)
        tokens = send("POST", "/api/v1/auth/refresh",
                      json={"refresh_token": tokens["refresh_token"]}).body
        auth = self.keep(tokens)
        assert send("GET", "/api/v1/users/me",
                    headers={"Authorization": "Bearer forged.token.value"}).status_code == 401
        assert send("POST", "/api/v1/cart/items", json={"product_id": product_id, "quantity": 2},
                    headers=auth).status_code == 200
        self.checkout(auth)
        self.change_password(auth)
        self.reset_password()

    def checkout(self, auth: dict) -> None:
        def pay(card: str, key: str):
            return self.send("POST", "/api/v1/orders/checkout", headers={
                **auth, "Idempotency-Key": key}, json={"shipping_address": ADDRESS, "payment": {
                    "card_number": card, "exp_month": 12, "exp_year": NEXT_YEAR, "cvc": CVC}})

        assert pay(DECLINED_CARD, "journey-1").status_code == 402
        assert pay(CARD_AS_TYPED, "journey-2").status_code == 201

    def change_password(self, auth: dict) -> None:
        path = "/api/v1/users/me/password"
        assert self.send("POST", path, headers=auth, json={
            "old_password": WRONG_PASSWORD, "new_password": PASSWORDS[1]}).status_code == 422
        tokens = self.send("POST", path, headers=auth, json={
            "old_password": PASSWORDS[0], "new_password": PASSWORDS[1]}).body
        self.keep(tokens)

    def reset_password(self) -> None:
        assert self.send("POST", "/api/v1/users/password-reset",
                         json={"email": EMAIL}).status_code == 202
        token = self.reset_token_for(EMAIL)
        self.secrets.update({token, token.rsplit(".", 1)[1]})
        self.send("GET", f"/reset-password?token={token}")  # the link, as a browser opens it
        assert self.send("POST", "/api/v1/users/password-reset/confirm", json={
            "token": token + "x", "new_password": PASSWORDS[2]}).status_code == 422
        assert self.send("POST", "/api/v1/users/password-reset/confirm", json={
            "token": token, "new_password": PASSWORDS[2]}).status_code == 204
        assert self.send("POST", "/api/v1/auth/login", json={
            "email": EMAIL, "password": PASSWORDS[2]}).status_code == 200


def leaks(lines: list[str], secrets: set[str]) -> list[tuple[str, str]]:
    patterns = {secret: _pattern(secret) for secret in secrets}
    return [(secret, line) for line in lines for secret, pattern in patterns.items()
            if pattern.search(line)]


def _pattern(secret: str) -> re.Pattern[str]:
    # A short all-digit secret (the CVC) counts only as a number of its own, not as the
    # middle of a duration, a port or a hex id; anything else anywhere in the line.
    if secret.isdigit():
        return re.compile(rf"(?<![\w.]){secret}(?!\w)")
    return re.compile(re.escape(secret))


# --- in process ------------------------------------------------------------------------

def test_no_secret_is_logged_in_process(app, client, caplog):
    product = make_product(stock=5)

    def send(method: str, path: str, json=None, headers=None) -> Reply:
        response = client.open(path, method=method, json=json, headers=headers or {})
        return Reply(response.status_code, response.get_json(silent=True))

    def reset_token_for(email: str) -> str:
        link = next(line for line in app.extensions["mail_outbox"][-1].body.splitlines()
                    if "token=" in line)
        return parse_qs(urlsplit(link.strip()).query)["token"][0]

    journey = Journey(send, reset_token_for)
    journey.secrets.update({app.config["SECRET_KEY"], app.config["JWT_SECRET_KEY"]})
    caplog.set_level(logging.DEBUG)

    journey.run(product.id)

    formatter = JsonFormatter("%(levelname)s %(name)s %(message)s")
    lines = [formatter.format(record) for record in caplog.records]
    assert any('"app.request"' in line for line in lines)  # request lines were captured
    assert leaks(lines, journey.secrets) == []


# --- a real gunicorn -------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(app, tmp_path):
    """gunicorn with the production config file, on the test database, logging to a file."""
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    env = {**os.environ, "APP_ENV": "test", "DATABASE_URL": DATABASE_URL,
           "REDIS_URL": REDIS_URL, "SECRET_KEY": TEST_CONFIG["SECRET_KEY"],
           "JWT_SECRET_KEY": TEST_CONFIG["JWT_SECRET_KEY"], "MAIL_BACKEND": "console",
           "LOG_LEVEL": "DEBUG", "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "2",
           "RATELIMIT_ENABLED": "true", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    root = Path(__file__).resolve().parents[2]
    with log_path.open("w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "app/gunicorn_conf.py",
             "--bind", f"127.0.0.1:{port}", "app:create_app()"],
            cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_serving(base, server)
            yield base, log_path
        finally:
            server.terminate()
            server.wait(timeout=30)


def _wait_until_serving(base: str, server: subprocess.Popen) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited before serving")
        try:
            requests.get(f"{base}/healthz", timeout=5)
            return
        except requests.RequestException:  # not listening yet, or the worker still booting
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start serving")


@pytest.mark.slow
def test_no_secret_is_logged_by_gunicorn(app, gunicorn):
    base, log_path = gunicorn
    product = make_product(stock=5)
    session = requests.Session()

    def send(method: str, path: str, json=None, headers=None) -> Reply:
        response = session.request(method, base + path, json=json, headers=headers, timeout=30)
        is_json = response.headers.get("Content-Type", "").startswith("application/json")
        return Reply(response.status_code,
                     response.json() if is_json and response.content else None)

    def reset_token_for(email: str) -> str:
        # Signed here with the server's keys: its own mail goes to a log we read.
        user = db.session.scalar(sa.select(User).where(User.email == email))
        return parse_qs(urlsplit(reset_link(user)).query)["token"][0]

    journey = Journey(send, reset_token_for)
    journey.secrets.update({TEST_CONFIG["SECRET_KEY"], TEST_CONFIG["JWT_SECRET_KEY"]})

    journey.run(product.id)

    lines = log_path.read_text().splitlines()
    assert any('"request"' in line and '"status": 201' in line for line in lines)
    assert leaks(lines, journey.secrets) == []
