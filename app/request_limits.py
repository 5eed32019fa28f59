"""Limits on the request line and headers, enforced by the app so that a refusal has the
app's error shape: JSON under /api/, the shop's error page elsewhere.

gunicorn enforces limits of its own before the app sees a request, and answers them with
an HTML page of its own. Its limits are therefore set above these (app/gunicorn_conf.py):
what gunicorn lets through, this module measures and refuses. In the cloud the load
balancer refuses a request line or a header over 16 KiB itself, before either.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask, request

from app.errors import error_response

# gunicorn's own defaults before they were raised: as much as any URL or header of the
# shop needs, with room to spare.
MAX_REQUEST_TARGET_BYTES = 8190
MAX_HEADER_FIELD_BYTES = 8190


def request_target_length(environ: dict) -> int:
    """The request-target as the client sent it (gunicorn keeps it in RAW_URI)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw is not None:
        return len(raw)
    query = environ.get("QUERY_STRING", "")
    path = quote(environ.get("PATH_INFO", ""), safe="/;=,:@!$&'()*+-._~")
    return len(path) + (1 + len(query) if query else 0)


def oversized_header(environ: dict) -> str | None:
    """The name of the first header whose field (name, colon, space, value) is too long."""
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name_length = len(key) - len("HTTP_")  # the name, with '-' for each '_'
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name_length = len(key)
        else:
            continue
        if name_length + 2 + len(value) > MAX_HEADER_FIELD_BYTES:
            return key.removeprefix("HTTP_").replace("_", "-").title()  # only when refused
    return None


def _refuse_oversized_request():
    if request_target_length(request.environ) > MAX_REQUEST_TARGET_BYTES:
        return error_response(
            414, f"the URL is longer than {MAX_REQUEST_TARGET_BYTES} bytes", code="uri_too_long",
            details={"max_bytes": MAX_REQUEST_TARGET_BYTES})
    if name := oversized_header(request.environ):
        return error_response(
            431, f"the {name} header is longer than {MAX_HEADER_FIELD_BYTES} bytes",
            code="header_too_large",
            details={"fields": {name: [f"must be at most {MAX_HEADER_FIELD_BYTES} bytes"]},
                     "max_bytes": MAX_HEADER_FIELD_BYTES})
    return None


def init_request_limits(app: Flask) -> None:
    """First of all before_request hooks: nothing reads an oversized request."""
    app.before_request(_refuse_oversized_request)
