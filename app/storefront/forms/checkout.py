"""The checkout form: where to ship and how to pay."""

from __future__ import annotations

from datetime import date

from wtforms import HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from app.orders.address import FIELD_LIMITS
from app.payments import CardDetails
from app.storefront.forms.common import ShopForm, strip

CARD_YEARS_AHEAD = 15


def _address_field(label: str, name: str, autocomplete: str, required: bool = True):
    presence = InputRequired() if required else Optional()
    return StringField(label, [presence, Length(max=FIELD_LIMITS[name])], filters=[strip],
                       render_kw={"autocomplete": autocomplete,
                                  "maxlength": FIELD_LIMITS[name]})


def _year_choices() -> list[SelectChoice]:
    this_year = date.today().year
    return [SelectChoice(year, str(year))
            for year in range(this_year, this_year + CARD_YEARS_AHEAD + 1)]


class CheckoutForm(ShopForm):
    # Issued with the form and kept in the session: a resubmission places no second order.
    idempotency_key = HiddenField(validators=[InputRequired(), Length(max=128)])
    name = _address_field("Full name", "name", "shipping name")
    line1 = _address_field("Street address", "line1", "shipping address-line1")
    line2 = _address_field("Apartment, suite, etc. (optional)", "line2",
                           "shipping address-line2", required=False)
    city = _address_field("City", "city", "shipping address-level2")
    postal_code = _address_field("Postal code", "postal_code", "shipping postal-code")
    country = StringField(
        "Country code",
        [InputRequired(), Regexp(r"^[A-Za-z]{2}$", message="Two letters, e.g. US.")],
        filters=[strip], description="Two letters, e.g. US, DE or FR.",
        render_kw={"autocomplete": "shipping country", "maxlength": 2})
    card_number = StringField(
        "Card number", [InputRequired(), Length(min=12, max=23)],
        render_kw={"autocomplete": "cc-number", "inputmode": "numeric"})
    exp_month = SelectField("Expiry month", coerce=int,
                            choices=[SelectChoice(month, f"{month:02d}")
                                     for month in range(1, 13)],
                            render_kw={"autocomplete": "cc-exp-month"})
    exp_year = SelectField("Expiry year", coerce=int, render_kw={"autocomplete": "cc-exp-year"})
    cvc = StringField("Security code (CVC)", [InputRequired(), Length(min=3, max=4)],
                      render_kw={"autocomplete": "cc-csc", "inputmode": "numeric",
                                 "maxlength": 4})

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.exp_year.choices = _year_choices()

    def address(self) -> dict[str, str]:
        return {name: getattr(self, name).data or "" for name in FIELD_LIMITS}

    def card(self) -> CardDetails:
        return CardDetails.from_input(self.card_number.data, self.exp_month.data,
                                      self.exp_year.data, self.cvc.data)
