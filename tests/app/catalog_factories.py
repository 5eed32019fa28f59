"""Rows the catalog tests start from, inserted directly (not through the API under test)."""

from __future__ import annotations

import itertools
from decimal import Decimal

from app.extensions import db
from app.models import Category, Product

_numbers = itertools.count(1)


def make_category(name: str | None = None, *, is_active: bool = True) -> Category:
    number = next(_numbers)
    name = name or f"Category {number}"
    category = Category(name=name, slug=name.lower().replace(" ", "-").replace("&", "and"),
                        is_active=is_active)
    db.session.add(category)
    db.session.commit()
    return category


def make_product(category: Category, name: str | None = None, *, price: str = "10.00",
                 stock: int = 10, sku: str | None = None, description: str = "",
                 is_active: bool = True) -> Product:
    number = next(_numbers)
    product = Product(name=name or f"Product {number}", price=Decimal(price), stock=stock,
                      sku=sku or f"TEST-{number:05d}", description=description,
                      category_id=category.id, is_active=is_active)
    db.session.add(product)
    db.session.commit()
    return product
