"""Who is asking: ``current_user()`` for API requests (Bearer access token) and the
decorators the API blueprints put on their views."""

from __future__ import annotations

from functools import wraps

from flask import request
from flask_smorest import Blueprint

from app.auth.tokens import decode
from app.db_routing import reads_from_primary
from app.errors import Forbidden, Unauthorized
from app.extensions import db
from app.models import User

_UNSET = object()


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def optional_user() -> User | None:
    """The signed-in user, or None for a guest. A bad or expired token is a 401, never a
    silent downgrade to guest (a client must learn to refresh)."""
    # Cached on the request, not on ``g``: an app context can outlive a request (a test
    # holding one across requests), and one request's user must never answer another's.
    cached = getattr(request, "_current_user", _UNSET)
    if cached is not _UNSET:
        return cached
    user = None
    token = _bearer_token()
    if token:
        claims = decode(token, "access")
        # Never from a lagging replica: a deactivation just committed must hold at once.
        with reads_from_primary():
            user = db.session.get(User, int(claims["sub"]))
        if user is None or not user.is_active:
            raise Unauthorized("account is not active", code="inactive_account")
    request._current_user = user
    return user


def current_user() -> User:
    user = optional_user()
    if user is None:
        raise Unauthorized("authentication required")
    return user


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        current_user()
        return view(*args, **kwargs)

    return wrapper


def admin_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user().is_admin:
            raise Forbidden("administrator role required")
        return view(*args, **kwargs)

    return wrapper


BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
UNAUTHORIZED = (401, "UNAUTHORIZED")
FORBIDDEN = (403, "FORBIDDEN")


def _guarded_endpoint(blp: Blueprint, guard, answers: tuple[tuple[int, str], ...]):
    """`guard` runs before the body is even parsed (a guest gets 401, not 422); the OpenAPI
    document shows the guard's answers and Bearer security."""

    def decorate(view):
        view = guard(view)
        for status, response in answers:
            view = blp.alt_response(status, response=response)(view)
        return blp.doc(security=BEARER)(view)

    return decorate


def signed_in_endpoint(blp: Blueprint):
    """An API view for a signed-in account: 401 for a guest."""
    return _guarded_endpoint(blp, login_required, (UNAUTHORIZED,))


def admin_endpoint(blp: Blueprint):
    """An API view for admins only: 401 for a guest, 403 for anyone else."""
    return _guarded_endpoint(blp, admin_required, (UNAUTHORIZED, FORBIDDEN))
