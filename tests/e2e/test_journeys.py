"""Shoppers' journeys in a real browser, from the home page to an order an admin ships."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    DESKTOP,
    MOBILE,
    add_to_cart,
    fill_checkout,
    pay_button,
    screenshot,
    sign_up,
)
from tests.e2e.live_server import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = pytest.mark.browser

APPROVED_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"


def _price(text: str) -> Decimal:
    return Decimal(re.sub(r"[^0-9.]", "", text))


def _result_links(page: Page) -> list[str]:
    return [link.get_attribute("href") for link in
            page.locator(".product-card__name a").all()]


def _order_number(page: Page) -> str:
    return page.get_by_test_id("order-number").inner_text().lstrip("#")


def test_a_guest_searches_filters_buys_two_products_and_finds_the_order(page: Page):
    page.goto("/")
    expect(page.get_by_role("heading", name="New in")).to_be_visible()

    page.get_by_role("search").get_by_label("Search products").fill("kettle")
    page.get_by_role("search").get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Results for “kettle”")
    everything = len(_result_links(page))

    page.get_by_label("Category").select_option(label="Home & Kitchen")
    page.get_by_label("Max price").fill("150")
    page.get_by_label("In stock only").check()
    page.get_by_label("Sort by").select_option(label="Price: low to high")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"q=kettle.*category=home-kitchen.*max_price=150.*"
                                 r"in_stock=y.*sort=price"))
    prices = [_price(text) for text in page.locator(".product-card__price").all_inner_texts()]
    assert 2 <= len(prices) < everything
    assert prices == sorted(prices) and max(prices) <= 150
    screenshot(page, "catalog-desktop")
    page.set_viewport_size(MOBILE)
    page.reload()  # as a phone loads it: the filters folded
    expect(page.get_by_label("Category")).to_be_hidden()
    screenshot(page, "catalog-mobile")
    page.set_viewport_size(DESKTOP)

    first, second = _result_links(page)[:2]
    add_to_cart(page, first, 1)
    add_to_cart(page, second, 2)
    expect(page.get_by_test_id("cart-count")).to_have_text("3")
    expected = prices[0] + 2 * prices[1]
    expect(page.get_by_test_id("cart-total")).to_have_text(f"${expected:,.2f}")

    page.get_by_role("link", name="Check out").click()
    page.wait_for_url(re.compile(r"/signin\?next=/checkout"))
    page.get_by_role("link", name="Create an account").click()
    sign_up(page)
    page.wait_for_url(re.compile(r"/checkout$"))
    expect(page.get_by_test_id("checkout-total")).to_have_text(f"${expected:,.2f}")
    fill_checkout(page, APPROVED_CARD)
    screenshot(page, "checkout-desktop")
    page.set_viewport_size(MOBILE)
    screenshot(page, "checkout-mobile")
    pay_button(page).click()

    page.wait_for_url(re.compile(r"/checkout/confirmation/\d+$"))
    number = _order_number(page)
    expect(page.get_by_test_id("order-total")).to_have_text(f"${expected:,.2f}")
    expect(page.get_by_test_id("cart-count")).to_have_text("0")

    page.goto("/account/orders")
    row = page.locator(f'tr[data-order-id="{number}"]')
    expect(row).to_contain_text(f"${expected:,.2f}")
    expect(row).to_contain_text("Paid")


def test_a_declined_card_keeps_the_cart_and_a_double_click_pays_once(page: Page):
    sign_up(page)
    page.goto("/products?category=books&in_stock=y&sort=price")
    add_to_cart(page, _result_links(page)[0], 1)
    page.get_by_role("link", name="Check out").click()

    fill_checkout(page, DECLINED_CARD)
    pay_button(page).click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Your payment was declined: the card was declined.")
    expect(page.get_by_test_id("cart-count")).to_have_text("1")
    expect(page.get_by_label("Street address")).to_have_value("1 Market Street")
    expect(page.get_by_label("Card number")).to_have_value("")

    page.get_by_label("Card number").fill(APPROVED_CARD)
    page.get_by_label("Security code (CVC)").fill("123")
    pay_button(page).dblclick()
    page.wait_for_url(re.compile(r"/checkout/confirmation/\d+$"))
    number = _order_number(page)

    page.goto("/account/orders")
    expect(page.locator("tr[data-order-id]")).to_have_count(1)
    expect(page.locator(f'tr[data-order-id="{number}"]')).to_be_visible()


def test_an_admin_ships_the_order_and_the_shopper_sees_it(open_context):
    _, shopper = open_context()
    sign_up(shopper)
    shopper.goto("/products?category=electronics&in_stock=y")
    add_to_cart(shopper, _result_links(shopper)[0], 1)
    shopper.goto("/checkout")
    fill_checkout(shopper, APPROVED_CARD)
    pay_button(shopper).click()
    shopper.wait_for_url(re.compile(r"/checkout/confirmation/\d+$"))
    number = _order_number(shopper)

    _, admin = open_context()
    admin.goto("/signin")
    admin.get_by_label("Email").fill(ADMIN_EMAIL)
    admin.get_by_label("Password").fill(ADMIN_PASSWORD)
    admin.get_by_role("button", name="Sign in").click()
    admin.get_by_role("link", name="Admin: orders").click()
    admin.get_by_role("link", name=f"Order #{number}", exact=True).click()
    admin.get_by_label("New status").select_option("shipped")
    admin.get_by_role("button", name="Change status").click()
    expect(admin.get_by_role("status")).to_contain_text(f"Order #{number} is now shipped.")
    expect(admin.get_by_test_id("order-status")).to_have_text("Shipped")

    shopper.goto(f"/account/orders/{number}")
    expect(shopper.get_by_test_id("order-status")).to_have_text("Shipped")
