"""Browsing: the home page, the catalog with its filters, and a product's page.

They read the catalog from the read replica when one is configured; who the shopper is
and their cart still come from the primary (``app.storefront.session``, ``navigation``).
"""

from __future__ import annotations

from flask import render_template, request

from app.cart.store import MAX_LINE_QUANTITY
from app.catalog.cache import listing_versions
from app.catalog.service import ProductFilters, get_product, list_categories, list_products
from app.db_routing import reads_from_replica
from app.storefront import bp
from app.storefront.forms.catalog import AddToCartForm, CatalogFilterForm
from app.storefront.page_cache import kept_for_first_visits

FEATURED_COUNT = 8
PER_PAGE = 12


@bp.get("/")
@kept_for_first_visits("page-home", listing_versions)
@reads_from_replica
def home():
    featured = list_products(ProductFilters(in_stock=True, sort="newest"), 1, FEATURED_COUNT)
    return render_template("storefront/home.html", featured=featured.items,
                           categories=list_categories())


@bp.get("/products")
@reads_from_replica
def catalog():
    categories = list_categories()
    form = CatalogFilterForm(categories, formdata=request.args)
    form.validate()
    filters = form.filters()
    page = list_products(filters, form.current_page(), PER_PAGE)
    # A category's listing is its page: its own title, description and breadcrumbs.
    category = next((c for c in categories if c.slug == filters.category_slug), None)
    return render_template("storefront/catalog.html", form=form, page=page, category=category)


@bp.get("/products/<int:product_id>")
@reads_from_replica
def product(product_id: int):
    item = get_product(product_id)
    form = AddToCartForm()
    form.quantity.render_kw = {**form.quantity.render_kw,
                               "max": max(1, min(item.stock, MAX_LINE_QUANTITY))}
    return render_template("storefront/product.html", product=item, form=form)
