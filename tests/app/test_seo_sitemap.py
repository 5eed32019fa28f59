"""/sitemap.xml, its index past SITEMAP_PAGE_SIZE, and /robots.txt, checked against the
database, and their cache: filled once, replaced by the commit of a catalog write."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Category, Product
from tests.app.catalog_factories import make_category, make_product

NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
BASE = "http://shop.test"  # PUBLIC_BASE_URL of the test configuration


@pytest.fixture
def catalog(app):
    """Two active categories and a hidden one; active, inactive and hidden-category products."""
    tea, coffee = make_category("Tea"), make_category("Coffee")
    hidden = make_category("Old stock", is_active=False)
    products = [make_product(tea, "Green tea"), make_product(tea, "Black tea", stock=0),
                make_product(coffee, "Espresso beans"),
                make_product(coffee, "Retired blend", is_active=False),
                make_product(hidden, "Filed under a hidden category")]
    return {"categories": (tea, coffee, hidden), "products": products}


def parse(response) -> ET.Element:
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    return ET.fromstring(response.data)  # noqa: S314  (our own answer, not untrusted input)


def urls(root: ET.Element) -> dict[str, str]:
    return {url.findtext("sm:loc", namespaces=NS): url.findtext("sm:lastmod", namespaces=NS)
            for url in root.findall("sm:url", NS)}


def expected_from_database() -> dict[str, datetime]:
    """Every URL the sitemap must list, by the catalog's rules, with its row's lastmod."""
    db.session.expire_all()
    categories = db.session.execute(sa.select(Category.slug, Category.updated_at)
                                    .where(Category.is_active))
    products = db.session.execute(sa.select(Product.id, Product.updated_at)
                                  .where(Product.is_active))
    newest = db.session.scalar(sa.select(sa.func.max(Product.updated_at))
                               .where(Product.is_active))
    return {f"{BASE}/": newest, f"{BASE}/products": newest,
            **{f"{BASE}/products?category={slug}": changed for slug, changed in categories},
            **{f"{BASE}/products/{pid}": changed for pid, changed in products}}


def w3c(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_sitemap_lists_every_active_product_and_category_and_nothing_else(client,
                                                                            catalog):
    listed = urls(parse(client.get("/sitemap.xml")))
    expected = expected_from_database()
    assert listed == {url: w3c(moment) for url, moment in expected.items()}
    names = {p.name: f"{BASE}/products/{p.id}" for p in catalog["products"]}
    assert names["Retired blend"] not in listed
    assert names["Filed under a hidden category"] in listed  # a product's own is_active
    assert f"{BASE}/products?category=old-stock" not in listed
    assert names["Black tea"] in listed  # sold out is still for sale soon


def test_past_the_page_size_the_sitemap_is_an_index_of_pages(make_app, catalog):
    client = make_app(SITEMAP_PAGE_SIZE=3).test_client()
    index = parse(client.get("/sitemap.xml"))
    assert index.tag == f"{{{NS['sm']}}}sitemapindex"
    pages = [(s.findtext("sm:loc", namespaces=NS), s.findtext("sm:lastmod", namespaces=NS))
             for s in index.findall("sm:sitemap", NS)]
    expected = expected_from_database()  # 2 fixed + 2 categories + 4 products = 8: 3 pages
    assert [loc for loc, _ in pages] == [f"{BASE}/sitemaps/{n}.xml" for n in (1, 2, 3)]
    seen: dict[str, str] = {}
    for loc, lastmod in pages:
        page = urls(parse(client.get(loc.removeprefix(BASE))))
        assert 1 <= len(page) <= 3
        assert lastmod == max(page.values())  # the page's newest entry
        assert not seen.keys() & page.keys()
        seen.update(page)
    assert seen == {url: w3c(moment) for url, moment in expected.items()}
    assert client.get("/sitemaps/4.xml").status_code == 404
    assert client.get("/sitemaps/0.xml").status_code == 404


def test_with_one_page_there_are_no_numbered_pages(client, catalog):
    assert client.get("/sitemaps/1.xml").status_code == 404


def test_robots_disallows_personal_pages_and_points_at_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "User-agent: *"
    disallowed = {line.split(": ", 1)[1] for line in lines if line.startswith("Disallow: ")}
    assert {"/cart", "/checkout", "/account", "/admin"} <= disallowed
    assert "/products" not in disallowed  # searches are noindex, so crawlers must see them
    assert f"Sitemap: {BASE}/sitemap.xml" in lines


def test_robots_and_sitemap_are_public_and_revalidate_with_an_etag(client, catalog):
    for path in ("/sitemap.xml", "/robots.txt"):
        first = client.get(path)
        assert first.cache_control.public and first.cache_control.max_age == 60
        assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}) \
            .status_code == 304


@pytest.fixture
def statements(app):
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(db.engine, "before_cursor_execute", record)


def test_the_sitemap_is_served_from_redis_until_a_catalog_write_commits(client, catalog,
                                                                        statements):
    first = client.get("/sitemap.xml").data
    filled = len(statements)
    assert filled > 0
    assert client.get("/sitemap.xml").data == first
    assert client.get("/robots.txt").status_code == 200
    client.get("/robots.txt")
    assert len(statements) == filled  # the second sitemap and robots: no SQL at all

    tea = catalog["categories"][0]
    added = make_product(tea, "White tea")
    retired = catalog["products"][0]
    retired.is_active = False
    db.session.commit()

    listed = urls(parse(client.get("/sitemap.xml")))
    assert f"{BASE}/products/{added.id}" in listed
    assert f"{BASE}/products/{retired.id}" not in listed
    assert listed == {url: w3c(m) for url, m in expected_from_database().items()}


def test_a_category_change_replaces_the_sitemap_too(client, catalog):
    client.get("/sitemap.xml")
    coffee = catalog["categories"][1]
    coffee.is_active = False
    db.session.commit()
    assert f"{BASE}/products?category=coffee" not in urls(parse(client.get("/sitemap.xml")))


def test_an_empty_catalog_still_has_a_valid_sitemap(client):
    assert set(urls(parse(client.get("/sitemap.xml")))) == {f"{BASE}/", f"{BASE}/products"}
