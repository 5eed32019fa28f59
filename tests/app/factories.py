"""Rows the cart and order tests start from, written straight through the models."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from app.extensions import db
from app.models import CartItem, Category, Product

_serial = itertools.count(1)

NEXT_YEAR = date.today().year + 1
APPROVED_CARD = "4242424242424242"
ADDRESS = {"name": "Casey Customer", "line1": "1 Market Street", "city": "Springfield",
           "postal_code": "12345", "country": "US"}


def make_category(name: str | None = None) -> Category:
    number = next(_serial)
    category = Category(name=name or f"Category {number}", slug=f"category-{number}")
    db.session.add(category)
    db.session.commit()
    return category


def make_product(category: Category | None = None, *, name: str | None = None,
                 price: str = "19.99", stock: int = 10, is_active: bool = True) -> Product:
    number = next(_serial)
    product = Product(name=name or f"Product {number}", price=Decimal(price),
                      category=category or make_category(), stock=stock,
                      sku=f"SKU-{number:05d}", is_active=is_active)
    db.session.add(product)
    db.session.commit()
    return product


def put_in_cart(user_id: int, product: Product, quantity: int) -> None:
    db.session.add(CartItem(user_id=user_id, product_id=product.id, quantity=quantity))
    db.session.commit()


def checkout_body(card_number: str = APPROVED_CARD, **address_overrides) -> dict:
    return {"shipping_address": {**ADDRESS, **address_overrides},
            "payment": {"card_number": card_number, "exp_month": 12, "exp_year": NEXT_YEAR,
                        "cvc": "123"}}


def stock_of(product_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Product, product_id).stock
