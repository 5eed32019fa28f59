"""Admin product writes: create, update, deactivate, and every validation path."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.extensions import db
from app.models import Product
from tests.app.catalog_factories import make_category, make_product

URL = "/api/v1/products"


@pytest.fixture
def books(app):
    return make_category("Books")


@pytest.fixture
def valid(books) -> dict:
    return {"name": "Atlas of Rivers", "description": "Maps.", "price": "24.50",
            "sku": "book-0001", "stock": 7, "category_id": books.id}


def _fields(response) -> dict:
    return response.json["error"]["details"]["fields"]


def _product_count() -> int:
    return db.session.query(Product).count()


def test_admin_creates_a_product(client, admin, auth_headers, valid, books):
    response = client.post(URL, json=valid, headers=auth_headers(admin))
    assert response.status_code == 201
    row = db.session.get(Product, response.json["id"])
    assert (row.name, row.price, row.sku, row.stock, row.category_id, row.is_active) == (
        "Atlas of Rivers", Decimal("24.50"), "BOOK-0001", 7, books.id, True)
    assert response.json["price"] == "24.50"


def test_price_may_be_a_json_number_and_stock_defaults_to_zero(client, admin, auth_headers,
                                                              valid):
    body = {**valid, "price": 19.99}
    del body["stock"]
    response = client.post(URL, json=body, headers=auth_headers(admin))
    assert response.status_code == 201
    row = db.session.get(Product, response.json["id"])
    assert (row.price, row.stock) == (Decimal("19.99"), 0)


def test_duplicate_sku_is_a_conflict_whatever_its_case(client, admin, auth_headers, valid,
                                                       books):
    make_product(books, sku="BOOK-0001")
    response = client.post(URL, json=valid, headers=auth_headers(admin))
    assert response.status_code == 409
    assert "sku" in _fields(response)
    assert _product_count() == 1


@pytest.mark.parametrize("change, field", [
    ({"name": None}, "name"),
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"price": "0"}, "price"),
    ({"price": "-5.00"}, "price"),
    ({"price": "19.999"}, "price"),
    ({"price": 0.001}, "price"),
    ({"price": "NaN"}, "price"),
    ({"price": "Infinity"}, "price"),
    ({"price": "12345678901.00"}, "price"),
    ({"price": "cheap"}, "price"),
    ({"price": True}, "price"),
    ({"sku": "ab"}, "sku"),
    ({"sku": "-abc"}, "sku"),
    ({"sku": "has space"}, "sku"),
    ({"sku": "x" * 65}, "sku"),
    ({"stock": -1}, "stock"),
    ({"stock": 1.5}, "stock"),
    ({"stock": "7"}, "stock"),
    ({"stock": 1_000_001}, "stock"),
    ({"category_id": 0}, "category_id"),
    ({"category_id": "1"}, "category_id"),
    ({"category_id": 999}, "category_id"),
    ({"image_url": "file:///etc/passwd"}, "image_url"),
    ({"description": "x" * 5001}, "description"),
    ({"weight": 3}, "weight"),
])
def test_create_validation_names_the_field(client, admin, auth_headers, valid, change, field):
    response = client.post(URL, json={**valid, **change}, headers=auth_headers(admin))
    assert response.status_code == 422, response.json
    assert field in _fields(response)
    assert _product_count() == 0


@pytest.mark.parametrize("missing", ["name", "price", "sku", "category_id"])
def test_create_requires_the_essential_fields(client, admin, auth_headers, valid, missing):
    body = {key: value for key, value in valid.items() if key != missing}
    response = client.post(URL, json=body, headers=auth_headers(admin))
    assert response.status_code == 422
    assert missing in _fields(response)


def test_create_requires_a_json_body(client, admin, auth_headers):
    response = client.post(URL, data="name=x", headers=auth_headers(admin),
                           content_type="text/plain")
    assert response.status_code == 415


def test_update_changes_only_what_is_given(client, admin, auth_headers, books):
    product = make_product(books, "Atlas", price="10.00", stock=4, sku="BOOK-1")
    toys = make_category("Toys")
    response = client.patch(f"{URL}/{product.id}", headers=auth_headers(admin),
                            json={"price": "12.75", "category_id": toys.id, "sku": "toys-9"})
    assert response.status_code == 200
    db.session.expire_all()
    row = db.session.get(Product, product.id)
    assert (row.name, row.price, row.category_id, row.sku, row.stock) == (
        "Atlas", Decimal("12.75"), toys.id, "TOYS-9", 4)


def test_update_to_a_taken_sku_is_a_conflict(client, admin, auth_headers, books):
    make_product(books, sku="BOOK-1")
    other = make_product(books, sku="BOOK-2")
    response = client.patch(f"{URL}/{other.id}", json={"sku": "book-1"},
                            headers=auth_headers(admin))
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(Product, other.id).sku == "BOOK-2"


@pytest.mark.parametrize("body, field", [
    ({"price": "1.234"}, "price"),
    ({"category_id": 999}, "category_id"),
    ({"stock": 5}, "stock"),  # stock changes go through /stock, atomically
    ({"sku": "!!"}, "sku"),
    ({"is_active": None}, "is_active"),
])
def test_update_validation_names_the_field(client, admin, auth_headers, books, body, field):
    product = make_product(books, price="10.00", stock=4)
    response = client.patch(f"{URL}/{product.id}", json=body, headers=auth_headers(admin))
    assert response.status_code == 422
    assert field in _fields(response)
    db.session.expire_all()
    row = db.session.get(Product, product.id)
    assert (row.price, row.stock, row.category_id) == (Decimal("10.00"), 4, books.id)


def test_update_of_unknown_product_is_404(client, admin, auth_headers, books):
    response = client.patch(f"{URL}/4242", json={"name": "X"}, headers=auth_headers(admin))
    assert response.status_code == 404


def test_delete_deactivates_and_hides_the_product(client, admin, auth_headers, books):
    product = make_product(books, sku="BOOK-1")
    response = client.delete(f"{URL}/{product.id}", headers=auth_headers(admin))
    assert response.status_code == 200
    assert response.json["is_active"] is False
    db.session.expire_all()
    assert db.session.get(Product, product.id).is_active is False
    assert client.get(f"{URL}/{product.id}").status_code == 404
    assert client.get(URL).json["meta"]["total"] == 0

    client.patch(f"{URL}/{product.id}", json={"is_active": True}, headers=auth_headers(admin))
    assert client.get(f"{URL}/{product.id}").status_code == 200


def test_delete_of_unknown_product_is_404(client, admin, auth_headers):
    assert client.delete(f"{URL}/4242", headers=auth_headers(admin)).status_code == 404


def test_product_writes_are_for_admins_only(client, customer, auth_headers, valid, books):
    product = make_product(books, name="Atlas", sku="BOOK-1")
    for headers, status in ((auth_headers(customer), 403), ({}, 401)):
        assert client.post(URL, json=valid, headers=headers).status_code == status
        assert client.patch(f"{URL}/{product.id}", json={"name": "X"},
                            headers=headers).status_code == status
        assert client.delete(f"{URL}/{product.id}", headers=headers).status_code == status
    assert client.post(URL, json={"price": "bad"}).status_code == 401  # auth before parsing
    db.session.expire_all()
    row = db.session.get(Product, product.id)
    assert (row.name, row.is_active, _product_count()) == ("Atlas", True, 1)
