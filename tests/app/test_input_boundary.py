"""The input boundary (app/inputs.py): NUL characters, unpaired surrogates and runaway
nesting are refused with a 400 naming the field before any database work; on the pages a
form shows the error on its field. Each case was a 500 (or a poisoned row) before."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from app.extensions import db
from app.inputs import MAX_JSON_DEPTH, NUL_MESSAGE, SURROGATE_MESSAGE, json_depth, load_json
from app.models import Order, User
from tests.app.factories import checkout_body, make_product, put_in_cart
from tests.app.pages_support import sign_in, submit, text

REGISTER = {"email": "nul@example.com", "password": "a long enough password", "name": "Nul"}


@pytest.fixture
def statements(app):
    """Every SQL statement the app sends while the test runs."""
    sent: list[str] = []
    engine = db.engine

    def record(conn, cursor, statement, *args):
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


def _raw_json(client, method: str, url: str, body: str, headers: dict | None = None):
    """A body as a client could really send it (json= would refuse to encode a lone
    surrogate); ``body`` holds JSON escapes such as \\u0000 and \\ud800."""
    return client.open(url, method=method, data=body.encode(),
                       content_type="application/json", headers=headers or {})


def _refused(response, *path: str) -> list[str]:
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.json["error"]
    assert error["code"] == "invalid_text"
    found = error["details"]["fields"]
    for part in path:
        found = found[part]
    return found


def test_a_nul_in_a_registration_name_is_a_400_naming_it_before_any_sql(client, statements):
    body = json.dumps({**REGISTER, "name": "Nu\u0000l"})
    response = _raw_json(client, "POST", "/api/v1/auth/register", body)
    assert _refused(response, "name") == [NUL_MESSAGE]
    assert statements == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_a_nul_or_a_lone_surrogate_in_a_profile_name_is_a_400(client, customer,
                                                            auth_headers):
    for escape, message in (("\\u0000", NUL_MESSAGE), ("\\ud800", SURROGATE_MESSAGE)):
        response = _raw_json(client, "PATCH", "/api/v1/users/me",
                             f'{{"name": "Casey {escape}"}}', auth_headers(customer))
        assert _refused(response, "name") == [message]
    db.session.expire_all()
    assert db.session.get(User, customer.id).name == "Casey Customer"


@pytest.mark.parametrize("url", ["/api/v1/search?q=te%00a", "/api/v1/products?q=%00",
                                 "/api/v1/products/sku/AB%00C", "/api/v1/users?email=a%00"])
def test_a_nul_in_a_query_or_path_argument_is_a_400_naming_it(client, url, statements):
    response = client.get(url)
    (name,) = response.json["error"]["details"]["fields"]
    assert name in ("q", "sku", "email")
    assert _refused(response, name) == [NUL_MESSAGE]
    assert statements == []


def test_a_nul_in_a_checkout_address_never_reaches_the_order(client, customer, auth_headers):
    put_in_cart(customer.id, make_product(stock=3), 1)
    body = json.dumps(checkout_body(city="Spring\u0000field"))
    response = _raw_json(client, "POST", "/api/v1/orders/checkout", body,
                         {**auth_headers(customer), "Idempotency-Key": "nul-1"})
    assert _refused(response, "shipping_address.city") == [NUL_MESSAGE]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0


def test_a_bad_key_and_a_bad_list_item_are_named_where_they_are(client):
    body = '{"items": ["ok", "b\\u0000d"], "na\\u0000me": 1}'
    response = _raw_json(client, "POST", "/api/v1/cart/items", body)
    fields = _refused(response)
    assert fields == {"items.1": [NUL_MESSAGE], "na\ufffdme": [NUL_MESSAGE]}


def test_a_nul_in_a_header_the_app_stores_is_a_400(client):
    product = make_product(stock=3)
    response = client.post("/api/v1/cart/items", json={"product_id": product.id},
                           headers={"X-Cart-Token": "abc\x00def"})
    assert _refused(response, "X-Cart-Token") == [NUL_MESSAGE]


def test_five_thousand_nested_arrays_are_a_400_not_a_recursion_error(client, statements):
    response = _raw_json(client, "POST", "/api/v1/cart/items", "[" * 5000 + "]" * 5000)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "json_too_deep"
    assert response.json["error"]["details"] == {"max_depth": MAX_JSON_DEPTH}
    assert statements == []


def test_nesting_is_allowed_up_to_the_limit_and_refused_one_past_it():
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert json_depth(load_json(at_limit)) == MAX_JSON_DEPTH
    with pytest.raises(ValueError, match="deeper than 32"):
        load_json("[" + at_limit + "]")
    assert json_depth({"a": [1, {"b": "c"}]}) == 3


def test_a_deep_sign_in_body_is_a_400_even_for_the_limiters_key_function(make_app):
    shop = make_app(RATELIMIT_ENABLED=True).test_client()
    deep = '{"email": ' + "[" * 3000 + "]" * 3000 + "}"
    response = _raw_json(shop, "POST", "/api/v1/auth/login", deep)
    assert (response.status_code, response.json["error"]["code"]) == (400, "json_too_deep")


def test_malformed_json_is_still_a_400(client):
    response = _raw_json(client, "POST", "/api/v1/cart/items", '{"product_id": ')
    assert (response.status_code, response.json["error"]["code"]) == (400, "invalid_json")


# --- pages -----------------------------------------------------------------------------

def test_a_nul_in_a_page_form_is_an_error_on_its_field(client, customer):
    sign_in(client, customer.email)
    response = submit(client, "/account", {"name": "Casey\x00", "phone": ""})
    assert response.status_code == 422
    assert "Must not contain NUL characters." in text(response)
    db.session.expire_all()
    assert db.session.get(User, customer.id).name == "Casey Customer"


def test_a_nul_in_a_sign_up_form_is_a_form_error_and_no_account(client):
    response = submit(client, "/signup", {"name": "N\x00", "email": "n@example.com",
                                          "password": "a long enough password",
                                          "confirm": "a long enough password"})
    assert response.status_code == 422
    assert "Must not contain NUL characters." in text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


@pytest.mark.parametrize("url", ["/products?q=%00", "/admin/products?q=%00"])
def test_a_nul_in_a_page_query_is_a_400_page(client, admin, url):
    sign_in(client, admin.email)
    response = client.get(url)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "q must not contain NUL characters" in text(response)


def test_an_empty_body_sent_as_json_is_left_to_the_view(client):
    response = client.delete("/api/v1/cart", data=b"", content_type="application/json")
    assert response.status_code == 200
    assert response.json["items"] == []


def test_a_json_body_is_parsed_once_for_its_limits_boundary_and_arguments(
        make_app, app, customer, monkeypatch):
    """A sign-in's body is read by its e-mail limit, the boundary and the arguments'
    parser: all three share one parse (Request.get_json's cache)."""
    client = make_app(RATELIMIT_ENABLED=True).test_client()
    body = json.dumps({"email": customer.email, "password": "not the password"})
    parsed: list = []
    real_loads = json.loads

    def counted_loads(s, *args, **kwargs):
        if s in (body, body.encode()):
            parsed.append(s)
        return real_loads(s, *args, **kwargs)

    monkeypatch.setattr(json, "loads", counted_loads)
    response = client.post("/api/v1/auth/login", data=body, content_type="application/json")
    monkeypatch.undo()

    assert response.status_code == 401
    assert len(parsed) == 1
