"""``/sitemap.xml``, its pages and ``/robots.txt``: public, the same for everyone.

Each body is kept in Redis through ``app.caching.cached`` under the catalog's versions
(``categories`` and ``products``, ``app.catalog.cache``), so the commit of any catalog
write (a product added, renamed, hidden, its stock changed) replaces them, exactly as it
replaces the catalog's own entries; browsers and CloudFront keep them
``CACHE_MAX_AGE_SECONDS`` and revalidate with the ETag.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, current_app, make_response, request, url_for

from app.caching import cached
from app.catalog.cache import CATEGORIES, PRODUCTS
from app.db_routing import reads_from_replica
from app.storefront import bp, sitemap
from app.storefront.seo import PRIVATE_PREFIXES, absolute_url

CATALOG_VERSIONS = (CATEGORIES, PRODUCTS)
# Every page that shows one shopper's data or needs signing in; none is worth crawling.
DISALLOWED = (*PRIVATE_PREFIXES, "/api/")


def _text(value: str) -> str:
    return value


def _public(body: str, mimetype: str):
    response = make_response(body)
    response.mimetype = mimetype
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["CACHE_MAX_AGE_SECONDS"]
    response.add_etag()
    return response.make_conditional(request)


def _cached_body(ident: str, build: Callable[[], str]) -> str:
    # The page size and the public URL are part of the key: another setting, another body.
    config = current_app.config
    key = f"{ident}:{config['SITEMAP_PAGE_SIZE']}:{config['PUBLIC_BASE_URL']}"
    return cached("seo", key, CATALOG_VERSIONS, build, _text, _text)


@bp.get("/sitemap.xml")
@reads_from_replica
def sitemap_index():
    def build() -> str:
        pages = sitemap.page_count()
        if pages == 1:
            return sitemap.urlset(sitemap.entries(1))
        return sitemap.sitemap_index(pages)

    return _public(_cached_body("sitemap", build), "application/xml")


@bp.get("/sitemaps/<int:page>.xml")
@reads_from_replica
def sitemap_page(page: int):
    def build() -> str:
        if not 1 <= page <= sitemap.page_count() or sitemap.page_count() == 1:
            return ""  # one page: /sitemap.xml is the whole sitemap
        return sitemap.urlset(sitemap.entries(page))

    body = _cached_body(f"sitemap-page:{page}", build)
    if not body:
        abort(404)
    return _public(body, "application/xml")


@bp.get("/robots.txt")
def robots():
    def build() -> str:
        lines = ["User-agent: *", *(f"Disallow: {prefix}" for prefix in DISALLOWED),
                 "Allow: /", "", f"Sitemap: {absolute_url(url_for('storefront.sitemap_index'))}"]
        return "\n".join(lines) + "\n"

    return _public(_cached_body("robots", build), "text/plain")
