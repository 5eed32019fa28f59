"""The demo catalog as a shopper first sees it: every product with its own picture, served
as WebP in the width the viewport needs, on a desktop and on a phone; screenshots land in
test-artifacts/screenshots/."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import DESKTOP, MOBILE, screenshot

pytestmark = pytest.mark.browser

CARD_IMAGES = "li.product-card img.product-image"


def _load_every_picture(page: Page) -> list[dict]:
    """Scroll the lazy pictures into view, wait for them, and report each one."""
    page.locator(CARD_IMAGES).last.scroll_into_view_if_needed()
    # A function, not an expression: Playwright would eval() a string, which the CSP refuses.
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{CARD_IMAGES}')].every(i => i.complete && "
        "i.naturalWidth > 0)", timeout=60_000)
    page.evaluate("window.scrollTo(0, 0)")
    return page.eval_on_selector_all(CARD_IMAGES, """images => images.map(i => ({
        src: i.currentSrc, natural: i.naturalWidth, alt: i.alt, loading: i.loading,
        box: i.getBoundingClientRect().width, width: i.getAttribute('width'),
        height: i.getAttribute('height')}))""")


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (MOBILE, "phone")])
def test_the_catalog_shows_a_picture_of_every_product(open_context, viewport, name):
    _, page = open_context(viewport)
    page.goto("/products")
    pictures = _load_every_picture(page)

    assert len(pictures) == 12
    assert len({p["src"] for p in pictures}) == 12  # a picture of its own each
    for picture in pictures:
        assert picture["src"].endswith(".webp"), picture  # the browser chose the WebP
        assert "/media/products/" in picture["src"]
        assert picture["natural"] >= picture["box"]  # sharp: not scaled up
        assert picture["width"] and picture["height"]
    assert [p["loading"] for p in pictures[:4]] == ["eager"] * 4
    assert {p["loading"] for p in pictures[4:]} == {"lazy"}
    path = screenshot(page, f"catalog-pictures-{name}")
    assert path.stat().st_size > 50_000  # colour, not a blank page

    page.goto("/products?category=books")
    _load_every_picture(page)
    screenshot(page, f"category-pictures-{name}")


def test_every_image_url_on_the_catalog_page_answers_200_with_an_image(page: Page):
    page.goto("/products")
    urls = page.evaluate("""() => {
        const found = new Set();
        for (const el of document.querySelectorAll('img, source')) {
            if (el.src) found.add(el.src);
            for (const part of (el.srcset || '').split(',')) {
                if (part.trim()) found.add(new URL(part.trim().split(/\\s+/)[0],
                                                    location.href).href);
            }
        }
        return [...found];
    }""")
    assert len(urls) >= 12 * 6
    for url in urls:
        response = page.request.get(url)
        assert response.status == 200, url
        assert response.headers["content-type"].startswith("image/"), url
        if "/media/" in url:
            assert "immutable" in response.headers["cache-control"], url


def test_a_product_page_shows_its_picture_and_valid_structured_data(open_context):
    _, page = open_context(MOBILE)
    page.goto("/products")
    page.locator("li.product-card a").first.click()
    page.wait_for_function("() => document.querySelector('.product img.product-image')"
                           ".naturalWidth > 0")
    blocks = [json.loads(text) for text in page.locator(
        "script[type='application/ld+json']").all_text_contents()]
    product = next(block for block in blocks if block["@type"] == "Product")
    assert product["name"] == page.locator("h1").inner_text()
    assert product["offers"]["priceCurrency"] == "USD"
    for url in product["image"]:
        assert page.request.get(url).status == 200
    screenshot(page, "product-picture-phone")
    # open_context fails the test on any console error: a CSP refusal of the JSON-LD is one.
