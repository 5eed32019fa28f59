"""Signing up, signing in and resetting a forgotten password."""

from __future__ import annotations

from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import Email, EqualTo, InputRequired, Length

from app.passwords import MAX_LENGTH, MIN_LENGTH
from app.storefront.forms.common import ShopForm, lower, strip

EMAIL_MAX = 254
NAME_MAX = 120


def email_field(label: str = "Email") -> EmailField:
    return EmailField(label, [InputRequired(), Email(), Length(max=EMAIL_MAX)],
                      filters=[strip, lower], render_kw={"autocomplete": "email"})


def new_password_field(label: str = "Password") -> PasswordField:
    return PasswordField(label, [InputRequired(), Length(min=MIN_LENGTH, max=MAX_LENGTH)],
                         render_kw={"autocomplete": "new-password",
                                    "minlength": MIN_LENGTH, "maxlength": MAX_LENGTH},
                         description=f"At least {MIN_LENGTH} characters.")


def repeat_field(of: str) -> PasswordField:
    return PasswordField("Repeat the password", [
        InputRequired(), EqualTo(of, message="The two passwords differ.")],
        render_kw={"autocomplete": "new-password"})


class SignInForm(ShopForm):
    # No format check: a malformed address is a failed sign-in like any other.
    email = EmailField("Email", [InputRequired(), Length(max=EMAIL_MAX)],
                       filters=[strip, lower], render_kw={"autocomplete": "email"})
    password = PasswordField("Password", [InputRequired(), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class SignUpForm(ShopForm):
    name = StringField("Full name", [InputRequired(), Length(max=NAME_MAX)], filters=[strip],
                       render_kw={"autocomplete": "name"})
    email = email_field()
    password = new_password_field()
    confirm = repeat_field("password")
    next = HiddenField()


class ForgotPasswordForm(ShopForm):
    email = email_field()


class ResetPasswordForm(ShopForm):
    token = HiddenField(validators=[InputRequired(), Length(max=2048)])
    password = new_password_field("New password")
    confirm = repeat_field("password")
