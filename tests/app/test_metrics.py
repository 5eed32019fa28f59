"""/metrics: the names and labels of the monitoring contract, with the values real requests
leave behind (read back from the same registry Prometheus scrapes)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import jsonify
from prometheus_client import REGISTRY
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from app import metrics
from app.auth.tokens import issue_access_token
from app.extensions import db
from tests.app.factories import checkout_body, make_product, put_in_cart
from tests.conftest import REDIS_URL

PRODUCT_ROUTE = "/api/v1/products/<int:product_id>"
JSON = {"Accept": "application/json"}  # outside /api, errors are pages unless JSON is asked


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Delta:
    """How much a sample moved while the ``with`` block ran."""

    def __init__(self, name: str, **labels: str):
        self.name, self.labels = name, labels

    def __enter__(self) -> Delta:
        self.before = value(self.name, **self.labels)
        return self

    def __exit__(self, *exc_info) -> None:
        self.change = value(self.name, **self.labels) - self.before


def test_requests_are_counted_and_timed_by_route_template_method_and_status(client):
    product = make_product(price="5.00")
    found = {"route": PRODUCT_ROUTE, "method": "GET", "status": "200"}
    missing = {**found, "status": "404"}
    with Delta("shop_http_requests_total", **found) as ok, \
            Delta("shop_http_requests_total", **missing) as not_found, \
            Delta("shop_http_request_duration_seconds_count", **found) as timed, \
            Delta("shop_http_request_duration_seconds_bucket", **found, le="10.0") as bucket:
        assert client.get(f"/api/v1/products/{product.id}").status_code == 200
        assert client.get(f"/api/v1/products/{product.id}").status_code == 200
        assert client.get("/api/v1/products/999999").status_code == 404
    assert (ok.change, not_found.change, timed.change, bucket.change) == (2, 1, 2, 2)


def test_a_url_no_route_matches_is_one_label_not_its_path(client):
    labels = {"route": "<unmatched>", "method": "GET", "status": "404"}
    with Delta("shop_http_requests_total", **labels) as unmatched:
        client.get("/no/such/page-1")
        client.get("/no/such/page-2")
    assert unmatched.change == 2
    exposed = client.get("/metrics").get_data(as_text=True)
    assert "page-1" not in exposed


def test_an_invented_method_is_counted_as_other():
    assert metrics.method_label("BREW") == "other"
    assert metrics.method_label("PATCH") == "PATCH"


def test_in_flight_counts_the_request_being_served_and_returns_to_rest(make_app):
    app = make_app()

    @app.get("/test/in-flight")
    def in_flight():
        return jsonify(value=value("shop_http_requests_in_flight"))

    at_rest = value("shop_http_requests_in_flight")
    seen = app.test_client().get("/test/in-flight").json["value"]
    assert seen == at_rest + 1
    assert value("shop_http_requests_in_flight") == at_rest


def test_an_unhandled_exception_is_counted_with_its_route_and_type(make_app):
    app = make_app()

    @app.get("/test/boom")
    def boom():
        raise LookupError("bug")

    with Delta("shop_http_exceptions_total", route="/test/boom", exception="LookupError") \
            as exceptions, \
            Delta("shop_http_requests_total", route="/test/boom", method="GET",
                  status="500") as failed:
        response = app.test_client().get("/test/boom", headers=JSON)
    assert response.status_code == 500 and response.json["error"]["code"] == "internal_error"
    assert (exceptions.change, failed.change) == (1, 1)


def test_orders_and_revenue_count_placed_orders_only(client, customer, auth_headers):
    put_in_cart(customer.id, make_product(price="12.50", stock=5), 2)
    headers = {**auth_headers(customer), "Idempotency-Key": "metrics-1"}
    with Delta("shop_orders_created_total") as orders, Delta("shop_revenue_total") as revenue:
        assert client.post("/api/v1/orders/checkout", json=checkout_body(),
                           headers=headers).status_code == 201
        # A retry with the same key returns the same order: nothing new is placed.
        assert client.post("/api/v1/orders/checkout", json=checkout_body(),
                           headers=headers).status_code == 200
    # The counter is a float that earlier tests in the run already moved: compare the
    # difference with a tolerance, or it depends on test order.
    assert orders.change == 1
    assert revenue.change == pytest.approx(25.0)


@pytest.mark.parametrize(("reason", "setup", "card"), [
    ("payment_declined", "in_stock", "4000000000000002"),
    ("out_of_stock", "too_many", "4242424242424242"),
    ("validation", "empty_cart", "4242424242424242"),
])
def test_checkout_failures_are_counted_by_reason(client, customer, auth_headers, reason,
                                                 setup, card):
    if setup != "empty_cart":
        product = make_product(stock=1)
        put_in_cart(customer.id, product, 3 if setup == "too_many" else 1)
    headers = {**auth_headers(customer), "Idempotency-Key": f"fail-{reason}"}
    with Delta("shop_checkout_failures_total", reason=reason) as failures, \
            Delta("shop_orders_created_total") as orders:
        response = client.post("/api/v1/orders/checkout", json=checkout_body(card),
                               headers=headers)
    assert response.status_code in (402, 409)
    assert (failures.change, orders.change) == (1, 0)


class BrokenProvider:
    name = "broken"

    def charge(self, amount, card, reference):
        raise ConnectionError("the payment provider is unreachable")


def test_a_checkout_that_fails_on_our_side_is_counted_as_error(app, client, customer,
                                                              auth_headers):
    put_in_cart(customer.id, make_product(stock=3), 1)
    app.extensions["payment_provider"] = BrokenProvider()
    headers = {**auth_headers(customer), "Idempotency-Key": "broken-1", **JSON}
    with Delta("shop_checkout_failures_total", reason="error") as errors:
        response = client.post("/api/v1/orders/checkout", json=checkout_body(),
                               headers=headers)
    assert response.status_code == 500
    assert errors.change == 1


def test_cart_additions_count_successful_adds(client):
    product = make_product(stock=2)
    with Delta("shop_cart_additions_total") as additions:
        added = client.post("/api/v1/cart/items", json={"product_id": product.id,
                                                         "quantity": 1})
        token = added.headers["X-Cart-Token"]
        refused = client.post("/api/v1/cart/items", json={"product_id": product.id,
                                                          "quantity": 5},
                              headers={"X-Cart-Token": token})
    assert (added.status_code, refused.status_code) == (200, 409)
    assert additions.change == 1


def test_pool_gauges_follow_the_real_pool(migrated_database):
    engine = sa.create_engine(migrated_database, pool_size=1, max_overflow=2)
    try:
        held = [engine.connect() for _ in range(2)]
        metrics.observe_pools([engine.pool])
        assert [value("shop_db_pool_connections", state=state)
                for state in ("checked_out", "idle", "overflow")] == [2, 0, 1]
        for connection in held:
            connection.close()
        metrics.observe_pools([engine.pool])
        assert value("shop_db_pool_connections", state="checked_out") == 0
        assert value("shop_db_pool_connections", state="idle") == 1
    finally:
        engine.dispose()


def test_pool_gauges_are_sampled_after_each_request_gave_its_connection_back(make_app):
    # No app context held around the request (the `client` fixture holds one), as in
    # production: the request's own context ends, and with it the session's connection.
    assert make_app().test_client().get("/readyz").status_code == 200  # SELECT 1
    assert value("shop_db_pool_connections", state="checked_out") == 0
    assert value("shop_db_pool_connections", state="idle") >= 1


def test_cache_and_rate_limit_counters_for_the_layers_that_call_them():
    with Delta("shop_cache_hits_total", cache="product") as hits, \
            Delta("shop_cache_misses_total", cache="product") as misses, \
            Delta("shop_rate_limited_total", limit="login_ip") as limited:
        metrics.record_cache("product", hit=True)
        metrics.record_cache("product", hit=True)
        metrics.record_cache("product", hit=False)
        metrics.record_rate_limited("login_ip")
    assert (hits.change, misses.change, limited.change) == (2, 1, 1)


def test_metrics_endpoint_exposes_the_contract_in_prometheus_text_format(client):
    client.get("/api/v1/products")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    families = {family.name: family for family in
                text_string_to_metric_families(response.get_data(as_text=True))}
    expected = {"shop_http_requests", "shop_http_request_duration_seconds",
                "shop_http_requests_in_flight", "shop_http_exceptions", "shop_orders_created",
                "shop_revenue", "shop_checkout_failures", "shop_cart_additions",
                "shop_db_pool_connections", "shop_db_errors", "shop_cache_hits",
                "shop_cache_misses", "shop_rate_limited"}
    assert expected <= set(families)
    reasons = {sample.labels["reason"] for sample in families["shop_checkout_failures"].samples
               if sample.name == "shop_checkout_failures_total"}
    assert reasons == {"payment_declined", "out_of_stock", "validation", "error"}
    kinds = {sample.labels["kind"] for sample in families["shop_db_errors"].samples
             if sample.name == "shop_db_errors_total"}
    assert kinds == {"connection", "timeout", "other"}


def test_metrics_are_not_served_to_traffic_that_came_through_the_load_balancer(client):
    response = client.get("/metrics", headers={**JSON, "X-Forwarded-For": "203.0.113.9"})
    assert response.status_code == 404
    assert b"shop_revenue_total" not in response.data
    assert response.json["error"]["code"] == "not_found"


def test_database_errors_are_counted_by_kind_and_answered_with_503(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql://postgres@127.0.0.1:1/nothing")
    with app.app_context():
        token = issue_access_token(1, "customer")  # its user is looked up in the database
    with Delta("shop_db_errors_total", kind="connection") as connection_errors:
        response = app.test_client().get("/api/v1/cart",
                                         headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert response.json["error"]["code"] == "service_unavailable"
    assert response.headers["Retry-After"] == "5"
    assert connection_errors.change >= 1


def test_a_failing_statement_is_other_but_a_unique_constraint_race_is_not_counted(app):
    make_product(name="Only One")
    with Delta("shop_db_errors_total", kind="other") as race:
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(sa.text(
                "INSERT INTO categories (name, slug) SELECT name, slug FROM categories"))
        db.session.rollback()
    with Delta("shop_db_errors_total", kind="other") as broken:
        with pytest.raises(sa.exc.ProgrammingError):
            db.session.execute(sa.text("SELECT * FROM no_such_table"))
        db.session.rollback()
    assert (race.change, broken.change) == (0, 1)


# --- several gunicorn workers ------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
        return response.status


def _wait_until_serving(url: str, server: subprocess.Popen) -> None:
    for _ in range(300):
        assert server.poll() is None, "gunicorn exited"
        try:
            _get(url)
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("gunicorn did not start serving")


def _healthz_counts_per_worker(directory: Path) -> dict[str, float]:
    """What each worker's own file holds for /healthz, keyed by the worker's pid."""
    counts = {}
    for path in directory.glob("counter_*.db"):
        for key, count, _timestamp, _pos in MmapedDict.read_all_values_from_file(str(path)):
            name, _sample, labels, _help = json.loads(key)
            if name == "shop_http_requests" and labels["route"] == "/healthz":
                counts[path.stem.split("_")[1]] = count
    return counts


@pytest.fixture
def gunicorn_two_workers(migrated_database, tmp_path):
    port = _free_port()
    metrics_dir = tmp_path / "prometheus"
    env = {**os.environ, "DATABASE_URL": migrated_database, "REDIS_URL": REDIS_URL,
           "WEB_CONCURRENCY": "2", "GUNICORN_BIND": f"127.0.0.1:{port}",
           "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "MAIL_BACKEND": "outbox",
           "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "app/gunicorn_conf.py",
         "app:create_app()"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(f"{base}/readyz", server)
        yield base, metrics_dir
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_metrics_sum_the_requests_every_gunicorn_worker_served(gunicorn_two_workers):
    base, metrics_dir = gunicorn_two_workers
    sent = 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        # Concurrent requests spread over both workers; keep going until each served some.
        for _ in range(50):
            statuses = list(pool.map(_get, [f"{base}/healthz"] * 16))
            assert statuses == [200] * 16
            sent += len(statuses)
            if len(_healthz_counts_per_worker(metrics_dir)) == 2:
                break
    per_worker = _healthz_counts_per_worker(metrics_dir)
    assert len(per_worker) == 2 and all(count > 0 for count in per_worker.values())

    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:  # noqa: S310
        exposed = response.read().decode()
    samples = {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
               for family in text_string_to_metric_families(exposed)
               for sample in family.samples}
    healthz = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
    assert samples[("shop_http_requests_total", healthz)] == sent
    assert samples[("shop_http_request_duration_seconds_count", healthz)] == sent
    assert sum(per_worker.values()) == sent
    # The scrape itself is the one request in flight, whichever worker answers it.
    assert samples[("shop_http_requests_in_flight", ())] == 1


def test_a_refusal_by_a_rate_limit_is_counted_under_the_limits_name(make_app, customer):
    shop = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SIGN_IN_PER_EMAIL="1/minute")
    attempt = {"email": customer.email, "password": "not the password"}
    with Delta("shop_rate_limited_total", limit="sign-in:email") as limited:
        first = shop.test_client().post("/api/v1/auth/login", json=attempt)
        second = shop.test_client().post("/api/v1/auth/login", json=attempt)
    assert (first.status_code, second.status_code) == (401, 429)
    assert limited.change == 1
