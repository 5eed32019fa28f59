"""Production refuses to start on development defaults, and says which settings are wrong."""

from __future__ import annotations

import pytest

from app import create_app
from app.security import InsecureConfiguration

SETTINGS = ("APP_ENV", "SECRET_KEY", "JWT_SECRET_KEY", "DATABASE_URL", "REDIS_URL")
REAL = {
    "APP_ENV": "production",
    "SECRET_KEY": "a-real-session-key-from-the-secret-store-0123456789",
    "JWT_SECRET_KEY": "a-real-jwt-key-from-the-secret-store-0123456789abc",
    "DATABASE_URL": "postgresql://shop:pw@db.internal:5432/shop",
    "REDIS_URL": "rediss://cache.internal:6379/0",
    "MAIL_BACKEND": "smtp",
}


@pytest.fixture
def environment(monkeypatch):
    """The process environment create_app() reads, emptied of every setting checked here."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


def refusal() -> InsecureConfiguration:
    with pytest.raises(InsecureConfiguration) as caught:
        create_app()
    return caught.value


def test_production_on_defaults_names_every_missing_setting(environment):
    environment(APP_ENV="production")

    error = refusal()

    assert set(error.problems) == {"SECRET_KEY", "JWT_SECRET_KEY", "DATABASE_URL", "REDIS_URL"}
    message = str(error)
    for name in error.problems:
        assert name in message


def test_each_missing_setting_is_named_alone(environment):
    for missing in ("SECRET_KEY", "JWT_SECRET_KEY", "DATABASE_URL", "REDIS_URL"):
        environment(**REAL)
        environment(**{missing: ""})  # set but empty is as good as unset
        assert set(refusal().problems) == {missing}


def test_development_default_keys_are_refused_even_when_set_explicitly(environment):
    environment(**{**REAL, "SECRET_KEY": "dev-only-secret-key",
                   "JWT_SECRET_KEY": "dev-only-jwt-secret-key-change-me!"})
    assert set(refusal().problems) == {"SECRET_KEY", "JWT_SECRET_KEY"}


def test_jwt_key_needs_32_bytes(environment):
    environment(**{**REAL, "JWT_SECRET_KEY": "k" * 31})
    problems = refusal().problems
    assert set(problems) == {"JWT_SECRET_KEY"}
    assert "32 bytes" in problems["JWT_SECRET_KEY"]

    environment(JWT_SECRET_KEY="k" * 32)
    assert create_app().config["JWT_SECRET_KEY"] == "k" * 32


def test_sqlite_is_not_a_production_database(environment):
    environment(**{**REAL, "DATABASE_URL": "sqlite:////var/lib/shop.db"})
    assert set(refusal().problems) == {"DATABASE_URL"}


def test_a_real_production_configuration_starts_with_secure_cookies(environment):
    environment(**REAL)

    app = create_app()

    assert app.config["APP_ENV"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_a_misspelt_environment_is_refused(environment):
    environment(**{**REAL, "APP_ENV": "prod"})
    assert set(refusal().problems) == {"APP_ENV"}


@pytest.mark.parametrize("env", ["development", "test"])
def test_development_and_test_start_on_defaults(environment, env):
    environment(APP_ENV=env)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is False
