"""The OpenAPI document describes every cart and order endpoint with its schemas."""

from __future__ import annotations

import pytest

from app import create_app
from tests.conftest import TEST_CONFIG

CART_AND_ORDERS = [
    ("/api/v1/cart", "get"), ("/api/v1/cart", "delete"), ("/api/v1/cart/items", "post"),
    ("/api/v1/cart/items/{product_id}", "put"), ("/api/v1/cart/items/{product_id}", "delete"),
    ("/api/v1/orders/checkout", "post"), ("/api/v1/orders/mine", "get"),
    ("/api/v1/orders", "get"), ("/api/v1/orders/{order_id}", "get"),
    ("/api/v1/orders/{order_id}/cancel", "post"), ("/api/v1/orders/{order_id}/status", "post"),
]
WITH_BODY = {("/api/v1/cart/items", "post"): "AddItem",
             ("/api/v1/cart/items/{product_id}", "put"): "SetQuantity",
             ("/api/v1/orders/checkout", "post"): "Checkout",
             ("/api/v1/orders/{order_id}/status", "post"): "StatusChange"}


@pytest.fixture(scope="module")
def spec() -> dict:
    return create_app(TEST_CONFIG).test_client().get("/api/v1/openapi.json").get_json()


@pytest.mark.parametrize(("path", "method"), CART_AND_ORDERS)
def test_every_endpoint_has_a_response_schema(spec, path, method):
    operation = spec["paths"][path][method]
    success = next(code for code in ("200", "201") if code in operation["responses"])

    schema = operation["responses"][success]["content"]["application/json"]["schema"]
    assert schema["$ref"].startswith("#/components/schemas/")


@pytest.mark.parametrize(("path", "method"), list(WITH_BODY))
def test_endpoints_with_a_body_document_it(spec, path, method):
    body = spec["paths"][path][method]["requestBody"]["content"]["application/json"]

    assert body["schema"]["$ref"] == f"#/components/schemas/{WITH_BODY[(path, method)]}"


def test_the_checkout_documents_its_header_and_never_echoes_the_card(spec):
    checkout = spec["paths"]["/api/v1/orders/checkout"]["post"]
    headers = {p["name"]: p for p in checkout["parameters"] if p["in"] == "header"}

    assert headers["Idempotency-Key"]["required"] is True
    assert {"402", "409", "422"} <= set(checkout["responses"])
    assert "payment" not in spec["components"]["schemas"]["Order"]["properties"]
