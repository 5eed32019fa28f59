"""Taking payment: the provider interface checkout talks to, and the built-in test provider.

Card data lives only in memory for the length of one checkout: ``CardDetails`` never shows
the number or the CVC in its ``repr``, nothing here logs them, and orders keep the
provider's reference, never the card.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol

from flask import current_app

from app.errors import Invalid

CARD_NUMBER_LENGTHS = range(12, 20)


@dataclass(frozen=True)
class CardDetails:
    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)

    @classmethod
    def from_input(cls, number: str, exp_month: int, exp_year: int, cvc: str) -> CardDetails:
        """Shoppers type spaces and dashes between the groups of digits."""
        return cls(number="".join(ch for ch in number if ch not in " -"),
                   exp_month=exp_month, exp_year=exp_year, cvc=cvc.strip())

    @property
    def last4(self) -> str:
        return self.number[-4:]


@dataclass(frozen=True)
class PaymentResult:
    approved: bool
    reference: str | None = None
    decline_code: str | None = None
    message: str = ""


class PaymentProvider(Protocol):
    name: str

    def charge(self, amount: Decimal, card: CardDetails, reference: str) -> PaymentResult:
        """Charge ``amount``; ``reference`` is ours, so the provider can deduplicate."""
        ...

    def refund(self, payment_reference: str, amount: Decimal) -> None:
        """Give back ``amount`` of the charge the provider called ``payment_reference``."""
        ...


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or len(number) not in CARD_NUMBER_LENGTHS:
        return False
    total = 0
    for index, digit in enumerate(int(ch) for ch in reversed(number)):
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def card_errors(card: CardDetails, today: date | None = None) -> dict[str, list[str]]:
    """What is wrong with a card before anyone is asked to charge it, by field."""
    today = today or date.today()
    errors: dict[str, list[str]] = {}
    if not luhn_valid(card.number):
        errors["card_number"] = ["is not a valid card number"]
    if not 1 <= card.exp_month <= 12:
        errors["exp_month"] = ["must be between 1 and 12"]
    elif (card.exp_year, card.exp_month) < (today.year, today.month):
        errors["exp_year"] = ["the card has expired"]
    if not (card.cvc.isdigit() and len(card.cvc) in (3, 4)):
        errors["cvc"] = ["must be 3 or 4 digits"]
    return errors


def validate_card(card: CardDetails) -> None:
    errors = card_errors(card)
    if errors:
        raise Invalid("the card details are not valid", {"fields": errors})


class TestCardProvider:
    """Approves or declines by card number, like the well-known payment test cards: any
    other valid number is approved. No money moves; nothing leaves the process."""

    __test__ = False  # not a pytest test class, whatever its name says
    name = "test_card"
    DECLINES = {
        "4000000000000002": ("card_declined", "the card was declined"),
        "4000000000009995": ("insufficient_funds", "the card has insufficient funds"),
        "4000000000000069": ("expired_card", "the card has expired"),
        "4000000000000127": ("incorrect_cvc", "the card's security code is incorrect"),
    }

    def charge(self, amount: Decimal, card: CardDetails, reference: str) -> PaymentResult:
        validate_card(card)
        if card.number in self.DECLINES:
            code, message = self.DECLINES[card.number]
            return PaymentResult(approved=False, decline_code=code, message=message)
        # Derived from ours, as a real provider deduplicating by it would answer.
        digest = hashlib.sha256(reference.encode()).hexdigest()[:24]
        return PaymentResult(approved=True, reference=f"test_{digest}")

    def refund(self, payment_reference: str, amount: Decimal) -> None:
        """Nothing was taken, so there is nothing to give back."""


def payment_provider() -> PaymentProvider:
    """The application's provider: ``app.extensions["payment_provider"]`` when one was
    installed, else the test-card provider."""
    return current_app.extensions.setdefault("payment_provider", TestCardProvider())
