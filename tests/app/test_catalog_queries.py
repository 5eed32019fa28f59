"""A page of products costs the same number of SQL queries whatever its size (no N+1)."""

from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Category, Product


@pytest.fixture
def many_products(app):
    """120 products spread over four categories, inserted in one statement."""
    db.session.execute(sa.insert(Category), [
        {"name": f"Aisle {n}", "slug": f"aisle-{n}"} for n in range(4)])
    category_ids = list(db.session.scalars(sa.select(Category.id).order_by(Category.id)))
    db.session.execute(sa.insert(Product), [
        {"name": f"Garden Chair {n}", "sku": f"CHAIR-{n:04d}", "price": Decimal(n + 1),
         "stock": n % 7, "category_id": category_ids[n % 4], "description": "Teak chair."}
        for n in range(120)])
    db.session.commit()
    db.session.expunge_all()  # nothing pre-loaded: every row must come from the page query


@contextmanager
def counted_queries():
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def _page(client, url: str, **query) -> tuple[int, int]:
    """(SQL statements issued, rows returned) for one page request."""
    with counted_queries() as statements:
        response = client.get(url, query_string=query)
    assert response.status_code == 200
    assert all(item["category"]["slug"].startswith("aisle-") for item in response.json["items"])
    return len(statements), len(response.json["items"])


@pytest.mark.parametrize("url, filters", [
    ("/api/v1/products", {}),
    ("/api/v1/products", {"sort": "price"}),
    ("/api/v1/products", {"q": "chair", "in_stock": "true"}),
    ("/api/v1/products", {"category": "aisle-1", "min_price": "2"}),  # 29 rows match
    ("/api/v1/search", {"q": "garden chair"}),
])
def test_page_query_count_does_not_grow_with_page_size(client, many_products, url, filters):
    small_queries, small_rows = _page(client, url, per_page=5, **filters)
    large_queries, large_rows = _page(client, url, per_page=100, **filters)
    assert (small_rows, large_rows >= 29) == (5, True)
    assert small_queries == large_queries <= 3
