"""Actions the app tests repeat: making users and signing requests as them."""

from __future__ import annotations

import itertools

import pytest

from app.auth.tokens import issue_access_token
from app.extensions import db
from app.models import User
from app.passwords import hash_password
from tests.conftest import truncate_all

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


@pytest.fixture
def make_user(app):
    def factory(email: str | None = None, password: str = PASSWORD, role: str = "customer",
                name: str = "Test Shopper", is_active: bool = True) -> User:
        user = User(email=(email or f"shopper{next(_counter)}@example.com").lower(),
                    password_hash=hash_password(password), name=name, role=role,
                    is_active=is_active)
        db.session.add(user)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def auth_headers():
    def factory(user: User) -> dict:
        return {"Authorization": f"Bearer {issue_access_token(user.id, user.role)}"}

    return factory


@pytest.fixture
def customer(make_user) -> User:
    return make_user(email="customer@example.com", name="Casey Customer")


@pytest.fixture
def admin(make_user) -> User:
    return make_user(email="admin@example.com", name="Ada Admin", role="admin")


@pytest.fixture
def login(client):
    """Sign in through the API; returns the response (tokens in ``.json``)."""
    def action(email: str, password: str = PASSWORD, headers: dict | None = None):
        return client.post("/api/v1/auth/login", json={"email": email, "password": password},
                           headers=headers or {})

    return action


@pytest.fixture
def live_app(make_app):
    """An app with the live channel's test settings (tests/app/live_support.py), on emptied
    tables."""
    from tests.app.live_support import LIVE_TEST_CONFIG  # it imports this module's PASSWORD

    app = make_app(**LIVE_TEST_CONFIG)
    truncate_all(app)
    with app.app_context():
        yield app


@pytest.fixture
def live_server(live_app):
    from tests.app.live_support import ThreadedServer

    with ThreadedServer(live_app) as running:
        yield running
