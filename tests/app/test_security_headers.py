"""Security headers on every response, the CSP nonce, CORS for configured origins only."""

from __future__ import annotations

import os
import re
import threading

import pytest
from flask import render_template_string
from werkzeug.serving import make_server

from app.security import HSTS, csp_nonce

STRONG_KEYS = {"SECRET_KEY": "s" * 48, "JWT_SECRET_KEY": "j" * 48}
SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)


def directives(policy: str) -> dict[str, list[str]]:
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {name: values for name, *values in parts}


def assert_baseline(response) -> None:
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "geolocation=()" in headers["Permissions-Policy"]
    policy = directives(headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/categories", "/api/v1/products/999",
                                  "/api/v1/openapi.json", "/api/docs", "/no/such/page"])
def test_every_response_carries_the_baseline_headers(client, path):
    response = client.get(path)
    assert_baseline(response)
    assert "Strict-Transport-Security" not in response.headers  # test: plain HTTP


def test_errors_and_writes_carry_them_too(client):
    assert_baseline(client.post("/api/v1/auth/login", data="x", content_type="text/plain"))
    assert_baseline(client.post("/api/v1/auth/login", json={}))


def test_json_answers_may_load_nothing(client):
    policy = directives(client.get("/api/v1/categories").headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"]


def test_pages_allow_only_own_and_nonced_scripts(client):
    response = client.get("/api/docs")
    policy = directives(response.headers["Content-Security-Policy"])

    nonce = re.fullmatch(r"'nonce-([A-Za-z0-9_-]{16,})'", policy["script-src"][1]).group(1)
    assert policy["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    html = response.get_data(as_text=True)
    tags = SCRIPT_TAG.findall(html)
    assert len(tags) == 3  # the two bundles and the initializer
    assert all(f'nonce="{nonce}"' in tag for tag in tags)


def test_each_page_gets_a_fresh_nonce(client):
    first = client.get("/api/docs").headers["Content-Security-Policy"]
    second = client.get("/api/docs").headers["Content-Security-Policy"]
    assert first != second


def test_templates_get_the_nonce_of_their_request(app):
    with app.test_request_context("/"):
        nonce = csp_nonce()
        rendered = render_template_string("<script nonce='{{ csp_nonce() }}'></script>")
        assert rendered == f"<script nonce='{nonce}'></script>"
        assert csp_nonce() == nonce
    with app.test_request_context("/"):
        assert csp_nonce() != nonce


def test_asset_cdn_is_allowed_for_scripts_and_styles(make_app):
    app = make_app(ASSET_BASE_URL="https://cdn.shop.example/static/v3/")
    policy = directives(app.test_client().get("/api/docs").headers["Content-Security-Policy"])
    assert "https://cdn.shop.example" in policy["script-src"]
    assert "https://cdn.shop.example" in policy["style-src"]


def test_production_sends_hsts(make_app):
    app = make_app(APP_ENV="production", **STRONG_KEYS)
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"] == HSTS
    assert_baseline(response)


def test_development_sends_no_hsts(make_app):
    response = make_app(APP_ENV="development").test_client().get("/healthz")
    assert "Strict-Transport-Security" not in response.headers


# --- CORS ------------------------------------------------------------------------------

ALLOWED = "https://shop.example"
FOREIGN = "https://evil.example"


def preflight(client, origin: str):
    return client.options("/api/v1/orders/checkout", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type, Idempotency-Key"})


def test_without_configured_origins_no_cross_origin_access(client):
    response = client.get("/api/v1/categories", headers={"Origin": FOREIGN})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Origin" not in preflight(client, FOREIGN).headers


def test_a_configured_origin_is_allowed(make_app):
    client = make_app(CORS_ORIGINS=(ALLOWED, "https://admin.shop.example")).test_client()

    response = client.get("/api/v1/categories", headers={"Origin": ALLOWED})
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Origin" in ", ".join(response.headers.getlist("Vary"))  # caches key on it
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers

    allowed = preflight(client, ALLOWED)
    assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    requested = allowed.headers["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "content-type", "idempotency-key"} <= {
        name.strip() for name in requested.split(",")}


def test_other_origins_are_not(make_app):
    client = make_app(CORS_ORIGINS=(ALLOWED,)).test_client()
    for origin in (FOREIGN, "https://shop.example.evil.example", "http://shop.example"):
        response = client.get("/api/v1/categories", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "Access-Control-Allow-Origin" not in preflight(client, origin).headers


def test_cors_stays_on_the_api(make_app):
    client = make_app(CORS_ORIGINS=(ALLOWED,)).test_client()
    assert "Access-Control-Allow-Origin" not in client.get(
        "/healthz", headers={"Origin": ALLOWED}).headers


@pytest.mark.parametrize("origin", ["*", "https://shop.example/", "shop.example",
                                    "https://*.shop.example", "https://shop.example/path"])
def test_wildcards_and_non_origins_are_refused_at_start(make_app, origin):
    with pytest.raises(ValueError, match="CORS_ORIGINS"):
        make_app(CORS_ORIGINS=(origin,))


# --- Swagger UI in a real browser ------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation",
    (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


@pytest.fixture
def live_server(app):
    """The test app on a real socket, for the browser."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.mark.browser
def test_swagger_ui_renders_under_the_policy(live_server):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian's chromium (make test installs it)")
    console_errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            page = browser.new_page()
            page.on("console", lambda message: console_errors.append(message.text)
                    if message.type == "error" else None)
            page.add_init_script(RECORD_VIOLATIONS)
            page.goto(f"{live_server}/api/docs")
            page.wait_for_selector(".opblock", timeout=20_000)
            operations = page.locator(".opblock").count()
            violations = page.evaluate("window.cspViolations")
        finally:
            browser.close()
    assert operations > 20  # the whole API is listed: the initializer ran
    assert violations == []
    assert not [error for error in console_errors if "Content Security Policy" in error]
