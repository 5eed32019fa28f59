"""The catalog's REST endpoints: categories, products (with stock) and search.

Deactivation is ``DELETE`` on both categories and products: rows stay (orders reference
them) and disappear for shoppers; ``PATCH {"is_active": true}`` brings them back.
The GETs read from the replica when one is configured (app/db_routing.py); an anonymous
GET's answer is kept whole in the cache (``app.catalog.cache.response``).
"""

from __future__ import annotations

from flask import current_app, jsonify, request

from app import media
from app.api_routes import ApiBlueprint, accepts_uploads
from app.auth.guards import admin_endpoint, current_user, optional_user
from app.catalog import cache, service
from app.catalog.schemas import (
    CategoryCreateSchema,
    CategoryListArgsSchema,
    CategoryListSchema,
    CategorySchema,
    CategoryUpdateSchema,
    ProductCreateSchema,
    ProductListArgsSchema,
    ProductPageSchema,
    ProductSchema,
    ProductUpdateSchema,
    SearchArgsSchema,
    StockAdjustmentSchema,
)
from app.db_routing import reads_from_replica
from app.errors import Forbidden

categories_blp = ApiBlueprint("categories", __name__, url_prefix="/categories",
                              description="Product categories.")
products_blp = ApiBlueprint("products", __name__, url_prefix="/products",
                            description="Products, their prices and stock.")
search_blp = ApiBlueprint("search", __name__, url_prefix="/search",
                          description="Ranked full-text search over the catalog.")


def _include_inactive(requested: bool) -> bool:
    """Only admins may ask for inactive rows: 401 for a guest, 403 for a customer."""
    if requested and not current_user().is_admin:
        raise Forbidden("include_inactive is for administrators")
    return requested


def _viewer_is_admin() -> bool:
    user = optional_user()
    return user is not None and user.is_admin


def _stacked(*decorators):
    """The decorators as if written one above the other, the first outermost."""

    def decorate(view):
        for decorator in reversed(decorators):
            view = decorator(view)
        return view

    return decorate


def _cached_item(blp: ApiBlueprint, rule: str, key: str, schema, versions):
    """GET one category or product: 404 when there is none (or it is hidden from the viewer),
    read from the replica, an anonymous viewer's answer kept whole in the cache."""
    return _stacked(blp.route(rule, methods=["GET"]), cache.response(key, schema, versions),
                    reads_from_replica, blp.response(200, schema),
                    blp.alt_response(404, response="NOT_FOUND"))


def _admin_item_change(blp: ApiBlueprint, method: str, rule: str, schema, arguments=None,
                       conflicts: bool = False):
    """An admin's change to one category or product, answered with the item: 404 when there
    is none, and with ``conflicts`` 409 when the change clashes (a taken slug or SKU, stock
    below zero)."""
    decorators = [blp.route(rule, methods=[method]), admin_endpoint(blp)]
    if arguments is not None:
        decorators.append(blp.arguments(arguments))
    decorators += [blp.response(200, schema), blp.alt_response(404, response="NOT_FOUND")]
    if conflicts:
        decorators.append(blp.alt_response(409, response="CONFLICT"))
    return _stacked(*decorators)


# --- categories ------------------------------------------------------------------------

@categories_blp.route("", methods=["GET"])
@cache.response("api-categories", CategoryListSchema, cache.category_versions)
@reads_from_replica
@categories_blp.arguments(CategoryListArgsSchema, location="query")
@categories_blp.response(200, CategoryListSchema)
def list_categories(args):
    """List categories (active ones; admins may add include_inactive)"""
    return {"items": service.list_categories(_include_inactive(args["include_inactive"]))}


@categories_blp.route("", methods=["POST"])
@admin_endpoint(categories_blp)
@categories_blp.arguments(CategoryCreateSchema)
@categories_blp.response(201, CategorySchema)
@categories_blp.alt_response(409, response="CONFLICT")
def create_category(data):
    """Create a category (its slug is derived from the name)"""
    return service.create_category(**data)


@_cached_item(categories_blp, "/<int:category_id>", "api-category", CategorySchema,
              cache.category_versions)
def get_category(category_id: int):
    """A category by id"""
    return service.get_category(category_id, include_inactive=_viewer_is_admin())


@_cached_item(categories_blp, "/slug/<slug>", "api-category", CategorySchema,
              cache.category_versions)
def get_category_by_slug(slug: str):
    """A category by slug"""
    return service.get_category_by_slug(slug, include_inactive=_viewer_is_admin())


@_admin_item_change(categories_blp, "PATCH", "/<int:category_id>", CategorySchema,
                    arguments=CategoryUpdateSchema, conflicts=True)
def update_category(changes, category_id: int):
    """Update a category (is_active: true reactivates it)"""
    return service.update_category(category_id, changes)


@_admin_item_change(categories_blp, "DELETE", "/<int:category_id>", CategorySchema)
def deactivate_category(category_id: int):
    """Deactivate a category (it is kept, hidden from shoppers)"""
    return service.deactivate_category(category_id)


# --- products --------------------------------------------------------------------------

def _filters(args: dict) -> service.ProductFilters:
    return service.ProductFilters(
        category_id=args.get("category_id"), category_slug=args.get("category"),
        min_price=args.get("min_price"), max_price=args.get("max_price"),
        in_stock=args.get("in_stock"), q=args.get("q"), sort=args.get("sort"),
        include_inactive=_include_inactive(args["include_inactive"]))


@products_blp.route("", methods=["GET"])
@cache.response("api-products", ProductPageSchema, cache.listing_versions)
@reads_from_replica
@products_blp.arguments(ProductListArgsSchema, location="query")
@products_blp.response(200, ProductPageSchema)
def list_products(args):
    """List products, filtered, sorted and paginated"""
    page = service.list_products(_filters(args), args["page"], args["per_page"])
    return {"items": page.items, "meta": page.meta}


@products_blp.route("", methods=["POST"])
@admin_endpoint(products_blp)
@products_blp.arguments(ProductCreateSchema)
@products_blp.response(201, ProductSchema)
@products_blp.alt_response(409, response="CONFLICT")
def create_product(data):
    """Create a product"""
    return service.create_product(data)


@_cached_item(products_blp, "/<int:product_id>", "api-product", ProductSchema,
              cache.product_versions)
def get_product(product_id: int):
    """A product by id"""
    return service.get_product(product_id, include_inactive=_viewer_is_admin())


@_cached_item(products_blp, "/sku/<sku>", "api-product", ProductSchema,
              cache.listing_versions)
def get_product_by_sku(sku: str):
    """A product by SKU (case-insensitive)"""
    return service.get_product_by_sku(sku, include_inactive=_viewer_is_admin())


@_admin_item_change(products_blp, "PATCH", "/<int:product_id>", ProductSchema,
                    arguments=ProductUpdateSchema, conflicts=True)
def update_product(changes, product_id: int):
    """Update a product (stock changes go through /stock; is_active: true reactivates)"""
    return service.update_product(product_id, changes)


@_admin_item_change(products_blp, "DELETE", "/<int:product_id>", ProductSchema)
def deactivate_product(product_id: int):
    """Deactivate a product (it is kept for past orders, hidden from shoppers)"""
    return service.deactivate_product(product_id)


@_admin_item_change(products_blp, "POST", "/<int:product_id>/stock", ProductSchema,
                    arguments=StockAdjustmentSchema, conflicts=True)
def adjust_stock(data, product_id: int):
    """Adjust stock atomically by delta, or set it; 409 if it would go below zero"""
    return service.adjust_stock(product_id, delta=data.get("delta"), set_to=data.get("set"))


# --- product images (app/media.py) ----------------------------------------------------

@products_blp.route("/<int:product_id>/image", methods=["POST"])
@admin_endpoint(products_blp)
@accepts_uploads
@products_blp.doc(requestBody=media.UPLOAD_REQUEST_BODY)
@products_blp.response(201, media.UploadFormSchema,
                       description="MEDIA_BUCKET set: a presigned S3 form to post the file "
                                   "with, then PUT its key here.")
@products_blp.alt_response(200, schema=ProductSchema,
                           description="Local disk: the file is stored and is the image.")
@products_blp.alt_response(404, response="NOT_FOUND")
@products_blp.alt_response(409, response="CONFLICT",
                           description="The body's kind does not match this shop's storage.")
@products_blp.alt_response(413, response="DEFAULT_ERROR", description="Over MEDIA_MAX_BYTES.")
@products_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def upload_image(product_id: int):
    """Upload a product image: JSON {content_type} for an S3 upload form (MEDIA_BUCKET set),
    else the file itself as multipart field `file` (JPEG, PNG or WebP)"""
    if request.is_json:
        return media.presign_upload(product_id,
                                    media.requested_content_type(request.get_json()))
    # Bounds what Werkzeug will even parse (413 beyond), the form's overhead included.
    request.max_content_length = current_app.config["MEDIA_MAX_BYTES"] + 64 * 1024
    product = media.store_local_image(product_id, request.files.get("file"))
    return jsonify(ProductSchema().dump(product))  # 200, with the product's schema


@products_blp.route("/<int:product_id>/image", methods=["PUT"])
@admin_endpoint(products_blp)
@products_blp.arguments(media.UploadedKeySchema)
@products_blp.response(200, ProductSchema)
@products_blp.alt_response(404, response="NOT_FOUND")
@products_blp.alt_response(409, response="CONFLICT",
                           description="This shop keeps media on local disk.")
@products_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def attach_image(data, product_id: int):
    """Make the file posted to S3 with an upload form the product's image, once checked"""
    return media.attach_uploaded_image(product_id, data["key"])


# --- search ----------------------------------------------------------------------------

@search_blp.route("", methods=["GET"])
@cache.response("api-search", ProductPageSchema, cache.listing_versions)
@reads_from_replica
@search_blp.arguments(SearchArgsSchema, location="query")
@search_blp.response(200, ProductPageSchema)
def search(args):
    """Ranked full-text search: an exact name match first, then by relevance"""
    filters = service.ProductFilters(q=args["q"], sort="relevance")
    page = service.list_products(filters, args["page"], args["per_page"])
    return {"items": page.items, "meta": page.meta}
