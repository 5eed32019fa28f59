"""Defences every response shares: security headers with a per-request CSP nonce, CORS for
the configured origins only, the client's address taken from trusted proxies alone, and a
production that refuses to start on development secrets."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from flask_cors import CORS
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import DEV_JWT_SECRET_KEY, DEV_SECRET_KEY, ENVIRONMENTS

MIN_KEY_BYTES = 32
NONCE_ENVIRON_KEY = "shop.csp_nonce"
# Browsers only honour HSTS over HTTPS, which production always is behind the load balancer.
HSTS = "max-age=63072000; includeSubDomains"
PERMISSIONS_POLICY = ("accelerometer=(), camera=(), geolocation=(), gyroscope=(), "
                      "magnetometer=(), microphone=(), payment=(), usb=()")
# JSON and other non-HTML answers load nothing and may be framed by nobody.
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?")

CORS_ALLOW_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "If-None-Match",
                      "X-Cart-Token", "X-Request-ID")
CORS_EXPOSE_HEADERS = ("ETag", "Location", "Retry-After", "Idempotent-Replayed",
                       "X-Cart-Token", "X-Request-ID")


class InsecureConfiguration(RuntimeError):
    """Production settings that are missing or unsafe, all of them named at once."""

    def __init__(self, problems: Mapping[str, str]):
        self.problems = dict(problems)
        listing = "; ".join(f"{name}: {reason}" for name, reason in self.problems.items())
        super().__init__(f"refusing to start with APP_ENV=production: {listing}")


def init_security(app: Flask) -> None:
    check_settings(app.config)
    _trust_proxies(app)
    _init_cors(app)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(_security_headers)


# --- settings --------------------------------------------------------------------------

def check_settings(config: Mapping) -> None:
    """Raise ``InsecureConfiguration`` when production would run on development
    defaults; a typo in APP_ENV must not quietly drop production's defences either."""
    if config["APP_ENV"] not in ENVIRONMENTS:
        raise InsecureConfiguration({"APP_ENV": f"must be one of {', '.join(ENVIRONMENTS)}"})
    if config["APP_ENV"] == "production":
        problems = production_problems(config)
        if problems:
            raise InsecureConfiguration(problems)


def production_problems(config: Mapping) -> dict[str, str]:
    """What stops ``config`` from being a production configuration, by setting name."""
    problems = {
        "SECRET_KEY": _key_problem(config.get("SECRET_KEY"), DEV_SECRET_KEY),
        "JWT_SECRET_KEY": _key_problem(config.get("JWT_SECRET_KEY"), DEV_JWT_SECRET_KEY),
        "DATABASE_URL": ("not set (the embedded SQLite database is for development)"
                         if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite")
                         else None),
        "REDIS_URL": (None if config.get("REDIS_URL")
                      else "not set (the in-process stand-in is for development)"),
    }
    return {name: problem for name, problem in problems.items() if problem}


def _key_problem(value: str | None, dev_default: str) -> str | None:
    if not value or value == dev_default:
        return "not set (the development default would be used)"
    if len(value.encode()) < MIN_KEY_BYTES:
        return f"must be at least {MIN_KEY_BYTES} bytes of random data"
    return None


# --- client address and CORS -----------------------------------------------------------

def _trust_proxies(app: Flask) -> None:
    """Rate limits and logs need the client's address, which the proxies in front of us
    append to X-Forwarded-For; only the hops we run are believed."""
    hops = app.config["TRUSTED_PROXY_COUNT"]
    if hops < 0:
        raise ValueError("TRUSTED_PROXY_COUNT must be 0 or more")
    if hops:
        # The ALB overwrites X-Forwarded-Proto with its listener's scheme: one value.
        # Flask's documented way to add WSGI middleware; mypy sees a method being replaced.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=1)


def _init_cors(app: Flask) -> None:
    origins = app.config["CORS_ORIGINS"]
    for origin in origins:
        if not _ORIGIN.fullmatch(origin):
            raise ValueError(f"CORS_ORIGINS: {origin!r} is not an origin like "
                             "'https://shop.example.com' (no wildcard, path or trailing slash)")
    if not origins:
        return  # same-origin only: no CORS headers at all
    # Bearer tokens, not cookies, authenticate the API: credentials stay off.
    CORS(app, resources={r"/api/v1/*": {"origins": list(origins)}},
         allow_headers=list(CORS_ALLOW_HEADERS), expose_headers=list(CORS_EXPOSE_HEADERS),
         methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
         supports_credentials=False, max_age=600)


# --- headers ---------------------------------------------------------------------------

def csp_nonce() -> str:
    """This request's nonce: templates put it on their <script> and <style> tags. Kept in
    the WSGI environ, which belongs to one request (an app context may span several)."""
    return request.environ.setdefault(NONCE_ENVIRON_KEY, secrets.token_urlsafe(16))


def page_policy(nonce: str, asset_base_url: str | None) -> str:
    assets = f" {_origin_of(asset_base_url)}" if asset_base_url else ""
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'{assets}",
        f"style-src 'self' 'nonce-{nonce}'{assets}",
        # Product images may come from the media CDN or any https address an admin gave.
        "img-src 'self' data: https:",
        f"font-src 'self'{assets}",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _security_headers(response: Response) -> Response:
    config = current_app.config
    headers = response.headers
    if response.mimetype == "text/html":
        policy = page_policy(csp_nonce(), config["ASSET_BASE_URL"])
    else:
        policy = API_POLICY
    defaults = [("Content-Security-Policy", policy), *_STATIC_HEADERS]
    if config["APP_ENV"] not in ("development", "test"):
        defaults.append(("Strict-Transport-Security", HSTS))
    # What a view set itself wins. One pass over the response's headers instead of a
    # case-insensitive search per default (setdefault): this runs on every response.
    present = {name.lower() for name, _ in headers.items()}
    headers.extend([(name, value) for name, value in defaults if name.lower() not in present])
    return response


_STATIC_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),  # frame-ancestors for older browsers
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Permissions-Policy", PERMISSIONS_POLICY),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
