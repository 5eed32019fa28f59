"""Error pages in the shop's look for browsers; the API keeps its JSON error shape."""

from __future__ import annotations

import pytest

from tests.app.pages_support import text


def test_an_unknown_page_is_the_404_page(client, app):
    response = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = text(response)
    assert "We could not find that page" in html
    assert 'href="/static/css/shop.css"' in html  # the shop's look
    assert "Content-Security-Policy" in response.headers


@pytest.mark.parametrize("headers", [{}, {"Accept": "text/html"}])
def test_the_api_keeps_its_json_errors(client, app, headers):
    response = client.get("/api/v1/products/999999", headers=headers)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_a_client_that_prefers_json_gets_json_off_the_api_too(client, app):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_an_unexpected_error_is_the_500_page_without_details(make_app, caplog):
    app = make_app()

    @app.get("/explode")
    def explode():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/explode")
    assert response.status_code == 500
    html = text(response)
    assert "Something went wrong on our side" in html
    assert "secret internals" not in html and "Traceback" not in html


def test_a_database_outage_is_the_503_page(make_app):
    # Nothing listens on port 9: the error page itself must not need the database.
    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql://postgres@127.0.0.1:9/none")
    response = app.test_client().get("/products")
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "We will be back in a moment" in text(response)
    assert response.headers["Retry-After"] == "5"


def test_a_post_to_an_unknown_page_is_a_404_not_a_csrf_error(client, app):
    assert client.post("/no/such/form").status_code == 404
