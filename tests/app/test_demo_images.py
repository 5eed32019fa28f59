"""The demo catalog's pictures: distinct per product, the same on every load, named at seed
time and drawn into the media store when first asked for (local disk) or at seed time (S3)."""

from __future__ import annotations

import io
import random

import pytest
import sqlalchemy as sa
from PIL import Image

from app.catalog import demo_images, demo_media, seed
from app.extensions import db
from app.images import open_checked
from app.models import Product
from tests.app.image_support import dimensions, png
from tests.app.test_media import BUCKET, CDN, s3  # noqa: F401  (the moto S3 fixture)


@pytest.fixture
def shop(make_app, app, tmp_path):
    made = make_app(MEDIA_ROOT=str(tmp_path / "media"))
    with made.app_context():
        assert seed.load_demo_catalog().products == 250
        yield made, tmp_path / "media"


@pytest.fixture
def draws(monkeypatch) -> list[str]:
    """The names of the pictures drawn during the test."""
    drawn: list[str] = []
    real = demo_images.demo_picture

    def counting(name, *args):
        drawn.append(name)
        return real(name, *args)

    monkeypatch.setattr(demo_media, "demo_picture", counting)
    return drawn


def _products() -> list[Product]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Product).order_by(Product.id)))


def test_seeding_names_a_set_per_product_and_draws_nothing_yet(shop, draws):
    _, root = shop
    products = _products()
    urls = [product.image_url for product in products]
    assert len(set(urls)) == 250
    for product in products:
        assert product.image_url == "/media/" + demo_media.demo_name(
            product.id, product.name, product.category.slug)
        assert product.image_url.endswith("-800x800.png")
    assert draws == [] and not root.exists()


def test_the_first_request_draws_and_stores_the_set_later_ones_read_the_file(shop, draws):
    app, root = shop
    client = app.test_client()
    product = _products()[0]
    variants = client.get(f"/api/v1/products/{product.id}").json["image"]["variants"]
    card = next(v for v in variants if v["width"] == 320 and v["content_type"] == "image/webp")

    first = client.get(card["url"])
    assert (first.status_code, first.mimetype) == (200, "image/webp")
    assert dimensions(first.data) == ("WEBP", (320, 320))
    assert draws == [product.name]
    assert len(list(root.rglob("*.*"))) == 6  # 320, 640, 800 in WebP and PNG
    for variant in variants:
        again = client.get(variant["url"])
        assert (again.status_code, again.mimetype) == (200, variant["content_type"])
    assert draws == [product.name]  # drawn once


def test_a_demo_name_is_not_drawn_once_the_product_has_another_picture(shop, draws):
    app, _ = shop
    product = _products()[0]
    demo_url = product.image_url
    product.image_url = "https://images.example.com/a.png"
    db.session.commit()
    assert app.test_client().get(demo_url).status_code == 404
    assert draws == []


def test_pictures_differ_per_product_and_are_the_same_on_every_draw():
    rows = seed.demo_products(random.Random(seed.SEED))
    digests = {demo_media.demo_digest(row["name"], row["category_slug"]) for row in rows}
    assert len(digests) == 250
    sample = rows[::25] + rows[1::25]  # two per category
    pictures = [demo_images.demo_picture(row["name"], row["category_slug"], "Kicker")
                for row in sample]
    assert len(set(pictures)) == len(sample)
    assert demo_images.demo_picture(sample[0]["name"], sample[0]["category_slug"],
                                    "Kicker") == pictures[0]
    for data in pictures[:3]:
        image = open_checked(data)
        assert (image.format, image.size) == ("PNG", (800, 800))
        assert len(image.resize((40, 40)).getcolors(1600)) > 20  # a picture, not a swatch


def test_a_category_gets_its_palette(tmp_path):
    def mean_colour(slug: str) -> tuple[int, ...]:
        data = demo_images.demo_picture("Same Name", slug)
        return Image.open(io.BytesIO(data)).convert("RGB").crop((0, 0, 40, 40)).resize(
            (1, 1)).getpixel((0, 0))

    assert mean_colour("electronics") != mean_colour("grocery-gourmet")


def test_on_s3_the_seed_draws_and_uploads_every_set(make_app, app, s3, monkeypatch):  # noqa: F811
    monkeypatch.setattr(seed, "PRODUCTS_PER_CATEGORY", 1)  # ten sets keep the test short
    shop = make_app(MEDIA_BUCKET=BUCKET, MEDIA_BASE_URL=CDN)
    with shop.app_context():
        assert seed.load_demo_catalog().products == 10
        keys = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
        products = _products()
        assert len(keys) == 10 * 6
        for product in products:
            assert product.image_url.startswith(f"{CDN}/products/{product.id}/")
            key = "static/media/" + product.image_url.removeprefix(CDN + "/")
            stored = s3.get_object(Bucket=BUCKET, Key=key)
            assert stored["ContentType"] == "image/png"
            assert dimensions(stored["Body"].read()) == ("PNG", (800, 800))


def test_an_upload_replaces_a_demo_picture_like_any_other(shop, admin, auth_headers):
    app, root = shop
    client = app.test_client()
    product = _products()[0]
    assert client.get(product.image_url).status_code == 200  # drawn and stored
    demo_files = {str(path) for path in root.rglob("*.*")}
    response = client.post(f"/api/v1/products/{product.id}/image",
                           headers=auth_headers(admin),
                           data={"file": (io.BytesIO(png(500, 500)), "p.png", "image/png")},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    left = {str(path) for path in root.rglob("*.*")}
    assert not demo_files & left and len(left) == 4  # 320 and 500, WebP and PNG
