"""Bodies over MAX_REQUEST_BYTES are refused unread, in the one error shape; image uploads
keep their own, larger limit."""

from __future__ import annotations

import io
import json
import logging

from PIL import Image

from app.extensions import get_redis
from app.models import Product
from tests.app.factories import make_product

TWO_MIB = 2 * 1024 * 1024


def test_the_default_limit_is_one_mebibyte(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024


def test_an_oversized_sign_in_is_a_json_413_that_the_limiter_never_read(make_app, customer,
                                                                      caplog):
    client = make_app(RATELIMIT_ENABLED=True).test_client()
    body = json.dumps({"email": customer.email, "password": "x" * TWO_MIB})

    with caplog.at_level(logging.ERROR):
        response = client.post("/api/v1/auth/login", data=body,
                               content_type="application/json")

    assert response.status_code == 413
    assert response.get_json() == {"error": {
        "code": "payload_too_large", "details": {},
        "message": "The data value transmitted exceeds the capacity limit."}}
    # The per-e-mail budget counted the request by address instead of failing to read it.
    assert [record.getMessage() for record in caplog.records] == []
    keys = get_redis().keys("*sign-in:email*")
    assert keys and all("email:" not in key for key in keys)


def test_an_image_over_the_request_limit_but_within_its_own_is_stored(
        make_app, admin, auth_headers, tmp_path):
    shop = make_app(MEDIA_ROOT=str(tmp_path), MAX_CONTENT_LENGTH=1024)
    product = make_product()
    out = io.BytesIO()
    Image.effect_noise((64, 64), 80).save(out, "PNG")  # noise: a PNG of several KiB
    image = out.getvalue()
    assert len(image) > 4096

    response = shop.test_client().post(
        f"/api/v1/products/{product.id}/image", headers=auth_headers(admin),
        data={"file": (io.BytesIO(image), "photo.png", "image/png")},
        content_type="multipart/form-data")

    assert response.status_code == 200
    with shop.app_context():
        url = shop.extensions["sqlalchemy"].session.get(Product, product.id).image_url
    with Image.open(tmp_path / url.removeprefix("/media/")) as stored:  # re-encoded
        assert (stored.format, stored.size) == ("PNG", (64, 64))
