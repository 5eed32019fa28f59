"""Settings, layered as in Flask's tutorial: defaults, then the environment, then the
mapping handed to ``create_app`` (tests). Every environment variable is read here and
nowhere else, so the README's configuration table has one place to stay true to."""

from __future__ import annotations

import os
from pathlib import Path

ENVIRONMENTS = ("development", "production", "test")
MAIL_BACKENDS = ("outbox", "smtp", "console")


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _database_url(url: str | None, instance_path: str) -> str:
    if not url:
        # The embedded default is for `make run` on a bare laptop only.
        return f"sqlite:///{Path(instance_path) / 'shop.db'}"
    return normalize_database_url(url)


def normalize_database_url(url: str) -> str:
    """postgres:// and postgresql:// both mean psycopg2 here (SQLAlchemy 2.1 would
    otherwise pick psycopg 3, which we do not ship)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def settings_from_env(env: os._Environ | dict, instance_path: str) -> dict:
    """Every setting the storefront reads from its environment, with its default."""
    app_env = env.get("APP_ENV", "development")
    return {
        "APP_ENV": app_env,
        "SECRET_KEY": env.get("SECRET_KEY", "dev-only-secret-key"),
        "JWT_SECRET_KEY": env.get("JWT_SECRET_KEY", "dev-only-jwt-secret-key-change-me!"),
        "JWT_ACCESS_TTL_SECONDS": int(env.get("JWT_ACCESS_TTL_SECONDS", 15 * 60)),
        "JWT_REFRESH_TTL_SECONDS": int(env.get("JWT_REFRESH_TTL_SECONDS", 7 * 24 * 3600)),
        "PASSWORD_RESET_TTL_SECONDS": int(env.get("PASSWORD_RESET_TTL_SECONDS", 3600)),
        "SQLALCHEMY_DATABASE_URI": _database_url(env.get("DATABASE_URL"), instance_path),
        "DATABASE_REPLICA_URL": env.get("DATABASE_REPLICA_URL") or None,
        "REDIS_URL": env.get("REDIS_URL") or None,
        "CART_TTL_SECONDS": int(env.get("CART_TTL_SECONDS", 7 * 24 * 3600)),
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
        "ASSET_BASE_URL": env.get("ASSET_BASE_URL") or None,
        "MAIL_BACKEND": env.get("MAIL_BACKEND", "console" if app_env == "development" else "smtp"),
        "MAIL_FROM": env.get("MAIL_FROM", "Shop <no-reply@shop.local>"),
        "SMTP_HOST": env.get("SMTP_HOST", "localhost"),
        "SMTP_PORT": int(env.get("SMTP_PORT", 587)),
        "SMTP_USERNAME": env.get("SMTP_USERNAME") or None,
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD") or None,
        "SMTP_STARTTLS": _bool(env.get("SMTP_STARTTLS"), True),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
    }


def engine_options(uri: str) -> dict:
    """Pool settings: pre-ping so a restarted PostgreSQL is reconnected transparently."""
    if uri.startswith("sqlite"):
        return {"connect_args": {"check_same_thread": False}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10, "pool_timeout": 5}
