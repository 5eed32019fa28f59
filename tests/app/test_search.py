"""Ranked full-text search on PostgreSQL (the SQLite fallback: test_sqlite_default.py)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.catalog.service import ProductFilters, _product_statement
from app.extensions import db
from tests.app.catalog_factories import make_category, make_product

URL = "/api/v1/search"


@pytest.fixture
def lamps(app):
    home = make_category("Home")
    return {
        # Says "lamp" far more often than the product actually named "Lamp".
        "deluxe": make_product(home, "Desk Lamp Deluxe", sku="HOME-1",
                               description="A lamp for desks: lamp arm, lamp head, lamp base, "
                                           "the brightest lamp of all lamps.").id,
        "lamp": make_product(home, "Lamp", sku="HOME-2", description="Simple.").id,
        "shade": make_product(home, "Fabric Shade", sku="HOME-3",
                              description="Fits any lamp.").id,
        "kite": make_product(home, "Stunt Kite", sku="HOME-4", description="Flies high.").id,
        "kites": make_product(home, "Kite Repair Kit", sku="HOME-5",
                              description="For torn kites, stunt or not.").id,
        "hidden": make_product(home, "Lamp Oil", sku="HOME-6", is_active=False).id,
    }


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def test_an_exact_name_match_ranks_first(client, lamps):
    assert _ids(client.get(URL, query_string={"q": "lamp"}))[0] == lamps["lamp"]
    assert _ids(client.get(URL, query_string={"q": "LAMP"}))[0] == lamps["lamp"]


def test_name_matches_outrank_description_matches(client, lamps):
    ids = _ids(client.get(URL, query_string={"q": "lamp"}))
    assert ids == [lamps["lamp"], lamps["deluxe"], lamps["shade"]]


def test_the_exact_match_wins_even_over_a_denser_text(client, lamps):
    """Without the exact-name rule ts_rank_cd prefers the product repeating the word."""
    ids = _ids(client.get(URL, query_string={"q": "desk lamp deluxe"}))
    assert ids == [lamps["deluxe"]]


def test_search_stems_words(client, lamps):
    assert set(_ids(client.get(URL, query_string={"q": "kites"}))) == {lamps["kite"],
                                                                      lamps["kites"]}


def test_websearch_syntax_phrases_and_exclusions(client, lamps):
    assert _ids(client.get(URL, query_string={"q": '"stunt kite"'})) == [lamps["kite"]]
    assert _ids(client.get(URL, query_string={"q": "kite -repair"})) == [lamps["kite"]]
    assert set(_ids(client.get(URL, query_string={"q": "shade or oil"}))) == {lamps["shade"]}


def test_inactive_products_are_never_found(client, lamps):
    assert lamps["hidden"] not in _ids(client.get(URL, query_string={"q": "lamp oil"}))


def test_search_is_paginated_with_a_total(client, lamps):
    first = client.get(URL, query_string={"q": "lamp", "per_page": 2})
    second = client.get(URL, query_string={"q": "lamp", "per_page": 2, "page": 2})
    assert _ids(first) == [lamps["lamp"], lamps["deluxe"]]
    assert _ids(second) == [lamps["shade"]]
    assert first.json["meta"] == {"page": 1, "per_page": 2, "total": 3, "pages": 2}


@pytest.mark.parametrize("q", ["the", "(&|!:*", "'", "nothing-like-this"])
def test_odd_or_empty_queries_find_nothing_without_failing(client, lamps, q):
    response = client.get(URL, query_string={"q": q})
    assert _ids(response) == []
    assert response.json["meta"]["total"] == 0


@pytest.mark.parametrize("query, field", [
    ({}, "q"),
    ({"q": ""}, "q"),
    ({"q": "   "}, "q"),
    ({"q": "x" * 201}, "q"),
    ({"q": "lamp", "page": 0}, "page"),
    ({"q": "lamp", "per_page": 500}, "per_page"),
])
def test_search_validation_names_the_field(client, lamps, query, field):
    response = client.get(URL, query_string=query)
    assert response.status_code == 422
    assert field in response.json["error"]["details"]["fields"]


def test_search_is_answered_from_the_indexes_not_a_scan(app):
    """The exact-name arm of the WHERE has an index of its own (lower(name)), so the planner
    can combine it with the GIN index instead of reading every product."""
    shelf = make_category("Shelf")
    db.session.execute(sa.text(
        "INSERT INTO products (name, description, price, stock, sku, category_id, is_active) "
        "SELECT 'Item ' || n, 'Plain goods number ' || n, 5, 3, 'BULK-' || n, :category, true "
        "FROM generate_series(1, 5000) AS n"), {"category": shelf.id})
    make_product(shelf, "Brass Lantern", sku="LANTERN-1")
    db.session.commit()
    # VACUUM as autovacuum would: it empties the GIN index's pending list of fresh rows,
    # which the planner otherwise (rightly) prices as a scan of its own.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE products"))
        statement = _product_statement(ProductFilters(q="lantern"))
        compiled = statement.compile(connection)
        plan = "\n".join(row[0] for row in connection.exec_driver_sql(
            f"EXPLAIN {compiled}", compiled.params))
    assert "ix_products_search_vector" in plan, plan
    assert "ix_products_lower_name" in plan, plan
    assert "Seq Scan on products" not in plan, plan
