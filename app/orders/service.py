"""Checkout and order history, as plain functions shared by the API and the pages.

Checkout is one transaction. The ``Idempotency-Key`` row is inserted first, so a
concurrent duplicate blocks on its unique index until the first attempt commits (and then
returns the first order) or rolls back (and then runs itself). The cart rows and then the
products are locked ``FOR UPDATE`` - products in id order, so two checkouts can never wait
on each other in a cycle - and prices and stock are re-read under those locks. The card is
charged before commit; a decline rolls everything back, and a failure after an approved
charge refunds it before the error goes on. The charge's reference is derived from the user
and the key, so a retry after a crash asks the provider for the same charge, not a second.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app import idempotency
from app.catalog.cache import note_product_writes
from app.errors import Conflict, DomainError, Invalid, NotFound, PaymentDeclined
from app.extensions import commit_keeping_state, db
from app.live import events as live_events
from app.mail import MailError, send_mail
from app.metrics import record_checkout_failure, record_order
from app.models import CartItem, IdempotencyKey, Order, OrderItem, Product, User
from app.orders.address import address_errors, normalize_address
from app.pagination import Page, paginate
from app.payments import (
    CardDetails,
    PaymentProvider,
    PaymentResult,
    card_errors,
    payment_provider,
)

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class CheckoutResult:
    order: Order
    created: bool  # False when this is the order an earlier attempt with the key placed


class _DuplicateAttempt(Exception):
    """Another checkout with the same key committed while this one waited for it."""


def checkout(user: User, idempotency_key: str, address: Mapping, card: CardDetails,
             provider: PaymentProvider | None = None) -> CheckoutResult:
    """Turn the user's cart into an order, exactly once per ``idempotency_key``."""
    try:
        result = _checkout(user, idempotency_key, address, card, provider)
    except Exception as exc:
        record_checkout_failure(_failure_reason(exc))
        raise
    if result.created:  # a replayed key placed nothing new
        record_order(result.order.total_amount)
    return result


def _failure_reason(exc: Exception) -> str:
    """The reason label of shop_checkout_failures_total: what the shopper could fix is
    "validation" (an empty cart, a bad address, a reused key); the rest is ours, "error"."""
    if isinstance(exc, PaymentDeclined):
        return "payment_declined"
    if isinstance(exc, Conflict) and exc.code == "insufficient_stock":
        return "out_of_stock"
    return "validation" if isinstance(exc, DomainError) else "error"


def _checkout(user: User, idempotency_key: str, address: Mapping, card: CardDetails,
              provider: PaymentProvider | None) -> CheckoutResult:
    idempotency.check_key(idempotency_key)
    address = normalize_address(address)
    _check_request(address, card)
    fingerprint = idempotency.fingerprint({"address": address, "card": asdict(card)})
    # No look-up first: claiming the key tells a first attempt from a replay (a replay's
    # claim finds the earlier row), one statement fewer for every first attempt.
    try:
        order = _place_order(user, idempotency_key, fingerprint, address, card,
                             provider or payment_provider())
    except _DuplicateAttempt:
        db.session.rollback()
        return CheckoutResult(_order_of_duplicate(user.id, idempotency_key, fingerprint),
                              created=False)
    except Exception:
        db.session.rollback()
        raise
    _send_confirmation(user, order)
    return CheckoutResult(order, created=True)


def list_orders(page: int, per_page: int, user_id: int | None = None,
                status: str | None = None) -> Page:
    """Newest first; one user's orders, or everyone's when ``user_id`` is None."""
    statement = sa.select(Order).options(selectinload(Order.items)).order_by(
        Order.created_at.desc(), Order.id.desc())
    if user_id is not None:
        statement = statement.where(Order.user_id == user_id)
    else:  # everyone's: the order desk shows whose each one is, in one more query
        statement = statement.options(selectinload(Order.user))
    if status is not None:
        statement = statement.where(Order.status == status)
    return paginate(statement, page, per_page)


def get_order(order_id: int, user: User) -> Order:
    """The order, if ``user`` may see it: its owner, or an admin. Anyone else gets the
    same 404 as for an order that does not exist."""
    order = db.session.scalar(
        sa.select(Order).options(selectinload(Order.items)).where(Order.id == order_id))
    if order is None or not (user.is_admin or order.user_id == user.id):
        raise NotFound("order not found")
    return order


def _check_request(address: dict, card: CardDetails) -> None:
    errors = {}
    if problems := address_errors(address):
        errors["shipping_address"] = problems
    if problems := card_errors(card):
        errors["payment"] = problems
    if errors:
        raise Invalid("the checkout request is not valid", {"fields": errors})


def _earlier_order(user_id: int, key: str, fingerprint: str) -> Order | None:
    row = idempotency.earlier(user_id, key, fingerprint)
    if row is None:
        return None
    if row.order_id is None:
        raise Conflict("the order placed with this Idempotency-Key no longer exists")
    return get_order(row.order_id, db.session.get(User, user_id))


def _order_of_duplicate(user_id: int, key: str, fingerprint: str) -> Order:
    order = _earlier_order(user_id, key, fingerprint)
    if order is None:  # the first attempt's row vanished between its commit and our read
        raise Conflict("a checkout with this Idempotency-Key is in progress; retry",
                       code="checkout_in_progress")
    return order


def _place_order(user: User, key: str, fingerprint: str, address: dict, card: CardDetails,
                 provider: PaymentProvider) -> Order:
    key_id = idempotency.claim(user.id, key, fingerprint)
    if key_id is None:  # an attempt with this key committed while this one waited
        raise _DuplicateAttempt
    cart_rows, products = _locked_cart_and_products(user.id)
    _check_stock(cart_rows, products)
    total = sum((products[row.product_id].price * row.quantity for row in cart_rows),
                Decimal("0.00"))
    payment = provider.charge(total, card, reference=charge_reference(user.id, key))
    if not payment.approved:
        raise PaymentDeclined(payment.message or "the payment was declined",
                              {"reason": payment.decline_code})
    try:
        return _record_paid_order(user, key_id, address, card, payment, cart_rows, products,
                                  total)
    except BaseException:
        _refund_unrecorded(provider, payment, total)
        raise


def charge_reference(user_id: int, key: str) -> str:
    """The same for every attempt with one key, so the provider can deduplicate them;
    hashed, because the key is the client's and has no business at the provider."""
    digest = hashlib.sha256(f"{user_id}:{key}".encode()).hexdigest()[:32]
    return f"checkout-{digest}"


def _refund_unrecorded(provider: PaymentProvider, payment: PaymentResult,
                       total: Decimal) -> None:
    """Give back a charge no order records (the transaction failed after it). A failed
    refund is logged with its reference for a person to settle; the original error wins."""
    db.session.rollback()
    try:
        provider.refund(payment.reference or "", total)
    except Exception:
        log.exception("charge %s has no order and could not be refunded", payment.reference)
    else:
        log.warning("charge %s was refunded: its order could not be saved", payment.reference)


def _record_paid_order(user: User, key_id: int, address: dict,
                       card: CardDetails, payment: PaymentResult, cart_rows: list[CartItem],
                       products: dict[int, Product], total: Decimal) -> Order:
    order = Order(user_id=user.id, total_amount=total, status="paid",
                  shipping_address=address, payment_method=f"card ending {card.last4}",
                  payment_status="approved", payment_reference=payment.reference,
                  items=[_order_item(products[row.product_id], row.quantity)
                         for row in cart_rows])
    db.session.add(order)
    db.session.flush()  # the order, then its items in one multi-row INSERT
    _take_stock_clear_cart_and_note_order(order.id, key_id, cart_rows)
    for row in cart_rows:  # what the statement wrote, as the session's committed state
        product = products[row.product_id]
        set_committed_value(product, "stock", product.stock - row.quantity)
    live_events.order_placed(user, order, products.values())  # sent after the commit
    # The order, its items and the user were just written or read under lock: the
    # confirmation and the response read them as they are.
    commit_keeping_state()
    return order


# The rest of a paid checkout's writes in one statement: the stock of every product (one
# UPDATE ... FROM unnest(...), under the locks taken above), the locked cart rows (a row added
# since the lock is not in this order, so it stays in the cart), and the key's order.
_CHECKOUT_WRITES = """
WITH stock AS (
  UPDATE products SET stock = products.stock - sold.quantity, updated_at = now()
  FROM (SELECT * FROM unnest(CAST(:product_ids AS integer[]), CAST(:quantities AS integer[])))
    AS sold(product_id, quantity)
  WHERE products.id = sold.product_id
), lines AS (
  DELETE FROM cart_items WHERE id = ANY(CAST(:cart_ids AS integer[]))
)
UPDATE idempotency_keys SET order_id = :order_id WHERE id = :key_id
"""


def _take_stock_clear_cart_and_note_order(order_id: int, key_id: int,
                                          cart_rows: list[CartItem]) -> None:
    product_ids = [row.product_id for row in cart_rows]
    quantities = [row.quantity for row in cart_rows]
    cart_ids = [row.id for row in cart_rows]
    # Bulk SQL the session does not track: the catalog cache still learns of it.
    note_product_writes(product_ids)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text(_CHECKOUT_WRITES), {
            "product_ids": product_ids, "quantities": quantities, "cart_ids": cart_ids,
            "order_id": order_id, "key_id": key_id})
        return
    # The embedded SQLite default has no data-modifying WITH: the same, step by step.
    for product_id, quantity in zip(product_ids, quantities, strict=True):
        db.session.execute(sa.update(Product).where(Product.id == product_id).values(
            stock=Product.stock - quantity, updated_at=sa.func.now()))
    db.session.execute(sa.delete(CartItem).where(CartItem.id.in_(cart_ids)))
    db.session.execute(sa.update(IdempotencyKey).where(IdempotencyKey.id == key_id)
                       .values(order_id=order_id))


def _locked_cart_and_products(user_id: int) -> tuple[list[CartItem], dict[int, Product]]:
    """The cart's rows and their products, locked ``FOR UPDATE`` in one statement, in
    product id order (so two checkouts never wait on each other in a cycle), re-read
    under the locks."""
    rows = db.session.execute(
        sa.select(CartItem, Product).join(Product, CartItem.product_id == Product.id)
        .where(CartItem.user_id == user_id).order_by(Product.id)
        .with_for_update().execution_options(populate_existing=True)).all()
    if not rows:
        raise Conflict("the cart is empty", code="cart_empty")
    return [line for line, _ in rows], {product.id: product for _, product in rows}


def _check_stock(cart_rows: list[CartItem], products: dict[int, Product]) -> None:
    problems = []
    for row in cart_rows:
        product = products[row.product_id]
        if not product.is_active:
            problems.append({"product_id": product.id, "reason": "unavailable",
                             "requested": row.quantity, "available": 0})
        elif product.stock < row.quantity:
            problems.append({"product_id": product.id, "reason": "insufficient_stock",
                             "requested": row.quantity, "available": product.stock})
    if problems:
        raise Conflict("some products in the cart cannot be bought in that quantity",
                       {"items": problems}, code="insufficient_stock")


def _order_item(product: Product, quantity: int) -> OrderItem:
    return OrderItem(product_id=product.id, product_name=product.name, sku=product.sku,
                     quantity=quantity, price=product.price)


def _send_confirmation(user: User, order: Order) -> None:
    """The order stands whether or not the mail goes out; a failure is logged for retry
    by hand, never shown to the shopper as a failed checkout."""
    lines = [f"{item.quantity} x {item.product_name} ({item.sku}) at {item.price}"
             for item in order.items]
    body = "\n".join([f"Hello {user.name},", "", f"thank you for your order #{order.id}.", "",
                      *lines, "", f"Total: {order.total_amount}",
                      f"Paid with {order.payment_method}.",
                      f"Shipping to: {_address_line(order.shipping_address)}"])
    try:
        send_mail(user.email, f"Your order #{order.id}", body)
    except MailError:
        log.warning("order confirmation for order %s was not sent", order.id, exc_info=True)


def _address_line(address: dict) -> str:
    parts = ("name", "line1", "line2", "postal_code", "city", "country")
    return ", ".join(address[part] for part in parts if address.get(part))
