"""What every shopper relies on without thinking about it: labels, alt text, a keyboard-
usable menu, visible focus, and an offline page when the network is gone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import MOBILE, add_to_cart, sign_up

pytestmark = pytest.mark.browser

# Inputs a person fills in, without a label that names them.
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter((el) => el.type !== 'hidden' && !(el.labels && el.labels.length)
                  && !el.getAttribute('aria-label'))
  .map((el) => el.name || el.id)"""
NO_ALT = "() => [...document.images].filter((img) => !img.hasAttribute('alt')).map((i) => i.src)"


def test_every_field_has_a_label_and_every_image_alt_text(page: Page):
    sign_up(page)
    page.goto("/products")
    add_to_cart(page, page.locator(".product-card__name a").first.get_attribute("href"))
    for url in ("/", "/products?q=tent", "/products", "/cart", "/checkout", "/account",
                "/account/password", "/account/orders"):
        page.goto(url)
        assert page.evaluate(UNLABELLED) == [], url
        assert page.evaluate(NO_ALT) == [], url
    page.goto("/products")
    product = page.locator(".product-card__name a").first.get_attribute("href")
    page.goto(product)
    assert page.locator(".product__media img").get_attribute("alt")


def test_the_mobile_menu_works_from_the_keyboard(open_context):
    _, page = open_context(MOBILE)
    page.goto("/")
    toggle = page.get_by_role("button", name="Menu")
    catalog_link = page.get_by_role("navigation", name="Main").get_by_role("link",
                                                                           name="Catalog")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(catalog_link).to_be_hidden()

    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(toggle).to_be_focused()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(catalog_link).to_be_visible()
    page.keyboard.press("Tab")
    expect(catalog_link).to_be_focused()
    outline = catalog_link.evaluate("(el) => getComputedStyle(el).outlineStyle")
    assert outline == "solid"  # focus is visible

    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    expect(catalog_link).to_be_hidden()


def test_the_offline_page_shows_when_the_network_is_gone(open_context):
    context, page = open_context()
    page.goto("/")
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now the worker controls the page
    assert page.evaluate("navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    try:
        page.goto("/products?category=books")
        expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
        # The shop's look comes from the worker's cache too.
        border = page.locator(".site-header").evaluate(
            "(el) => getComputedStyle(el).borderBottomStyle")
        assert border == "solid"
    finally:
        context.set_offline(False)
    page.goto("/products?category=books")
    expect(page.get_by_role("heading", name=re.compile("Catalog"))).to_be_visible()
