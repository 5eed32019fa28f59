"""The browsing pages: home, the catalog's filters in the URL, and a product's stock states."""

from __future__ import annotations

import re

import pytest

from tests.app.catalog_factories import make_category, make_product
from tests.app.pages_support import text


@pytest.fixture
def shelf(app):
    kitchen = make_category("Kitchen")
    books = make_category("Books")
    return {
        "kitchen": kitchen,
        "books": books,
        "kettle": make_product(kitchen, "Copper Kettle", price="45.00", stock=12,
                               description="Boils water on any hob."),
        "pan": make_product(kitchen, "Cast Iron Pan", price="30.00", stock=3),
        "mugs": make_product(kitchen, "Stoneware Mugs", price="12.50", stock=0),
        "novel": make_product(books, "The Quiet Harbor", price="15.00", stock=40),
        "retired": make_product(books, "Retired Atlas", price="20.00", is_active=False),
    }


def _names(html: str) -> list[str]:
    return re.findall(r'class="product-card__name"><a href="[^"]+">([^<]+)</a>', html)


def test_home_shows_categories_and_in_stock_products(client, shelf):
    html = text(client.get("/"))
    assert 'href="/products?category=kitchen"' in html
    assert 'href="/products?category=books"' in html
    assert set(_names(html)) == {"Copper Kettle", "Cast Iron Pan", "The Quiet Harbor"}


def test_catalog_lists_active_products_only(client, shelf):
    response = client.get("/products")
    assert response.status_code == 200
    assert set(_names(text(response))) == {"Copper Kettle", "Cast Iron Pan", "Stoneware Mugs",
                                           "The Quiet Harbor"}
    assert "4 products" in text(response)


def test_filters_live_in_the_url_and_are_shown_back(client, shelf):
    html = text(client.get("/products?category=kitchen&min_price=20&in_stock=y&sort=-price"))
    assert _names(html) == ["Copper Kettle", "Cast Iron Pan"]
    assert '<option selected value="kitchen">Kitchen</option>' in html
    assert 'value="20"' in html
    assert re.search(r'<input checked[^>]*name="in_stock"', html)
    assert '<option selected value="-price">' in html


def test_search_finds_by_words_and_the_header_search_is_not_repeated(client, shelf):
    html = text(client.get("/products?q=kettle"))
    assert _names(html) == ["Copper Kettle"]
    assert "Results for “kettle”" in html
    assert html.count('name="q"') == 1


def test_price_range_and_sort(client, shelf):
    html = text(client.get("/products?max_price=20&sort=price"))
    assert _names(html) == ["Stoneware Mugs", "The Quiet Harbor"]


def test_a_bad_filter_is_explained_and_ignored(client, shelf):
    response = client.get("/products?min_price=cheap&max_price=20")
    html = text(response)
    assert response.status_code == 200
    assert "Not a valid decimal value" in html
    assert set(_names(html)) == {"Stoneware Mugs", "The Quiet Harbor"}


def test_max_below_min_is_refused(client, shelf):
    html = text(client.get("/products?min_price=40&max_price=10"))
    assert "Must not be less than the min price." in html
    assert set(_names(html)) == {"Copper Kettle"}


def test_pagination_links_keep_the_filters(client, app):
    category = make_category("Garden")
    for number in range(14):
        make_product(category, f"Trowel {number:02d}", price="5.00")
    html = text(client.get("/products?category=garden&sort=name"))
    assert len(_names(html)) == 12
    assert "Page 1 of 2" in html
    assert 'href="/products?category=garden&amp;sort=name&amp;page=2"' in html
    second = text(client.get("/products?category=garden&sort=name&page=2"))
    assert _names(second) == ["Trowel 12", "Trowel 13"]


@pytest.mark.parametrize(("product", "label", "can_add"), [
    ("kettle", "In stock", True),
    ("pan", "Only 3 left", True),
    ("mugs", "Out of stock", False),
])
def test_product_page_stock_states(client, shelf, product, label, can_add):
    item = shelf[product]
    html = text(client.get(f"/products/{item.id}"))
    assert f'data-testid="stock">{label}<' in html
    assert ("Add to cart" in html) is can_add
    assert item.name in html


def test_quantity_picker_stops_at_the_stock(client, shelf):
    html = text(client.get(f"/products/{shelf['pan'].id}"))
    assert re.search(r'<input[^>]*max="3"[^>]*name="quantity"', html)
    assert '<label class="field__label" for="quantity">Quantity</label>' in html


def test_product_page_shows_its_image_with_alt_text(client, shelf, app):
    from app.extensions import db

    shelf["kettle"].image_url = "https://media.example.com/kettle.jpg"
    db.session.commit()
    html = text(client.get(f"/products/{shelf['kettle'].id}"))
    assert '<img class="product-image" src="https://media.example.com/kettle.jpg" ' \
           'alt="Copper Kettle"' in html


def test_withdrawn_or_unknown_product_is_the_404_page(client, shelf):
    for url in (f"/products/{shelf['retired'].id}", "/products/999999"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.mimetype == "text/html"
        assert "We could not find that page" in text(response)
