"""What a benchmark run starts from, in a database of its own (never the tests'): a fresh
schema built by the migrations, the demo catalog, signed-in shoppers for the cart, and
shoppers with a one-unit cart each for checkout. Afterwards, the checkout's check."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app import create_app
from app.auth.tokens import issue_access_token
from app.catalog.seed import load_demo_catalog
from app.extensions import db, get_redis
from app.models import CartItem, Order, OrderItem, Product, User
from app.passwords import hash_password

CART_SHOPPERS = 400
CART_PRODUCTS = 20  # at most 20 lines per cart: far from the 50-line cap
CHECKOUT_PRODUCTS = 50  # orders spread over many rows, as a real catalog's would
PROFILE_SHOPPERS = 250  # one-unit carts kept apart for the in-process profile's checkouts
PLENTY = 1_000_000


@dataclass(frozen=True)
class Dataset:
    directory: Path
    checkout_users: int
    stock_before: dict[int, int]

    def file(self, name: str) -> str:
        return str(self.directory / name)


def prepare(config: Mapping, directory: Path, checkout_users: int) -> Dataset:
    _create_database(config["SQLALCHEMY_DATABASE_URI"])
    app = create_app(config)
    with app.app_context():
        db.session.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.session.commit()
        upgrade()
        load_demo_catalog()
        get_redis().flushdb()
        products = list(db.session.scalars(
            sa.select(Product).where(Product.is_active, Product.stock > 0).order_by(Product.id)))
        cart_ids = _restock(products[:CART_PRODUCTS])
        checkout_ids = _restock(products[CART_PRODUCTS:CART_PRODUCTS + CHECKOUT_PRODUCTS])
        password = hash_password("benchmark shopper")  # one hash: Argon2 is slow on purpose
        cart_users = _shoppers("cart", CART_SHOPPERS, password)
        checkout_users_ids = _shoppers("checkout", checkout_users, password)
        profile_users = _shoppers("profile", PROFILE_SHOPPERS, password)
        db.session.execute(sa.insert(CartItem), [
            {"user_id": user_id, "product_id": checkout_ids[index % len(checkout_ids)],
             "quantity": 1} for index, user_id in enumerate(checkout_users_ids + profile_users)])
        db.session.commit()
        _write(directory, {
            "ids.txt": [str(product.id) for product in products],
            "terms.txt": _search_terms(product.name for product in products),
            "cart_tokens.txt": [issue_access_token(uid, "customer") for uid in cart_users],
            "cart_ids.txt": [str(pid) for pid in cart_ids],
            "checkout_tokens.txt": [issue_access_token(uid, "customer")
                                    for uid in checkout_users_ids],
            "profile_tokens.txt": [issue_access_token(uid, "customer") for uid in profile_users],
            "checkout_body.json": [json.dumps(_checkout_body())],
        })
        db.engine.dispose()
    return Dataset(directory, checkout_users, {pid: PLENTY for pid in checkout_ids})


def verify_checkout(config: Mapping, dataset: Dataset, created: int, in_flight: int
                    ) -> list[str]:
    """Problems with what checkout left behind: every order is one unit, so each product's
    stock must have dropped by exactly the orders placed for it, no shopper may have two
    orders, and each ordering shopper's cart must be empty. wrk stops counting at the
    deadline while up to ``in_flight`` requests still complete: the database may hold that
    many more orders than the 201s wrk saw, never fewer. Run it before the profile, whose
    checkouts (of shoppers of their own) add orders wrk never saw."""
    app = create_app(config)
    with app.app_context():
        orders = db.session.scalar(sa.select(sa.func.count()).select_from(Order))
        units = dict(db.session.execute(
            sa.select(OrderItem.product_id, sa.func.sum(OrderItem.quantity))
            .group_by(OrderItem.product_id)).all())
        stock = dict(db.session.execute(sa.select(Product.id, Product.stock).where(
            Product.id.in_(dataset.stock_before))).all())
        doubles = db.session.scalar(sa.select(sa.func.count()).select_from(
            sa.select(Order.user_id).group_by(Order.user_id)
            .having(sa.func.count() > 1).subquery()))
        leftovers = db.session.scalar(sa.select(sa.func.count()).select_from(CartItem).where(
            CartItem.user_id.in_(sa.select(Order.user_id))))
        db.engine.dispose()
    problems = []
    if not created <= orders <= created + in_flight:
        problems.append(f"{orders} orders in the database, {created} answered 201")
    for product_id, before in dataset.stock_before.items():
        sold = units.get(product_id, 0)
        if before - stock[product_id] != sold:
            problems.append(f"product {product_id}: stock {before} -> {stock[product_id]}, "
                            f"but {sold} units were ordered")
    if sum(units.values()) != orders:
        problems.append(f"{sum(units.values())} units ordered in {orders} one-unit orders")
    if doubles:
        problems.append(f"{doubles} shoppers have more than one order")
    if leftovers:
        problems.append(f"{leftovers} cart lines survived their shopper's checkout")
    return problems


def _create_database(url: str) -> None:
    name = make_url(url).database
    admin = sa.create_engine(make_url(url).set(database="postgres"),
                             isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            if connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": name}) is None:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def _restock(products: list[Product]) -> list[int]:
    ids = [product.id for product in products]
    db.session.execute(sa.update(Product).where(Product.id.in_(ids)).values(stock=PLENTY))
    db.session.commit()
    return ids


def _shoppers(kind: str, count: int, password_hash: str) -> list[int]:
    rows = [{"email": f"bench-{kind}-{index}@example.com", "password_hash": password_hash,
             "name": f"Bench Shopper {index}", "role": "customer"} for index in range(count)]
    ids = db.session.scalars(sa.insert(User).returning(User.id, sort_by_parameter_order=True),
                             rows).all()
    db.session.commit()
    return list(ids)


def _search_terms(names) -> list[str]:
    """Words that occur in product names, the way shoppers type them."""
    return sorted({word.lower() for name in names for word in re.findall(r"[A-Za-z]{4,}", name)})


def _checkout_body() -> dict:
    return {"shipping_address": {"name": "Bench Shopper", "line1": "1 Load Street",
                                 "city": "Springfield", "postal_code": "12345",
                                 "country": "US"},
            "payment": {"card_number": "4242 4242 4242 4242", "exp_month": 12,
                        "exp_year": date.today().year + 2, "cvc": "123"}}


def _write(directory: Path, files: dict[str, list[str]]) -> None:
    for name, lines in files.items():
        (directory / name).write_text("\n".join(lines) + "\n")
