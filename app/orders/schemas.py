"""Orders' JSON. Card details are load-only: they are never serialized back."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from app.idempotency import MAX_KEY_LENGTH
from app.models import ORDER_STATUSES
from app.orders.address import FIELD_LIMITS
from app.pagination import PageArgsSchema, PageMetaSchema

MONEY: dict[str, Any] = {"as_string": True, "places": 2}


def _text(name: str, required: bool = True) -> fields.String:
    return fields.String(required=required, allow_none=not required,
                         validate=validate.Length(min=1 if required else 0,
                                                  max=FIELD_LIMITS[name]))


class IdempotencyHeaderSchema(Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key", required=True,
        validate=validate.Length(min=1, max=MAX_KEY_LENGTH),
        metadata={"description": "A unique key per checkout (a UUID, say). Retrying with "
                                 "the same key and body returns the same order."})


class AddressSchema(Schema):
    name = _text("name")
    line1 = _text("line1")
    line2 = _text("line2", required=False)
    city = _text("city")
    postal_code = _text("postal_code")
    country = fields.String(required=True, validate=validate.Length(equal=2), metadata={
        "description": "ISO 3166-1 alpha-2 country code", "example": "DE"})


class PaymentSchema(Schema):
    card_number = fields.String(required=True, validate=validate.Length(min=12, max=23),
                                metadata={"example": "4242 4242 4242 4242"})
    exp_month = fields.Integer(required=True, strict=True, validate=validate.Range(1, 12))
    exp_year = fields.Integer(required=True, strict=True, validate=validate.Range(2000, 2999))
    cvc = fields.String(required=True, validate=validate.Length(min=3, max=4))


class CheckoutSchema(Schema):
    shipping_address = fields.Nested(AddressSchema, required=True)
    payment = fields.Nested(PaymentSchema, required=True, load_only=True)


class OrderItemSchema(Schema):
    product_id = fields.Integer()
    product_name = fields.String()
    sku = fields.String()
    quantity = fields.Integer()
    price = fields.Decimal(metadata={"description": "Unit price paid."}, **MONEY)
    line_total = fields.Method("_line_total", metadata={"type": "string", "example": "39.98"})

    def _line_total(self, item) -> str:
        return f"{item.price * item.quantity:.2f}"


class OrderSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    status = fields.String(metadata={"enum": list(ORDER_STATUSES)})
    payment_status = fields.String()
    payment_method = fields.String()
    total_amount = fields.Decimal(**MONEY)
    shipping_address = fields.Nested(AddressSchema)
    items = fields.List(fields.Nested(OrderItemSchema))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class OrderPageSchema(Schema):
    items = fields.List(fields.Nested(OrderSchema))
    meta = fields.Nested(PageMetaSchema)


class OrderListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))


class StatusChangeSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(ORDER_STATUSES))
