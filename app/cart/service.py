"""The cart's rules, as plain functions shared by the API and the pages.

A cart is a ``CartStore``: a guest's lives in Redis under its token, a signed-in
shopper's in ``cart_items``. Reading a cart loads every product it names in one query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

import sqlalchemy as sa

from app.cart.durable import UserCart
from app.cart.guest import GuestCart, is_valid_token, new_token
from app.cart.store import MAX_LINE_QUANTITY, MAX_LINES, CartStore, LineWrite
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.live.events import cart_changed, cart_merged
from app.metrics import record_cart_addition
from app.models import CartItem, Product

StockState = Literal["in_stock", "insufficient_stock", "unavailable"]


@dataclass(frozen=True)
class CartLine:
    product_id: int
    name: str
    sku: str
    unit_price: Decimal
    quantity: int
    available: int
    is_active: bool

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def stock_state(self) -> StockState:
        if not self.is_active:
            return "unavailable"
        return "in_stock" if self.quantity <= self.available else "insufficient_stock"


@dataclass(frozen=True)
class CartView:
    token: str | None
    lines: list[CartLine] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.line_total for line in self.lines), Decimal("0.00"))

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def ready_for_checkout(self) -> bool:
        return bool(self.lines) and all(line.stock_state == "in_stock" for line in self.lines)


def cart_for(user_id: int | None, token: str | None) -> CartStore:
    """The signed-in shopper's cart, else the guest cart of ``token`` (a new one when the
    request carries none)."""
    if user_id is not None:
        return UserCart(user_id)
    if token is None:
        return GuestCart(new_token())
    if not is_valid_token(token):
        raise Invalid.field("X-Cart-Token", "is not a cart token issued by this shop")
    return GuestCart(token)


def view_cart(cart: CartStore) -> CartView:
    if isinstance(cart, UserCart):  # one query: the lines joined with their products
        lines = [_line(product, quantity) for quantity, product in db.session.execute(
            sa.select(CartItem.quantity, Product).join(Product)
            .where(CartItem.user_id == cart.user_id).order_by(CartItem.id))]
        return CartView(token=None, lines=lines)
    quantities = cart.quantities()
    products = _products(quantities)
    lines = [_line(products[pid], quantity) for pid, quantity in quantities.items()
             if pid in products]
    return CartView(token=cart.token, lines=lines)


def add_item(cart: CartStore, product_id: int, quantity: int) -> CartView:
    _check_quantity(quantity)
    product = _purchasable(product_id)
    _raise_unless_ok(cart.add(product.id, quantity, product.stock), product, quantity, True)
    view = view_cart(cart)
    db.session.commit()  # the signed-in cart's upsert, read back in its own transaction
    record_cart_addition()
    cart_changed(cart, view.item_count)  # the shopper's other tabs (app.live)
    return view


def set_quantity(cart: CartStore, product_id: int, quantity: int) -> CartView:
    _check_quantity(quantity)
    product = _purchasable(product_id)
    _raise_unless_ok(cart.set(product.id, quantity, product.stock), product, quantity, False)
    return _changed(cart)


def remove_item(cart: CartStore, product_id: int) -> CartView:
    if not cart.remove(product_id):
        raise NotFound("this product is not in the cart", {"product_id": product_id})
    return _changed(cart)


def clear_cart(cart: CartStore) -> CartView:
    cart.clear()
    cart_changed(cart, 0)  # the shopper's other tabs (app.live)
    return CartView(token=cart.token)


def _changed(cart: CartStore) -> CartView:
    view = view_cart(cart)
    cart_changed(cart, view.item_count)  # the shopper's other tabs (app.live)
    return view


def merge_guest_cart(user_id: int, cart_token: str) -> dict:
    """Move a guest cart into the user's durable cart, at login. Never fails on stock: a
    line that would exceed what is available is clamped to it and reported. Lines of
    products no longer sold, or beyond the cart's line limit, are reported as skipped.
    Commits, and deletes the guest cart."""
    result: dict = {"merged": [], "clamped": [], "skipped": []}
    if not is_valid_token(cart_token):
        return result
    guest = GuestCart(cart_token)
    lines = guest.take()
    try:
        _merge_lines(UserCart(user_id), lines, result)
        if result["merged"]:
            cart_merged(user_id)  # the account's other tabs (app.live)
        db.session.commit()
    except Exception:
        db.session.rollback()
        guest.put_back(lines)
        raise
    return result


def _merge_lines(user_cart: UserCart, lines: dict[int, int], result: dict) -> None:
    existing = user_cart.quantities()
    line_count = len(existing)
    products = _products(lines)
    for product_id, quantity in sorted(lines.items()):
        product = products.get(product_id)
        if product is None or not product.is_active:
            result["skipped"].append({"product_id": product_id, "reason": "unavailable"})
            continue
        held = existing.get(product_id, 0)
        if not held and line_count >= MAX_LINES:
            result["skipped"].append({"product_id": product_id, "reason": "cart_full"})
            continue
        requested = held + quantity
        cap = min(product.stock, MAX_LINE_QUANTITY)
        merged = min(requested, cap)
        if merged < requested:
            result["clamped"].append(
                {"product_id": product_id, "requested": requested, "available": merged})
        # Also when stock fell below what the account already held: the line drops to the
        # cap. A sold-out line stays as it was, for the cart to show as unavailable.
        if merged and merged != held:
            user_cart.merge(product_id, quantity, cap)
            line_count += 0 if held else 1
            result["merged"].append({"product_id": product_id, "quantity": merged})


def _products(quantities: dict[int, int]) -> dict[int, Product]:
    if not quantities:
        return {}
    rows = db.session.scalars(sa.select(Product).where(Product.id.in_(quantities)))
    return {product.id: product for product in rows}


def _line(product: Product, quantity: int) -> CartLine:
    return CartLine(product_id=product.id, name=product.name, sku=product.sku,
                    unit_price=product.price, quantity=quantity, available=product.stock,
                    is_active=product.is_active)


def _check_quantity(quantity: int) -> None:
    if not 1 <= quantity <= MAX_LINE_QUANTITY:
        raise Invalid.field("quantity", f"must be between 1 and {MAX_LINE_QUANTITY}")


def _purchasable(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None or not product.is_active:
        raise NotFound("product not found", {"product_id": product_id})
    return product


def _raise_unless_ok(write: LineWrite, product: Product, quantity: int, adding: bool) -> None:
    if write.outcome == "ok":
        return
    if write.outcome == "too_many_lines":
        raise Invalid.field("product_id", f"a cart holds at most {MAX_LINES} products")
    wanted = write.quantity + quantity if adding else quantity
    if write.outcome == "over_line_limit":
        raise Invalid.field(
            "quantity", f"at most {MAX_LINE_QUANTITY} of one product per order "
                        f"({write.quantity} already in the cart)")
    raise Conflict(f"only {product.stock} of this product in stock",
                   {"product_id": product.id, "requested": wanted,
                    "available": product.stock, "in_cart": write.quantity},
                   code="insufficient_stock")
