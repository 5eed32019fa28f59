"""What every page tells search engines and link previews (titles, descriptions, canonical
URLs, robots, Open Graph, Twitter) and the schema.org JSON-LD of product and category
pages, checked against the rows they describe."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import Product
from tests.app.catalog_factories import make_category, make_product
from tests.app.pages_support import sign_in
from tests.app.seo_support import of_type, read

BASE = "http://shop.test"
SOCIAL = ("og:site_name", "og:type", "og:title", "og:description", "og:url", "og:image",
          "twitter:card", "twitter:title", "twitter:description", "twitter:image")


@pytest.fixture
def shelf(app):
    tea = make_category("Tea")
    tea.description = "Loose leaf and bagged teas."
    db.session.commit()
    products = [make_product(tea, f"Tea number {n}", price=f"{n}.50", stock=n,
                             description=f"Tea number {n}, a lovely cup.")
                for n in range(0, 15)]
    return tea, products


def head_of(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, path
    return read(response.get_data(as_text=True))


def test_every_page_has_its_own_title_description_canonical_and_social_tags(
        client, shelf, customer):
    tea, products = shelf
    public = ["/", "/products", "/products?category=tea", "/products?page=2",
              f"/products/{products[3].id}", f"/products/{products[4].id}", "/products?q=tea",
              "/cart", "/signin", "/signup", "/forgot-password", "/offline"]
    heads = {path: head_of(client, path) for path in public}
    sign_in(client, customer.email)
    for path in ("/account", "/account/orders", "/account/password"):
        heads[path] = head_of(client, path)

    for path, head in heads.items():
        assert head.title.endswith(" · Shop"), path
        assert head.meta["description"].strip(), path
        assert head.links["canonical"].startswith(BASE + "/"), path
        assert all(head.meta.get(name) for name in SOCIAL), path
        assert head.meta["og:url"] == head.links["canonical"], path
        assert head.meta["og:image"].startswith(BASE + "/"), path
    for part in ("title", "description", "canonical"):
        values = [h.title if part == "title" else h.meta["description"] if
                  part == "description" else h.links["canonical"] for h in heads.values()]
        assert len(set(values)) == len(values), part


@pytest.mark.parametrize(("path", "canonical"), [
    ("/products?sort=price&min_price=1&max_price=90&in_stock=y", "/products"),
    ("/products?page=1&sort=-price", "/products"),
    ("/products?page=2&sort=name&in_stock=y", "/products?page=2"),
    ("/products?category=tea&sort=price&page=2", "/products?category=tea&page=2"),
    ("/products?category=tea&page=abc", "/products?category=tea"),
    ("/products?q=green+tea&sort=price", "/products?q=green+tea"),
])
def test_filters_and_sorts_are_canonicalised_away_categories_and_pages_kept(
        client, shelf, path, canonical):
    assert head_of(client, path).links["canonical"] == BASE + canonical


@pytest.mark.parametrize(("path", "robots"), [
    ("/", None), ("/products", None), ("/products?category=tea", None),
    ("/products?q=tea", "noindex, follow"), ("/cart", "noindex, nofollow"),
    ("/signin", "noindex, nofollow"),
])
def test_searches_and_personal_pages_are_noindex(client, shelf, path, robots):
    assert head_of(client, path).meta.get("robots") == robots


def test_the_product_json_ld_matches_the_product_row(client, shelf):
    _, products = shelf
    for product, availability in ((products[0], "OutOfStock"),
                                  (products[3], "LimitedAvailability"),
                                  (products[9], "InStock")):
        head = head_of(client, f"/products/{product.id}")
        data = of_type(head, "Product")
        row = db.session.get(Product, product.id)
        url = f"{BASE}/products/{row.id}"
        assert data["@context"] == "https://schema.org"
        assert (data["name"], data["sku"], data["description"], data["url"]) == (
            row.name, row.sku, row.description, url)
        assert data["category"] == row.category.name
        offer = data["offers"]
        assert offer["@type"] == "Offer" and offer["url"] == url
        assert Decimal(offer["price"]) == row.price and offer["priceCurrency"] == "USD"
        assert offer["availability"] == f"https://schema.org/{availability}"
        assert "image" not in data  # no picture, none claimed
        assert head.meta["og:type"] == "product"
        crumbs = of_type(head, "BreadcrumbList")["itemListElement"]
        assert [(c["position"], c["name"], c["item"]) for c in crumbs] == [
            (1, "Catalog", f"{BASE}/products"),
            (2, "Tea", f"{BASE}/products?category=tea"), (3, row.name, url)]


def test_a_product_picture_is_in_the_json_ld_and_the_previews(client, shelf):
    _, products = shelf
    product = db.session.get(Product, products[5].id)
    product.image_url = "https://images.example.com/tea.jpg"
    db.session.commit()
    head = head_of(client, f"/products/{product.id}")
    assert of_type(head, "Product")["image"] == ["https://images.example.com/tea.jpg"]
    assert head.meta["og:image"] == head.meta["twitter:image"] == product.image_url


def test_a_category_page_carries_its_breadcrumbs(client, shelf):
    head = head_of(client, "/products?category=tea")
    crumbs = of_type(head, "BreadcrumbList")["itemListElement"]
    assert [(c["name"], c["item"]) for c in crumbs] == [
        ("Catalog", f"{BASE}/products"), ("Tea", f"{BASE}/products?category=tea")]
    assert head.title == "Tea · Shop"
    assert head.meta["description"].startswith("Loose leaf and bagged teas: 15 products")
    assert head_of(client, "/products").json_ld == []  # the whole catalog is no category


def test_a_name_cannot_break_out_of_the_json_ld(client, app):
    nasty = '</script><script>alert("owned")</script><!-- & \u2028'
    product = make_product(make_category("Odd"), nasty)
    response = client.get(f"/products/{product.id}")
    html = response.get_data(as_text=True)
    head = read(html)
    assert of_type(head, "Product")["name"] == nasty  # the data survives intact
    for raw in head.json_ld_raw:
        assert "<" not in raw and ">" not in raw and "&" not in raw
    assert 'alert("owned")</script>' not in html.replace("&#34;", '"').split("</head>")[0]
    policy = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "'nonce-" in policy
    # Data blocks carry no nonce: only scripts meant to run do.
    tags = re.findall(r"<script[^>]*application/ld\+json[^>]*>", html)
    assert len(tags) == 2 and not any("nonce" in tag for tag in tags)
