"""``/api/v1/orders``: checkout, a shopper's own orders, and the admins' order desk."""

from __future__ import annotations

from flask import url_for

from app.api_routes import ApiBlueprint
from app.auth.guards import admin_endpoint, current_user, signed_in_endpoint
from app.orders import lifecycle, service
from app.orders.schemas import (
    CheckoutSchema,
    IdempotencyHeaderSchema,
    OrderListArgsSchema,
    OrderPageSchema,
    OrderSchema,
    StatusChangeSchema,
)
from app.pagination import PageArgsSchema
from app.payments import CardDetails

blp = ApiBlueprint("orders", __name__, url_prefix="/orders",
                   description="Checkout, order history and the order lifecycle.")


@blp.route("/checkout", methods=["POST"])
@signed_in_endpoint(blp)
@blp.arguments(CheckoutSchema)
@blp.arguments(IdempotencyHeaderSchema, location="headers")
@blp.response(201, OrderSchema, description="The order was placed.")
@blp.alt_response(200, schema=OrderSchema,
                  description="A retry: the order placed earlier with this Idempotency-Key.")
@blp.alt_response(402, response="PAYMENT_REQUIRED",
                  description="The card was declined; details.reason says why.")
@blp.alt_response(409, response="CONFLICT",
                  description="The cart is empty or holds more than is in stock.")
def checkout(data: dict, headers: dict):
    """Place an order from the signed-in shopper's cart and pay for it"""
    payment = data["payment"]
    card = CardDetails.from_input(payment["card_number"], payment["exp_month"],
                                  payment["exp_year"], payment["cvc"])
    result = service.checkout(current_user(), headers["idempotency_key"],
                              data["shipping_address"], card)
    location = url_for("orders.get_order", order_id=result.order.id)
    return result.order, 201 if result.created else 200, {
        "Location": location, "Idempotent-Replayed": str(not result.created).lower()}


@blp.route("/mine", methods=["GET"])
@signed_in_endpoint(blp)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, OrderPageSchema)
def list_my_orders(args: dict):
    """The signed-in shopper's orders, newest first"""
    page = service.list_orders(args["page"], args["per_page"], user_id=current_user().id)
    return {"items": page.items, "meta": page.meta}


@blp.route("", methods=["GET"])
@admin_endpoint(blp)
@blp.arguments(OrderListArgsSchema, location="query")
@blp.response(200, OrderPageSchema)
def list_all_orders(args: dict):
    """Every shopper's orders, newest first, optionally of one status (admins)"""
    page = service.list_orders(args["page"], args["per_page"], status=args.get("status"))
    return {"items": page.items, "meta": page.meta}


@blp.route("/<int:order_id>", methods=["GET"])
@signed_in_endpoint(blp)
@blp.response(200, OrderSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_order(order_id: int):
    """One order: the shopper's own, or any order for an admin"""
    return service.get_order(order_id, current_user())


@blp.route("/<int:order_id>/cancel", methods=["POST"])
@signed_in_endpoint(blp)
@blp.response(200, OrderSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT", description="The order has already shipped.")
def cancel_order(order_id: int):
    """Cancel one's own order before it ships: stock returns, a payment is refunded"""
    return lifecycle.cancel_order(order_id, current_user())


@blp.route("/<int:order_id>/status", methods=["POST"])
@admin_endpoint(blp)
@blp.arguments(StatusChangeSchema)
@blp.response(200, OrderSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT", description="Not a move the order can make.")
def change_status(data: dict, order_id: int):
    """Move an order along its lifecycle (admins)"""
    return lifecycle.change_status(order_id, data["status"])
