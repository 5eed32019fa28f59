"""Request and response shapes of accounts, shared by the auth and users APIs."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.passwords import MAX_LENGTH, MIN_LENGTH

# 6 to 20 digits, an optional leading +, and the separators people type between digits.
PHONE_PATTERN = r"^\+?(?:[ ().-]*[0-9]){6,20}[ ().-]*$"


class Trimmed(fields.String):
    """A string with surrounding whitespace removed before it is validated."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class NormalizedEmail(fields.Email):
    """Trimmed and lower-cased, as ``users.email`` is stored."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Length(max=254), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip().lower()


def new_password_field(**kwargs) -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=MIN_LENGTH, max=MAX_LENGTH),
                         load_only=True, **kwargs)


def name_field(**kwargs) -> Trimmed:
    return Trimmed(validate=validate.Length(min=1, max=120), **kwargs)


def phone_field(**kwargs) -> Trimmed:
    return Trimmed(allow_none=True, validate=[
        validate.Length(max=32),
        validate.Regexp(PHONE_PATTERN, error="must be a phone number: 6 to 20 digits, "
                                             "spaces, ()-. and an optional leading +"),
    ], **kwargs)


class RegisterSchema(Schema):
    email = NormalizedEmail(required=True)
    password = new_password_field()
    name = name_field(required=True)
    phone = phone_field()


class LoginSchema(Schema):
    email = NormalizedEmail(required=True)
    # No minimum: a wrong password is a failed sign-in, not a validation error.
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(min=1, max=MAX_LENGTH))


class RefreshSchema(Schema):
    refresh_token = fields.String(required=True, load_only=True,
                                  validate=validate.Length(min=1, max=2048))


class UserSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    phone = fields.String(allow_none=True)
    role = fields.String()
    is_active = fields.Boolean()
    created_at = fields.DateTime()


class TokensSchema(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer(metadata={"description": "Seconds the access token lives."})
    user = fields.Nested(UserSchema)
    cart_merge = fields.Dict(metadata={"description": "Present when X-Cart-Token was sent: "
                                                      "what the guest cart merge did."})
