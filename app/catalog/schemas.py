"""Request and response schemas of the catalog API (they also write its OpenAPI document)."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.auth.schemas import Trimmed
from app.catalog.service import SORTS
from app.inputs import MAX_ID
from app.media import ProductImageSchema, image_set_of
from app.pagination import PageArgsSchema, PageMetaSchema

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{2,63}$"
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
MAX_PRICE = Decimal("9999999999.99")  # NUMERIC(12, 2)
MAX_STOCK = 1_000_000


class Money(fields.Decimal):
    """Dumps "19.99"; loads a JSON number or string with at most two decimals, never
    rounding one that has more (19.999 is an error, not 20.00)."""

    default_error_messages = {"places": "Must have at most 2 decimal places."}
    OPENAPI = {"type": "string", "format": "decimal", "pattern": r"^\d+(\.\d{1,2})?$",
               "example": "19.99"}

    def __init__(self, **kwargs):
        metadata = {**self.OPENAPI, **kwargs.pop("metadata", {})}
        super().__init__(places=2, as_string=True, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        amount = super()._deserialize(value, attr, data, **kwargs)
        if Decimal(str(value).strip()) != amount:
            raise self.make_error("places")
        return amount


def money_between(low: Decimal, high: Decimal, error: str | None = None):
    """A bounds check for Money (validate.Range would put Decimals in the OpenAPI document,
    which is not valid JSON Schema for a string-typed amount)."""

    def check(amount: Decimal) -> None:
        if not low <= amount <= high:
            raise ValidationError(error or f"Must be between {low} and {high}.")

    return check


def _name(max_length: int, **kwargs) -> Trimmed:
    return Trimmed(validate=validate.Length(min=1, max=max_length), **kwargs)


def _description(**kwargs) -> Trimmed:
    return Trimmed(validate=validate.Length(max=5000), **kwargs)


def _image_url(**kwargs) -> fields.Url:
    return fields.Url(schemes={"http", "https"}, allow_none=True,
                      validate=validate.Length(max=500), **kwargs)


def _price(**kwargs) -> Money:
    return Money(validate=money_between(Decimal("0.01"), MAX_PRICE,
                                        f"Must be greater than 0 and at most {MAX_PRICE}."),
                 **kwargs)


def _sku(**kwargs) -> fields.String:
    return Trimmed(validate=validate.Regexp(
        SKU_PATTERN, error="3-64 letters, digits or dashes, starting with a letter or digit."),
        **kwargs)


def _stock(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_STOCK), **kwargs)


def _category_id(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


# --- categories ------------------------------------------------------------------------

class CategoryRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    slug = fields.String()


class CategorySchema(CategoryRefSchema):
    description = fields.String()
    image_url = fields.String(allow_none=True)
    is_active = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class CategoryListSchema(Schema):
    items = fields.List(fields.Nested(CategorySchema))


class CategoryListArgsSchema(Schema):
    include_inactive = fields.Boolean(load_default=False,
                                      metadata={"description": "admins only"})


class CategoryCreateSchema(Schema):
    name = _name(120, required=True)
    description = _description(load_default="")
    image_url = _image_url(load_default=None)


class CategoryUpdateSchema(Schema):
    name = _name(120)
    slug = fields.String(validate=[validate.Length(min=1, max=140),
                                   validate.Regexp(SLUG_PATTERN, error="lower-case words "
                                                   "of letters and digits joined by dashes")])
    description = _description()
    image_url = _image_url()
    is_active = fields.Boolean()


# --- products --------------------------------------------------------------------------

class ProductImageField(fields.Nested):
    """The renditions behind the product's ``image_url`` (null when it is not a set this
    shop stored: an older upload, an address an admin typed)."""

    def __init__(self, **kwargs):
        super().__init__(ProductImageSchema, allow_none=True, dump_only=True, **kwargs)

    def serialize(self, attr, obj, accessor=None, **kwargs):
        return self._serialize(image_set_of(obj.image_url), attr, obj, **kwargs)


class ProductSchema(Schema):
    id = fields.Integer()
    sku = fields.String()
    name = fields.String()
    description = fields.String()
    price = Money()
    stock = fields.Integer()
    in_stock = fields.Function(lambda product: product.stock > 0, metadata={"type": "boolean"})
    image_url = fields.String(allow_none=True)
    image = ProductImageField(metadata={
        "description": "image_url in every width, as WebP and the fallback type (srcset)"})
    is_active = fields.Boolean()
    category = fields.Nested(CategoryRefSchema)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ProductPageSchema(Schema):
    items = fields.List(fields.Nested(ProductSchema))
    meta = fields.Nested(PageMetaSchema)


class ProductListArgsSchema(PageArgsSchema):
    category_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))  # text: not strict
    category = fields.String(validate=validate.Length(min=1, max=140),
                             metadata={"description": "category slug"})
    min_price = Money(validate=money_between(Decimal(0), MAX_PRICE))
    max_price = Money(validate=money_between(Decimal(0), MAX_PRICE))
    in_stock = fields.Boolean(metadata={"description": "true: stock > 0; false: sold out"})
    q = _name(200, metadata={"description": "full-text query over name and description"})
    sort = fields.String(validate=validate.OneOf(SORTS),
                         metadata={"description": "default: relevance with q, else newest"})
    include_inactive = fields.Boolean(load_default=False, metadata={"description": "admins only"})

    @validates_schema
    def _consistent(self, data, **kwargs):
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and low > high:
            raise ValidationError("Must not be less than min_price.", "max_price")
        if data.get("sort") == "relevance" and not data.get("q"):
            raise ValidationError("relevance needs a text query q.", "sort")


class SearchArgsSchema(PageArgsSchema):
    q = _name(200, required=True, metadata={"description": "words, \"a phrase\", -excluded"})


class ProductCreateSchema(Schema):
    name = _name(200, required=True)
    description = _description(load_default="")
    price = _price(required=True)
    sku = _sku(required=True)
    stock = _stock(load_default=0)
    category_id = _category_id(required=True)
    image_url = _image_url(load_default=None)


class ProductUpdateSchema(Schema):
    name = _name(200)
    description = _description()
    price = _price()
    sku = _sku()
    category_id = _category_id()
    image_url = _image_url()
    is_active = fields.Boolean()


class StockAdjustmentSchema(Schema):
    delta = fields.Integer(strict=True, validate=[
        validate.Range(min=-MAX_STOCK, max=MAX_STOCK),
        validate.NoneOf([0], error="Must not be 0.")],
        metadata={"description": "added to the stock level (negative to remove)"})
    set = _stock(metadata={"description": "the new stock level"})

    @validates_schema
    def _exactly_one(self, data, **kwargs):
        if ("delta" in data) == ("set" in data):
            raise ValidationError("Give exactly one of delta or set.", "delta")
