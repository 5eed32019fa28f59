"""The OpenAPI document is valid and describes EVERY route under /api/v1: written over
``app.url_map``, so each new endpoint is checked the day it lands."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

API_PREFIX = "/api/v1/"
SPEC_URL = "/api/v1/openapi.json"
BODY_METHODS = {"POST", "PUT", "PATCH"}
# Commands on a resource whose only input is the URL: a body would carry nothing.
BODILESS_ACTIONS = ("/activate", "/deactivate", "/cancel")


@pytest.fixture
def spec(client) -> dict:
    response = client.get(SPEC_URL)
    assert response.status_code == 200
    return response.json


def _spec_path(rule: str) -> str:
    """Werkzeug's /products/<int:product_id> is OpenAPI's /products/{product_id}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _operations(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API_PREFIX) and rule.rule != SPEC_URL:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule.rule, method


def _resolve(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        *_, section, name = node["$ref"].split("/")
        node = spec["components"][section][name]
    return node


def _json_schema(spec: dict, node: dict) -> dict | None:
    return _resolve(spec, node).get("content", {}).get("application/json", {}).get("schema")


def _problems(spec: dict, rule: str, method: str) -> list[str]:
    operation = spec["paths"].get(_spec_path(rule), {}).get(method.lower())
    if operation is None:
        return [f"{method} {rule}: not in the spec"]
    problems = []
    successes = {code: response for code, response in operation["responses"].items()
                 if code.startswith("2")}
    if not successes:
        problems.append(f"{method} {rule}: no success response documented")
    for code, response in successes.items():
        # 204 No Content is the one success that has no body, so no schema.
        if code != "204" and _json_schema(spec, response) is None:
            problems.append(f"{method} {rule}: response {code} has no JSON schema")
    needs_body = method in BODY_METHODS and not rule.endswith(BODILESS_ACTIONS)
    if needs_body and _json_schema(spec, operation.get("requestBody", {})) is None:
        problems.append(f"{method} {rule}: no JSON requestBody schema")
    return problems


def test_the_spec_is_valid_openapi_3(spec):
    assert spec["openapi"].startswith("3.")
    validate(spec)  # raises with the offending node when the document is invalid


def test_every_api_route_is_documented_with_schemas(app, spec):
    operations = list(_operations(app))
    assert len(operations) >= 14  # the catalog alone has 14; an empty scan proves nothing
    problems = [problem for rule, method in operations
                for problem in _problems(spec, rule, method)]
    assert problems == []


def test_the_spec_documents_no_route_that_does_not_exist(app, spec):
    served = {_spec_path(rule) for rule, _ in _operations(app)}
    assert set(spec["paths"]) <= served


def test_errors_are_documented_in_the_one_error_shape(spec):
    error = _resolve(spec, {"$ref": "#/components/schemas/Error"})
    body = _resolve(spec, error["properties"]["error"])
    assert set(body["properties"]) == {"code", "message", "details"}
    default = _json_schema(spec, {"$ref": "#/components/responses/DEFAULT_ERROR"})
    assert default == {"$ref": "#/components/schemas/Error"}


def test_admin_operations_declare_bearer_auth(spec):
    create = spec["paths"]["/api/v1/products"]["post"]
    assert create["security"] == [{"bearerAuth": []}]
    assert {"401", "403", "409", "422"} <= set(create["responses"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_money_is_documented_as_a_decimal_string(spec):
    price = spec["components"]["schemas"]["Product"]["properties"]["price"]
    assert (price["type"], price["format"]) == ("string", "decimal")
