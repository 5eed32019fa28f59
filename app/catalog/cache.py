"""What the catalog keeps in the cache (``app.caching``), and when it goes stale.

Anonymous API reads (``response``) keep their final JSON body: a hit is answered without
the ORM, marshmallow or the database. Everything else that reads the catalog (the pages, a
signed-in or admin's API read, a response-cache miss) goes through the cached rows below.

Cached rows come back as *detached* ``Category``/``Product`` instances with every column
and a product's category loaded: the API schemas and the templates read them like any
other, and no session ever writes them back. Writes therefore load rows from the session,
never through the cached getters.

Versions: ``categories`` (every category read, and the category embedded in products),
``products`` (product lists, searches and SKU look-ups) and ``product:<id>`` (one
product). Writes are noticed where they happen, on the session: a flush records the
products and categories it wrote, a bulk ``UPDATE`` the session cannot see is recorded with
``note_product_writes``, and the versions are replaced only after the commit (a reader in
between would refill the cache from the old rows), or forgotten on rollback.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache, wraps
from itertools import chain
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Response, current_app, has_app_context, request
from marshmallow import Schema, fields
from sqlalchemy import event
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.caching import cached, invalidate, is_anonymous_read
from app.extensions import db
from app.models import Category, Product
from app.pagination import Page

CATEGORIES = "categories"
PRODUCTS = "products"
_CHANGES = "catalog_cache_versions"  # key in Session.info

Row = TypeVar("Row", Category, Product)


def product_version(product_id: int) -> str:
    return f"product:{product_id}"


# --- whole responses -------------------------------------------------------------------

View = Callable[..., Any]


def response(kind: str, schema: type[Schema],
             depends_on: Callable[..., Sequence[str]]) -> Callable[[View], View]:
    """Keep the 200 body of an anonymous GET of the view, keyed by its path and query
    (in any order) and by the shape of ``schema`` (another release's body is never served).
    ``depends_on(**view_args)`` names the versions the answer depends on. Put it right
    under the route decorator: a hit skips argument parsing, the view and serialisation."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not is_anonymous_read():
                return view(*args, **kwargs)
            ident = f"{_shape_digest(schema)}:{_request_digest()}"
            # local: a hit is answered from this process's memory (app/cache_local.py).
            return cached(kind, ident, depends_on(**kwargs), lambda: view(*args, **kwargs),
                          _body, _json_response, keep=lambda answer: answer.status_code == 200,
                          local=True)

        return wrapper

    return decorate


def _request_digest() -> str:
    query = sorted(request.args.items(multi=True))
    return _digest([request.path, query])


def _body(answer: Response) -> str:
    return answer.get_data(as_text=True)


def _json_response(body: str) -> Response:
    return current_app.response_class(body, mimetype="application/json")


@cache
def _shape_digest(schema: type[Schema]) -> str:
    return _digest(_shape(schema()))[:12]


def _shape(schema: Schema) -> dict[str, Any]:
    return {name: _field_shape(field) for name, field in sorted(schema.fields.items())}


def _field_shape(field: fields.Field) -> Any:
    if isinstance(field, fields.Nested):
        return _shape(field.schema)
    if isinstance(field, fields.List):
        return [_field_shape(field.inner)]
    return [type(field).__name__, field.data_key]


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, default=str).encode()).hexdigest()[:32]


# --- cached rows: what each depends on -------------------------------------------------

def categories(variant: str, load: Callable[[], list[Category]]) -> list[Category]:
    return cached("categories", variant, (CATEGORIES,), load,
                  lambda rows: [dump_category(row) for row in rows],
                  lambda data: [load_category(item) for item in data])


def category(ident: str, load: Callable[[], Category | None]) -> Category | None:
    return cached("category", ident, (CATEGORIES,), load, *optional(dump_category, load_category))


def product(product_id: int, load: Callable[[], Product | None]) -> Product | None:
    return cached("product", str(product_id), product_versions(product_id), load,
                  *optional(dump_product, load_product))


def product_by_sku(sku: str, load: Callable[[], Product | None]) -> Product | None:
    return cached("product-sku", sku, (CATEGORIES, PRODUCTS), load,
                  *optional(dump_product, load_product))


def product_page(query: dict, load: Callable[[], Page]) -> Page:
    """One page of a product listing or search; ``query`` is everything that selects it."""
    digest = hashlib.sha256(json.dumps(query, sort_keys=True, default=str).encode()).hexdigest()
    return cached("products", digest[:32], (CATEGORIES, PRODUCTS), load, _dump_page, _load_page)


def product_versions(product_id: int) -> tuple[str, ...]:
    return (CATEGORIES, product_version(product_id))


def listing_versions(**view_args: Any) -> tuple[str, ...]:
    """Lists, searches and look-ups by anything but the id."""
    return (CATEGORIES, PRODUCTS)


def category_versions(**view_args: Any) -> tuple[str, ...]:
    return (CATEGORIES,)


def _dump_page(page: Page) -> dict:
    return {"items": [dump_product(item) for item in page.items], "page": page.page,
            "per_page": page.per_page, "total": page.total}


def _load_page(data: dict) -> Page:
    return Page(items=[load_product(item) for item in data["items"]], page=data["page"],
                per_page=data["per_page"], total=data["total"])


# --- codecs ----------------------------------------------------------------------------

def dump_category(category: Category) -> dict:
    return _dump_row(category)


def load_category(data: dict) -> Category:
    return _load_row(Category, data)


def dump_product(product: Product) -> dict:
    return {**_dump_row(product), "category": _dump_row(product.category)}


def load_product(data: dict) -> Product:
    row = _load_row(Product, data)
    set_committed_value(row, "category", load_category(data["category"]))
    return row


def optional(dump: Callable[[Row], dict], load: Callable[[dict], Row]):
    """Codecs for "the row or None": a miss is cached too, so a flood of look-ups of an
    id that does not exist reaches the database once per version."""
    return ((lambda row: None if row is None else dump(row)),
            (lambda data: None if data is None else load(data)))


def _dump_row(row: Category | Product) -> dict:
    return {key: _to_json(getattr(row, key)) for key, _ in _columns(type(row))}


def _load_row(model: type[Row], data: dict) -> Row:
    row = model(**{key: convert(data[key]) for key, convert in _columns(model)})
    make_transient_to_detached(row)  # as if loaded: persistent identity, nothing pending
    return row


@cache
def _columns(model: type) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    return tuple((attr.key, _from_json(attr.columns[0].type.python_type))
                 for attr in sa.inspect(model).column_attrs)


def _to_json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _from_json(python_type: type) -> Callable[[Any], Any]:
    if python_type is Decimal:
        return lambda value: None if value is None else Decimal(value)
    if python_type is datetime:
        return lambda value: None if value is None else datetime.fromisoformat(value)
    return lambda value: value


# --- invalidation ----------------------------------------------------------------------

def note_product_writes(product_ids: Iterable[int]) -> None:
    """Record products changed by SQL the session does not track (a bulk ``UPDATE``), in
    the current transaction: their cache versions change when it commits."""
    _record(db.session(), chain([PRODUCTS], map(product_version, product_ids)))


def note_catalog_writes() -> None:
    """Record a bulk load of categories and products the session does not track: every
    catalog entry (each depends on ``categories``) is replaced when the transaction commits,
    cached misses of ids that now exist included."""
    _record(db.session(), (CATEGORIES, PRODUCTS))


def _record(session: Session, versions: Iterable[str]) -> None:
    session.info.setdefault(_CHANGES, set()).update(versions)


# Every product write, a checkout's stock decrement included, also replaces ``products``,
# the version of every listing. Narrower was considered (only a listed field's change or a
# stock level crossing zero for the in_stock filter) and refused: a listing's body shows
# each product's stock (the API's ``stock``, the pages' "Only 3 left"), so after a plain
# decrement every cached page naming that product would show a stock that is no longer
# there. Correctness first; what a checkout costs is one refill per listing page read.
@event.listens_for(Session, "after_flush")
def _collect_flushed_writes(session: Session, flush_context: Any) -> None:
    # In after_flush, new/dirty/deleted still list what this flush wrote, ids assigned.
    for row in chain(session.new, session.dirty, session.deleted):
        if isinstance(row, Product):
            _record(session, (PRODUCTS, product_version(row.id)))
        elif isinstance(row, Category):
            _record(session, (CATEGORIES, PRODUCTS))  # products embed their category


@event.listens_for(Session, "after_commit")
def _invalidate_committed_writes(session: Session) -> None:
    versions = session.info.pop(_CHANGES, None)
    if versions and has_app_context():
        invalidate(versions)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_writes(session: Session) -> None:
    session.info.pop(_CHANGES, None)
