"""Property: no write endpoint answers 5xx, whatever it is sent.

Hypothesis throws JSON of arbitrary Unicode (NULs and lone surrogates included), numbers far
past any column, floats, and nesting past the limit at every API write endpoint, as an
admin so the admin endpoints validate their bodies too, and arbitrary form text at the
pages' forms. Beyond "no 5xx": a body carrying a NUL or a lone surrogate anywhere is the
boundary's 400, and one nested past 32 levels its ``json_too_deep``. The example counts
are kept small so the suite stays fast; each run draws new examples.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.inputs import MAX_JSON_DEPTH, json_depth, text_problem
from tests.app.factories import make_product, put_in_cart
from tests.app.pages_support import csrf_token, sign_in

# Names the schemas know, so the drawn bodies get past "unknown field" into validation.
FIELD_NAMES = (
    "email", "password", "name", "phone", "refresh_token", "old_password", "new_password",
    "token", "product_id", "quantity", "shipping_address", "payment", "line1", "line2",
    "city", "postal_code", "country", "card_number", "exp_month", "exp_year", "cvc",
    "description", "image_url", "is_active", "slug", "price", "sku", "stock",
    "category_id", "delta", "set", "status", "key", "content_type")

API_WRITES = (
    ("POST", "/api/v1/auth/register"), ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"), ("POST", "/api/v1/auth/logout"),
    ("PATCH", "/api/v1/users/me"), ("POST", "/api/v1/users/me/password"),
    ("POST", "/api/v1/users/password-reset"), ("POST", "/api/v1/users/password-reset/confirm"),
    ("POST", "/api/v1/users/{customer}/deactivate"), ("POST", "/api/v1/users/{customer}/activate"),
    ("POST", "/api/v1/categories"), ("PATCH", "/api/v1/categories/{category}"),
    ("DELETE", "/api/v1/categories/{category}"),
    ("POST", "/api/v1/products"), ("PATCH", "/api/v1/products/{product}"),
    ("DELETE", "/api/v1/products/{product}"), ("POST", "/api/v1/products/{product}/stock"),
    ("POST", "/api/v1/products/{product}/image"), ("PUT", "/api/v1/products/{product}/image"),
    ("DELETE", "/api/v1/cart"), ("POST", "/api/v1/cart/items"),
    ("PUT", "/api/v1/cart/items/{product}"), ("DELETE", "/api/v1/cart/items/{product}"),
    ("POST", "/api/v1/orders/checkout"), ("POST", "/api/v1/orders/{order}/cancel"),
    ("POST", "/api/v1/orders/{order}/status"),
)

PAGE_FORMS = ("/signin", "/signup", "/forgot-password", "/account", "/account/password",
              "/checkout", "/cart/items/{product}", "/cart/items/{product}/quantity",
              "/admin/products/new", "/admin/products/{product}",
              "/admin/products/{product}/stock")

text = st.text(st.characters(codec=None), max_size=40) | st.sampled_from(
    ["\x00", "a\x00b", "\ud800", "x\udfff", "", " ", "1e999", "NaN", "9" * 400])
numbers = st.integers() | st.integers(min_value=2**31 - 2, max_value=2**64) | st.floats()
scalars = st.none() | st.booleans() | numbers | text
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.sampled_from(FIELD_NAMES) | text, inner, max_size=4), max_leaves=12)
bodies = st.dictionaries(st.sampled_from(FIELD_NAMES) | text, values, max_size=6)
ids = st.sampled_from(["{own}"]) | st.integers(min_value=-5, max_value=2**40)
# Latin-1 without CR/LF: what an HTTP client can put in a header at all.
header_text = st.text(st.characters(min_codepoint=0, max_codepoint=255,
                                    exclude_characters="\r\n"), max_size=40)

FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.fixture
def world(app, client, admin, customer, auth_headers):
    """Rows for the paths to name, and the admin's credentials."""
    product = make_product(stock=20)
    put_in_cart(admin.id, product, 1)
    return {"client": client, "headers": auth_headers(admin),
            "own": {"customer": customer.id, "category": product.category_id,
                    "product": product.id, "order": 1}}


def _path(template: str, own: dict, drawn) -> str:
    names = {name: own[name] if drawn == "{own}" else drawn for name in own}
    return template.format(**names)


def _walk(value):
    yield value
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _unsafe(body) -> bool:
    return any(isinstance(v, str) and text_problem(v) for v in _walk(body))


@FUZZ
@given(endpoint=st.sampled_from(API_WRITES), body=bodies, path_id=ids,
       nesting=st.integers(min_value=0, max_value=MAX_JSON_DEPTH + 8),
       key=st.none() | header_text, cart_token=st.none() | header_text)
def test_no_api_write_answers_5xx(world, endpoint, body, path_id, nesting, key, cart_token):
    method, template = endpoint
    document = body
    for _ in range(nesting):
        document = [document]
    headers = dict(world["headers"])
    for name, value in (("Idempotency-Key", key), ("X-Cart-Token", cart_token)):
        if value is not None:
            headers[name] = value
    # ensure_ascii: a lone surrogate travels as the \\ud800 escape a client would send.
    raw = json.dumps(document, ensure_ascii=True)

    response = world["client"].open(_path(template, world["own"], path_id), method=method,
                                    data=raw, content_type="application/json",
                                    headers=headers)

    assert response.status_code < 500, (method, template, raw[:300], response.data[:300])
    assert response.is_json
    if json_depth(document) > MAX_JSON_DEPTH:
        assert (response.status_code, response.json["error"]["code"]) == (400, "json_too_deep")
    elif _unsafe(document):
        assert (response.status_code, response.json["error"]["code"]) == (400, "invalid_text")


@pytest.fixture
def browser(world, admin):
    client = world["client"]
    sign_in(client, admin.email)
    return client, csrf_token(client, "/account")


@FUZZ
@given(page=st.sampled_from(PAGE_FORMS), form=st.dictionaries(
    st.sampled_from(FIELD_NAMES + ("confirm", "idempotency_key", "next")),
    st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
        ["\x00", "a\x00", "9" * 30, "-1"]), max_size=8), path_id=ids)
def test_no_page_form_answers_5xx(world, browser, page, form, path_id):
    client, token = browser
    response = client.post(_path(page, world["own"], path_id),
                           data={**form, "csrf_token": token})
    assert response.status_code < 500, (page, form, response.data[:300])
