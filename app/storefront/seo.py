"""What search engines and link previews read in a page's head: canonical URLs, robots
directives, Open Graph images and schema.org JSON-LD.

Every URL here is absolute, from ``PUBLIC_BASE_URL``: behind CloudFront the app sees the
origin's host name, never the shop's, so ``request.host_url`` would be wrong.

Canonical URLs drop what only reorders or narrows a listing (sort, price range, in stock)
and keep what names a distinct page (the category, the page number past the first).
Searches are ``noindex, follow``: infinite, thin, and not what a shopper should land on
from a search engine; their links still lead crawlers to products. Personal pages
(account, cart, checkout, admin, sign-in) are ``noindex, nofollow`` as well as disallowed
in robots.txt (``app.storefront.views.seo``).

JSON-LD goes in ``<script type="application/ld+json">``: a data block, never executed, so
it needs no CSP nonce and gets none (a nonce would license it to run were its type ever
changed). ``json_ld`` escapes ``<``, ``>`` and ``&`` as JSON ``\\u`` escapes, so a product
named ``</script><script>...`` cannot end the block; the parsed JSON is unchanged.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import current_app, request, url_for
from markupsafe import Markup

from app.image_sets import ImageSet
from app.media import image_set_of
from app.models import Category, Product
from app.storefront import bp
from app.storefront.assets import asset_url
from app.storefront.navigation import stock_level

CURRENCY_CODE = "USD"  # navigation.CURRENCY's ISO 4217 code
SITE_NAME = "Shop"
DEFAULT_IMAGE = "icons/icon-512.png"
# Listing arguments that name a distinct page; every other one is noise for a canonical.
CANONICAL_ARGS = ("category", "page")
PRIVATE_PREFIXES = ("/account", "/admin", "/cart", "/checkout", "/signin", "/signup",
                    "/signout", "/forgot-password", "/reset-password")
_AVAILABILITY = {"in": "InStock", "low": "LimitedAvailability", "out": "OutOfStock"}
_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026",
                 0x2028: "\\u2028", 0x2029: "\\u2029"}


@bp.app_template_global()
def absolute_url(path_or_url: str) -> str:
    """``path_or_url`` under ``PUBLIC_BASE_URL`` (an absolute URL is kept as it is)."""
    if path_or_url.startswith(("https://", "http://")):
        return path_or_url
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/" + path_or_url.lstrip("/")


@bp.app_template_global()
def canonical_url() -> str:
    """This page's canonical URL: its path, and only the arguments that name a page."""
    args = {}
    for name in CANONICAL_ARGS:
        value = request.args.get(name, "").strip()
        if name == "page" and not (value.isdigit() and int(value) > 1):
            continue  # page 1 is the listing itself; a bad number is ignored by the view
        if value:
            args[name] = value
    if request.args.get("q", "").strip():  # a search is its own (noindex) page
        args = {"q": request.args["q"].strip(), **args}
    query = f"?{urlencode(args)}" if args else ""
    return absolute_url(request.path + query)


@bp.app_template_global()
def robots_directive() -> str:
    """The page's ``<meta name="robots">``, or "" for an indexable page."""
    if request.path.startswith(PRIVATE_PREFIXES):
        return "noindex, nofollow"
    if request.args.get("q", "").strip():
        return "noindex, follow"
    return ""


@bp.app_template_global()
def share_image(product: Product | None = None) -> str:
    """The picture a link preview shows: the product's (its full-size JPEG or PNG, which
    every preview bot reads), else the shop's icon."""
    if product is not None and product.image_url:
        return absolute_url(product.image_url)
    return absolute_url(asset_url(DEFAULT_IMAGE))


@bp.app_template_global()
def image_set(url: str | None) -> ImageSet | None:
    return image_set_of(url)


@bp.app_template_filter()
def json_ld(data: dict[str, Any]) -> Markup:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return Markup(text.translate(_JSON_ESCAPES))  # noqa: S704  (escaped just above)


@bp.app_template_global()
def product_structured_data(product: Product) -> dict[str, Any]:
    """schema.org Product with its Offer (price, currency, availability from the stock)."""
    url = absolute_url(url_for("storefront.product", product_id=product.id))
    data: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "Product", "@id": url + "#product",
        "name": product.name, "description": product.description, "sku": product.sku,
        "url": url, "category": product.category.name,
        "offers": {
            "@type": "Offer", "url": url, "priceCurrency": CURRENCY_CODE,
            "price": f"{product.price:.2f}", "itemCondition": "https://schema.org/NewCondition",
            "availability": "https://schema.org/" + _AVAILABILITY[stock_level(product.stock)],
        },
    }
    if product.image_url:
        data["image"] = _image_urls(product.image_url)
    return data


def _image_urls(image_url: str) -> list[str]:
    """The full-size picture first, then its WebP: what Google's guidelines ask for."""
    found = image_set_of(image_url)
    urls = [absolute_url(image_url)]
    if found is not None:
        largest_webp = max((v for v in found.variants if v.content_type == "image/webp"),
                           key=lambda v: v.width)
        urls.append(absolute_url(largest_webp.url))
    return urls


@bp.app_template_global()
def breadcrumb_structured_data(category: Category,
                               product: Product | None = None) -> dict[str, Any]:
    """schema.org BreadcrumbList: Catalog > category (> product)."""
    trail = [("Catalog", url_for("storefront.catalog")),
             (category.name, url_for("storefront.catalog", category=category.slug))]
    if product is not None:
        trail.append((product.name, url_for("storefront.product", product_id=product.id)))
    return {"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": [
        {"@type": "ListItem", "position": position, "name": name, "item": absolute_url(path)}
        for position, (name, path) in enumerate(trail, start=1)]}
