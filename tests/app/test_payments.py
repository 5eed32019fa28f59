"""The test-card payment provider and the card checks that run before any charge."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.errors import Invalid
from app.payments import CardDetails, TestCardProvider, card_errors, luhn_valid
from tests.app.factories import NEXT_YEAR


def _card(number: str, exp_month: int = 12, exp_year: int = NEXT_YEAR, cvc: str = "123"):
    return CardDetails.from_input(number, exp_month, exp_year, cvc)


@pytest.mark.parametrize(("number", "code"), [
    ("4000000000000002", "card_declined"),
    ("4000000000009995", "insufficient_funds"),
    ("4000000000000069", "expired_card"),
    ("4000000000000127", "incorrect_cvc"),
])
def test_the_well_known_decline_cards_are_declined_with_their_reason(number, code):
    result = TestCardProvider().charge(Decimal("10.00"), _card(number), "ref-1")

    assert result.approved is False
    assert result.decline_code == code
    assert result.reference is None


@pytest.mark.parametrize("number", ["4242424242424242", "4242 4242 4242 4242",
                                    "5555-5555-5555-4444", "378282246310005"])
def test_other_valid_numbers_are_approved_with_a_reference(number):
    result = TestCardProvider().charge(Decimal("10.00"), _card(number), "ref-1")

    assert result.approved is True
    assert result.reference.startswith("test_") and len(result.reference) > 20


def test_a_luhn_invalid_number_is_refused_before_any_charge():
    with pytest.raises(Invalid) as raised:
        TestCardProvider().charge(Decimal("10.00"), _card("4242424242424241"), "ref-1")

    assert raised.value.details == {"fields": {"card_number": ["is not a valid card number"]}}


@pytest.mark.parametrize(("number", "valid"), [
    ("4242424242424242", True), ("4242424242424241", False), ("0", False),
    ("42424242424242424242", False), ("4242abcd42424242", False), ("", False),
])
def test_luhn(number, valid):
    assert luhn_valid(number) is valid


def test_card_errors_name_each_bad_field():
    today = date(2030, 6, 15)
    card = CardDetails(number="1234", exp_month=13, exp_year=2030, cvc="12a")

    assert card_errors(card, today) == {"card_number": ["is not a valid card number"],
                                        "exp_month": ["must be between 1 and 12"],
                                        "cvc": ["must be 3 or 4 digits"]}
    assert card_errors(_card("4242424242424242", 5, 2030), today) == {
        "exp_year": ["the card has expired"]}
    assert card_errors(_card("4242424242424242", 6, 2030), today) == {}


def test_card_details_never_show_the_number_or_cvc():
    card = _card("4242 4242 4242 4242", cvc="987")

    assert "4242424242424242" not in repr(card) and "987" not in repr(card)
    assert card.last4 == "4242"
