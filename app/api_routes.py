"""What the API's blueprints, its rate limiter and the pages share about the API: where it is
mounted and which of its views take a file upload.

It imports nothing of ``app``, so ``app.api`` (which mounts the blueprints), the blueprints
and ``app.ratelimit`` can all import it without importing each other: the arrows run
``app.api`` -> blueprints -> ``app.ratelimit`` -> here.
"""

from __future__ import annotations

from flask import current_app, request

API_PREFIX = "/api/v1"


def accepts_uploads(view):
    """Mark a view that also takes multipart/form-data: a file upload."""
    view.accepts_uploads = True
    return view


def takes_this_upload() -> bool:
    """The request is a multipart upload to a view marked with ``accepts_uploads``."""
    view = current_app.view_functions.get(request.endpoint or "")
    return request.mimetype == "multipart/form-data" and getattr(view, "accepts_uploads", False)
