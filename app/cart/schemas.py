"""The cart's JSON: what clients send and what they get back."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.cart.store import MAX_LINE_QUANTITY
from app.idempotency import MAX_KEY_LENGTH
from app.inputs import MAX_ID

QUANTITY = validate.Range(min=1, max=MAX_LINE_QUANTITY)


class CartTokenHeaderSchema(Schema):
    """The guest cart a request names: the cart endpoints use it (ignored when signed in),
    and signing in merges it into the account's cart."""

    cart_token = fields.String(
        data_key="X-Cart-Token", validate=validate.Length(min=1, max=256),
        metadata={"description": "A guest's cart token, as returned by an earlier cart "
                                 "response. The cart ignores it when the request is signed "
                                 "in; signing in merges that cart into the account's."})


class CartWriteHeaderSchema(CartTokenHeaderSchema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key", validate=validate.Length(min=1, max=MAX_KEY_LENGTH),
        metadata={"description": "Optional: a unique key per intended change (a UUID, say). "
                                 "A retry with the same key and request changes nothing and "
                                 "answers with the cart as it is (Idempotent-Replayed: true)."})


class AddItemSchema(Schema):
    product_id = fields.Integer(required=True, strict=True,
                                validate=validate.Range(min=1, max=MAX_ID))
    quantity = fields.Integer(load_default=1, strict=True, validate=QUANTITY)


class SetQuantitySchema(Schema):
    quantity = fields.Integer(required=True, strict=True, validate=QUANTITY)


class CartLineSchema(Schema):
    product_id = fields.Integer()
    name = fields.String()
    sku = fields.String()
    unit_price = fields.Decimal(as_string=True, places=2)
    quantity = fields.Integer()
    line_total = fields.Decimal(as_string=True, places=2)
    available = fields.Integer(metadata={"description": "Units in stock right now."})
    stock_state = fields.String(
        metadata={"enum": ["in_stock", "insufficient_stock", "unavailable"],
                  "description": "insufficient_stock: fewer units are left than this line "
                                 "holds; unavailable: the product is no longer sold."})


class CartSchema(Schema):
    token = fields.String(allow_none=True, metadata={
        "description": "A guest's cart token (also in the X-Cart-Token header): send it back "
                       "in X-Cart-Token. Null for a signed-in shopper's cart."})
    items = fields.List(fields.Nested(CartLineSchema), attribute="lines")
    item_count = fields.Integer()
    total = fields.Decimal(as_string=True, places=2)
    ready_for_checkout = fields.Boolean()
