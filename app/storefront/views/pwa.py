"""What makes the shop installable and usable offline: the web app manifest, the service
worker and the page it shows when the network is gone.

The worker and the manifest are served by the app, not from the asset host: a service
worker must come from the origin whose pages it controls, and a manifest's start URL must
be on the same origin as the page naming it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, jsonify, make_response, render_template, url_for

from app.storefront import bp
from app.storefront.assets import PRECACHED, asset_url, assets_version

THEME_COLOR = "#0b5394"
BACKGROUND_COLOR = "#ffffff"


@bp.get("/sw.js")
def service_worker():
    body = render_template("storefront/sw.js", version=assets_version(),
                           offline_url=url_for("storefront.offline"),
                           assets=[asset_url(name) for name in PRECACHED])
    response = make_response(body)
    response.mimetype = "text/javascript"
    # Browsers check for a new worker at most daily anyway; never serve them a stale one.
    response.headers["Cache-Control"] = "no-cache"
    # A worker obeys the policy it was served with: it may fetch this origin and the assets.
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; connect-src 'self'{_asset_origin()}")
    return response


def _asset_origin() -> str:
    base = current_app.config.get("ASSET_BASE_URL")
    if not base:
        return ""
    parts = urlsplit(base)
    return f" {parts.scheme}://{parts.netloc}"


@bp.get("/manifest.webmanifest")
def manifest():
    response = jsonify({
        "name": "Shop",
        "short_name": "Shop",
        "description": "Everyday things, delivered.",
        "start_url": url_for("storefront.home"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [
            {"src": asset_url("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": asset_url("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": asset_url("icons/icon-maskable-512.png"), "sizes": "512x512",
             "type": "image/png", "purpose": "maskable"},
            {"src": asset_url("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    })
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/offline")
def offline():
    return render_template("storefront/offline.html")

