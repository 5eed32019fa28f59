"""Rate limits, counted in Redis so every worker and pod shares them.

- Sign-in: per client address and per submitted e-mail (an attacker who rotates addresses
  still gets a handful of guesses per account per window).
- Sign-up, password change and password reset: small bursts, then 429.
- Every ``/api/v1`` request: a general per-client limit, per account when the request
  carries a valid access token, else per address.

Each limit is a setting (app.config, e.g. ``"5/minute;20/hour"``), so operators tune them
without a release. A view's limits are declared by the decorators below and checked,
together with the API's, by one before-request hook: all the limits of a request are one
Redis round trip (app/ratelimit_store.py), before the view parses anything. A breach is a
429 in the one error shape with ``Retry-After``. When Redis does not answer, each process
counts in its own memory with one logged warning, and returns to Redis by itself: a Redis
outage never fails a request.

The pages reuse the same decorators (``limit_sign_in`` and friends) on their form
handlers: the counters are shared by scope, so a password guessed through the sign-in
form and through the API counts against the same budget.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Flask, current_app, request, session
from flask.typing import ResponseReturnValue
from limits import RateLimitItem, parse_many
from werkzeug.exceptions import RequestEntityTooLarge

from app.api_routes import API_PREFIX
from app.auth.service import normalize_email
from app.auth.tokens import decode
from app.errors import DomainError, error_response
from app.metrics import record_rate_limited
from app.ratelimit_store import KEY_PREFIX, Counters

LIMIT_SETTINGS = ("RATELIMIT_SIGN_IN_PER_IP", "RATELIMIT_SIGN_IN_PER_EMAIL", "RATELIMIT_SIGN_UP",
                  "RATELIMIT_PASSWORD_CHANGE", "RATELIMIT_PASSWORD_RESET", "RATELIMIT_API")


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


@dataclass(frozen=True)
class Limit:
    """A budget: the setting that holds its rates, the scope that names its counters (a
    scope shared by several views is one budget), whose requests it counts, and which
    methods."""

    setting: str
    scope: str
    key_func: Callable[[], str]
    message: str
    methods: frozenset[str] = frozenset({"POST"})  # showing a form is never limited


_API = Limit("RATELIMIT_API", "api", client_identity, "too many requests; slow down",
             frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}))
_VIEW_LIMITS = "_shop_rate_limits"  # the attribute a decorated view carries its limits in


def _limited_by(limit: Limit) -> Callable:
    """A decorator adding ``limit`` to a view. It wraps nothing: the hook reads the
    view's limits, and the decorators of flask-smorest copy the attribute outward."""
    def decorate(view):
        setattr(view, _VIEW_LIMITS, (*getattr(view, _VIEW_LIMITS, ()), limit))
        return view

    return decorate


_SIGN_IN = "too many sign-in attempts; try again later"
_sign_in_per_ip = _limited_by(Limit("RATELIMIT_SIGN_IN_PER_IP", "sign-in:ip", client_address,
                                    _SIGN_IN))
_sign_in_per_email = _limited_by(Limit("RATELIMIT_SIGN_IN_PER_EMAIL", "sign-in:email",
                                       submitted_email, _SIGN_IN))
limit_sign_up = _limited_by(Limit("RATELIMIT_SIGN_UP", "sign-up", client_address,
                                  "too many sign-ups from this address; try again later"))
limit_password_change = _limited_by(Limit("RATELIMIT_PASSWORD_CHANGE", "password-change",
                                          client_identity,
                                          "too many password changes; try again later"))
_RESET = "too many password reset attempts; try again later"
_reset_per_ip = _limited_by(Limit("RATELIMIT_PASSWORD_RESET", "password-reset:ip",
                                  client_address, _RESET))
_reset_per_email = _limited_by(Limit("RATELIMIT_PASSWORD_RESET", "password-reset:email",
                                     submitted_email, _RESET))
limit_password_reset_confirm = _reset_per_ip


def limit_sign_in(view):
    """Per address and per submitted e-mail."""
    return _sign_in_per_ip(_sign_in_per_email(view))


def limit_password_reset(view):
    """Per address and per e-mail: nobody can flood a mailbox with reset links."""
    return _reset_per_ip(_reset_per_email(view))


class RateLimits:
    """An app's limits: each setting's rates parsed once, and where they are counted."""

    def __init__(self, app: Flask) -> None:
        self.rates = {name: _parse(name, app.config[name]) for name in LIMIT_SETTINGS}
        self.counters = Counters(app.config["REDIS_URL"])

    def check(self) -> ResponseReturnValue | None:
        """The before-request hook: nothing, or the 429 of the first limit breached."""
        limits = _limits_of_this_request()
        if not limits:
            return None
        counted = []  # (limit, rate, counter key): a limit has a counter per rate
        for limit in limits:
            who = limit.key_func()
            counted += [(limit, rate, f"{KEY_PREFIX}{limit.scope}/{who}/{rate.amount}/"
                         f"{rate.get_expiry()}") for rate in self.rates[limit.setting]]
        hits = self.counters.hit([key for _limit, _rate, key in counted],
                                 [rate.get_expiry() for _limit, rate, _key in counted])
        for (limit, rate, _key), hit in zip(counted, hits, strict=True):
            if hit.count > rate.amount:
                return _too_many_requests(limit, rate, hit.seconds_left)
        return None

    def reset(self) -> None:
        self.counters.reset()


def rate_limits(app: Flask | None = None) -> RateLimits:
    return (app or current_app).extensions["rate_limits"]


def _limits_of_this_request() -> list[Limit]:
    method = request.method
    limits = [_API] if method in _API.methods and request.path.startswith(API_PREFIX + "/") \
        else []
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    limits += [limit for limit in getattr(view, _VIEW_LIMITS, ()) if method in limit.methods]
    return limits


def _parse(setting: str, value: str) -> list[RateLimitItem]:
    try:
        return parse_many(value)
    except ValueError as exc:
        raise ValueError(f"{setting}: {exc}") from None


def init_rate_limits(app: Flask) -> None:
    limits = app.extensions["rate_limits"] = RateLimits(app)  # settings checked even when off
    if app.config["RATELIMIT_ENABLED"]:
        app.before_request(limits.check)


def _too_many_requests(limit: Limit, rate: RateLimitItem, seconds_left: float):
    record_rate_limited(limit.scope)
    retry_after = min(rate.get_expiry(), max(1, math.ceil(seconds_left)))
    return error_response(429, limit.message,
                          details={"limit": str(rate), "retry_after": retry_after},
                          headers={"Retry-After": str(retry_after)})
