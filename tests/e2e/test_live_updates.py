"""Live updates in a real browser, served by two gunicorn workers over Redis: what one
person does shows on another person's open page without a reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import add_to_cart, fill_checkout, pay_button, sign_up
from tests.e2e.live_server import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = pytest.mark.browser

APPROVED_CARD = "4242 4242 4242 4242"
LIVE_MS = 15_000  # an event is there in milliseconds; this is for a loaded CI machine


def _first_product(page: Page) -> str:
    page.goto("/products?category=electronics&in_stock=y")
    return page.locator(".product-card__name a").first.get_attribute("href")


def _buy(page: Page, product_url: str) -> str:
    add_to_cart(page, product_url, 1)
    page.goto("/checkout")
    fill_checkout(page, APPROVED_CARD)
    pay_button(page).click()
    page.wait_for_url(re.compile(r"/checkout/confirmation/\d+$"))
    return page.get_by_test_id("order-number").inner_text().lstrip("#")


def _sign_in_admin(page: Page) -> None:
    page.goto("/signin")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_a_shipped_order_and_a_new_order_appear_on_open_pages(open_context):
    _, shopper = open_context()
    sign_up(shopper)
    product_url = _first_product(shopper)
    number = _buy(shopper, product_url)
    shopper.goto(f"/account/orders/{number}")
    expect(shopper.get_by_test_id("order-status")).to_have_text("Paid")
    expect(shopper.get_by_role("button", name="Cancel this order")).to_be_visible()

    _, admin = open_context()
    _sign_in_admin(admin)
    admin.goto("/admin/orders")
    expect(admin.locator(f'tr[data-order-id="{number}"]')).to_be_visible()

    # A second order, placed in another tab of the shopper, reaches the open order desk.
    second_tab = shopper.context.new_page()
    second = _buy(second_tab, product_url)
    new_row = admin.locator(f'tr[data-order-id="{second}"]')
    expect(new_row).to_be_visible(timeout=LIVE_MS)
    expect(new_row).to_contain_text(f"Order #{second}")
    expect(new_row.locator(".status")).to_have_text("Paid")
    expect(admin.locator("tbody tr").first).to_have_attribute("data-order-id", second)
    second_tab.close()

    admin.get_by_role("link", name=f"Order #{number}", exact=True).click()
    admin.get_by_label("New status").select_option("shipped")
    admin.get_by_role("button", name="Change status").click()
    expect(admin.get_by_role("status").first).to_contain_text(f"Order #{number} is now shipped.")

    # The shopper's page, never reloaded, follows.
    expect(shopper.get_by_test_id("order-status")).to_have_text("Shipped", timeout=LIVE_MS)
    expect(shopper.get_by_role("button", name="Cancel this order")).to_be_hidden()
    expect(shopper.get_by_test_id("live-announcer")).to_have_text(
        f"Order #{number} is now Shipped.")


def test_stock_and_the_cart_badge_follow_changes_made_elsewhere(open_context):
    _, guest = open_context()
    product_url = _first_product(guest)
    product_id = product_url.rstrip("/").rsplit("/", 1)[1]
    guest.goto(product_url)
    stock = guest.get_by_test_id("stock")
    expect(guest.get_by_role("button", name="Add to cart")).to_be_visible()

    _, admin = open_context()
    _sign_in_admin(admin)
    admin.goto(f"/admin/products/{product_id}")
    admin.get_by_label("Stock level").fill("3")
    admin.get_by_role("button", name="Set stock").click()
    expect(stock).to_have_text("Only 3 left", timeout=LIVE_MS)
    admin.get_by_label("Stock level").fill("0")
    admin.get_by_role("button", name="Set stock").click()
    expect(stock).to_have_text("Out of stock", timeout=LIVE_MS)
    expect(guest.get_by_role("button", name="Add to cart")).to_be_hidden()
    admin.get_by_label("Stock level").fill("25")
    admin.get_by_role("button", name="Set stock").click()
    expect(stock).to_have_text("In stock", timeout=LIVE_MS)

    # The same shopper in two tabs: adding in one updates the other's badge.
    context, shopper = open_context()
    sign_up(shopper)
    other_tab = context.new_page()
    other_tab.goto("/products")
    expect(other_tab.get_by_test_id("cart-count")).to_have_text("0")
    add_to_cart(shopper, product_url, 2)
    expect(other_tab.get_by_test_id("cart-count")).to_have_text("2", timeout=LIVE_MS)
