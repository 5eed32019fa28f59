"""Product reads: filters, sorts, pagination and visibility of inactive products."""

from __future__ import annotations

import pytest

from tests.app.catalog_factories import make_category, make_product

URL = "/api/v1/products"


@pytest.fixture
def shelf(app):
    """Two categories, five products with distinct prices and stock, one inactive."""
    books = make_category("Books")
    toys = make_category("Toys & Games")
    products = {
        "atlas": make_product(books, "Atlas of Rivers", price="25.00", stock=3, sku="BOOK-1"),
        "novel": make_product(books, "Winter Novel", price="12.50", stock=0, sku="BOOK-2"),
        "kite": make_product(toys, "Stunt Kite", price="40.00", stock=8, sku="TOYS-1"),
        "puzzle": make_product(toys, "Jigsaw Puzzle", price="19.99", stock=1, sku="TOYS-2"),
        "retired": make_product(toys, "Retired Yo-Yo", price="5.00", stock=9, sku="TOYS-3",
                                is_active=False),
    }
    return {"books": books, "toys": toys, **{k: p.id for k, p in products.items()}}


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def test_default_listing_is_active_products_newest_first(client, shelf):
    response = client.get(URL)
    assert _ids(response) == [shelf["puzzle"], shelf["kite"], shelf["novel"], shelf["atlas"]]
    assert response.json["meta"] == {"page": 1, "per_page": 20, "total": 4, "pages": 1}


def test_product_json_carries_money_as_a_string_and_its_category(client, shelf):
    item = client.get(f"{URL}/{shelf['puzzle']}").json
    assert item["price"] == "19.99"
    assert item["category"] == {"id": shelf["toys"].id, "name": "Toys & Games",
                                "slug": "toys-and-games"}
    assert (item["sku"], item["stock"], item["in_stock"]) == ("TOYS-2", 1, True)
    assert client.get(f"{URL}/{shelf['novel']}").json["in_stock"] is False


@pytest.mark.parametrize("sort, expected", [
    ("price", ["novel", "puzzle", "atlas", "kite"]),
    ("-price", ["kite", "atlas", "puzzle", "novel"]),
    ("name", ["atlas", "puzzle", "kite", "novel"]),
    ("newest", ["puzzle", "kite", "novel", "atlas"]),
])
def test_sorts(client, shelf, sort, expected):
    assert _ids(client.get(URL, query_string={"sort": sort})) == [shelf[k] for k in expected]


def test_filter_by_category_id_and_by_slug(client, shelf):
    by_id = client.get(URL, query_string={"category_id": shelf["books"].id, "sort": "price"})
    by_slug = client.get(URL, query_string={"category": "books", "sort": "price"})
    assert _ids(by_id) == _ids(by_slug) == [shelf["novel"], shelf["atlas"]]
    assert _ids(client.get(URL, query_string={"category": "no-such-slug"})) == []


def test_filter_by_price_range_is_inclusive(client, shelf):
    response = client.get(URL, query_string={"min_price": "12.50", "max_price": "25",
                                             "sort": "price"})
    assert _ids(response) == [shelf["novel"], shelf["puzzle"], shelf["atlas"]]
    assert [item["price"] for item in response.json["items"]] == ["12.50", "19.99", "25.00"]
    assert response.json["meta"]["total"] == 3


def test_filter_by_stock(client, shelf):
    in_stock = client.get(URL, query_string={"in_stock": "true", "sort": "price"})
    sold_out = client.get(URL, query_string={"in_stock": "false"})
    assert _ids(in_stock) == [shelf["puzzle"], shelf["atlas"], shelf["kite"]]
    assert _ids(sold_out) == [shelf["novel"]]


def test_filters_combine(client, shelf):
    response = client.get(URL, query_string={"category": "toys-and-games", "in_stock": "true",
                                             "max_price": "20"})
    assert _ids(response) == [shelf["puzzle"]]


def test_text_filter_uses_the_search_and_ranks_by_relevance(client, shelf):
    response = client.get(URL, query_string={"q": "kite"})
    assert _ids(response) == [shelf["kite"]]
    by_price = client.get(URL, query_string={"q": "novel OR atlas", "sort": "-price"})
    assert _ids(by_price) == [shelf["atlas"], shelf["novel"]]


def test_pagination_pages_through_with_a_total(client, shelf):
    pages = [client.get(URL, query_string={"sort": "price", "per_page": 3, "page": n})
             for n in (1, 2, 3)]
    assert _ids(pages[0]) == [shelf["novel"], shelf["puzzle"], shelf["atlas"]]
    assert _ids(pages[1]) == [shelf["kite"]]
    assert _ids(pages[2]) == []
    assert pages[1].json["meta"] == {"page": 2, "per_page": 3, "total": 4, "pages": 2}


def test_admin_listing_may_include_inactive_products(client, shelf, admin, customer,
                                                     auth_headers):
    query = {"include_inactive": "true", "sort": "price"}
    as_admin = client.get(URL, query_string=query, headers=auth_headers(admin))
    assert _ids(as_admin)[0] == shelf["retired"]
    assert as_admin.json["meta"]["total"] == 5
    assert client.get(URL, query_string=query, headers=auth_headers(customer)
                      ).status_code == 403
    assert client.get(URL, query_string=query).status_code == 401


@pytest.mark.parametrize("query, field", [
    ({"page": 0}, "page"),
    ({"per_page": 101}, "per_page"),
    ({"per_page": "ten"}, "per_page"),
    ({"sort": "popularity"}, "sort"),
    ({"sort": "relevance"}, "sort"),
    ({"min_price": "-1"}, "min_price"),
    ({"min_price": "abc"}, "min_price"),
    ({"max_price": "1.999"}, "max_price"),
    ({"min_price": "20", "max_price": "10"}, "max_price"),
    ({"category_id": "0"}, "category_id"),
    ({"category_id": "books"}, "category_id"),
    ({"in_stock": "perhaps"}, "in_stock"),
    ({"q": "  "}, "q"),
    ({"q": "x" * 201}, "q"),
])
def test_list_validation_names_the_field(client, shelf, query, field):
    response = client.get(URL, query_string=query)
    assert response.status_code == 422
    assert field in response.json["error"]["details"]["fields"]


def test_detail_by_sku_ignores_case(client, shelf):
    response = client.get(f"{URL}/sku/toys-1")
    assert response.status_code == 200
    assert response.json["id"] == shelf["kite"]


def test_inactive_product_is_404_to_shoppers_and_visible_to_admins(client, shelf, admin,
                                                                   customer, auth_headers):
    for headers in ({}, auth_headers(customer)):
        assert client.get(f"{URL}/{shelf['retired']}", headers=headers).status_code == 404
        assert client.get(f"{URL}/sku/TOYS-3", headers=headers).status_code == 404
    as_admin = client.get(f"{URL}/sku/TOYS-3", headers=auth_headers(admin))
    assert as_admin.status_code == 200
    assert as_admin.json["is_active"] is False


def test_unknown_product_is_404(client, shelf):
    assert client.get(f"{URL}/99999").json["error"]["code"] == "not_found"
    assert client.get(f"{URL}/sku/NOPE-1").status_code == 404


def test_a_bad_token_is_401_not_a_silent_guest(client, shelf):
    response = client.get(f"{URL}/{shelf['kite']}", headers={"Authorization": "Bearer junk"})
    assert response.status_code == 401
