"""The sitemap's entries, read from the database in pages of ``SITEMAP_PAGE_SIZE``.

Entries, in a fixed order: the home page, the catalog, every active category's listing,
then every active product by id. A product's visibility is its own ``is_active`` (the
catalog's rule), so a product filed under a hidden category is still listed. ``lastmod``
is the row's ``updated_at``; the home page and the catalog change whenever any product
does.

Up to ``SITEMAP_PAGE_SIZE`` entries (50,000 by default, the protocol's limit) the sitemap
is one ``urlset``; beyond, ``/sitemap.xml`` is a ``sitemapindex`` of ``/sitemaps/<n>.xml``
pages, each carrying the newest ``lastmod`` of its entries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape

import sqlalchemy as sa
from flask import current_app, url_for

from app.extensions import db
from app.models import Category, Product
from app.storefront.seo import absolute_url

XMLNS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    loc: str
    lastmod: datetime


def page_size() -> int:
    return current_app.config["SITEMAP_PAGE_SIZE"]


def _fixed_count() -> int:
    return 2  # the home page and the catalog


def _category_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Category)
                             .where(Category.is_active)) or 0


def _product_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Product)
                             .where(Product.is_active)) or 0


def total_entries() -> int:
    return _fixed_count() + _category_count() + _product_count()


def page_count() -> int:
    return max(1, -(-total_entries() // page_size()))


def entries(page: int) -> list[Entry]:
    """Entries ``(page - 1) * size`` up to ``page * size``, page 1 first."""
    size = page_size()
    start, stop = (page - 1) * size, page * size
    found: list[Entry] = []
    if start < _fixed_count():
        newest = _newest_product_change()
        fixed = [Entry(absolute_url(url_for("storefront.home")), newest),
                 Entry(absolute_url(url_for("storefront.catalog")), newest)]
        found.extend(fixed[start:stop])
    offset = max(0, start - _fixed_count())
    categories = _category_count()
    if offset < categories and len(found) < size:
        found.extend(_category_entries(offset, size - len(found)))
    offset = max(0, start - _fixed_count() - categories)
    if len(found) < size:
        found.extend(_product_entries(offset, size - len(found)))
    return found


def _newest_product_change() -> datetime:
    newest = db.session.scalar(sa.select(sa.func.max(Product.updated_at))
                               .where(Product.is_active))
    return newest or _EPOCH


def _category_entries(offset: int, limit: int) -> Iterable[Entry]:
    rows = db.session.execute(sa.select(Category.slug, Category.updated_at)
                              .where(Category.is_active).order_by(Category.id)
                              .offset(offset).limit(limit))
    return [Entry(absolute_url(url_for("storefront.catalog", category=slug)), changed)
            for slug, changed in rows]


def _product_entries(offset: int, limit: int) -> Iterable[Entry]:
    rows = db.session.execute(sa.select(Product.id, Product.updated_at)
                              .where(Product.is_active).order_by(Product.id)
                              .offset(offset).limit(limit))
    return [Entry(absolute_url(url_for("storefront.product", product_id=product_id)),
                  changed) for product_id, changed in rows]


# --- XML -------------------------------------------------------------------------------

def _w3c(moment: datetime) -> str:
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def urlset(found: list[Entry]) -> str:
    lines = [f"<url><loc>{escape(e.loc)}</loc><lastmod>{_w3c(e.lastmod)}</lastmod></url>"
             for e in found]
    return _document("urlset", lines)


def sitemap_index(pages: int) -> str:
    newest = _newest_per_page(pages)
    lines = []
    for page in range(1, pages + 1):
        loc = absolute_url(url_for("storefront.sitemap_page", page=page))
        lines.append(f"<sitemap><loc>{escape(loc)}</loc>"
                     f"<lastmod>{_w3c(newest[page])}</lastmod></sitemap>")
    return _document("sitemapindex", lines)


def _newest_per_page(pages: int) -> dict[int, datetime]:
    """Each page's newest ``lastmod``, without loading its entries: the products' part is
    one grouped query over their position in the sitemap."""
    size = page_size()
    newest = {page: _EPOCH for page in range(1, pages + 1)}

    def note(index: int, moment: datetime | None) -> None:
        page = index // size + 1
        if moment is not None and page in newest and _w3c(moment) > _w3c(newest[page]):
            newest[page] = moment

    note(0, _newest_product_change())  # the home page and the catalog
    categories = db.session.scalars(sa.select(Category.updated_at).where(Category.is_active)
                                    .order_by(Category.id)).all()
    for position, changed in enumerate(categories):
        note(_fixed_count() + position, changed)
    shift = _fixed_count() + len(categories)
    row_position = (sa.func.row_number().over(order_by=Product.id) - 1 + shift)
    numbered = (sa.select((row_position // size).label("chunk"), Product.updated_at)
                .where(Product.is_active).subquery())
    for chunk, changed in db.session.execute(
            sa.select(numbered.c.chunk, sa.func.max(numbered.c.updated_at))
            .group_by(numbered.c.chunk)):
        note(int(chunk) * size, changed)
    return newest


def _document(root: str, lines: list[str]) -> str:
    body = "\n".join(lines)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{XMLNS}">\n'
            f"{body}\n</{root}>\n")
