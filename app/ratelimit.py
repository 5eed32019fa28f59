"""Rate limits, counted in Redis by Flask-Limiter so every worker and pod shares them.

- Sign-in: per client address and per submitted e-mail (an attacker who rotates addresses
  still gets a handful of guesses per account per window).
- Sign-up, password change and password reset: small bursts, then 429.
- Every ``/api/v1`` request: a general per-client limit, per account when the request
  carries a valid access token, else per address.

Each limit is a setting (app.config), so operators tune them without a release. A breach
is a 429 in the one error shape with ``Retry-After``. When Redis is unreachable the
counting falls back to each process's memory, with a logged warning, and returns to Redis
by itself when it answers again: a Redis outage never fails a request.

The pages reuse the same decorators (``limit_sign_in`` and friends) on their form
handlers: the counters are shared by scope, so a password guessed through the sign-in
form and through the API counts against the same budget.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Mapping

from flask import Flask, current_app, request, session
from flask_limiter import ApplicationLimit, RateLimitExceeded
from limits import parse_many
from werkzeug.exceptions import RequestEntityTooLarge

from app.api_routes import API_PREFIX
from app.auth.service import normalize_email
from app.auth.tokens import decode
from app.errors import DomainError, error_response
from app.metrics import record_rate_limited
from app.ratelimit_failopen import FailOpenLimiter

log = logging.getLogger(__name__)

LIMIT_SETTINGS = ("RATELIMIT_SIGN_IN_PER_IP", "RATELIMIT_SIGN_IN_PER_EMAIL", "RATELIMIT_SIGN_UP",
                  "RATELIMIT_PASSWORD_CHANGE", "RATELIMIT_PASSWORD_RESET", "RATELIMIT_API")
# A Redis that stops answering must cost a request at most this long before the limiter
# falls back to memory.
STORAGE_OPTIONS: dict[str, str | int] = {"socket_connect_timeout": 1, "socket_timeout": 1}


def client_address() -> str:
    """The client's address, as ProxyFix derived it from the trusted proxies."""
    return request.remote_addr or "unknown"


def client_identity() -> str:
    """The signed-in account (a valid access token, or the pages' signed session), else
    the client's address. Only verified identities count: an unverified ``sub`` would let
    a client spread its requests over invented accounts."""
    user_id = _bearer_user_id() or _page_session_user_id()
    return f"user:{user_id}" if user_id else f"ip:{client_address()}"


def _bearer_user_id() -> str | None:
    credentials = request.authorization
    if credentials is None or credentials.type != "bearer" or not credentials.token:
        return None
    try:
        return decode(credentials.token, "access")["sub"]
    except DomainError:
        return None  # the view answers 401; meanwhile the request counts by address


def _page_session_user_id() -> str | None:
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return None
    from app.storefront.session import USER_KEY  # the pages import this module

    user_id = session.get(USER_KEY)
    return str(user_id) if user_id is not None else None


def submitted_email() -> str:
    """The e-mail a sign-in or reset form names (JSON body or form field ``email``),
    hashed so that Redis key names carry no addresses; its address when it names none."""
    try:
        body = request.get_json(silent=True) if request.is_json else request.form
    except RequestEntityTooLarge:  # over MAX_REQUEST_BYTES: unread; the view answers 413
        body = None
    email = body.get("email") if isinstance(body, Mapping) else None
    if not isinstance(email, str) or not email.strip():
        return f"ip:{client_address()}"
    return "email:" + hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]


def _setting(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def _outside_api() -> bool:
    return not request.path.startswith(API_PREFIX + "/") or request.method == "OPTIONS"


limiter = FailOpenLimiter(
    key_func=client_address,
    application_limits=[ApplicationLimit(
        limit_provider=_setting("RATELIMIT_API"), key_function=client_identity, scope="api",
        exempt_when=_outside_api, error_message="too many requests; slow down")],
    strategy="fixed-window",
    storage_options=STORAGE_OPTIONS,
    in_memory_fallback_enabled=True,
    key_prefix="ratelimit",
)


def _shared(setting: str, scope: str, key_func: Callable[[], str], message: str):
    """One budget shared by every view it decorates (API and pages), POSTs only, so
    showing a form is never limited."""
    return limiter.shared_limit(_setting(setting), scope=scope, key_func=key_func,
                                methods=["POST"], error_message=message)


_SIGN_IN = "too many sign-in attempts; try again later"
_sign_in_per_ip = _shared("RATELIMIT_SIGN_IN_PER_IP", "sign-in:ip", client_address, _SIGN_IN)
_sign_in_per_email = _shared("RATELIMIT_SIGN_IN_PER_EMAIL", "sign-in:email", submitted_email,
                             _SIGN_IN)
limit_sign_up = _shared("RATELIMIT_SIGN_UP", "sign-up", client_address,
                        "too many sign-ups from this address; try again later")
limit_password_change = _shared("RATELIMIT_PASSWORD_CHANGE", "password-change",
                                client_identity,
                                "too many password changes; try again later")
_RESET = "too many password reset attempts; try again later"
_reset_per_ip = _shared("RATELIMIT_PASSWORD_RESET", "password-reset:ip", client_address, _RESET)
_reset_per_email = _shared("RATELIMIT_PASSWORD_RESET", "password-reset:email",
                           submitted_email, _RESET)
limit_password_reset_confirm = _reset_per_ip


def limit_sign_in(view):
    """Per address and per submitted e-mail; put it right under the route decorator so
    the count happens before the body is even parsed."""
    return _sign_in_per_ip(_sign_in_per_email(view))


def limit_password_reset(view):
    """Per address and per e-mail: nobody can flood a mailbox with reset links."""
    return _reset_per_ip(_reset_per_email(view))


def init_rate_limits(app: Flask) -> None:
    for name in LIMIT_SETTINGS:
        try:
            parse_many(app.config[name])
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"] or "memory://"
    limiter.init_app(app)
    _check_in_middleware_for_api_requests_only(app)
    app.register_error_handler(RateLimitExceeded, _too_many_requests)


def _check_in_middleware_for_api_requests_only(app: Flask) -> None:
    """Flask-Limiter's before_request hook resolves the limits of every request, a fifth
    of a page's fixed cost. Outside /api/v1 it can only find the API limit, which exempts
    those requests (``_outside_api``): the sign-in form's and the other decorated limits
    are checked by their decorators, not by this hook. So the hook runs for API requests."""
    hooks = app.before_request_funcs.setdefault(None, [])
    if limiter._check_request_limit not in hooks:
        return  # RATELIMIT_ENABLED is off: Flask-Limiter registered nothing
    index = hooks.index(limiter._check_request_limit)
    check = hooks[index]

    def check_api_request_limits() -> None:
        if not _outside_api():
            check()

    hooks[index] = check_api_request_limits


def _too_many_requests(exc: RateLimitExceeded):
    scope = exc.limit.scope
    record_rate_limited(scope if isinstance(scope, str) else "other")
    retry_after = _retry_after(exc)
    return error_response(429, exc.description or "too many requests",
                          details={"limit": str(exc.limit.limit), "retry_after": retry_after},
                          headers={"Retry-After": str(retry_after)})


def _retry_after(exc: RateLimitExceeded) -> int:
    """Seconds until the breached window resets; the whole window when the storage
    cannot say (it went away between the breach and now)."""
    window = exc.limit.limit.get_expiry()
    try:
        breached = limiter.current_limit
        reset_at = breached.reset_at if breached is not None else None
    except Exception:  # any storage error: the window length is a safe answer
        log.warning("rate limit storage did not say when the window resets", exc_info=True)
        reset_at = None
    return window if reset_at is None else min(window, max(1, math.ceil(reset_at - time.time())))
