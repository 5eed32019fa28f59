"""Every text column a request can write has its length enforced at the boundary: by the
API schema's ``validate.Length`` (a 422 naming the field) and by the page form's ``Length``
(an error on the field). A new column that no input bound covers fails this test."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from marshmallow import validate
from wtforms.validators import Length

from app.auth.schemas import RegisterSchema
from app.cart.schemas import CartWriteHeaderSchema
from app.catalog.schemas import (
    CategoryCreateSchema,
    CategoryUpdateSchema,
    ProductCreateSchema,
    ProductUpdateSchema,
)
from app.extensions import db
from app.models import Category, IdempotencyKey, Product, User
from app.orders.schemas import AddressSchema, IdempotencyHeaderSchema
from app.users.schemas import ProfileUpdateSchema

# (schema, field) -> the column it is written to.
API_BOUNDS = [
    (RegisterSchema, "email", User.email), (RegisterSchema, "name", User.name),
    (RegisterSchema, "phone", User.phone), (ProfileUpdateSchema, "name", User.name),
    (ProfileUpdateSchema, "phone", User.phone),
    (CategoryCreateSchema, "name", Category.name),
    (CategoryCreateSchema, "image_url", Category.image_url),
    (CategoryUpdateSchema, "name", Category.name), (CategoryUpdateSchema, "slug", Category.slug),
    (CategoryUpdateSchema, "image_url", Category.image_url),
    (ProductCreateSchema, "name", Product.name),
    (ProductCreateSchema, "image_url", Product.image_url),
    (ProductUpdateSchema, "name", Product.name),
    (ProductUpdateSchema, "image_url", Product.image_url),
    (IdempotencyHeaderSchema, "idempotency_key", IdempotencyKey.key),
    (CartWriteHeaderSchema, "idempotency_key", IdempotencyKey.key),
]
# Text columns no request writes as given: derived, generated, chosen from a fixed set
# (validate.OneOf), bounded by a pattern (sku: 3 to 64 characters), or unbounded Text whose
# schema fields cap at 5,000 characters (descriptions).
NOT_WRITTEN_AS_GIVEN = {
    "users.password_hash", "users.role", "refresh_tokens.id", "refresh_tokens.family_id",
    "categories.description", "products.description", "products.sku", "orders.status",
    "orders.payment_method", "orders.payment_status", "orders.payment_reference",
    "order_items.product_name", "order_items.sku", "idempotency_keys.request_hash",
}


def _length_limit(field) -> int | None:
    limits = [v.equal or v.max for v in field.validators
              if isinstance(v, validate.Length) and (v.equal or v.max)]
    return min(limits) if limits else None


@pytest.mark.parametrize(("schema", "name", "column"), API_BOUNDS,
                         ids=[f"{s.__name__}.{n}" for s, n, _ in API_BOUNDS])
def test_each_api_text_field_is_no_longer_than_its_column(schema, name, column):
    limit = _length_limit(schema().fields[name])
    assert limit is not None and limit <= column.type.length


def test_every_bounded_text_column_is_covered():
    covered = {f"{column.table.name}.{column.name}" for _, _, column in API_BOUNDS}
    text_columns = {f"{table.name}.{column.name}" for table in db.metadata.sorted_tables
                    for column in table.columns if isinstance(column.type, sa.String)}
    assert text_columns - covered - NOT_WRITTEN_AS_GIVEN == set()


def test_address_fields_are_bounded_as_the_order_stores_them():
    fields = AddressSchema().fields
    assert {name: _length_limit(field) for name, field in fields.items()} == {
        "name": 120, "line1": 200, "line2": 200, "city": 100, "postal_code": 20, "country": 2}


def test_an_over_long_name_is_a_422_naming_it(client):
    response = client.post("/api/v1/auth/register", json={
        "email": "long@example.com", "password": "a long enough password", "name": "n" * 121})
    assert response.status_code == 422
    assert list(response.json["error"]["details"]["fields"]) == ["name"]


def test_the_page_forms_bound_their_text_fields_as_the_columns(app):
    from app.storefront.forms.account import ProfileForm
    from app.storefront.forms.admin import ProductForm
    from app.storefront.forms.auth import SignUpForm

    pairs = [(SignUpForm, "name", User.name), (SignUpForm, "email", User.email),
             (ProfileForm, "name", User.name), (ProfileForm, "phone", User.phone),
             (ProductForm, "name", Product.name), (ProductForm, "image_url", Product.image_url)]
    with app.test_request_context():
        for form_class, name, column in pairs:
            args = ([],) if form_class is ProductForm else ()  # its category choices
            field = form_class(*args, meta={"csrf": False})[name]
            limits = [v.max for v in field.validators if isinstance(v, Length) and v.max > 0]
            assert limits and min(limits) <= column.type.length, (form_class, name)
