"""Request and response shapes of ``/api/v1/users``."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.auth.schemas import (
    NormalizedEmail,
    UserSchema,
    name_field,
    new_password_field,
    phone_field,
)
from app.pagination import PageArgsSchema, PageMetaSchema


class ProfileUpdateSchema(Schema):
    name = name_field()
    phone = phone_field()


class PasswordChangeSchema(Schema):
    old_password = fields.String(required=True, load_only=True,
                                 validate=validate.Length(min=1, max=128))
    new_password = new_password_field()


class PasswordResetRequestSchema(Schema):
    email = NormalizedEmail(required=True)


class PasswordResetConfirmSchema(Schema):
    token = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=2048))
    new_password = new_password_field()


class MessageSchema(Schema):
    message = fields.String()


class UserListArgsSchema(PageArgsSchema):
    email = fields.String(validate=validate.Length(min=1, max=254),
                          metadata={"description": "Only accounts whose e-mail contains this."})


class UserPageSchema(Schema):
    items = fields.List(fields.Nested(UserSchema))
    meta = fields.Nested(PageMetaSchema)
