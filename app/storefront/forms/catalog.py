"""The catalog's filters (a GET form: the URL is the state) and the cart's quantities."""

from __future__ import annotations

import secrets
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    IntegerField,
    SearchField,
    SelectChoice,
    SelectField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.cart.store import MAX_LINE_QUANTITY
from app.catalog.schemas import MAX_PRICE
from app.catalog.service import ProductFilters
from app.models import Category
from app.storefront.forms.common import ShopForm, strip

# "" is the catalog's own choice: best match for a search, else the newest first.
SORT_CHOICES = [SelectChoice(value, label) for value, label in (
    ("", "Recommended"), ("newest", "Newest"), ("price", "Price: low to high"),
    ("-price", "Price: high to low"), ("name", "Name"))]


def _price_field(label: str) -> DecimalField:
    return DecimalField(label, [Optional(), _within_prices], places=None,
                        render_kw={"inputmode": "decimal", "min": 0, "step": "0.01"})


def _within_prices(form: FlaskForm, field: DecimalField) -> None:
    # Not NumberRange: text that is no number already has its own message.
    if field.data is not None and not 0 <= field.data <= MAX_PRICE:
        raise ValidationError(f"Between 0 and {MAX_PRICE}.")


class CatalogFilterForm(ShopForm):
    class Meta:
        csrf = False  # a search is a GET that changes nothing

    q = SearchField("Search products", [Optional(), Length(max=200)], filters=[strip])
    category = SelectField("Category", default="")
    min_price = _price_field("Min price")
    max_price = _price_field("Max price")
    in_stock = BooleanField("In stock only")
    sort = SelectField("Sort by", choices=SORT_CHOICES, default="")
    page = IntegerField("Page", [Optional(), NumberRange(min=1, max=10_000)])

    def __init__(self, categories: list[Category], **kwargs):
        super().__init__(**kwargs)
        self.category.choices = [SelectChoice("", "All categories"),
                                 *(SelectChoice(c.slug, c.name) for c in categories)]

    def validate_max_price(self, field: DecimalField) -> None:
        low = self.min_price.data
        if field.data is not None and low is not None and not self.min_price.errors \
                and field.data < low:
            raise ValidationError("Must not be less than the min price.")

    def filters(self) -> ProductFilters:
        """The filters of every field that is valid; a bad one is ignored, not fatal."""
        def valid(field):
            return None if field.errors else field.data

        return ProductFilters(
            q=valid(self.q) or None, category_slug=valid(self.category) or None,
            min_price=_money(valid(self.min_price)), max_price=_money(valid(self.max_price)),
            in_stock=True if self.in_stock.data else None, sort=valid(self.sort) or None)

    def current_page(self) -> int:
        return self.page.data if self.page.data and not self.page.errors else 1


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"))


class QuantityForm(ShopForm):
    quantity = IntegerField("Quantity", [
        InputRequired(message="Enter a quantity."),
        NumberRange(min=1, max=MAX_LINE_QUANTITY,
                    message=f"Choose between 1 and {MAX_LINE_QUANTITY}.")],
        default=1, render_kw={"min": 1, "max": MAX_LINE_QUANTITY, "inputmode": "numeric"})


class AddToCartForm(QuantityForm):
    """A new key with every rendering: submitting the same page twice (a double click, a
    resubmit after a lost answer) adds once; the shop's next page carries a new key."""

    idempotency_key = HiddenField(validators=[Optional(), Length(max=128)],
                                  default=lambda: secrets.token_urlsafe(24))
