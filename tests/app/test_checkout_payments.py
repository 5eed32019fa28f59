"""Money and records agree: a charge no order records is refunded, a retry asks the provider
for the same charge, and a cancellation refunds only what the database has cancelled."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.models import CartItem, IdempotencyKey, Order
from app.orders import lifecycle, service
from app.payments import CardDetails, TestCardProvider
from tests.app.factories import ADDRESS, APPROVED_CARD, NEXT_YEAR, make_product, put_in_cart

CARD = CardDetails(number=APPROVED_CARD, exp_month=12, exp_year=NEXT_YEAR, cvc="123")


class SpyProvider(TestCardProvider):
    def __init__(self):
        self.charges: list[tuple[Decimal, str, str]] = []  # amount, our ref, theirs
        self.refunds: list[tuple[str, Decimal, str]] = []  # theirs, amount, committed status

    def charge(self, amount, card, reference):
        result = super().charge(amount, card, reference)
        self.charges.append((amount, reference, result.reference))
        return result

    def refund(self, payment_reference, amount):
        self.refunds.append((payment_reference, amount, _committed_statuses()))


def _committed_statuses() -> list[str]:
    """What another connection sees: only what has been committed."""
    with db.engine.connect() as connection:
        return list(connection.scalars(sa.select(Order.status).order_by(Order.id)))


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _failing_commit():
    raise OperationalError("COMMIT", {}, Exception("server closed the connection"))


def test_a_failure_after_the_charge_refunds_it_and_saves_nothing(customer, monkeypatch):
    product = make_product(price="12.50", stock=5)
    put_in_cart(customer.id, product, 2)
    spy = SpyProvider()
    monkeypatch.setattr(service, "commit_keeping_state", _failing_commit)

    with pytest.raises(OperationalError):
        service.checkout(customer, "key-1", ADDRESS, CARD, provider=spy)

    [(amount, _, theirs)] = spy.charges
    assert spy.refunds == [(theirs, Decimal("25.00"), [])]
    assert (_count(Order), _count(IdempotencyKey)) == (0, 0)
    assert db.session.scalar(sa.select(CartItem.quantity)) == 2


def test_a_retry_with_the_same_key_asks_for_the_same_charge(customer, monkeypatch):
    product = make_product(price="12.50", stock=5)
    put_in_cart(customer.id, product, 1)
    spy = SpyProvider()
    with monkeypatch.context() as patch:
        patch.setattr(service, "commit_keeping_state", _failing_commit)
        with pytest.raises(OperationalError):
            service.checkout(customer, "key-1", ADDRESS, CARD, provider=spy)

    result = service.checkout(customer, "key-1", ADDRESS, CARD, provider=spy)

    first, retry = spy.charges
    assert first[1] == retry[1] == service.charge_reference(customer.id, "key-1")
    assert result.order.payment_reference == retry[2]


def test_the_charge_reference_hides_the_key_and_differs_per_user():
    reference = service.charge_reference(7, "my-secret-key")

    assert reference.startswith("checkout-") and "my-secret-key" not in reference
    assert reference == service.charge_reference(7, "my-secret-key")
    assert reference != service.charge_reference(8, "my-secret-key")


def test_cancel_refunds_only_after_the_cancellation_is_committed(customer):
    product = make_product(price="8.00", stock=5)
    put_in_cart(customer.id, product, 2)
    order = service.checkout(customer, "key-1", ADDRESS, CARD, provider=SpyProvider()).order
    spy = SpyProvider()

    lifecycle.cancel_order(order.id, customer, spy)

    assert spy.refunds == [(order.payment_reference, Decimal("16.00"), ["cancelled"])]


def test_a_cancellation_that_fails_to_commit_refunds_nothing(customer, monkeypatch):
    product = make_product(price="8.00", stock=5)
    put_in_cart(customer.id, product, 2)
    order = service.checkout(customer, "key-1", ADDRESS, CARD, provider=SpyProvider()).order
    spy = SpyProvider()

    with monkeypatch.context() as patch:
        patch.setattr(db.session, "commit", _failing_commit)
        with pytest.raises(OperationalError):
            lifecycle.cancel_order(order.id, customer, spy)

    assert spy.refunds == []
    assert _committed_statuses() == ["paid"]
