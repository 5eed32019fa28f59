"""Static asset URLs: served by Flask locally, by CloudFront when ASSET_BASE_URL is set.

``python -m stacks ops sync-static`` uploads ``static/`` under the key prefix ``static/`` and the
distribution routes ``/static/*`` to that bucket, so a file's URL is the same path on
either host.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Response, current_app, request, url_for

from app.storefront import bp

STATIC_DIR = Path(__file__).parent / "static"
# What the service worker keeps for offline use: the look of every page and its icons.
PRECACHED = ("css/shop.css", "js/app.js", "img/logo.svg", "img/placeholder.svg",
             "icons/icon.svg", "icons/icon-192.png", "icons/icon-512.png")
# Files are not fingerprinted: browsers keep them as briefly as the CDN tells them to.
STATIC_MAX_AGE_SECONDS = 300


@bp.app_template_global()
def asset_url(filename: str) -> str:
    """The URL of ``static/<filename>``; templates build every asset URL through here."""
    base = current_app.config.get("ASSET_BASE_URL")
    if base:
        return f"{base.rstrip('/')}/static/{filename}"
    return url_for("storefront.static", filename=filename)


@cache
def assets_version() -> str:
    """Changes whenever a precached file does, so browsers drop a stale offline copy."""
    digest = hashlib.sha256()
    for name in PRECACHED:
        digest.update(name.encode())
        digest.update((STATIC_DIR / name).read_bytes())
    return digest.hexdigest()[:12]


@bp.after_request
def _static_files_are_public(response: Response) -> Response:
    """The same bytes for every shopper, so shareable even by a browser that sends a
    session cookie (a response to a request with a cookie is otherwise kept private)."""
    if request.endpoint == "storefront.static":
        response.cache_control.no_cache = None
        response.cache_control.public = True
        response.cache_control.max_age = STATIC_MAX_AGE_SECONDS
    return response
