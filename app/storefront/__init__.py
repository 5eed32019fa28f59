"""The shoppers' pages: server-rendered Jinja over the same domain functions as the API.

Pages authenticate with Flask's signed session cookie (``app.storefront.session``), so
every state-changing request outside the API carries a CSRF token; the API authenticates
with Bearer tokens only, which a browser never attaches on its own, so it is exempt.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, request
from flask_wtf.csrf import CSRFProtect

from app.api_routes import API_PREFIX
from app.storefront.cookie_session import LeanCookieSessionInterface

bp = Blueprint("storefront", __name__, template_folder="templates",
               static_folder="static", static_url_path="/static")
csrf = CSRFProtect()


def init_storefront(app: Flask) -> None:
    # Checked by _protect_pages below rather than on every request: the API is exempt by path.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    # A token lives as long as the session: a product page left open over lunch still works.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    # Behind CloudFront the app sees the origin's host name, never the shop's, so Flask-WTF's
    # HTTPS check that the Referer names request.host would refuse every form. The token,
    # bound to the signed session, and SameSite=Lax cookies are the defence.
    app.config.setdefault("WTF_CSRF_SSL_STRICT", False)
    csrf.init_app(app)
    app.before_request(_protect_pages)
    app.session_interface = LeanCookieSessionInterface()

    from app.storefront import assets, navigation, seo, views  # noqa: F401  (registers on bp)

    app.register_blueprint(bp)


def _protect_pages() -> None:
    if current_app.config["WTF_CSRF_ENABLED"] and not request.path.startswith(API_PREFIX + "/"):
        # With exemptions applied, a request no route matches gets its 404, not a 400.
        csrf.protect(apply_exemptions=True)
