"""A signed-in shopper's profile and password."""

from __future__ import annotations

from wtforms import PasswordField, StringField, TelField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from app.auth.schemas import PHONE_PATTERN
from app.passwords import MAX_LENGTH
from app.storefront.forms.auth import NAME_MAX, new_password_field, repeat_field
from app.storefront.forms.common import ShopForm, blank_to_none, strip


class ProfileForm(ShopForm):
    name = StringField("Full name", [InputRequired(), Length(max=NAME_MAX)], filters=[strip],
                       render_kw={"autocomplete": "name"})
    phone = TelField("Phone (optional)", [
        Optional(), Length(max=32),
        Regexp(PHONE_PATTERN, message="6 to 20 digits; spaces, ( ) - . and a leading + are fine.")],
        filters=[strip, blank_to_none], render_kw={"autocomplete": "tel"})


class PasswordChangeForm(ShopForm):
    old_password = PasswordField("Current password", [InputRequired(), Length(max=MAX_LENGTH)],
                                 render_kw={"autocomplete": "current-password"})
    new_password = new_password_field("New password")
    confirm = repeat_field("new_password")
