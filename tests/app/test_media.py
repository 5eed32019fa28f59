"""Product images: on local disk (multipart upload, served by Flask) and on S3 (presigned
POST, then a checked attach), against moto's S3. Either way a picture is stored as its set
of renditions (every width, WebP and the fallback type) under content-addressed names."""

from __future__ import annotations

import base64
import io
import json
import re

import boto3
import pytest
import requests
from moto import mock_aws

from app.extensions import db
from app.models import Product
from tests.app.factories import make_product
from tests.app.image_support import dimensions, jpeg, png, png_bomb, webp

PNG = png(700, 350)
JPEG = jpeg(200, 100)
WEBP = webp(300, 300)
BUCKET = "shop-media"
CDN = "https://cdn.shop.test/static/media"


def image_url_of(product_id: int) -> str | None:
    db.session.expire_all()
    return db.session.get(Product, product_id).image_url


# --- local disk --------------------------------------------------------------------------

@pytest.fixture
def local(make_app, app, tmp_path):
    shop = make_app(MEDIA_ROOT=str(tmp_path / "media"), MEDIA_MAX_BYTES=200_000)
    return shop.test_client(), tmp_path / "media"


def upload(client, product_id: int, data: bytes, headers: dict, name: str = "photo.png",
           content_type: str = "image/png"):
    return client.post(f"/api/v1/products/{product_id}/image", headers=headers,
                       data={"file": (io.BytesIO(data), name, content_type)},
                       content_type="multipart/form-data")


def stored_files(root) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def test_an_upload_is_stored_in_every_width_and_in_webp_and_served(local, admin,
                                                                   auth_headers):
    client, root = local
    product = make_product()
    response = upload(client, product.id, PNG, auth_headers(admin))

    assert response.status_code == 200
    url = response.json["image_url"]
    match = re.fullmatch(rf"/media/products/{product.id}/([0-9a-f]{{16}})-700x350\.png", url)
    assert match and image_url_of(product.id) == url
    base = f"products/{product.id}/{match.group(1)}-700x350"
    assert stored_files(root) == sorted(
        f"{base}{suffix}.{ext}" for suffix in ("", "-320w", "-640w") for ext in ("png", "webp"))
    variants = response.json["image"]["variants"]
    assert {(v["width"], v["height"], v["content_type"]) for v in variants} == {
        (w, w // 2, t) for w in (320, 640, 700) for t in ("image/png", "image/webp")}
    for variant in variants:
        served = client.get(variant["url"])
        assert (served.status_code, served.mimetype) == (200, variant["content_type"])
        assert dimensions(served.data)[1] == (variant["width"], variant["height"])
        assert {"public", "immutable", "max-age=31536000"} <= {
            part.strip() for part in served.headers["Cache-Control"].split(",")}


def test_the_type_comes_from_the_bytes_not_the_name(local, admin, auth_headers):
    client, root = local
    product = make_product()
    response = upload(client, product.id, JPEG, auth_headers(admin), name="photo.png")
    assert response.json["image_url"].endswith("-200x100.jpg")
    assert client.get(response.json["image_url"]).mimetype == "image/jpeg"


def test_the_same_picture_twice_keeps_its_names_and_its_files(local, admin, auth_headers):
    client, root = local
    product = make_product()
    first = upload(client, product.id, PNG, auth_headers(admin)).json["image_url"]
    again = upload(client, product.id, PNG, auth_headers(admin)).json["image_url"]
    assert first == again and client.get(first).status_code == 200
    assert len(stored_files(root)) == 6


def test_a_new_image_replaces_and_deletes_the_whole_old_set(local, admin, auth_headers):
    client, root = local
    product = make_product()
    first = upload(client, product.id, PNG, auth_headers(admin)).json
    second = upload(client, product.id, WEBP, auth_headers(admin)).json["image_url"]
    assert second.endswith("-300x300.jpg") and image_url_of(product.id) == second
    for variant in first["image"]["variants"]:
        assert client.get(variant["url"]).status_code == 404
    assert len(stored_files(root)) == 2  # 300 wide: WebP and the JPEG fallback


@pytest.mark.parametrize("payload", [
    b"<script>alert(1)</script>", b"GIF89a" + bytes(32),
    PNG[:100],  # a PNG cut short: the right first bytes, no picture
])
def test_a_file_that_is_not_a_jpeg_png_or_webp_is_refused(local, admin, auth_headers,
                                                          payload):
    client, root = local
    product = make_product()
    response = upload(client, product.id, payload, auth_headers(admin))
    assert response.status_code == 422
    assert "file" in response.json["error"]["details"]["fields"]
    assert image_url_of(product.id) is None
    assert not root.exists() or stored_files(root) == []


def test_a_decompression_bomb_is_refused_naming_the_field(local, admin, auth_headers):
    client, root = local
    product = make_product()
    response = upload(client, product.id, png_bomb(), auth_headers(admin))
    assert response.status_code == 422
    assert response.json["error"]["details"]["fields"]["file"] == [
        "the image is too large to decode safely (over 40000000 pixels)"]
    assert image_url_of(product.id) is None
    assert not root.exists() or stored_files(root) == []


def test_a_file_over_the_size_limit_is_refused(make_app, app, tmp_path, admin, auth_headers):
    client = make_app(MEDIA_ROOT=str(tmp_path), MEDIA_MAX_BYTES=1024).test_client()
    product = make_product()
    response = upload(client, product.id, PNG + bytes(2000), auth_headers(admin))
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"
    assert image_url_of(product.id) is None


def test_only_admins_upload(local, customer, auth_headers):
    client, _ = local
    product = make_product()
    assert upload(client, product.id, PNG, {}).status_code == 401
    assert upload(client, product.id, PNG, auth_headers(customer)).status_code == 403
    assert image_url_of(product.id) is None


def test_upload_to_a_missing_product_or_without_a_file(local, admin, auth_headers):
    client, _ = local
    assert upload(client, 999999, PNG, auth_headers(admin)).status_code == 404
    product = make_product()
    empty = client.post(f"/api/v1/products/{product.id}/image", headers=auth_headers(admin),
                        data={"other": "x"}, content_type="multipart/form-data")
    assert empty.status_code == 422
    assert "file" in empty.json["error"]["details"]["fields"]


def test_asking_for_an_s3_form_on_local_disk_is_a_conflict(local, admin, auth_headers):
    client, _ = local
    product = make_product()
    response = client.post(f"/api/v1/products/{product.id}/image",
                           json={"content_type": "image/png"}, headers=auth_headers(admin))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "media_not_on_s3"


def test_only_names_the_shop_made_are_served(local):
    client, root = local
    (root / "products").mkdir(parents=True)
    (root / "products" / "notes.txt").write_text("private")
    assert client.get("/media/products/notes.txt").status_code == 404
    assert client.get("/media/../config.py").status_code == 404


def test_the_api_exposes_no_variants_for_an_image_the_shop_did_not_store(local, admin,
                                                                         auth_headers):
    client, _ = local
    product = make_product()
    product.image_url = "https://images.example.com/products/1/0123456789abcdef-10x10.png"
    db.session.commit()
    body = client.get(f"/api/v1/products/{product.id}").json
    assert body["image"] is None and body["image_url"].startswith("https://images.")


# --- S3 ----------------------------------------------------------------------------------

@pytest.fixture
def s3(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def cloud(make_app, app, s3):
    shop = make_app(MEDIA_BUCKET=BUCKET, MEDIA_BASE_URL=CDN, MEDIA_MAX_BYTES=200_000)
    return shop.test_client()


def ask_for_form(client, product_id: int, headers: dict, content_type: str = "image/webp"):
    return client.post(f"/api/v1/products/{product_id}/image", headers=headers,
                       json={"content_type": content_type})


def post_to_s3(form: dict, data: bytes) -> None:
    response = requests.post(form["url"], data=form["fields"],
                             files={"file": ("image", data)}, timeout=10)
    assert response.status_code == 204


def bucket_keys(s3) -> list[str]:
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def attach(client, product_id: int, key: str, headers: dict):
    return client.put(f"/api/v1/products/{product_id}/image", json={"key": key},
                      headers=headers)


def test_the_presigned_form_pins_key_type_and_size_outside_the_public_prefix(
        cloud, admin, auth_headers):
    product = make_product()
    response = ask_for_form(cloud, product.id, auth_headers(admin))

    assert response.status_code == 201
    form = response.json
    assert re.fullmatch(rf"products/{product.id}/[A-Za-z0-9_-]{{16}}\.webp", form["key"])
    assert form["image_url"] is None  # named after its content, known once attached
    assert (form["expires_in"], form["max_bytes"]) == (600, 200_000)
    fields = form["fields"]
    assert fields["key"] == f"uploads/{form['key']}"  # the CDN serves static/* only
    assert fields["Content-Type"] == "image/webp"
    conditions = json.loads(base64.b64decode(fields["policy"]))["conditions"]
    assert ["content-length-range", 1, 200_000] in conditions
    assert {"Content-Type": "image/webp"} in conditions
    assert {"bucket": BUCKET} in conditions and {"key": fields["key"]} in conditions
    assert image_url_of(product.id) is None  # nothing is attached before the upload


@pytest.mark.parametrize("content_type", ["image/gif", "text/html", "image/svg+xml"])
def test_only_jpeg_png_and_webp_forms_are_issued(cloud, admin, auth_headers, content_type):
    product = make_product()
    response = ask_for_form(cloud, product.id, auth_headers(admin), content_type)
    assert response.status_code == 422
    assert "content_type" in response.json["error"]["details"]["fields"]


def test_an_attached_upload_is_stored_as_its_set_on_the_cdn_and_the_upload_deleted(
        cloud, s3, admin, auth_headers):
    product = make_product()
    form = ask_for_form(cloud, product.id, auth_headers(admin), "image/png").json
    post_to_s3(form, PNG)

    attached = attach(cloud, product.id, form["key"], auth_headers(admin))

    assert attached.status_code == 200
    url = attached.json["image_url"]
    match = re.fullmatch(rf"{CDN}/(products/{product.id}/[0-9a-f]{{16}}-700x350)\.png", url)
    assert match and image_url_of(product.id) == url
    expected = sorted(f"static/media/{match.group(1)}{suffix}.{ext}"
                      for suffix in ("", "-320w", "-640w") for ext in ("png", "webp"))
    assert bucket_keys(s3) == expected  # the upload under uploads/ is gone
    assert sorted(f"static/media/{v['url'].removeprefix(CDN + '/')}"
                  for v in attached.json["image"]["variants"]) == expected
    for key in expected:
        stored = s3.get_object(Bucket=BUCKET, Key=key)
        assert stored["ContentType"] == ("image/webp" if key.endswith(".webp")
                                         else "image/png")
        assert stored["CacheControl"] == "public, max-age=31536000, immutable"
        assert dimensions(stored["Body"].read())[0] in ("PNG", "WEBP")


def test_attaching_a_new_image_deletes_the_replaced_set(cloud, s3, admin, auth_headers):
    product = make_product()
    for data, content_type in ((PNG, "image/png"), (JPEG, "image/jpeg")):
        form = ask_for_form(cloud, product.id, auth_headers(admin), content_type).json
        post_to_s3(form, data)
        url = attach(cloud, product.id, form["key"], auth_headers(admin)).json["image_url"]
    base = url.removeprefix(CDN + "/").removesuffix(".jpg")
    assert bucket_keys(s3) == [f"static/media/{base}.jpg", f"static/media/{base}.webp"]


@pytest.mark.parametrize("payload", [b"<html>not an image</html>", png_bomb()])
def test_an_upload_that_is_not_a_safe_picture_is_refused_and_deleted(cloud, s3, admin,
                                                                      auth_headers, payload):
    product = make_product()
    form = ask_for_form(cloud, product.id, auth_headers(admin), "image/png").json
    post_to_s3(form, payload)

    response = attach(cloud, product.id, form["key"], auth_headers(admin))

    assert response.status_code == 422
    assert "key" in response.json["error"]["details"]["fields"]
    assert image_url_of(product.id) is None
    assert bucket_keys(s3) == []


def test_an_upload_over_the_limit_is_refused_even_if_s3_took_it(make_app, app, s3, admin,
                                                                 auth_headers):
    # S3 enforces the policy's size range; moto does not, so this is the second line.
    client = make_app(MEDIA_BUCKET=BUCKET, MEDIA_BASE_URL=CDN, MEDIA_MAX_BYTES=1024) \
        .test_client()
    product = make_product()
    form = ask_for_form(client, product.id, auth_headers(admin), "image/png").json
    post_to_s3(form, PNG + bytes(4096))
    response = attach(client, product.id, form["key"], auth_headers(admin))
    assert response.status_code == 422
    assert bucket_keys(s3) == []


def test_a_key_of_another_product_or_never_uploaded_is_refused(cloud, s3, admin,
                                                               auth_headers):
    mine, other = make_product(), make_product()
    form = ask_for_form(cloud, other.id, auth_headers(admin)).json
    post_to_s3(form, WEBP)
    for key in (form["key"], f"products/{mine.id}/AAAAAAAAAAAAAAAA.webp", "../../etc/passwd"):
        response = attach(cloud, mine.id, key, auth_headers(admin))
        assert response.status_code == 422, key
        assert "key" in response.json["error"]["details"]["fields"]
    assert image_url_of(mine.id) is None


def test_a_file_posted_to_the_app_is_refused_when_media_is_on_s3(cloud, admin, auth_headers):
    product = make_product()
    response = upload(cloud, product.id, PNG, auth_headers(admin))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "media_on_s3"


def test_without_a_configured_cdn_url_images_are_under_the_shops_static_path(
        make_app, app, s3, admin, auth_headers):
    client = make_app(MEDIA_BUCKET=BUCKET, PUBLIC_BASE_URL="https://shop.example.com") \
        .test_client()
    product = make_product()
    form = ask_for_form(client, product.id, auth_headers(admin), "image/jpeg").json
    post_to_s3(form, JPEG)
    url = attach(client, product.id, form["key"], auth_headers(admin)).json["image_url"]
    assert url.startswith(f"https://shop.example.com/static/media/products/{product.id}/")


def test_an_image_shared_with_another_product_is_not_deleted_on_replace(local, admin,
                                                                        auth_headers):
    client, root = local
    first, second = make_product(), make_product()
    shared = upload(client, first.id, PNG, auth_headers(admin)).json["image_url"]
    db.session.get(Product, second.id).image_url = shared  # an admin pointed it there
    db.session.commit()

    upload(client, second.id, JPEG, auth_headers(admin))

    assert (root / shared.removeprefix("/media/")).exists()
    assert image_url_of(first.id) == shared
