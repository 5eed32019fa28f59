"""One structured log line per request: its id (the caller's when sane, returned either way),
route template, method, status, latency and user; never a body, header, query or path."""

from __future__ import annotations

import json
import logging
import re

import pytest
import sqlalchemy as sa
from pythonjsonlogger.json import JsonFormatter

from app.extensions import db
from tests.app.conftest import PASSWORD
from tests.app.factories import make_product

LINE_FIELDS = {"message", "request_id", "method", "route", "status", "duration_ms", "user_id",
               "remote_addr", "bytes"}


@pytest.fixture
def request_lines(caplog):
    caplog.set_level(logging.INFO)

    def lines() -> list[dict]:
        formatter = JsonFormatter("%(message)s")
        return [json.loads(formatter.format(record)) for record in caplog.records
                if record.name == "app.request"]

    return lines


def test_each_request_is_one_json_line_with_a_generated_id_it_returns(client, request_lines):
    response = client.get("/api/v1/products/424242")
    (line,) = request_lines()
    assert set(line) == LINE_FIELDS
    assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
    assert response.headers["X-Request-ID"] == line["request_id"]
    assert {key: line[key] for key in ("message", "method", "route", "status", "user_id")} == {
        "message": "request", "method": "GET", "route": "/api/v1/products/<int:product_id>",
        "status": 404, "user_id": None}
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


def test_the_line_names_the_client_and_the_size(client, request_lines):
    # What gunicorn's access line used to add: the app's one line carries it now (but no
    # header, not even the user agent).
    response = client.get("/healthz?x=1", headers={"User-Agent": 'curl "quoted"'},
                          environ_base={"REMOTE_ADDR": "10.0.3.7"})
    assert response.status_code == 200
    response = client.get("/api/v1/products/424242", headers={"User-Agent": 'curl "quoted"'},
                          environ_base={"REMOTE_ADDR": "10.0.3.7"})
    (line,) = request_lines()  # the successful probe is not logged
    assert {key: line[key] for key in ("remote_addr", "bytes")} == {
        "remote_addr": "10.0.3.7", "bytes": len(response.data)}
    assert "quoted" not in json.dumps(line)


def test_a_sane_incoming_request_id_is_honoured(client, request_lines):
    response = client.get("/api/v1/categories", headers={"X-Request-ID": "edge-7f3a.b_9:1"})
    assert response.headers["X-Request-ID"] == "edge-7f3a.b_9:1"
    assert request_lines()[0]["request_id"] == "edge-7f3a.b_9:1"


@pytest.mark.parametrize("incoming", [
    "x" * 129, "has space", '"}, "admin": true', "-starts-with-dash", "tab\there", ""])
def test_an_insane_incoming_request_id_is_replaced(client, request_lines, incoming):
    response = client.get("/api/v1/categories", headers={"X-Request-ID": incoming})
    generated = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert request_lines()[0]["request_id"] == generated


def test_the_signed_in_user_is_on_the_line(client, customer, auth_headers, request_lines):
    client.get("/api/v1/cart", headers=auth_headers(customer))
    assert request_lines()[0]["user_id"] == customer.id


def test_no_body_header_query_or_path_reaches_the_line(client, customer, request_lines,
                                                       caplog):
    client.post("/api/v1/auth/login?next=/secret-query-value",
                json={"email": customer.email, "password": PASSWORD},
                headers={"User-Agent": "secret-agent-header"})
    client.get("/api/v1/products/sku/SECRET-PATH-SKU")
    written = json.dumps(request_lines())
    for secret in (PASSWORD, customer.email, "secret-query-value", "secret-agent-header",
                   "SECRET-PATH-SKU"):
        assert secret not in written
    assert [line["route"] for line in request_lines()] == [
        "/api/v1/auth/login", "/api/v1/products/sku/<sku>"]
    assert all(set(line) == LINE_FIELDS for line in request_lines())


def test_successful_probes_are_not_logged_but_failing_ones_are(make_app, request_lines):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503
    assert [(line["route"], line["status"]) for line in request_lines()] == [("/readyz", 503)]


def test_the_apps_own_log_lines_carry_the_request_id(make_app, caplog):
    caplog.set_level(logging.INFO)
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz", headers={"X-Request-ID": "probe-1"})
    (warning,) = [record for record in caplog.records if record.name == "app.health"]
    assert warning.levelname == "WARNING" and warning.request_id == "probe-1"
    assert response.headers["X-Request-ID"] == "probe-1"


def test_an_unmatched_url_is_logged_without_its_path(client, request_lines):
    client.get("/reset/some-token-in-a-path")
    (line,) = request_lines()
    assert (line["route"], line["status"]) == ("<unmatched>", 404)
    assert "some-token" not in json.dumps(line)


def test_logging_the_user_costs_no_query(client, customer, auth_headers, request_lines):
    """The user is read once, to authenticate; the line takes its id from the identity map
    even after the view's commit expired the row."""
    statements = []
    engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        product = make_product(stock=5)
        statements.clear()
        client.post("/api/v1/cart/items", json={"product_id": product.id, "quantity": 1},
                    headers=auth_headers(customer))
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    assert request_lines()[-1]["user_id"] == customer.id
    assert sum("FROM users" in statement for statement in statements) == 1
