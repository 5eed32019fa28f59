"""An oversized URL or header, sent to a real gunicorn started with the image's settings
(app/gunicorn_conf.py): the API answers in its JSON error shape and the pages with the
shop's error page, where gunicorn used to answer both with its own HTML."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys

import pytest

from app.request_limits import MAX_HEADER_FIELD_BYTES, MAX_REQUEST_TARGET_BYTES
from tests.app.test_metrics import ROOT, _free_port, _wait_until_serving
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def gunicorn(migrated_database, tmp_path_factory):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": migrated_database, "REDIS_URL": REDIS_URL,
           "WEB_CONCURRENCY": "1", "GUNICORN_BIND": f"127.0.0.1:{port}",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path_factory.mktemp("prometheus")),
           "MAIL_BACKEND": "outbox", "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "app/gunicorn_conf.py",
         "app:create_app()"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_serving(f"http://127.0.0.1:{port}/healthz", server)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _get(port: int, target: str, headers: dict | None = None,
         accept: str = "application/json") -> tuple[int, str, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", target, headers={"Accept": accept, **(headers or {})})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read().decode()
    finally:
        connection.close()


def test_a_100000_character_query_is_a_json_414_from_the_api(gunicorn):
    status, content_type, body = _get(gunicorn, "/api/v1/search?q=" + "a" * 100_000)
    assert (status, content_type) == (414, "application/json")
    error = json.loads(body)["error"]
    assert error["code"] == "uri_too_long"
    assert error["details"] == {"max_bytes": MAX_REQUEST_TARGET_BYTES}


def test_a_10000_character_idempotency_key_is_a_json_431_naming_the_header(gunicorn):
    status, content_type, body = _get(gunicorn, "/api/v1/cart",
                                      {"Idempotency-Key": "k" * 10_000})
    assert (status, content_type) == (431, "application/json")
    error = json.loads(body)["error"]
    assert error["code"] == "header_too_large"
    assert list(error["details"]["fields"]) == ["Idempotency-Key"]


def test_a_page_with_an_oversized_url_gets_the_shops_error_page(gunicorn):
    status, content_type, body = _get(gunicorn, "/products?q=" + "a" * 20_000,
                                      accept="text/html")
    assert status == 414
    assert content_type.startswith("text/html")
    assert f"longer than {MAX_REQUEST_TARGET_BYTES} bytes" in body


def test_requests_within_the_limits_are_served(gunicorn):
    status, _, body = _get(gunicorn, "/api/v1/search?q=" + "a" * 150,
                           {"X-Request-ID": "r" * 100, "X-Padding": "p" * 8000})
    assert status == 200, body
    assert json.loads(body)["items"] == []


def test_the_limits_apply_to_the_test_client_too(client):
    assert client.get("/api/v1/search?q=" + "a" * 9000).status_code == 414
    response = client.get("/api/v1/cart", headers={"X-Cart-Token": "t" * MAX_HEADER_FIELD_BYTES})
    assert (response.status_code, response.json["error"]["code"]) == (431, "header_too_large")
