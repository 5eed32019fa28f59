"""``/api/v1/cart``: the cart of whoever is asking - a signed-in shopper (Bearer token)
or a guest (``X-Cart-Token``; a guest without one is given a new token)."""

from __future__ import annotations

from app.api_routes import ApiBlueprint
from app.auth.guards import optional_user
from app.cart import service
from app.cart.retries import once
from app.cart.schemas import (
    AddItemSchema,
    CartSchema,
    CartTokenHeaderSchema,
    CartWriteHeaderSchema,
    SetQuantitySchema,
)
from app.cart.service import CartView
from app.cart.store import CartStore

blp = ApiBlueprint("cart", __name__, url_prefix="/cart",
                   description="The shopping cart of a guest (X-Cart-Token) or of the signed-in "
                               "shopper (Bearer token).")

OPTIONAL_AUTH: list[dict[str, list[str]]] = [{}, {"bearerAuth": []}]
TOKEN_HEADER = {"X-Cart-Token": {"description": "The guest's cart token (guests only).",
                                 "schema": {"type": "string"}}}


def _cart(headers: dict) -> CartStore:
    user = optional_user()
    return service.cart_for(user.id if user else None, headers.get("cart_token"))


def _reply(view: CartView, replayed: bool | None = None):
    headers = {"Cache-Control": "no-store"}
    if view.token:
        headers["X-Cart-Token"] = view.token
    if replayed is not None:
        headers["Idempotent-Replayed"] = str(replayed).lower()
    return view, headers


def _once(headers: dict, request: dict, write):
    """A write that a retry with the same Idempotency-Key does not repeat."""
    cart = _cart(headers)
    key = headers.get("idempotency_key")
    view, replayed = once(cart, key, request, lambda: write(cart))
    return _reply(view, replayed if key is not None else None)


@blp.route("", methods=["GET"])
@blp.doc(security=OPTIONAL_AUTH)
@blp.arguments(CartTokenHeaderSchema, location="headers")
@blp.response(200, CartSchema, headers=TOKEN_HEADER)
def get_cart(headers: dict):
    """The cart, with current prices and each line's stock state"""
    return _reply(service.view_cart(_cart(headers)))


@blp.route("", methods=["DELETE"])
@blp.doc(security=OPTIONAL_AUTH)
@blp.arguments(CartWriteHeaderSchema, location="headers")
@blp.response(200, CartSchema, headers=TOKEN_HEADER)
def clear_cart(headers: dict):
    """Empty the cart"""
    return _once(headers, {"op": "clear"}, service.clear_cart)


@blp.route("/items", methods=["POST"])
@blp.doc(security=OPTIONAL_AUTH)
@blp.arguments(AddItemSchema)
@blp.arguments(CartWriteHeaderSchema, location="headers")
@blp.response(200, CartSchema, headers=TOKEN_HEADER)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT", description="More than is in stock.")
def add_item(data: dict, headers: dict):
    """Add units of a product (added to what the cart already holds)"""
    product_id, quantity = data["product_id"], data["quantity"]
    return _once(headers, {"op": "add", "product_id": product_id, "quantity": quantity},
                 lambda cart: service.add_item(cart, product_id, quantity))


@blp.route("/items/<int:product_id>", methods=["PUT"])
@blp.doc(security=OPTIONAL_AUTH)
@blp.arguments(SetQuantitySchema)
@blp.arguments(CartWriteHeaderSchema, location="headers")
@blp.response(200, CartSchema, headers=TOKEN_HEADER)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT", description="More than is in stock.")
def set_quantity(data: dict, headers: dict, product_id: int):
    """Set how many units of a product the cart holds"""
    quantity = data["quantity"]
    return _once(headers, {"op": "set", "product_id": product_id, "quantity": quantity},
                 lambda cart: service.set_quantity(cart, product_id, quantity))


@blp.route("/items/<int:product_id>", methods=["DELETE"])
@blp.doc(security=OPTIONAL_AUTH)
@blp.arguments(CartWriteHeaderSchema, location="headers")
@blp.response(200, CartSchema, headers=TOKEN_HEADER)
@blp.alt_response(404, response="NOT_FOUND", description="The product is not in the cart.")
def remove_item(headers: dict, product_id: int):
    """Remove a product from the cart"""
    return _once(headers, {"op": "remove", "product_id": product_id},
                 lambda cart: service.remove_item(cart, product_id))
