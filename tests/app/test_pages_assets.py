"""Static assets from Flask or from the CDN, the web app manifest and the service worker."""

from __future__ import annotations

import json
import re

from app.storefront.assets import PRECACHED, STATIC_DIR
from tests.app.pages_support import csrf_token, text

CDN = "https://d111111abcdef8.cloudfront.net"


def test_pages_load_assets_from_flask_by_default(client, app):
    html = text(client.get("/"))
    assert '<link rel="stylesheet" href="/static/css/shop.css">' in html
    assert '<script src="/static/js/app.js" defer' in html
    response = client.get("/static/css/shop.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"


def test_static_files_stay_cacheable_for_a_browser_with_a_session(client, app):
    csrf_token(client)  # the browser now sends a session cookie with every request
    response = client.get("/static/js/app.js")
    assert response.cache_control.public
    assert response.cache_control.max_age == 300
    assert not response.cache_control.no_store


def test_pages_load_assets_from_the_asset_base_url(make_app):
    app = make_app(ASSET_BASE_URL=CDN + "/")
    response = app.test_client().get("/offline")
    html = text(response)
    assert f'href="{CDN}/static/css/shop.css"' in html
    assert f'src="{CDN}/static/js/app.js"' in html
    assert f'src="{CDN}/static/img/logo.svg"' in html
    assert not re.search(r'(src|href)="/static/', html)
    assert CDN in response.headers["Content-Security-Policy"]


def test_no_template_has_inline_script_style_or_event_handlers():
    templates = STATIC_DIR.parent / "templates"
    pages = list(templates.rglob("*.html")) + list((STATIC_DIR.parents[1] / "templates" /
                                                    "errors").glob("*.html"))
    assert len(pages) > 20
    for page in pages:
        source = page.read_text()
        # JSON-LD data blocks are never executed (app/storefront/seo.py): the one exception.
        assert not re.search(r'<script(?![^>]*\b(?:src=|type="application/ld\+json"))',
                             source), page
        assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=", source), page


def test_the_manifest_names_the_app_and_its_icons(client, app):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.data)
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200, icon["src"]
    assert 'rel="manifest" href="/manifest.webmanifest"' in text(client.get("/"))


def test_the_service_worker_precaches_the_assets_and_the_offline_page(client, app):
    response = client.get("/sw.js")
    assert response.mimetype == "text/javascript"
    script = text(response)
    assets = json.loads(re.search(r"const ASSETS = (\[.*?\])\.map", script).group(1))
    assert assets == [f"/static/{name}" for name in PRECACHED]
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert 'const OFFLINE_URL = new URL("/offline"' in script
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; connect-src 'self'"


def test_the_service_worker_may_fetch_from_the_asset_host(make_app):
    response = make_app(ASSET_BASE_URL=CDN).test_client().get("/sw.js")
    assert f'"{CDN}/static/css/shop.css"' in text(response)
    assert response.headers["Content-Security-Policy"] == \
        f"default-src 'none'; connect-src 'self' {CDN}"


def test_the_offline_page_needs_no_session_state(client, app):
    html = text(client.get("/offline"))
    assert "You are offline" in html
    assert "csrf_token" not in html and "cart-count" not in html


def test_pages_are_never_kept_by_a_shared_cache(client, app):
    for url in ("/", "/products", "/signin"):
        response = client.get(url)
        assert response.cache_control.private and response.cache_control.no_store, url


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_colour_pairs_meet_wcag_aa_contrast():
    css = (STATIC_DIR / "css" / "shop.css").read_text()
    colour = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6});", css))
    text_pairs = [("ink", "paper"), ("muted", "paper"), ("muted", "wash"), ("paper", "brand"),
                  ("paper", "brand-dark"), ("brand", "paper"), ("brand-dark", "info-wash"),
                  ("ok", "ok-wash"), ("bad", "bad-wash"), ("warn", "warn-wash"),
                  ("ok", "paper"), ("bad", "paper"), ("warn", "paper")]
    for foreground, background in text_pairs:
        ratio = contrast(colour[foreground], colour[background])
        assert ratio >= 4.5, f"{foreground} on {background}: {ratio:.2f}"
    assert contrast(colour["focus"], colour["paper"]) >= 3  # the focus ring
