"""Settings, layered as in Flask's tutorial: defaults, then the environment, then the
mapping handed to ``create_app`` (tests). Every environment variable is read here and
nowhere else, so the README's configuration table has one place to stay true to."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

ENVIRONMENTS = ("development", "production", "test")
MAIL_BACKENDS = ("outbox", "smtp", "console")
# Development defaults, named so production can refuse to start with them (app.security).
DEV_SECRET_KEY = "dev-only-secret-key"  # noqa: S105
DEV_JWT_SECRET_KEY = "dev-only-jwt-secret-key-change-me!"  # noqa: S105


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
        "SECRET_KEY": env.get("SECRET_KEY", DEV_SECRET_KEY),
        "JWT_SECRET_KEY": env.get("JWT_SECRET_KEY", DEV_JWT_SECRET_KEY),
        "JWT_ACCESS_TTL_SECONDS": int(env.get("JWT_ACCESS_TTL_SECONDS", 15 * 60)),
        "JWT_REFRESH_TTL_SECONDS": int(env.get("JWT_REFRESH_TTL_SECONDS", 7 * 24 * 3600)),
        "PASSWORD_RESET_TTL_SECONDS": int(env.get("PASSWORD_RESET_TTL_SECONDS", 3600)),
        "SQLALCHEMY_DATABASE_URI": _database_url(env.get("DATABASE_URL"), instance_path),
        "DATABASE_REPLICA_URL": env.get("DATABASE_REPLICA_URL") or None,
        # The password apart from the URL (app/db_credentials.py): a mounted file is re-read
        # on every new connection, so a rotated password needs no restart.
        "DATABASE_PASSWORD": env.get("DATABASE_PASSWORD") or None,
        "DATABASE_PASSWORD_FILE": env.get("DATABASE_PASSWORD_FILE") or None,
        "DATABASE_CONNECT_TIMEOUT": int(env.get("DATABASE_CONNECT_TIMEOUT", 5)),
        "DATABASE_STATEMENT_TIMEOUT_MS": int(env.get("DATABASE_STATEMENT_TIMEOUT_MS", 5000)),
        "DATABASE_APPLICATION_NAME": env.get("DATABASE_APPLICATION_NAME", "storefront"),
        "REDIS_URL": env.get("REDIS_URL") or None,
        "CART_TTL_SECONDS": int(env.get("CART_TTL_SECONDS", 7 * 24 * 3600)),
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
        "ASSET_BASE_URL": env.get("ASSET_BASE_URL") or None,
        "MEDIA_BUCKET": env.get("MEDIA_BUCKET") or None,
        "MEDIA_BASE_URL": env.get("MEDIA_BASE_URL") or None,
        "MEDIA_MAX_BYTES": int(env.get("MEDIA_MAX_BYTES", 5 * 1024 * 1024)),
        # Flask's own name: Werkzeug answers 413 before reading a larger body.
        "MAX_CONTENT_LENGTH": int(env.get("MAX_REQUEST_BYTES", 1024 * 1024)),
        "MEDIA_ROOT": env.get("MEDIA_ROOT") or str(Path(instance_path) / "media"),
        "MAIL_BACKEND": env.get("MAIL_BACKEND", "console" if app_env == "development" else "smtp"),
        "MAIL_FROM": env.get("MAIL_FROM", "Shop <no-reply@shop.local>"),
        "SMTP_HOST": env.get("SMTP_HOST", "localhost"),
        "SMTP_PORT": int(env.get("SMTP_PORT", 587)),
        "SMTP_USERNAME": env.get("SMTP_USERNAME") or None,
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD") or None,
        "SMTP_STARTTLS": _bool(env.get("SMTP_STARTTLS"), True),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        **_security_settings(env, app_env),
        **_rate_limit_settings(env),
        **_cache_settings(env),
        **_live_settings(env),
    }


def engine_options(uri: str, config: Mapping) -> dict:
    """Pool and connection settings. Pre-ping reconnects transparently after PostgreSQL
    restarts; the connect and statement timeouts bound how long a request can wait on the
    database during an outage or behind a lock; TCP keepalives notice a peer that vanished
    without closing (a failover). Parameters stay out of error messages, hence out of logs."""
    if uri.startswith("sqlite"):
        return {"connect_args": {"check_same_thread": False}}
    return {
        "pool_pre_ping": True, "pool_size": 10, "max_overflow": 10, "pool_timeout": 5,
        "pool_recycle": 1800, "hide_parameters": True,
        "connect_args": {
            "connect_timeout": config["DATABASE_CONNECT_TIMEOUT"],
            "application_name": config["DATABASE_APPLICATION_NAME"],
            "options": f"-c statement_timeout={config['DATABASE_STATEMENT_TIMEOUT_MS']}",
            "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
            "keepalives_count": 3,
        },
    }


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def _security_settings(env: os._Environ | dict, app_env: str) -> dict:
    return {
        "CORS_ORIGINS": _list(env.get("CORS_ORIGINS")),
        # Proxies in front of the app that append to X-Forwarded-For (an ALB: 1; CloudFront
        # then an ALB: 2). Zero trusts none: otherwise a client could choose its own address.
        "TRUSTED_PROXY_COUNT": int(env.get("TRUSTED_PROXY_COUNT", 0)),
        "SESSION_COOKIE_SECURE": app_env == "production",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # The pages' session cookie: renewed by every request, gone after this long idle.
        "PERMANENT_SESSION_LIFETIME": int(env.get("SESSION_LIFETIME_SECONDS", 14 * 24 * 3600)),
    }


def _rate_limit_settings(env: os._Environ | dict) -> dict:
    """Limits in the notation of the `limits` package: "5/minute", "5/minute;20/hour"."""
    return {
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "RATELIMIT_SIGN_IN_PER_IP": env.get("RATELIMIT_SIGN_IN_PER_IP", "10/minute"),
        "RATELIMIT_SIGN_IN_PER_EMAIL": env.get("RATELIMIT_SIGN_IN_PER_EMAIL", "5/minute"),
        "RATELIMIT_SIGN_UP": env.get("RATELIMIT_SIGN_UP", "5/minute;20/hour"),
        "RATELIMIT_PASSWORD_CHANGE": env.get("RATELIMIT_PASSWORD_CHANGE", "5/minute"),
        "RATELIMIT_PASSWORD_RESET": env.get("RATELIMIT_PASSWORD_RESET", "5/minute;20/hour"),
        "RATELIMIT_API": env.get("RATELIMIT_API", "300/minute"),
    }


def _cache_settings(env: os._Environ | dict) -> dict:
    return {
        "CACHE_TTL_SECONDS": int(env.get("CACHE_TTL_SECONDS", 300)),
        "CACHE_MAX_AGE_SECONDS": int(env.get("CACHE_MAX_AGE_SECONDS", 60)),
        "CACHE_STALE_WHILE_REVALIDATE_SECONDS": int(
            env.get("CACHE_STALE_WHILE_REVALIDATE_SECONDS", 30)),
        "CACHE_REPLICA_LAG_SECONDS": float(env.get("CACHE_REPLICA_LAG_SECONDS", 2)),
        # The in-process layer of the hottest anonymous reads (app/cache_local.py): the
        # longest a process trusts its copy of a version token; 0 turns the layer off.
        "CACHE_LOCAL_TTL_SECONDS": float(env.get("CACHE_LOCAL_TTL_SECONDS", 5)),
        # URLs per sitemap file; past it /sitemap.xml becomes an index (50,000: the limit).
        "SITEMAP_PAGE_SIZE": int(env.get("SITEMAP_PAGE_SIZE", 50_000)),
    }


def _live_settings(env: os._Environ | dict) -> dict:
    """The live channel (app/live): Server-Sent Events fed from Redis streams."""
    per_worker = env.get("LIVE_STREAMS_PER_WORKER")
    return {
        "LIVE_ENABLED": _bool(env.get("LIVE_ENABLED"), True),
        # Below the ALB's and CloudFront's idle and read timeouts (60 s and 30 s here).
        "LIVE_HEARTBEAT_SECONDS": float(env.get("LIVE_HEARTBEAT_SECONDS", 15)),
        "LIVE_MAX_STREAM_SECONDS": float(env.get("LIVE_MAX_STREAM_SECONDS", 300)),
        "LIVE_STREAMS_PER_USER": int(env.get("LIVE_STREAMS_PER_USER", 6)),
        "LIVE_STREAMS_PER_ADDRESS": int(env.get("LIVE_STREAMS_PER_ADDRESS", 30)),
        # Unset: derived from the worker class (app/live/capacity.py).
        "LIVE_STREAMS_PER_WORKER": int(per_worker) if per_worker else None,
        # gthread's thread count, read by gunicorn_conf.py from the same variable.
        "LIVE_WORKER_THREADS": int(env.get("GUNICORN_THREADS", 4)),
        "LIVE_BACKLOG": int(env.get("LIVE_BACKLOG", 100)),
        "LIVE_RETENTION_SECONDS": int(env.get("LIVE_RETENTION_SECONDS", 3600)),
        "LIVE_SEND_TIMEOUT_SECONDS": float(env.get("LIVE_SEND_TIMEOUT_SECONDS", 30)),
    }
