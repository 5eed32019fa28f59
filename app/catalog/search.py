"""Full-text product search: the one place that knows which database it runs on.

PostgreSQL matches the generated, GIN-indexed ``products.search_vector`` (name weighted A,
description B) against ``websearch_to_tsquery`` and ranks with ``ts_rank_cd``. The SQLite
embedded default has no full-text index here, so every word must appear (LIKE) in the name
or the description, and name hits rank higher. On both, a product whose name is exactly
the query (case-insensitively) comes first, then the best rank, then the lowest id.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db
from app.models import Product

TEXT_SEARCH_CONFIG = "english"  # must match the generated column in migration 0001
MAX_FALLBACK_TERMS = 8  # each term is a LIKE pair; bound the work one request can ask for

# Not mapped on the model (SQLite has no such column), so it is named here.
SEARCH_VECTOR = sa.literal_column("products.search_vector", type_=TSVECTOR)


@dataclass(frozen=True)
class TextSearch:
    condition: ColumnElement[bool]
    ranking: tuple[ColumnElement, ...]  # ORDER BY terms, best match first


def text_search(q: str) -> TextSearch:
    """The WHERE condition and the relevance ordering for the text query ``q``."""
    if db.engine.dialect.name == "postgresql":
        return _postgresql(q)
    return _like_fallback(q)


def _exact_name(q: str) -> ColumnElement[bool]:
    return sa.func.lower(Product.name) == sa.func.lower(sa.literal(q))


def _postgresql(q: str) -> TextSearch:
    query = sa.func.websearch_to_tsquery(TEXT_SEARCH_CONFIG, q)
    exact = _exact_name(q)
    # The exact-name arm keeps a product findable by a name made only of stop words.
    condition = sa.or_(SEARCH_VECTOR.op("@@")(query), exact)
    rank = sa.func.ts_rank_cd(SEARCH_VECTOR, query)
    return TextSearch(condition, (exact.desc(), rank.desc(), Product.id.asc()))


def _contains(column, term: str) -> ColumnElement[bool]:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def _like_fallback(q: str) -> TextSearch:
    terms = q.split()[:MAX_FALLBACK_TERMS] or [q]
    exact = _exact_name(q)
    every_term = sa.and_(*(sa.or_(_contains(Product.name, term),
                                  _contains(Product.description, term)) for term in terms))
    name_hits = sum(sa.case((_contains(Product.name, term), 1), else_=0) for term in terms)
    return TextSearch(sa.or_(every_term, exact),
                      (exact.desc(), name_hits.desc(), Product.id.asc()))
