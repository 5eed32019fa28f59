"""Whole pages kept for first visits: a request with no cookie and no credentials gets the
same HTML as every other such request (no session, so no shopper, no cart, no flashed
message, no CSRF token), so the rendered page is kept in the cache (``app.caching``, with
the in-process layer) under the versions it depends on, and a hit renders nothing.

A page is kept only when rendering it touched nothing personal: a 200 HTML answer whose
session stayed unmodified and which used no CSP nonce (a nonce must be new for every
response, so a page carrying one is never reused).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any

from flask import Response, current_app, request, session

from app.caching import cached
from app.security import NONCE_ENVIRON_KEY

View = Callable[..., Any]


def kept_for_first_visits(kind: str, depends_on: Callable[..., Sequence[str]]
                          ) -> Callable[[View], View]:
    """Put it right under the route decorator (above ``reads_from_replica``)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not _first_visit():
                return view(*args, **kwargs)
            return cached(kind, _request_digest(), depends_on(**kwargs),
                          lambda: current_app.make_response(view(*args, **kwargs)),
                          _body, _page, keep=_keepable, local=True)

        return wrapper

    return decorate


def _first_visit() -> bool:
    return (request.method in ("GET", "HEAD") and "Cookie" not in request.headers
            and "Authorization" not in request.headers)


def _request_digest() -> str:
    query = sorted(request.args.items(multi=True))
    return hashlib.sha256(json.dumps([request.path, query]).encode()).hexdigest()[:32]


def _keepable(response: Response) -> bool:
    return (response.status_code == 200 and response.mimetype == "text/html"
            and not session.modified and NONCE_ENVIRON_KEY not in request.environ)


def _body(response: Response) -> str:
    return response.get_data(as_text=True)


def _page(body: str) -> Response:
    response = current_app.response_class(body, mimetype="text/html")
    # As the rendered page had it: the header looked at the (empty) session.
    response.vary.add("Cookie")
    return response
