"""The catalog's rules, as plain functions shared by the API and the pages.

Inactive categories and products stay in the database (orders reference them) but are
invisible to shoppers: reads take ``include_inactive`` and only admins may set it. A
product's visibility is its own ``is_active`` alone (the rule the cart and checkout use),
so deactivating a category hides the category, not the products filed under it. Each
function that writes commits its own unit of work and turns unique-constraint races into
``Conflict``.

Reads go through the Redis cache (``app.catalog.cache``) and may return detached rows:
read them, never change them. Writes load their rows from the session (``_category_row``,
``_product_row``), and the cache learns of every commit by itself.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from app.catalog import cache
from app.catalog.search import text_search
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.live import events as live_events
from app.models import Category, Product
from app.pagination import Page, paginate

SORTS = ("newest", "price", "-price", "name", "relevance")
CATEGORY_FIELDS = frozenset({"name", "slug", "description", "image_url", "is_active"})
PRODUCT_FIELDS = frozenset({"name", "description", "price", "sku", "stock", "category_id",
                            "image_url", "is_active"})
# Stock changes only through adjust_stock: one atomic UPDATE, never a read-modify-write.
PRODUCT_UPDATE_FIELDS = PRODUCT_FIELDS - {"stock"}


# --- categories ------------------------------------------------------------------------

def slugify(text: str) -> str:
    """'Home & Kitchen' -> 'home-kitchen'; accents are folded to ASCII."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:120].rstrip("-")


def list_categories(include_inactive: bool = False) -> list[Category]:
    statement = sa.select(Category).order_by(Category.name, Category.id)
    if not include_inactive:
        statement = statement.where(Category.is_active)
    return cache.categories("all" if include_inactive else "active",
                            lambda: list(db.session.scalars(statement)))


def get_category(category_id: int, include_inactive: bool = False) -> Category:
    category = cache.category(f"id:{category_id}",
                              lambda: db.session.get(Category, category_id))
    return _visible_category(category, include_inactive)


def get_category_by_slug(slug: str, include_inactive: bool = False) -> Category:
    slug = slug.lower()
    category = cache.category(f"slug:{slug}", lambda: db.session.scalar(
        sa.select(Category).where(Category.slug == slug)))
    return _visible_category(category, include_inactive)


def _category_row(category_id: int) -> Category:
    """The category in this session, for a write."""
    return _visible_category(db.session.get(Category, category_id), include_inactive=True)


def _visible_category(category: Category | None, include_inactive: bool) -> Category:
    if category is None or not (category.is_active or include_inactive):
        raise NotFound("category not found")
    return category


def create_category(name: str, description: str = "", image_url: str | None = None) -> Category:
    _ensure_category_name_free(name)
    base = slugify(name)
    if not base:
        raise Invalid.field("name", "must contain letters or digits")
    category = Category(name=name, slug=_free_slug(base), description=description,
                        image_url=image_url)
    db.session.add(category)
    _commit("a category with this name already exists", ("name", "slug"))
    return category


def update_category(category_id: int, changes: dict[str, Any]) -> Category:
    category = _category_row(category_id)
    _reject_unknown(changes, CATEGORY_FIELDS)
    if "name" in changes and changes["name"].lower() != category.name.lower():
        _ensure_category_name_free(changes["name"])
    if "slug" in changes and changes["slug"] != category.slug:
        _ensure_slug_free(changes["slug"])
    for name, value in changes.items():
        setattr(category, name, value)
    _commit("a category with this name or slug already exists", ("name", "slug"))
    return category


def deactivate_category(category_id: int) -> Category:
    return update_category(category_id, {"is_active": False})


def _ensure_category_name_free(name: str) -> None:
    taken = db.session.scalar(
        sa.select(Category.id).where(sa.func.lower(Category.name) == name.lower()))
    if taken is not None:
        raise Conflict("a category with this name already exists",
                       {"fields": {"name": ["already exists"]}})


def _ensure_slug_free(slug: str) -> None:
    if db.session.scalar(sa.select(Category.id).where(Category.slug == slug)) is not None:
        raise Conflict("slug already in use", {"fields": {"slug": ["already in use"]}})


def _free_slug(base: str) -> str:
    """``base``, or ``base-2``, ``base-3``... when names differ only in punctuation."""
    taken = set(db.session.scalars(
        sa.select(Category.slug).where(sa.or_(Category.slug == base,
                                              Category.slug.like(f"{base}-%")))))
    candidate, suffix = base, 1
    while candidate in taken:
        suffix += 1
        candidate = f"{base}-{suffix}"
    return candidate


# --- products: reads -------------------------------------------------------------------

@dataclass(frozen=True)
class ProductFilters:
    category_id: int | None = None
    category_slug: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None
    q: str | None = None
    sort: str | None = None  # None: relevance when q is given, else newest
    include_inactive: bool = False


def list_products(filters: ProductFilters, page: int, per_page: int) -> Page:
    """One page of products and the total: two queries whatever ``per_page`` is."""
    query = {**asdict(filters), "page": page, "per_page": per_page}
    return cache.product_page(
        query, lambda: paginate(_product_statement(filters), page, per_page))


def _product_statement(filters: ProductFilters) -> sa.Select:
    # Joined once, used for the slug filter and loaded with each row (no lazy load per row).
    statement = (sa.select(Product).join(Product.category)
                 .options(contains_eager(Product.category)))
    search = text_search(filters.q) if filters.q else None
    for condition in _conditions(filters):
        statement = statement.where(condition)
    if search is not None:
        statement = statement.where(search.condition)
    sort = filters.sort or ("relevance" if search is not None else "newest")
    if sort == "relevance":
        if search is None:
            raise Invalid.field("sort", "relevance needs a text query q")
        return statement.order_by(*search.ranking)
    return statement.order_by(*_ORDERINGS[sort])


def _conditions(filters: ProductFilters) -> list[sa.ColumnElement[bool]]:
    conditions = []
    if not filters.include_inactive:
        conditions.append(Product.is_active)
    if filters.category_id is not None:
        conditions.append(Product.category_id == filters.category_id)
    if filters.category_slug is not None:
        conditions.append(Category.slug == filters.category_slug.lower())
    if filters.min_price is not None:
        conditions.append(Product.price >= filters.min_price)
    if filters.max_price is not None:
        conditions.append(Product.price <= filters.max_price)
    if filters.in_stock is not None:
        conditions.append(Product.stock > 0 if filters.in_stock else Product.stock == 0)
    return conditions


_ORDERINGS = {
    "newest": (Product.created_at.desc(), Product.id.desc()),
    "price": (Product.price.asc(), Product.id.asc()),
    "-price": (Product.price.desc(), Product.id.asc()),
    "name": (sa.func.lower(Product.name).asc(), Product.id.asc()),
}


def get_product(product_id: int, include_inactive: bool = False) -> Product:
    product = cache.product(product_id, lambda: db.session.get(
        Product, product_id, options=[joinedload(Product.category)]))
    return _visible_product(product, include_inactive)


def get_product_by_sku(sku: str, include_inactive: bool = False) -> Product:
    sku = normalize_sku(sku)
    product = cache.product_by_sku(sku, lambda: db.session.scalar(
        sa.select(Product).where(Product.sku == sku).options(joinedload(Product.category))))
    return _visible_product(product, include_inactive)


def _product_row(product_id: int) -> Product:
    """The product in this session, for a write."""
    return _visible_product(db.session.get(Product, product_id), include_inactive=True)


def _visible_product(product: Product | None, include_inactive: bool) -> Product:
    if product is None or not (product.is_active or include_inactive):
        raise NotFound("product not found")
    return product


def normalize_sku(sku: str) -> str:
    """SKUs are stored upper-case, so uniqueness and look-ups ignore case."""
    return sku.strip().upper()


# --- products: writes ------------------------------------------------------------------

def create_product(data: dict[str, Any]) -> Product:
    _reject_unknown(data, PRODUCT_FIELDS)
    product = Product(**{**data, "sku": normalize_sku(data["sku"])})
    _ensure_category_exists(product.category_id)
    _ensure_sku_free(product.sku)
    db.session.add(product)
    _commit("a product with this sku already exists", ("sku",))
    return product


def update_product(product_id: int, changes: dict[str, Any]) -> Product:
    product = _product_row(product_id)
    _reject_unknown(changes, PRODUCT_UPDATE_FIELDS)
    if "sku" in changes:
        changes = {**changes, "sku": normalize_sku(changes["sku"])}
        if changes["sku"] != product.sku:
            _ensure_sku_free(changes["sku"])
    if "category_id" in changes and changes["category_id"] != product.category_id:
        _ensure_category_exists(changes["category_id"])
    for name, value in changes.items():
        setattr(product, name, value)
    _commit("a product with this sku already exists", ("sku",))
    return product


def deactivate_product(product_id: int) -> Product:
    return update_product(product_id, {"is_active": False})


def adjust_stock(product_id: int, *, delta: int | None = None,
                 set_to: int | None = None) -> Product:
    """Add ``delta`` (may be negative) or set the level to ``set_to``, in one UPDATE.

    The guard is in the statement itself (``stock + delta >= 0``), so concurrent
    adjustments and checkouts can never drive stock below zero between a read and a write.
    """
    if (delta is None) == (set_to is None):
        raise Invalid.field("delta", "give either delta or set")
    if set_to is not None and set_to < 0:
        raise Invalid.field("set", "must be at least 0")
    new_level = Product.stock + delta if delta is not None else sa.literal(set_to)
    statement = (sa.update(Product).where(Product.id == product_id, new_level >= 0)
                 .values(stock=new_level).returning(Product.stock)
                 .execution_options(synchronize_session=False))
    updated = db.session.execute(statement).scalar_one_or_none()
    if updated is None:
        db.session.rollback()
        _product_row(product_id)  # 404 when there is no such product
        raise Conflict("stock cannot go below zero",
                       {"fields": {"delta": ["would make stock negative"]}},
                       code="insufficient_stock")
    cache.note_product_writes([product_id])  # a bulk UPDATE: the session did not see it
    live_events.stock_changed([(product_id, updated)])  # sent after the commit
    db.session.commit()
    return _product_row(product_id)


def _ensure_category_exists(category_id: int) -> None:
    if db.session.get(Category, category_id) is None:
        raise Invalid.field("category_id", "no such category")


def _ensure_sku_free(sku: str) -> None:
    if db.session.scalar(sa.select(Product.id).where(Product.sku == sku)) is not None:
        raise Conflict("a product with this sku already exists",
                       {"fields": {"sku": ["already exists"]}})


# --- shared ----------------------------------------------------------------------------

def _reject_unknown(data: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise Invalid("unknown fields", {"fields": {name: ["unknown field"] for name in unknown}})


def _commit(conflict_message: str, unique_fields: tuple[str, ...]) -> None:
    """Commit; a unique constraint lost to a concurrent writer is a 409, not a 500."""
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        clashes = [name for name in unique_fields if _violates_unique(exc, name)]
        if not clashes:
            raise
        raise Conflict(conflict_message,
                       {"fields": {name: ["already exists"] for name in clashes}}) from exc


def _violates_unique(exc: IntegrityError, column: str) -> bool:
    # PostgreSQL names the constraint (uq_<table>_<column>); SQLite says "failed: <table>.<column>".
    constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
    text = constraint or str(exc.orig)
    return text.endswith((f"_{column}", f".{column}"))
