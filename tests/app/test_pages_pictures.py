"""Product pictures on the pages: <picture> with WebP and fallback srcsets, sizes, explicit
dimensions, lazy below the first row; every URL a page names answers with an image."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.media import store_picture
from app.models import Product
from tests.app.catalog_factories import make_category, make_product
from tests.app.image_support import png
from tests.app.seo_support import read


@pytest.fixture
def pictured(make_app, app, tmp_path):
    """A catalog page's worth of products, each with a stored 700x350 picture."""
    shop = make_app(MEDIA_ROOT=str(tmp_path / "media"))
    with shop.app_context():
        tea = make_category("Tea")
        for n in range(10):
            product = make_product(tea, f"Tea {n}")
            product.image_url = store_picture(product.id, png(700, 350, colour=(n, 90, 200)))
        db.session.commit()
    return shop.test_client()


def test_catalog_cards_are_pictures_with_srcsets_dimensions_and_lazy_loading(pictured):
    head = read(pictured.get("/products").get_data(as_text=True))
    cards = [img for img in head.images if "product-image" in img.get("class", "")]
    assert len(cards) == 10
    for position, img in enumerate(cards):
        assert (img["width"], img["height"]) == ("320", "160")  # the picture's 2:1
        assert img["decoding"] == "async"
        assert img["loading"] == ("eager" if position < 4 else "lazy")
        assert re.fullmatch(r"/media/products/\d+/[0-9a-f]{16}-700x350-320w\.png", img["src"])
        assert [w.rsplit(" ", 1)[1] for w in img["srcset"].split(", ")] == [
            "320w", "640w", "700w"]
        assert img["sizes"].endswith("50vw")
    webp = [source for source in head.sources if source["type"] == "image/webp"]
    assert len(webp) == 10 and all(".webp 700w" in source["srcset"] for source in webp)


def test_every_image_url_on_the_catalog_page_answers_with_an_image(pictured):
    head = read(pictured.get("/products").get_data(as_text=True))
    urls = {img["src"] for img in head.images}
    for tag in head.images + head.sources:
        urls |= {part.rsplit(" ", 1)[0] for part in tag.get("srcset", "").split(", ") if part}
    assert len(urls) >= 10 * 6
    for url in urls:
        response = pictured.get(url)
        assert response.status_code == 200, url
        assert response.mimetype.startswith("image/"), url


def test_the_product_page_picture_is_eager_and_named(pictured):
    product_id = db.session.scalar(db.select(Product.id).limit(1))
    head = read(pictured.get(f"/products/{product_id}").get_data(as_text=True))
    (img,) = [img for img in head.images if "product-image" in img.get("class", "")]
    assert img["loading"] == "eager" and img["fetchpriority"] == "high"
    assert (img["width"], img["height"]) == ("480", "240") and img["alt"].startswith("Tea ")
