"""The administrators' forms: products, stock and order status."""

from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import (
    URL,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from app.catalog.schemas import MAX_PRICE, MAX_STOCK, SKU_PATTERN
from app.models import Category
from app.storefront.forms.common import ShopForm, blank_to_none, strip

CENT = Decimal("0.01")


def two_places(form: FlaskForm, field: DecimalField) -> None:
    """19.999 is refused, never rounded: the API refuses it too."""
    if field.data is not None and field.data != field.data.quantize(CENT):
        raise ValidationError("At most two decimal places.")


def _stock_field(label: str) -> IntegerField:
    return IntegerField(label, [InputRequired(), NumberRange(min=0, max=MAX_STOCK)],
                        render_kw={"min": 0, "max": MAX_STOCK, "inputmode": "numeric"})


class ProductForm(ShopForm):
    name = StringField("Name", [InputRequired(), Length(max=200)], filters=[strip])
    description = TextAreaField("Description", [Optional(), Length(max=5000)],
                                filters=[strip], render_kw={"rows": 5})
    price = DecimalField("Price", [InputRequired(), NumberRange(min=CENT, max=MAX_PRICE),
                                   two_places], places=None,
                         render_kw={"inputmode": "decimal", "step": "0.01", "min": "0.01"})
    sku = StringField("SKU", [InputRequired(), Regexp(
        SKU_PATTERN, message="3-64 letters, digits or dashes, starting with a letter or digit.")],
        filters=[strip])
    category_id = SelectField("Category", coerce=int)
    image_url = URLField("Image URL (optional)", [Optional(), URL(), Length(max=500)],
                         filters=[strip, blank_to_none])
    is_active = BooleanField("On sale (shoppers can see and buy it)", default=True)

    def __init__(self, categories: list[Category], **kwargs):
        super().__init__(**kwargs)
        self.category_id.choices = [
            SelectChoice(c.id, c.name if c.is_active else f"{c.name} (inactive)")
            for c in categories]

    def changes(self) -> dict:
        return {"name": self.name.data, "description": self.description.data or "",
                "price": self.price.data, "sku": self.sku.data,
                "category_id": self.category_id.data, "image_url": self.image_url.data,
                "is_active": self.is_active.data}


class NewProductForm(ProductForm):
    stock = _stock_field("Stock")


class StockForm(ShopForm):
    stock = _stock_field("Stock level")


class OrderStatusForm(ShopForm):
    status = SelectField("New status")

    def __init__(self, allowed: list[str], **kwargs):
        super().__init__(**kwargs)
        self.status.choices = [SelectChoice(status, status.capitalize()) for status in allowed]
